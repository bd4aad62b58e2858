package gateway_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

var (
	riskRequest = &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Vault test.",
	}
)

func releaseNotice(s *stack) *liaisonv1.DiscloseRequest {
	rec, attrs, _ := s.fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	return &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Vault test."}
}

func TestVaultOutageFailsOnlyPseudonymisingOutcomes(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client()
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{keySource: src, keyRefresh: 100 * time.Millisecond, keyMaxStale: 2 * time.Second})
	police, prison := s.exchange(t, nlPolice), s.exchange(t, dkPrison)
	before, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatalf("pseudonymised request with Vault up: %v", err)
	}

	// Vault stops answering at the signal; the check within the bound is
	// made before its exit, which takes half a second or more (the bound
	// is 2s, and a loaded machine delays the refreshes before it too).
	srv.Interrupt()
	stopped := time.Now()
	if got, err := police.Request(t.Context(), riskRequest); err != nil || got.GetReleased().GetSubjectPseudonym() != before.GetReleased().GetSubjectPseudonym() {
		t.Fatalf("within the staleness bound: %v, %v", got, err)
	}
	srv.Stop()
	time.Sleep(3*time.Second - time.Since(stopped))
	_, err = police.Request(t.Context(), riskRequest)
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "KEYS_UNAVAILABLE" {
		t.Errorf("reason = %q, want KEYS_UNAVAILABLE", errorReason(st))
	}
	// Outcomes that need no recipient pseudonym go on.
	if resp, err := prison.Disclose(t.Context(), releaseNotice(s)); err != nil || resp.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("full disclosure during the outage: %v, %v", resp, err)
	}
	_, err = s.exchange(t, nlNGO).Request(t.Context(), riskRequest)
	wantStatus(t, err, codes.PermissionDenied)
	_, e := s.lastEntry(t)
	if e.Outcome != "deny" {
		t.Errorf("the refusal during the outage was not audited as one: %s", e.Outcome)
	}

	srv.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := police.Request(t.Context(), riskRequest)
		if err == nil {
			if got.GetReleased().GetSubjectPseudonym() != before.GetReleased().GetSubjectPseudonym() {
				t.Error("the pseudonym changed across the outage")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 10s of Vault's return: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNoVaultCallOnTheRequestPath(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	cc, calls := vaulttest.Counted(t, c)
	src, err := vault.New(t.Context(), vault.Config{Client: cc, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{keySource: src, keyRefresh: time.Hour})
	atStart := calls.Count()
	if atStart == 0 {
		t.Fatal("the counter saw no call at all: it does not count")
	}
	police, prison := s.exchange(t, nlPolice), s.exchange(t, dkPrison)
	for range 25 {
		if _, err := police.Request(t.Context(), riskRequest); err != nil {
			t.Fatal(err)
		}
		if _, err := prison.Disclose(t.Context(), releaseNotice(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Count() - atStart; got != 0 {
		t.Errorf("50 requests made %d Vault calls; want 0", got)
	}
}

// TestReidentificationQuorumDuringKeyOutage: a quorum met while Vault is
// down is not lost. The approval stands, the failed release is an entry
// naming KEYS_UNAVAILABLE, the approver is told the release is pending,
// and once Vault is back the gateway releases the identity exactly once,
// by itself (Run), without another approval.
func TestReidentificationQuorumDuringKeyOutage(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client()
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keySource: src,
		keyRefresh: 100 * time.Millisecond, keyMaxStale: time.Second, releaseRetry: 200 * time.Millisecond})
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer", "legal_officer"}, "confidential"}
	probationLO := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	cityLO := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	police, first, second := s.exchange(t, requester), s.exchange(t, probationLO), s.exchange(t, cityLO)
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{
		Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
	if err != nil {
		t.Fatal(err)
	}
	approve := func(ex liaisonv1.ExchangeClient) (*liaisonv1.ApproveReidentificationResponse, error) {
		return ex.ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked the basis."})
	}
	if a, err := approve(first); err != nil || a.GetReleased() {
		t.Fatalf("first approval = %v, %v", a, err)
	}
	// Both approvers' tokens are cached, so the outage touches only keys.
	if _, err := second.ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	time.Sleep(1500 * time.Millisecond)
	a, err := approve(second)
	if err != nil {
		t.Fatalf("the approval that meets the quorum during the outage: %v", err)
	}
	if a.GetReleased() || a.GetReleasePendingReason() != "KEYS_UNAVAILABLE" || a.GetApprovals() != 2 {
		t.Fatalf("approval during the outage = %v; want approvals 2, not released, pending on KEYS_UNAVAILABLE", a)
	}
	// The approver's words could not be checked for the identity: the
	// entry says so instead of holding them.
	if e := s.entry(t, a.GetAuditIndex()); e.Outcome != "ok" || e.Detail["step"] != "approve" ||
		e.Detail["justification_withheld"] != "KEYS_UNAVAILABLE" || strings.Contains(e.Justification, "Checked the basis") {
		t.Errorf("approval entry = %s %v %q", e.Outcome, e.Detail, e.Justification)
	}
	releases := func() (ok, failed int) {
		n, _ := s.store.Size(t.Context())
		for i := range n {
			e := s.entry(t, i)
			if e.Action != "reidentify" || e.Detail["step"] != "release" || e.Detail["reid_request"] != rr.GetRequestId() {
				continue
			}
			switch {
			case e.Outcome == "disclose":
				ok++
			case e.Outcome == "failed" && slices.Contains(e.Reasons, "KEYS_UNAVAILABLE") && len(e.FieldsDisclosed) == 0:
				failed++
			default:
				t.Errorf("release entry %d: %s %v", i, e.Outcome, e.Reasons)
			}
		}
		return ok, failed
	}
	if ok, failed := releases(); ok != 0 || failed == 0 {
		t.Fatalf("release entries during the outage: %d released, %d failed; want 0 and at least 1", ok, failed)
	}
	if got := inbox(t, police); len(got) != 0 {
		t.Fatalf("the requester got %d identities during the outage", len(got))
	}

	srv.Resume()
	eventually(t, "the identity is released once Vault is back", func() bool { ok, _ := releases(); return ok > 0 })
	got := inbox(t, police)
	if len(got) != 1 || got[0].GetReidentified().GetSubjectId() != "SYN-NL-0001" {
		t.Fatalf("requester's inbox after recovery = %v", got)
	}
	// An approver asking again now learns it is released; nothing more is.
	_, err = approve(second)
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "ALREADY_RELEASED" {
		t.Errorf("approval after the release: reason %q, want ALREADY_RELEASED", errorReason(st))
	}
	time.Sleep(500 * time.Millisecond) // a few more Run ticks
	if ok, _ := releases(); ok != 1 {
		t.Errorf("%d release entries, want exactly 1", ok)
	}
}

// TestInboxOutlivesKeyRetirement: an inbox item stays readable for as long
// as the inbox keeps it, whatever happens to the pseudonym keys meanwhile.
// A release notice delivered while version 1 was current is read after
// version 1 was rotated out and retired (its transition window over), and
// so is one delivered after; an item altered in the store is still
// refused, its ciphertext or its key version (DataLoss naming its cursor,
// after which the agency reads on), and opens again once put back.
func TestInboxOutlivesKeyRetirement(t *testing.T) {
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
	s := startStack(t, stackOptions{keySource: src, keyRefresh: time.Hour})
	prison, police := s.exchange(t, dkPrison), s.exchange(t, dkPolice)
	if v := s.keys.CurrentVersion(); v != 1 {
		t.Fatalf("current key version %d at start; want 1", v)
	}
	if _, err := prison.Disclose(ctx, releaseNotice(s)); err != nil {
		t.Fatal(err)
	}
	if got := inboxItems(t, police); len(got) != 1 || got[0].GetReleased() == nil {
		t.Fatalf("inbox before the rotation: %v", got)
	}

	// liaison keys rotate, then the transition window ends: version 1 is
	// retired from the ring.
	if v, err := src.Rotate(ctx); err != nil || v != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", v, err)
	}
	if err := s.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(2 * time.Hour))
	if err := s.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.keys.PseudonymAt(1, "case/x", "SYN-DK-0001"); err == nil {
		t.Fatal("version 1 still resolves after its transition window: not retired")
	}

	got := inboxItems(t, police) // fails the test on an error
	if len(got) != 1 || got[0].GetReleased().GetRecord() == nil || got[0].GetSender() != "dk-prison-east" {
		t.Fatalf("inbox after version 1 was retired: %v; want the release notice", got)
	}
	if _, err := prison.Disclose(ctx, releaseNotice(s)); err != nil {
		t.Fatal(err)
	}
	if got = inboxItems(t, police); len(got) != 2 {
		t.Fatalf("inbox after a delivery under version 2: %d items, want 2", len(got))
	}

	db, err := sql.Open("sqlite", s.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cursor := got[0].GetCursor()
	var orig []byte
	if err := db.QueryRow("SELECT payload FROM inbox WHERE cursor = ?", cursor).Scan(&orig); err != nil {
		t.Fatal(err)
	}
	put := func(p []byte) {
		t.Helper()
		if _, err := db.Exec("UPDATE inbox SET payload = ? WHERE cursor = ?", p, cursor); err != nil {
			t.Fatal(err)
		}
	}
	for name, alter := range map[string]func(b []byte){
		"a ciphertext byte flipped":      func(b []byte) { b[len(b)/2] ^= 1 },
		"the tag's last byte flipped":    func(b []byte) { b[len(b)-1] ^= 0x80 },
		"the key version set to current": func(b []byte) { binary.BigEndian.PutUint32(b, 2) },
		"the key version set to retired": func(b []byte) { binary.BigEndian.PutUint32(b, 1) },
	} {
		bad := bytes.Clone(orig)
		alter(bad)
		put(bad)
		st, err := police.Subscribe(ctx, &liaisonv1.SubscribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.Recv()
		if err == nil {
			t.Errorf("%s: Subscribe delivered %v", name, m)
		} else if info := errorInfo(err); status.Code(err) != codes.DataLoss || info.GetReason() != "INBOX_ITEM_UNREADABLE" ||
			info.GetMetadata()["cursor"] != strconv.FormatInt(cursor, 10) || !strings.Contains(err.Error(), fmt.Sprintf("after=%d", cursor)) {
			t.Errorf("%s: Subscribe = %v (%v); want DataLoss INBOX_ITEM_UNREADABLE naming cursor %d", name, err, info, cursor)
		}
		// The agency reads on after it: the later item is not held back.
		st, err = police.Subscribe(ctx, &liaisonv1.SubscribeRequest{After: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := st.Recv(); err != nil || m.GetCursor() != got[1].GetCursor() {
			t.Errorf("%s: Subscribe after the unreadable item = %v, %v; want item %d", name, m, err, got[1].GetCursor())
		}
		put(orig)
		if got := inboxItems(t, police); len(got) != 2 {
			t.Fatalf("%s: inbox once put back: %d items, want 2", name, len(got))
		}
	}
}

// TestReidentificationOfARetiredPseudonymEnds: a pseudonym's key version
// that retires while its re-identification waits for approval never
// resolves again. The release is then refused once, KEY_VERSION_RETIRED,
// and the request has ended: the approver is told why, the gateway does
// not try again every ReleaseRetry (an entry each time, until the
// request's window closes), and a further approval is refused with that
// reason.
func TestReidentificationOfARetiredPseudonymEnds(t *testing.T) {
	ctx := t.Context()
	path := t.TempDir() + "/keys.json"
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	src := pseudonym.FileKeys{Path: path, TransitionWindow: time.Hour, Now: func() time.Time { return time.Unix(0, clock.Load()) }}
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keySource: src, keyRefresh: time.Hour,
		releaseRetry: 50 * time.Millisecond})
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"}
	police := s.exchange(t, requester)
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
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
	}
	if _, err := approve(officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}); err != nil {
		t.Fatal(err)
	}
	// liaison keys rotate, and version 1's transition window ends.
	if _, err := pseudonym.RotateKeyFile(path, time.Unix(0, clock.Load())); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(2 * time.Hour))
	if err := s.keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	city := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	a, err := approve(city)
	if err != nil || a.GetReleased() || a.GetApprovals() != 2 || a.GetReleasePendingReason() != "KEY_VERSION_RETIRED" {
		t.Errorf("the approval meeting the quorum after version 1 retired = %v, %v; want 2 approvals, not released, KEY_VERSION_RETIRED", a, err)
	}
	time.Sleep(500 * time.Millisecond) // several ReleaseRetry ticks
	var releases []*audit.Entry
	n, _ := s.store.Size(ctx)
	for i := range n {
		if e := s.entry(t, i); e.Action == "reidentify" && e.Detail["step"] == "release" {
			releases = append(releases, e)
		}
	}
	if len(releases) != 1 || releases[0].Outcome != "refused" || !slices.Equal(releases[0].Reasons, []string{"KEY_VERSION_RETIRED"}) {
		for _, e := range releases {
			t.Logf("release entry: %s %v", e.Outcome, e.Reasons)
		}
		t.Errorf("%d release entries; want one, refused KEY_VERSION_RETIRED", len(releases))
	}
	_, err = approve(officer{"nl-municipality-rotterdam", "lo.jong", []string{"legal_officer"}, "confidential"})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || errorReason(st) != "KEY_VERSION_RETIRED" {
		t.Errorf("an approval after the request ended = %v; want PermissionDenied KEY_VERSION_RETIRED", err)
	}
	if got := inbox(t, police); len(got) != 0 {
		t.Errorf("the requester got %v", got)
	}
}
