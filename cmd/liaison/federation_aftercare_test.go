package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	"github.com/liaison-gateway/liaison/policies/policytest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// aftercare dials a country's gateway's Aftercare service as an officer
// of one of its agencies.
func (c *country) aftercare(t *testing.T, agency, officer string) liaisonv1.AftercareClient {
	t.Helper()
	return c.aftercareAs(t, agency, officer, "case_officer")
}

// auditor dials a country's gateway's Aftercare service as an auditor of
// its prison.
func (c *country) auditor(t *testing.T) liaisonv1.AftercareClient {
	t.Helper()
	return c.aftercareAs(t, "dk-prison-east", "dpo.kristensen", "auditor")
}

func (c *country) aftercareAs(t *testing.T, agency, officer, role string) liaisonv1.AftercareClient {
	t.Helper()
	return liaisonv1.NewAftercareClient(c.dial(t, agency, officer, role))
}

// notices returns the obligation notices in an agency's inbox.
func (c *country) notices(t *testing.T, agency string) []*liaisonv1.SubscribeResponse {
	t.Helper()
	var out []*liaisonv1.SubscribeResponse
	for _, m := range c.inbox(t, agency) {
		if m.GetObligation() != nil {
			out = append(out, m)
		}
	}
	return out
}

// TestFederatedCorrection: a correction and a withdrawal reach an agency
// behind a peer gateway, in its inbox at its own gateway, naming the
// release as that gateway's log knows it. The Danish prison pushed a
// release notice to the Dutch probation service and let it request a risk
// assessment; it corrects both, then withdraws the release notice. Each
// notice is logged on both sides (the Danish pending and final entries,
// the Dutch delivery), each log holds the other's receipt, and the Dutch
// acknowledgement closes the notice in both logs.
func TestFederatedCorrection(t *testing.T) {
	f := startFederation(t, nil, nil)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatalf("Disclose through both gateways: %v", err)
	}
	got, err := f.nl.client(t, "nl-probation", "insp.de.vries").Request(t.Context(), riskAssessmentRequest)
	if err != nil {
		t.Fatalf("Request through both gateways: %v", err)
	}
	items := f.nl.inbox(t, "nl-probation")
	if len(items) != 1 {
		t.Fatalf("Dutch inbox: %d items, want the release notice", len(items))
	}
	pushed, requested := items[0].GetReleased().GetAuditIndex(), got.GetReleased().GetAuditIndex()

	// The release date moved: the prison corrects its release notice.
	corrected := proto.CloneOf(push.GetRecord())
	corrected.GetReleaseNotice().ReleaseDate = daysAfter(t, push.GetRecord().GetReleaseNotice().GetReleaseDate(), 7)
	dk := f.dk.aftercare(t, "dk-prison-east", "kf.correct")
	cr, err := dk.Correct(t.Context(), &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release date moved by a week."})
	if err != nil {
		t.Fatalf("Correct: %v", err)
	}
	if rs := cr.GetResults(); len(rs) != 1 || rs[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || rs[0].GetRecipient() != "nl-probation" {
		t.Fatalf("Correct results %v; want one correction for nl-probation", rs)
	}
	ns := f.nl.notices(t, "nl-probation")
	if len(ns) != 1 {
		t.Fatalf("Dutch inbox: %d notices after the correction, want 1", len(ns))
	}
	n := ns[0].GetObligation()
	if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || len(n.GetRefersTo()) != 1 || n.GetRefersTo()[0] != pushed ||
		n.GetHolder() != "dk-prison-east" || ns[0].GetReleased().GetRecord().GetReleaseNotice().GetReleaseDate() != corrected.GetReleaseNotice().GetReleaseDate() {
		t.Fatalf("Dutch notice %v with %v; want a correction of Dutch entry %d carrying the new release date", n, ns[0].GetReleased(), pushed)
	}
	// Both logs: the Danish pending and final entries, the Dutch delivery,
	// each naming the other with a receipt that verifies offline.
	dkE, nlE := f.dk.all(t, audit.ActionCorrect, "kf.correct"), f.nl.all(t, audit.ActionCorrect, "kf.correct")
	if len(dkE) != 2 || dkE[0].Outcome != audit.OutcomePending || dkE[1].Outcome != audit.OutcomeDisclose || len(nlE) != 1 {
		t.Fatalf("Danish correct entries %v, Dutch %v; want pending and disclose, and one", outcomes(dkE), outcomes(nlE))
	}
	if nlE[0].Detail[audit.DetailRefersTo] != strconv.FormatInt(pushed, 10) || nlE[0].Detail["peer_index"] != dkE[1].Detail["pending_index"] ||
		dkE[1].Detail["peer_index"] != strconv.FormatInt(n.GetAuditIndex(), 10) {
		t.Errorf("Dutch entry %v, Danish final %v; want each naming the other, the Dutch one Dutch entry %d", nlE[0].Detail, dkE[1].Detail, pushed)
	}
	nlKey, _ := note.NewVerifier(f.nl.vkey)
	dkKey, _ := note.NewVerifier(f.dk.vkey)
	if r, err := gateway.VerifyReceipt(receiptIn(t, dkE[1]), nlKey, "nl-probation", ns[0].GetReleased()); err != nil || r.Entry.Detail[audit.DetailNoticeKind] != audit.NoticeCorrection {
		t.Errorf("the Dutch receipt in the Danish log: %+v, %v", r, err)
	}
	if _, err := gateway.VerifyReceipt(receiptIn(t, nlE[0]), dkKey, "nl-probation", nil); err != nil {
		t.Errorf("the Danish receipt in the Dutch log: %v", err)
	}

	// The risk assessment the Dutch probation service requested: its
	// correction names the Dutch final entry of the request.
	ra := got.GetReleased().GetRecord()
	if ra.GetRiskAssessment() == nil {
		t.Fatalf("the request released %v", got.GetReleased())
	}
	fixed := proto.CloneOf(ra)
	fixed.GetRiskAssessment().Worries = []string{"contact with an extremist milieu online, ended in prison"}
	fixed.GetRiskAssessment().Subject = &liaisonv1.Person{SubjectId: "SYN-DK-0001"}
	if _, err := dk.Correct(t.Context(), &liaisonv1.CorrectRequest{Record: fixed, Justification: "The worries were out of date."}); err != nil {
		t.Fatalf("Correct the risk assessment: %v", err)
	}
	ns = f.nl.notices(t, "nl-probation")
	if len(ns) != 2 || ns[1].GetObligation().GetRefersTo()[0] != requested ||
		ns[1].GetReleased().GetRecord().GetRiskAssessment().GetWorries()[0] != fixed.GetRiskAssessment().GetWorries()[0] {
		t.Fatalf("Dutch notices %v; want a second one correcting Dutch entry %d", ns, requested)
	}

	// The prison withdraws the release notice: the withdrawal names the
	// Dutch entry of the correction, the release the Dutch service holds
	// now, and takes its unread copy out of the inbox.
	wr, err := dk.Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE,
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "The release was cancelled."})
	if err != nil || len(wr.GetResults()) != 1 || wr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		t.Fatalf("Withdraw = %v, %v; want one withdrawal", wr, err)
	}
	ns = f.nl.notices(t, "nl-probation")
	if len(ns) != 2 || ns[0].GetObligation().GetRecordType() != liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT ||
		ns[1].GetObligation().GetSubjectPseudonym() != "" ||
		ns[1].GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL ||
		ns[1].GetObligation().GetRefersTo()[0] != n.GetAuditIndex() || ns[1].GetReleased().GetRecord() != nil {
		t.Fatalf("Dutch notices %v; want the risk assessment's correction, and a withdrawal of Dutch entry %d without a record", ns, n.GetAuditIndex())
	}

	// The Dutch entry gives the prison's reason, as the Danish final one
	// does; not that it was forwarded, which happened in the Danish log.
	nlW, dkW := f.nl.all(t, audit.ActionWithdraw, "kf.correct"), f.dk.all(t, audit.ActionWithdraw, "kf.correct")
	if len(nlW) != 1 || len(dkW) != 2 || !slices.Equal(nlW[0].Reasons, []string{"INCORRECT"}) || !slices.Equal(dkW[1].Reasons, nlW[0].Reasons) {
		reasons := func(es []*audit.Entry) (out [][]string) {
			for _, e := range es {
				out = append(out, e.Reasons)
			}
			return out
		}
		t.Errorf("withdrawal entries' reasons: Dutch %v, Danish %v; want one Dutch entry with the Danish final entry's reasons, [INCORRECT]", reasons(nlW), reasons(dkW))
	}
	// The Rotterdam police got the risk assessment pseudonymised: the
	// withdrawal names the person by the pseudonym they know.
	pseud := proto.CloneOf(riskAssessmentRequest)
	pseud.Justification = "The person lives in Rotterdam now; planning our first contact."
	pr, err := f.nl.client(t, "nl-police-rotterdam", "insp.jansen").Request(t.Context(), pseud)
	if err != nil || pr.GetReleased().GetOutcome() != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE || pr.GetReleased().GetSubjectPseudonym() == "" {
		t.Fatalf("the Rotterdam police's request: %v, %v; want a pseudonymised release", pr.GetReleased().GetOutcome(), err)
	}
	if _, err := dk.Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_UNLAWFULLY_TRANSMITTED, Justification: "The assessment should not have left the prison service."}); err != nil {
		t.Fatalf("Withdraw the risk assessment: %v", err)
	}
	pn := f.nl.notices(t, "nl-police-rotterdam")
	if len(pn) != 1 || pn[0].GetObligation().GetRefersTo()[0] != pr.GetReleased().GetAuditIndex() ||
		pn[0].GetObligation().GetSubjectPseudonym() != pr.GetReleased().GetSubjectPseudonym() ||
		pn[0].GetObligation().GetPseudonymDomain() != pr.GetReleased().GetPseudonymDomain() {
		t.Fatalf("the Rotterdam police's notices %v; want a withdrawal of entry %d naming pseudonym %s", pn, pr.GetReleased().GetAuditIndex(),
			pr.GetReleased().GetSubjectPseudonym())
	}
}

