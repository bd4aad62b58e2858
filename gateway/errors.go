package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// errorDomain is the ErrorInfo domain of Liaison's errors.
const errorDomain = "liaison.v1"

// A badRequest names the request field that is wrong and why. reason, if
// set, is a stable code beside the field (NO_COMPETENT_RECIPIENT...).
type badRequest struct {
	field, problem string
	reason         string
	// caseID, if set, is the case the refused exchange cited, which its
	// entry names (settle): a case the gateway holds.
	caseID string
}

func (e *badRequest) Error() string { return e.field + ": " + e.problem }

func invalid(field, format string, args ...any) error {
	return &badRequest{field: field, problem: fmt.Sprintf(format, args...)}
}

// A denial is a policy decision that refuses the exchange, or a refusal
// by the gateway's own rules (not a case member, legal basis expired...).
type denial struct {
	reason   string // stable code, e.g. POLICY_DENIED, LEGAL_BASIS_EXPIRED
	message  string // what a caseworker reads
	revision string
	auditIdx int64
	// refusal marks a refusal by the gateway's own rules before any policy
	// decision (dual control's SELF_APPROVAL...): its entry's outcome is
	// refused, not deny.
	refusal bool
	// meta, if set, is added to the caller's ErrorInfo metadata.
	meta map[string]string
	// caseID, if set, is the case a refusal (refusal set) on the case's
	// account cited, which its entry names (settle): a case the gateway
	// holds.
	caseID string
}

func (e *denial) Error() string { return "denied: " + e.reason }

// A failure is a stage that failed after the exchange began, with the
// stable reason its entry records (HOLDER_RETURNED_WRONG_RECORD,
// TRANSFORM_FAILED...). Key, holder and audit outages are recognised by
// their own errors and need no wrapping.
type failure struct {
	reason string
	err    error
	meta   map[string]string // for the caller's ErrorInfo, if any
}

