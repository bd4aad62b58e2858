package audittest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// RunAftercare exercises the [audit.AftercareStore] of the stores that
// newDB opens: leases, the projection of the log (releases whose legal
// basis ends, notices and their acknowledgements), the withdrawal of
// unread inbox items and fingerprints. Stores run it beside [Run].
func RunAftercare(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"LeaseOneHolder", testLeaseOneHolder},
		{"LeaseRaceOneWinner", testLeaseRace},
		{"ProjectionOfTheLog", testProjection},
		{"ProjectionAppliesEachRangeOnce", testProjectionRace},
		{"ProjectionOfForwards", testProjectionForwards},
		{"ProjectionOfSupersessions", testProjectionSupersessions},
		{"WithdrawUnread", testWithdrawUnread},
		{"Fingerprints", testFingerprints},
		{"FingerprintsWithTheEntry", testFingerprintsWithEntry},
		{"AcknowledgementWithTheEntry", testNoticeAckWithEntry},
		{"AcknowledgementOfASupersededNotice", testNoticeAckSuperseded},
		{"AcknowledgementAfterAPassingOn", testNoticeAckPassedOn},
		{"NoticeOfAReleaseClosedMeanwhile", testNoticeOpenHold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newDB(t))
		})
	}
}

// openAftercare opens a store and asserts that it keeps aftercare state.
func openAftercare(t *testing.T, open OpenFunc) (audit.Store, audit.AftercareStore) {
	t.Helper()
	s := openStore(t, open)
	a, ok := s.(audit.AftercareStore)
	if !ok {
		t.Fatalf("%T does not implement audit.AftercareStore", s)
	}
	return s, a
}

func testLeaseOneHolder(t *testing.T, open OpenFunc) {
	_, a := openAftercare(t, open)
	_, b := openAftercare(t, open)
	ctx := t.Context()
	acquire := func(st audit.AftercareStore, holder string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := st.AcquireLease(ctx, "timer", holder, ttl)
		if err != nil || got != want {
			t.Fatalf("AcquireLease(timer, %s) = %v, %v; want %v", holder, got, err, want)
		}
	}
	acquire(a, "replica-a", time.Minute, true)
	acquire(b, "replica-b", time.Minute, false) // held by a, from another process
	acquire(a, "replica-a", time.Minute, true)  // renewed
	if got, err := b.AcquireLease(ctx, "other-timer", "replica-b", time.Minute); err != nil || !got {
		t.Fatalf("AcquireLease(other-timer, replica-b) = %v, %v; want true: leases are per name", got, err)
	}
	if err := b.ReleaseLease(ctx, "timer", "replica-b"); err != nil {
		t.Fatalf("ReleaseLease of a lease not held = %v, want nil", err)
	}
	acquire(b, "replica-b", time.Minute, false)
	if err := a.ReleaseLease(ctx, "timer", "replica-a"); err != nil {
		t.Fatal(err)
	}
	acquire(b, "replica-b", time.Minute, true) // given up: free
	acquire(a, "replica-a", time.Minute, false)
	// b renews for a short while, which then lapses. The lease is shown
	// held above under a ttl no slow call outlasts: held for 150 ms, it was
	// found lapsed when the two calls took longer (on a loaded machine).
	acquire(b, "replica-b", 150*time.Millisecond, true)
	time.Sleep(300 * time.Millisecond)
	acquire(a, "replica-a", time.Minute, true) // b's lapsed
	acquire(b, "replica-b", time.Minute, false)
	if _, err := a.AcquireLease(ctx, "", "x", time.Minute); err == nil {
		t.Error("AcquireLease with no name = nil error")
	}
	if _, err := a.AcquireLease(ctx, "timer", "x", 0); err == nil {
		t.Error("AcquireLease with no ttl = nil error")
	}
}

func testLeaseRace(t *testing.T, open OpenFunc) {
	_, a := openAftercare(t, open)
	_, b := openAftercare(t, open)
	for round := range 5 {
		name := fmt.Sprintf("race-%d", round)
		var winners atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			st := []audit.AftercareStore{a, b}[i%2]
			wg.Go(func() {
				got, err := st.AcquireLease(t.Context(), name, fmt.Sprintf("holder-%d", i), time.Minute)
				if err != nil {
					t.Errorf("AcquireLease = %v", err)
				}
				if got {
					winners.Add(1)
				}
			})
		}
		wg.Wait()
		if n := winners.Load(); n != 1 {
			t.Fatalf("round %d: %d holders got the lease at once, want exactly 1", round, n)
		}
	}
}

// afterEntry returns a release of a record to recipient about subject.
func afterEntry(i int, action, outcome, recipient, subject, basis, validUntil string) *audit.Entry {
	e := &audit.Entry{
		Time: t0.Add(time.Duration(i) * time.Minute), Action: action, RequestID: fmt.Sprintf("req-%d", i),
		Requester: &audit.Requester{Agency: "prison-dk", Officer: "o-1"}, Holder: &audit.Party{Agency: "prison-dk"},
		Recipients: []audit.Party{{Agency: recipient}}, Subject: &audit.Subject{Pseudonym: subject},
		RecordType: "release_notice", Outcome: outcome,
	}
	if basis != "" {
		e.LegalBasis = &audit.LegalBasis{ID: basis, ValidUntil: validUntil}
	}
	return e
}

func sentNoticeEntry(i int, action, kind, recipient, subject string, refers ...int64) *audit.Entry {
	e := afterEntry(i, action, audit.OutcomeOK, recipient, subject, "", "")
	e.Detail = map[string]string{
		audit.DetailNoticeKind: kind, audit.DetailRefersTo: audit.FormatIndexes(refers),
		audit.DetailReason: "INCORRECT", audit.DetailObligation: audit.ObligationErase,
	}
	return e
}

func appendAftercareEntries(t *testing.T, s audit.Store, es ...*audit.Entry) {
	t.Helper()
	for _, e := range es {
		mustAppend(t, s, []audit.Pending{pending(t, e)})
	}
}

