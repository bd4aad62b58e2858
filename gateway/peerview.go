package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// One view of each peer's log. A peer gateway's receipts verify against
// its checkpoint key alone, and a peer holds that key: it could sign one
// history of its log for one exchange and another for the next (a split
// view), and each receipt would verify. So the gateway remembers, per
// peer and durably in its store (audit.PeerCheckpointStore), the largest
// checkpoint of the peer's log it has verified, and takes a receipt of an
// answer only if its checkpoint is consistent with that one: of the same
// size, the same root; of another size, proven by a consistency proof
// between the two trees. The proof travels with the receipt: the
// forwarding gateway names the size it remembers (PeerForward.
// known_tree_size) and the answering gateway proves its checkpoint
// against it (PeerReceipt.consistency_size and consistency_proof). Only
// when exchanges with one peer crossed (the remembered checkpoint moved on
// while an answer was on its way) does the gateway ask the peer for a
// proof (Audit.ProveConsistency, with the exchange's assertion). The first
// checkpoint of a peer is taken on trust.

// peerViews holds, per peer, the lock that serialises the check and the
// advance of its remembered checkpoint within the process (replicas
// advance it with a compare-and-set in the store), and that checkpoint
// once read.
type peerViews struct {
	mu    sync.Mutex
	peers map[string]*peerView
}

type peerView struct {
	mu     sync.Mutex
	loaded bool
	cp     audit.PeerCheckpoint // Size 0: none yet
}

func (v *peerViews) of(peer string) *peerView {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.peers == nil {
		v.peers = map[string]*peerView{}
	}
	pv := v.peers[peer]
	if pv == nil {
		pv = &peerView{}
		v.peers[peer] = pv
	}
	return pv
}

// reload reads the peer's remembered checkpoint from the store. pv.mu is
// held.
func (pv *peerView) reload(ctx context.Context, l *audit.Log, peer string) error {
	cp, err := l.PeerCheckpoint(ctx, peer)
	if err != nil {
		return err
	}
	pv.cp, pv.loaded = cp, true
	return nil
}

// knownPeerSize is the size of the peer's checkpoint this gateway
// remembers, for PeerForward.known_tree_size: 0 if none, or if it cannot
// be read now (the answer then carries no proof, and is checked when it
// comes).
func (s *Server) knownPeerSize(ctx context.Context, peer string) int64 {
	pv := s.views.of(peer)
	pv.mu.Lock()
	defer pv.mu.Unlock()
	if !pv.loaded {
		if err := pv.reload(ctx, s.cfg.Audit, peer); err != nil {
			return 0
		}
	}
	return pv.cp.Size
}

// withConsistency adds to each receipt of an answer to a peer's call the
// consistency proof between its checkpoint and the tree of the size the
// peer remembers (PeerForward.known_tree_size), when they differ and this
// log holds that size. A receipt it cannot prove goes without: the peer
// then asks (Audit.ProveConsistency).
func (s *Server) withConsistency(ctx context.Context, req any, resp any) {
	f, ok := req.(interface{ GetForwarded() *liaisonv1.PeerForward })
	if !ok {
		return
	}
	known := f.GetForwarded().GetKnownTreeSize()
	if known <= 0 {
		return
	}
	var rcs []*liaisonv1.PeerReceipt
	switch r := resp.(type) {
	case *liaisonv1.RequestResponse:
		rcs = append(rcs, r.GetReceipt())
	case *liaisonv1.DiscloseResponse:
		for _, res := range r.GetResults() {
			rcs = append(rcs, res.GetReceipt())
		}
	case *liaisonv1.AcknowledgeResponse:
		rcs = append(rcs, r.GetReceipt())
	case *liaisonv1.AcknowledgeNoticeResponse:
		rcs = append(rcs, r.GetReceipt())
	case *liaisonv1.ReviseExpiryResponse:
		for _, res := range r.GetReleases() {
			rcs = append(rcs, res.GetReceipt())
		}
	}
	for _, rc := range rcs {
		s.proveConsistency(ctx, known, rc)
	}
}

// proveConsistency adds to rc, a receipt for a peer that remembers this
// log at size known, the consistency proof between that size and rc's
// checkpoint, when they differ and this log holds that size.
func (s *Server) proveConsistency(ctx context.Context, known int64, rc *liaisonv1.PeerReceipt) {
	if rc == nil || known <= 0 {
		return
	}
	text, _, _ := strings.Cut(rc.GetCheckpoint(), "\n\n")
	cp, err := audit.ParseCheckpoint(text + "\n")
	if err != nil || cp.Size == known {
		return
	}
	proof, err := s.cfg.Audit.ConsistencyProof(ctx, min(known, cp.Size), max(known, cp.Size))
	if err != nil {
		s.log.WarnContext(ctx, "no consistency proof for a peer's receipt; the peer asks for one if it needs it",
			"known_tree_size", known, "tree_size", cp.Size, "error", err)
		return
	}
	rc.ConsistencySize, rc.ConsistencyProof = known, hashBytes(proof)
}

// errPeerLog marks an answer whose checkpoint could not be checked
// against the remembered one; checkPeerView wraps it in failures.
var errPeerLog = errors.New("gateway: the peer's log")

