package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

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
	maxRecipients       = 50
	auditTimeout        = 30 * time.Second
)

// deliveryKind names what an inbox payload holds.
const deliveryKind = "liaison.v1.SubscribeResponse"

// exchange is one policy-governed transfer of a record to one recipient,
// as it passes the pipeline.
type exchange struct {
	caller  authn.Caller
	reqID   string
	subject pseudonym.SubjectID
	in      policies.Input
	entry   *audit.Entry
}

// Request pulls a record from a holder: validate, describe the subject,
// decide, fetch, transform, audit, respond.
func (s *Server) Request(ctx context.Context, req *liaisonv1.RequestRequest) (*liaisonv1.RequestResponse, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	reg := s.registry.Load()
	holder, err := s.validateRequest(reg, req)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	cs, err := s.resolveCase(reg, req.GetCaseId())
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	ex := s.newExchange(caller, "request", pseudonym.SubjectID(req.GetSubjectId()), policies.Input{
		Holder:            party(holder.Agency),
		Recipient:         party(caller.Agency),
		RecordType:        enumName(req.GetRecordType()),
		Purpose:           enumName(req.GetPurpose()),
		ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Case:              cs,
		Justification:     req.GetJustification(),
	})
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, s.fail(ctx, ex, "KEYS_UNAVAILABLE", err)
	}

	client, err := s.providerClient(holder)
	if err != nil {
		return nil, s.fail(ctx, ex, "HOLDER_UNAVAILABLE", err)
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
	defer cancel()
	desc, err := client.Describe(pctx, &liaisonv1.DescribeRequest{SubjectId: string(ex.subject)})
	found := err == nil
	if err != nil && status.Code(err) != codes.NotFound {
		return nil, s.fail(ctx, ex, "HOLDER_UNAVAILABLE", fmt.Errorf("%w: describe: %v", errProvider, status.Code(err)))
	}
	if found {
		ex.setSubject(desc.GetSubject())
	}

	dec, err := s.decide(ctx, ex)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	if !found || (dec.Outcome != policies.OutcomeHitOnly && !holdsRecordType(desc, req.GetRecordType())) {
		// The policy let the caller learn at least whether a record exists.
		ex.entry.Reasons = append(ex.entry.Reasons, "NOT_FOUND")
		ex.entry.Outcome = dec.Outcome
		if _, err := s.append(ctx, ex.entry); err != nil {
			return nil, s.statusError(ctx, err)
		}
		return nil, s.statusError(ctx, errNotFound)
	}

	var record *liaisonv1.Record
	if dec.Outcome != policies.OutcomeHitOnly {
		resp, err := client.Fetch(pctx, &liaisonv1.FetchRequest{
			SubjectId:  string(ex.subject),
			RecordType: req.GetRecordType(),
			Recipient:  caller.Agency.ID,
			Purpose:    req.GetPurpose(),
			LegalBasis: legalBasisID(dec),
			RequestId:  ex.reqID,
		})
		if err != nil {
			if status.Code(err) == codes.NotFound {
				ex.entry.Reasons = append(ex.entry.Reasons, "NOT_FOUND")
				if _, err := s.append(ctx, ex.entry); err != nil {
					return nil, s.statusError(ctx, err)
				}
				return nil, s.statusError(ctx, errNotFound)
			}
			return nil, s.fail(ctx, ex, "HOLDER_UNAVAILABLE", fmt.Errorf("%w: fetch: %v", errProvider, status.Code(err)))
		}
		record = resp.GetRecord()
		body, rule := recordBody(record)
		if body == nil || rule.GetRecordType() != ex.in.RecordType || recordSubjectID(body) != ex.subject {
			return nil, s.fail(ctx, ex, "HOLDER_RETURNED_WRONG_RECORD", errors.New("gateway: the holder returned a record of another type or subject"))
		}
	}
	rel, err := s.release(ex, dec, record, holdsRecordType(desc, req.GetRecordType()))
	if err != nil {
		return nil, s.fail(ctx, ex, "TRANSFORM_FAILED", err)
	}
	idx, err := s.append(ctx, ex.entry)
	if err != nil {
		return nil, s.statusError(ctx, err) // nothing leaves without its entry
	}
	rel.AuditIndex = idx
	s.log.InfoContext(ctx, "record released", "request_id", ex.reqID, "audit_index", idx, "requester", caller.Agency.ID,
		"holder", holder.ID, "outcome", dec.Outcome, "legal_basis", legalBasisID(dec), "record_type", ex.in.RecordType)
	return &liaisonv1.RequestResponse{Released: rel}, nil
}