func testProjection(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ctx := t.Context()
	const subj = "apsn:s1"
	appendAftercareEntries(t, s,
		afterEntry(0, "disclose", "disclose", "police", subj, "b.probation", "2027-03-01"),          // 0 tracked
		afterEntry(1, "disclose", "pseudonymise", "social", subj, "b.probation", "2027-03-01"),      // 1 tracked
		afterEntry(2, "disclose", "deny", "ngo", subj, "", ""),                                      // 2 nothing left
		afterEntry(3, "disclose", "disclose", "police", subj, "b.none", ""),                         // 3 no end
		afterEntry(4, "request", "disclose", "police", "apsn:s2", "b.window", "2027-01-10"),         // 4 tracked
		sentNoticeEntry(5, audit.ActionWithdraw, audit.NoticeWithdrawal, "social", subj, 1),         // 5 closes 1
		afterEntry(6, audit.ActionReviseExpiry, audit.OutcomeOK, "police", subj, "b.probation", ""), // 6 moves 0
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatalf("SyncAftercare = %v", err)
	}
	if wm, err := a.AftercareWatermark(ctx); err != nil || wm != 7 {
		t.Fatalf("AftercareWatermark = %d, %v; want 7", wm, err)
	}
	due, err := a.DueReleases(ctx, "2027-03-02", -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := indexesOf(due); !slices.Equal(got, []int64{0, 4}) {
		t.Fatalf("DueReleases(2027-03-02) = %v, want [0 4]: 1 is withdrawn, 2 released nothing, 3 has no end", got)
	}
	if due, _ := a.DueReleases(ctx, "2027-03-02", 0, 1); !slices.Equal(indexesOf(due), []int64{4}) {
		t.Errorf("DueReleases(2027-03-02) after 0 = %v, want [4]: the next page after one that ended at 0", indexesOf(due))
	}
	if due, _ := a.DueReleases(ctx, "2027-03-01", -1, 0); !slices.Equal(indexesOf(due), []int64{4}) {
		t.Errorf("DueReleases(2027-03-01) = %v, want [4]: a basis valid until 2027-03-01 covers that day", indexesOf(due))
	}
	want := audit.TrackedRelease{Index: 0, Recipient: "police", Holder: "prison-dk", Subject: subj, LegalBasis: "b.probation",
		RecordType: "release_notice", ValidUntil: "2027-03-01", RevisedBy: -1, ClosedBy: -1}
	if got, ok, err := a.TrackedRelease(ctx, 0); err != nil || !ok || got != want {
		t.Errorf("TrackedRelease(0) = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if _, ok, err := a.TrackedRelease(ctx, 2); err != nil || ok {
		t.Errorf("TrackedRelease(2) = _, %v, %v; want not tracked", ok, err)
	}
	if r, _, _ := a.TrackedRelease(ctx, 1); r.ClosedBy != 5 {
		t.Errorf("TrackedRelease(1).ClosedBy = %d, want 5", r.ClosedBy)
	}

	// A revision moves 0; an acknowledgement closes notice 5; an expiry
	// notice closes 0 and 4.
	rev := afterEntry(7, audit.ActionReviseExpiry, audit.OutcomeOK, "police", subj, "b.probation", "2027-06-01")
	rev.Detail = map[string]string{audit.DetailRelease: "0", audit.DetailMoved: "true", audit.DetailValidUntil: "2027-06-01"}
	norev := afterEntry(8, audit.ActionReviseExpiry, audit.OutcomeOK, "police", subj, "b.probation", "2027-09-01")
	norev.Detail = map[string]string{audit.DetailRelease: "0", audit.DetailMoved: "false", audit.DetailValidUntil: "2027-09-01"}
	ack := afterEntry(9, audit.ActionAcknowledgeNotice, audit.OutcomeOK, "social", subj, "", "")
	ack.Detail = map[string]string{audit.DetailNotice: "5", audit.DetailDone: audit.ObligationErase}
	appendAftercareEntries(t, s, rev, norev, ack)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := a.TrackedRelease(ctx, 0); r.ValidUntil != "2027-06-01" || r.RevisedBy != 7 {
		t.Errorf("TrackedRelease(0) after a revision = %+v, want valid until 2027-06-01, revised by 7 (8 did not move it)", r)
	}
	if due, _ := a.DueReleases(ctx, "2027-03-02", -1, 0); !slices.Equal(indexesOf(due), []int64{4}) {
		t.Errorf("DueReleases(2027-03-02) after the revision = %v, want [4]", indexesOf(due))
	}
	if open, err := a.OpenReleases(ctx, subj, "prison-dk"); err != nil || !slices.Equal(indexesOf(open), []int64{0}) {
		t.Errorf("OpenReleases(s1, prison-dk) = %v, %v; want [0]", indexesOf(open), err)
	}
	if open, _ := a.OpenReleases(ctx, subj, "someone-else"); len(open) != 0 {
		t.Errorf("OpenReleases(s1, someone-else) = %v, want none", indexesOf(open))
	}
	ns, err := a.SentNotices(ctx, audit.SentNoticeFilter{After: -1})
	if err != nil || len(ns) != 0 {
		t.Errorf("Notices(open) = %v, %v; want none: notice 5 is acknowledged", ns, err)
	}
	ns, err = a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1})
	if err != nil || len(ns) != 1 {
		t.Fatalf("Notices(all) = %v, %v; want notice 5", ns, err)
	}
	wantN := audit.SentNotice{Index: 5, Kind: audit.NoticeWithdrawal, Recipient: "social", Holder: "prison-dk", Subject: subj,
		RecordType: "release_notice", RefersTo: []int64{1}, Reason: "INCORRECT", Obligation: audit.ObligationErase,
		Sent: t0.Add(5 * time.Minute), AckIndex: 9, AckTime: t0.Add(9 * time.Minute), Done: audit.ObligationErase, ForwardedBy: -1, SupersededBy: -1}
	if diff := cmp.Diff(wantN, ns[0]); diff != "" {
		t.Errorf("Notices()[0] mismatch (-want +got):\n%s", diff)
	}

	exp := sentNoticeEntry(10, audit.ActionExpire, audit.NoticeExpiry, "police", subj, 0, 4)
	appendAftercareEntries(t, s, exp)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if due, _ := a.DueReleases(ctx, "2099-01-01", -1, 0); len(due) != 0 {
		t.Errorf("DueReleases after the expiry notice = %v, want none", indexesOf(due))
	}
	for _, f := range []struct {
		name string
		f    audit.SentNoticeFilter
		want []int64
	}{
		{"open", audit.SentNoticeFilter{After: -1}, []int64{10}},
		{"recipient", audit.SentNoticeFilter{Recipient: "social", IncludeAcked: true, After: -1}, []int64{5}},
		{"kind", audit.SentNoticeFilter{Kind: audit.NoticeExpiry, IncludeAcked: true, After: -1}, []int64{10}},
		{"sent before", audit.SentNoticeFilter{SentBefore: t0.Add(6 * time.Minute), IncludeAcked: true, After: -1}, []int64{5}},
		{"sent before 1678", audit.SentNoticeFilter{SentBefore: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), IncludeAcked: true, After: -1}, nil},
		{"sent before 2262", audit.SentNoticeFilter{SentBefore: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), IncludeAcked: true, After: -1}, []int64{5, 10}},
		{"after", audit.SentNoticeFilter{IncludeAcked: true, After: 5}, []int64{10}},
		{"limit", audit.SentNoticeFilter{IncludeAcked: true, After: -1, Limit: 1}, []int64{5}},
		{"unswept", audit.SentNoticeFilter{IncludeAcked: true, Unswept: true, After: -1}, []int64{5, 10}},
	} {
		got, err := a.SentNotices(ctx, f.f)
		if err != nil {
			t.Fatal(err)
		}
		var idx []int64
		for _, n := range got {
			idx = append(idx, n.Index)
		}
		if !slices.Equal(idx, f.want) {
			t.Errorf("Notices(%s) = %v, want %v", f.name, idx, f.want)
		}
	}
	if err := a.MarkSwept(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, Unswept: true, After: -1}); len(got) != 1 || got[0].Index != 5 {
		t.Errorf("Notices(unswept) after MarkSwept(10) = %v, want [5]", got)
	}

	// Applying a range the watermark has passed changes nothing.
	if ok, err := a.ApplyAftercare(ctx, 0, 1, audit.AftercareChanges{Closures: []audit.Closure{{Release: 4, By: 99}}}); err != nil || ok {
		t.Errorf("ApplyAftercare(0, 1) behind the watermark = %v, %v; want false", ok, err)
	}
	// The projection is in the database, not the process.
	s2, a2 := openAftercare(t, open)
	_ = s2
	if wm, _ := a2.AftercareWatermark(ctx); wm != 11 {
		t.Errorf("AftercareWatermark from another store = %d, want 11", wm)
	}
}

