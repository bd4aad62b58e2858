package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Limits on request fields.
const (
	maxSubjectIDLen     = 128
	maxJustificationLen = 2000
	maxLegalBasisLen    = 128
	maxMunicipalityLen  = 128
	maxRecipients       = 50
	auditTimeout        = 30 * time.Second
)

// deliveryKind names what an inbox payload holds.
const deliveryKind = "liaison.v1.SubscribeResponse"

// exchange is one policy-governed transfer of a record to one recipient,
// as it passes the pipeline. It opens with begin, before anything is
// checked, and closes exactly once: by commit, with what it delivers, or
// by finish, with the outcome its error means. Either way it leaves one
// audit entry.
type exchange struct {
	s       *Server
	caller  authn.Caller
	reqID   string
	subject pseudonym.SubjectID
	in      policies.Input
	entry   *audit.Entry
	closed  bool  // the entry was appended (or handed to per-recipient exchanges)
	index   int64 // the entry's index once appended, else -1
	// fingerprints of what the entry releases, committed with it
	// (rememberRelease, onward.go)
	fingerprints []audit.Fingerprint
	// claims are ids the entry takes with it (audit.Change.Claims): of
	// two exchanges that claim one id, by any replica, one is recorded.
	claims []audit.Claim
	// openFrom, if holdOpen, is the log's size when the exchange read
	// the releases its obligation notice refers to open: its commit
	// requires that none was closed since (audit.Change.Open,
	// commitNotice).
	openFrom int64
	holdOpen bool

	// What operators see of it (telemetry.go): the call it belongs to,
	// the time spent in each stage, and its span with the context that
	// carries it (the parent of the stages' spans), if traced.
	rpc        *rpc
	stages     [numStages]time.Duration
	ran        uint16 // bit i: stage i ran
	handedOver bool   // its entries are the per-recipient exchanges'
	// ownsRecord says that the record given to release is this
	// exchange's alone (fetched for it), to transform in place.
	ownsRecord bool
	span       trace.Span
	spanCtx    context.Context

	// eng is the policy engine the exchange was decided with (decide),
	// whose revision the entry records: a further question of the same
	// exchange (releaseDateNotice) asks it too, not the engine active
	// by then.
	eng *policies.Engine

	// The connection to the peer gateway an exchange calls, and the
	// context with its assertion (callPeer).
	peerConn *grpc.ClientConn
	peerCtx  context.Context
	// peerRecipient is the recipient the receipt of the exchange's
	// pending entry names (pendingForward): the peer's receipts of its
	// entries of the exchange, an answer's or a refusal's, name it too.
	peerRecipient string
	// peerAction is the action of the exchange's pending entry
	// (pendingForward), which the peer's entry of the forwarded call
	// takes too: the peer's receipt of a refusal is of an entry of it.
	peerAction string

	// caseHolds are cases the exchange rests on besides its policy
	// input's (a case's pseudonym domain it translates from); unheld
	// marks an entry that no longer commits under them (holds, cases.go).
	caseHolds []audit.CaseHold
	unheld    bool
	// routeHold is the case of the receipt by which a Notify found its
	// recipient as an earlier recipient (pushTo): the recipient's
	// standing in it, as read when the notice was routed, must still
	// stand when the entry commits, or the notice is refused
	// CASE_CHANGED_MEANWHILE (routeRefusal, cases.go).
	routeHold *audit.CaseHold
	// srcHold is what the store checks of the release the exchange's
	// record came from (its provenance), as the gateway read it when it
	// decided (applyOnward, correctOne): that it is still as read when
	// the entry of a release commits (audit.Change.Provenance). Nil for
	// a record of the caller's own, and for an entry that releases
	// nothing (a refusal, a withdrawal sent instead of a correction).
	srcHold *audit.OpenHold

	// noticeKeys are the entry's detail keys that describe a notice the
	// exchange was about to deliver (noticeDetail): a required notice's
	// id, rule, deadline and escalation time, the event a correction's
	// required notice reports. They are true of the entry only once it
	// commits with the delivery; an entry that ends failed, refused or
	// denied delivered nothing, and settle removes them.
	noticeKeys []string
}

// noticeDetail records in the entry's detail facts of a notice the
// exchange delivers with it (key, value pairs), to be removed if the
// exchange ends without delivering it (settle).
func (ex *exchange) noticeDetail(kv ...string) {
	d := ex.detail()
	for i := 0; i+1 < len(kv); i += 2 {
		d[kv[i]] = kv[i+1]
		if !slices.Contains(ex.noticeKeys, kv[i]) {
			ex.noticeKeys = append(ex.noticeKeys, kv[i])
		}
	}
}

