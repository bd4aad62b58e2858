package gateway_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// extraHolder is a holder agency a test adds to the sample registry: it
// serves the sample records of another holder (data), answers Describe
// after delay, or is down (a closed port).
type extraHolder struct {
	id, kind, jurisdiction string
	data                   string // the sample holder whose records it serves
	delay                  time.Duration
	down                   bool
}

// slowProvider answers Describe after a delay (or when the caller gives up).
type slowProvider struct {
	*sample.Server
	delay time.Duration
}

func (p slowProvider) Describe(ctx context.Context, req *liaisonv1.DescribeRequest) (*liaisonv1.DescribeResponse, error) {
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return p.Server.Describe(ctx, req)
}

// addHolders returns a beforeStart that registers the extra holders, with
// their certificates, token issuers and RecordProviders on loopback TLS.
func addHolders(tb testing.TB, extra []extraHolder) func(*stack) {
	return func(s *stack) {
		fx := s.fx
		b, err := os.ReadFile(s.pki.Registry)
		if err != nil {
			tb.Fatal(err)
		}
		var reg gateway.RegistryFile
		if err := yaml.Unmarshal(b, &reg); err != nil {
			tb.Fatal(err)
		}
		for _, h := range extra {
			identity := s.pki.CA.AgencyIdentity(h.id)
			leaf, err := s.pki.CA.Issue(identity, 24*time.Hour)
			if err != nil {
				tb.Fatal(err)
			}
			iss, err := devpki.NewIssuer(sample.IssuerName(h.id), sample.IssuerKid(h.id))
			if err != nil {
				tb.Fatal(err)
			}
			jwks, err := authn.MarshalJWKS(iss.PublicKeys())
			if err != nil {
				tb.Fatal(err)
			}
			if err := devpki.WriteFile(s.pki.Path("issuers"), h.id+".jwks.json", jwks, 0o644); err != nil {
				tb.Fatal(err)
			}
			s.pki.Issuers[h.id] = iss
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				tb.Fatal(err)
			}
			addr := l.Addr().String()
			if h.down {
				l.Close() // nothing listens there any more
			} else {
				ps, err := fx.NewServer(h.data, s.pki.CA.GatewayIdentity())
				if err != nil {
					tb.Fatal(err)
				}
				cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
				if err != nil {
					tb.Fatal(err)
				}
				gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
					MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
					ClientCAs: s.pki.CA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
				})))
				var srv liaisonv1.RecordProviderServer = ps
				if h.delay > 0 {
					srv = slowProvider{ps, h.delay}
				}
				liaisonv1.RegisterRecordProviderServer(gs, srv)
				go gs.Serve(l)
				tb.Cleanup(gs.Stop)
			}
			reg.Agencies = append(reg.Agencies, gateway.AgencyFile{
				ID: h.id, Name: h.id + " (test)", Kind: h.kind, Jurisdiction: h.jurisdiction,
				CertificateIdentity: identity, Issuer: sample.IssuerName(h.id),
				JWKSFile: "issuers/" + h.id + ".jwks.json", Algorithms: []string{"EdDSA"}, MaxTokenLifetime: "1h",
				Provider: addr,
			})
		}
		out, err := yaml.Marshal(reg)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(s.pki.Registry, out, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// fiveHolders are nl-probation (sample) and four more: one that holds the
// subject too, one that does not, one slow and one down.
var fiveHolders = []extraHolder{
	{id: "nl-prison-vught", kind: "prison", jurisdiction: "NL", data: "nl-probation"},
	{id: "nl-probation-noord", kind: "probation", jurisdiction: "NL", data: "dk-prison-east"},
	{id: "nl-prison-slow", kind: "prison", jurisdiction: "NL", data: "nl-probation", delay: time.Minute},
	{id: "nl-prison-down", kind: "prison", jurisdiction: "NL", down: true},
}

// clock is a settable server clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.t.Load()).UTC() }

// Now is now, for Config.Now.
func (c *clock) Now() time.Time { return c.now() }

// Set moves the clock to t.
func (c *clock) Set(t time.Time) { c.t.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) {
	c.t.Add(int64(d))
}

func reasonOf(err error) string { return errorInfo(err).GetReason() }

// errorInfo is an error's google.rpc.ErrorInfo; nil if it has none.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func TestMatchFiveHolders(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	var s *stack
	s = startStack(t, stackOptions{serverNow: clk.now, beforeStart: func(st *stack) { addHolders(t, fiveHolders)(st) }})
	ctx := t.Context()
	holders := []string{"nl-probation", "nl-prison-vught", "nl-probation-noord", "nl-prison-slow", "nl-prison-down"}
	before, err := s.store.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Stopped in a routine check; does any partner know this person?",
		Holders:       holders,
		DeadlineMs:    5000, // generous for a loaded machine; the slow holder takes a minute
	})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	if took > 20*time.Second {
		t.Errorf("Match took %v: it did not stop at the 5 s deadline (the slow holder answers after a minute)", took)
	}
	want := map[string]liaisonv1.MatchAnswer{
		"nl-probation":       liaisonv1.MatchAnswer_MATCH_ANSWER_HIT,
		"nl-prison-vught":    liaisonv1.MatchAnswer_MATCH_ANSWER_HIT,
		"nl-probation-noord": liaisonv1.MatchAnswer_MATCH_ANSWER_NO_HIT,
		"nl-prison-slow":     liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE,
		"nl-prison-down":     liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE,
	}
	if len(resp.GetResults()) != len(holders) {
		t.Fatalf("got %d results, want %d", len(resp.GetResults()), len(holders))
	}
	seen := map[int64]bool{}
	refs := map[string]string{}
	for i, r := range resp.GetResults() {
		if r.GetHolder() != holders[i] {
			t.Errorf("result %d is for %s, want %s (request order)", i, r.GetHolder(), holders[i])
		}
		if r.GetAnswer() != want[r.GetHolder()] {
			t.Errorf("%s answered %v, want %v (reasons %v)", r.GetHolder(), r.GetAnswer(), want[r.GetHolder()], r.GetReasons())
		}
		hit := r.GetAnswer() == liaisonv1.MatchAnswer_MATCH_ANSWER_HIT
		if hit != (r.GetReference() != "") || hit != (r.GetReferenceExpiresAt() != "") {
			t.Errorf("%s: answer %v with reference %v expiring %q", r.GetHolder(), r.GetAnswer(), r.GetReference() != "", r.GetReferenceExpiresAt())
		}
		refs[r.GetHolder()] = r.GetReference()
		if r.GetAuditIndex() < before || seen[r.GetAuditIndex()] {
			t.Fatalf("%s: audit index %d is not a new entry of its own", r.GetHolder(), r.GetAuditIndex())
		}
		seen[r.GetAuditIndex()] = true
		e := s.entry(t, r.GetAuditIndex())
		if e.Action != "match" || e.Holder == nil || e.Holder.Agency != r.GetHolder() || e.Requester.Agency != "nl-police-rotterdam" ||
			e.RecordType != "risk_assessment" || e.Subject == nil || e.Subject.Pseudonym == "" {
			t.Errorf("%s: entry %+v does not describe the match", r.GetHolder(), e)
		}
		// A match is decided on no attribute of the person (policies/README.md,
		// input.subject): the entry, which replay decides again, records none.
		if e.Subject != nil && *e.Subject != (audit.Subject{Pseudonym: e.Subject.Pseudonym}) {
			t.Errorf("%s: entry subject %+v, want the pseudonym alone", r.GetHolder(), *e.Subject)
		}
		switch r.GetAnswer() {
		case liaisonv1.MatchAnswer_MATCH_ANSWER_HIT, liaisonv1.MatchAnswer_MATCH_ANSWER_NO_HIT:
			wantAnswer := map[bool]string{true: "hit", false: "no_hit"}[hit]
			if e.Outcome != audit.OutcomeHitOnly || e.Detail["answer"] != wantAnswer || !slices.Equal(e.FieldsDisclosed, []string{"hit"}) {
				t.Errorf("%s: entry outcome %q detail %v fields %v, want hit_only, answer %s, fields [hit]", r.GetHolder(), e.Outcome, e.Detail, e.FieldsDisclosed, wantAnswer)
			}
			// The hit's entry records when its reference expires, never the reference.
			if e.Detail["reference_expires_at"] != r.GetReferenceExpiresAt() {
				t.Errorf("%s: entry detail reference_expires_at %q, want %q", r.GetHolder(), e.Detail["reference_expires_at"], r.GetReferenceExpiresAt())
			}
			if b, _ := s.store.ReadLeaves(ctx, r.GetAuditIndex(), r.GetAuditIndex()+1); hit && (len(b) != 1 || containsBytes(b[0], r.GetReference()[len("mref1."):])) {
				t.Errorf("%s: entry holds the reference", r.GetHolder())
			}
		case liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE:
			if e.Outcome != audit.OutcomeFailed || !slices.Contains(e.Reasons, "HOLDER_UNAVAILABLE") || !slices.Contains(r.GetReasons(), "HOLDER_UNAVAILABLE") {
				t.Errorf("%s: entry outcome %q reasons %v (result %v), want failed HOLDER_UNAVAILABLE", r.GetHolder(), e.Outcome, e.Reasons, r.GetReasons())
			}
		}
	}
	after, _ := s.store.Size(ctx)
	if after-before != int64(len(holders)) {
		t.Errorf("the match wrote %d entries, want one per holder (%d)", after-before, len(holders))
	}
	// The subject's identifier is in no entry and no log line.
	for i := before; i < after; i++ {
		if b, _ := s.store.ReadLeaves(ctx, i, i+1); len(b) == 1 && containsBytes(b[0], "SYN-NL-0001") {
			t.Errorf("entry %d holds the subject's identifier", i)
		}
	}
	if containsBytes(s.logs.Bytes(), "SYN-NL-0001") {
		t.Error("the gateway's log holds the subject's identifier")
	}
	for _, ref := range refs {
		if containsBytes([]byte(ref), "SYN-NL-0001") || containsBytes([]byte(ref), "nl-police") {
			t.Error("a reference is readable")
		}
	}

	// Step two.
	step2 := func(o officer, holder, ref string) (*liaisonv1.RequestResponse, error) {
		return s.exchange(t, o).Request(ctx, &liaisonv1.RequestRequest{
			Holder: holder, SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "The match showed a hit; the assessment is needed to plan the contact.", MatchReference: ref,
		})
	}
	refused := func(name string, o officer, holder, ref, reason string) {
		t.Helper()
		_, err := step2(o, holder, ref)
		if status.Code(err) != codes.PermissionDenied || reasonOf(err) != reason {
			t.Errorf("%s: Request = %v (reason %q), want PermissionDenied %s", name, err, reasonOf(err), reason)
			return
		}
		_, e := s.lastEntry(t)
		if e.Action != "request" || e.Outcome != audit.OutcomeRefused || !slices.Contains(e.Reasons, reason) || e.Requester.Officer != o.id {
			t.Errorf("%s: entry %s %s %v by %s, want a refused request with %s", name, e.Action, e.Outcome, e.Reasons, e.Requester.Officer, reason)
		}
	}
	otherOfficer := officer{"nl-police-rotterdam", "insp.bakker", []string{"case_officer"}, "restricted"}
	refused("forged reference", nlPolice, "nl-probation", "mref1.AAAAAQ", "MATCH_REFERENCE_INVALID")
	refused("not a reference", nlPolice, "nl-probation", "hit", "MATCH_REFERENCE_INVALID")
	refused("another officer's reference", otherOfficer, "nl-probation", refs["nl-probation"], "MATCH_REFERENCE_NOT_YOURS")
	refused("another holder's reference", nlPolice, "nl-probation", refs["nl-prison-vught"], "MATCH_REFERENCE_MISMATCH")

	got, err := step2(nlPolice, "nl-probation", refs["nl-probation"])
	if err != nil {
		t.Fatalf("step two with a valid reference: %v", err)
	}
	e := s.entry(t, got.GetReleased().GetAuditIndex())
	matchEntry := s.entry(t, resp.GetResults()[0].GetAuditIndex())
	if e.Action != "request" || !audit.Released(e.Outcome) || e.Detail["match_request_id"] != matchEntry.RequestID || e.Justification == "" {
		t.Errorf("step two entry: %s %s detail %v, want a released request naming match %s", e.Action, e.Outcome, e.Detail, matchEntry.RequestID)
	}

	clk.add(gateway.MatchReferenceTTL + time.Minute)
	refused("expired reference", nlPolice, "nl-probation", refs["nl-probation"], "MATCH_REFERENCE_EXPIRED")
}

