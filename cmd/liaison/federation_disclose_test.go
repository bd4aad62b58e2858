package main

import (
	"crypto/rand"
	"crypto/tls"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// releaseNotice is the Danish prison's release notice for SYN-DK-0001,
// pushed to the Dutch probation service.
// daysAfter returns the date (YYYY-MM-DD) n days after date: tests on the
// real clock write their dates from the sample's, which move with it.
func daysAfter(t *testing.T, date string, n int) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatalf("daysAfter(%q): %v", date, err)
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

func releaseNotice(t *testing.T, purpose liaisonv1.Purpose) *liaisonv1.DiscloseRequest {
	t.Helper()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	rec, attrs, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		t.Fatal("no sample release notice")
	}
	return &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, Recipients: []string{"nl-probation"}, Purpose: purpose,
		Justification: "The person will live in Rotterdam after release; supervision moves to the Dutch probation service."}
}

// inbox reads an agency's inbox at a country's gateway.
func (c *country) inbox(t *testing.T, agency string) []*liaisonv1.SubscribeResponse {
	t.Helper()
	return c.inboxAs(t, agency, "inbox.reader", "case_officer")
}

// inboxAs reads the inboxes an officer with one role reads at a country's
// gateway: the agency's, the officer's own and the role's.
func (c *country) inboxAs(t *testing.T, agency, officer, role string) []*liaisonv1.SubscribeResponse {
	t.Helper()
	st, err := liaisonv1.NewExchangeClient(c.dial(t, agency, officer, role)).Subscribe(t.Context(), &liaisonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*liaisonv1.SubscribeResponse
	for {
		m, err := st.Recv()
		if err != nil {
			break
		}
		out = append(out, m)
	}
	return out
}

// receiptIn opens the PeerReceipt an entry holds.
func receiptIn(t *testing.T, e *audit.Entry) *liaisonv1.PeerReceipt {
	t.Helper()
	var rc liaisonv1.PeerReceipt
	if err := protojson.Unmarshal([]byte(e.Detail["peer_receipt"]), &rc); err != nil {
		t.Fatalf("entry %s holds no peer receipt: %v", e.Outcome, err)
	}
	return &rc
}

// TestFederatedDisclose: the Danish prison pushes a release notice to the
// Dutch probation service. The Danish gateway applies Danish law as the
// holder's, transforms, logs a pending entry and forwards; the Dutch
// gateway checks the Danish receipt of that entry, applies Dutch law on
// receipt, logs and delivers into the Dutch inbox in one transaction, and
// answers with its receipt, which the Danish gateway logs in its final
// entry. Each log proves the other's part offline, down to the digest of
// what was delivered.
func TestFederatedDisclose(t *testing.T) {
	f := startFederation(t, nil, nil)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
	if err != nil {
		t.Fatalf("Disclose through both gateways: %v", err)
	}
	r := resp.GetResults()[0]
	if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || r.GetRecipient() != "nl-probation" || r.GetReceipt() != nil {
		t.Fatalf("result %v; want a disclosure to nl-probation, without a peer receipt for an agency", r)
	}
	dk, nl := f.dk.all(t, "disclose", "kf.release"), f.nl.all(t, "disclose", "kf.release")
	if len(dk) != 2 || dk[0].Outcome != audit.OutcomePending || dk[1].Outcome != audit.OutcomeDisclose || len(nl) != 1 || nl[0].Outcome != audit.OutcomeDisclose {
		t.Fatalf("Danish entries %v, Dutch %v; want pending and disclose, and one disclose", outcomes(dk), outcomes(nl))
	}
	if strconv.FormatInt(r.GetAuditIndex(), 10) == "" || dk[1].Detail["pending_index"] == "" || nl[0].Detail["peer_index"] != dk[1].Detail["pending_index"] {
		t.Errorf("the Dutch entry names Danish entry %q, the Danish pending entry is %q", nl[0].Detail["peer_index"], dk[1].Detail["pending_index"])
	}
	if nl[0].Requester.Agency != "dk-prison-east" || nl[0].Detail["via_peer"] != "dk-gateway" || nl[0].Detail["receipt_legal_basis"] == "" {
		t.Errorf("Dutch entry by %+v, detail %v; want the Danish prison via the Danish gateway, with the Dutch basis for receipt", nl[0].Requester, nl[0].Detail)
	}
	if nl[0].LegalBasis == nil || !strings.HasPrefix(nl[0].LegalBasis.ID, "dk.") {
		t.Errorf("Dutch entry's legal basis %+v; want the Danish basis of the release", nl[0].LegalBasis)
	}
	items := f.nl.inbox(t, "nl-probation")
	if len(items) != 1 || items[0].GetSender() != "dk-prison-east" || items[0].GetReleased().GetRecord().GetReleaseNotice() == nil {
		t.Fatalf("Dutch probation's inbox %v; want the Danish release notice", items)
	}
	delivered := items[0].GetReleased()
	if delivered.GetAuditIndex() != mustAtoi(t, dk[1].Detail["peer_index"]) {
		t.Errorf("the delivery is under Dutch entry %d, the Danish log names %s", delivered.GetAuditIndex(), dk[1].Detail["peer_index"])
	}
	// Offline, each side's receipt in the other's log names what was
	// delivered.
	dkKey, _ := note.NewVerifier(f.dk.vkey)
	nlKey, _ := note.NewVerifier(f.nl.vkey)
	if got, err := gateway.VerifyReceipt(receiptIn(t, dk[1]), nlKey, "nl-probation", delivered); err != nil || got.Entry.Outcome != audit.OutcomeDisclose {
		t.Errorf("the Dutch receipt in the Danish log: %+v, %v", got, err)
	}
	if got, err := gateway.VerifyReceipt(receiptIn(t, nl[0]), dkKey, "nl-probation", delivered); err != nil || got.Entry.Outcome != audit.OutcomePending {
		t.Errorf("the Danish receipt in the Dutch log: %+v, %v", got, err)
	}
	other := *delivered.GetRecord().GetReleaseNotice()
	other.Facility = "another prison"
	if _, err := gateway.VerifyReceipt(receiptIn(t, dk[1]), nlKey, "nl-probation", &liaisonv1.Released{Outcome: delivered.GetOutcome(),
		Record: &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &other}}}); err == nil {
		t.Errorf("the Dutch receipt verified for a record other than the one delivered")
	}

	// Delivered here, it is a release of the Dutch gateway to the Dutch
	// probation service like any other: its receipt again on request, and
	// passing it on without naming it is refused.
	again, err := liaisonv1.NewAftercareClient(f.nl.dial(t, "nl-probation", "inbox.reader", "case_officer")).
		GetReceipt(t.Context(), &liaisonv1.GetReceiptRequest{AuditIndex: delivered.GetAuditIndex()})
	if err != nil || again.GetProvenance().GetReleasedDigest() != delivered.GetProvenance().GetReleasedDigest() {
		t.Errorf("GetReceipt(the Dutch delivery) = %v, %v; want the release delivered", again, err)
	}
	_, err = f.nl.client(t, "nl-probation", "inbox.reader").Disclose(t.Context(), &liaisonv1.DiscloseRequest{
		Record: delivered.GetRecord(), Subject: releaseNotice(t, 0).GetSubject(), Recipients: []string{"nl-police-rotterdam"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The police should know of the release.",
	})
	if errorReason(err) != "UNDECLARED_ONWARD_DISCLOSURE" {
		t.Errorf("the Danish record passed on in the Netherlands without its provenance: %v; want UNDECLARED_ONWARD_DISCLOSURE", err)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("index %q: %v", s, err)
	}
	return n
}

