package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/internal/spelling"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// The order of an exchange between two gateways: the gateway that
// forwards (the requester's for a Request, the holder's for a Disclose)
// logs first, the gateway that answers acts only on what the forwarding
// gateway has logged, and whatever is delivered is delivered only after
// both have logged it.
//
//  1. The forwarding gateway decides under its own law (for a Request the
//     stages that do not depend on the subject, which it does not know yet:
//     precheck; for a Disclose the holder's whole decision, and it
//     transforms the record), then appends a pending entry (outcome
//     pending, detail.phase forwarded, the assertion's digest) and sends
//     the call with that entry's receipt (PeerForward).
//  2. The answering gateway checks the receipt against the forwarding
//     gateway's checkpoint key and that the entry is this very call (its
//     officer, its assertion, its parties, record type and purpose, and for
//     a Disclose the digest of the record it carries), claims it once,
//     applies its own law, and appends its entry (for a Disclose with the
//     delivery to the recipient's inbox, in the same transaction) with the
//     forwarding gateway's receipt beside it. It answers with its own
//     receipt, which names the pending entry (detail.peer_index).
//  3. The forwarding gateway checks that receipt and appends its final
//     entry with it (detail.pending_index names its pending entry); for a
//     Request only then does its officer get the record.
//
// So an entry of the answering gateway always has a pending entry of the
// forwarding gateway behind it, and nothing reaches a recipient that only
// one log records. A gateway that stops between the steps leaves a pending
// entry without a final one (the forwarding gateway stopped), or a final
// entry that says failed with PEER_UNAVAILABLE (the answering gateway did
// not answer): the answering gateway's log, which names the pending entry
// if it acted on it, says whether it delivered.

// phaseForwarded marks a pending entry logged before forwarding.
const phaseForwarded = "forwarded"

// errPeerNoAnswer reports a peer gateway that did not answer a call that
// had already been forwarded: it may have acted on it.
var errPeerNoAnswer = fmt.Errorf("%w: no answer after forwarding", errPeer)

// subjectFreeStages are the stages of data.liaison.decision that do not
// depend on the subject's attributes: a request can be refused on them
// before it leaves for the holder's gateway.
var subjectFreeStages = []string{"validation", "parties", "prohibition", "assessment_to_ngo", "recipient_law"}

// precheck applies this gateway's law to a request before it is
// forwarded: the requester's gateway does not know the subject's
// attributes until the holder's gateway answers, so it refuses here what
// its policy refuses whatever they are (the recipient's receipt rules,
// prohibitions, assessments to NGOs, malformed parties), and decides in
// full on receipt.
func (s *Server) precheck(ctx context.Context, ex *exchange) error {
	eng := s.policy.Current()
	ex.entry.PolicyRevision = eng.Revision()
	x, err := eng.Explanation(ctx, ex.in)
	if err == nil && (x.Decision.Outcome != policies.OutcomeDeny || !slices.Contains(subjectFreeStages, x.Stage)) {
		return nil
	}
	if _, err := s.decide(ctx, ex); err != nil {
		ex.detail()["checked"] = "before_forwarding"
		return err
	}
	return nil // the policy was swapped in between: decide on receipt
}

// detail returns the entry's detail map, made if need be.
func (ex *exchange) detail() map[string]string {
	if ex.entry.Detail == nil {
		ex.entry.Detail = map[string]string{}
	}
	return ex.entry.Detail
}

// pendingForward appends the pending entry of an exchange about to be
// forwarded to a peer gateway (after callPeer, so that it names the
// assertion), and returns the PeerForward that proves it: the receipt of
// the entry for recipient, with the digest of rel.
func (s *Server) pendingForward(ctx context.Context, ex *exchange, recipient string, rel *liaisonv1.Released) (*liaisonv1.PeerForward, error) {
	e := *ex.entry
	e.Detail = maps.Clone(ex.entry.Detail)
	e.Detail["phase"] = phaseForwarded
	e.Outcome = audit.OutcomePending
	e.Reasons = []string{"FORWARDED_TO_PEER"}
	if rel == nil {
		e.FieldsDisclosed = nil
	}
	// Forwarded, it is done there: it goes only to an agency this
	// gateway's registry still delivers to (or, for a request, answers),
	// and only while the cases it rests on stand (cases.go): a case of
	// the registry file as the registry in force has it (registryHolds:
	// one that dropped the case, or took the recipient out of it, since
	// the call began refuses it, CASE_CLOSED, NOT_A_CASE_MEMBER or, for a
	// notice routed by a receipt within the case, CASE_CHANGED_MEANWHILE),
	// a case of the store as the store has it when the pending entry
	// commits. No other registry applies until the pending entry has
	// committed (done).
	holds := ex.holds()
	done, err := ex.recipientStanding(ctx, holds...)
	if he, ok := errors.AsType[*audit.CaseHoldError](err); ok {
		return nil, ex.heldRefusal(ctx, he) // nothing was forwarded
	}
	if err != nil {
		return nil, err // nothing was forwarded
	}
	var idx int64
	if len(holds) > 0 {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		idx, err = s.cfg.Audit.AppendState(actx, &e, audit.Change{Holds: holds})
		cancel()
		if he, ok := errors.AsType[*audit.CaseHoldError](err); ok {
			done()
			return nil, ex.heldRefusal(ctx, he) // nothing was forwarded
		}
		if err != nil && !errors.Is(err, audit.ErrUnavailable) {
			err = errors.Join(audit.ErrUnavailable, err)
		}
	} else {
		idx, err = s.append(ctx, &e)
	}
	done()
	if err != nil {
		return nil, err // nothing was forwarded
	}
	ex.entry.Detail["pending_index"] = strconv.FormatInt(idx, 10)
	if ex.entry.Action != "request" {
		// What the peer does with a push, a notice or a revision is done
		// once it answers: the entry that records it rests on the case as
		// it stood when it went. Only a forwarded request's record still
		// passes this gateway, to the caller, when its entry commits.
		ex.unheld = true
	}
	rc, err := s.receipt(ctx, idx, recipient, rel)
	if err != nil {
		return nil, failed("PEER_RECEIPT_FAILED", err)
	}
	ex.peerRecipient, ex.peerAction = recipient, e.Action
	// The size of the peer's log remembered here: its answer proves its
	// checkpoint consistent with it (peerview.go).
	return &liaisonv1.PeerForward{Receipt: rc, Released: rel, KnownTreeSize: s.knownPeerSize(ctx, ex.entry.Detail["peer"])}, nil
}