func TestMatchDeniedHolderNotAsked(t *testing.T) {
	s := startStack(t, stackOptions{})
	fetchesBefore := s.providers["dk-prison-east"].Fetches()
	// An NGO asking about a risk assessment: denied everywhere, nobody asked.
	resp, err := s.exchange(t, nlNGO).Match(t.Context(), &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_CRIMINAL_INVESTIGATION,
		Justification: "Checking before a mentoring session.",
	})
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	if len(resp.GetResults()) != 2 {
		t.Fatalf("results %v, want one per sample holder", resp.GetResults())
	}
	for _, r := range resp.GetResults() {
		e := s.entry(t, r.GetAuditIndex())
		if r.GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_DENIED || e.Outcome != audit.OutcomeDeny || r.GetReference() != "" {
			t.Errorf("%s: answer %v entry %s, want denied and logged as deny", r.GetHolder(), r.GetAnswer(), e.Outcome)
		}
	}
	if s.providers["dk-prison-east"].Fetches() != fetchesBefore {
		t.Error("a denied holder was asked for a record")
	}

	// Validation: one refused entry naming the field.
	_, err = s.exchange(t, nlPolice).Match(t.Context(), &liaisonv1.MatchRequest{
		SubjectId: "SYN-NL-0001", Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "x",
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Match without record types: %v, want InvalidArgument", err)
	}
	if _, e := s.lastEntry(t); e.Action != "match" || e.Outcome != audit.OutcomeRefused || e.Detail["field"] != "record_types" {
		t.Errorf("refused match entry: %s %s %v", e.Action, e.Outcome, e.Detail)
	}
}

