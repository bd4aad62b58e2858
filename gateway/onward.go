package gateway

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Onward use. An agency that passes on a record it received through the
// gateway names the release it came from (DiscloseRequest.provenance):
// the policy then decides with the conditions in force on it, and the
// next recipient gets them. The gateway keeps keyed fingerprints of the
// content it releases to each recipient (never the content), so that an
// agency that sends such content without naming where it came from is
// refused as an undeclared onward disclosure.

// isRecordRelease reports whether e records a release of a record to one
// recipient: what a provenance may name and what fingerprints describe.
func isRecordRelease(e *audit.Entry) bool {
	switch e.Action {
	case "disclose", "request", "notify", audit.ActionCorrect:
	default:
		return false
	}
	return audit.ReleasedBy(e) && len(e.Recipients) == 1 && e.Holder != nil && e.Subject != nil
}

// resolveProvenance reads the release a Disclose names as the record's
// provenance: it must be a release to the caller's agency about the same
// person (whose audit pseudonym is subject).
func (s *Server) resolveProvenance(ctx context.Context, p *liaisonv1.Provenance, agency, subject string) (*audit.Provenance, error) {
	if p == nil {
		return nil, nil
	}
	const field = "provenance.audit_index"
	e, err := s.entryAt(ctx, p.GetAuditIndex(), field)
	if err != nil {
		return nil, err
	}
	switch {
	case !isRecordRelease(e) || e.Recipients[0].Agency != agency:
		return nil, invalid(field, "is not a release of a record to your agency")
	case e.Subject.Pseudonym != subject:
		return nil, invalid(field, "is a release about another person than the record's subject")
	}
	return provenanceOf(p.GetAuditIndex(), e), nil
}

// provenanceOf is the provenance that names e, a release of a record to
// one recipient, at index.
func provenanceOf(index int64, e *audit.Entry) *audit.Provenance {
	pv := &audit.Provenance{
		Index: index, Holder: *e.Holder, Recipient: e.Recipients[0],
		Purpose: e.Purpose, Conditions: slices.Clone(e.Conditions),
	}
	if e.LegalBasis != nil {
		pv.LegalBasis, pv.ValidUntil = e.LegalBasis.ID, e.LegalBasis.ValidUntil
	}
	if e.Case != nil {
		pv.CaseID = e.Case.ID
	}
	return pv
}

// Corrections along a chain. A correction or a withdrawal reaches the
// agencies its holder released the record to. One of them that passed the
// record on (naming it as provenance) must pass the correction on in turn
// (GDPR Art. 19, LED Art. 16(6)): its notice lists those releases
// (ObligationNotice.passed_on), and when it corrects them, the correction
// is decided with the provenance of what it holds now.

// currentSource follows a provenance to the release its recipient holds
// now: the latest correction the holder sent it of the release named, or
// that release, with the last day of its basis as it stands now. withdrawnBy
// is the notice that told the recipient to erase it instead (a
// withdrawal, or a correction sent as one), or -1.
func (s *Server) currentSource(ctx context.Context, p *audit.Provenance, subject string) (_ *audit.Provenance, withdrawnBy int64, _ error) {
	type notice struct {
		index int64
		entry *audit.Entry
	}
	next := map[int64]notice{} // release -> the notice that closed it
	ends := newBasisEnds()
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: subject, Agency: p.Holder.Agency, Start: p.Index + 1}) {
		if err != nil {
			return nil, -1, err
		}
		e := r.Entry
		if e.Holder == nil || e.Holder.Agency != p.Holder.Agency {
			continue
		}
		switch e.Action {
		case audit.ActionCorrect, audit.ActionWithdraw:
			if n, ok := audit.NoticeOf(r.Index, e); ok && n.Recipient == p.Recipient.Agency {
				for _, x := range n.RefersTo {
					if _, seen := next[x]; !seen {
						next[x] = notice{r.Index, e}
					}
				}
			}
		case audit.ActionReviseExpiry, audit.ActionExpire:
			ends.see(r, p.Recipient.Agency)
		}
	}
	cur := p
	for {
		n, ok := next[cur.Index]
		if !ok {
			break
		}
		if !isRecordRelease(n.entry) || n.entry.Outcome == audit.OutcomeHitOnly {
			return nil, n.index, nil
		}
		cur = provenanceOf(n.index, n.entry)
	}
	if end := ends.end(cur.Index, cur.ValidUntil); end != cur.ValidUntil {
		c := *cur
		c.ValidUntil = end
		cur = &c
	}
	return cur, -1, nil
}