// Request pulls a record from a holder: validate, describe the subject,
// decide, fetch, transform, audit, respond.
func (s *Server) Request(ctx context.Context, req *liaisonv1.RequestRequest) (_ *liaisonv1.RequestResponse, err error) {
	ex := s.begin(ctx, "request")
	defer ex.finish(ctx, &err)
	s.notePeerForward(ctx, ex, req.GetForwarded()) // a refusal names a peer's pending entry (federation_push.go)
	reg := s.registry.Load()
	vt := ex.stage(stageValidate)
	holder, cs, err := s.validateRequest(ctx, reg, req)
	vt.end()
	if err != nil {
		return nil, err
	}
	if err := s.requestFromPeer(ctx, ex, req, holder); err != nil {
		return nil, err
	}
	if holder.Via != "" {
		if req.GetMatchReference() != "" {
			return nil, invalid("match_reference", "cannot be cited for a holder behind a peer gateway")
		}
		return s.requestViaPeer(ctx, ex, req, holder, cs)
	}
	caller := ex.caller
	ex.describe(party(holder.Agency), party(caller.Agency), policies.Input{
		RecordType:        enumName(req.GetRecordType()),
		Purpose:           enumName(req.GetPurpose()),
		ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Case:              cs,
		Justification:     req.GetJustification(),
	})
	ex.subject = pseudonym.SubjectID(req.GetSubjectId())
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	if ref := req.GetMatchReference(); ref != "" {
		// Step two of hit/no-hit: the reference is checked before the
		// holder is asked anything.
		if err := s.checkMatchRef(ex, ref); err != nil {
			return nil, err
		}
	}

	client, err := s.providerClient(holder)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errProvider, err)
	}
	// ProviderTimeout bounds each call to the holder: the Describe here,
	// the Fetch after the decision, each on its own (a slow decision
	// uses up no time of the holder's).
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
	dt := ex.stage(stageDescribe)
	desc, err := client.Describe(pctx, &liaisonv1.DescribeRequest{SubjectId: string(ex.subject)})
	cancel()
	dt.end()
	found := err == nil
	if err != nil && status.Code(err) != codes.NotFound {
		return nil, holderError(ctx, "describe", err)
	}
	if found {
		// The holder's answer is checked as a Disclose's subject is: the
		// policy decides on it and the entry records it, which never holds
		// the subject's identifier (a municipality that names the person)
		// nor a date that is no date. Neither the value nor the identifier
		// reaches the error or the log: only the field.
		if err := validSubjectFacts(desc.GetSubject(), string(ex.subject)); err != nil {
			field := "subject"
			if br, ok := errors.AsType[*badRequest](err); ok {
				field = br.field
			}
			return nil, failed("HOLDER_RETURNED_INVALID_SUBJECT", fmt.Errorf("gateway: the holder's Describe answered an invalid %s", field))
		}
		ex.setSubject(desc.GetSubject())
	}

	dec, err := s.decide(ctx, ex)
	if err != nil {
		return nil, err
	}
	held := found && holdsRecordType(desc, req.GetRecordType())
	// Under a hit-only decision the caller learns one bit, whether the
	// holder has such a record: a holder that does not know the subject
	// at all answers as one that knows the subject but holds no record of
	// the type, with a no-hit. Telling the two apart would tell the caller
	// whether the holder knows the person.
	if dec.Outcome != policies.OutcomeHitOnly && !held {
		// The policy let the caller learn at least whether a record
		// exists; nothing else leaves.
		return nil, errNotFound
	}
	// The subject's pseudonym is made before the record is fetched: a
	// recipient that may only see pseudonyms gets nothing while the keys
	// are unavailable, and the holder is not asked for a record that
	// cannot be released.
	ps, err := s.recipientPseudonym(ex, dec)
	if err != nil {
		return nil, err
	}

	var record *liaisonv1.Record
	if dec.Outcome != policies.OutcomeHitOnly {
		ft := ex.stage(stageFetch)
		fctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
		defer cancel()
		resp, err := client.Fetch(fctx, &liaisonv1.FetchRequest{
			SubjectId:  string(ex.subject),
			RecordType: req.GetRecordType(),
			Recipient:  caller.Agency.ID,
			Purpose:    req.GetPurpose(),
			LegalBasis: legalBasisID(dec),
			RequestId:  ex.reqID,
		})
		ft.end()
		if status.Code(err) == codes.NotFound {
			return nil, errNotFound
		}
		if err != nil {
			return nil, holderError(ctx, "fetch", err)
		}
		record = resp.GetRecord()
		body, rule := recordBody(record)
		if body == nil || rule.GetRecordType() != ex.in.RecordType || recordSubjectID(body) != ex.subject {
			return nil, failed("HOLDER_RETURNED_WRONG_RECORD", errors.New("gateway: the holder returned a record of another type or subject"))
		}
		// Spelt as a caller's record must be (validRecord): a date in
		// another spelling would be delivered as it is where the policy
		// keeps the field and dropped where it generalises it.
		if verr := validRecord(record); verr != nil {
			return nil, failed("HOLDER_RETURNED_INVALID_RECORD", fmt.Errorf("gateway: the holder's record: %v", verr))
		}
		// A holder's system that serves content the holder received from
		// another agency passes it on without its conditions (onward.go).
		u, err := s.undeclaredOnward(ctx, holder.ID, ex.entry.Subject.Pseudonym, record, nil)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return nil, refuseUndeclared(ex, u)
		}
	}
	ex.ownsRecord = true // fetched for this exchange only
	rel, err := s.release(ex, dec, record, held, ps)
	if err != nil {
		return nil, failed("TRANSFORM_FAILED", err)
	}
	if dec.Outcome == policies.OutcomeHitOnly {
		// The entry says which answer went out, as Match's do.
		ex.entry.Detail["answer"] = hitAnswer(held)
	}
	if err := s.rememberRelease(ctx, ex, rel); err != nil { // onward.go
		return nil, err
	}
	idx, err := ex.commit(ctx)
	if err != nil {
		return nil, err // nothing leaves without its entry
	}
	rel.AuditIndex = idx
	rel.Provenance = s.provenance(ctx, idx, caller.Agency.ID, ex.entry.Detail[audit.DetailReleasedDigest]) // receipts.go
	s.log.InfoContext(ctx, "record released", "request_id", ex.reqID, "audit_index", idx, "requester", caller.Agency.ID,
		"holder", holder.ID, "outcome", dec.Outcome, "legal_basis", legalBasisID(dec), "record_type", ex.in.RecordType)
	return &liaisonv1.RequestResponse{Released: rel}, nil
}