func containsBytes(b []byte, s string) bool { return len(s) > 0 && bytesIndex(b, s) >= 0 }

func bytesIndex(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

// BenchmarkMatch measures Match against 5 and 50 holders that answer at
// once, and reports p50 and p99 of the call's latency.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{5, 50} {
		b.Run(fmt.Sprintf("holders=%d", n), func(b *testing.B) {
			var extra []extraHolder
			var ids []string
			for i := range n {
				id := fmt.Sprintf("nl-prison-b%02d", i)
				data := "nl-probation"
				if i%2 == 1 {
					data = "dk-prison-east"
				}
				extra = append(extra, extraHolder{id: id, kind: "prison", jurisdiction: "NL", data: data})
				ids = append(ids, id)
			}
			s := startStack(b, stackOptions{beforeStart: addHolders(b, extra)})
			c := s.exchange(b, nlPolice)
			req := &liaisonv1.MatchRequest{
				SubjectId:     "SYN-NL-0001",
				RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
				Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Benchmark.",
				Holders:       ids,
				DeadlineMs:    10000,
			}
			if _, err := c.Match(b.Context(), req); err != nil { // warm the connections
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				resp, err := c.Match(b.Context(), req)
				d := time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range resp.GetResults() {
					if r.GetAnswer() == liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE {
						b.Fatal(errors.New(r.GetHolder() + " unavailable"))
					}
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
		})
	}
}

// TestMatchDoesNotMakeARecipient: an agency that asked whether partners
// hold something about a person (hit or no-hit) received no record, so a
// later notice about the person does not go to it as an earlier
// recipient; with nobody else to tell, the notice is refused.
func TestMatchDoesNotMakeARecipient(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const subject = "SYN-NL-0001"
	resp, err := s.exchange(t, nlPoliceAms).Match(ctx, &liaisonv1.MatchRequest{
		SubjectId: subject, Holders: []string{"nl-probation"},
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Stopped on the street; checking before a home visit.",
	})
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	answered := false
	for _, r := range resp.GetResults() {
		a := r.GetAnswer()
		answered = answered || a == liaisonv1.MatchAnswer_MATCH_ANSWER_HIT || a == liaisonv1.MatchAnswer_MATCH_ANSWER_NO_HIT
	}
	if !answered {
		t.Fatalf("Match results %v; want a hit or a no-hit, logged as hit_only", resp.GetResults())
	}
	_, err = s.exchange(t, nlProbation).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType:     liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
		Record:        &liaisonv1.Record{Body: &liaisonv1.Record_ProbationMeasures{ProbationMeasures: &liaisonv1.ProbationMeasures{Subject: &liaisonv1.Person{SubjectId: subject}}}},
		Subject:       &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, Municipality: "Amsterdam"},
		Justification: "Missed two appointments.",
	})
	if st := wantStatus(t, err, codes.InvalidArgument); reasonOf(err) != "NO_RECIPIENTS" {
		t.Errorf("Notify after a Match only: %v (%s); want NO_RECIPIENTS, the asker being no earlier recipient", st.Message(), reasonOf(err))
	}
}

