package gateway

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// An AuditSource serves a gateway's Audit service to an [audit.Client]:
// what `liaison audit verify` and the console's auditor check the log
// with. A gateway that gives no answer is an [*UnreachableError]; an
// answer that is no proof is [audit.ErrMalformedProof]; anything else the
// client refuses is evidence against the log.
type AuditSource struct{ Audit liaisonv1.AuditClient }

// An UnreachableError is a gateway that gave the auditor no answer: no
// checkpoint at all, or no proof because it could not be reached, took
// too long, was busy, or did not let the auditor in. The log was not
// checked, and that shows nothing about it: not a failed verification.
// Err is the call's gRPC error.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// unanswered reports err, an Audit call's error, as an [*UnreachableError]
// if the gateway gave no answer (its status is one of a call that did not
// reach the log: Unavailable, DeadlineExceeded, Canceled,
// ResourceExhausted, Aborted, Unauthenticated, PermissionDenied). Any other
// refusal of a proof (InvalidArgument, FailedPrecondition, OutOfRange,
// NotFound, Internal, DataLoss, ...) is kept as it is: the gateway signed a
// checkpoint of the tree it was asked about, and a gateway that cannot
// prove what it signed is a verification that failed.
func unanswered(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted,
		codes.Unauthenticated, codes.PermissionDenied:
		return &UnreachableError{err}
	}
	return err
}

// Checkpoint returns the gateway's latest signed checkpoint. Any error is
// an [*UnreachableError]: without a checkpoint there is nothing to check.
func (s AuditSource) Checkpoint(ctx context.Context) ([]byte, error) {
	resp, err := s.Audit.GetCheckpoint(ctx, &liaisonv1.GetCheckpointRequest{})
	if err != nil {
		return nil, &UnreachableError{err}
	}
	return []byte(resp.GetCheckpoint()), nil
}

// ConsistencyProof returns the gateway's proof that the tree of newSize
// entries extends that of oldSize, read by [audit.ReadTreeProof].
func (s AuditSource) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	p, err := s.Audit.ProveConsistency(ctx, &liaisonv1.ProveConsistencyRequest{OldSize: oldSize, NewSize: newSize})
	if err != nil {
		return nil, unanswered(err)
	}
	return audit.ReadTreeProof(oldSize, newSize, p.GetNewSize(), p.GetProof())
}

// Inclusion returns the entry at index and the gateway's proof that it is
// in the tree of treeSize entries, read by [ReadInclusion].
func (s AuditSource) Inclusion(ctx context.Context, index, treeSize int64) ([]byte, tlog.RecordProof, error) {
	p, err := s.Audit.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: index, TreeSize: treeSize})
	if err != nil {
		return nil, nil, unanswered(err)
	}
	proof, err := ReadInclusion(p, index, treeSize)
	if err != nil {
		return nil, nil, err
	}
	return []byte(p.GetEntry().GetJson()), proof, nil
}

// ReadInclusion reads p, a gateway's answer to a request for the proof
// that entry index is in the tree of treeSize entries, by the rule of
// [audit.ReadInclusion]: an answer of another tree size, for another entry
// (entry.index), with a leaf_hash that is not the hash of the entry it
// gives, or whose proof is not of a proof's shape, is malformed
// ([audit.ErrMalformedProof]). `liaison audit verify` (through
// [AuditSource]), `liaison audit prove` and the console's entry page read
// answers with it; a peer's receipt is read by the same rule
// ([VerifyReceipt]).
func ReadInclusion(p *liaisonv1.ProveInclusionResponse, index, treeSize int64) (tlog.RecordProof, error) {
	return audit.ReadInclusion(index, treeSize, audit.Inclusion{
		Index: p.GetEntry().GetIndex(), TreeSize: p.GetTreeSize(), LeafHash: p.GetLeafHash(),
		Entry: []byte(p.GetEntry().GetJson()), Proof: p.GetProof(),
	})
}