// TestFederatedDiscloseLaw: each side's law applies to a push. Dutch law
// refusing on receipt (the Dutch gateway reads the WETS receipt rule
// without release notices) leaves a Danish pending entry and a denial on
// both sides, and nothing in the Dutch inbox; Danish law refusing (the
// criminal-investigation prohibition of § 115 stk. 2) stops the
// disclosure in Denmark: one Danish denial, nothing forwarded.
func TestFederatedDiscloseLaw(t *testing.T) {
	t.Run("DanishAllowsDutchRefuses", func(t *testing.T) {
		nlEng := patchedEngine(t, "nl/nl.rego",
			`"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`,
			`"record_types": ["risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`)
		f := startFederation(t, nil, nlEng)
		_, err := f.dk.client(t, "dk-prison-east", "kf.one").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("Disclose = %v, want PermissionDenied by Dutch law on receipt", err)
		}
		dk, nl := f.dk.all(t, "disclose", "kf.one"), f.nl.all(t, "disclose", "kf.one")
		if len(dk) != 2 || dk[0].Outcome != audit.OutcomePending || dk[1].Outcome != audit.OutcomeDeny || len(nl) != 1 || nl[0].Outcome != audit.OutcomeDeny {
			t.Fatalf("Danish entries %v, Dutch %v; want pending and deny, and one deny", outcomes(dk), outcomes(nl))
		}
		if !strings.Contains(strings.Join(dk[1].Reasons, ","), "RECIPIENT_LAW") || nl[0].Detail["peer_receipt"] == "" || dk[1].Detail["peer_index"] == "" {
			t.Errorf("Danish reasons %v detail %v, Dutch detail %v; want the Dutch law's reason, each naming the other", dk[1].Reasons, dk[1].Detail, nl[0].Detail)
		}
		if items := f.nl.inbox(t, "nl-probation"); len(items) != 0 {
			t.Errorf("the Dutch inbox holds %d items after a refusal", len(items))
		}
	})
	t.Run("DanishRefuses", func(t *testing.T) {
		f := startFederation(t, nil, nil)
		_, err := f.dk.client(t, "dk-prison-east", "kf.two").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_CRIMINAL_INVESTIGATION))
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("Disclose = %v, want PermissionDenied by Danish law", err)
		}
		dk, nl := f.dk.all(t, "disclose", "kf.two"), f.nl.all(t, "disclose", "kf.two")
		if len(dk) != 1 || dk[0].Outcome != audit.OutcomeDeny || dk[0].Detail["peer"] != "" || len(nl) != 0 {
			t.Fatalf("Danish entries %v, Dutch %v; want one Danish denial, nothing forwarded", outcomes(dk), outcomes(nl))
		}
	})
}

