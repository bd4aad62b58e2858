package gateway

import (
	"context"
	"fmt"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// ReloadTrust runs one reload of the trust files, as WatchTrust's ticker
// does, and reports whether it applied a change.
func (s *Server) ReloadTrust(ctx context.Context) (bool, error) { return s.trust.reload(ctx, s, false) }

// SetDuePage sets how many releases a page of the store's holds when the
// aftercare timers look for the due ones (duePage), so that a test can
// fill pages with a few.
func (s *Server) SetDuePage(n int) {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	s.duePage = n
}

// Offboarded reports whether the registry in force offboards agency id
// (or no longer lists it).
func (s *Server) Offboarded(id string) bool {
	a, ok := s.registry.Load().Agencies[id]
	return !ok || a.Offboarded
}

// ReasonNoticeSentAlready is reasonNoticeSentAlready, for tests.
const ReasonNoticeSentAlready = reasonNoticeSentAlready

// SendExpiryNotice makes the exchange of one expiry notice that obliges
// erasure of releases (orig the first), as the timers make it once they
// have found them due: a replica that stalls after that check sends it
// late.
func (s *Server) SendExpiryNotice(ctx context.Context, orig *audit.Entry, releases []int64, validUntil string) error {
	return s.SendExpiryNoticeReadAt(ctx, orig, releases, validUntil, -1)
}

// SendExpiryNoticeReadAt is SendExpiryNotice by a replica that found the
// releases due in the log's entries before read, and stalled after.
func (s *Server) SendExpiryNoticeReadAt(ctx context.Context, orig *audit.Entry, releases []int64, validUntil string, read int64) error {
	return s.expiryNotice(authn.NewContext(ctx, timerCaller), orig, releases, validUntil, s.policy.Current(),
		policies.Retention{Obligation: policies.ObligationErase}, read)
}

// ReasonEndMovedMeanwhile and ReasonReleaseClosedMeanwhile are the
// reasons of an expiry notice refused by its store's check, for tests.
const (
	ReasonEndMovedMeanwhile      = reasonEndMovedMeanwhile
	ReasonReleaseClosedMeanwhile = reasonReleaseClosedMeanwhile
)

// ReviseReleaseReadAt is the revision of the tracked release at index by
// an officer of its holder, as ReviseExpiry makes it having read the
// release open in the log's entries before read, and stalled after.
func (s *Server) ReviseReleaseReadAt(ctx context.Context, officer string, req *liaisonv1.ReviseExpiryRequest, index, read int64) (*liaisonv1.RevisedExpiry, error) {
	r, ok, err := s.cfg.Aftercare.TrackedRelease(ctx, index)
	if err != nil || !ok {
		return nil, fmt.Errorf("release %d is not tracked: %v", index, err)
	}
	c := authn.Caller{Agency: s.registry.Load().Agencies[r.Holder].Agency,
		Officer: authn.Officer{ID: officer, Roles: []string{"case_officer"}, Clearance: "confidential"}}
	return s.reviseOne(authn.NewContext(ctx, c), req, pseudonym.SubjectID(req.GetSubjectId()), r, false, read)
}

// ReleasePending runs one retry of the due re-identification releases, as
// Run's timer does.
func (s *Server) ReleasePending(ctx context.Context) { s.releasePending(ctx) }