// heldSource is currentSource with what the store checks when the entry
// that passes the record on commits (audit.Change.Provenance): that the
// release the caller holds the record under now is still as read then. A
// correction, withdrawal or expiry notice of it, or a revision that moved
// its end, committed after the log was read here, refuses the exchange
// (provenanceRefusal) rather than let the record go on under the
// conditions and end the gateway read before.
func (s *Server) heldSource(ctx context.Context, p *audit.Provenance, subject string) (_ *audit.Provenance, withdrawnBy int64, _ *audit.OpenHold, _ error) {
	// Every entry before the log's size now is read below.
	size, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return nil, -1, nil, err
	}
	src, withdrawnBy, err := s.currentSource(ctx, p, subject)
	if err != nil || withdrawnBy >= 0 {
		return src, withdrawnBy, nil, err
	}
	return src, -1, &audit.OpenHold{Releases: []int64{src.Index}, From: size, Ends: true, Tracked: true}, nil
}

// reasonProvenanceChanged refuses the exchange of a record passed on
// whose source (the release it came from, or the latest correction of
// it) was corrected, withdrawn, ended or its end moved while the
// exchange was under way: it was decided on the source as it was.
const reasonProvenanceChanged = "PROVENANCE_CHANGED_MEANWHILE"

// provenanceRefusal is the refusal of an exchange whose record's source
// changed between the gateway's reading it and the commit of the entry
// (audit.Change.Provenance): nothing was released or delivered, and the
// entry, refused, describes no release.
func (ex *exchange) provenanceRefusal(ctx context.Context, pe *audit.ProvenanceChangedError) error {
	ex.fingerprints = nil
	ex.s.log.InfoContext(ctx, "the record's provenance changed before the exchange committed; refused", "request_id", ex.reqID,
		"release", pe.Release, "by", pe.By)
	what := "corrected, withdrew or ended it"
	if pe.Moved {
		what = "moved the end of its legal basis"
	}
	return &stateRefusal{reason: reasonProvenanceChanged, message: fmt.Sprintf(
		"The record came from release %d, and entry %d %s while this exchange was under way: nothing was sent. "+
			"Call again: it is decided on what you hold now.", pe.Release, pe.By, what)}
}

// maxLineage bounds how far back lineage follows corrections.
const maxLineage = 64

// lineage is a release and the releases to the same recipient it
// corrected, back to the first: a provenance naming any of them received
// a version of the record it corrects.
func (s *Server) lineage(ctx context.Context, o audit.Record) ([]int64, error) {
	out, e := []int64{o.Index}, o.Entry
	for e.Action == audit.ActionCorrect && len(out) < maxLineage {
		refs, err := audit.ParseIndexes(e.Detail[audit.DetailRefersTo])
		if err != nil || len(refs) != 1 || refs[0] >= out[len(out)-1] {
			break
		}
		if e, err = s.entryAt(ctx, refs[0], "refers_to"); err != nil {
			return nil, err
		}
		out = append(out, refs[0])
	}
	return out, nil
}

// passedOn returns the open releases by agency about subject (an audit
// pseudonym) that passed on the record of the releases rs: those that
// named one of them, or a release one of them corrected, as their
// provenance.
func (s *Server) passedOn(ctx context.Context, agency, subject string, rs ...audit.Record) ([]int64, error) {
	out, _, err := s.passedOnFrom(ctx, agency, subject, rs...)
	return out, err
}

