package main

import (
	"os"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// offboard marks agencies offboarded in a country's registry file, as an
// operator does; the gateway picks the change up within seconds (wait for
// it with until).
func (c *country) offboard(t *testing.T, ids ...string) {
	t.Helper()
	b, err := os.ReadFile(c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Agencies {
		if slices.Contains(ids, f.Agencies[i].ID) {
			f.Agencies[i].Offboarded = true
		}
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Registry, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// refusedCalls returns a country's entries of refused authentications.
func (c *country) refusedCalls(t *testing.T) []*audit.Entry {
	t.Helper()
	recs, err := c.gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionAuthenticate})
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Entry
	for _, r := range recs {
		out = append(out, r.Entry)
	}
	return out
}

// until retries f for up to 15 s (a registry reload, on a loaded machine).
func until(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("%s: not within 15s", what)
}

// offboardedAt reports whether a country's gateway refuses to ask an
// agency behind its peer (a Match naming it as holder, refused before
// anything is asked: AGENCY_OFFBOARDED once the registry says so).
func offboardedAt(t *testing.T, c *country, asker, agency string) bool {
	_, err := c.client(t, asker, "probe").Match(t.Context(), &liaisonv1.MatchRequest{SubjectId: "SYN-DK-0001",
		RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Is the registry reloaded?", Holders: []string{agency}})
	return errorReason(err) == "AGENCY_OFFBOARDED"
}

// fieldOf is the field an InvalidArgument names.
func fieldOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}

// TestFederatedOffboardingHere: the Danish registry offboards the Dutch
// probation service, an agency behind the Dutch gateway. The Danish
// gateway treats it as it treats its own offboarded agencies: it is named
// as no recipient (a Disclose or Notify naming it is refused on
// recipients[0], AGENCY_OFFBOARDED, one Danish entry, nothing forwarded),
// but a withdrawal of what it received before still reaches it; and a
// call the Dutch gateway makes for it (its request for a Danish record)
// is refused as its own call would be (AGENCY_OFFBOARDED, a refused
// authentication naming it and the Dutch gateway). Offboarding the Dutch
// gateway itself offboards every agency behind it.
func TestFederatedOffboardingHere(t *testing.T) {
	f := startFederation(t, nil, nil)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatalf("Disclose before offboarding: %v", err)
	}
	f.dk.offboard(t, "nl-probation")
	until(t, "the Danish registry reloaded", func() bool { return offboardedAt(t, f.dk, "dk-prison-east", "nl-probation") })

	// Nothing more is delivered to it, by Disclose or Notify.
	_, err := f.dk.client(t, "dk-prison-east", "kf.after").Disclose(t.Context(), push)
	if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "recipients[0]" || errorReason(err) != "AGENCY_OFFBOARDED" {
		t.Errorf("Disclose to an offboarded agency behind the peer = %v (field %q); want InvalidArgument on recipients[0], AGENCY_OFFBOARDED", err, fieldOf(err))
	}
	_, err = f.dk.client(t, "dk-prison-east", "kf.after").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET, Record: push.GetRecord(), Subject: push.GetSubject(),
		Purpose: push.GetPurpose(), Recipients: push.GetRecipients(), Justification: push.GetJustification(),
	})
	if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "recipients[0]" {
		t.Errorf("Notify to an offboarded agency behind the peer = %v (field %q); want InvalidArgument on recipients[0]", err, fieldOf(err))
	}
	dk, nl := f.dk.all(t, "disclose", "kf.after"), f.nl.all(t, "disclose", "kf.after")
	dkN := f.dk.all(t, "notify", "kf.after")
	if len(dk) != 1 || dk[0].Outcome != audit.OutcomeRefused || !slices.Equal(dk[0].Reasons, []string{"AGENCY_OFFBOARDED"}) ||
		len(dkN) != 1 || dkN[0].Outcome != audit.OutcomeRefused || len(nl) != 0 || len(f.nl.all(t, "notify", "kf.after")) != 0 {
		t.Errorf("Danish entries %v and %v, Dutch %v; want one refusal each, nothing forwarded", outcomes(dk), outcomes(dkN), outcomes(nl))
	}
	if items := f.nl.inbox(t, "nl-probation"); len(items) != 1 {
		t.Errorf("the Dutch inbox holds %d items; want only the release notice sent before offboarding", len(items))
	}

	// What it received before is still withdrawn from it, as from a local
	// offboarded agency.
	wr, err := f.dk.aftercare(t, "dk-prison-east", "kf.withdraw").Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The release was cancelled."})
	if err != nil || len(wr.GetResults()) != 1 || wr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		t.Fatalf("Withdraw after offboarding = %v, %v; want the withdrawal sent", wr, err)
	}
	if ns := f.nl.notices(t, "nl-probation"); len(ns) != 1 || ns[0].GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		t.Errorf("Dutch notices %v; want the withdrawal", ns)
	}

	// Its calls through the Dutch gateway are refused, as its own would be.
	_, err = f.nl.client(t, "nl-probation", "insp.offboarded").Request(t.Context(), riskAssessmentRequest)
	if status.Code(err) != codes.PermissionDenied || errorReason(err) != "AGENCY_OFFBOARDED" {
		t.Fatalf("Request for an agency offboarded at the holder's gateway = %v; want PermissionDenied, AGENCY_OFFBOARDED", err)
	}
	if es := f.nl.entries(t, "insp.offboarded"); len(es) != 1 || es[0].Outcome != audit.OutcomeRefused || !slices.Equal(es[0].Reasons, []string{"AGENCY_OFFBOARDED"}) {
		t.Errorf("Dutch entries %v; want one refusal, AGENCY_OFFBOARDED", outcomes(es))
	}
	if es := f.dk.all(t, "request", "insp.offboarded"); len(es) != 0 {
		t.Errorf("Danish request entries %v; want none: the call was refused before it was an exchange", outcomes(es))
	}
	refused := f.dk.refusedCalls(t)
	if len(refused) != 1 || refused[0].Requester.Agency != "nl-probation" || !slices.Equal(refused[0].Reasons, []string{"AGENCY_OFFBOARDED"}) ||
		refused[0].Detail["via_peer"] != "nl-gateway" || refused[0].Detail["assertion_sha256"] == "" {
		t.Errorf("Danish refused calls %+v; want one, of nl-probation via nl-gateway, AGENCY_OFFBOARDED", refused)
	}

	// Offboarding the peer gateway offboards the agencies behind it.
	f.dk.offboard(t, "nl-gateway")
	until(t, "the Dutch gateway offboarded", func() bool { return offboardedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })
	p := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	p.Recipients = []string{"nl-police-rotterdam"}
	if _, err := f.dk.client(t, "dk-prison-east", "kf.peer").Disclose(t.Context(), p); fieldOf(err) != "recipients[0]" || errorReason(err) != "AGENCY_OFFBOARDED" {
		t.Errorf("Disclose to an agency behind an offboarded peer gateway = %v; want refused on recipients[0], AGENCY_OFFBOARDED", err)
	}
}