// checkPeerView checks that the checkpoint of a peer's verified receipt
// (got, from rc) is consistent with the checkpoint of the peer's log this
// gateway remembers, and remembers it if it is larger. An inconsistent
// one fails the exchange PEER_LOG_INCONSISTENT (logged as an error and
// counted); one the peer does not prove, PEER_LOG_UNPROVEN. The entry
// records the remembered checkpoint it was held against
// (detail.peer_checkpoint_known), so that a failed entry holds both
// signed checkpoints: the evidence.
func (s *Server) checkPeerView(ctx context.Context, ex *exchange, peer *Agency, rc *liaisonv1.PeerReceipt, got Receipt) error {
	pv := s.views.of(peer.ID)
	pv.mu.Lock()
	defer pv.mu.Unlock()
	if !pv.loaded {
		if err := pv.reload(ctx, s.cfg.Audit, peer.ID); err != nil {
			return err
		}
	}
	cp := audit.PeerCheckpoint{Size: got.TreeSize, Hash: got.TreeHash, Note: []byte(rc.GetCheckpoint())}
	// A few rounds: another replica may advance the checkpoint between
	// this one's read and its write.
	for range 4 {
		known := pv.cp
		switch {
		case known.Size == 0:
			// The first checkpoint of this peer: taken on trust.
		case cp.Size == known.Size:
			if cp.Hash != known.Hash {
				return s.peerInconsistent(ctx, ex, peer, known, cp, "another root hash for the same tree size")
			}
			return nil
		default:
			older, newer := known, cp
			if cp.Size < known.Size {
				older, newer = cp, known
			}
			// The receipt's proof, if it is one between the two trees: a
			// proof to another size (answers that crossed), none, or one
			// malformed (not the shape of a proof between these sizes)
			// proves nothing either way, and the peer is asked for one.
			err := errNoProof
			var proof tlog.TreeProof
			if rc.GetConsistencySize() == known.Size {
				proof, err = treeProof(rc.GetConsistencyProof(), older.Size, newer.Size)
			}
			if err != nil {
				proof, err = s.askConsistency(ex, older.Size, newer.Size)
			}
			if err != nil {
				s.log.WarnContext(ctx, "a peer gave no consistency proof of its checkpoint", "peer", peer.ID,
					"known_tree_size", known.Size, "tree_size", cp.Size, "error", err)
				return failed("PEER_LOG_UNPROVEN", fmt.Errorf("%w: no proof that its checkpoint of size %d extends or is a prefix of the one of size %d remembered here: %v",
					errPeerLog, cp.Size, known.Size, err))
			}
			// A proof of the right shape that does not connect the two
			// signed roots is what a log that forked computes from its
			// own tree (the remembered root is not its root at that
			// size); a log that is one history always has one that does.
			if err := tlog.CheckTree(proof, newer.Size, newer.Hash, older.Size, older.Hash); err != nil {
				return s.peerInconsistent(ctx, ex, peer, known, cp, "no valid consistency proof between them")
			}
			if cp.Size < known.Size {
				return nil // a prefix of what is remembered: an answer that crossed a later one
			}
		}
		ok, err := s.cfg.Audit.AdvancePeerCheckpoint(ctx, peer.ID, known.Size, cp)
		if err != nil {
			return err
		}
		if ok {
			pv.cp = cp
			return nil
		}
		if err := pv.reload(ctx, s.cfg.Audit, peer.ID); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: the checkpoint of peer %s kept moving", audit.ErrUnavailable, peer.ID)
}

// peerInconsistent fails an exchange whose peer showed a checkpoint
// inconsistent with the one remembered, and tells the operator.
func (s *Server) peerInconsistent(ctx context.Context, ex *exchange, peer *Agency, known, got audit.PeerCheckpoint, why string) error {
	s.tel.peerLogInconsistent(peer.ID)
	s.log.ErrorContext(ctx, "PEER LOG INCONSISTENT: a peer gateway shows two histories of its log; nothing it answered is delivered; keep the failed entry as evidence",
		"peer", peer.ID, "request_id", ex.reqID, "known_tree_size", known.Size, "known_root", base64.StdEncoding.EncodeToString(known.Hash[:]),
		"tree_size", got.Size, "root", base64.StdEncoding.EncodeToString(got.Hash[:]), "why", why)
	ex.detail()["peer_log"] = "inconsistent"
	ex.entry.Detail["peer_checkpoint_known"] = string(known.Note) // beside the receipt's (detail.peer_receipt)
	return failed("PEER_LOG_INCONSISTENT", fmt.Errorf("%w is not one history: its checkpoint of size %d and the one of size %d remembered here: %s",
		errPeerLog, got.Size, known.Size, why))
}

// askConsistency asks the peer of the exchange for the consistency proof
// between its trees of sizes old and new, over the exchange's connection
// and with its assertion.
func (s *Server) askConsistency(ex *exchange, old, new int64) (tlog.TreeProof, error) {
	if ex.peerConn == nil || ex.peerCtx == nil {
		return nil, errors.New("no connection to the peer")
	}
	resp, err := liaisonv1.NewAuditClient(ex.peerConn).ProveConsistency(ex.peerCtx, &liaisonv1.ProveConsistencyRequest{OldSize: old, NewSize: new})
	if err != nil {
		// Its status code and reason code only: the peer's message is
		// its own text, which this gateway's log lines and errors never
		// hold (a peer could put a person's identifier there).
		return nil, fmt.Errorf("the peer answered the request for a proof %v %s", status.Code(err), peerCode(errorReason(err)))
	}
	return audit.ReadTreeProof(old, new, resp.GetNewSize(), resp.GetProof())
}

// errNoProof says that a receipt carries no consistency proof to the
// size remembered.
var errNoProof = errors.New("no consistency proof to the size remembered")

// treeProof reads the hashes of a consistency proof between the trees of
// sizes old and new (0 < old < new). One that is not of a proof's shape,
// hashes of tlog.HashSize bytes and as many as a proof between those
// sizes has, is malformed: no proof at all. The rule is the auditor's
// ([audit.ReadTreeProof]).
func treeProof(b [][]byte, old, new int64) (tlog.TreeProof, error) {
	return audit.ReadTreeProof(old, new, new, b)
}