// forwardedFacts are what a forwarded exchange must be, as the answering
// gateway knows it from the call.
type forwardedFacts struct {
	actions    []string // the pending entry's action is one of these
	recipient  string
	holder     string
	recordType string
	purpose    string
	released   *liaisonv1.Released // for a Disclose
	// words, if set, are the justification and claimed legal basis the
	// call carries, which the pending entry must record as they are.
	words *[2]string
}

// acceptForward checks the PeerForward of a call a peer gateway made:
// its receipt verifies against the peer's checkpoint key and records the
// pending entry of this very call, which has not been acted on before.
// It records the pending entry's index and receipt in the exchange's
// entry and returns the verified receipt. A call that is not a peer's
// must carry no PeerForward.
func (s *Server) acceptForward(ctx context.Context, ex *exchange, fwd *liaisonv1.PeerForward, want forwardedFacts) (Receipt, error) {
	p, ok := peerFromContext(ctx)
	if !ok {
		if fwd != nil {
			return Receipt{}, invalid("forwarded", "only a peer gateway forwards an exchange")
		}
		return Receipt{}, nil
	}
	if fwd.GetReceipt() == nil {
		return Receipt{}, invalid("forwarded.receipt", "a peer gateway must send the receipt of the entry it logged before forwarding")
	}
	if want.released == nil && fwd.GetReleased() != nil {
		// Only a push carries a record; a request, an acknowledgement or
		// a revision carries none, and one sent would be dropped unseen.
		return Receipt{}, invalid("forwarded.released", "must be empty: only a forwarded disclosure carries a released record")
	}
	peer := s.registry.Load().Agencies[p.peer.ID]
	if peer == nil || peer.CheckpointKey == "" {
		return Receipt{}, failed("PEER_NOT_REGISTERED", errors.New("gateway: the calling peer gateway has no checkpoint key"))
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return Receipt{}, failed("PEER_NOT_REGISTERED", err)
	}
	got, err := VerifyReceipt(fwd.GetReceipt(), key, want.recipient, want.released)
	if err != nil {
		s.log.WarnContext(ctx, "a peer's forwarded exchange has no valid receipt", "peer", p.peer.ID, "error", err)
		return Receipt{}, invalid("forwarded.receipt", "does not verify against the peer gateway's checkpoint key, or is not of this exchange")
	}
	e, c := got.Entry, ex.caller
	switch {
	case !slices.Contains(want.actions, e.Action) || e.Outcome != audit.OutcomePending || e.Detail["phase"] != phaseForwarded,
		e.Detail["assertion_sha256"] != p.assertion,
		e.Requester == nil || e.Requester.Agency != c.Agency.ID || e.Requester.Officer != c.Officer.ID,
		e.Holder == nil || e.Holder.Agency != want.holder,
		len(e.Recipients) != 1 || e.Recipients[0].Agency != want.recipient,
		e.RecordType != want.recordType || e.Purpose != want.purpose:
		return Receipt{}, invalid("forwarded.receipt", "names an entry that is not the pending entry of this exchange")
	}
	if !validPeerSubject(e.Subject) {
		return Receipt{}, invalid("forwarded.receipt", "names the person's attributes ill-formed: the category must be a subject category, the dates YYYY-MM-DD, the municipality printable characters in Unicode NFC")
	}
	if !validPeerBasis(e.LegalBasis, e.Conditions) {
		return Receipt{}, invalid("forwarded.receipt", "names a legal basis or conditions not spelled as a policy's decision gives them: a basis with an id and a citation in printable characters, its last day YYYY-MM-DD from %d to %d or none; conditions reason codes, at most %d",
			firstDateYear, lastDateYear, maxPeerCodes)
	}
	// The words this gateway logs and decides on are those the
	// forwarding gateway logged: both logs say why the exchange was made
	// alike.
	if w := want.words; w != nil {
		switch {
		case w[0] != e.Justification:
			return Receipt{}, invalid("justification", "is not the justification the forwarding gateway's pending entry records")
		case w[1] != e.ClaimedLegalBasis:
			return Receipt{}, invalid("claimed_legal_basis", "is not the claimed legal basis the forwarding gateway's pending entry records")
		}
	}
	rj, err := protojson.Marshal(fwd.GetReceipt())
	if err != nil {
		return Receipt{}, failed("PEER_RECEIPT_INVALID", err)
	}
	ex.detail()["peer_index"] = strconv.FormatInt(got.Index, 10)
	ex.entry.Detail["peer_receipt"] = string(rj)
	// Each pending entry is acted on once, across replicas: a replayed
	// call (the same assertion and receipt) is refused. Without a shared
	// Once (Config.Once), once in this process.
	once := s.localOnce.on(s.now)
	if s.cfg.Once != nil {
		once = s.cfg.Once
	}
	id := sha256.Sum256(fmt.Appendf(nil, "liaison.peer-forward/v1\n%s\n%d\n", got.Origin, got.Index))
	me := sha256.Sum256([]byte(ex.reqID))
	first, err := once.Remember(ctx, id, me, s.now().Add(forwardClaimLife))
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: claim a forwarded exchange: %v", audit.ErrUnavailable, err)
	}
	if first != me {
		return Receipt{}, invalid("forwarded.receipt", "was already acted on: a forwarded exchange is accepted once")
	}
	return got, nil
}

