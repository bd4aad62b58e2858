package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Roles that open the auditors' and legal officers' services.
const (
	RoleAuditor      = "auditor"
	RoleLegalOfficer = "legal_officer"
)

// requireRole returns the caller if the officer holds one of roles.
func (s *Server) requireRole(ctx context.Context, roles ...string) (authn.Caller, error) {
	c, ok := authn.FromContext(ctx)
	if !ok {
		return c, &authn.Error{Reason: "NO_CREDENTIALS", Detail: "caller not authenticated"}
	}
	for _, r := range roles {
		if c.HasRole(r) {
			return c, nil
		}
	}
	// Every role that would do is named: a reader of the Policy service
	// told it needs legal_officer alone would not know an auditor may.
	return c, &denial{reason: "ROLE_REQUIRED", message: fmt.Sprintf("this service needs the %s role", strings.Join(roles, " or ")), auditIdx: -1}
}

// Query returns log entries matching a filter. The entries are read
// first and held; the one audit_read entry that records the read, ok or
// failed, is written next (readEnded), and only then is anything
// returned.
func (s *Server) Query(ctx context.Context, req *liaisonv1.QueryRequest) (*liaisonv1.QueryResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, "query", err)
	}
	limit, err := pageLimit(req.GetLimit())
	if err != nil {
		return nil, s.readRefused(ctx, c, "query", err)
	}
	for _, v := range []struct{ field, value string }{
		{"outcome", req.GetOutcome()}, {"record_type", req.GetRecordType()}, {"action", req.GetAction()},
	} {
		if err := checkQueryFilter(v.field, v.value); err != nil {
			return nil, s.readRefused(ctx, c, "query", err)
		}
	}
	if err := checkQueryIDs(req); err != nil {
		return nil, s.readRefused(ctx, c, "query", err)
	}
	f := audit.Filter{
		Agency: req.GetAgency(), Officer: req.GetOfficer(), LegalBasis: req.GetLegalBasis(),
		Outcome: req.GetOutcome(), RecordType: req.GetRecordType(), Action: req.GetAction(),
		Start: req.GetStart(), Limit: limit,
	}
	if f.From, err = filterTime("from", req.GetFrom()); err != nil {
		return nil, s.readRefused(ctx, c, "query", err)
	}
	if f.To, err = filterBefore("to", req.GetTo()); err != nil {
		return nil, s.readRefused(ctx, c, "query", err)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, s.readRefused(ctx, c, "query", invalid("to", "must be after from"))
	}
	if req.GetSubjectId() != "" {
		if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
			return nil, s.readRefused(ctx, c, "query", err)
		}
		ps, err := s.cfg.Pseudonyms.AuditPseudonym(pseudonym.SubjectID(req.GetSubjectId()))
		if err != nil {
			// KEYS_UNAVAILABLE: the entry names no subject, none could be computed.
			return nil, s.readEnded(ctx, c, "query", filterDetail(f, req.GetLimit()), err)
		}
		f.Subject = ps
	}
	recs, err := s.cfg.Audit.Query(ctx, f) // ErrTampered or ErrUnavailable, as the log classified it
	if err := s.readEnded(ctx, c, "query", filterDetail(f, req.GetLimit()), err); err != nil {
		return nil, err
	}
	resp := &liaisonv1.QueryResponse{}
	for _, r := range recs {
		resp.Entries = append(resp.Entries, &liaisonv1.AuditEntry{Index: r.Index, Json: string(r.Leaf)})
	}
	return resp, nil
}