// testProjectionSupersessions: a notice that refers to an earlier notice
// to the same recipient (a correction of a correction, its withdrawal)
// supersedes it unless it was acknowledged before: the earlier one is
// closed, listed only with the closed ones, SupersededBy the later one. An
// acknowledgement after the supersession still records; a notice to
// another recipient that names the same index supersedes nothing.
func testProjectionSupersessions(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ctx := t.Context()
	const subj = "apsn:s1"
	ack := func(i int, notice string) *audit.Entry {
		e := afterEntry(i, audit.ActionAcknowledgeNotice, audit.OutcomeOK, "police", subj, "", "")
		e.Detail = map[string]string{audit.DetailNotice: notice, audit.DetailDone: audit.ObligationErase}
		return e
	}
	appendAftercareEntries(t, s,
		afterEntry(0, "disclose", "disclose", "police", subj, "b.probation", "2027-03-01"),
		sentNoticeEntry(1, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 0), // corrects 0
		sentNoticeEntry(2, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 1), // supersedes 1
		ack(3, "2"), // 2 acknowledged
		sentNoticeEntry(4, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj, 2), // 2 stays acknowledged
		sentNoticeEntry(5, audit.ActionWithdraw, audit.NoticeWithdrawal, "social", subj, 4), // another recipient's: nothing
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	appendAftercareEntries(t, s, ack(6, "1")) // after its supersession, in another sync
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	open2, err := a.SentNotices(ctx, audit.SentNoticeFilter{After: -1})
	if err != nil || !slices.Equal(sentIndexes(open2), []int64{4, 5}) {
		t.Errorf("SentNotices(open) = %v, %v; want [4 5]", sentIndexes(open2), err)
	}
	all, err := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1})
	if err != nil || !slices.Equal(sentIndexes(all), []int64{1, 2, 4, 5}) {
		t.Fatalf("SentNotices(all) = %v, %v; want [1 2 4 5]", sentIndexes(all), err)
	}
	for i, want := range []struct{ sup, ack int64 }{{2, 6}, {-1, 3}, {-1, -1}, {-1, -1}} {
		if n := all[i]; n.SupersededBy != want.sup || n.AckIndex != want.ack {
			t.Errorf("notice %d: superseded by %d, acknowledged by %d; want %d, %d", n.Index, n.SupersededBy, n.AckIndex, want.sup, want.ack)
		}
	}
}

func sentIndexes(ns []audit.SentNotice) []int64 {
	var out []int64
	for _, n := range ns {
		out = append(out, n.Index)
	}
	return out
}