// holderError is the error of a call to the holder (stage describe or
// fetch) that failed: the call's own end if that is why (its deadline
// passed, or its caller hung up, while the holder was asked: the entry
// says failed DEADLINE_EXCEEDED or CANCELED, as for a call that ends
// while the policy decides), else the holder's outage (errProvider,
// HOLDER_UNAVAILABLE), its own bound (Config.ProviderTimeout) included.
func holderError(ctx context.Context, stage string, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		// The call's deadline has passed, but its timer has not fired
		// yet: the holder's end of the call, which carries the same
		// deadline, may answer DEADLINE_EXCEEDED first.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return fmt.Errorf("gateway: the call ended while the holder was asked (%s): %w", stage, cerr)
	}
	return fmt.Errorf("%w: %s: %v", errProvider, stage, status.Code(err))
}

// Disclose pushes a record the caller holds to each recipient's inbox, as
// the law lets each of them see it. Recipients are named by id or by role
// (the police competent for a municipality, the members of a case). A call
// refused by validation, an unresolvable role included, is one exchange
// with one entry; a valid call is one exchange per recipient, each
// decided, delivered and logged on its own.
func (s *Server) Disclose(ctx context.Context, req *liaisonv1.DiscloseRequest) (_ *liaisonv1.DiscloseResponse, err error) {
	call := s.begin(ctx, "disclose")
	defer call.finish(ctx, &err)
	if _, ok := peerFromContext(ctx); ok || req.GetForwarded() != nil {
		return s.discloseFromPeer(ctx, call, req) // a peer gateway forwards a disclosure
	}
	reg := s.registry.Load()
	vt := call.stage(stageValidate)
	p, ts, err := s.validateDisclose(ctx, reg, req, call.caller.Agency.ID)
	vt.end()
	if err != nil {
		return nil, err
	}
	if err := s.checkProvenance(ctx, call, req, p.subject); err != nil { // onward.go
		return nil, err
	}
	call.closed, call.handedOver = true, true // each recipient's exchange below writes its own entry
	resp := &liaisonv1.DiscloseResponse{}
	if resp.Results, err = s.pushAll(ctx, p, ts); err != nil {
		return nil, withResults(err, resp)
	}
	return resp, nil
}

// pushAll runs the exchange of p for every target. If nobody got
// anything, the call as a whole is refused or failed: it returns every
// result with the first failure, else the first denial.
func (s *Server) pushAll(ctx context.Context, p *push, ts []*target) ([]*liaisonv1.RecipientResult, error) {
	var results []*liaisonv1.RecipientResult
	var firstDenial, firstFailure error
	for _, t := range ts {
		res, err := s.pushTo(ctx, p, t)
		results = append(results, res)
		switch {
		case err == nil:
		case status.Code(err) == codes.PermissionDenied:
			firstDenial = cmp.Or(firstDenial, err)
		default:
			firstFailure = cmp.Or(firstFailure, err)
		}
	}
	if !slices.ContainsFunc(results, released) {
		return results, cmp.Or(firstFailure, firstDenial)
	}
	return results, nil
}