// notePeerForward records in the entry of a call a peer gateway made the
// pending entry its PeerForward names (detail peer_index, the receipt in
// detail peer_receipt), if the receipt verifies against the peer's
// checkpoint key and is of a pending entry logged before forwarding this
// very call (its assertion's digest): so that the entry of a call refused
// before acceptForward checks the rest (a field the call must leave empty,
// say) names the forwarding gateway's pending entry too, as every entry
// this gateway makes for a forwarded exchange does. acceptForward records
// the same once it takes the call.
func (s *Server) notePeerForward(ctx context.Context, ex *exchange, fwd *liaisonv1.PeerForward) {
	p, ok := peerFromContext(ctx)
	if !ok || fwd.GetReceipt() == nil {
		return
	}
	peer := s.registry.Load().Agencies[p.peer.ID]
	if peer == nil || peer.CheckpointKey == "" {
		return
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return
	}
	got, err := VerifyReceipt(fwd.GetReceipt(), key, "", nil)
	if err != nil || got.Entry.Outcome != audit.OutcomePending || got.Entry.Detail["phase"] != phaseForwarded ||
		got.Entry.Detail["assertion_sha256"] != p.assertion {
		return
	}
	rj, err := protojson.Marshal(fwd.GetReceipt())
	if err != nil {
		return
	}
	ex.detail()["peer_index"] = strconv.FormatInt(got.Index, 10)
	ex.entry.Detail["peer_receipt"] = string(rj)
}

// forwardClaimLife is how long a claimed pending entry is remembered:
// well beyond the life of the assertion it is bound to.
const forwardClaimLife = 24 * time.Hour

// validPeerSubject reports whether the person's attributes in a peer's
// entry are spelled as this gateway takes them from its own callers
// (validSubject): a subject category, or none; dates in YYYY-MM-DD form
// from 1900 to 2199 (dateProblem);
// a municipality spelt as subject.municipality must be (printable, in
// Unicode NFC, no white space around it). They enter this log and the
// policy input as they are.
func validPeerSubject(sub *audit.Subject) bool {
	if sub == nil {
		return true
	}
	if m := sub.Municipality; municipalityProblem(m) != "" || strings.TrimSpace(m) != m {
		return false
	}
	if sub.Category != "" {
		n, ok := enumValue(liaisonv1.SubjectCategory(0).Descriptor(), sub.Category)
		if !ok || enumName(liaisonv1.SubjectCategory(n)) != sub.Category {
			return false
		}
	}
	for _, d := range []string{sub.ReleaseDate, sub.ProbationUntil} {
		if d != "" && dateProblem(d) != "" {
			return false
		}
	}
	return true
}

// validPeerBasis reports whether the legal basis and conditions of a
// peer gateway's entry are spelled as a policy's decision must give them
// (policies.Decision): a basis, if any, with an id and a citation in
// printable characters, and a last day (valid_until) in YYYY-MM-DD form
// from 1900 to 2199 (dateProblem) or none; conditions reason codes
// (peerCodes). They enter this log, and the recipient's notices and
// onward rules, as they are, and this gateway tracks the release to that
// last day: a day that is no date (2027-02-30) would be due at once or
// never, and each expiry notice for it fail (EXPIRY_DATE_INVALID), on
// every pass of the timers, the recipient never told.
func validPeerBasis(lb *audit.LegalBasis, conditions []string) bool {
	if !peerCodes(conditions...) {
		return false
	}
	if lb == nil {
		return true
	}
	// Printable as an identifier must be (spelling.Printable): a Hangul
	// filler or a variation selector, which unicode.IsPrint counts
	// printable, would enter the log as a second spelling of the basis.
	printable := func(v string) bool { return v != "" && spelling.Printable(v) }
	return printable(lb.ID) && printable(lb.Citation) && (lb.ValidUntil == "" || dateProblem(lb.ValidUntil) == "")
}