// TestFederatedOffboardingAtThePeer: the Dutch gateway offboards its own
// probation service, which the Danish registry still lists. A Danish push
// to it is forwarded and refused by the Dutch gateway, as a Dutch agency's
// Disclose naming it would be (recipients[0], AGENCY_OFFBOARDED), and the
// Danish gateway reports the refusal as its own (InvalidArgument,
// AGENCY_OFFBOARDED); a withdrawal of what the service received before
// still reaches it. The other way round, a Dutch request for a record of a
// Danish prison that the Danish gateway offboarded is refused as a Danish
// request of it would be (holder, AGENCY_OFFBOARDED), not failed.
func TestFederatedOffboardingAtThePeer(t *testing.T) {
	f := startFederation(t, nil, nil)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatalf("Disclose before offboarding: %v", err)
	}
	f.nl.offboard(t, "nl-probation")
	until(t, "the Dutch registry reloaded", func() bool {
		_, err := f.nl.client(t, "nl-probation", "probe").ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		return errorReason(err) == "AGENCY_OFFBOARDED"
	})

	_, err := f.dk.client(t, "dk-prison-east", "kf.after").Disclose(t.Context(), push)
	if status.Code(err) != codes.InvalidArgument || errorReason(err) != "AGENCY_OFFBOARDED" {
		t.Fatalf("Disclose to an agency its own gateway offboarded = %v; want InvalidArgument, AGENCY_OFFBOARDED", err)
	}
	dk, nl := f.dk.all(t, "disclose", "kf.after"), f.nl.all(t, "disclose", "kf.after")
	if len(dk) != 2 || dk[0].Outcome != audit.OutcomePending || dk[1].Outcome != audit.OutcomeRefused || !slices.Equal(dk[1].Reasons, []string{"AGENCY_OFFBOARDED"}) {
		t.Errorf("Danish entries %v; want pending, then refused AGENCY_OFFBOARDED", outcomes(dk))
	}
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || !slices.Equal(nl[0].Reasons, []string{"AGENCY_OFFBOARDED"}) ||
		nl[0].Detail["field"] != "recipients[0]" || nl[0].Detail["peer_index"] != dk[1].Detail["pending_index"] {
		t.Errorf("Dutch entries %v %v; want one refusal on recipients[0], naming the Danish pending entry", outcomes(nl), nl)
	}
	if n := len(f.nl.all(t, "disclose", "kf.release")); n != 1 {
		t.Errorf("%d Dutch deliveries; want only the one before offboarding", n)
	}

	// A withdrawal still reaches it, as a Dutch holder's would.
	wr, err := f.dk.aftercare(t, "dk-prison-east", "kf.withdraw").Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The release was cancelled."})
	if err != nil || len(wr.GetResults()) != 1 || wr.GetResults()[0].GetFailure() != nil {
		t.Fatalf("Withdraw = %v, %v; want the withdrawal delivered", wr, err)
	}
	if es := f.nl.all(t, audit.ActionWithdraw, "kf.withdraw"); len(es) != 1 || es[0].Outcome != audit.OutcomeOK {
		t.Errorf("Dutch withdrawal entries %v; want the delivery", outcomes(es))
	}

	// The Danish gateway offboards its prison: a Dutch request for its
	// record is refused on holder.
	f.dk.offboard(t, "dk-prison-east")
	until(t, "the Danish registry reloaded", func() bool {
		_, err := f.dk.client(t, "dk-prison-east", "probe").ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		return errorReason(err) == "AGENCY_OFFBOARDED"
	})
	req := proto.CloneOf(riskAssessmentRequest)
	req.Justification = "The person lives in Rotterdam now; planning our first contact."
	_, err = f.nl.client(t, "nl-police-rotterdam", "insp.told").Request(t.Context(), req)
	if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "holder" || errorReason(err) != "AGENCY_OFFBOARDED" {
		t.Fatalf("Request of a holder its own gateway offboarded = %v (field %q); want InvalidArgument on holder, AGENCY_OFFBOARDED", err, fieldOf(err))
	}
	if es := f.nl.all(t, "request", "insp.told"); len(es) != 2 || es[1].Outcome != audit.OutcomeRefused || !slices.Equal(es[1].Reasons, []string{"AGENCY_OFFBOARDED"}) {
		t.Errorf("Dutch entries %v; want pending, then refused AGENCY_OFFBOARDED", outcomes(es))
	}
	if es := f.dk.all(t, "request", "insp.told"); len(es) != 1 || es[0].Outcome != audit.OutcomeRefused {
		t.Errorf("Danish entries %v; want the refusal", outcomes(es))
	}
}