// checkQueryIDs checks the identifiers a QueryRequest filters on: each is
// empty or spelt as the log spells it (an agency id in lower case, a legal
// basis id as the policies spell one, an officer id as a token's sub
// must spell it: authn.ValidOfficerID), so that a filter that can match nothing is refused rather
// than answered with an empty list, and what the auditor typed is
// recorded in the log only if it is such an id. start is an index, never
// negative.
func checkQueryIDs(req *liaisonv1.QueryRequest) error {
	if err := checkAgencyFilter("agency", req.GetAgency()); err != nil {
		return err
	}
	switch o := req.GetOfficer(); {
	case o != "" && !authn.ValidOfficerID(o):
		return invalid("officer", "must be an officer id: at most %d printable characters in Unicode NFC, not beginning or ending with white space", authn.MaxOfficerIDLen)
	case req.GetLegalBasis() != "" && (len(req.GetLegalBasis()) > maxLegalBasisLen || !caseKindRE.MatchString(req.GetLegalBasis())):
		return invalid("legal_basis", "must be a legal basis id: at most %d lower-case letters, digits and '_', in parts joined by '.'", maxLegalBasisLen)
	case req.GetStart() < 0:
		return invalid("start", "must not be negative")
	}
	return nil
}

// checkAgencyFilter refuses an agency id given as a filter that is not
// spelt as the registry spells agency ids (in lower case): it could match
// nothing.
func checkAgencyFilter(field, id string) error {
	if id != "" && !agencyIDRE.MatchString(id) {
		return invalid(field, "must be an agency id: 1 to 64 lower-case letters, digits, '.', '_' or '-'")
	}
	return nil
}

// filterTime reads a time a filter is bounded by: the zero time if ts is
// not set. A timestamp outside the range google.protobuf.Timestamp
// allows, or with nanos outside 0 to 999,999,999 (a second spelling of
// another time), is refused.
func filterTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, invalid(field, "must be a valid timestamp: from 0001-01-01 to 9999-12-31, nanos from 0 to 999999999")
	}
	return ts.AsTime(), nil
}

// filterBefore reads a time a filter selects what came before, as
// filterTime does. The first instant a Timestamp allows,
// 0001-01-01T00:00:00Z, is refused: nothing is before it, and as the
// zero time it would read as no bound at all, so that the filter meant
// to select nothing selected everything.
func filterBefore(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	t, err := filterTime(field, ts)
	if err == nil && ts != nil && t.IsZero() {
		return t, invalid(field, "must be after 0001-01-01T00:00:00Z: nothing is before it")
	}
	return t, err
}

// exchangeActions are the actions of the policy contract (policies.Input).
var exchangeActions = []string{"disclose", "request", "notify", "match", "translate", "reidentify"}

// queryVocabulary lists, by QueryRequest field, the values Audit.Query
// accepts for the enumerated filters.
var queryVocabulary = sync.OnceValue(func() map[string][]string {
	var recordTypes []string
	vals := liaisonv1.RecordType(0).Descriptor().Values()
	for i := range vals.Len() {
		if n := enumName(liaisonv1.RecordType(vals.Get(i).Number())); n != "" {
			recordTypes = append(recordTypes, n)
		}
	}
	return map[string][]string{
		"outcome":     slices.Clone(audit.Outcomes),
		"record_type": recordTypes,
		"action": slices.Concat(exchangeActions,
			[]string{audit.ActionAuthenticate, audit.ActionAuditRead, audit.ActionPolicyActivate, audit.ActionKeyRotate, audit.ActionKeyRetire, audit.ActionKeyRestore},
			audit.AftercareActions,
			policies.CaseActions, []string{actionCaseImport, actionCaseOperatorClose, actionCaseOperatorHandover},
			[]string{actionNoticeAcknowledge, actionNoticeEscalate, actionNoticeOverdue, actionNoticeExpire}),
	}
})

// QueryFilterValues returns the values Audit.Query accepts for each of
// its enumerated filters, keyed by QueryRequest field name: outcome,
// record_type and action. Query refuses any other value with
// InvalidArgument rather than return an empty list.
func QueryFilterValues() map[string][]string {
	m := map[string][]string{}
	for k, v := range queryVocabulary() {
		m[k] = slices.Clone(v)
	}
	return m
}

// checkQueryFilter returns an error naming field and the values it
// accepts if value is neither empty nor one of them.
func checkQueryFilter(field, value string) error {
	allowed, ok := queryVocabulary()[field]
	if value == "" || !ok || slices.Contains(allowed, value) {
		return nil
	}
	return invalid(field, "unknown value; accepted values are %s", strings.Join(allowed, ", "))
}