// testProjectionForwards: an acknowledgement deferred because the peer
// gateway a notice came through did not answer is due to be forwarded
// until an entry that forwards it (detail forwards) succeeds; a failed
// forward, one of an acknowledgement that was not deferred, and a second
// forward change nothing. An acknowledgement forwarded after the fact
// counts from the time it names, never from after its entry.
func testProjectionForwards(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ctx := t.Context()
	const subj = "apsn:s1"
	ack := func(i int, notice, outcome string, detail map[string]string) *audit.Entry {
		e := afterEntry(i, audit.ActionAcknowledgeNotice, outcome, "police", subj, "", "")
		e.Detail = map[string]string{audit.DetailNotice: notice, audit.DetailDone: audit.ObligationErase}
		maps.Copy(e.Detail, detail)
		return e
	}
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano) }
	appendAftercareEntries(t, s,
		sentNoticeEntry(0, audit.ActionCorrect, audit.NoticeCorrection, "police", subj),
		ack(1, "0", audit.OutcomeOK, map[string]string{audit.DetailPeerOutcome: audit.PeerOutcomeDeferred}),
		sentNoticeEntry(2, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj),
		ack(3, "2", audit.OutcomeOK, map[string]string{audit.DetailAcknowledgedAt: at(2)}), // forwarded to here after the fact
		sentNoticeEntry(4, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj),
		ack(5, "4", audit.OutcomeOK, map[string]string{audit.DetailAcknowledgedAt: at(6)}), // a time after its entry's
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	due := func() []int64 {
		t.Helper()
		ns, err := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, ForwardDue: true, After: -1})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, n := range ns {
			out = append(out, n.Index)
		}
		return out
	}
	if got := due(); !slices.Equal(got, []int64{0}) {
		t.Fatalf("Notices(forward due) = %v; want [0]", got)
	}
	all := func() []audit.SentNotice {
		t.Helper()
		ns, err := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1})
		if err != nil || len(ns) != 3 {
			t.Fatalf("Notices(all) = %v, %v; want 3", ns, err)
		}
		return ns
	}
	ns := all()
	if n := ns[0]; !n.ForwardDue || n.ForwardedBy != -1 || n.AckIndex != 1 || !n.AckTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("notice 0 = %+v; want acknowledged by 1 at its time, the forward due", n)
	}
	if n := ns[1]; n.ForwardDue || n.AckIndex != 3 || !n.AckTime.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("notice 2 = %+v; want acknowledged by 3 at the time it names, nothing to forward", n)
	}
	if n := ns[2]; n.AckIndex != 5 || !n.AckTime.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("notice 4 = %+v; want acknowledged by 5 at its entry's time, not the later one it names", n)
	}

	fwd := func(i int, notice, outcome, forwards string) *audit.Entry {
		return ack(i, notice, outcome, map[string]string{audit.DetailForwards: forwards, audit.DetailAcknowledgedAt: at(1)})
	}
	appendAftercareEntries(t, s,
		fwd(6, "0", audit.OutcomeFailed, "1"),
		fwd(7, "2", audit.OutcomeOK, "3"), // nothing was deferred
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if got := due(); !slices.Equal(got, []int64{0}) {
		t.Fatalf("Notices(forward due) after a failed forward = %v; want [0]", got)
	}
	appendAftercareEntries(t, s, fwd(8, "0", audit.OutcomeOK, "1"), fwd(9, "0", audit.OutcomeOK, "1"))
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if got := due(); len(got) != 0 {
		t.Fatalf("Notices(forward due) after the forward = %v; want none", got)
	}
	ns = all()
	if n := ns[0]; n.ForwardDue || n.ForwardedBy != 8 || n.AckIndex != 1 || !n.AckTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("notice 0 after the forward = %+v; want forwarded by 8, still acknowledged by 1 at its time", n)
	}
	if n := ns[1]; n.ForwardedBy != -1 || n.AckIndex != 3 {
		t.Errorf("notice 2 after a forward of what was not deferred = %+v; want no forward recorded", n)
	}
}

func indexesOf(rs []audit.TrackedRelease) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.Index)
	}
	return out
}