// withResults adds the response a call would have had, every recipient's
// result, to the status of a call that no recipient received: the caller
// still learns each recipient's entry and reasons.
func withResults(err error, resp protoadapt.MessageV1) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	with, derr := st.WithDetails(resp)
	if derr != nil {
		return err
	}
	return with.Err()
}

// released reports whether a recipient got something.
func released(r *liaisonv1.RecipientResult) bool {
	return r.GetFailure() == nil && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_UNSPECIFIED
}

// recipientFailure describes a status for a RecipientResult.
func recipientFailure(err error) *liaisonv1.RecipientFailure {
	st := status.Convert(err)
	f := &liaisonv1.RecipientFailure{Code: code.Code_name[int32(st.Code())], Message: st.Message()}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			f.Reason = info.GetReason()
		}
	}
	return f
}

// officerInbox names an officer's own inbox, beside their agency's.
func officerInbox(c authn.Caller) string { return c.Agency.ID + "/officer/" + c.Officer.ID }

// Subscribe streams the caller's inbox from a cursor.
func (s *Server) Subscribe(req *liaisonv1.SubscribeRequest, stream grpc.ServerStreamingServer[liaisonv1.SubscribeResponse]) error {
	ctx := stream.Context()
	caller, err := s.caller(ctx)
	if err != nil {
		return err
	}
	limit, err := pageLimit(req.GetLimit())
	if err != nil {
		return s.statusError(ctx, err)
	}
	if req.GetAfter() < 0 {
		return s.statusError(ctx, invalid("after", "must not be negative"))
	}
	// The agency's inbox, the officer's own (re-identified identities go
	// to the officer who asked, no one else) and those of the officer's
	// roles (escalations to a duty role), merged by cursor.
	var items []audit.InboxItem
	for _, box := range inboxes(caller) {
		got, err := s.cfg.Audit.Inbox(ctx, box, req.GetAfter(), limit)
		if err != nil {
			return s.statusError(ctx, fmt.Errorf("%w: inbox: %v", audit.ErrUnavailable, err))
		}
		items = append(items, got...)
	}
	slices.SortFunc(items, func(a, b audit.InboxItem) int { return cmp.Compare(a.Cursor, b.Cursor) })
	items = items[:min(len(items), limit)]
	// Open every item first: the inboxes are marked sent up to the last
	// item the reader is told of before any goes out, since a reader may
	// acknowledge an item as soon as it has it (Acknowledge takes no cursor
	// beyond the mark).
	var out []*liaisonv1.SubscribeResponse
	var end error // what ends the stream after out, if anything
	var told int64
	for _, it := range items {
		plain, err := s.cfg.Pseudonyms.OpenInbox([]byte(it.Recipient), it.Payload)
		if errors.Is(err, pseudonym.ErrUnavailable) {
			end = s.statusError(ctx, err)
			break
		}
		var m liaisonv1.SubscribeResponse
		if err == nil {
			err = proto.Unmarshal(plain, &m)
		}
		if err != nil {
			// Reported by its cursor: the reader may read on, and
			// acknowledge, past it.
			end, told = s.unreadableItem(ctx, it, err), it.Cursor
			break
		}
		m.Cursor = it.Cursor
		if m.Released != nil {
			s.withProvenance(ctx, m.Released, it.AuditIndex, it.Recipient) // receipts.go
		}
		if n := m.Obligation; n != nil {
			n.AuditIndex = it.AuditIndex
		}
		if r := m.Reidentified; r != nil {
			r.AuditIndex = it.AuditIndex
		}
		if u := m.CaseUpdate; u != nil {
			// The case was sealed before its entry had an index: the
			// version the update carries is the one this entry made.
			u.AuditIndex = it.AuditIndex
			if c := u.GetCase(); c != nil {
				c.AuditIndex = it.AuditIndex
			}
		}
		if x := m.Escalation; x != nil {
			x.AuditIndex = it.AuditIndex
		}
		out, told = append(out, &m), it.Cursor
	}
	// Every inbox read was read up to told: the items merged by cursor
	// include each inbox's items up to it, after the cursor asked for.
	// An inbox's items up to that cursor were received only if none was
	// skipped: a read that skips ahead (after beyond the inbox's mark,
	// past an item of it not sent) received none of the items it
	// skipped, so its mark stays where it was. An inbox with no item
	// between its mark and after (a role's or an officer's own, never
	// read, when the officer reads on from the agency's cursor) skipped
	// nothing.
	if told > 0 {
		var boxes []string
		for _, box := range inboxes(caller) {
			sent, err := s.cfg.Audit.Sent(ctx, box)
			if err != nil {
				return s.statusError(ctx, err)
			}
			if req.GetAfter() > sent {
				first, err := s.cfg.Audit.Inbox(ctx, box, sent, 1)
				if err != nil {
					return s.statusError(ctx, fmt.Errorf("%w: inbox: %v", audit.ErrUnavailable, err))
				}
				if len(first) > 0 && first[0].Cursor <= req.GetAfter() {
					continue // it skipped first[0]
				}
			}
			boxes = append(boxes, box)
		}
		if err := s.cfg.Audit.MarkSent(ctx, told, boxes...); err != nil {
			return s.statusError(ctx, err)
		}
	}
	for _, m := range out {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return end
}

// unreadableItem is the error that ends a Subscribe at an inbox item that
// does not open: altered in the store, or sealed by an earlier release
// under a pseudonym key version since retired. DataLoss, reason
// INBOX_ITEM_UNREADABLE, with the item's cursor, so that the agency can
// report it and read on after it; the operator's log names the inbox and
// cursor (never the content, which no one can read).
func (s *Server) unreadableItem(ctx context.Context, it audit.InboxItem, err error) error {
	s.log.ErrorContext(ctx, "inbox item does not open", "inbox", it.Recipient, "cursor", it.Cursor, "audit_index", it.AuditIndex, "error", err)
	st, _ := status.New(codes.DataLoss, fmt.Sprintf("inbox item %d cannot be opened: it was altered in the gateway's store, "+
		"or sealed under a key version since retired; report it to the gateway's operator, and subscribe with after=%d to read on",
		it.Cursor, it.Cursor)).WithDetails(&errdetails.ErrorInfo{
		Reason: "INBOX_ITEM_UNREADABLE", Domain: errorDomain,
		Metadata: map[string]string{"cursor": strconv.FormatInt(it.Cursor, 10), "audit_index": strconv.FormatInt(it.AuditIndex, 10)},
	})
	return st.Err()
}

// Acknowledge marks the caller's inbox read up to a cursor. The required
// notices delivered to the agency up to it are acknowledged first, each
// with its own entry; if that fails, nothing is marked read. A cursor
// beyond the last one Subscribe returned to any officer of the agency (the
// agency's inbox's sent mark) is refused: an agency acknowledges only what
// it has received. The officer's own inbox and those of their roles are
// marked read only as far as Subscribe sent them.
//
// Every call ends in an entry: the entries of the notices it acknowledged
// (one each) when it acknowledged any and succeeded, or when a peer
// gateway's refusal of a forward ended it (the forward's entry records
// that); otherwise one entry of the call's own (notice_acknowledge, with
// the cursor and no notice_id): refused, failed, or ok for a call that
// acknowledged no required notice (none was open up to the cursor) and
// marked the inbox read.
func (s *Server) Acknowledge(ctx context.Context, req *liaisonv1.AcknowledgeRequest) (_ *liaisonv1.AcknowledgeResponse, err error) {
	if _, fromPeer := peerFromContext(ctx); fromPeer || req.GetForwarded() != nil || req.GetNoticeId() != "" {
		return s.acknowledgeFromPeer(ctx, req) // federation_required.go
	}
	ex := s.begin(ctx, actionNoticeAcknowledge)
	defer ex.finish(ctx, &err)
	cursor := req.GetCursor()
	ex.detail()["cursor"] = strconv.FormatInt(cursor, 10)
	caller, ok := authn.FromContext(ctx)
	if !ok {
		return nil, &authn.Error{Reason: "NO_CREDENTIALS", Detail: "caller not authenticated"}
	}
	if cursor <= 0 {
		return nil, invalid("cursor", "must be a cursor from Subscribe")
	}
	// How far Subscribe sent each inbox; the agency's comes first.
	boxes := inboxes(caller)
	sent := make([]int64, len(boxes))
	for i, box := range boxes {
		if sent[i], err = s.cfg.Audit.Sent(ctx, box); err != nil {
			return nil, storeUnavailable(ctx, "sent", err)
		}
	}
	if cursor > sent[0] {
		problem := "is beyond the last cursor Subscribe has returned to your agency (none yet): acknowledge only items received"
		if sent[0] > 0 {
			problem = fmt.Sprintf("is beyond the last cursor Subscribe has returned to your agency (%d): acknowledge only items received", sent[0])
		}
		return nil, &badRequest{field: "cursor", reason: reasonCursorNotReceived, problem: problem}
	}
	acked, err := s.acknowledgeNotices(ctx, caller, cursor)
	if acked.logged > 0 && (err == nil || acked.errLogged) {
		// The notices' entries (and a refused forward's) record the call.
		ex.closed, ex.handedOver = true, true
	}
	if err != nil {
		return nil, err
	}
	for i, box := range boxes {
		upto := min(cursor, sent[i])
		if upto <= 0 {
			continue // nothing of it was ever sent
		}
		if err := s.cfg.Audit.Ack(ctx, box, upto); err != nil {
			if ex.handedOver {
				// The notices stay acknowledged, each in its entry; the
				// call's failure is an entry of its own.
				ex.closed, ex.handedOver = false, false
			}
			return nil, fmt.Errorf("%w: ack: %v", audit.ErrUnavailable, err)
		}
	}
	if !ex.closed {
		// Nothing was open to acknowledge up to the cursor: the call
		// marked the inbox read, and its entry says so.
		ex.entry.Outcome = audit.OutcomeOK
		if _, err := ex.commit(ctx); err != nil {
			return nil, err
		}
	}
	return &liaisonv1.AcknowledgeResponse{DeferredNoticeIds: acked.deferred}, nil
}

// storeUnavailable is the error of a read of the audit store that failed:
// the call's own end if it ended (CANCELED, DEADLINE_EXCEEDED), else
// AUDIT_UNAVAILABLE.
func storeUnavailable(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, audit.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", audit.ErrUnavailable, op, err)
}

// reasonCursorNotReceived refuses an acknowledgement up to a cursor that
// Subscribe has not sent the agency.
const reasonCursorNotReceived = "CURSOR_NOT_RECEIVED"

// validateRequest checks a Request and returns the holder and the case.
func (s *Server) validateRequest(ctx context.Context, reg *Registry, req *liaisonv1.RequestRequest) (*Agency, *policies.Case, error) {
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, nil, err
	}
	if enumName(req.GetRecordType()) == "" {
		return nil, nil, invalid("record_type", "must name one of the seven record types")
	}
	if enumName(req.GetPurpose()) == "" {
		return nil, nil, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, nil, err
	}
	if err := validClaimedBasis(req.GetClaimedLegalBasis(), req.GetSubjectId()); err != nil {
		return nil, nil, err
	}
	holder, ok := reg.Agencies[req.GetHolder()]
	switch {
	case req.GetHolder() == "":
		return nil, nil, invalid("holder", "is required")
	case !ok:
		return nil, nil, invalid("holder", "is not a registered agency")
	case holder.Provider == "" && holder.Via == "", holder.Kind == KindPeerGateway:
		return nil, nil, invalid("holder", "holds no records reachable through the gateway")
	case holder.Offboarded: // here, or (behind a peer) its peer gateway
		return nil, nil, offboardedHolder("holder")
	}
	cs, err := s.resolveCase(ctx, req.GetCaseId(), s.callerID(ctx), pseudonym.SubjectID(req.GetSubjectId()))
	if err != nil {
		return nil, nil, err
	}
	return holder, cs, nil
}

