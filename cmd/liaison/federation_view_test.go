package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The Danish gateway's receipts verify against its checkpoint key alone,
// which it holds: it could sign one history of its log for one exchange
// and another for the next. The Dutch gateway remembers the largest
// Danish checkpoint it verified and takes a receipt only if its
// checkpoint is consistent with it.

// forkRequest asks, as a Dutch officer, for the Danish risk assessment
// while the hostile Danish peer answers with the real release and its
// real entry, but in a log that forks the one shown before (fork makes
// it from the real receipt), and checks that the Dutch gateway delivers
// nothing: one failed entry, PEER_LOG_INCONSISTENT, with both signed
// checkpoints in it.
func forkRequest(t *testing.T, f *federation, officer string, fork func(rc *liaisonv1.PeerReceipt) *liaisonv1.PeerReceipt) {
	t.Helper()
	h := f.hostile
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
			r.Receipt = fork(r.Receipt)
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
	if err == nil {
		t.Fatalf("Request through a peer that forked its log = %v; want no record", resp.GetReleased().GetOutcome())
	}
	if errorReason(err) != "PEER_LOG_INCONSISTENT" {
		t.Errorf("Request: %v; want reason PEER_LOG_INCONSISTENT", err)
	}
	nl := f.nl.entries(t, officer)
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_LOG_INCONSISTENT") {
		t.Fatalf("Dutch entries %v; want one, failed PEER_LOG_INCONSISTENT", outcomes(nl))
	}
	// The evidence: the remembered checkpoint and the receipt with the
	// fork's, both signed by the Danish key.
	if _, err := audit.OpenCheckpoint([]byte(nl[0].Detail["peer_checkpoint_known"]), h.verifier); err != nil {
		t.Errorf("the failed entry's detail.peer_checkpoint_known: %v", err)
	}
	if nl[0].Detail["peer_receipt"] == "" {
		t.Error("the failed entry holds no detail.peer_receipt")
	}
}

// inconsistencies returns the Dutch gateway's
// liaison_peer_log_inconsistent_total for the Danish gateway.
func inconsistencies(t *testing.T, f *federation) float64 {
	t.Helper()
	v, _ := value(scrape(t, f.nl.gw.Telemetry.Addr), "liaison_peer_log_inconsistent_total", map[string]string{"peer": "dk-gateway"})
	return v
}

// oneEntryLog is a fork: the real entry in a log of its own.
func oneEntryLog(t *testing.T, h *hostilePeer) func(rc *liaisonv1.PeerReceipt) *liaisonv1.PeerReceipt {
	return func(rc *liaisonv1.PeerReceipt) *liaisonv1.PeerReceipt {
		return h.forgeLog(t, rc, [][]byte{[]byte(rc.GetEntry())}, 0, "")
	}
}

// TestPeerForkedLogDetected: after an honest exchange, the Danish peer
// answers the next request with its real release and entry, but in
// another history of its log: a log of that one entry, or the real log
// with an earlier entry rewritten (its own consistency proof, made over
// the rewritten log, does not hold). Each receipt verifies on its own;
// the Dutch gateway delivers neither, logs each failed
// (PEER_LOG_INCONSISTENT), tells the operator (the metric), and keeps
// taking the honest answers that follow.
func TestPeerForkedLogDetected(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	// The peer's series is there from the start, at 0, so that increase()
	// sees the first inconsistency.
	if v, found := value(scrape(t, f.nl.gw.Telemetry.Addr), "liaison_peer_log_inconsistent_total", map[string]string{"peer": "dk-gateway"}); !found || v != 0 {
		t.Errorf("liaison_peer_log_inconsistent_total{peer=dk-gateway} before any exchange: %v (found %v); want 0", v, found)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.honest").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("an honest request: %v", err)
	}
	t.Run("OneEntryLog", func(t *testing.T) {
		forkRequest(t, f, "insp.fork.one", oneEntryLog(t, h))
	})
	t.Run("RewrittenHistory", func(t *testing.T) {
		forkRequest(t, f, "insp.fork.rewritten", func(rc *liaisonv1.PeerReceipt) *liaisonv1.PeerReceipt {
			leaves := h.realLeaves(t, rc)
			e, err := audit.Unmarshal(leaves[0])
			if err != nil {
				t.Fatal(err)
			}
			e.Justification = "rewritten"
			if leaves[0], err = e.Marshal(); err != nil {
				t.Fatal(err)
			}
			return h.forgeLog(t, rc, leaves, rc.GetIndex(), "")
		})
	})
	if n := inconsistencies(t, f); n != 2 {
		t.Errorf("liaison_peer_log_inconsistent_total{peer=dk-gateway} = %v; want 2", n)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.honest.after").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Errorf("an honest request after the forks: %v", err)
	}
}