// validPeerDomain reports whether the pseudonym domain of a release a
// peer gateway forwards to recipient (one of this gateway's agencies) is
// spelled as a policy's decision names one (policies: the recipient's
// domain): <recipient>/<purpose>, a purpose this gateway knows, or
// case/<case id> of a case at the holder's gateway, an id spelled as this
// gateway spells a case's; or none. The domain is the holder's gateway's
// (its pseudonyms are made there); this gateway records it and tells the
// recipient, and a peer's decision for this recipient gives no other.
func validPeerDomain(domain, recipient string) bool {
	if domain == "" {
		return true
	}
	if p, ok := strings.CutPrefix(domain, recipient+"/"); ok {
		_, known := enumValue(liaisonv1.Purpose(0).Descriptor(), p)
		return known && strings.ToLower(p) == p
	}
	id, ok := strings.CutPrefix(domain, "case/")
	return ok && caseIDRE.MatchString(id)
}

// peerFieldRE is the form of a field name in a release (Released.fields)
// as a gateway names it (pseudonym.FieldOutcome): Message.field, then "#"
// if it was pseudonymised or "~" and the precision if it was generalised.
var peerFieldRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*\.[a-z][a-z0-9_]*(#|~[a-z]+)?$`)

// maxPeerFieldLen bounds a field name a peer's release lists.
const maxPeerFieldLen = 128

// validPeerFields reports whether the field names of a peer's release are
// spelled as a gateway names them (peerFieldRE): they enter this log as
// the fields disclosed. Only the form is checked, not this gateway's
// schema, which may be older than the holder's gateway's.
func validPeerFields(fields []string) bool {
	for _, f := range fields {
		if len(f) > maxPeerFieldLen || !peerFieldRE.MatchString(f) {
			return false
		}
	}
	return true
}

// subjectFrom sets the subject's attributes, in the policy input and the
// entry, as the peer gateway's entry records them.
func (ex *exchange) subjectFrom(sub *audit.Subject) {
	if sub == nil {
		return
	}
	ex.in.Subject = policies.Subject{Category: sub.Category, InCustody: sub.InCustody, ReleaseDate: sub.ReleaseDate,
		ProbationUntil: sub.ProbationUntil, Municipality: sub.Municipality}
	if ex.entry.Subject == nil {
		ex.entry.Subject = &audit.Subject{}
	}
	es := ex.entry.Subject
	es.Category, es.InCustody, es.ReleaseDate, es.ProbationUntil, es.Municipality = sub.Category, sub.InCustody, sub.ReleaseDate, sub.ProbationUntil, sub.Municipality
}

// pushViaPeer is the exchange of a push (a Disclose, or a Notify) for a
// recipient behind a peer gateway, after this gateway (the holder's)
// decided and transformed the record for it: pending entry, forward, the
// peer's receipt, final entry. The recipient's inbox is the peer's.
//
// A notice the policy requires to be acknowledged is tracked by both
// gateways under one id: its id, rule, deadline and escalation time are in
// the pending entry, the peer tracks it from there (its timers escalate to
// the recipient's duty role, whose inbox is there), and the final entry
// here tracks it too (this gateway's timers escalate back to the sender).
// The acknowledgement is made at the peer, which forwards it here
// (acknowledgeFromPeer) before it logs its own.
func (s *Server) pushViaPeer(ctx context.Context, ex *exchange, p *push, t *target, dec policies.Decision,
	rel *liaisonv1.Released, res *liaisonv1.RecipientResult) (*liaisonv1.RecipientResult, error) {
	rcpt := t.agency
	peer := s.registry.Load().Agencies[rcpt.Via]
	var tracked []audit.Notice
	if n := dec.Notice; n != nil && n.Required && p.action == "notify" {
		t, err := s.trackedNotice(ex, n, rcpt.ID, enumName(p.event))
		if err != nil {
			return res, err
		}
		tracked = []audit.Notice{t}
	}
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return res, err
	}
	defer cancel()
	client := liaisonv1.NewExchangeClient(conn)
	fwd, err := s.pendingForward(ctx, ex, rcpt.ID, rel)
	if err != nil {
		return res, err
	}
	resp, err := client.Disclose(pctx, &liaisonv1.DiscloseRequest{
		Subject:           p.attrs,
		Recipients:        []string{rcpt.ID},
		Purpose:           purposeEnum(t.purpose),
		ClaimedLegalBasis: t.claimed,
		Justification:     p.justification,
		Forwarded:         fwd,
	})
	if err != nil {
		if peerOffboarded(err) {
			return res, &badRequest{field: "recipients", reason: reasonOffboarded,
				problem: rcpt.ID + " has been offboarded at its own gateway, which no longer delivers to it"}
		}
		return res, s.peerError(ctx, ex, peer, err, true)
	}
	var r *liaisonv1.RecipientResult
	if rs := resp.GetResults(); len(rs) == 1 && rs[0].GetRecipient() == rcpt.ID && released(rs[0]) {
		r = rs[0]
	}
	me := ex.entry
	got, err := s.logPeerReceipt(ctx, ex, peer, r.GetReceipt(), rcpt.ID, rel, "its delivery", func(pe *audit.Entry) bool {
		// The peer's entry must be the delivery forwarded: this push,
		// from this holder to this recipient, of that record type, for
		// that purpose (a peer answers only for the agencies behind it);
		// checked before the peer's view of its log, so that a receipt
		// of another exchange never becomes the checkpoint remembered.
		if pe.Action != me.Action || pe.Holder == nil || pe.Holder.Agency != ex.caller.Agency.ID ||
			len(pe.Recipients) != 1 || pe.Recipients[0].Agency != rcpt.ID || pe.RecordType != me.RecordType || pe.Purpose != me.Purpose {
			return false
		}
		// A peer tracks a required notice under this gateway's id and
		// deadline, or (a gateway from before that) not at all.
		return audit.ReleasedBy(pe) && (pe.Detail["notice_id"] == "" ||
			pe.Detail["notice_id"] == me.Detail["notice_id"] && pe.Detail["acknowledge_by"] == me.Detail["acknowledge_by"])
	})
	if err != nil {
		return res, err
	}
	if len(tracked) > 0 && got.Entry.Detail["notice_id"] == "" {
		// Tracked here only: nobody there escalates or forwards an
		// acknowledgement, so the sender learns that none came.
		ex.entry.Detail[audit.DetailPeerTracksNotice] = "false"
	}
	idx, err := ex.commitNotices(ctx, tracked)
	if err != nil {
		return res, err
	}
	if len(tracked) > 0 {
		res.NoticeId, res.AcknowledgeBy = tracked[0].ID, ex.entry.Detail["acknowledge_by"]
	}
	s.log.InfoContext(ctx, "record pushed through a peer gateway", "request_id", ex.reqID, "audit_index", idx, "peer", peer.ID, "action", p.action,
		"peer_index", ex.entry.Detail["peer_index"], "holder", ex.caller.Agency.ID, "recipient", rcpt.ID, "outcome", ex.entry.Outcome)
	res.Outcome, res.LegalBasis, res.Conditions = rel.GetOutcome(), rel.GetLegalBasis(), rel.GetConditions()
	return res, nil
}