// testProjectionRace syncs from two stores at once while entries are
// appended: every release is projected once and the watermark ends at the
// log's size.
func testProjectionRace(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	s2, b := openAftercare(t, open)
	ctx := t.Context()
	const n = 60
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			e := afterEntry(i, "disclose", "disclose", fmt.Sprintf("r%d", i%3), "apsn:x", "b", "2027-01-01")
			mustAppend(t, []audit.Store{s, s2}[i%2], []audit.Pending{pending(t, e)})
		}
	})
	for _, st := range []struct {
		q audit.Querier
		a audit.AftercareStore
	}{{s, a}, {s2, b}} {
		wg.Go(func() {
			for range 20 {
				if err := audit.SyncAftercare(ctx, st.q, st.a); err != nil {
					t.Errorf("SyncAftercare = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if wm, _ := a.AftercareWatermark(ctx); wm != n {
		t.Fatalf("AftercareWatermark = %d, want %d", wm, n)
	}
	due, err := b.DueReleases(ctx, "2099-01-01", -1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != n {
		t.Fatalf("DueReleases = %d releases, want %d", len(due), n)
	}
	for i, r := range due {
		if r.Index != int64(i) {
			t.Fatalf("DueReleases[%d].Index = %d, want %d", i, r.Index, i)
		}
	}
}

func testWithdrawUnread(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ctx := t.Context()
	d := func(r string) audit.Delivery {
		return audit.Delivery{Recipient: r, Kind: "k", Payload: []byte("sealed")}
	}
	mustAppend(t, s, []audit.Pending{pending(t, newEntry(0), d("police"), d("social"))}) // 0
	mustAppend(t, s, []audit.Pending{pending(t, newEntry(1), d("police"))})              // 1
	mustAppend(t, s, []audit.Pending{pending(t, newEntry(2), d("police"))})              // 2
	items, _ := s.Inbox(ctx, "police", 0, 0)
	if len(items) != 3 {
		t.Fatalf("Inbox(police) = %d items, want 3", len(items))
	}
	if err := s.Ack(ctx, "police", items[1].Cursor); err != nil { // 0 and 1 read
		t.Fatal(err)
	}
	n, err := a.WithdrawUnread(ctx, "police", []int64{0, 2})
	if err != nil || n != 1 {
		t.Fatalf("WithdrawUnread(police, [0 2]) = %d, %v; want 1 (0 was read already)", n, err)
	}
	if items, _ := s.Inbox(ctx, "police", 0, 0); len(items) != 0 {
		t.Errorf("Inbox(police) after the withdrawal = %d items, want none", len(items))
	}
	if items, _ := s.Inbox(ctx, "social", 0, 0); len(items) != 1 {
		t.Errorf("Inbox(social) = %d items, want 1: another recipient's items are untouched", len(items))
	}
	if n, err := a.WithdrawUnread(ctx, "police", []int64{2}); err != nil || n != 0 {
		t.Errorf("WithdrawUnread again = %d, %v; want 0", n, err)
	}
	if n, err := a.WithdrawUnread(ctx, "police", nil); err != nil || n != 0 {
		t.Errorf("WithdrawUnread(nil) = %d, %v; want 0", n, err)
	}
}

func testFingerprints(t *testing.T, open OpenFunc) {
	_, a := openAftercare(t, open)
	ctx := t.Context()
	fp := func(b byte) [32]byte { return [32]byte{b, 1, 2, 3} }
	const subj, other = "apsn:s1", "apsn:s2"
	fps := []audit.Fingerprint{
		{Recipient: "police", Subject: subj, FP: fp(1), RequestID: "r1", After: 4},
		{Recipient: "police", Subject: subj, FP: fp(2), RequestID: "r1", After: 4},
		{Recipient: "social", Subject: subj, FP: fp(1), RequestID: "r2", After: 5},
		{Recipient: "police", Subject: other, FP: fp(4), RequestID: "r3", After: 6},
	}
	if err := a.AddFingerprints(ctx, fps); err != nil {
		t.Fatal(err)
	}
	if err := a.AddFingerprints(ctx, fps[:1]); err != nil {
		t.Fatalf("AddFingerprints of a stored one = %v, want nil", err)
	}
	// Stored already, with another After, and twice in one call: ignored.
	again := fps[0]
	again.After = 9
	if err := a.AddFingerprints(ctx, []audit.Fingerprint{again, again}); err != nil {
		t.Fatalf("AddFingerprints of a stored one with another After = %v, want nil", err)
	}
	twice := audit.Fingerprint{Recipient: "police", Subject: subj, FP: fp(5), RequestID: "r4", After: 7}
	later := twice
	later.After = 8
	if err := a.AddFingerprints(ctx, []audit.Fingerprint{twice, later}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(5)}); len(got) != 1 || got[0].After != 7 {
		t.Errorf("MatchFingerprints of a fingerprint given twice in one AddFingerprints = %v, want the first (After 7) only", got)
	}
	if err := a.AddFingerprints(ctx, []audit.Fingerprint{{Subject: subj, FP: fp(9), RequestID: "x"}}); err == nil {
		t.Error("AddFingerprints without a recipient = nil error")
	}
	if err := a.AddFingerprints(ctx, []audit.Fingerprint{{Recipient: "police", FP: fp(9), RequestID: "x"}}); err == nil {
		t.Error("AddFingerprints without a subject = nil error")
	}
	if got, _ := a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(9)}); len(got) != 0 {
		t.Errorf("MatchFingerprints(fp 9) = %v, want none: the fingerprints without a recipient or subject were not stored", got)
	}
	// Fingerprints are bound to their subject: looked for under another
	// subject, the same bytes are not found.
	if got, _ := a.MatchFingerprints(ctx, "police", other, [][32]byte{fp(1), fp(2)}); len(got) != 0 {
		t.Errorf("MatchFingerprints(police, %s) = %v, want none: those fingerprints are about %s", other, got, subj)
	}
	if got, _ := a.MatchFingerprints(ctx, "police", other, [][32]byte{fp(4)}); len(got) != 1 || got[0].RequestID != "r3" {
		t.Errorf("MatchFingerprints(police, %s) = %v, want r3's", other, got)
	}
	got, err := a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(1), fp(3), fp(4)})
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.FingerprintMatch{{FP: fp(1), RequestID: "r1", After: 4, Index: -1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MatchFingerprints(police) mismatch (-want +got):\n%s", diff)
	}
	if err := a.ConfirmFingerprints(ctx, "r1", 7); err != nil {
		t.Fatal(err)
	}
	got, _ = a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(1), fp(2)})
	want = []audit.FingerprintMatch{{FP: fp(1), RequestID: "r1", After: 4, Index: 7}, {FP: fp(2), RequestID: "r1", After: 4, Index: 7}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MatchFingerprints after ConfirmFingerprints mismatch (-want +got):\n%s", diff)
	}
	if got, _ := a.MatchFingerprints(ctx, "ngo", subj, [][32]byte{fp(1)}); len(got) != 0 {
		t.Errorf("MatchFingerprints(ngo) = %v, want none: fingerprints are per recipient", got)
	}
	if got, err := a.MatchFingerprints(ctx, "police", subj, nil); err != nil || len(got) != 0 {
		t.Errorf("MatchFingerprints(nil) = %v, %v; want none", got, err)
	}
	// HasFingerprints: per recipient and subject, as MatchFingerprints.
	for _, c := range []struct {
		recipient, subject string
		want               bool
	}{
		{"police", subj, true}, {"police", other, true}, {"social", subj, true},
		{"social", other, false}, {"ngo", subj, false}, {"police", "apsn:s3", false},
	} {
		if got, err := a.HasFingerprints(ctx, c.recipient, c.subject); err != nil || got != c.want {
			t.Errorf("HasFingerprints(%s, %s) = %v, %v; want %v", c.recipient, c.subject, got, err, c.want)
		}
	}
}