// TestPeerViewHonest: an honest Danish peer, across many exchanges, one
// after another and at once (answers that cross), never trips the check;
// an answer whose proof is lost on the way is checked with one the Dutch
// gateway asks for; and the Dutch gateway remembers the largest Danish
// checkpoint it saw, the one of the last answer.
func TestPeerViewHonest(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	var mu sync.Mutex
	var last int64
	sizes := func(strip bool) func(string, proto.Message, error) (proto.Message, error) {
		return func(method string, resp proto.Message, err error) (proto.Message, error) {
			if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
				cp, cerr := audit.OpenCheckpoint([]byte(r.GetReceipt().GetCheckpoint()), h.verifier)
				if cerr != nil {
					t.Errorf("the Danish checkpoint: %v", cerr)
				}
				mu.Lock()
				last = max(last, cp.Size)
				mu.Unlock()
				if strip {
					r.Receipt.ConsistencySize, r.Receipt.ConsistencyProof = 0, nil
				}
			}
			return resp, err
		}
	}
	h.setAnswer(sizes(false))
	for i := range 6 {
		if _, err := f.nl.client(t, "nl-probation", fmt.Sprintf("insp.seq%d", i)).Request(t.Context(), riskAssessmentRequest); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		c := f.nl.client(t, "nl-probation", fmt.Sprintf("insp.par%d", i))
		wg.Go(func() { _, errs[i] = c.Request(t.Context(), riskAssessmentRequest) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent request %d: %v", i, err)
		}
	}
	h.setAnswer(sizes(true))
	if _, err := f.nl.client(t, "nl-probation", "insp.stripped").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("a request whose answer lost its consistency proof: %v", err)
	}
	h.mu.Lock()
	asked := h.asked
	h.mu.Unlock()
	if asked == 0 {
		t.Error("the Dutch gateway did not ask the Danish one for the proof its answer lacked")
	}
	h.setAnswer(nil)
	got, err := f.nl.gw.Audit.PeerCheckpoint(t.Context(), "dk-gateway")
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != last {
		t.Errorf("the Dutch gateway remembers the Danish checkpoint of size %d; want %d, the largest it verified", got.Size, last)
	}
	if _, err := note.Open(got.Note, note.VerifierList(h.verifier)); err != nil {
		t.Errorf("the remembered checkpoint: %v", err)
	}
	if n := inconsistencies(t, f); n != 0 {
		t.Errorf("liaison_peer_log_inconsistent_total{peer=dk-gateway} = %v; want 0", n)
	}
}

// TestPeerViewSurvivesRestart: the Dutch gateway restarts after an
// honest exchange; the Danish peer then answers with a fork. The Dutch
// gateway still holds the Danish checkpoint it saw before, and refuses the
// fork as it would have before the restart.
func TestPeerViewSurvivesRestart(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	if _, err := f.nl.client(t, "nl-probation", "insp.before").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("an honest request: %v", err)
	}
	if err := f.nl.gw.Stop(); err != nil {
		t.Fatal(err)
	}
	f.nl.gw = nil
	gw, err := startGateway(t.Context(), f.nl.opts)
	if err != nil {
		t.Fatalf("restart the Dutch gateway: %v", err)
	}
	f.nl.gw = gw // stopped by startFederationWith's clean-up
	forkRequest(t, f, "insp.after.restart", oneEntryLog(t, f.hostile))
}