// Disclose pushes a record the caller holds to each recipient's inbox, as
// the law lets each of them see it.
func (s *Server) Disclose(ctx context.Context, req *liaisonv1.DiscloseRequest) (*liaisonv1.DiscloseResponse, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	reg := s.registry.Load()
	subject, recipients, err := s.validateDisclose(reg, req)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	cs, err := s.resolveCase(reg, req.GetCaseId())
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	_, rule := recordBody(req.GetRecord())
	resp := &liaisonv1.DiscloseResponse{}
	var firstDenial *denial
	for _, rcpt := range recipients {
		ex := s.newExchange(caller, "disclose", subject, policies.Input{
			Holder:            party(caller.Agency),
			Recipient:         party(rcpt.Agency),
			RecordType:        rule.GetRecordType(),
			Purpose:           enumName(req.GetPurpose()),
			ClaimedLegalBasis: req.GetClaimedLegalBasis(),
			Case:              cs,
			Justification:     req.GetJustification(),
		})
		ex.setSubject(req.GetSubject())
		if err := s.pseudonymiseSubject(ex); err != nil {
			return nil, s.fail(ctx, ex, "KEYS_UNAVAILABLE", err)
		}
		dec, err := s.decide(ctx, ex)
		var dn *denial
		if errors.As(err, &dn) {
			firstDenial = cmpOr(firstDenial, dn)
			resp.Results = append(resp.Results, &liaisonv1.RecipientResult{
				Recipient: rcpt.ID, Outcome: liaisonv1.Outcome_OUTCOME_DENY, Reasons: ex.entry.Reasons, AuditIndex: dn.auditIdx,
			})
			continue
		}
		if err != nil {
			return nil, s.statusError(ctx, err)
		}
		rel, err := s.release(ex, dec, req.GetRecord(), true)
		if err != nil {
			return nil, s.fail(ctx, ex, "TRANSFORM_FAILED", err)
		}
		payload, err := proto.Marshal(&liaisonv1.SubscribeResponse{Sender: caller.Agency.ID, Released: rel})
		if err != nil {
			return nil, s.fail(ctx, ex, "ENCODE_FAILED", err)
		}
		// The inbox holds the released record until it is read: sealed,
		// so that the store never holds personal data in clear.
		if payload, err = s.cfg.Pseudonyms.Seal([]byte(rcpt.ID), payload); err != nil {
			return nil, s.fail(ctx, ex, "KEYS_UNAVAILABLE", err)
		}
		idx, err := s.append(ctx, ex.entry, audit.Delivery{Recipient: rcpt.ID, Kind: deliveryKind, Payload: payload})
		if err != nil {
			return nil, s.statusError(ctx, err)
		}
		s.log.InfoContext(ctx, "record disclosed", "request_id", ex.reqID, "audit_index", idx, "holder", caller.Agency.ID,
			"recipient", rcpt.ID, "outcome", dec.Outcome, "legal_basis", legalBasisID(dec), "record_type", ex.in.RecordType)
		resp.Results = append(resp.Results, &liaisonv1.RecipientResult{
			Recipient: rcpt.ID, Outcome: rel.GetOutcome(), LegalBasis: rel.GetLegalBasis(),
			Conditions: rel.GetConditions(), AuditIndex: idx,
		})
	}
	if firstDenial != nil && len(resp.Results) > 0 && !slices.ContainsFunc(resp.Results, func(r *liaisonv1.RecipientResult) bool {
		return r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY
	}) {
		return nil, s.statusError(ctx, firstDenial) // every recipient refused
	}
	return resp, nil
}

// officerInbox names an officer's own inbox, beside their agency's.
func officerInbox(c authn.Caller) string { return c.Agency.ID + "/officer/" + c.Officer.ID }

func cmpOr(a, b *denial) *denial {
	if a != nil {
		return a
	}
	return b
}

// Subscribe streams the caller's inbox from a cursor.
func (s *Server) Subscribe(req *liaisonv1.SubscribeRequest, stream grpc.ServerStreamingServer[liaisonv1.SubscribeResponse]) error {
	ctx := stream.Context()
	caller, err := s.caller(ctx)
	if err != nil {
		return err
	}
	limit := int(req.GetLimit())
	switch {
	case limit < 0 || limit > 1000:
		return s.statusError(ctx, invalid("limit", "must be between 0 and 1000"))
	case limit == 0:
		limit = 100
	}
	if req.GetAfter() < 0 {
		return s.statusError(ctx, invalid("after", "must not be negative"))
	}
	// The agency's inbox, and the officer's own (re-identified identities
	// go to the officer who asked, no one else), merged by cursor.
	var items []audit.InboxItem
	for _, box := range []string{caller.Agency.ID, officerInbox(caller)} {
		got, err := s.cfg.Audit.Inbox(ctx, box, req.GetAfter(), limit)
		if err != nil {
			return s.statusError(ctx, fmt.Errorf("%w: inbox: %v", audit.ErrUnavailable, err))
		}
		items = append(items, got...)
	}
	slices.SortFunc(items, func(a, b audit.InboxItem) int { return cmp.Compare(a.Cursor, b.Cursor) })
	items = items[:min(len(items), limit)]
	for _, it := range items {
		plain, err := s.cfg.Pseudonyms.Open([]byte(it.Recipient), it.Payload)
		if err != nil {
			return s.statusError(ctx, err)
		}
		var m liaisonv1.SubscribeResponse
		if err := proto.Unmarshal(plain, &m); err != nil {
			return s.statusError(ctx, fmt.Errorf("gateway: inbox item %d: %v", it.Cursor, err))
		}
		m.Cursor = it.Cursor
		if m.Released != nil {
			m.Released.AuditIndex = it.AuditIndex
		}
		if r := m.Reidentified; r != nil {
			r.AuditIndex = it.AuditIndex
		}
		if err := stream.Send(&m); err != nil {
			return err
		}
	}
	return nil
}