// testFingerprintsWithEntry appends entries with the fingerprints of what
// they release (Pending.Fingerprints), in one group commit and through
// AppendState, and finds them confirmed with their entries' indexes; a
// batch that fails leaves none behind.
func testFingerprintsWithEntry(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ctx := t.Context()
	fp := func(b byte) [32]byte { return [32]byte{b, 9, 8, 7} }
	const subj = "apsn:s1"
	with := func(p audit.Pending, recipient, req string, prints ...byte) audit.Pending {
		for _, b := range prints {
			p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: recipient, Subject: subj, FP: fp(b), RequestID: req})
		}
		return p
	}
	mustAppend(t, s, []audit.Pending{pending(t, newEntry(0))}) // 0: nothing released
	mustAppend(t, s, []audit.Pending{
		with(pending(t, newEntry(1)), "police", "r1", 1, 2),
		with(pending(t, newEntry(2)), "social", "r2", 1),
		with(pending(t, newEntry(3)), "police", "r3", 3, 3), // the same content twice is one
	})
	got, err := a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(1), fp(2), fp(3), fp(4)})
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.FingerprintMatch{
		{FP: fp(1), RequestID: "r1", After: 1, Index: 1},
		{FP: fp(2), RequestID: "r1", After: 1, Index: 1},
		{FP: fp(3), RequestID: "r3", After: 3, Index: 3},
	}
	less := func(a, b audit.FingerprintMatch) int { return bytes.Compare(a.FP[:], b.FP[:]) }
	slices.SortFunc(got, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MatchFingerprints(police) after a group commit mismatch (-want +got):\n%s", diff)
	}
	if got, _ := a.MatchFingerprints(ctx, "social", subj, [][32]byte{fp(1)}); len(got) != 1 || got[0].Index != 2 {
		t.Errorf("MatchFingerprints(social) = %v, want entry 2's", got)
	}

	// A batch the store refuses (an item without a leaf) stores none of
	// its fingerprints.
	bad := []audit.Pending{with(pending(t, newEntry(4)), "police", "r4", 5), {Entry: newEntry(5)}}
	if _, err := s.Append(ctx, bad); err == nil {
		t.Fatal("Append of a batch with an item without a leaf = nil error")
	}
	if got, _ := a.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(5)}); len(got) != 0 {
		t.Errorf("MatchFingerprints after a refused batch = %v, want none", got)
	}

	if ss, ok := s.(audit.StateStore); ok {
		p := with(pending(t, newEntry(4)), "ngo", "r5", 6)
		idx, err := ss.AppendState(ctx, p, audit.Change{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := a.MatchFingerprints(ctx, "ngo", subj, [][32]byte{fp(6)}); len(got) != 1 || got[0].Index != idx {
			t.Errorf("MatchFingerprints(ngo) after AppendState = %v, want entry %d's", got, idx)
		}
	}
}

// testNoticeAckWithEntry acknowledges obligation notices with the entry
// that records the acknowledgement (Change.NoticeAcks): the projection
// has it at once, as SyncAftercare would record it, and keeps it after a
// sync. Of eight acknowledgements of one notice through two stores at
// once, exactly one is appended; the others, and one of a notice the
// projection does not hold, are conflicts that append nothing.
func testNoticeAckWithEntry(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	s2, _ := openAftercare(t, open)
	ctx := t.Context()
	ss, ok := s.(audit.StateStore)
	ss2, ok2 := s2.(audit.StateStore)
	if !ok || !ok2 {
		// An aftercare store takes acknowledgements with their entries
		// (Change.NoticeAcks), so it must keep the state too.
		t.Fatalf("%T keeps no state (not an audit.StateStore): it cannot take an acknowledgement with its entry", s)
	}
	const subj = "apsn:s1"
	appendAftercareEntries(t, s,
		sentNoticeEntry(0, audit.ActionCorrect, audit.NoticeCorrection, "police", subj),
		sentNoticeEntry(1, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj),
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	ackEntry := func(i int, notice string, deferred bool) (audit.Pending, audit.Change) {
		e := afterEntry(i, audit.ActionAcknowledgeNotice, audit.OutcomeOK, "police", subj, "", "")
		e.Detail = map[string]string{audit.DetailNotice: notice, audit.DetailDone: audit.ObligationErase}
		if deferred {
			e.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomeDeferred
		}
		ack, ok := audit.AckOf(-1, e)
		if !ok {
			t.Fatalf("AckOf(acknowledgement of %s) = false", notice)
		}
		return pending(t, e), audit.Change{NoticeAcks: []audit.Ack{ack}}
	}
	size := func() int64 { return mustSize(t, s) }

	before := size()
	p, c := ackEntry(2, "5", false)
	if _, err := ss.AppendState(ctx, p, c); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(acknowledgement of a notice not projected) = %v, want ErrConflict", err)
	}
	if n := size(); n != before {
		t.Fatalf("a conflicting acknowledgement appended %d entries", n-before)
	}

	var wg sync.WaitGroup
	var won atomic.Int64
	var wins, conflicts atomic.Int32
	for g := range 8 {
		wg.Go(func() {
			p, c := ackEntry(10+g, "0", false)
			idx, err := []audit.StateStore{ss, ss2}[g%2].AppendState(ctx, p, c)
			switch {
			case err == nil:
				wins.Add(1)
				won.Store(idx)
			case errors.Is(err, audit.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("AppendState(acknowledgement %d) = %v", g, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 7 {
		t.Fatalf("8 acknowledgements of one notice at once: %d appended, %d conflicts; want 1 and 7", wins.Load(), conflicts.Load())
	}
	if n := size(); n != before+1 {
		t.Fatalf("8 acknowledgements of one notice at once appended %d entries, want 1", n-before)
	}
	p, c = ackEntry(20, "1", true)
	deferred, err := ss.AppendState(ctx, p, c)
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		ns, err := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1})
		if err != nil || len(ns) != 2 {
			t.Fatalf("%s: SentNotices = %v, %v; want 2", stage, ns, err)
		}
		leaves := mustLeaves(t, s, won.Load(), won.Load()+1)
		e, err := audit.Unmarshal(leaves[0])
		if err != nil {
			t.Fatal(err)
		}
		if n := ns[0]; n.AckIndex != won.Load() || !n.AckTime.Equal(e.Time) || n.Done != audit.ObligationErase || n.ForwardDue {
			t.Errorf("%s: notice 0 = %+v; want acknowledged by entry %d at %v", stage, n, won.Load(), e.Time)
		}
		if n := ns[1]; n.AckIndex != deferred || !n.ForwardDue {
			t.Errorf("%s: notice 1 = %+v; want acknowledged by entry %d, the forward due", stage, n, deferred)
		}
	}
	check("before a sync")
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	check("after a sync")
	p, c = ackEntry(21, "0", false)
	if _, err := ss.AppendState(ctx, p, c); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(acknowledgement of a notice acknowledged) = %v, want ErrConflict", err)
	}
}

// testNoticeAckSuperseded: an acknowledgement appended with its entry
// (Change.NoticeAcks) of a notice that a notice before it in the log
// supersedes is a *NoticeSupersededError naming that notice, and appends
// nothing, whether the projection has read the superseding notice (its
// sup_idx) or not yet (the log after the watermark), and whether it is a
// correction, a withdrawal or an expiry notice; a notice to another
// recipient that names the index supersedes nothing; with AckSuperseded
// (a peer gateway's forward) the acknowledgement is taken.
func testNoticeAckSuperseded(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ss, ok := s.(audit.StateStore)
	if !ok {
		t.Fatalf("%T keeps no state (not an audit.StateStore): it cannot take an acknowledgement with its entry", s)
	}
	ctx := t.Context()
	const subj = "apsn:s1"
	appendAftercareEntries(t, s,
		sentNoticeEntry(0, audit.ActionCorrect, audit.NoticeCorrection, "police", subj),
		sentNoticeEntry(1, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 0), // supersedes 0, projected
		sentNoticeEntry(2, audit.ActionCorrect, audit.NoticeCorrection, "police", subj),
		sentNoticeEntry(3, audit.ActionCorrect, audit.NoticeCorrection, "police", subj),
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	appendAftercareEntries(t, s,
		afterEntry(4, "disclose", "deny", "ngo", subj, "", ""),
		sentNoticeEntry(5, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj, 2), // supersedes 2, not projected
		sentNoticeEntry(6, audit.ActionWithdraw, audit.NoticeWithdrawal, "social", subj, 3), // another recipient's: nothing
	)
	ackOf := func(i int, notice int64, peer bool) (audit.Pending, audit.Change) {
		e := afterEntry(i, audit.ActionAcknowledgeNotice, audit.OutcomeOK, "police", subj, "", "")
		e.Detail = map[string]string{audit.DetailNotice: fmt.Sprint(notice), audit.DetailDone: audit.ObligationErase}
		ack, ok := audit.AckOf(-1, e)
		if !ok {
			t.Fatalf("AckOf(acknowledgement of %d) = false", notice)
		}
		return pending(t, e), audit.Change{NoticeAcks: []audit.Ack{ack}, AckSuperseded: peer}
	}
	for _, tc := range []struct {
		what       string
		notice, by int64
	}{{"superseded in the projection", 0, 1}, {"superseded in the log after the watermark", 2, 5}} {
		before := mustSize(t, s)
		p, c := ackOf(10, tc.notice, false)
		_, err := ss.AppendState(ctx, p, c)
		if se, ok := errors.AsType[*audit.NoticeSupersededError](err); !ok || !errors.Is(err, audit.ErrConflict) || se.Notice != tc.notice || se.By != tc.by {
			t.Errorf("AppendState(acknowledgement of notice %d, %s) = %v; want a NoticeSupersededError naming %d, wrapping ErrConflict",
				tc.notice, tc.what, err, tc.by)
		}
		if n := mustSize(t, s); n != before {
			t.Errorf("the refused acknowledgement of notice %d appended %d entries", tc.notice, n-before)
		}
	}
	p, c := ackOf(11, 3, false)
	if _, err := ss.AppendState(ctx, p, c); err != nil {
		t.Errorf("AppendState(acknowledgement of notice 3, named by another recipient's notice) = %v", err)
	}
	// An expiry notice of notice 1 (a correction is a release) ends it.
	expiry := mustAppend(t, s, []audit.Pending{pending(t, sentNoticeEntry(13, audit.ActionExpire, audit.NoticeExpiry, "police", subj, 1))})
	p, c = ackOf(14, 1, false)
	_, err := ss.AppendState(ctx, p, c)
	if se, ok := errors.AsType[*audit.NoticeSupersededError](err); !ok || se.By != expiry {
		t.Errorf("AppendState(acknowledgement of notice 1, ended by expiry notice %d) = %v; want a NoticeSupersededError naming it", expiry, err)
	}
	p, c = ackOf(12, 2, true)
	idx, err := ss.AppendState(ctx, p, c)
	if err != nil {
		t.Fatalf("AppendState(acknowledgement of superseded notice 2, AckSuperseded) = %v", err)
	}
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	all, err := a.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		want := map[int64]struct{ sup, ack int64 }{0: {1, -1}, 1: {expiry, -1}, 2: {5, idx}, 3: {-1, idx - 2}, 5: {-1, -1}, 6: {-1, -1}, expiry: {-1, -1}}[n.Index]
		if n.SupersededBy != want.sup || n.AckIndex != want.ack {
			t.Errorf("notice %d: superseded by %d, acknowledged by %d; want %d, %d", n.Index, n.SupersededBy, n.AckIndex, want.sup, want.ack)
		}
	}
}

// testNoticeAckPassedOn: an acknowledgement whose PassedOnHold fails (a
// release by the acknowledging agency about the subject, naming one of
// the hold's provenances, from the hold's From on) is refused with a
// *PassedOnError naming it, and nothing is appended; other entries, and
// those before From, do not count.
func testNoticeAckPassedOn(t *testing.T, open OpenFunc) {
	s, a := openAftercare(t, open)
	ss, ok := s.(audit.StateStore)
	if !ok {
		t.Fatalf("%T keeps no state (not an audit.StateStore): it cannot take an acknowledgement with its entry", s)
	}
	ctx := t.Context()
	const subj = "apsn:s1"
	onward := func(i int, outcome, holder, subject string, prov int64) *audit.Entry {
		e := afterEntry(i, "disclose", outcome, "municipality", subject, "", "")
		e.Requester, e.Holder = &audit.Requester{Agency: holder, Officer: "o-2"}, &audit.Party{Agency: holder}
		e.Provenance = &audit.Provenance{Index: prov, Holder: audit.Party{Agency: "prison-dk"}, Recipient: audit.Party{Agency: holder}}
		return e
	}
	appendAftercareEntries(t, s,
		afterEntry(0, "disclose", "disclose", "police", subj, "", ""),
		sentNoticeEntry(1, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 0),
		onward(2, "disclose", "police", subj, 0), // read by the gateway: before From
	)
	if err := audit.SyncAftercare(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	from := mustSize(t, s)
	appendAftercareEntries(t, s,
		onward(3, "disclose", "police", "apsn:s2", 0), // another subject
		onward(4, "disclose", "police", subj, 99),     // another provenance
		onward(5, "deny", "police", subj, 0),          // nothing released
		onward(6, "disclose", "social", subj, 0),      // another agency
	)
	ack := func(i int, from int64) error {
		e := afterEntry(i, audit.ActionAcknowledgeNotice, audit.OutcomeOK, "police", subj, "", "")
		e.Requester, e.Holder = &audit.Requester{Agency: "police", Officer: "o-2"}, &audit.Party{Agency: "prison-dk"}
		e.Detail = map[string]string{audit.DetailNotice: "1", audit.DetailDone: audit.ObligationRectify}
		ak, ok := audit.AckOf(-1, e)
		if !ok {
			t.Fatal("AckOf(acknowledgement of 1) = false")
		}
		before := mustSize(t, s)
		_, err := ss.AppendState(ctx, pending(t, e), audit.Change{NoticeAcks: []audit.Ack{ak},
			PassedOn: &audit.PassedOnHold{Agency: "police", Subject: subj, Provenances: []int64{0}, From: from}})
		if n := mustSize(t, s); err != nil && n != before {
			t.Errorf("the refused acknowledgement appended %d entries", n-before)
		}
		return err
	}
	passed := mustAppend(t, s, []audit.Pending{pending(t, onward(7, "disclose", "police", subj, 0))})
	err := ack(8, from)
	if pe, ok := errors.AsType[*audit.PassedOnError](err); !ok || !errors.Is(err, audit.ErrConflict) || !slices.Equal(pe.Releases, []int64{passed}) {
		t.Errorf("AppendState(acknowledgement, release %d passed on from %d) = %v; want a PassedOnError naming %d, wrapping ErrConflict", passed, from, err, passed)
	}
	if err := ack(9, passed+1); err != nil {
		t.Errorf("AppendState(acknowledgement, nothing passed on from %d) = %v", passed+1, err)
	}
}

// testNoticeOpenHold: an obligation notice whose OpenHold fails (a
// correction or withdrawal sent of one of its releases, or an expiry
// notice that obliged its erasure, from the hold's From on) is refused
// with a *ReleaseClosedError naming both, and nothing is appended; an
// expiry notice that lets the recipient retain it, a failed correction,
// and closings before From do not count.
func testNoticeOpenHold(t *testing.T, open OpenFunc) {
	s, _ := openAftercare(t, open)
	ss, ok := s.(audit.StateStore)
	if !ok {
		t.Fatalf("%T keeps no state (not an audit.StateStore)", s)
	}
	ctx := t.Context()
	const subj = "apsn:s1"
	retain := sentNoticeEntry(3, audit.ActionExpire, audit.NoticeExpiry, "police", subj, 1)
	retain.Detail[audit.DetailObligation] = audit.ObligationRetain
	failed := sentNoticeEntry(4, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 1)
	failed.Outcome = audit.OutcomeFailed
	appendAftercareEntries(t, s,
		afterEntry(0, "disclose", "disclose", "police", subj, "", ""),
		afterEntry(1, "disclose", "disclose", "police", subj, "", ""),
		sentNoticeEntry(2, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj, 0), // before From
	)
	from := mustSize(t, s)
	appendAftercareEntries(t, s, retain, failed)
	notice := func(i int, release, from int64) error {
		e := sentNoticeEntry(i, audit.ActionWithdraw, audit.NoticeWithdrawal, "police", subj, release)
		before := mustSize(t, s)
		_, err := ss.AppendState(ctx, pending(t, e), audit.Change{
			Withdrawals: []audit.Withdrawal{{Recipient: "police", Releases: []int64{release}, Time: e.Time}},
			Open:        &audit.OpenHold{Releases: []int64{release}, From: from}})
		if n := mustSize(t, s); err != nil && n != before {
			t.Errorf("the refused notice appended %d entries", n-before)
		}
		return err
	}
	if err := notice(5, 0, from); err != nil {
		t.Errorf("AppendState(withdrawal of 0, closed before %d) = %v", from, err)
	}
	if err := notice(6, 1, from); err != nil {
		t.Errorf("AppendState(withdrawal of 1, not closed) = %v", err)
	}
	c := mustAppend(t, s, []audit.Pending{pending(t, sentNoticeEntry(7, audit.ActionCorrect, audit.NoticeCorrection, "police", subj, 1))})
	ex := mustAppend(t, s, []audit.Pending{pending(t, sentNoticeEntry(8, audit.ActionExpire, audit.NoticeExpiry, "police", subj, c))})
	for _, tc := range []struct{ release, by int64 }{{1, c}, {c, ex}} {
		err := notice(9, tc.release, c)
		if ce, ok := errors.AsType[*audit.ReleaseClosedError](err); !ok || !errors.Is(err, audit.ErrConflict) || ce.Release != tc.release || ce.By != tc.by {
			t.Errorf("AppendState(withdrawal of %d, closed by %d) = %v; want a ReleaseClosedError naming both, wrapping ErrConflict", tc.release, tc.by, err)
		}
	}
}