// logPeerReceipt checks the answering peer's receipt of its entry for the
// exchange (signed with its checkpoint key, for recipient, of rel if given,
// naming this exchange's pending entry, an entry that is what the exchange
// expects: is says so, what names it for the error), puts it in the entry,
// and checks last that its checkpoint is consistent with what the peer
// showed before (checkPeerView).
func (s *Server) logPeerReceipt(ctx context.Context, ex *exchange, peer *Agency, rc *liaisonv1.PeerReceipt, recipient string, rel *liaisonv1.Released,
	what string, is func(*audit.Entry) bool) (Receipt, error) {
	got, err := s.peerReceipt(ex, peer, rc, recipient, rel, what, is)
	if err != nil {
		return got, err
	}
	if err := s.checkPeerView(ctx, ex, peer, rc, got); err != nil {
		return Receipt{}, err
	}
	return got, nil
}

// peerReceipt is logPeerReceipt but for the check of the peer's view of
// its log, for a caller that checks more of the receipt before that.
func (s *Server) peerReceipt(ex *exchange, peer *Agency, rc *liaisonv1.PeerReceipt, recipient string, rel *liaisonv1.Released,
	what string, is func(*audit.Entry) bool) (Receipt, error) {
	bad := func(err error) (Receipt, error) { return Receipt{}, failed("PEER_RECEIPT_INVALID", err) }
	if rc == nil {
		return bad(fmt.Errorf("gateway: the peer gateway answered without the receipt of %s", what))
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return bad(err)
	}
	got, err := VerifyReceipt(rc, key, recipient, rel)
	if err != nil {
		return bad(err)
	}
	// The entry must answer this very call: it names this exchange's
	// pending entry and the digest of the assertion this call carried
	// (the peer's entry of every call it takes from a gateway records
	// it), so that an entry of another call (one that carried the same
	// pending entry's receipt, say) is no answer to this one.
	pd, d := got.Entry.Detail, ex.entry.Detail
	if pd["peer_index"] != d["pending_index"] || d["assertion_sha256"] == "" || pd["assertion_sha256"] != d["assertion_sha256"] || !is(got.Entry) {
		return bad(fmt.Errorf("gateway: the peer's receipt is not of %s for this exchange's pending entry and call", what))
	}
	rj, err := protojson.Marshal(rc)
	if err != nil {
		return bad(err)
	}
	ex.entry.Detail["peer_index"] = strconv.FormatInt(got.Index, 10)
	ex.entry.Detail["peer_receipt"] = string(rj)
	return got, nil
}

// pushActions are the actions a peer gateway forwards with Disclose: a
// disclosure, and a notice (Notify). A notice for an agency behind a peer
// federates as a disclosure does: the sending gateway decides (action
// notify), transforms, logs its pending entry and forwards it with
// pushViaPeer (its DiscloseRequest built from the notice: subject, the
// one recipient, purpose, claimed basis, justification); the receiving
// gateway logs and decides it as a notify and delivers it into the inbox.
// A required notice is tracked by both gateways, under the sending
// gateway's id and terms (see pushViaPeer and peerNotice).
var pushActions = []string{"disclose", "notify"}