// validateDisclose checks a Disclose and returns what it pushes and to
// whom: the recipients named by id, then those found by role.
func (s *Server) validateDisclose(ctx context.Context, reg *Registry, req *liaisonv1.DiscloseRequest, caller string) (*push, []*target, error) {
	body, rule := recordBody(req.GetRecord())
	if body == nil || rule.GetRecordType() == "" {
		return nil, nil, invalid("record", "must hold one of the seven record types")
	}
	subject := recordSubjectID(body)
	if err := validSubjectID(subjectIDField(req.GetRecord()), string(subject)); err != nil {
		return nil, nil, err
	}
	if err := validRecord(req.GetRecord()); err != nil {
		return nil, nil, err
	}
	purpose := enumName(req.GetPurpose())
	if purpose == "" {
		return nil, nil, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(req.GetJustification(), string(subject)); err != nil {
		return nil, nil, err
	}
	if err := validClaimedBasis(req.GetClaimedLegalBasis(), string(subject)); err != nil {
		return nil, nil, err
	}
	if err := validSubject(req.GetSubject(), string(subject)); err != nil {
		return nil, nil, err
	}
	attrs, err := recordDates(req.GetSubject(), req.GetRecord())
	if err != nil {
		return nil, nil, err
	}
	if len(req.GetRecipients()) == 0 && len(req.GetRecipientRoles()) == 0 {
		return nil, nil, invalid("recipients", "name at least one recipient agency, by id or by role (recipient_roles)")
	}
	if len(req.GetRecipients()) > maxRecipients {
		return nil, nil, invalid("recipients", "at most %d recipients per call", maxRecipients)
	}
	cs, err := s.resolveCase(ctx, req.GetCaseId(), caller, subject)
	if err != nil {
		return nil, nil, err
	}
	var ts targets
	if err := resolveNamed(reg, &ts, req.GetRecipients(), "recipients", purpose, req.GetClaimedLegalBasis(), cs); err != nil {
		return nil, nil, err
	}
	if err := s.resolveRoles(ctx, reg, &ts, req.GetRecipientRoles(), "recipient_roles", caller, subject, req.GetSubject(), purpose, req.GetClaimedLegalBasis(), cs); err != nil {
		return nil, nil, err
	}
	if len(ts.list) > maxRecipients {
		return nil, nil, invalid("recipient_roles", "resolve to %d recipients; at most %d per call", len(ts.list), maxRecipients)
	}
	return &push{
		action: "disclose", record: req.GetRecord(), recordType: rule.GetRecordType(), subject: subject,
		attrs: attrs, justification: req.GetJustification(), provenance: req.GetProvenance(),
	}, ts.list, nil
}

func validSubjectID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "is required")
	case len(id) > maxSubjectIDLen || !utf8.ValidString(id) || strings.ContainsFunc(id, authn.Unprintable):
		// Printable: no control characters (C0 or C1), and no invisible
		// ones (a zero-width space, a byte-order mark, a direction mark,
		// and those Go counts as printable: a Hangul filler, the
		// combining grapheme joiner, a variation selector), which would
		// make a second spelling of an identifier that looks the same,
		// with a pseudonym of its own.
		return invalid(field, "must be at most %d printable characters", maxSubjectIDLen)
	case strings.TrimSpace(id) != id:
		// One spelling per person: " X" would get a pseudonym of its own.
		return invalid(field, "must not begin or end with white space")
	case !norm.NFKC.IsNormalString(id):
		// Nor would a decomposed letter ("o" and a combining diaeresis
		// for "ö") or a full-width or other compatibility character
		// ("０００１" for "0001") make a person of their own: one
		// identifier that looks the same, with another pseudonym, whose
		// access report and routes would find nothing.
		return invalid(field, "must be in Unicode normalisation form NFKC: no decomposed letter, no full-width or other compatibility character")
	}
	return nil
}

