package main

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// readLog reads a country's whole log from its store, as an auditor
// would, after checking that the stored tree is the tree of the leaves and
// that the latest checkpoint is of that tree (checkLog).
func (c *country) readLog(t *testing.T) map[int64]*audit.Entry {
	t.Helper()
	st, err := openStore(t.Context(), c.opts.AuditDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	vkey := c.vkey
	if _, cp, err := st.LatestCheckpoint(t.Context()); err != nil {
		t.Fatal(err)
	} else if cp == nil {
		vkey = "" // a gateway killed before it signed a checkpoint: the tree alone
	}
	checkLog(t, c.opts.AuditDB, nil, vkey)
	n, err := st.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := st.ReadLeaves(t.Context(), 0, n)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]*audit.Entry{}
	for i, l := range leaves {
		if out[int64(i)], err = audit.Unmarshal(l); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// inboxIndexes returns the audit indexes of the deliveries in an
// agency's inbox, read from the country's store.
func (c *country) inboxIndexes(t *testing.T, agency string) []int64 {
	t.Helper()
	st, err := openStore(t.Context(), c.opts.AuditDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, err := st.Inbox(t.Context(), agency, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, it := range items {
		out = append(out, it.AuditIndex)
	}
	return out
}

// checkFederatedLogs checks the two logs of a federation after whatever
// happened to them: both verify, every entry of the answering gateway for
// a forwarded exchange names the forwarding gateway's pending entry of
// that very call (its assertion), every release the forwarding gateway
// logged for a Request names the answering gateway's release, and every
// delivery in the recipient's inbox is under an entry that names a
// pending entry of the holder's gateway. It returns the number of
// exchanges the answering gateway acted on.
func checkFederatedLogs(t *testing.T, fwd, ans *country, action, recipient string) int {
	t.Helper()
	fl, al := fwd.readLog(t), ans.readLog(t)
	acted := 0
	for i, e := range al {
		if e.Action != action || e.Detail["via_peer"] == "" || e.Outcome == audit.OutcomeRefused {
			continue
		}
		acted++
		p, err := strconv.ParseInt(e.Detail["peer_index"], 10, 64)
		pe := fl[p]
		if err != nil || pe == nil || pe.Outcome != audit.OutcomePending || pe.Detail["phase"] != "forwarded" ||
			pe.Detail["assertion_sha256"] != e.Detail["assertion_sha256"] {
			t.Errorf("%s entry %d (%s) names %s entry %q, which is not the pending entry of its call", ans.Jurisdiction, i, e.Outcome, fwd.Jurisdiction, e.Detail["peer_index"])
		}
	}
	if action == "request" {
		for i, e := range fl {
			if e.Action != "request" || !audit.Released(e.Outcome) || e.Detail["peer"] == "" {
				continue
			}
			p, _ := strconv.ParseInt(e.Detail["peer_index"], 10, 64)
			if pe := al[p]; pe == nil || !audit.Released(pe.Outcome) || pe.Detail["peer_index"] != e.Detail["pending_index"] {
				t.Errorf("%s release %d names %s entry %q, which is not the release of its pending entry", fwd.Jurisdiction, i, ans.Jurisdiction, e.Detail["peer_index"])
			}
		}
	}
	for _, idx := range ans.inboxIndexes(t, recipient) {
		e := al[idx]
		if e == nil || e.Detail["via_peer"] == "" || e.Detail["peer_index"] == "" || !audit.Released(e.Outcome) {
			t.Errorf("%s's inbox holds a delivery under entry %d, which is not a release naming a %s entry", recipient, idx, fwd.Jurisdiction)
		}
	}
	return acted
}

// retry calls f until it succeeds (a restarted peer is reached again
// after the connection's backoff), for at most 30 seconds.
func retry(t *testing.T, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("no success after the peer came back: %v", err)
}

// TestPeerProcessKilledDuringRequest: the Danish gateway runs as a
// `liaison serve` process of its own and is killed with SIGKILL while it
// waits for its holder. The Dutch officer gets Unavailable; the Dutch log
// holds the pending entry and the failure; the Danish log holds no
// release; both logs verify. The Danish gateway restarted on its log
// answers the same request, and the two logs still match.
func TestPeerProcessKilledDuringRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a gateway process; run without -short")
	}
	f := startFederationWith(t, fedConfig{process: "DK", bin: buildLiaison(t)})
	inFetch, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.mu.Lock()
	f.fetch = func() { once.Do(func() { close(inFetch) }); <-release }
	f.mu.Unlock()
	nlClient := f.nl.client(t, "nl-probation", "insp.kok")
	errc := make(chan error, 1)
	go func() {
		_, err := nlClient.Request(t.Context(), riskAssessmentRequest)
		errc <- err
	}()
	select {
	case <-inFetch:
	case err := <-errc:
		t.Fatalf("Request ended before the Danish holder was asked: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the Danish holder was never asked")
	}
	f.dk.kill(t)
	err := <-errc
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Request with the Danish gateway killed = %v, want Unavailable", err)
	}
	nl := f.nl.all(t, "request", "insp.kok")
	if len(nl) != 2 || nl[0].Outcome != audit.OutcomePending || nl[1].Outcome != audit.OutcomeFailed ||
		!strings.Contains(strings.Join(nl[1].Reasons, ","), "PEER_UNAVAILABLE") || nl[1].Detail["pending_index"] == "" {
		t.Fatalf("Dutch entries %v; want the pending entry and a failure with PEER_UNAVAILABLE", outcomes(nl))
	}
	for _, e := range f.dk.all(t, "request", "insp.kok") {
		if audit.Released(e.Outcome) {
			t.Errorf("the killed Danish gateway logged a release no one received")
		}
	}
	checkFederatedLogs(t, f.nl, f.dk, "request", "nl-probation")

	// Back on its log: the same request goes through, and the logs match.
	f.mu.Lock()
	f.fetch = nil
	f.mu.Unlock()
	close(release)
	f.dk.start(t)
	retry(t, func() error { _, err := nlClient.Request(t.Context(), riskAssessmentRequest); return err })
	if n := checkFederatedLogs(t, f.nl, f.dk, "request", "nl-probation"); n < 1 {
		t.Errorf("the restarted Danish gateway acted on %d forwarded requests, want at least 1", n)
	}
}

// TestPeerProcessKilledDuringDisclose: the Dutch gateway runs as a
// `liaison serve` process of its own. While the Danish gateway forwards a
// release notice, the Dutch gateway's disk stalls (this test holds its
// SQLite write lock) and the process is killed with SIGKILL. The Danish
// officer gets Unavailable; the Danish log holds the pending entry and a
// failure whose outcome at the peer is unknown; the Dutch log holds
// nothing of it and the Dutch inbox is empty; both logs verify. The Dutch
// gateway restarted on its log takes the next disclosure, and every
// delivery in the inbox names a Danish pending entry.
func TestPeerProcessKilledDuringDisclose(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a gateway process; run without -short")
	}
	f := startFederationWith(t, fedConfig{process: "NL", bin: buildLiaison(t)})
	dkClient := f.dk.client(t, "dk-prison-east", "kf.kill")

	// Stall the Dutch store: a write transaction of this test's own. The
	// gateway may be writing (the checkpoint of its first entry): wait for
	// it rather than fail at once with SQLITE_BUSY.
	db, err := sql.Open("sqlite", f.nl.opts.AuditDB+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := dkClient.Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
		errc <- err
	}()
	// Mid-exchange: the Danish pending entry is logged, the call is with
	// the Dutch gateway, which waits for its store.
	for deadline := time.Now().Add(20 * time.Second); len(f.dk.all(t, "disclose", "kf.kill")) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Danish gateway never forwarded")
		}
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("Disclose ended while the Dutch store was stalled: %v", err)
	default:
	}
	f.nl.kill(t)
	err = <-errc
	lock.ExecContext(context.WithoutCancel(t.Context()), "ROLLBACK")
	lock.Close()
	if status.Code(err) != codes.Unavailable || retryAfter(err) != 0 {
		t.Fatalf("Disclose with the Dutch gateway killed = %v, retry after %v; want Unavailable without a RetryInfo (sending again may deliver twice)", err, retryAfter(err))
	}
	dk := f.dk.all(t, "disclose", "kf.kill")
	if len(dk) != 2 || dk[0].Outcome != audit.OutcomePending || dk[1].Outcome != audit.OutcomeFailed ||
		!strings.Contains(strings.Join(dk[1].Reasons, ","), "PEER_UNAVAILABLE") || dk[1].Detail["peer_outcome"] != "unknown" {
		t.Fatalf("Danish entries %v; want the pending entry and a failure with PEER_UNAVAILABLE, outcome at the peer unknown", outcomes(dk))
	}
	if nl := f.nl.all(t, "disclose", "kf.kill"); len(nl) != 0 {
		t.Errorf("the killed Dutch gateway logged %v", outcomes(nl))
	}
	if got := f.nl.inboxIndexes(t, "nl-probation"); len(got) != 0 {
		t.Errorf("the Dutch inbox holds %v after the kill", got)
	}
	checkFederatedLogs(t, f.dk, f.nl, "disclose", "nl-probation")

	// Back on its log: the next disclosure is delivered, once, under
	// entries that match.
	f.nl.start(t)
	retry(t, func() error {
		_, err := dkClient.Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
		return err
	})
	if got := f.nl.inboxIndexes(t, "nl-probation"); len(got) != 1 {
		t.Errorf("the Dutch inbox holds %d deliveries, want the one acknowledged", len(got))
	}
	if n := checkFederatedLogs(t, f.dk, f.nl, "disclose", "nl-probation"); n < 1 {
		t.Errorf("the restarted Dutch gateway acted on %d forwarded disclosures, want at least 1", n)
	}
}
