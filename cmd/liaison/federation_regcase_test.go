package main

import (
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestPushToAPeerWhileTheRegistryChangesItsCase: a case the Danish
// registry file declares, never imported, is not in the Danish store,
// which so checks nothing of it when the pending entry of a push to an
// agency behind the Dutch gateway commits; it changes with the file, by
// the gateway's reload of its trust files. The Danish prison, the Dutch
// probation service and the Rotterdam police are members of such a case,
// and the prison pushes within it to the probation service and the
// police, one after the other. While the probation service's push is at
// the Dutch gateway, the Danish file takes the police out of the case
// (the race is forced, the same every run: the reload is applied before
// the Dutch gateway gets the first push). The police's push is refused
// PERMISSION_DENIED, NOT_A_CASE_MEMBER, as for a local member (or a case
// in the store): one refused Danish entry, no pending entry, nothing
// forwarded, nothing in the police's inbox. The police back in it, the
// file drops the case while the next push is under way: refused so too,
// FAILED_PRECONDITION, CASE_CLOSED. The case back, the police given the
// record outside the case, the prison's notice goes to its earlier
// recipients: the police (outside the case) and the probation service,
// routed by its receipt within the case; the file takes the probation
// service out of the case while the police's notice is at the Dutch
// gateway, and the probation service's is refused FAILED_PRECONDITION,
// CASE_CHANGED_MEANWHILE, as a notice to a local earlier recipient is
// (TestNoticeToAnEarlierRecipientWhileTheRegistryChangesItsCase). Each
// refused push and notice reached the Dutch recipient: the pending entry
// checked the case against the store alone.
func TestPushToAPeerWhileTheRegistryChangesItsCase(t *testing.T) {
	var logs lockedBuffer
	f := startFederationWith(t, fedConfig{hostile: "NL", logs: map[string]io.Writer{"DK": &logs}})
	ctx := t.Context()
	const id = "DK-KSP-0007"
	// reload edits the Danish registry file and waits until the gateway
	// applied it. It may run off the test's goroutine.
	reload := func(edit func(*gateway.RegistryFile)) {
		n := strings.Count(logs.String(), "trust files reloaded")
		f.dk.editFederationRegistry(t, edit)
		until(t, "the Danish registry reloaded", func() bool { return strings.Count(logs.String(), "trust files reloaded") > n })
	}
	members := []string{"dk-prison-east", "nl-probation", "nl-police-rotterdam"}
	setCase := func(members ...string) func(*gateway.RegistryFile) {
		return func(r *gateway.RegistryFile) {
			r.Cases = slices.DeleteFunc(r.Cases, func(c gateway.CaseFile) bool { return c.ID == id })
			if len(members) > 0 {
				r.Cases = append(r.Cases, gateway.CaseFile{ID: id, Lead: "dk-prison-east", Members: members})
			}
		}
	}
	reload(setCase(members...))
	// during applies edit to the Danish registry while the next push at
	// the Dutch gateway (a Disclose, as a forwarded notice is too) is
	// there, before the Dutch gateway gets it.
	var mu sync.Mutex
	var armed func(*gateway.RegistryFile)
	f.hostile.setRequest(func(method string, _ proto.Message) {
		mu.Lock()
		edit := armed
		armed = nil
		mu.Unlock()
		if method == "Disclose" && edit != nil {
			reload(edit)
		}
	})
	during := func(edit func(*gateway.RegistryFile)) {
		mu.Lock()
		armed = edit
		mu.Unlock()
	}
	left := func() bool {
		mu.Lock()
		defer mu.Unlock()
		l := armed != nil
		armed = nil
		return l
	}
	released := func(r *liaisonv1.RecipientResult) bool {
		return r.GetFailure() == nil && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_UNSPECIFIED
	}
	prison := f.dk.client(t, "dk-prison-east", "kf.case")
	items := func(agency string) int { return len(f.nl.inbox(t, agency)) }
	forwardedTo := func(agency string) int {
		n := 0
		for _, e := range append(f.dk.all(t, "disclose", "kf.case"), f.dk.all(t, "notify", "kf.case")...) {
			if e.Outcome == audit.OutcomePending && e.Recipients[0].Agency == agency {
				n++
			}
		}
		return n
	}
	// refused checks that recipient's result in rs is refused with code
	// and reason, by one refused Danish entry of action, with nothing
	// forwarded and nothing delivered.
	refused := func(what, action, recipient, code, reason string, rs []*liaisonv1.RecipientResult, inbox, pending int) {
		t.Helper()
		var got *liaisonv1.RecipientResult
		for _, r := range rs {
			if r.GetRecipient() == recipient {
				got = r
			}
		}
		if got.GetFailure().GetCode() != code || got.GetFailure().GetReason() != reason || !strings.Contains(got.GetFailure().GetMessage(), id) {
			t.Errorf("%s: %s's result %v; want %s, %s, of case %s", what, recipient, got, code, reason, id)
		}
		es := f.dk.all(t, action, "kf.case")
		last := es[len(es)-1]
		if last.Recipients[0].Agency != recipient || last.Outcome != audit.OutcomeRefused || !slices.Equal(last.Reasons, []string{reason}) ||
			len(last.FieldsDisclosed) > 0 || last.Detail[audit.DetailReleasedDigest] != "" || last.Detail["notice_id"] != "" {
			t.Errorf("%s: the Danish entry %s %v of %s (fields %v); want %s's refused, %s, no release, no notice", what, last.Outcome, last.Reasons, last.Recipients[0].Agency, last.FieldsDisclosed, recipient, reason)
		}
		if n := forwardedTo(recipient); n != pending {
			t.Errorf("%s: %d Danish pending entries for %s, want %d: it was forwarded", what, n, recipient, pending)
		}
		if n := items(recipient); n != inbox {
			t.Errorf("%s: %s's inbox grew from %d to %d items: the refused push reached it", what, recipient, inbox, n)
		}
	}
	push := func(what string, edit func(*gateway.RegistryFile)) []*liaisonv1.RecipientResult {
		t.Helper()
		d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
		d.Recipients, d.CaseId = []string{"nl-probation", "nl-police-rotterdam"}, id
		during(edit)
		resp, err := prison.Disclose(ctx, d)
		if left() {
			t.Fatalf("%s: the push never reached the Dutch gateway", what)
		}
		if err != nil || len(resp.GetResults()) != 2 || !released(resp.GetResults()[0]) {
			t.Fatalf("%s: Disclose = %v, %v; want the probation service's push released", what, resp, err)
		}
		return resp.GetResults()
	}

	// 1. The file takes the police out of the case while the push is
	// under way.
	inbox, pending := items("nl-police-rotterdam"), forwardedTo("nl-police-rotterdam")
	rs := push("the file takes the police out", setCase("dk-prison-east", "nl-probation"))
	refused("the file takes the police out", "disclose", "nl-police-rotterdam", "PERMISSION_DENIED", "NOT_A_CASE_MEMBER", rs, inbox, pending)

	// 2. Back in the case, the file drops the case while the next push is
	// under way.
	reload(setCase(members...))
	rs = push("the file drops the case", setCase())
	refused("the file drops the case", "disclose", "nl-police-rotterdam", "FAILED_PRECONDITION", "CASE_CLOSED", rs, inbox, pending)

	// 3. The case back, the police get the record outside it; the notice
	// to the earlier recipients goes to the police first, and the file
	// takes the probation service out of the case meanwhile: its receipt
	// within the case no longer counts.
	reload(setCase(members...))
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	d.Recipients = []string{"nl-police-rotterdam"}
	if _, err := prison.Disclose(ctx, d); err != nil {
		t.Fatalf("Disclose to the police outside the case: %v", err)
	}
	inbox, pending = items("nl-probation"), forwardedTo("nl-probation")
	during(setCase("dk-prison-east", "nl-police-rotterdam"))
	nr, err := prison.Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Justification: "The release date is set.",
	})
	if left() {
		t.Fatal("the notice never reached the Dutch gateway")
	}
	if err != nil || len(nr.GetResults()) != 2 || nr.GetResults()[0].GetRecipient() != "nl-police-rotterdam" || !released(nr.GetResults()[0]) {
		t.Fatalf("Notify = %v, %v; want the police's notice first, released", nr, err)
	}
	if r := nr.GetResults()[1].GetRoutes(); len(r) != 1 || r[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT {
		t.Errorf("the probation service's routes %v; want it an earlier recipient", r)
	}
	refused("the file takes the probation service out", "notify", "nl-probation", "FAILED_PRECONDITION", "CASE_CHANGED_MEANWHILE", nr.GetResults(), inbox, pending)
}