// AccessReport returns a data subject's access report. The legal rules
// are applied here, by audit.Report, so that no client can bypass them.
// The report is made first and held; the one audit_read entry that
// records the read (readEnded), naming the subject by its audit
// pseudonym, is written before it is returned.
func (s *Server) AccessReport(ctx context.Context, req *liaisonv1.AccessReportRequest) (*liaisonv1.AccessReportResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, "access_report", err)
	}
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, s.readRefused(ctx, c, "access_report", err)
	}
	detail := map[string]string{}
	if req.GetWithOfficers() {
		detail["with_officers"] = "true"
	}
	ps, err := s.cfg.Pseudonyms.AuditPseudonym(pseudonym.SubjectID(req.GetSubjectId()))
	if err != nil {
		// KEYS_UNAVAILABLE: the entry names no subject, none could be computed.
		return nil, s.readEnded(ctx, c, "access_report", detail, err)
	}
	detail["subject"] = ps
	rep, err := audit.Report(ctx, s.cfg.Audit, ps, req.GetWithOfficers())
	if err := s.readEnded(ctx, c, "access_report", detail, err); err != nil {
		return nil, err
	}
	resp := &liaisonv1.AccessReportResponse{
		Produced: timestamppb.New(s.now()), SubjectPseudonym: rep.Subject, OfficersWithheld: rep.OfficersWithheld,
	}
	for _, d := range rep.Disclosures {
		rd := &liaisonv1.ReportedDisclosure{
			Index: d.Index, Time: timestamppb.New(d.Time), Action: d.Action, RequestId: d.RequestID,
			Outcome: d.Outcome, RecordType: d.RecordType, Purpose: d.Purpose, Holder: d.Holder,
			Recipients: d.Recipients, Fields: d.Fields, Requester: d.Requester, Officer: d.Officer,
		}
		if lb := d.LegalBasis; lb != nil {
			rd.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
		}
		resp.Disclosures = append(resp.Disclosures, rd)
	}
	resp.Corrections, resp.Withdrawals = reportedNotices(rep.Corrections), reportedNotices(rep.Withdrawals)
	return resp, nil
}

// reportedNotices converts the report's notices for the API.
func reportedNotices(ns []audit.NoticeReport) []*liaisonv1.ReportedNotice {
	var out []*liaisonv1.ReportedNotice
	for _, n := range ns {
		rn := &liaisonv1.ReportedNotice{
			Index: n.Index, Time: timestamppb.New(n.Time), Kind: n.Kind, Recipient: n.Recipient, Holder: n.Holder,
			RefersTo: n.RefersTo, Reason: n.Reason, Obligation: n.Obligation, Outcome: n.Outcome, Fields: n.Fields,
			RecordType: n.RecordType, SupersededBy: n.SupersededBy,
		}
		if !n.Acknowledged.IsZero() {
			rn.Acknowledged = timestamppb.New(n.Acknowledged)
		}
		out = append(out, rn)
	}
	return out
}

// GetCheckpoint returns the latest signed checkpoint: with witnesses, the
// latest one published with their cosignatures (Config.Checkpoints).
func (s *Server) GetCheckpoint(ctx context.Context, _ *liaisonv1.GetCheckpointRequest) (*liaisonv1.GetCheckpointResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, "get_checkpoint", err)
	}
	size, note, err := s.checkpoint(ctx)
	if err != nil {
		return nil, s.readRefused(ctx, c, "get_checkpoint", fmt.Errorf("%w: checkpoint: %v", audit.ErrUnavailable, err))
	}
	return &liaisonv1.GetCheckpointResponse{Size: size, Checkpoint: string(note)}, nil
}