// passedOnFrom is passedOn, which also returns the provenances it looked
// for: rs and the releases they corrected.
func (s *Server) passedOnFrom(ctx context.Context, agency, subject string, rs ...audit.Record) (_, from []int64, _ error) {
	for _, o := range rs {
		l, err := s.lineage(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		from = append(from, l...)
	}
	open, err := s.releasesOf(ctx, agency, subject, "", nil, "", true)
	if err != nil {
		return nil, nil, err
	}
	var out []int64
	for _, r := range open {
		if p := r.Entry.Provenance; p != nil && slices.Contains(from, p.Index) {
			out = append(out, r.Index)
		}
	}
	return out, from, nil
}

// notePassedOn puts in a correction or withdrawal notice about release o
// the recipient's own open releases that passed o's record on, and says
// in its message what the recipient must do about them.
func (s *Server) notePassedOn(ctx context.Context, ex *exchange, o audit.Record, n *liaisonv1.ObligationNotice) error {
	var err error
	if n.PassedOn, err = s.passedOn(ctx, o.Entry.Recipients[0].Agency, ex.entry.Subject.Pseudonym, o); err != nil || len(n.PassedOn) == 0 {
		return err
	}
	what := "correct or withdraw"
	if n.Kind == liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		what = "withdraw"
	}
	n.Message += fmt.Sprintf(" You passed it on (%s %s): %s %s too, so that their recipients learn of it, before you acknowledge.",
		plural(len(n.PassedOn), "entry", "entries"), joinIndexes(n.PassedOn), what, plural(len(n.PassedOn), "that release", "those releases"))
	return nil
}

// openPassedOn returns what the recipient of a correction, withdrawal or
// expiry notice passed on of the releases the notice is about, and has
// neither corrected nor withdrawn since. What it passed on of a correction it
// received is up to date and does not count. hold is what the store
// checks when the recipient's acknowledgement of the notice commits: that
// nothing was passed on between this read of the log and the commit.
func (s *Server) openPassedOn(ctx context.Context, n audit.SentNotice) (_ []int64, hold *audit.PassedOnHold, _ error) {
	// Every entry before the log's size now is read below.
	size, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.records(ctx, n.RefersTo) // one for a correction or withdrawal; an expiry's group
	if err != nil {
		return nil, nil, err
	}
	open, from, err := s.passedOnFrom(ctx, n.Recipient, n.Subject, rs...)
	if err != nil {
		return nil, nil, err
	}
	return open, &audit.PassedOnHold{Agency: n.Recipient, Subject: n.Subject, Provenances: from, From: size}, nil
}