// pushAndCorrect has the Danish prison push its release notice to the
// Dutch probation service (officer kf.release), then correct it as change
// says (officer kf.correct, for why), and returns the Dutch inbox's one
// notice, the correction.
func pushAndCorrect(t *testing.T, f *federation, change func(*liaisonv1.ReleaseNotice), why string) []*liaisonv1.SubscribeResponse {
	t.Helper()
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	corrected := proto.CloneOf(push.GetRecord())
	change(corrected.GetReleaseNotice())
	if _, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(t.Context(),
		&liaisonv1.CorrectRequest{Record: corrected, Justification: why}); err != nil {
		t.Fatal(err)
	}
	ns := f.nl.notices(t, "nl-probation")
	if len(ns) != 1 {
		t.Fatalf("Dutch inbox: %d notices, want the correction", len(ns))
	}
	return ns
}

// TestFederatedAcknowledgement: the Dutch probation service acknowledges,
// at its own gateway, a correction the Danish prison sent through the
// Danish gateway; the Dutch gateway forwards the acknowledgement, and the
// notice is closed in both logs, each acknowledgement naming the other
// with a receipt. A second acknowledgement is refused, and the Danish
// auditors no longer see the notice as open.
func TestFederatedAcknowledgement(t *testing.T) {
	f := startFederation(t, nil, nil)
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.Facility = "Fiktivt Fængsel Vest" }, "The person was moved to another prison.")
	nl := f.nl.aftercare(t, "nl-probation", "insp.bakker")
	ack, err := nl.AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: ns[0].GetObligation().GetAuditIndex(),
		Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Replaced in our file."})
	if err != nil {
		t.Fatalf("AcknowledgeNotice at the Dutch gateway: %v", err)
	}
	if ack.GetReceipt() != nil {
		t.Errorf("an agency caller got a peer receipt")
	}
	nlE, dkE := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.bakker"), f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.bakker")
	if len(nlE) != 2 || nlE[0].Outcome != audit.OutcomePending || nlE[1].Outcome != audit.OutcomeOK || len(dkE) != 1 || dkE[0].Outcome != audit.OutcomeOK {
		t.Fatalf("Dutch acknowledgements %v, Danish %v; want pending and ok, and ok", outcomes(nlE), outcomes(dkE))
	}
	dkNotice := f.dk.all(t, audit.ActionCorrect, "kf.correct")
	if len(dkNotice) != 2 || dkE[0].Detail[audit.DetailNotice] == "" || dkE[0].Detail["peer_index"] != nlE[1].Detail["pending_index"] ||
		nlE[1].Detail["peer_index"] == "" || dkE[0].Detail["via_peer"] != "nl-gateway" {
		t.Fatalf("Danish acknowledgement %v, Dutch %v; want each naming the other", dkE[0].Detail, nlE[1].Detail)
	}
	dkKey, _ := note.NewVerifier(f.dk.vkey)
	if r, err := gateway.VerifyReceipt(receiptIn(t, nlE[1]), dkKey, "nl-probation", nil); err != nil || r.Entry.Action != audit.ActionAcknowledgeNotice {
		t.Errorf("the Danish receipt in the Dutch log: %+v, %v", r, err)
	}
	// The Danish notice is the final entry of the correction, and it is
	// closed: the Danish auditors' list of open notices is empty.
	auditor := f.dk.auditor(t)
	open, err := auditor.ListObligationNotices(t.Context(), &liaisonv1.ListObligationNoticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.GetNotices()) != 0 {
		t.Errorf("Danish open notices after the acknowledgement: %v", open.GetNotices())
	}
	all, err := auditor.ListObligationNotices(t.Context(), &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
	if err != nil || len(all.GetNotices()) != 1 || strconv.FormatInt(all.GetNotices()[0].GetAuditIndex(), 10) != dkE[0].Detail[audit.DetailNotice] {
		t.Errorf("Danish notices %v, %v; want the one acknowledged by entry %v", all, err, dkE[0].Detail)
	}
	// Once is enough, on either side.
	_, err = nl.AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: ns[0].GetObligation().GetAuditIndex(),
		Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
	if status.Code(err) == codes.OK {
		t.Errorf("a second acknowledgement was accepted")
	}
}