// discloseFromPeer is a Disclose a peer gateway forwards: the holder's
// law decided and transformed the record there; this gateway checks that
// the peer logged it, applies its own law on receipt, logs and delivers
// into the recipient's inbox in one transaction, and answers with its
// receipt. One call, one recipient, one exchange.
func (s *Server) discloseFromPeer(ctx context.Context, ex *exchange, req *liaisonv1.DiscloseRequest) (*liaisonv1.DiscloseResponse, error) {
	if _, ok := peerFromContext(ctx); !ok {
		return nil, invalid("forwarded", "only a peer gateway forwards a disclosure")
	}
	fwd := req.GetForwarded()
	rel := fwd.GetReleased()
	reg := s.registry.Load()
	s.notePeerForward(ctx, ex, fwd) // a refusal below names the pending entry too
	switch {
	case fwd == nil:
		return nil, invalid("forwarded", "a peer gateway forwards a disclosure with the receipt of the entry it logged and the released record")
	case rel == nil:
		return nil, invalid("forwarded.released", "is required: the record as the holder's law released it")
	case req.GetRecord() != nil:
		return nil, invalid("record", "must be empty in a forwarded disclosure: the record is forwarded.released.record")
	case len(req.GetRecipients()) != 1:
		return nil, invalid("recipients", "a forwarded disclosure names exactly one recipient")
	case req.GetCaseId() != "":
		return nil, invalid("case_id", "must be empty in a forwarded disclosure: cases are each gateway's own")
	case len(req.GetRecipientRoles()) > 0:
		return nil, invalid("recipient_roles", "must be empty in a forwarded disclosure: its one recipient is recipients[0], found by the holder's gateway")
	case enumName(req.GetPurpose()) == "":
		return nil, invalid("purpose", "must name a purpose")
	case rel.GetHolder() != ex.caller.Agency.ID:
		return nil, invalid("forwarded.released.holder", "must be the agency the peer gateway acts for")
	}
	if err := validJustification(req.GetJustification(), ""); err != nil {
		return nil, err
	}
	if err := validSubject(req.GetSubject(), ""); err != nil {
		return nil, err
	}
	rcpt, ok := reg.Agencies[req.GetRecipients()[0]]
	if !ok || rcpt.Via != "" || rcpt.Kind == KindPeerGateway {
		return nil, invalid("recipients[0]", "is not an agency of this gateway")
	}
	recordType := enumName(rel.GetRecordType())
	if body, rule := recordBody(rel.GetRecord()); rel.GetRecord() != nil && (body == nil || rule.GetRecordType() != recordType) {
		return nil, invalid("forwarded.released.record", "must hold a record of the released record type")
	}
	caller := ex.caller
	ex.describe(party(caller.Agency), party(rcpt.Agency), policies.Input{
		RecordType:        recordType,
		Purpose:           enumName(req.GetPurpose()),
		ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Justification:     req.GetJustification(),
	})
	got, err := s.acceptForward(ctx, ex, fwd, forwardedFacts{actions: append(slices.Clone(pushActions), noticeActions...), recipient: rcpt.ID,
		holder: caller.Agency.ID, recordType: recordType, purpose: ex.in.Purpose, released: rel,
		words: &[2]string{req.GetJustification(), req.GetClaimedLegalBasis()}})
	if err != nil {
		return nil, err
	}
	// The release's pseudonym domain and field names enter this log (and
	// the notice of a correction or withdrawal) as they are: each must be
	// spelled as this gateway spells its own (a peer could put anything
	// there, a person's name say).
	if !validPeerDomain(rel.GetPseudonymDomain(), rcpt.ID) {
		return nil, invalid("forwarded.released.pseudonym_domain", "must be <recipient>/<purpose> or case/<case id>, as a policy's decision names a pseudonym domain")
	}
	if !validPeerDomain(got.Entry.PseudonymDomain, rcpt.ID) {
		return nil, invalid("forwarded.receipt", "names an entry whose pseudonym domain is not <recipient>/<purpose> or case/<case id>")
	}
	if !validPeerFields(rel.GetFields()) {
		return nil, invalid("forwarded.released.fields", "must name fields as a release lists them: Message.field, with # if pseudonymised or ~precision if generalised")
	}
	if slices.Contains(noticeActions, got.Entry.Action) {
		// A correction or withdrawal of an earlier release: it reaches an
		// offboarded recipient too, as a local holder's does.
		return s.noticeFromPeer(ctx, ex, rcpt, rel, got)
	}
	if rcpt.Offboarded {
		return nil, offboardedRecipient("recipients[0]") // as for a local holder's Disclose or Notify
	}
	if !audit.Released(enumName(rel.GetOutcome())) {
		return nil, invalid("forwarded.released.outcome", "must be a release")
	}
	if rel.GetPurpose() != req.GetPurpose() {
		// The recipient is told the purpose the release names; this log
		// records the push's.
		return nil, invalid("forwarded.released.purpose", "must be the purpose of the forwarded disclosure")
	}
	// The release is the one the peer's pending entry records: this
	// entry takes its legal basis (whose end this gateway tracks for the
	// recipient) from there, and what it delivered from the release.
	if (rel.GetOutcome() == liaisonv1.Outcome_OUTCOME_HIT_ONLY) != (rel.GetRecord() == nil) {
		return nil, invalid("forwarded.released.record", "must be empty in a hit-only release and hold the record in any other")
	}
	if !releaseAsLogged(got.Entry, rel) {
		return nil, invalid("forwarded.receipt", "names an entry that records another legal basis, conditions or fields than the release forwarded")
	}
	ex.in.Action, ex.entry.Action = got.Entry.Action, got.Entry.Action // a notice travels as a forwarded push
	var notice *liaisonv1.Notice
	var tracked []audit.Notice
	if pd := got.Entry.Detail; got.Entry.Action == "notify" {
		// The event, its id and a required notice's rule enter this log,
		// the notice tracked and the notice delivered: each must be spelled
		// as the sending gateway spells it (a peer could put anything
		// there, a person's identifier say).
		ev, ok := enumValue(liaisonv1.SubjectEventType(0).Descriptor(), pd["event"])
		if !ok || enumName(liaisonv1.SubjectEventType(ev)) != pd["event"] || !validEventID(pd["event_id"]) ||
			pd["notice_id"] != "" && !validNoticeRule(pd["notice_rule"]) {
			return nil, invalid("forwarded.receipt", "names a notice without a valid event type, event id (evt-...) or, for a required notice, rule id")
		}
		ex.in.Event = &policies.Event{Type: pd["event"]}
		ex.detail()["event"], ex.entry.Detail["event_id"] = pd["event"], pd["event_id"]
		notice = &liaisonv1.Notice{EventId: pd["event_id"], EventType: liaisonv1.SubjectEventType(ev)}
		if pd["notice_id"] != "" {
			n, err := s.takePeerNotice(ctx, pd, rcpt.ID, caller.Agency.ID, ex.entry.Time)
			if err != nil {
				return nil, err
			}
			tracked = []audit.Notice{n}
			by := n.Deadline.Format(time.RFC3339)
			ex.noticeDetail("notice_id", n.ID, "notice_rule", n.Rule, "acknowledge_by", by, "escalate_at", n.EscalateAt.Format(time.RFC3339))
			notice.NoticeId, notice.AcknowledgeBy, notice.Rule = n.ID, by, n.Rule
		}
	}
	// The route that found the recipient, as the holder's gateway saw it;
	// a case is that gateway's own, so a case member is named here. This
	// entry records it as a local push's does (detail route, route_area,
	// route_basis), so that a replay of this log decides with the route
	// this gateway decided with; spelled as this gateway spells them (a
	// municipality, a legal basis id), since they enter the log.
	if route, err := peerRoute(got.Entry.Detail); err != nil {
		return nil, err
	} else if route != nil {
		ex.in.Route = route
		ex.detail()["route"] = route.Role
		for k, v := range map[string]string{"route_area": route.Area, "route_basis": route.Basis} {
			if v != "" {
				ex.entry.Detail[k] = v
			}
		}
	}
	ex.subjectFrom(got.Entry.Subject)
	// The subject's pseudonym in this log: of the identifier the record
	// carries (a pseudonym if the holder's law pseudonymised it), else of
	// the holder's gateway's audit pseudonym.
	ex.subject = ""
	if body, _ := recordBody(rel.GetRecord()); body != nil {
		ex.subject = recordSubjectID(body)
	}
	if ex.subject == "" && got.Entry.Subject != nil && got.Entry.Subject.Pseudonym != "" {
		ex.subject = pseudonym.SubjectID(got.Origin + "/" + got.Entry.Subject.Pseudonym)
	}
	if ex.subject == "" {
		return nil, invalid("forwarded.released.record", "names no subject, and the peer's entry no pseudonym")
	}
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	// This country's law on receipt. The holder's law chose what to
	// release; this one decides whether the recipient may receive it.
	dec, err := s.decide(ctx, ex)
	if err != nil {
		ex.noteReceipt(dec, err) // refused on receipt: nothing is delivered
		return nil, err
	}
	e := ex.entry
	e.Outcome = enumName(rel.GetOutcome())
	e.FieldsDisclosed = rel.GetFields()
	e.Conditions = rel.GetConditions()
	e.PseudonymDomain = rel.GetPseudonymDomain()
	e.FieldPlan = nil
	e.LegalBasis = got.Entry.LegalBasis
	ex.noteReceipt(dec, nil)
	if err := s.receivedRelease(ctx, ex, rel); err != nil {
		return nil, err
	}
	d, err := s.delivery(rcpt.ID, &liaisonv1.SubscribeResponse{Sender: caller.Agency.ID, Released: rel, Notice: notice})
	if err != nil {
		return nil, err
	}
	idx, err := ex.commitNotices(ctx, tracked, d)
	if errors.Is(err, audit.ErrConflict) && len(tracked) > 0 {
		// The check above passed, but another forward of the same id
		// was tracked meanwhile: the store refused the second.
		return nil, noticeIDInUse()
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "record received from a peer gateway and delivered", "request_id", ex.reqID, "audit_index", idx,
		"peer_index", got.Index, "holder", caller.Agency.ID, "recipient", rcpt.ID, "outcome", e.Outcome, "notice_id", notice.GetNoticeId())
	res := &liaisonv1.RecipientResult{Recipient: rcpt.ID, Outcome: rel.GetOutcome(), LegalBasis: rel.GetLegalBasis(),
		Conditions: rel.GetConditions(), AuditIndex: idx, NoticeId: notice.GetNoticeId(), AcknowledgeBy: notice.GetAcknowledgeBy()}
	// The receipt names what was delivered, so that the holder's gateway
	// can check it is what it forwarded. Without it the holder's gateway
	// records a failure; the delivery stands, and both logs record it.
	if res.Receipt, err = s.receipt(ctx, idx, rcpt.ID, rel); err != nil {
		s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", idx, "error", err)
	}
	return &liaisonv1.DiscloseResponse{Results: []*liaisonv1.RecipientResult{res}}, nil
}