// records reads the entries at indexes.
func (s *Server) records(ctx context.Context, indexes []int64) ([]audit.Record, error) {
	var out []audit.Record
	for _, i := range indexes {
		e, err := s.entryAt(ctx, i, "refers_to")
		if err != nil {
			return nil, err
		}
		out = append(out, audit.Record{Index: i, Entry: e})
	}
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// joinIndexes writes audit indexes for a sentence, as the other messages
// name entries: 4, 9, 12.
func joinIndexes(xs []int64) string {
	return strings.ReplaceAll(audit.FormatIndexes(xs), ",", ", ")
}

// policyProvenance is the policy input's view of a provenance.
func policyProvenance(p *audit.Provenance) *policies.Provenance {
	conds := slices.Clone(p.Conditions)
	if conds == nil {
		conds = []string{}
	}
	return &policies.Provenance{
		AuditIndex: p.Index,
		Holder:     policies.Party{Agency: p.Holder.Agency, Kind: p.Holder.Kind, Jurisdiction: p.Holder.Jurisdiction},
		Recipient:  policies.Party{Agency: p.Recipient.Agency, Kind: p.Recipient.Kind, Jurisdiction: p.Recipient.Jurisdiction},
		LegalBasis: p.LegalBasis, ValidUntil: p.ValidUntil, Purpose: p.Purpose, CaseID: p.CaseID, Conditions: conds,
	}
}

// contentClasses are the field classes whose values are what a holder
// knows about a person, as opposed to who the person is: identifiers and
// quasi-identifiers every agency may know independently never count as
// received content.
var contentClasses = map[string]bool{
	pseudonym.ClassOperational: true, pseudonym.ClassAssessment: true,
	pseudonym.ClassSensitive: true, pseudonym.ClassFreeText: true,
}

// minContentLen is the shortest value fingerprinted: shorter ones (codes,
// small numbers) coincide too easily to say where content came from.
const minContentLen = 4

// content is what the gateway fingerprints of a record about a person.
type content struct {
	record [32]byte // the whole record
	fields []value  // each distinct content value
	// Each distinct text of the record's other fields (a name, a
	// street) that is no content value: looked for, as content received
	// can be copied there, never stored.
	others []value
}

// A value is the fingerprint of one content value, taken of its
// normalised text (normalValue), and, where the value as written differs
// from it, of the value as written: what gateways before normalising
// stored, so that content they released is still recognised.
type value struct {
	fp, raw [32]byte
	hasRaw  bool
}

// fps returns the value's fingerprints.
func (v value) fps() [][32]byte {
	if v.hasRaw {
		return [][32]byte{v.fp, v.raw}
	}
	return [][32]byte{v.fp}
}

// normalValue is the text of a content value that its fingerprint
// describes: compatibility-normalised (NFKC, so that a decomposed accent,
// a full-width letter or a ligature is the letter it stands for), without
// invisible format characters (a zero-width space), in lower case, with
// every run of white space one space and none at either end. Content
// passed on is recognised however it was re-typed or re-encoded, as
// long as its words are the same.
func normalValue(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, norm.NFKC.String(v))
	return strings.Join(strings.Fields(strings.ToLower(v)), " ")
}