// TestFederatedCorrectionRefusedOnReceipt: Dutch law no longer lets the
// Dutch probation service receive Danish release notices (the policy
// changed after the first one arrived). The Danish gateway sends the
// correction; the Dutch gateway refuses it on receipt and delivers a
// withdrawal instead (CORRECTION_NOT_ALLOWED): the service must erase
// what it holds. The Danish result and final entry say so.
func TestFederatedCorrectionRefusedOnReceipt(t *testing.T) {
	f := startFederation(t, nil, nil)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
	dir := patchedPolicies(t, "nl/nl.rego",
		`"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`,
		`"record_types": ["risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`)
	if _, err := f.nl.gw.Server.Policy().Activate(t.Context(), policies.DirSource(dir)); err != nil {
		t.Fatal(err)
	}
	corrected := proto.CloneOf(push.GetRecord())
	corrected.GetReleaseNotice().ReleaseDate = daysAfter(t, push.GetRecord().GetReleaseNotice().GetReleaseDate(), 7)
	cr, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(t.Context(),
		&liaisonv1.CorrectRequest{Record: corrected, Justification: "The release date moved by a week."})
	if err != nil {
		t.Fatal(err)
	}
	r := cr.GetResults()[0]
	if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || r.GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE ||
		!slices.Contains(r.GetReasons(), "CORRECTION_NOT_ALLOWED") {
		t.Fatalf("Correct result %v; want a withdrawal, CORRECTION_NOT_ALLOWED", r)
	}
	ns := f.nl.notices(t, "nl-probation")
	if len(ns) != 1 || ns[0].GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL ||
		ns[0].GetObligation().GetReason() != "CORRECTION_NOT_ALLOWED" || ns[0].GetObligation().GetRefersTo()[0] != pushed || ns[0].GetReleased() != nil {
		t.Fatalf("Dutch notices %v; want a withdrawal of entry %d, without the corrected record", ns, pushed)
	}
	dkE := f.dk.all(t, audit.ActionCorrect, "kf.correct")
	if len(dkE) != 2 || dkE[1].Outcome != audit.OutcomeOK || dkE[1].Detail[audit.DetailNoticeKind] != audit.NoticeWithdrawal ||
		dkE[1].Detail[audit.DetailObligation] != audit.ObligationErase {
		t.Fatalf("Danish entries %v, final detail %v; want the withdrawal the Dutch gateway sent", outcomes(dkE), dkE[len(dkE)-1].Detail)
	}
}