// Acknowledge marks the caller's inbox read up to a cursor.
func (s *Server) Acknowledge(ctx context.Context, req *liaisonv1.AcknowledgeRequest) (*liaisonv1.AcknowledgeResponse, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCursor() <= 0 {
		return nil, s.statusError(ctx, invalid("cursor", "must be a cursor from Subscribe"))
	}
	for _, box := range []string{caller.Agency.ID, officerInbox(caller)} {
		if err := s.cfg.Audit.Ack(ctx, box, req.GetCursor()); err != nil {
			return nil, s.statusError(ctx, fmt.Errorf("%w: ack: %v", audit.ErrUnavailable, err))
		}
	}
	return &liaisonv1.AcknowledgeResponse{}, nil
}

// validateRequest checks a Request and returns the holder.
func (s *Server) validateRequest(reg *Registry, req *liaisonv1.RequestRequest) (*Agency, error) {
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, err
	}
	if enumName(req.GetRecordType()) == "" {
		return nil, invalid("record_type", "must name one of the seven record types")
	}
	if enumName(req.GetPurpose()) == "" {
		return nil, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	holder, ok := reg.Agencies[req.GetHolder()]
	switch {
	case req.GetHolder() == "":
		return nil, invalid("holder", "is required")
	case !ok:
		return nil, invalid("holder", "is not a registered agency")
	case holder.Provider == "":
		return nil, invalid("holder", "holds no records reachable through the gateway")
	}
	return holder, nil
}

// validateDisclose checks a Disclose and returns the subject and recipients.
func (s *Server) validateDisclose(reg *Registry, req *liaisonv1.DiscloseRequest) (pseudonym.SubjectID, []*Agency, error) {
	body, rule := recordBody(req.GetRecord())
	if body == nil || rule.GetRecordType() == "" {
		return "", nil, invalid("record", "must hold one of the seven record types")
	}
	subject := recordSubjectID(body)
	if err := validSubjectID("record."+string(body.Descriptor().Name())+".subject.subject_id", string(subject)); err != nil {
		return "", nil, err
	}
	if enumName(req.GetPurpose()) == "" {
		return "", nil, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(req.GetJustification(), string(subject)); err != nil {
		return "", nil, err
	}
	if err := validSubject(req.GetSubject()); err != nil {
		return "", nil, err
	}
	if len(req.GetRecipients()) == 0 {
		return "", nil, invalid("recipients", "name at least one recipient agency")
	}
	if len(req.GetRecipients()) > maxRecipients {
		return "", nil, invalid("recipients", "at most %d recipients per call", maxRecipients)
	}
	var out []*Agency
	for i, id := range req.GetRecipients() {
		a, ok := reg.Agencies[id]
		if !ok {
			return "", nil, invalid(fmt.Sprintf("recipients[%d]", i), "is not a registered agency")
		}
		if slices.Contains(req.GetRecipients()[:i], id) {
			return "", nil, invalid(fmt.Sprintf("recipients[%d]", i), "appears twice")
		}
		out = append(out, a)
	}
	return subject, out, nil
}

func validSubjectID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "is required")
	case len(id) > maxSubjectIDLen || !utf8.ValidString(id) || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 }):
		return invalid(field, "must be at most %d printable characters", maxSubjectIDLen)
	}
	return nil
}

// validJustification requires a justification (LED Art. 25) and refuses
// one that contains the subject's identifier, which would put it in the log.
func validJustification(j, subjectID string) error {
	switch {
	case strings.TrimSpace(j) == "":
		return invalid("justification", "is required: say why the exchange is needed")
	case len(j) > maxJustificationLen:
		return invalid("justification", "must be at most %d bytes", maxJustificationLen)
	case subjectID != "" && strings.Contains(j, subjectID):
		return invalid("justification", "must not contain the subject's identifier")
	}
	return nil
}

func validSubject(a *liaisonv1.SubjectAttributes) error {
	for _, d := range []struct{ field, v string }{
		{"subject.release_date", a.GetReleaseDate()},
		{"subject.probation_until", a.GetProbationUntil()},
	} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return invalid(d.field, "must be a date in YYYY-MM-DD form")
		}
	}
	return nil
}

// resolveCase turns a case id into the case as the gateway's registry
// knows it: callers cannot claim membership of a case they are not in.
func (s *Server) resolveCase(reg *Registry, id string) (*policies.Case, error) {
	if id == "" {
		return nil, nil
	}
	c, ok := reg.Cases[id]
	if !ok {
		return nil, invalid("case_id", "is not a case registered with the gateway")
	}
	return &policies.Case{ID: c.ID, Members: slices.Clone(c.Members), Lead: c.Lead}, nil
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