// fingerprint takes the keyed fingerprints of a record's content, bound to
// the subject's audit pseudonym. Values are taken wherever they stand, so
// that content copied into another record type is recognised too; for a
// lookup (the onward check), so is the text of the record's other fields
// (c.others), where content copied into a name or a street would stand.
func (s *Server) fingerprint(subject string, record *liaisonv1.Record, lookup bool) (content, error) {
	var c content
	if record == nil {
		return c, nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(record)
	if err != nil {
		return c, fmt.Errorf("gateway: fingerprint: %v", err)
	}
	if c.record, err = s.cfg.Pseudonyms.Fingerprint([]byte("record"), []byte(subject), b); err != nil {
		return c, err
	}
	// Content values, and the record's other text (names, streets and
	// other places a copied value can be put that are not content):
	// only looked for, never stored.
	var values, others []string
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() != nil && fd.IsList():
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			case fd.Kind() == protoreflect.StringKind:
				r := classify(fd)
				into := &values
				if !contentClasses[r.Class] {
					if r.Key || r.Generalise != "" {
						return true // a person's identifier or a date: no text fits there
					}
					into = &others
				}
				if fd.IsList() {
					for i := range v.List().Len() {
						*into = append(*into, v.List().Get(i).String())
					}
				} else {
					*into = append(*into, v.String())
				}
			}
			return true
		})
	}
	if body, _ := recordBody(record); body != nil {
		walk(body)
	}
	reg := s.registry.Load()
	norms := func(values []string, skip map[string]string) map[string]string {
		written := map[string]string{} // normalised -> a value as written
		for _, v := range values {
			n := normalValue(v)
			if len(n) < minContentLen || reg.Agencies[v] != nil || reg.Cases[v] != nil || reg.Agencies[n] != nil || reg.Cases[n] != nil {
				continue // too short, or the name of an agency or a case: shared knowledge, not content
			}
			if _, ok := skip[n]; ok {
				continue
			}
			if w, ok := written[n]; !ok || v < w {
				written[n] = v
			}
		}
		return written
	}
	take := func(written map[string]string) ([]value, error) {
		var out []value
		for _, n := range slices.Sorted(maps.Keys(written)) {
			var f value
			var err error
			if f.fp, err = s.cfg.Pseudonyms.Fingerprint([]byte("value"), []byte(subject), []byte(n)); err != nil {
				return nil, err
			}
			if w := written[n]; w != n {
				if f.raw, err = s.cfg.Pseudonyms.Fingerprint([]byte("value"), []byte(subject), []byte(w)); err != nil {
					return nil, err
				}
				f.hasRaw = true
			}
			out = append(out, f)
		}
		return out, nil
	}
	own := norms(values, nil)
	if c.fields, err = take(own); err != nil {
		return c, err
	}
	if lookup {
		if c.others, err = take(norms(others, own)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// rememberRelease fingerprints what an exchange releases to its
// recipient, under the exchange's request id, for ex.commit to store with
// the entry in one transaction (audit.Log.AppendRelease): a release never
// commits without its fingerprints, and no fingerprint outlives a release
// that did not commit.
func (s *Server) rememberRelease(ctx context.Context, ex *exchange, rel *liaisonv1.Released) error {
	st := s.cfg.Aftercare
	if st == nil || rel.GetRecord() == nil || len(ex.entry.Recipients) != 1 || ex.entry.Subject == nil {
		return nil
	}
	c, err := s.fingerprint(ex.entry.Subject.Pseudonym, rel.GetRecord(), false)
	if err != nil {
		return err
	}
	rcpt, subj := ex.entry.Recipients[0].Agency, ex.entry.Subject.Pseudonym
	fps := make([]audit.Fingerprint, 0, 1+len(c.fields))
	fps = append(fps, audit.Fingerprint{Recipient: rcpt, Subject: subj, FP: c.record, RequestID: ex.reqID})
	for _, f := range c.fields {
		// The normalised value only: the value as written is looked for
		// in what gateways stored before they normalised.
		fps = append(fps, audit.Fingerprint{Recipient: rcpt, Subject: subj, FP: f.fp, RequestID: ex.reqID})
	}
	ex.fingerprints = fps
	return nil
}

// receivedRelease makes a release that came from a peer gateway, which
// this gateway delivers to its agency, a release of this gateway's own:
// the entry records its digest (what GetReceipt and the provenance name)
// and the fingerprints of its content (rememberRelease), so that the
// recipient passes it on only by naming it, as anything else it received.
func (s *Server) receivedRelease(ctx context.Context, ex *exchange, rel *liaisonv1.Released) error {
	if err := recordDigest(ex.entry, rel); err != nil {
		return failed("ENCODE_FAILED", err)
	}
	return s.rememberRelease(ctx, ex, rel)
}

// A receivedSet remembers the agencies and subjects (audit pseudonyms)
// for which the store said that fingerprints of releases to the agency
// about the subject are stored (AftercareStore.HasFingerprints), so that
// the next onward check of the pair goes straight to the lookup. A yes
// stays true: fingerprints are only ever added, by any replica; and were
// one ever taken away, a yes remembered would cost a lookup that finds
// less, never a release missed. A no is never remembered. It holds at
// most maxReceived pairs, and starts again empty when full.
type receivedSet struct {
	mu sync.Mutex
	m  map[receivedKey]struct{}
}

type receivedKey struct{ agency, subject string }

// maxReceived bounds a receivedSet: a few megabytes of pairs.
const maxReceived = 1 << 16

func (r *receivedSet) has(agency, subject string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[receivedKey{agency, subject}]
	return ok
}

func (r *receivedSet) add(agency, subject string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= maxReceived {
		r.m = make(map[receivedKey]struct{})
	}
	r.m[receivedKey{agency, subject}] = struct{}{}
}

// An undeclared is content the caller received through the gateway and
// sends on without naming where it came from.
type undeclared struct {
	release   int64  // the release it matches
	holder    string // the agency that released it
	recipient string // the agency it was released to, which passes it on
}

// undeclaredOnward looks for earlier releases to agency whose content the
// record repeats: the whole record, or at least half of its content
// values (and two or more). Content that the release the caller named as
// the provenance carries is accounted for by it, wherever else it came
// from too (the same record received twice, say), and the half is of the
// values it does not account for: named provenance is no cover for
// content slipped in from another release. A release that passed
// the caller's own record back to it (its provenance names a release by
// the caller) brought the caller nothing it did not hold.
func (s *Server) undeclaredOnward(ctx context.Context, agency, subject string, record *liaisonv1.Record, declared *audit.Provenance) (*undeclared, error) {
	st := s.cfg.Aftercare
	if st == nil {
		return nil, nil
	}
	// An agency that was released nothing about the subject cannot pass
	// any of it on: one look at the store spares fingerprinting the
	// record and looking each value up. A yes is remembered (s.received).
	if !s.received.has(agency, subject) {
		has, err := st.HasFingerprints(ctx, agency, subject)
		if err != nil {
			return nil, fmt.Errorf("%w: fingerprints: %v", audit.ErrUnavailable, err)
		}
		if !has {
			return nil, nil
		}
		s.received.add(agency, subject)
	}
	c, err := s.fingerprint(subject, record, true)
	if err != nil {
		return nil, err
	}
	look := [][32]byte{c.record}
	for _, f := range slices.Concat(c.fields, c.others) {
		look = append(look, f.fps()...)
	}
	matches, err := st.MatchFingerprints(ctx, agency, subject, look)
	if err != nil {
		return nil, fmt.Errorf("%w: fingerprints: %v", audit.ErrUnavailable, err)
	}
	type tally struct {
		m        audit.FingerprintMatch
		fps      map[[32]byte]bool
		resolved bool
		e        *audit.Entry // the release, nil if it never committed
		idx      int64
	}
	byRelease := map[string]*tally{}
	var order []*tally
	for _, m := range matches {
		t := byRelease[m.RequestID]
		if t == nil {
			t = &tally{m: m, fps: map[[32]byte]bool{}}
			byRelease[m.RequestID] = t
			order = append(order, t)
		}
		t.fps[m.FP] = true
	}
	resolve := func(t *tally) error {
		if !t.resolved {
			e, idx, err := s.releaseOf(ctx, t.m, agency, subject)
			if err != nil {
				return err
			}
			t.e, t.idx, t.resolved = e, idx, true
		}
		return nil
	}
	var covered map[[32]byte]bool
	if declared != nil {
		for _, t := range order {
			if err := resolve(t); err != nil {
				return nil, err
			}
			if t.e != nil && t.idx == declared.Index {
				covered = t.fps
				break
			}
		}
	}
	// The values the declared provenance accounts for are received
	// content, not the caller's own: they do not dilute what else the
	// record repeats. Half is of the values left.
	isCovered := func(f value) bool { return slices.ContainsFunc(f.fps(), func(fp [32]byte) bool { return covered[fp] }) }
	left := 0
	for _, f := range c.fields {
		if !isCovered(f) {
			left++
		}
	}
	for _, t := range order {
		// A value counts once, matched as normalised or as written. Text
		// of another field counts where it matches: received content
		// copied into a name or a street is among the record's values.
		record, fields, copied := t.fps[c.record] && !covered[c.record], 0, 0
		matched := func(f value) bool {
			return slices.ContainsFunc(f.fps(), func(fp [32]byte) bool { return t.fps[fp] }) && !isCovered(f)
		}
		for _, f := range c.fields {
			if matched(f) {
				fields++
			}
		}
		for _, f := range c.others {
			if matched(f) {
				copied++
			}
		}
		fields += copied
		if !record && (fields < 2 || 2*fields < left+copied) {
			continue
		}
		if err := resolve(t); err != nil {
			return nil, err
		}
		if t.e == nil || (declared != nil && declared.Index == t.idx) {
			continue
		}
		if p := t.e.Provenance; p != nil && p.Holder.Agency == agency {
			// Passed back to its source, naming the source's own release:
			// the caller's own record, which it holds under no one's
			// conditions.
			continue
		}
		return &undeclared{release: t.idx, holder: t.e.Holder.Agency, recipient: agency}, nil
	}
	return nil, nil
}

// releaseOf finds the committed release a fingerprint was stored for, or
// nil if it never committed.
func (s *Server) releaseOf(ctx context.Context, m audit.FingerprintMatch, agency, subject string) (*audit.Entry, int64, error) {
	if m.Index >= 0 {
		e, err := s.entryAt(ctx, m.Index, "index")
		if err != nil {
			return nil, -1, err
		}
		if isRecordRelease(e) && e.RequestID == m.RequestID {
			return e, m.Index, nil
		}
		return nil, -1, nil
	}
	recs, err := s.cfg.Audit.Query(ctx, audit.Filter{Agency: agency, Subject: subject, Start: m.After, Limit: 1000})
	if err != nil {
		return nil, -1, err
	}
	for _, r := range recs {
		if r.Entry.RequestID == m.RequestID && isRecordRelease(r.Entry) {
			if err := s.cfg.Aftercare.ConfirmFingerprints(ctx, m.RequestID, r.Index); err != nil {
				s.log.WarnContext(ctx, "fingerprints not confirmed", "audit_index", r.Index, "error", err)
			}
			return r.Entry, r.Index, nil
		}
	}
	return nil, -1, nil
}

// reasonUndeclaredOnward is the reason of the gateway's own denial of an
// undeclared onward disclosure, made whatever the policy allowed
// (RecordedFromEntry does not replay it as the policy's).
const reasonUndeclaredOnward = "UNDECLARED_ONWARD_DISCLOSURE"

// refuseUndeclared is the gateway's refusal of an undeclared onward
// disclosure, recorded in the exchange's entry.
func refuseUndeclared(ex *exchange, u *undeclared) error {
	if ex.entry.Detail == nil {
		ex.entry.Detail = map[string]string{}
	}
	ex.entry.Detail["matches_release"] = fmt.Sprint(u.release)
	ex.entry.Reasons = nil // the gateway's rule refuses, whatever the policy allowed
	how := "it must name that release as its provenance"
	switch {
	case ex.in.Action == "notify":
		// A notice has no provenance: the fact is the caller's own.
		how = "it goes only by Disclose, naming that release as its provenance, not as a notice"
	case ex.in.Action == "request":
		// The holder's system served it; the requester can name nothing.
		how = "the holder may pass it on only by Disclose, naming that release as its provenance, not in answer to a Request"
	case ex.entry.Action == audit.ActionCorrect:
		// A correction has the provenance of the release it corrects.
		how = "it goes only by Disclose, naming that release as its provenance, not as a correction of a release that did not name it"
	}
	return &denial{
		reason: reasonUndeclaredOnward,
		message: fmt.Sprintf("This record repeats what %s received through Liaison from %s (entry %d). "+
			"Passing it on is an onward disclosure: %s, so that the conditions it came with are applied.",
			u.recipient, u.holder, u.release, how),
		auditIdx: -1,
	}
}

// errNoAftercare is the failure of an aftercare call on a gateway without
// an aftercare store.
var errNoAftercare = fmt.Errorf("%w: this gateway keeps no aftercare state", audit.ErrUnavailable)

// aftercare returns the store, or the failure without one.
func (s *Server) aftercare() (audit.AftercareStore, error) {
	if s.cfg.Aftercare == nil {
		return nil, errNoAftercare
	}
	return s.cfg.Aftercare, nil
}

// applyOnward completes one recipient's exchange of a Disclose with where
// the record came from: the provenance the caller named goes into the
// entry and the policy input; content the caller received and sends on
// without naming it is refused (UNDECLARED_ONWARD_DISCLOSURE), before the
// policy is asked.
func (s *Server) applyOnward(ctx context.Context, ex *exchange, declared *liaisonv1.Provenance, record *liaisonv1.Record) error {
	agency, subject := ex.caller.Agency.ID, ex.entry.Subject.Pseudonym
	prov, err := s.resolveProvenance(ctx, declared, agency, subject)
	if err != nil {
		return err
	}
	if prov != nil {
		// What its source has told the caller to erase goes no further.
		src, withdrawnBy, hold, err := s.heldSource(ctx, prov, subject)
		if err != nil {
			return err
		}
		if withdrawnBy < 0 {
			ex.srcHold = hold
			// The basis the caller holds the record under now, its last
			// day as it stands now (moved by a revision, or the day an
			// expiry notice said it ended) and the conditions it holds it
			// under now: a correction's, if its source corrected it (as
			// a correction of the caller's is decided, correctOne).
			prov.LegalBasis, prov.ValidUntil, prov.Conditions = src.LegalBasis, src.ValidUntil, slices.Clone(src.Conditions)
		}
		ex.entry.Provenance = prov
		ex.in.Provenance = policyProvenance(prov)
		if withdrawnBy >= 0 {
			return &denial{reason: "PROVENANCE_WITHDRAWN", refusal: true, auditIdx: -1, message: fmt.Sprintf(
				"This record may not go on: %s, which released it to you under entry %d, has since told you to erase it (entry %d).",
				prov.Holder.Agency, prov.Index, withdrawnBy)}
		}
	}
	u, err := s.undeclaredOnward(ctx, agency, subject, record, prov)
	if err != nil {
		return err
	}
	if u != nil {
		return refuseUndeclared(ex, u)
	}
	return nil
}

// checkProvenance refuses, for the whole call, a Disclose whose provenance
// names no release of this record's subject to the caller.
func (s *Server) checkProvenance(ctx context.Context, call *exchange, req *liaisonv1.DiscloseRequest, subject pseudonym.SubjectID) error {
	if req.GetProvenance() == nil {
		return nil
	}
	ps, err := s.cfg.Pseudonyms.AuditPseudonym(subject)
	if err != nil {
		return err
	}
	_, err = s.resolveProvenance(ctx, req.GetProvenance(), call.caller.Agency.ID, ps)
	return err
}

// basisEnds reads, from a subject's log entries, how the ends of releases'
// legal bases moved after they were released, as the aftercare projection
// does (audit.ProjectAftercare): the day an expiry notice said a basis
// ended, else the day a revision (ReviseExpiry) last moved it to.
type basisEnds struct {
	revised map[int64]string // release -> the last day a revision moved its end to
	ended   map[int64]string // release -> the day the first expiry notice said its basis covered
}

func newBasisEnds() basisEnds {
	return basisEnds{revised: map[int64]string{}, ended: map[int64]string{}}
}

// see takes r into account if it is a revision that moved a release's end,
// or an expiry notice (to recipient, if recipient is not empty), and
// reports whether it is either kind of entry.
func (b basisEnds) see(r audit.Record, recipient string) bool {
	e := r.Entry
	switch e.Action {
	case audit.ActionReviseExpiry:
		x, err := strconv.ParseInt(e.Detail[audit.DetailRelease], 10, 64)
		if e.Outcome == audit.OutcomeOK && err == nil && e.Detail[audit.DetailMoved] == "true" && e.Detail[audit.DetailValidUntil] != "" {
			b.revised[x] = e.Detail[audit.DetailValidUntil]
		}
		return true
	case audit.ActionExpire:
		if n, ok := audit.NoticeOf(r.Index, e); ok && (recipient == "" || n.Recipient == recipient) && e.LegalBasis != nil {
			for _, x := range n.RefersTo {
				if _, seen := b.ended[x]; !seen {
					b.ended[x] = e.LegalBasis.ValidUntil
				}
			}
		}
		return true
	}
	return false
}

// end is the end of release x's basis as it stands now, given the end the
// release recorded.
func (b basisEnds) end(x int64, recorded string) string {
	if v, ok := b.ended[x]; ok {
		return v
	}
	if v, ok := b.revised[x]; ok {
		return v
	}
	return recorded
}