// TestFederatedAcknowledgementPeerDown: the Danish gateway runs as a
// `liaison serve` process of its own and is killed with SIGKILL after it
// sent a correction to the Dutch probation service. The Dutch
// acknowledgement still succeeds: it stands at the Dutch gateway, which
// closes the notice there and shows its auditors the forward pending, and
// a second one is refused. The Dutch aftercare timers try to forward it
// while the Danish gateway is away (one attempt, then a wait). The Danish
// gateway restarted on its log takes the forward and closes the notice at
// the time the probation service acknowledged it, each log naming the
// other with a receipt; the timers do not forward it again.
func TestFederatedAcknowledgementPeerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a gateway process: run it without -short, as make test does (go test ./cmd/liaison -run TestFederatedAcknowledgementPeerDown)")
	}
	var ahead atomic.Int64 // how far the Dutch gateway's clock runs ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{process: "DK", bin: buildLiaison(t), now: clock})
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	f.dk.kill(t)
	nl := f.nl.aftercare(t, "nl-probation", "insp.mulder")
	notice := ns[0].GetObligation().GetAuditIndex()
	ack := &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: notice, Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."}
	resp, err := nl.AcknowledgeNotice(t.Context(), ack)
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice with the Danish gateway down = %v, %v; want success, the forward deferred", resp, err)
	}
	es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")
	if len(es) != 2 || es[0].Outcome != audit.OutcomePending || es[1].Outcome != audit.OutcomeOK ||
		es[1].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomeDeferred || len(es[1].Reasons) != 0 {
		t.Fatalf("Dutch acknowledgements %v %v; want pending, then ok with the forward deferred", outcomes(es), details(es))
	}
	acked, at := es[1].Time, es[1].Time.UTC().Format(time.RFC3339Nano)
	if _, err := nl.AcknowledgeNotice(t.Context(), ack); errorReason(err) != "ALREADY_ACKNOWLEDGED" {
		t.Errorf("a second acknowledgement while the forward waits = %v; want ALREADY_ACKNOWLEDGED", err)
	}
	if es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder"); len(es) != 3 || es[2].Outcome != audit.OutcomeRefused {
		t.Fatalf("Dutch acknowledgements after the second %v; want it refused", outcomes(es))
	}
	listed := func(c *country) *liaisonv1.ListedNotice {
		t.Helper()
		all, err := c.aftercareAs(t, auditorAgency[c.Jurisdiction], "dpo.1", "auditor").ListObligationNotices(t.Context(),
			&liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
		if err != nil || len(all.GetNotices()) != 1 {
			t.Fatalf("%s obligation notices = %v, %v; want the correction", c.Jurisdiction, all, err)
		}
		return all.GetNotices()[0]
	}
	if n := listed(f.nl); n.GetAcknowledgementIndex() != resp.GetAuditIndex() || !n.GetAcknowledged().AsTime().Equal(acked) || !n.GetForwardPending() ||
		n.GetForwardPendingReason() != "PEER_UNAVAILABLE" {
		t.Errorf("the Dutch notice %v; want acknowledged by entry %d at %s, its forward pending, PEER_UNAVAILABLE", n, resp.GetAuditIndex(), at)
	}
	if out := f.nl.audit(t, "corrections", "-all"); !strings.Contains(out, "not forwarded to the peer gateway yet: not taken yet, tried again") {
		t.Errorf("liaison audit corrections -all at the Dutch gateway, the forward pending:\n%s", out)
	}
	if out := f.nl.audit(t, "corrections", "-forward-pending"); !strings.Contains(out, "correction") || !strings.Contains(out, "not forwarded") {
		t.Errorf("liaison audit corrections -forward-pending at the Dutch gateway:\n%s", out)
	}
	if row := forwardRows(f.nl.consoleNotices(t)); len(row) != 1 || !strings.Contains(row[0], fmt.Sprintf(`data-forward="%d"`, resp.GetAuditIndex())) ||
		!strings.Contains(row[0], "correction") || !strings.Contains(row[0], "the gateway of dk-prison-east") ||
		!strings.Contains(row[0], "not taken yet, tried again") {
		t.Errorf("the Dutch console's acknowledgements waiting for a peer gateway: %q; want the correction's, entry %d", row, resp.GetAuditIndex())
	}

	// The Dutch timers try once while the Danish gateway is away, then wait.
	if err := f.nl.gw.Server.RunAftercare(t.Context()); err == nil {
		t.Error("the Dutch timers forwarded to a killed gateway without an error")
	}
	if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
		t.Errorf("the Dutch timers, right after a failed forward: %v; want them to wait", err)
	}
	if got := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")[3:]; !slices.Equal(outcomes(got), []string{"pending", "failed"}) ||
		!slices.Contains(got[1].Reasons, "PEER_UNAVAILABLE") {
		t.Fatalf("Dutch entries of the forward while the Danish gateway is away: %v; want one attempt, pending then failed (PEER_UNAVAILABLE)", outcomes(got))
	}
	if n, oldest := f.nl.awaitingPeer(t, "obligation_notice"); n != 1 || oldest <= 0 || oldest > 3600 {
		t.Errorf("the Dutch gateway's metrics: %v obligation notices' acknowledgements awaiting the peer, the oldest for %v s; want 1", n, oldest)
	}

	// Back on its log: the next attempt, past the wait, closes the notice
	// there at the time the probation service acknowledged it.
	f.dk.start(t)
	var dk []*audit.Entry
	for wait := time.Now().Add(30 * time.Second); len(dk) == 0 && time.Now().Before(wait); time.Sleep(200 * time.Millisecond) {
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunAftercare(t.Context())
		dk = f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")
	}
	fwd := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")[3:]
	got := outcomes(fwd)
	if n := len(got); len(dk) != 1 || dk[0].Outcome != audit.OutcomeOK || n < 4 || n%2 != 0 || !slices.Equal(got[n-2:], []string{"pending", "ok"}) {
		t.Fatalf("Danish acknowledgements %v, Dutch forwards %v; want one ok, and failed attempts then pending and ok", outcomes(dk), got)
	}
	last := fwd[len(fwd)-1]
	if last.Detail[audit.DetailForwards] != strconv.FormatInt(resp.GetAuditIndex(), 10) || last.Detail[audit.DetailAcknowledgedAt] != at ||
		last.Detail[audit.DetailNotice] != strconv.FormatInt(notice, 10) || last.Justification != ack.GetNote() ||
		dk[0].Detail["peer_index"] != last.Detail["pending_index"] || dk[0].Detail[audit.DetailAcknowledgedAt] != at ||
		dk[0].Detail["via_peer"] != "nl-gateway" || dk[0].Detail[audit.DetailDone] != audit.ObligationRectify {
		t.Fatalf("Danish acknowledgement %v, Dutch forward %v; want entry %d's acknowledgement of notice %d at %s, each naming the other",
			dk[0].Detail, last.Detail, resp.GetAuditIndex(), notice, at)
	}
	dkKey, _ := note.NewVerifier(f.dk.vkey)
	if r, err := gateway.VerifyReceipt(receiptIn(t, last), dkKey, "nl-probation", nil); err != nil || r.Entry.Action != audit.ActionAcknowledgeNotice {
		t.Errorf("the Danish receipt in the Dutch log: %+v, %v", r, err)
	}
	if n := listed(f.dk); !n.GetAcknowledged().AsTime().Equal(acked) || n.GetForwardPending() {
		t.Errorf("the Danish notice %v; want acknowledged at %s", n, at)
	}
	if n := listed(f.nl); n.GetAcknowledgementIndex() != resp.GetAuditIndex() || n.GetForwardPending() {
		t.Errorf("the Dutch notice once forwarded %v; want still acknowledged by entry %d, nothing pending", n, resp.GetAuditIndex())
	}
	if out := f.nl.audit(t, "corrections", "-all"); strings.Contains(out, "not forwarded") {
		t.Errorf("liaison audit corrections -all at the Dutch gateway, once forwarded:\n%s", out)
	}
	if out := f.nl.audit(t, "corrections", "-forward-pending"); !strings.Contains(out, "No acknowledgement made here waits") {
		t.Errorf("liaison audit corrections -forward-pending at the Dutch gateway, once forwarded:\n%s", out)
	}
	if row := forwardRows(f.nl.consoleNotices(t)); len(row) != 0 {
		t.Errorf("the Dutch console's acknowledgements waiting for a peer gateway, once forwarded: %q; want none", row)
	}
	if n, _ := f.nl.awaitingPeer(t, "obligation_notice"); n != 0 {
		t.Errorf("the Dutch gateway's metrics once forwarded: %v acknowledgements awaiting the peer; want none", n)
	}
	// Forwarded once.
	ahead.Add(int64(16 * time.Minute))
	if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")); n != 3+len(fwd) {
		t.Errorf("the Dutch timers logged %d more acknowledgement entries after the forward; want none", n-3-len(fwd))
	}
}