// TestMatchSkipsOffboardedHolders: an agency taken off the registry's
// active agencies (offboarded) is not asked, by default or by name; the
// reference of a hit expires at a UTC time.
func TestMatchSkipsOffboardedHolders(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	match := func(holders ...string) (*liaisonv1.MatchResponse, error) {
		return s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
			SubjectId: "SYN-NL-0001", Holders: holders,
			RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
			Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Checking before a home visit.",
		})
	}
	asked := func(resp *liaisonv1.MatchResponse) []string {
		var out []string
		for _, r := range resp.GetResults() {
			out = append(out, r.GetHolder())
		}
		return out
	}
	resp, err := match()
	if err != nil || !slices.Contains(asked(resp), "nl-probation") {
		t.Fatalf("Match before offboarding = %v, %v; want nl-probation asked", asked(resp), err)
	}
	hits := 0
	for _, r := range resp.GetResults() {
		if r.GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_HIT {
			continue
		}
		hits++
		if at := r.GetReferenceExpiresAt(); !strings.HasSuffix(at, "Z") {
			t.Errorf("reference expires at %q, want a UTC time", at)
		}
	}
	if hits == 0 {
		t.Fatalf("Match results %v; want a hit, with its reference", resp.GetResults())
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == "nl-probation" {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "nl-probation offboarded", func() bool {
		resp, err := match()
		return err == nil && !slices.Contains(asked(resp), "nl-probation")
	})
	_, err = match("nl-probation")
	if st := wantStatus(t, err, codes.InvalidArgument); badField(st) != "holders[0]" {
		t.Errorf("Match naming an offboarded holder: field %q, want holders[0]", badField(st))
	}
	// Nor is it asked for a record, or given one.
	_, err = s.exchange(t, nlPolice).Request(ctx, riskRequest)
	if st := wantStatus(t, err, codes.InvalidArgument); badField(st) != "holder" {
		t.Errorf("Request of an offboarded holder: field %q, want holder", badField(st))
	}
	rec, attrs := dkRelease(t, s)
	_, err = s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, Recipients: []string{"nl-probation"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision moves to the Netherlands."})
	if st := wantStatus(t, err, codes.InvalidArgument); badField(st) != "recipients[0]" {
		t.Errorf("Disclose to an offboarded agency: field %q, want recipients[0]", badField(st))
	}
}

// TestMatchDecidedWithContentIsDenied: a match is answered hit_only or
// deny; a policy that answers it with content (here pseudonymise) is
// malformed, and the gateway treats that as it treats any malformed
// decision: a denial, POLICY_ERROR (answer denied, entry deny), not an
// unavailable holder.
func TestMatchDecidedWithContentIsDenied(t *testing.T) {
	tree := fstest.MapFS{"liaison/decision.rego": {Data: []byte(`package liaison

decision := {
	"outcome": "deny", "conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "Nothing may be shared."}],
} if input.action != "match"

decision := {
	"outcome": "pseudonymise", "pseudonym_domain": "nl-police-rotterdam/risk_management",
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": []}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
} if input.action == "match"
`)}}
	s := startStack(t, stackOptions{policy: tree})
	resp, err := s.exchange(t, nlPolice).Match(t.Context(), &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Does any partner know this person?",
		Holders:       []string{"nl-probation"},
	})
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	if len(resp.GetResults()) != 1 {
		t.Fatalf("results %v, want one", resp.GetResults())
	}
	r := resp.GetResults()[0]
	if r.GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_DENIED || !slices.Contains(r.GetReasons(), "POLICY_ERROR") {
		t.Errorf("answer %v reasons %v, want denied POLICY_ERROR", r.GetAnswer(), r.GetReasons())
	}
	if e := s.entry(t, r.GetAuditIndex()); e.Outcome != audit.OutcomeDeny || !slices.Contains(e.Reasons, "POLICY_ERROR") {
		t.Errorf("entry outcome %q reasons %v, want deny POLICY_ERROR", e.Outcome, e.Reasons)
	}
}