// TestForwardedReceiptIsBoundToItsCall: a peer gateway cannot reuse the
// receipt of a pending entry with another call, nor forward without one,
// nor may an agency forward at all. Each refusal is logged, and nothing is
// delivered.
func TestForwardedReceiptIsBoundToItsCall(t *testing.T) {
	f := startFederation(t, nil, nil)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.three").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err != nil {
		t.Fatal(err)
	}
	nl := f.nl.all(t, "disclose", "kf.three")
	if len(nl) != 1 {
		t.Fatalf("Dutch entries %v", outcomes(nl))
	}
	stolen := receiptIn(t, nl[0])
	delivered := f.nl.inbox(t, "nl-probation")[0].GetReleased()
	delivered.AuditIndex = 0

	// The Danish gateway's own certificate and assertion key: a call
	// exactly as the gateway would make it, with a fresh assertion.
	cert, err := tls.LoadX509KeyPair(f.dk.Path("gateway.pem"), f.dk.Path("gateway.key"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	at := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": sample.AssertionIssuer(f.dk.domain), "sub": "kf.three", "aud": "liaison", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Minute).Unix(), "jti": rand.Text(), "roles": []string{"case_officer"}, "clearance": "restricted",
		"liaison_agency": map[string]string{"id": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"},
	})
	at.Header["kid"] = f.dk.Assertions.Kid
	tok, err := at.SignedString(f.dk.Assertions.Key)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(f.nl.opts.Listen, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: f.nl.CA.Pool()})), grpc.WithPerRPCCredentials(bearerToken(tok)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	req.Record = nil
	for _, tc := range []struct {
		name string
		fwd  *liaisonv1.PeerForward
	}{
		{"ReusedReceipt", &liaisonv1.PeerForward{Receipt: stolen, Released: delivered}},
		{"NoReceipt", &liaisonv1.PeerForward{Released: delivered}},
	} {
		req.Forwarded = tc.fwd
		_, err := liaisonv1.NewExchangeClient(conn).Disclose(t.Context(), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: Disclose = %v, want InvalidArgument", tc.name, err)
		}
	}
	// An agency cannot forward.
	req.Forwarded = &liaisonv1.PeerForward{Receipt: stolen, Released: delivered}
	if _, err := f.nl.client(t, "nl-probation", "kf.three").Disclose(t.Context(), req); status.Code(err) != codes.InvalidArgument {
		t.Errorf("an agency's forwarded Disclose = %v, want InvalidArgument", err)
	}
	nl = f.nl.all(t, "disclose", "kf.three")
	if len(nl) != 4 || nl[1].Outcome != audit.OutcomeRefused || nl[2].Outcome != audit.OutcomeRefused || nl[3].Outcome != audit.OutcomeRefused {
		t.Errorf("Dutch entries %v; want the delivery and three refusals", outcomes(nl))
	}
	if items := f.nl.inbox(t, "nl-probation"); len(items) != 1 {
		t.Errorf("the Dutch inbox holds %d items; want only the one delivery", len(items))
	}
}