func (f *failure) Error() string { return f.reason + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func failed(reason string, err error) error { return &failure{reason: reason, err: err} }

// A stateRefusal refuses a request that the state of a case or notice
// does not allow (CASE_CLOSED, CASE_EXISTS...), before any decision: its
// entry's outcome is refused, its status FailedPrecondition (AlreadyExists
// for CASE_EXISTS: see code).
type stateRefusal struct {
	reason, message string
	// caseID, if set, is the case the refused exchange cited, which its
	// entry names (settle): a case the gateway holds.
	caseID string
	// meta, if set, is added to the caller's ErrorInfo metadata: the
	// index of its entry (audit_index) for a peer gateway's call
	// (finish), the peer's reason for a peer's refusal (peerError).
	meta map[string]string
	// code is the caller's status code: FailedPrecondition if unset (the
	// state does not allow the request); AlreadyExists for an OpenCase
	// whose id a case has already (CASE_EXISTS): the thing it was to
	// create exists.
	code codes.Code
}

func (e *stateRefusal) Error() string { return "refused: " + e.reason }

// errNotFound reports that the holder has no such subject or record, after
// the policy allowed the caller to know that.
var errNotFound = errors.New("gateway: not found")

// A notFoundError is errNotFound with what was not found, in words the
// caller understands, when the holder's "no such record" does not fit.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return "gateway: not found: " + e.what }
func (e *notFoundError) Is(target error) bool { return target == errNotFound }

// errProvider wraps failures to reach a holder's RecordProvider.
var errProvider = errors.New("gateway: record provider unavailable")

// statusError converts an error from the pipeline into a gRPC status. It is
// the only place in the gateway that chooses a status code, and it tells
// clients no more than they need: details stay in the log.
func (s *Server) statusError(ctx context.Context, err error) error {
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err // already a status: a per-recipient exchange's, say
	}
	var br *badRequest
	var dn *denial
	var ae *authn.Error
	switch {
	case errors.As(err, &br):
		st, _ := status.New(codes.InvalidArgument, br.Error()).WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: br.field, Description: br.problem}},
		})
		if br.reason != "" {
			st, _ = st.WithDetails(&errdetails.ErrorInfo{Reason: br.reason, Domain: errorDomain})
		}
		return st.Err()
	case errors.As(err, &dn):
		md := maps.Clone(dn.meta)
		if md == nil {
			md = map[string]string{}
		}
		if dn.revision != "" {
			md["policy_revision"] = dn.revision
		}
		if dn.auditIdx >= 0 {
			md["audit_index"] = fmt.Sprint(dn.auditIdx)
		}
		st, _ := status.New(codes.PermissionDenied, dn.message).WithDetails(&errdetails.ErrorInfo{
			Reason: dn.reason, Domain: errorDomain, Metadata: md,
		})
		return st.Err()
	case errors.As(err, &ae):
		code := codes.Unauthenticated
		switch {
		case ae.Unavailable:
			code = codes.Unavailable
		case ae.Permission:
			code = codes.PermissionDenied
		}
		info := &errdetails.ErrorInfo{Reason: ae.Reason, Domain: errorDomain}
		if s.offboardedPeerGateway(ae) {
			// The calling peer gateway itself, not an agency behind it
			// that its call is for (the same reason): said, so that the
			// peer can tell its sender why nothing comes back from here.
			info.Metadata = map[string]string{metaOffboarded: offboardedPeerGateway}
		}
		st, _ := status.New(code, ae.Detail).WithDetails(info)
		if ae.Unavailable {
			st, _ = st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryDelay)})
		}
		return st.Err()
	case errors.As(err, new(*stateRefusal)):
		sr, _ := errors.AsType[*stateRefusal](err)
		code := sr.code
		if code == codes.OK {
			code = codes.FailedPrecondition
		}
		st, _ := status.New(code, sr.message).WithDetails(&errdetails.ErrorInfo{Reason: sr.reason, Domain: errorDomain, Metadata: maps.Clone(sr.meta)})
		return st.Err()
	case errors.Is(err, errNotFound):
		if nf, ok := errors.AsType[*notFoundError](err); ok {
			return status.Error(codes.NotFound, nf.what)
		}
		return status.Error(codes.NotFound, "the holder has no such record")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, audit.ErrTampered):
		// The auditor must know; what disagrees (an entry index and a
		// column, never a value) is safe to tell.
		s.log.ErrorContext(ctx, "audit query index tampered with", "error", err)
		md, msg := map[string]string{}, audit.ErrTampered.Error()
		if ie, ok := errors.AsType[*audit.IndexError](err); ok {
			md["column"], msg = ie.Column, ie.Error()
			if ie.Index >= 0 {
				md["audit_index"] = fmt.Sprint(ie.Index)
			}
		}
		st, _ := status.New(codes.DataLoss, "the audit log's query index does not match its entries: "+msg).WithDetails(&errdetails.ErrorInfo{
			Reason: "AUDIT_INDEX_TAMPERED", Domain: errorDomain, Metadata: md,
		})
		return st.Err()
	case errors.Is(err, audit.ErrUnavailable):
		s.log.WarnContext(ctx, "audit log unavailable", "error", err)
		return unavailable("AUDIT_UNAVAILABLE", "the audit log cannot record this exchange; nothing was disclosed; retry later")
	case errors.Is(err, pseudonym.ErrUnavailable):
		s.log.WarnContext(ctx, "pseudonymisation keys unavailable", "error", err)
		return unavailable("KEYS_UNAVAILABLE", "pseudonymisation keys are unavailable; retry later")
	case errors.Is(err, errPeerNoAnswer):
		s.log.WarnContext(ctx, "peer gateway did not answer a forwarded exchange", "error", err)
		st, _ := status.New(codes.Unavailable, "the other country's gateway did not answer after the record was forwarded; "+
			"it delivers only what this gateway logged, and its log says whether it did; check before sending again").WithDetails(
			&errdetails.ErrorInfo{Reason: "PEER_UNAVAILABLE", Domain: errorDomain}) // no RetryInfo: sending again may deliver twice
		return st.Err()
	case errors.Is(err, errPeer):
		s.log.WarnContext(ctx, "peer gateway unavailable", "error", err)
		return unavailable("PEER_UNAVAILABLE", "the other country's gateway is unavailable; nothing was disclosed; retry later")
	case errors.Is(err, errProvider):
		s.log.WarnContext(ctx, "record provider unavailable", "error", err)
		return unavailable("HOLDER_UNAVAILABLE", "the holder agency's system is unavailable; retry later")
	}
	if fl, ok := errors.AsType[*failure](err); ok {
		s.log.ErrorContext(ctx, "request failed", "reason", fl.reason, "error", err)
		st, _ := status.New(codes.Internal, "the exchange failed; nothing was disclosed").WithDetails(&errdetails.ErrorInfo{Reason: fl.reason, Domain: errorDomain, Metadata: fl.meta})
		return st.Err()
	}
	s.log.ErrorContext(ctx, "request failed", "error", err)
	return status.Error(codes.Internal, "internal error")
}

// retryDelay is the google.rpc.RetryInfo delay of an Unavailable status:
// how long a caller waits before it sends the same call again. It is a
// hint, the same for every outage the gateway cannot see the end of.
const retryDelay = 5 * time.Second

// unavailable is the status of an outage after which the same call may
// safely be sent again: nothing was disclosed, and it carries a
// google.rpc.RetryInfo.
func unavailable(reason, msg string) error {
	st, _ := status.New(codes.Unavailable, msg).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retryDelay)})
	return st.Err()
}

// pageLimit reads a list call's limit field: 0 means 100, and at most 1000.
func pageLimit(n int32) (int, error) {
	switch {
	case n < 0 || n > 1000:
		return 0, invalid("limit", "must be between 0 and 1000")
	case n == 0:
		return 100, nil
	}
	return int(n), nil
}