// noteReceipt records in the entry of a release received from a peer
// gateway (a Request's answer, a forwarded push or notice) this gateway's
// decision on receipt, dec, which decide returned with err: detail
// receipt_outcome and receipt_legal_basis, beside the holder's release
// that the entry records if it was taken, or the deny if it was refused
// (err a denial: the release is then in the peer's entry, detail
// peer_receipt, alone). Replay compares a candidate's decision on receipt
// with it (RecordedFromEntry). An err that is no decision (the call ended
// first) records nothing.
func (ex *exchange) noteReceipt(dec policies.Decision, err error) {
	if err != nil && !errors.As(err, new(*denial)) {
		return
	}
	ex.detail()["receipt_outcome"] = dec.Outcome
	if id := legalBasisID(dec); id != "" {
		ex.entry.Detail["receipt_legal_basis"] = id
	}
}

// peerRoute is the route by which the holder's gateway found the
// recipient of a push it forwarded, from its pending entry's detail (as
// pushTo writes it): competent (with the municipality of the area) or
// earlier_recipient (with the legal basis of the earlier release); nil
// for a recipient it was named or found as a case member (a case is each
// gateway's own). The area and the basis enter this gateway's policy
// input and log, so each must be spelled as this gateway spells them: a
// municipality as subject.municipality must be, a legal basis id as a
// policy's decision gives it; else the push is refused, INVALID_ARGUMENT
// on forwarded.receipt.
func peerRoute(d map[string]string) (*policies.Route, error) {
	r := d["route"]
	if r != "competent" && r != "earlier_recipient" {
		return nil, nil
	}
	area, basis := d["route_area"], d["route_basis"]
	if area != "" && (municipalityProblem(area) != "" || strings.TrimSpace(area) != area) ||
		basis != "" && (len(basis) > maxLegalBasisLen || !caseKindRE.MatchString(basis)) {
		return nil, invalid("forwarded.receipt", "names a route whose area is not spelled as a municipality or whose legal basis is not a legal basis id")
	}
	return &policies.Route{Role: r, Area: area, Basis: basis}, nil
}