// TestFederatedRevisedExpiry: the Danish release notice to the Dutch
// probation service rests on a basis that ends a year after release. The
// Dutch gateway tracks it to that date from its own entry; the Danish
// gateway does not track it. The release date moves, twice: each time the
// Danish prison revises the expiry at its gateway, which forwards the new
// date, and the Dutch gateway moves the expiry it tracks. Both logs hold
// both revisions, each naming the other with a receipt.
func TestFederatedRevisedExpiry(t *testing.T) {
	f := startFederation(t, nil, nil)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push)
	if err != nil {
		t.Fatal(err)
	}
	dkRelease := resp.GetResults()[0].GetAuditIndex()
	pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
	tracked := func(c *country, index int64) (audit.TrackedRelease, bool) {
		t.Helper()
		st := c.gw.store.(audit.AftercareStore)
		if err := audit.SyncAftercare(t.Context(), c.gw.Audit, st); err != nil {
			t.Fatal(err)
		}
		r, ok, err := st.TrackedRelease(t.Context(), index)
		if err != nil {
			t.Fatal(err)
		}
		return r, ok
	}
	end := resp.GetResults()[0].GetLegalBasis().GetValidUntil()
	before, ok := tracked(f.nl, pushed)
	if !ok || end == "" || before.ValidUntil != end {
		t.Fatalf("the Dutch gateway tracks its entry %d: %v, %+v; want it tracked to the end of the Danish basis (%s)", pushed, ok, before, end)
	}
	if _, ok := tracked(f.dk, dkRelease); ok {
		t.Errorf("the Danish gateway tracks its release %d to the Dutch probation service: its expiry notice would have no inbox", dkRelease)
	}
	dk := f.dk.aftercare(t, "dk-prison-east", "kf.revise")
	revise := func(release, until string) *liaisonv1.RevisedExpiry {
		t.Helper()
		attrs := proto.CloneOf(push.GetSubject())
		attrs.ReleaseDate = release
		rv, err := dk.ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{SubjectId: "SYN-DK-0001", Subject: attrs,
			Justification: "The release date moved."})
		if err != nil {
			t.Fatalf("ReviseExpiry to %s: %v", until, err)
		}
		for _, r := range rv.GetReleases() {
			if r.GetRecipient() == "nl-probation" {
				return r
			}
		}
		t.Fatalf("ReviseExpiry to %s: %v; want the release to the Dutch probation service", until, rv.GetReleases())
		return nil
	}
	// The basis covers a year from release: the release moves a week
	// later, then back by four days.
	release := push.GetSubject().GetReleaseDate()
	was := before.ValidUntil
	for _, moved := range []int{7, 3} {
		until := daysAfter(t, release, moved+365)
		r := revise(daysAfter(t, release, moved), until)
		if !r.GetMoved() || r.GetValidUntil() != until || r.GetValidUntilBefore() != was || r.GetReleaseIndex() != dkRelease {
			t.Fatalf("revision to %s: %v; want release %d moved from %s", until, r, dkRelease, was)
		}
		if got, ok := tracked(f.nl, pushed); !ok || got.ValidUntil != until {
			t.Fatalf("the Dutch gateway tracks entry %d to %s after the revision to %s", pushed, got.ValidUntil, until)
		}
		was = until
	}
	dkE, nlE := f.dk.all(t, audit.ActionReviseExpiry, "kf.revise"), f.nl.all(t, audit.ActionReviseExpiry, "kf.revise")
	if len(dkE) != 4 || dkE[0].Outcome != audit.OutcomePending || dkE[1].Outcome != audit.OutcomeOK || len(nlE) != 2 {
		t.Fatalf("Danish revisions %v, Dutch %v; want pending and ok twice, and two", outcomes(dkE), outcomes(nlE))
	}
	for i := range nlE {
		if nlE[i].Detail[audit.DetailRelease] != strconv.FormatInt(pushed, 10) || nlE[i].Detail["peer_index"] != dkE[2*i+1].Detail["pending_index"] ||
			dkE[2*i+1].Detail["peer_index"] == "" {
			t.Errorf("Dutch revision %v, Danish %v; want each naming the other, the Dutch one its entry %d", nlE[i].Detail, dkE[2*i+1].Detail, pushed)
		}
	}
	nlKey, _ := note.NewVerifier(f.nl.vkey)
	if r, err := gateway.VerifyReceipt(receiptIn(t, dkE[3]), nlKey, "nl-probation", nil); err != nil || r.Entry.Detail[audit.DetailValidUntil] != daysAfter(t, release, 3+365) {
		t.Errorf("the Dutch receipt in the Danish log: %+v, %v", r, err)
	}
}