// ProveInclusion returns an inclusion proof for an entry, with the entry.
// The proof and the entry are read first and held; the one audit_read
// entry that records the read (readEnded), naming the index and the tree
// size, is written before they are returned.
func (s *Server) ProveInclusion(ctx context.Context, req *liaisonv1.ProveInclusionRequest) (*liaisonv1.ProveInclusionResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, "prove_inclusion", err)
	}
	if req.GetIndex() < 0 {
		return nil, s.readRefused(ctx, c, "prove_inclusion", invalid("index", "must not be negative"))
	}
	detail := map[string]string{"index": strconv.FormatInt(req.GetIndex(), 10)}
	size, err := s.proofSize(ctx, "tree_size", req.GetTreeSize())
	if err != nil {
		return nil, s.readEnded(ctx, c, "prove_inclusion", detail, err) // refused for tree_size, or failed
	}
	if req.GetIndex() >= size {
		return nil, s.readRefused(ctx, c, "prove_inclusion", invalid("index", "must be below the tree size %d", size))
	}
	detail["tree_size"] = strconv.FormatInt(size, 10)
	resp, err := s.proveInclusion(ctx, req.GetIndex(), size)
	if err := s.readEnded(ctx, c, "prove_inclusion", detail, err); err != nil {
		return nil, err
	}
	return resp, nil
}

// proveInclusion reads the inclusion proof of the entry at index in the
// tree of size entries, and the entry.
func (s *Server) proveInclusion(ctx context.Context, index, size int64) (*liaisonv1.ProveInclusionResponse, error) {
	proof, err := s.cfg.Audit.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, fmt.Errorf("%w: prove: %v", audit.ErrUnavailable, err)
	}
	leaves, err := s.cfg.Audit.Leaves(ctx, index, index+1)
	if err != nil || len(leaves) != 1 {
		return nil, fmt.Errorf("%w: read leaf: %v", audit.ErrUnavailable, err)
	}
	lh := tlog.RecordHash(leaves[0])
	return &liaisonv1.ProveInclusionResponse{
		TreeSize: size, LeafHash: lh[:], Proof: hashBytes(proof),
		Entry: &liaisonv1.AuditEntry{Index: index, Json: string(leaves[0])},
	}, nil
}

// ProveConsistency returns a consistency proof between two tree sizes.
// A peer gateway may ask too, on behalf of one of its officers, for the
// checkpoints of this log it holds (peerview.go): the proof is hashes
// only.
func (s *Server) ProveConsistency(ctx context.Context, req *liaisonv1.ProveConsistencyRequest) (*liaisonv1.ProveConsistencyResponse, error) {
	var c authn.Caller
	var err error
	if _, ok := peerFromContext(ctx); ok {
		c, err = s.caller(ctx)
	} else {
		c, err = s.requireRole(ctx, RoleAuditor)
	}
	if err != nil {
		return nil, s.readRefused(ctx, c, "prove_consistency", err)
	}
	size, err := s.proofSize(ctx, "new_size", req.GetNewSize())
	if err != nil {
		return nil, s.readRefused(ctx, c, "prove_consistency", err)
	}
	if req.GetOldSize() <= 0 || req.GetOldSize() > size {
		return nil, s.readRefused(ctx, c, "prove_consistency", invalid("old_size", "must be between 1 and %d", size))
	}
	proof, err := s.cfg.Audit.ConsistencyProof(ctx, req.GetOldSize(), size)
	if err != nil {
		return nil, s.readRefused(ctx, c, "prove_consistency", fmt.Errorf("%w: prove: %v", audit.ErrUnavailable, err))
	}
	return &liaisonv1.ProveConsistencyResponse{NewSize: size, Proof: hashBytes(proof)}, nil
}

// proofSize returns the tree size the request's field asks for, or the
// latest checkpoint's.
func (s *Server) proofSize(ctx context.Context, field string, want int64) (int64, error) {
	size, _, err := s.cfg.Audit.Checkpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: checkpoint: %v", audit.ErrUnavailable, err)
	}
	switch {
	case want == 0:
		return size, nil
	case want < 0:
		return 0, invalid(field, "must not be negative (0 means the latest checkpoint's size, %d)", size)
	case want > size:
		return 0, invalid(field, "must be at most the latest checkpoint's size %d", size)
	}
	return want, nil
}