// SubjectIDProblem is validSubjectID for the programs that check an
// identifier before it reaches the gateway (an exercise's scenario): what
// is wrong with id as a subject's identifier, never quoting it, or "" if
// the gateway takes it. One rule, so that such a program does not accept
// an identifier every call about the person would be refused for.
func SubjectIDProblem(id string) string {
	if err := validSubjectID("subject_id", id); err != nil {
		return err.(*badRequest).problem
	}
	return ""
}

// validClaimedBasis checks a claimed legal basis: empty, or spelt as the
// policies spell a legal basis id (lower-case parts joined by '.', as
// dk.rpl.115.stk1.nr3), so that one basis has one spelling and the field,
// which the log records and a denial quotes, holds nothing else: not the
// subject's identifier, not control characters, not kilobytes of text.
func validClaimedBasis(id, subjectID string) error {
	switch {
	case id == "":
		return nil
	case len(id) > maxLegalBasisLen || !caseKindRE.MatchString(id):
		return invalid("claimed_legal_basis", "must be a legal basis id: at most %d lower-case letters, digits and '_', "+
			"in parts joined by '.' (as dk.rpl.115.stk1.nr3)", maxLegalBasisLen)
	case mentions(id, subjectID):
		return invalid("claimed_legal_basis", "must not contain the subject's identifier")
	}
	return nil
}