// reasonNoticeIDInUse refuses a forwarded required notice whose id this
// gateway already tracks.
const reasonNoticeIDInUse = "NOTICE_ID_IN_USE"

// noticeIDInUse refuses a forwarded required notice under an id this
// gateway tracks already.
func noticeIDInUse() error {
	return &badRequest{field: "forwarded.receipt", reason: reasonNoticeIDInUse,
		problem: "names a notice_id this gateway already tracks: a required notice needs an id of its own"}
}

// takePeerNotice is peerNotice, refused NOTICE_ID_IN_USE if this gateway
// tracks its id already: the peer chose the id, and a notice this gateway
// sent, or one forwarded before, is not taken over.
func (s *Server) takePeerNotice(ctx context.Context, d map[string]string, recipient, sender string, created time.Time) (audit.Notice, error) {
	n, err := peerNotice(d, recipient, sender, created)
	if err != nil {
		return audit.Notice{}, err
	}
	known, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{ID: n.ID})
	if err != nil {
		return audit.Notice{}, fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	if len(known) > 0 {
		return audit.Notice{}, noticeIDInUse()
	}
	return n, nil
}

// peerNotice is the tracked notice of a required notice a peer gateway
// forwarded, from its pending entry's detail: the sender's id, rule,
// escalation time and deadline (the holder's law required it there), for
// recipient, from sender, delivered at created. The times are spelt as
// a gateway writes them (gatewayTime): another spelling of the same
// instant (an offset such as +02:00, a fraction of a second) would be a
// second spelling of the one deadline the two logs share.
func peerNotice(d map[string]string, recipient, sender string, created time.Time) (audit.Notice, error) {
	by, ok1 := gatewayTime(d["acknowledge_by"])
	esc, ok2 := gatewayTime(d["escalate_at"])
	if !validNoticeID(d["notice_id"]) || d["notice_rule"] == "" || !ok1 || !ok2 || esc.After(by) {
		return audit.Notice{}, invalid("forwarded.receipt", "names a required notice without a valid id, rule, escalation time and deadline (RFC 3339 in UTC to the second, e.g. 2027-01-13T10:00:00Z)")
	}
	return audit.Notice{
		ID: d["notice_id"], Recipient: recipient, Sender: sender, EventType: d["event"], Rule: d["notice_rule"],
		Created: created, EscalateAt: esc.UTC(), Deadline: by.UTC(),
	}, nil
}

// gatewayTime parses a notice's time as a gateway writes it into its
// entries: RFC 3339 in UTC to the second ("2027-01-13T10:00:00Z"), and
// no other spelling of that instant.
func gatewayTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil && t.UTC().Format(time.RFC3339) == v
}

// validEventID reports whether id is spelled as Notify spells an event's
// id: "evt-" and 20 characters of lower-case base32.
func validEventID(id string) bool {
	rest, ok := strings.CutPrefix(id, "evt-")
	return ok && len(rest) == 20 && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") == ""
}

// noticeRuleRE is the form of a required notice's rule id in a pack
// ("dk.notice.absconded.police"); maxNoticeRuleLen bounds it.
var noticeRuleRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

const maxNoticeRuleLen = 128

// validNoticeRule reports whether a peer's notice rule is spelled as a
// rule id.
func validNoticeRule(r string) bool {
	return len(r) <= maxNoticeRuleLen && noticeRuleRE.MatchString(r)
}

// validNoticeID reports whether id is spelled as trackedNotice spells a
// notice's id: "ntc-" and 20 characters of lower-case base32.
func validNoticeID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ntc-")
	return ok && len(rest) == 20 && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") == ""
}