func hashBytes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// readRefused ends a refused call to the Audit service (a caller without
// the auditor role, or a malformed request): it records the attempt as an
// audit_read entry with outcome refused, the reason and, for a malformed
// request, the field, and returns the error for the caller, naming the
// entry. What the request asked for is not recorded: it was not read. An
// error of another kind (the store) is returned as it is.
func (s *Server) readRefused(ctx context.Context, c authn.Caller, op string, err error) error {
	var (
		dn *denial
		br *badRequest
	)
	detail := map[string]string{"operation": op}
	var reason string
	switch {
	case errors.As(err, &dn):
		reason = dn.reason
	case errors.As(err, &br):
		reason, detail["field"] = cmp.Or(br.reason, "INVALID_ARGUMENT"), br.field
	}
	if reason == "" || c.Agency == nil {
		return s.readStatus(ctx, err)
	}
	e := readEntry(s.now(), c, audit.OutcomeRefused, detail)
	e.Reasons = []string{reason}
	idx, aerr := s.append(ctx, e)
	if aerr != nil {
		return s.readStatus(ctx, aerr)
	}
	if dn != nil {
		dn.auditIdx = idx
	}
	return s.readStatus(ctx, err)
}

// The operations (detail operation) of the audit_read entries of the
// auditors' lists of notices: one each, so that the log tells which list
// was read.
const (
	opListNotices           = "list_notices"            // Notices.ListNotices: required notices
	opListObligationNotices = "list_obligation_notices" // Aftercare.ListObligationNotices: corrections, withdrawals, expiry notices
)

// auditRead records a read of the log itself, begun: who asked what.
// Only Export, which streams what it reads, records its read so, before
// the first message; a unary read is recorded once it is done
// (readEnded).
func (s *Server) auditRead(ctx context.Context, c authn.Caller, op string, detail map[string]string) error {
	detail["operation"] = op
	_, err := s.append(ctx, readEntry(s.now(), c, audit.OutcomeOK, detail))
	return err
}

// readEnded ends a read of the log whose request was accepted, once what
// it read is held in memory and before any of it is returned: it writes
// the read's one audit_read entry, with detail (what was asked), and
// returns nil if the caller may now have the answer. With err nil the
// entry's outcome is ok. With a refusal (a malformed field found while
// reading, such as a tree size beyond the log) it is readRefused's entry.
// Otherwise the read failed and nothing of it is returned: the entry's
// outcome is the one the caller's status is counted as (failed for an
// outage: AUDIT_UNAVAILABLE, AUDIT_INDEX_TAMPERED, KEYS_UNAVAILABLE,
// CANCELED...), its reason the status's, so that the log says what the
// auditor got. If the entry cannot be written, the log's error is
// returned instead, and nothing is disclosed.
func (s *Server) readEnded(ctx context.Context, c authn.Caller, op string, detail map[string]string, err error) error {
	if err != nil && (errors.As(err, new(*denial)) || errors.As(err, new(*badRequest))) {
		return s.readRefused(ctx, c, op, err)
	}
	detail["operation"] = op
	e := readEntry(s.now(), c, audit.OutcomeOK, detail)
	if ps := detail["subject"]; ps != "" {
		// The person the read asked about, by audit pseudonym as every
		// entry names a person: in the entry's subject too, which the
		// query index holds, so that Query by subject_id finds who
		// looked at the person, beside what was done about them.
		e.Subject = &audit.Subject{Pseudonym: ps}
	}
	var st error
	if err != nil {
		st = s.readStatus(ctx, err)
		outcome, reason := callOutcome(st)
		e.Outcome, e.Reasons = outcome, []string{reason}
	}
	if _, aerr := s.append(ctx, e); aerr != nil {
		return s.readStatus(ctx, aerr)
	}
	return st
}

// readStatus is statusError for a call that reads the log: its outage
// (AUDIT_UNAVAILABLE) says that the log could not be read, or the read
// recorded, and that nothing of it was returned, not that an exchange
// could not be recorded, which an auditor did not ask for.
func (s *Server) readStatus(ctx context.Context, err error) error {
	st := s.statusError(ctx, err)
	if _, reason := callOutcome(st); reason == "AUDIT_UNAVAILABLE" {
		return unavailable("AUDIT_UNAVAILABLE", "the audit log cannot be read now, or this read of it recorded; nothing of it was returned; retry later")
	}
	return st
}