// ValidLegalBasisID reports whether id is spelt as the policies spell a
// legal basis id (validClaimedBasis), for those that make calls of their
// own (the exercises): a claimed basis spelt otherwise is refused.
func ValidLegalBasisID(id string) bool {
	return len(id) <= maxLegalBasisLen && caseKindRE.MatchString(id)
}

// validJustification requires a justification (LED Art. 25) and refuses
// one that contains the subject's identifier, which would put it in the log.
func validJustification(j, subjectID string) error {
	switch {
	case strings.TrimSpace(j) == "":
		return invalid("justification", "is required: say why the exchange is needed")
	case len(j) > maxJustificationLen:
		return invalid("justification", "must be at most %d bytes", maxJustificationLen)
	case hasControl(j):
		return invalid("justification", "must be text: no control characters but tab and line breaks")
	case mentions(j, subjectID):
		return invalid("justification", "must not contain the subject's identifier")
	}
	return nil
}

// hasControl reports whether text holds a control character (C0, DEL or
// C1) other than a tab or a line break: words for the log hold none, and
// one there (a NUL, an escape sequence) would reach whoever reads it.
func hasControl(text string) bool {
	return strings.ContainsFunc(text, func(r rune) bool {
		return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
	})
}

// mentions reports whether text contains the subject's identifier id as
// people write it: in any case, with or without the separators between
// its letters and digits ("syn nl 0003" and "SYN-NL-0003" both mention
// SYN-NL-0003), and in any Unicode spelling of them (full-width digits,
// decomposed letters: compared in NFKC). An identifier of fewer than four letters and
// digits is matched only as spelt.
func mentions(text, id string) bool {
	if id == "" {
		return false
	}
	if strings.Contains(text, id) {
		return true
	}
	// In NFKC, as identifiers are (validSubjectID): a full-width or
	// decomposed spelling of the identifier is the identifier too.
	text = norm.NFKC.String(text)
	fold := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	fid := fold(norm.NFKC.String(id))
	// Four letters and digits, not bytes: "ÆØ-1" is three, as redact
	// counts them.
	return utf8.RuneCountInString(fid) >= 4 && strings.Contains(fold(text), fid)
}

