package gateway

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strconv"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// releasedDigest is "sha256:<hex>" of what a release gives its recipient:
// the Released message without its audit index and provenance (which are
// known only once it is logged), in the deterministic encoding; the same
// hash a peer receipt names (releasedDigestBytes).
func releasedDigest(rel *liaisonv1.Released) (string, error) {
	sum, err := releasedDigestBytes(rel)
	if err != nil {
		return "", fmt.Errorf("gateway: digest of a release: %v", err)
	}
	return "sha256:" + hex.EncodeToString(sum), nil
}

// recordDigest puts the digest of what is released in the entry that
// records the release, so that an auditor can hold the gateway's receipt
// against the log.
func recordDigest(e *audit.Entry, rel *liaisonv1.Released) error {
	d, err := releasedDigest(rel)
	if err != nil {
		return err
	}
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	e.Detail[audit.DetailReleasedDigest] = d
	return nil
}

// provenance returns the provenance of the release at index to recipient:
// the receipt the gateway signs, with a checkpoint that covers the entry
// and the inclusion proof. If the receipt cannot be made now (the
// checkpoint signer is unreachable), the provenance carries only the
// index and the digest, and the recipient asks again with GetReceipt.
func (s *Server) provenance(ctx context.Context, index int64, recipient, digest string) *liaisonv1.Provenance {
	p, err := s.signedProvenance(ctx, index, recipient, digest)
	if err != nil {
		s.log.WarnContext(ctx, "receipt not signed; the recipient can ask for it later", "audit_index", index, "error", err)
		return &liaisonv1.Provenance{AuditIndex: index, ReleasedDigest: digest}
	}
	return p
}

// signedProvenance is provenance with its receipt, or the error that
// kept the receipt from being made.
func (s *Server) signedProvenance(ctx context.Context, index int64, recipient, digest string) (*liaisonv1.Provenance, error) {
	r, err := s.cfg.Audit.Receipt(ctx, index, recipient, digest)
	if err != nil {
		return nil, err
	}
	p := &liaisonv1.Provenance{AuditIndex: index, ReleasedDigest: digest, Receipt: string(r.Note), Checkpoint: string(r.Checkpoint)}
	for _, h := range r.Proof {
		p.InclusionProof = append(p.InclusionProof, h[:])
	}
	return p, nil
}

// withProvenance completes a release read from an inbox: its index and its
// provenance. The digest is taken before the index is set, as it was when
// the release was logged.
func (s *Server) withProvenance(ctx context.Context, rel *liaisonv1.Released, index int64, recipient string) {
	d, err := releasedDigest(rel)
	rel.AuditIndex = index
	if err != nil {
		rel.Provenance = &liaisonv1.Provenance{AuditIndex: index}
		return
	}
	rel.Provenance = s.provenance(ctx, index, recipient, d)
}

// opGetReceipt is the operation of GetReceipt's audit_read entries.
const opGetReceipt = "get_receipt"

// GetReceipt returns a fresh provenance for a release to the caller's
// agency, against the latest checkpoint. The read is logged, once done
// and before anything is returned (readEnded).
func (s *Server) GetReceipt(ctx context.Context, req *liaisonv1.GetReceiptRequest) (*liaisonv1.GetReceiptResponse, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	// A refused call is an entry too (outcome refused, its reason and
	// field), as a refused call to the Audit service is: asking for the
	// receipt of a release to another agency is an attempt the log shows.
	// The receipt is made first and the read logged after (readEnded), so
	// that the entry says what happened: ok with the receipt given, or
	// failed if the entry could not be read (the store's reason) or the
	// receipt signed (AUDIT_UNAVAILABLE), and none was given.
	detail := map[string]string{"index": strconv.FormatInt(req.GetAuditIndex(), 10)}
	e, err := s.entryAt(ctx, req.GetAuditIndex(), "audit_index")
	if err != nil {
		return nil, s.readEnded(ctx, c, opGetReceipt, detail, err) // refused if negative or beyond the log
	}
	if !audit.ReleasedBy(e) || len(e.Recipients) != 1 || e.Recipients[0].Agency != c.Agency.ID || e.Detail[audit.DetailReleasedDigest] == "" {
		return nil, s.readRefused(ctx, c, opGetReceipt, invalid("audit_index", "is not a release to your agency"))
	}
	p, err := s.signedProvenance(ctx, req.GetAuditIndex(), c.Agency.ID, e.Detail[audit.DetailReleasedDigest])
	if err != nil {
		s.log.WarnContext(ctx, "receipt not signed", "audit_index", req.GetAuditIndex(), "error", err)
		err = fmt.Errorf("%w: the receipt could not be signed", audit.ErrUnavailable)
	}
	if err := s.readEnded(ctx, c, opGetReceipt, detail, err); err != nil {
		return nil, err
	}
	return &liaisonv1.GetReceiptResponse{Provenance: p}, nil
}

// entryAt reads the entry at index; field names the request field that
// gave it, for an index beyond the log.
func (s *Server) entryAt(ctx context.Context, index int64, field string) (*audit.Entry, error) {
	if index < 0 {
		return nil, invalid(field, "must not be negative")
	}
	leaves, err := s.cfg.Audit.Leaves(ctx, index, index+1)
	if errors.Is(err, audit.ErrOutOfRange) {
		return nil, invalid(field, "is beyond the end of the log")
	}
	if err != nil {
		return nil, err
	}
	return audit.Unmarshal(leaves[0])
}

// logEntries yields, in log order, every entry the log's query finds for
// f, reading a page of 1000 at a time; an error ends it.
func (s *Server) logEntries(ctx context.Context, f audit.Filter) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		f.Limit = 1000
		for {
			recs, err := s.cfg.Audit.Query(ctx, f)
			if err != nil {
				yield(audit.Record{}, err)
				return
			}
			for _, r := range recs {
				f.Start = r.Index + 1
				if !yield(r, nil) {
					return
				}
			}
			if len(recs) < f.Limit {
				return
			}
		}
	}
}