// TestFederatedCorrectionOfAKeptRecordRestricts: the Dutch probation
// service keeps the Danish release notice under a Dutch retention rule
// since the Danish basis ended (its gateway's expiry notice said retain;
// the rule is patched to cover probation services). The Danish prison
// then corrects the notice. Its law no longer lets the service have the
// corrected one, so it sends a withdrawal instead (CORRECTION_NOT_ALLOWED,
// erase): it cannot know what the service keeps. The Dutch gateway,
// which sent the expiry notice, tells the service to keep what it holds
// only restricted, as a local holder's correction would, and the Danish
// result and final entry say restrict, so that the service's
// acknowledgement of the restriction is taken in both logs. And where
// the Danish law allows the correction but the Dutch law refuses it on
// receipt, the same.
func TestFederatedCorrectionOfAKeptRecordRestricts(t *testing.T) {
	keep := func(t *testing.T) fstest.MapFS {
		return policytest.Patched(t, "nl/nl_aftercare.rego", `"recipient_kinds": ["police"]`, `"recipient_kinds": ["police", "probation"]`)
	}
	for _, tc := range []struct {
		name    string
		refused bool // the Dutch law refuses the correction on receipt; the Danish one allows it
	}{{"RefusedByTheHolder", false}, {"RefusedOnReceipt", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			nlEngine, err := policies.Load(ctx, keep(t))
			if err != nil {
				t.Fatal(err)
			}
			var ahead atomic.Int64
			f := startFederationWith(t, fedConfig{nlEngine: nlEngine, now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
			// Released 364 days ago, probation over: the Danish basis (a
			// year after release) ends tomorrow, and no other follows.
			push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
			released, probation := time.Now().AddDate(0, 0, -364).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
			push.Subject.InCustody, push.Subject.ReleaseDate, push.Subject.ProbationUntil = false, released, probation
			push.Record.GetReleaseNotice().ReleaseDate, push.Record.GetReleaseNotice().ProbationUntil = released, probation
			if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(ctx, push); err != nil {
				t.Fatal(err)
			}
			pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
			ahead.Store(int64(3 * 24 * time.Hour))
			if err := f.nl.gw.Server.RunAftercare(ctx); err != nil {
				t.Fatal(err)
			}
			kept := int64(-1)
			for _, n := range f.nl.notices(t, "nl-probation") {
				if o := n.GetObligation(); o.GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY && o.GetObligation() == liaisonv1.Obligation_OBLIGATION_RETAIN &&
					slices.Contains(o.GetRefersTo(), pushed) {
					kept = o.GetAuditIndex()
				}
			}
			if kept < 0 {
				t.Fatalf("the Dutch probation service got no expiry notice letting it retain entry %d: %v", pushed, f.nl.notices(t, "nl-probation"))
			}
			req := &liaisonv1.CorrectRequest{Record: proto.CloneOf(push.GetRecord()), Justification: "The contact point was wrong."}
			req.Record.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, afdeling Nord"
			if tc.refused {
				// Today's dates give the Danish basis again; the Dutch law
				// no longer takes release notices for the service.
				req.Subject = proto.CloneOf(push.GetSubject())
				req.Subject.ReleaseDate = time.Now().Format(time.DateOnly)
				req.Record.GetReleaseNotice().ReleaseDate = req.Subject.ReleaseDate // the record says so too
				fsys := keep(t)
				rego := fsys["nl/nl.rego"]
				old := `"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`
				if !strings.Contains(string(rego.Data), old) {
					t.Fatal("nl/nl.rego no longer lists what the probation service receives as this test expects")
				}
				rego.Data = []byte(strings.ReplaceAll(string(rego.Data), old, `"record_types": ["risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`))
				if _, err := f.nl.gw.Server.Policy().Activate(ctx, policies.DirSource(policytest.Dir(t, fsys))); err != nil {
					t.Fatal(err)
				}
			}
			cr, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if rs := cr.GetResults(); len(rs) != 1 || rs[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL ||
				rs[0].GetObligation() != liaisonv1.Obligation_OBLIGATION_RESTRICT || !slices.Contains(rs[0].GetReasons(), "CORRECTION_NOT_ALLOWED") {
				t.Errorf("Correct results %v; want a withdrawal obliging restriction, CORRECTION_NOT_ALLOWED", rs)
			}
			var got *liaisonv1.ObligationNotice
			for _, n := range f.nl.notices(t, "nl-probation") {
				if n.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
					got = n.GetObligation()
				}
			}
			if got == nil || got.GetObligation() != liaisonv1.Obligation_OBLIGATION_RESTRICT || got.GetReason() != "CORRECTION_NOT_ALLOWED" ||
				!strings.Contains(got.GetMessage(), fmt.Sprintf("(entry %d)", kept)) {
				t.Fatalf("the Dutch withdrawal notice %v; want restrict, CORRECTION_NOT_ALLOWED, naming the expiry notice %d", got, kept)
			}
			nlE, dkE := f.nl.all(t, audit.ActionCorrect, "kf.correct"), f.dk.all(t, audit.ActionCorrect, "kf.correct")
			if len(nlE) != 1 || nlE[0].Detail[audit.DetailObligation] != audit.ObligationRestrict ||
				len(dkE) != 2 || dkE[1].Outcome != audit.OutcomeOK || dkE[1].Detail[audit.DetailObligation] != audit.ObligationRestrict {
				t.Errorf("Dutch entries %v, Danish %v; want the Dutch and the final Danish entry to say restrict", details(nlE), details(dkE))
			}
			ack, err := f.nl.aftercare(t, "nl-probation", "rn.jansen").AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
				NoticeIndex: got.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RESTRICT})
			if err != nil || ack.GetDeferred() {
				t.Fatalf("acknowledging the restriction: %v, %v; want it taken by both gateways", ack, err)
			}
			if dk := f.dk.all(t, audit.ActionAcknowledgeNotice, "rn.jansen"); len(dk) != 1 || dk[0].Outcome != audit.OutcomeOK {
				t.Errorf("Danish acknowledgement entries %v; want one, ok", outcomes(dk))
			}
		})
	}
}