// Mentions is mentions, for the programs that check texts before they
// reach the gateway (an exercise's scenario): one rule for what names
// the person.
func Mentions(text, id string) bool { return mentions(text, id) }

// redact replaces every mention of id in text (as mentions finds them) by
// "[subject]".
func redact(text, id string) string { return redactAs(text, id, "[subject]") }

// redactAs replaces every mention of id in text (as mentions finds them)
// by repl.
func redactAs(text, id, repl string) string {
	if !mentions(text, id) {
		return text
	}
	// The identifier as written first; then mentions found it in NFKC:
	// find it there (the text recorded is then in NFKC too).
	text = strings.ReplaceAll(text, id, repl)
	var parts []string
	for _, r := range norm.NFKC.String(id) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			parts = append(parts, regexp.QuoteMeta(string(r)))
		}
	}
	if len(parts) < 4 {
		return text
	}
	re := regexp.MustCompile(`(?i)` + strings.Join(parts, `[^\pL\pN]*`))
	return re.ReplaceAllLiteralString(norm.NFKC.String(text), repl)
}

// validSubject checks the subject's attributes that a holder must give
// with a Disclose: the policy decides on them, and a missing fact is a
// missing input, not a legal answer.
func validSubject(a *liaisonv1.SubjectAttributes, subjectID string) error {
	if a == nil {
		return invalid("subject", "is required: the subject's attributes as the holder knows them (category at least)")
	}
	if a.GetCategory() == liaisonv1.SubjectCategory_SUBJECT_CATEGORY_UNSPECIFIED || enumName(a.GetCategory()) == "" {
		return invalid("subject.category", "is required: one of convicted, suspect, victim, other")
	}
	return validSubjectFacts(a, subjectID)
}

// validSubjectFacts checks the attributes the policy reads and the log
// records, as validSubject does, but not that a category is given: a
// holder's Describe answer is checked so (Request), since the
// policy decides on it and the entry records it.
func validSubjectFacts(a *liaisonv1.SubjectAttributes, subjectID string) error {
	if c := a.GetCategory(); c != liaisonv1.SubjectCategory_SUBJECT_CATEGORY_UNSPECIFIED && enumName(c) == "" {
		return invalid("subject.category", "is not one of convicted, suspect, victim, other")
	}
	for _, d := range []struct{ field, v string }{
		{"subject.release_date", a.GetReleaseDate()},
		{"subject.probation_until", a.GetProbationUntil()},
	} {
		if d.v == "" {
			continue
		}
		if p := dateProblem(d.v); p != "" {
			return invalid(d.field, "%s", p)
		}
	}
	// The municipality goes to the policy and into the log: a name, with
	// one spelling of its ends, and never the subject's identifier.
	m := a.GetMunicipality()
	if p := municipalityProblem(m); p != "" {
		return invalid("subject.municipality", "%s", p)
	}
	switch {
	case strings.TrimSpace(m) != m:
		return invalid("subject.municipality", "must not begin or end with white space")
	case mentions(m, subjectID):
		return invalid("subject.municipality", "must not contain the subject's identifier")
	}
	return nil
}

// MunicipalityProblem says what keeps m from being taken as the subject's
// municipality (SubjectAttributes.municipality, as validSubject checks
// it but for the subject's identifier), or "" if nothing does: for those
// that make calls of their own (the exercises), so that a spelling every
// call would be refused for is refused before any is made.
func MunicipalityProblem(m string) string {
	if p := municipalityProblem(m); p != "" {
		return p
	}
	if strings.TrimSpace(m) != m {
		return "must not begin or end with white space"
	}
	return ""
}

// municipalityProblem says what keeps m from being a municipality's one
// spelling, or "" if nothing does. The subject's municipality
// (SubjectAttributes, a caller's or a holder's Describe answer) and a
// competent role's are checked by it alike: at most maxMunicipalityLen
// bytes of printable characters (no control character, C0, DEL or C1, no
// invisible format character, filler or variation selector: no rune
// authn.Unprintable refuses; no space but U+0020), in Unicode NFC.
func municipalityProblem(m string) string {
	switch {
	case len(m) > maxMunicipalityLen || !utf8.ValidString(m) || strings.ContainsFunc(m, authn.Unprintable):
		return fmt.Sprintf("must be at most %d printable characters", maxMunicipalityLen)
	case !norm.NFC.IsNormalString(m):
		// "A" and a combining ring is "Å" to the eye, but not to the
		// registry's areas or the log.
		return "must be in Unicode normalisation form NFC: no decomposed letter"
	}
	return ""
}

func party(a *authn.Agency) policies.Party {
	return policies.Party{Agency: a.ID, Kind: a.Kind, Jurisdiction: a.Jurisdiction}
}

func legalBasisID(d policies.Decision) string {
	if d.LegalBasis == nil {
		return ""
	}
	return d.LegalBasis.ID
}
