package gateway_test

import (
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// TestPseudonymOfAVersionNotLoadedYet: two replicas share one Vault
// Transit key. The key rotates in Vault; replica A refreshes its keys
// first and hands out a pseudonym of the new version, which the recipient
// brings to replica B before B's next refresh. B was refusing it
// INVALID_ARGUMENT, "made under a retired key version; ask for the record
// again": a false statement (the version is newer, not retired, and asking
// again would give the same pseudonym). It is now Unavailable,
// KEYS_UNAVAILABLE (one failed entry), as an approval or a release of such
// a pseudonym already were; once B has refreshed, it resolves.
func TestPseudonymOfAVersionNotLoadedYet(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(ctx, c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	srcB, err := vault.New(ctx, vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	b := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keySource: srcB, keyRefresh: time.Hour})
	police := b.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
	resp, err := police.Request(ctx, riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	domain := resp.GetReleased().GetPseudonymDomain()

	// liaison keys rotate; replica A loads version 2 at once.
	srcA, err := vault.New(ctx, vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := srcA.Rotate(ctx); err != nil || v != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", v, err)
	}
	a, err := pseudonym.New(ctx, pseudonym.Config{Source: srcA})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Pseudonym(domain, "SYN-NL-0001")
	if err != nil || !strings.HasPrefix(ps, "psn:2:") {
		t.Fatalf("replica A's pseudonym = %q, %v; want one of version 2", ps, err)
	}

	translate := func() error {
		_, err := police.Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.translate", Justification: "Joint case."})
		return err
	}
	reidentify := func() error {
		_, err := police.RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
		return err
	}
	for _, c := range []struct {
		name, action string
		call         func() error
	}{{"Translate", "translate", translate}, {"RequestReidentification", "reidentify", reidentify}} {
		err, e := b.one(t, c.name+" on replica B before its refresh", c.action, "failed", c.call)
		if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "KEYS_UNAVAILABLE" || strings.Contains(st.Message(), "retired") {
			t.Errorf("%s of a version-2 pseudonym on a replica holding version 1: %v (%s); want Unavailable KEYS_UNAVAILABLE", c.name, st.Message(), errorReason(st))
		}
		if !slices.Equal(e.Reasons, []string{"KEYS_UNAVAILABLE"}) {
			t.Errorf("%s: the entry's reasons %v; want KEYS_UNAVAILABLE", c.name, e.Reasons)
		}
	}
	// B refreshes: the pseudonym resolves.
	if err := b.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reidentify(); err != nil {
		t.Errorf("RequestReidentification after replica B's refresh: %v", err)
	}
}

// TestPseudonymOfARetiredVersion: a pseudonym resolves for the transition
// window after its key version's successor was made in Vault, and is then
// refused, as the README says. Translate and RequestReidentification
// refused it INVALID_ARGUMENT with no stable reason (its entry: reason
// INVALID_ARGUMENT), so that neither the caller's program nor an auditor
// could tell it from a mistyped pseudonym; the match reference, the
// approval and the release of a retired version all say
// KEY_VERSION_RETIRED. The refusal now carries that reason, beside the
// field it names (pseudonym), in the status and the refused entry.
func TestPseudonymOfARetiredVersion(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(ctx, c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	src, err := vault.New(ctx, vault.Config{Client: c, Mount: mount, TransitionWindow: time.Hour,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keySource: src, keyRefresh: time.Hour})
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
	resp, err := police.Request(ctx, riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	ps, domain := resp.GetReleased().GetSubjectPseudonym(), resp.GetReleased().GetPseudonymDomain()
	reidentify := func() error {
		_, err := police.RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
		return err
	}
	translate := func() error {
		_, err := police.Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.translate", Justification: "Joint case."})
		return err
	}
	// liaison keys rotate in Vault: within the window, version 1 resolves.
	if _, err := src.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.keys.Reload(ctx); err != nil || s.keys.CurrentVersion() != 2 {
		t.Fatalf("reload after the rotation: version %d, %v; want 2", s.keys.CurrentVersion(), err)
	}
	if err := reidentify(); err != nil {
		t.Fatalf("RequestReidentification within the transition window: %v", err)
	}
	// The window ends: version 1 retires.
	clock.Add(int64(2 * time.Hour))
	if err := s.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, action string
		call         func() error
	}{{"Translate", "translate", translate}, {"RequestReidentification", "reidentify", reidentify}} {
		err, e := s.one(t, c.name+" after version 1 retired", c.action, "refused", c.call)
		st := wantStatus(t, err, codes.InvalidArgument)
		if errorReason(st) != "KEY_VERSION_RETIRED" || !strings.Contains(st.Message(), "pseudonym") || strings.Contains(st.Message(), ps) {
			t.Errorf("%s of a retired pseudonym: %q (%s); want InvalidArgument on pseudonym, KEY_VERSION_RETIRED, not echoing it", c.name, st.Message(), errorReason(st))
		}
		if !slices.Equal(e.Reasons, []string{"KEY_VERSION_RETIRED"}) || e.Detail["field"] != "pseudonym" {
			t.Errorf("%s: the entry's reasons %v, field %q; want KEY_VERSION_RETIRED, pseudonym", c.name, e.Reasons, e.Detail["field"])
		}
	}
}

// TestMatchReferenceOfAVersionNotLoadedYet: a match reference sealed by a
// gateway that has loaded a key version newer than the one answering step
// two has (a rotation in Vault since the latter's last refresh; both on one
// Transit key, as replicas are) was refused MATCH_REFERENCE_INVALID, "not
// one this gateway issued": false, and the officer was sent to match again
// for a reference that opens a minute later. It is now Unavailable,
// KEYS_UNAVAILABLE (one failed entry), as a pseudonym of such a version
// is; once the keys are refreshed, it opens.
func TestMatchReferenceOfAVersionNotLoadedYet(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(ctx, c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	source := func() *vault.Source {
		src, err := vault.New(ctx, vault.Config{Client: c, Mount: mount})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	srcA := source()
	b := startStack(t, stackOptions{keySource: source(), keyRefresh: time.Hour})
	a := startStack(t, stackOptions{keySource: srcA, keyRefresh: time.Hour})
	if _, err := srcA.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.keys.Reload(ctx); err != nil || a.keys.CurrentVersion() != 2 || b.keys.CurrentVersion() != 1 {
		t.Fatalf("versions after the rotation: %d and %d, %v; want 2 and 1", a.keys.CurrentVersion(), b.keys.CurrentVersion(), err)
	}
	resp, err := a.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
		SubjectId: "SYN-NL-0001", Holders: []string{"nl-probation"},
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Stopped in a routine check; does any partner know this person?",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_HIT {
		t.Fatalf("Match = %v, %v; want one hit", resp, err)
	}
	step2 := func() error {
		_, err := b.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "The match showed a hit; the assessment is needed to plan the contact.", MatchReference: resp.GetResults()[0].GetReference(),
		})
		return err
	}
	err, e := b.one(t, "step two before the keys are refreshed", "request", "failed", step2)
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "KEYS_UNAVAILABLE" {
		t.Errorf("step two with a reference of version 2 on a gateway holding version 1: %v (%s); want Unavailable KEYS_UNAVAILABLE", st.Message(), errorReason(st))
	}
	if !slices.Equal(e.Reasons, []string{"KEYS_UNAVAILABLE"}) {
		t.Errorf("the entry's reasons %v; want KEYS_UNAVAILABLE", e.Reasons)
	}
	if err := b.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := step2(); err != nil {
		t.Errorf("step two after the refresh: %v", err)
	}
}

// TestReleaseOfAVersionNotLoadedYet: a re-identification made on a replica
// that has loaded a new key version (its pseudonym of that version) whose
// quorum is met on a replica that has not yet: the release there was
// recorded failed RELEASE_FAILED and the approver told
// release_pending_reason RELEASE_FAILED, as if the gateway had broken,
// while the approval's own entry said the keys were unavailable. It is now
// KEYS_UNAVAILABLE in both, as a quorum met during a key outage is; once
// that replica has refreshed its keys, a further approval call releases.
func TestReleaseOfAVersionNotLoadedYet(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(ctx, c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(ctx, vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keySource: src, keyRefresh: time.Hour})
	second := s.startGateway(t)
	if _, err := src.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.keys.Reload(ctx); err != nil || s.keys.CurrentVersion() != 2 || second.keys.CurrentVersion() != 1 {
		t.Fatalf("versions after the rotation: %d and %d, %v; want 2 and 1", s.keys.CurrentVersion(), second.keys.CurrentVersion(), err)
	}
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
	resp, err := police.Request(ctx, riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := police.RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{
		Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
	if err != nil {
		t.Fatal(err)
	}
	approve := func(addr string, o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return liaisonv1.NewExchangeClient(connAt(t, s, addr, o)).ApproveReidentification(ctx,
			&liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
	}
	if _, err := approve(s.addr, officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}); err != nil {
		t.Fatal(err)
	}
	city := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	a, err := approve(second.addr, city)
	if err != nil || a.GetReleased() || a.GetReleasePendingReason() != "KEYS_UNAVAILABLE" {
		t.Errorf("the approval meeting the quorum on the replica holding version 1 = %v, %v; want not released, KEYS_UNAVAILABLE", a, err)
	}
	_, last := s.lastEntry(t)
	if last.Detail["step"] != "release" || last.Outcome != "failed" || !slices.Equal(last.Reasons, []string{"KEYS_UNAVAILABLE"}) {
		t.Errorf("the release's entry: step %q, %s %v; want release, failed KEYS_UNAVAILABLE", last.Detail["step"], last.Outcome, last.Reasons)
	}
	if err := second.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := approve(second.addr, city); err != nil || !a.GetReleased() {
		t.Errorf("the approval call after the replica's refresh = %v, %v; want released", a, err)
	}
}