// TestPeerMalformedProofIsNoFork: the Danish peer answers with its real
// release, entry and checkpoint, but the consistency proof in its receipt
// is malformed (a hash cut short, or one missing): that is no proof, not
// a proof that does not hold. The Dutch gateway asks the Danish one for
// the proof, as for a receipt without one, and takes the answer; nothing
// is counted as an inconsistency. When the proof it is given on asking
// is malformed too, the exchange fails PEER_LOG_UNPROVEN (the peer gave
// no proof, not even when asked), not PEER_LOG_INCONSISTENT: the two
// signed checkpoints are not shown to be two histories. Without the fix
// each was PEER_LOG_INCONSISTENT, as a fork, and counted. A well-formed
// proof that does not hold stays PEER_LOG_INCONSISTENT
// (TestPeerForkedLogDetected, RewrittenHistory).
func TestPeerMalformedProofIsNoFork(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	if _, err := f.nl.client(t, "nl-probation", "insp.honest").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("an honest request: %v", err)
	}
	cutShort := func(p [][]byte) [][]byte {
		p = slices.Clone(p)
		p[len(p)-1] = p[len(p)-1][:len(p[len(p)-1])-1]
		return p
	}
	oneMissing := func(p [][]byte) [][]byte { return slices.Clone(p[:len(p)-1]) }
	spoil := func(receipt, asked func([][]byte) [][]byte) func(string, proto.Message, error) (proto.Message, error) {
		return func(method string, resp proto.Message, err error) (proto.Message, error) {
			switch r := resp.(type) {
			case *liaisonv1.RequestResponse:
				if len(r.GetReceipt().GetConsistencyProof()) == 0 {
					t.Errorf("the Danish receipt carries no consistency proof (size %d) to spoil", r.GetReceipt().GetConsistencySize())
					return resp, err
				}
				r.Receipt.ConsistencyProof = receipt(r.Receipt.ConsistencyProof)
			case *liaisonv1.ProveConsistencyResponse:
				if asked != nil && len(r.GetProof()) > 0 {
					r.Proof = asked(r.Proof)
				}
			}
			return resp, err
		}
	}
	askedSoFar := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.asked
	}
	for _, tc := range []struct {
		name    string
		receipt func([][]byte) [][]byte
	}{
		{"HashCutShort", cutShort},
		{"HashMissing", oneMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.setAnswer(spoil(tc.receipt, nil))
			defer h.setAnswer(nil)
			before := askedSoFar()
			if _, err := f.nl.client(t, "nl-probation", "insp."+strings.ToLower(tc.name)).Request(t.Context(), riskAssessmentRequest); err != nil {
				t.Fatalf("Request whose receipt's proof is malformed: %v; want it checked with the proof asked for", err)
			}
			if askedSoFar() == before {
				t.Error("the Dutch gateway did not ask the Danish one for a proof")
			}
		})
	}
	t.Run("MalformedEvenWhenAsked", func(t *testing.T) {
		const officer = "insp.malformed.asked"
		h.setAnswer(spoil(cutShort, cutShort))
		defer h.setAnswer(nil)
		resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
		if err == nil {
			t.Fatalf("Request = %v; want no record without a proof", resp.GetReleased().GetOutcome())
		}
		if errorReason(err) != "PEER_LOG_UNPROVEN" {
			t.Errorf("Request: %v; want reason PEER_LOG_UNPROVEN", err)
		}
		nl := f.nl.entries(t, officer)
		if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_LOG_UNPROVEN") {
			t.Fatalf("Dutch entries %v; want one, failed PEER_LOG_UNPROVEN", outcomes(nl))
		}
		if nl[0].Detail["peer_log"] != "" {
			t.Errorf("the failed entry says detail.peer_log %q; want none: no fork is shown", nl[0].Detail["peer_log"])
		}
	})
	if n := inconsistencies(t, f); n != 0 {
		t.Errorf("liaison_peer_log_inconsistent_total{peer=dk-gateway} = %v; want 0", n)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.honest.after").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Errorf("an honest request after: %v", err)
	}
}

// TestPeerProofRefusalWordsAreNotLogged: the Danish peer answers with a
// receipt that carries no consistency proof, and refuses the proof the
// Dutch gateway then asks for (Audit.ProveConsistency) with a message of
// its own making, here one that names a person. The exchange fails
// PEER_LOG_UNPROVEN, and the Dutch gateway's log lines say why without
// the peer's words: they passed into its warning ("a peer gave no
// consistency proof") and its "request failed" line as the peer wrote
// them, where every other answer of a peer is logged by its status code
// and reason code only.
func TestPeerProofRefusalWordsAreNotLogged(t *testing.T) {
	var logs lockedBuffer
	f := startFederationWith(t, fedConfig{hostile: "DK", logs: map[string]io.Writer{"NL": &logs}})
	h := f.hostile
	if _, err := f.nl.client(t, "nl-probation", "insp.honest").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("an honest request: %v", err)
	}
	const words = "SYN-DK-0099 lives at Bredgade 1"
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		switch r := resp.(type) {
		case *liaisonv1.RequestResponse:
			r.Receipt.ConsistencySize, r.Receipt.ConsistencyProof = 0, nil
		case *liaisonv1.ProveConsistencyResponse:
			return nil, status.Error(codes.FailedPrecondition, words)
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	const officer = "insp.proof.words"
	if _, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest); errorReason(err) != "PEER_LOG_UNPROVEN" {
		t.Fatalf("Request: %v; want reason PEER_LOG_UNPROVEN", err)
	}
	out := logs.String()
	if !strings.Contains(out, "a peer gave no consistency proof") {
		t.Fatalf("the Dutch gateway did not log the missing proof:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "Bredgade") || strings.Contains(l, "SYN-DK-0099") {
			t.Errorf("a Dutch log line holds the peer's words: %s", l)
		}
	}
}
