package gateway

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestForwardedExchangeAcceptedOnceWithoutSharedOnce: each receipt a
// peer gateway forwards is accepted once (PeerForward.receipt). A gateway
// built without Config.Once ("If nil, once per process") checked nothing:
// the same forwarded call, presented again, was acted on again (a push
// delivered twice, say). The second is refused on forwarded.receipt.
func TestForwardedExchangeAcceptedOnceWithoutSharedOnce(t *testing.T) {
	forwardTwice(t, time.Now)
}

// TestForwardedExchangeAcceptedOnceOnTheGatewaysClock: the same, with the
// gateway's clock (Config.Now) two days behind the wall clock. The
// process's own set remembered a claim until an expiry on the gateway's
// clock but compared it with the wall clock's: the claim had expired when
// made, and the same forwarded call was acted on again.
func TestForwardedExchangeAcceptedOnceOnTheGatewaysClock(t *testing.T) {
	forwardTwice(t, func() time.Time { return time.Now().Add(-48 * time.Hour) })
}

// forwardTwice presents one forwarded exchange twice to a gateway without
// Config.Once whose clock is now, and wants the second refused.
func forwardTwice(t *testing.T, now func() time.Time) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "audit.key"), "nl.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: key, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close(context.WithoutCancel(ctx))

	// The peer's pending entry of a forwarded request, and its receipt
	// (this log stands in for the peer's: its key is the peer's
	// checkpoint key here).
	const assertion = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	pending := &audit.Entry{
		Time: time.Now().UTC(), Action: "request", Outcome: audit.OutcomePending, Reasons: []string{"FORWARDED_TO_PEER"},
		Requester:  &audit.Requester{Agency: "nl-probation", Officer: "insp.once"},
		Holder:     &audit.Party{Agency: "dk-prison-east"},
		Recipients: []audit.Party{{Agency: "nl-probation"}},
		RecordType: "risk_assessment", Purpose: "risk_management",
		Detail: map[string]string{"phase": phaseForwarded, "assertion_sha256": assertion},
	}
	idx, err := alog.Append(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Audit: alog, Federation: Federation{Receipts: key}, Now: now}, log: slog.New(slog.DiscardHandler)}
	peer := &authn.Agency{ID: "nl-gateway", Kind: KindPeerGateway, Jurisdiction: "NL"}
	s.registry.Store(&Registry{Agencies: map[string]*Agency{"nl-gateway": {Agency: peer, CheckpointKey: vkey}}})
	rc, err := s.receipt(ctx, idx, "nl-probation", nil)
	if err != nil {
		t.Fatal(err)
	}
	pctx := context.WithValue(ctx, peerCallKey{}, peerCall{peer: peer, assertion: assertion})
	facts := forwardedFacts{actions: []string{"request"}, recipient: "nl-probation", holder: "dk-prison-east",
		recordType: "risk_assessment", purpose: "risk_management"}
	call := func(reqID string) error {
		ex := &exchange{s: s, reqID: reqID, index: -1, entry: &audit.Entry{},
			caller: authn.Caller{Agency: &authn.Agency{ID: "nl-probation", Kind: "probation", Jurisdiction: "NL"}, Officer: authn.Officer{ID: "insp.once"}}}
		_, err := s.acceptForward(pctx, ex, &liaisonv1.PeerForward{Receipt: rc}, facts)
		return err
	}
	if err := call("req-1"); err != nil {
		t.Fatalf("the first forward: %v", err)
	}
	err = call("req-2")
	var br *badRequest
	if !errors.As(err, &br) || br.field != "forwarded.receipt" {
		t.Errorf("the same forward again: %v; want INVALID_ARGUMENT on forwarded.receipt (accepted once)", err)
	}
}