// TestFederatedNotify: the Danish prison reports the release date of a
// person who will be supervised in the Netherlands, naming the Dutch
// probation service. The notice travels as a push does: Danish law and a
// pending entry, the Dutch law on receipt (a notify, with its event), one
// Dutch entry with the delivery, the Dutch receipt in the final Danish
// entry; the Dutch inbox holds the record with the notice's event.
func TestFederatedNotify(t *testing.T) {
	f := startFederation(t, nil, nil)
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: d.GetRecipients(),
		Justification: d.GetJustification(),
	})
	if err != nil {
		t.Fatalf("Notify through both gateways: %v", err)
	}
	var r *liaisonv1.RecipientResult
	for _, x := range resp.GetResults() {
		if x.GetRecipient() == "nl-probation" {
			r = x
		}
	}
	if r == nil || r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("results %v; want the notice disclosed to nl-probation", resp.GetResults())
	}
	dk, nl := f.dk.all(t, "notify", "kf.notice"), f.nl.all(t, "notify", "kf.notice")
	if len(dk) != 2 || dk[0].Outcome != audit.OutcomePending || dk[1].Outcome != audit.OutcomeDisclose || len(nl) != 1 || nl[0].Outcome != audit.OutcomeDisclose {
		t.Fatalf("Danish notify entries %v, Dutch %v; want pending and disclose, and one disclose", outcomes(dk), outcomes(nl))
	}
	if nl[0].Detail["event"] != "release_date_set" || nl[0].Detail["peer_index"] != dk[1].Detail["pending_index"] {
		t.Errorf("Dutch entry detail %v; want the event and the Danish pending entry %s", nl[0].Detail, dk[1].Detail["pending_index"])
	}
	items := f.nl.inbox(t, "nl-probation")
	if len(items) != 1 || items[0].GetNotice().GetEventType() != liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET ||
		items[0].GetReleased().GetRecord().GetReleaseNotice() == nil {
		t.Fatalf("Dutch probation's inbox %v; want the release notice with its event", items)
	}
	nlKey, _ := note.NewVerifier(f.nl.vkey)
	if _, err := gateway.VerifyReceipt(receiptIn(t, dk[1]), nlKey, "nl-probation", items[0].GetReleased()); err != nil {
		t.Errorf("the Dutch receipt in the Danish log: %v", err)
	}
}