// readEntry is the audit_read entry of a call by c to the Audit service.
func readEntry(now time.Time, c authn.Caller, outcome string, detail map[string]string) *audit.Entry {
	return &audit.Entry{
		Time:   now,
		Action: audit.ActionAuditRead,
		Requester: &audit.Requester{
			Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
			Officer: c.Officer.ID, Roles: c.Officer.Roles, Clearance: c.Officer.Clearance,
		},
		Outcome: outcome,
		Detail:  detail,
	}
}

// filterDetail describes a filter for the log; the subject appears only as
// its audit pseudonym. limit is the request's, recorded if given (0 reads
// 100).
func filterDetail(f audit.Filter, limit int32) map[string]string {
	d := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	add("agency", f.Agency)
	add("officer", f.Officer)
	add("subject", f.Subject)
	add("legal_basis", f.LegalBasis)
	add("outcome", f.Outcome)
	add("record_type", f.RecordType)
	add("action", f.Action)
	if f.Start > 0 {
		add("start", strconv.FormatInt(f.Start, 10))
	}
	if limit != 0 {
		add("limit", strconv.Itoa(int(limit)))
	}
	return d
}

// exportPage is how many entries Export reads from the store at a time.
const exportPage = 500

// exportBytes bounds the bytes of the entries one Export message carries,
// well below the 4 MiB a gRPC client receives by default. A count alone
// does not: an entry takes up to some 14 KB (a justification of 2,000
// characters that JSON writes as \u00XX takes 12,000), and 500 such
// entries in a row, which any agency can have recorded, made a message no
// auditor's client would take, so that the log could not be exported at
// all.
const exportBytes = 1 << 20

// Export streams the latest checkpoint and every entry it covers, then
// checks the query index of those entries against them. A stream cannot
// be held until it is read to the end, so the export's one audit_read
// entry, outcome ok with the tree size, is written before the first
// message: it records an export begun, whose entries the caller may have
// received from then on. A stream that fails after it (a read of the
// store, the caller gone, DATA_LOSS from the index check) adds no entry;
// an export that fails before it, reading the checkpoint, is one entry,
// failed (readEnded).
func (s *Server) Export(_ *liaisonv1.ExportRequest, stream grpc.ServerStreamingServer[liaisonv1.ExportResponse]) error {
	ctx := stream.Context()
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return s.readRefused(ctx, c, "export", err)
	}
	size, note, err := s.checkpoint(ctx)
	if err != nil {
		return s.readEnded(ctx, c, "export", map[string]string{}, fmt.Errorf("%w: checkpoint: %v", audit.ErrUnavailable, err))
	}
	if err := s.auditRead(ctx, c, "export", map[string]string{"tree_size": strconv.FormatInt(size, 10)}); err != nil {
		return s.readStatus(ctx, err)
	}
	if err := stream.Send(&liaisonv1.ExportResponse{Checkpoint: &liaisonv1.GetCheckpointResponse{Size: size, Checkpoint: string(note)}}); err != nil {
		return err
	}
	for start := int64(0); start < size; start += exportPage {
		end := min(start+exportPage, size)
		leaves, err := s.cfg.Audit.Leaves(ctx, start, end)
		if err != nil {
			// Entries were sent already: not "nothing of it was returned".
			if st := s.statusError(ctx, err); status.Code(st) != codes.Unavailable {
				return st
			}
			return unavailable("AUDIT_UNAVAILABLE", fmt.Sprintf("the audit log cannot be read now: the export broke off after %d of its %d entries; retry later", start, size))
		}
		msg, n := &liaisonv1.ExportResponse{}, 0
		for i, l := range leaves {
			if len(msg.Entries) > 0 && n+len(l) > exportBytes {
				if err := stream.Send(msg); err != nil {
					return err
				}
				msg, n = &liaisonv1.ExportResponse{}, 0
			}
			msg.Entries = append(msg.Entries, &liaisonv1.AuditEntry{Index: start + int64(i), Json: string(l)})
			n += len(l)
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	// Last, the query index of every entry sent is recomputed from the
	// leaves: an index that disagrees ends the export with DataLoss, so
	// that `audit verify -full` reports it.
	if err := s.cfg.Audit.CheckIndex(ctx, 0, size); err != nil {
		return s.readStatus(ctx, err)
	}
	return nil
}

// AuditKeyRotation records that the pseudonymisation keys moved to a new
// current version (seen by this replica's refresh; every replica records
// its own sighting). ring is the versions the key ring holds now,
// ascending: detail versions, which a later start compares with.
func (s *Server) AuditKeyRotation(ctx context.Context, oldVersion, newVersion int, ring []int) {
	s.auditKeyRotation(ctx, strconv.Itoa(oldVersion), newVersion, ring, "")
}

// auditKeyRotation records one key_rotate entry: detail old_version (left
// out when empty: the state a start finds on a log with no key entry),
// new_version, versions and, if not empty, seen.
func (s *Server) auditKeyRotation(ctx context.Context, oldVersion string, newVersion int, ring []int, seen string) {
	d := map[string]string{"new_version": strconv.Itoa(newVersion), "versions": joinVersions(ring)}
	if oldVersion != "" {
		d["old_version"] = oldVersion
	}
	if seen != "" {
		d["seen"] = seen
	}
	_, err := s.append(ctx, &audit.Entry{Time: s.now(), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK, Detail: d})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of a key rotation failed", "new_version", newVersion, "error", err)
	}
	if oldVersion == "" {
		s.log.InfoContext(ctx, "pseudonymisation key version recorded at start", "current_version", newVersion, "versions", d["versions"])
		return
	}
	s.log.InfoContext(ctx, "pseudonymisation key rotated", "old_version", oldVersion, "new_version", newVersion, "seen", cmp.Or(seen, "refresh"))
}