// TestFederatedCorrectionOfAnErasedRecord: the Danish basis of a release
// notice to the Dutch probation service ended, and the Dutch gateway told
// the service to erase it (expiry notice, erase). The Danish prison, whose
// gateway does not track the release, then corrects the notice under a
// basis that applies again. The service holds nothing to correct, and
// the corrected record would be a fresh disclosure: the Dutch gateway
// refuses the forwarded correction (FAILED_PRECONDITION, RELEASE_ENDED,
// one refused entry) and delivers nothing; the Danish result says the
// peer refused it, with that reason.
//
// The Dutch refusal names its entry and carries the receipt of it
// (PeerRefusal), so the Danish entry is refused, PEER_REFUSED, with the
// Dutch entry named (peer_index, peer_denial verified), and the Danish
// gateway takes the release as ended. So it does for a refusal that names
// no entry and carries no receipt, as from a gateway before such
// receipts (OlderPeer: failed, PEER_REFUSED, no peer_denial).
//
// A refusal that names its entry but whose receipt is missing, does not
// verify, is of another call or comes without the index it proves is a
// claim the Dutch gateway does not prove: the Danish entry is failed,
// PEER_REFUSED and PEER_CLAIM_UNVERIFIED, peer_denial unverified, and the
// release stays open: the next correction is forwarded again, and ends
// the release once the Dutch refusal is proven. So does a RELEASE_ENDED
// under another status than FAILED_PRECONDITION. Before, each of these
// ended the release on the peer's word.
//
// Once ended, the release no longer makes the Dutch service an earlier
// recipient of a Danish Notify either, although the Danish log records
// its end as tomorrow: before, earlierRecipients kept counting it to that
// day, and routed the service a new record.
func TestFederatedCorrectionOfAnErasedRecord(t *testing.T) {
	// Each change gets the Dutch refusal's ErrorInfo and PeerRefusal
	// and says which status code the Danish gateway gets.
	stripReceipt := func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
		*pr = nil
		return codes.FailedPrecondition
	}
	for _, tc := range []struct {
		name            string
		change          func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code
		outcome, denial string
		ended           bool
	}{
		{"Proven", nil, audit.OutcomeRefused, "verified", true},
		{"OlderPeer", func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
			delete(info.Metadata, "audit_index")
			return stripReceipt(t, h, info, pr)
		}, audit.OutcomeFailed, "", true},
		{"ReceiptStripped", stripReceipt, audit.OutcomeFailed, "unverified", false},
		{"ReceiptDoesNotVerify", func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
			rc := (*pr).GetReceipt()
			rc.Statement = strings.Replace(rc.GetStatement(), "RELEASE_ENDED", "RELEASE_ENDEX", 1)
			rc.Entry = strings.Replace(rc.GetEntry(), "RELEASE_ENDED", "RELEASE_ENDEX", 1)
			return codes.FailedPrecondition
		}, audit.OutcomeFailed, "unverified", false},
		{"ReceiptOfAnotherCall", func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
			// Signed with the Dutch key, of a refused RELEASE_ENDED entry
			// at the index the status names, but of another pending entry.
			rc := h.forge(t, (*pr).GetReceipt(), func(e *audit.Entry) { e.Detail["peer_index"] = "1" }, "")
			(*pr).Receipt, info.Metadata["audit_index"] = rc, strconv.FormatInt(rc.GetIndex(), 10)
			return codes.FailedPrecondition
		}, audit.OutcomeFailed, "unverified", false},
		{"ReceiptWithoutIndex", func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
			delete(info.Metadata, "audit_index")
			return codes.FailedPrecondition
		}, audit.OutcomeFailed, "unverified", false},
		{"NotAStateRefusal", func(t *testing.T, h *hostilePeer, info *errdetails.ErrorInfo, pr **liaisonv1.PeerRefusal) codes.Code {
			delete(info.Metadata, "audit_index")
			stripReceipt(t, h, info, pr)
			return codes.InvalidArgument
		}, audit.OutcomeFailed, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) { correctErasedRecord(t, tc.change, tc.outcome, tc.denial, tc.ended) })
	}
}