// AuditKeyRetirement records that pseudonymisation key versions left the
// key ring (their transition window ended, or Vault's minimum versions
// were raised): pseudonyms made under them no longer resolve, and
// re-identifications and match references under them are refused from
// now on. Like a rotation, it is what this replica's refresh saw; every
// replica records its own sighting. retired and ring are ascending.
func (s *Server) AuditKeyRetirement(ctx context.Context, retired []int, current int, ring []int) {
	s.auditKeyVersions(ctx, audit.ActionKeyRetire, "retired", retired, current, ring, "")
}

// AuditKeyRestoration records that pseudonymisation key versions below the
// current one came back into the key ring (Vault's minimum versions were
// lowered): pseudonyms made under them resolve again, and
// re-identifications and match references under them are accepted from
// now on. Like a retirement, it is what this replica's refresh saw; every
// replica records its own sighting. restored and ring are ascending.
func (s *Server) AuditKeyRestoration(ctx context.Context, restored []int, current int, ring []int) {
	s.auditKeyVersions(ctx, audit.ActionKeyRestore, "restored", restored, current, ring, "")
}

// auditKeyVersions records one entry of action for versions that a
// refresh (or a start, seen "start") found gone from (retired) or back in
// (restored) the key ring: detail <how>_versions, current_version,
// versions (the whole ring) and, if not empty, seen.
func (s *Server) auditKeyVersions(ctx context.Context, action, how string, versions []int, current int, ring []int, seen string) {
	vs := joinVersions(versions)
	d := map[string]string{how + "_versions": vs, "current_version": strconv.Itoa(current), "versions": joinVersions(ring)}
	if seen != "" {
		d["seen"] = seen
	}
	_, err := s.append(ctx, &audit.Entry{Time: s.now(), Action: action, Outcome: audit.OutcomeOK, Detail: d})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of key versions "+how+" failed", how+"_versions", vs, "error", err)
	}
	s.log.InfoContext(ctx, "pseudonymisation key versions "+how, how+"_versions", vs, "current_version", current, "seen", cmp.Or(seen, "refresh"))
}

// keyActions are the actions of the key entries. The latest of them, by
// whichever replica, holds the key state the log last recorded.
var keyActions = []string{audit.ActionKeyRotate, audit.ActionKeyRetire, audit.ActionKeyRestore}

// AuditKeysAtStart compares the key ring loaded at start with the key
// state the audit log last recorded, the latest key_rotate, key_retire or
// key_restore entry of any replica sharing the log, and records what
// changed meanwhile (while this gateway, or every replica, was down) as
// a refresh would have, detail seen "start", each with the ring's
// versions: a new current version as key_rotate, versions gone from the
// ring as key_retire, versions below the last recorded current one back
// in it as key_restore. An entry of an earlier release, which does not
// give the ring (no detail versions), tells the current version only:
// then only a rotation is found. On a log holding no key entry (a first
// start) it records the state found, so that the log says from the
// start which version is current: one key_rotate entry without
// old_version. Nothing changed, it records nothing. It reads the latest
// entry of each action from the store's index (Filter.Descending), not
// the log. Call it once, after New and before the keys are refreshed in
// the background or requests served.
func (s *Server) AuditKeysAtStart(ctx context.Context) error {
	cur, ring := s.cfg.Pseudonyms.Versions()
	var last *audit.Record
	for _, a := range keyActions {
		recs, err := s.cfg.Audit.Query(ctx, audit.Filter{Action: a, Descending: true, Limit: 1})
		if err != nil {
			return fmt.Errorf("gateway: the audit log's last key entry: %w", err)
		}
		if len(recs) > 0 && (last == nil || recs[0].Index > last.Index) {
			last = &recs[0]
		}
	}
	const seen = "start"
	if last == nil {
		s.auditKeyRotation(ctx, "", cur, ring, seen)
		return nil
	}
	e, err := last.Decoded()
	if err != nil {
		return fmt.Errorf("gateway: the audit log's last key entry, %d: %w", last.Index, err)
	}
	lastCur, lastRing, ok := recordedKeys(e)
	if !ok {
		// An entry that does not say the current version: the log's
		// view is unknown, and the state found is recorded as on a
		// first start.
		s.log.WarnContext(ctx, "the audit log's last key entry does not say the current key version; recording the one found", "audit_index", last.Index)
		s.auditKeyRotation(ctx, "", cur, ring, seen)
		return nil
	}
	if lastCur != cur {
		s.auditKeyRotation(ctx, strconv.Itoa(lastCur), cur, ring, seen)
	}
	if lastRing == nil {
		return nil
	}
	var retired, restored []int
	for _, v := range lastRing {
		if !slices.Contains(ring, v) {
			retired = append(retired, v)
		}
	}
	for _, v := range ring {
		if v < lastCur && !slices.Contains(lastRing, v) {
			restored = append(restored, v)
		}
	}
	if len(retired) > 0 {
		s.auditKeyVersions(ctx, audit.ActionKeyRetire, "retired", retired, cur, ring, seen)
	}
	if len(restored) > 0 {
		s.auditKeyVersions(ctx, audit.ActionKeyRestore, "restored", restored, cur, ring, seen)
	}
	return nil
}

// recordedKeys reads the key state a key entry recorded: the current
// version, and the ring's versions (nil when the entry does not give
// them, as entries of earlier releases do not). ok is false if the entry
// does not say the current version.
func recordedKeys(e *audit.Entry) (current int, ring []int, ok bool) {
	c := e.Detail["current_version"]
	if e.Action == audit.ActionKeyRotate {
		c = e.Detail["new_version"]
	}
	current, err := pseudonym.ParseKeyVersion(c)
	if err != nil {
		return 0, nil, false
	}
	vs, has := e.Detail["versions"]
	if !has {
		return current, nil, true
	}
	ring = []int{}
	for _, f := range strings.Split(vs, ",") {
		v, err := pseudonym.ParseKeyVersion(f)
		if err != nil {
			return current, nil, true // not a ring: the current version alone is known
		}
		ring = append(ring, v)
	}
	return current, ring, true
}

// joinVersions spells key versions as an entry's detail does: decimal,
// comma-separated.
func joinVersions(versions []int) string {
	vs := make([]string, len(versions))
	for i, v := range versions {
		vs[i] = strconv.Itoa(v)
	}
	return strings.Join(vs, ",")
}