func correctErasedRecord(t *testing.T, change func(*testing.T, *hostilePeer, *errdetails.ErrorInfo, **liaisonv1.PeerRefusal) codes.Code,
	outcome, denial string, ended bool) {
	ctx := t.Context()
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{hostile: "NL", now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	if change != nil {
		f.hostile.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Disclose" || status.Code(err) != codes.FailedPrecondition {
				return resp, err
			}
			st := status.Convert(err)
			var info *errdetails.ErrorInfo
			var pr *liaisonv1.PeerRefusal
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = proto.CloneOf(d)
				case *liaisonv1.PeerRefusal:
					pr = proto.CloneOf(d)
				}
			}
			if info == nil || pr == nil || info.GetMetadata()["audit_index"] == "" {
				t.Errorf("the Dutch refusal %v names no entry, or carries no receipt", st.Details())
				return resp, err
			}
			c := change(t, f.hostile, info, &pr)
			details := []protoadapt.MessageV1{info}
			if pr != nil {
				details = append(details, pr)
			}
			out, derr := status.New(c, st.Message()).WithDetails(details...)
			if derr != nil {
				t.Fatal(derr)
			}
			return nil, out.Err()
		})
	}
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	released, probation := time.Now().AddDate(0, 0, -364).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	push.Subject.InCustody, push.Subject.ReleaseDate, push.Subject.ProbationUntil = false, released, probation
	push.Record.GetReleaseNotice().ReleaseDate, push.Record.GetReleaseNotice().ProbationUntil = released, probation
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(ctx, push); err != nil {
		t.Fatal(err)
	}
	pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
	ahead.Store(int64(3 * 24 * time.Hour))
	if err := f.nl.gw.Server.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	ns := f.nl.notices(t, "nl-probation")
	if len(ns) != 1 || ns[0].GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY ||
		ns[0].GetObligation().GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE || !slices.Contains(ns[0].GetObligation().GetRefersTo(), pushed) {
		t.Fatalf("Dutch notices %v; want one expiry notice obliging erasure of entry %d", ns, pushed)
	}
	req := &liaisonv1.CorrectRequest{Record: proto.CloneOf(push.GetRecord()), Subject: proto.CloneOf(push.GetSubject()),
		Justification: "Released again today; the contact point changed."}
	req.Subject.ReleaseDate = time.Now().Format(time.DateOnly)
	req.Record.GetReleaseNotice().ReleaseDate = req.Subject.ReleaseDate // the record says so too
	req.Record.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, afdeling Nord"
	cr, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	unproven := outcome == audit.OutcomeFailed && denial == "unverified"
	wantFailure := map[bool]string{false: "PEER_REFUSED", true: "PEER_CLAIM_UNVERIFIED"}[unproven]
	if rs := cr.GetResults(); len(rs) != 1 || rs[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_UNSPECIFIED ||
		!slices.Contains(rs[0].GetReasons(), "PEER_REFUSED") || slices.Contains(rs[0].GetReasons(), "PEER_CLAIM_UNVERIFIED") != unproven ||
		rs[0].GetFailure().GetReason() != wantFailure {
		t.Errorf("Correct results %v; want the correction refused by the Dutch gateway (PEER_REFUSED; failure %s)", rs, wantFailure)
	}
	if ns := f.nl.notices(t, "nl-probation"); len(ns) != 1 {
		t.Errorf("Dutch notices %v; want the expiry notice alone", ns)
	}
	nlE := f.nl.all(t, audit.ActionCorrect, "kf.correct")
	if len(nlE) != 1 || nlE[0].Outcome != audit.OutcomeRefused || !slices.Equal(nlE[0].Reasons, []string{"RELEASE_ENDED"}) {
		t.Errorf("Dutch entries %v; want one, refused RELEASE_ENDED", reasonsOf(nlE))
	}
	dkE := f.dk.all(t, audit.ActionCorrect, "kf.correct")
	peerCode := map[bool]string{false: "FailedPrecondition", true: "InvalidArgument"}[outcome == audit.OutcomeFailed && denial == "" && !ended]
	if len(dkE) != 2 || dkE[1].Outcome != outcome || !slices.Contains(dkE[1].Reasons, "PEER_REFUSED") ||
		slices.Contains(dkE[1].Reasons, "PEER_CLAIM_UNVERIFIED") != unproven ||
		dkE[1].Detail["peer_reason"] != "RELEASE_ENDED" || dkE[1].Detail["peer_code"] != peerCode ||
		dkE[1].Detail["peer_denial"] != denial || (dkE[1].Detail["peer_index"] != "") != (denial == "verified") {
		t.Errorf("Danish entries %v (%v); want pending, then %s PEER_REFUSED (PEER_CLAIM_UNVERIFIED %v) with the Dutch reason (peer_reason RELEASE_ENDED, peer_code %s), peer_denial %q",
			reasonsOf(dkE), dkE[len(dkE)-1].Detail, outcome, unproven, peerCode, denial)
	}
	if recs, err := f.nl.gw.Audit.Query(ctx, audit.Filter{Officer: "kf.correct"}); err != nil {
		t.Fatal(err)
	} else if denial == "verified" && !slices.ContainsFunc(recs, func(r audit.Record) bool {
		return r.Entry.Action == audit.ActionCorrect && strconv.FormatInt(r.Index, 10) == dkE[1].Detail["peer_index"]
	}) {
		t.Errorf("the Danish entry names Dutch entry %q; want the Dutch refusal's", dkE[1].Detail["peer_index"])
	}
	rel, err := strconv.ParseInt(dkE[len(dkE)-1].Detail[audit.DetailRefersTo], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !ended {
		// The peer's word alone ends nothing here: the release is still
		// open to correction, and the next one is forwarded again.
		again, err := f.dk.aftercare(t, "dk-prison-east", "kf.again").Correct(ctx, req)
		if err != nil || len(again.GetResults()) != 1 || again.GetResults()[0].GetRefersTo() != rel {
			t.Fatalf("a second correction = %v, %v; want the release corrected again (refused by the Dutch gateway)", again, err)
		}
		if nlE := f.nl.all(t, audit.ActionCorrect, "kf.again"); len(nlE) != 1 || nlE[0].Outcome != audit.OutcomeRefused {
			t.Errorf("Dutch entries %v of the second correction; want one, refused RELEASE_ENDED", reasonsOf(nlE))
		}
		// Nor to a withdrawal, which is forwarded too.
		wr, err := f.dk.aftercare(t, "dk-prison-east", "kf.withdraw").Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
			Justification: "The release notice was sent in error."})
		if err != nil || len(wr.GetResults()) != 1 || wr.GetResults()[0].GetRefersTo() != rel {
			t.Fatalf("a withdrawal = %v, %v; want the release withdrawn (refused by the Dutch gateway)", wr, err)
		}
		if nlE := f.nl.all(t, audit.ActionWithdraw, "kf.withdraw"); len(nlE) != 1 || nlE[0].Outcome != audit.OutcomeRefused ||
			!slices.Equal(nlE[0].Reasons, []string{"RELEASE_ENDED"}) {
			t.Errorf("Dutch entries %v of the withdrawal; want one, refused RELEASE_ENDED", reasonsOf(nlE))
		}
		if dkE := f.dk.all(t, audit.ActionWithdraw, "kf.withdraw"); len(dkE) != 2 || dkE[1].Outcome != outcome ||
			slices.Contains(dkE[1].Reasons, "PEER_CLAIM_UNVERIFIED") != unproven {
			t.Errorf("Danish entries %v of the withdrawal; want pending, then %s (PEER_CLAIM_UNVERIFIED %v)", reasonsOf(dkE), outcome, unproven)
		}
		// Once the Dutch refusal is proven, the release has ended.
		f.hostile.setAnswer(nil)
		proven, err := f.dk.aftercare(t, "dk-prison-east", "kf.proven").Correct(ctx, req)
		if err != nil || len(proven.GetResults()) != 1 {
			t.Fatalf("a correction answered with the Dutch receipt = %v, %v", proven, err)
		}
		if dkE := f.dk.all(t, audit.ActionCorrect, "kf.proven"); len(dkE) != 2 || dkE[1].Outcome != audit.OutcomeRefused || dkE[1].Detail["peer_denial"] != "verified" {
			t.Fatalf("Danish entries %v; want pending, then refused PEER_REFUSED, peer_denial verified", reasonsOf(dkE))
		}
	}
	// The Danish gateway takes the proven Dutch word (or that of a
	// gateway before receipts): the release has ended, and the next
	// correction does not try the Dutch gateway again.
	_, err = f.dk.aftercare(t, "dk-prison-east", "kf.ended").Correct(ctx, req)
	if status.Code(err) != codes.NotFound {
		t.Errorf("a correction after the release ended = %v; want NotFound: no release open to correction", err)
	}
	if nlE := f.nl.all(t, audit.ActionCorrect, "kf.ended"); len(nlE) != 0 {
		t.Errorf("Dutch entries %v of the correction after the release ended; want none", reasonsOf(nlE))
	}
	req.Corrects = []int64{rel}
	if _, err := f.dk.aftercare(t, "dk-prison-east", "kf.named").Correct(ctx, req); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(status.Convert(err).Message(), "has ended") {
		t.Errorf("a correction naming the release = %v; want InvalidArgument on corrects[0], has ended", err)
	}
	// Notify takes it as ended too: the Dutch probation service, told to
	// erase the record, is no earlier recipient of it any more, whatever
	// end the Danish log records for the release (tomorrow, on the
	// gateways' clock put back to today).
	ahead.Store(0)
	nr, err := f.dk.client(t, "dk-prison-east", "kf.notify").Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET, Record: req.GetRecord(), Subject: req.GetSubject(),
		Purpose: push.GetPurpose(), Justification: "The release date changed."})
	for _, r := range nr.GetResults() {
		if r.GetRecipient() == "nl-probation" {
			t.Errorf("Notify after the release ended routed the Dutch probation service (%v); want it no earlier recipient", r)
		}
	}
	if err != nil && errorReason(err) != "NO_RECIPIENTS" {
		t.Errorf("Notify after the release ended = %v; want none to notify (NO_RECIPIENTS)", err)
	}
}

// reasonsOf lists entries' outcomes, reasons and peer_reason, for messages.
func reasonsOf(es []*audit.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["peer_reason"])
	}
	return out
}
