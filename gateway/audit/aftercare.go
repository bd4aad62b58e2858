package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Actions recorded after sharing: the notices that bind recipients of
// released data, their acknowledgement, and the moves of an expiry.
const (
	ActionCorrect           = "correct"            // a correction (or a correction sent as a withdrawal) to one recipient
	ActionWithdraw          = "withdraw"           // a withdrawal to one recipient
	ActionExpire            = "expire"             // an expiry notice to one recipient
	ActionAcknowledgeNotice = "acknowledge_notice" // a recipient acknowledged a notice
	ActionReviseExpiry      = "revise_expiry"      // a release's expiry decided again with new dates
)

// AftercareActions lists the actions above, in the order the documentation
// gives them.
var AftercareActions = []string{ActionCorrect, ActionWithdraw, ActionExpire, ActionAcknowledgeNotice, ActionReviseExpiry}

// Notice kinds, as Entry.Detail["notice_kind"] records them.
const (
	NoticeCorrection = "correction"
	NoticeWithdrawal = "withdrawal"
	NoticeExpiry     = "expiry"
)

// Obligations, as Entry.Detail["obligation"] and ["done"] record them.
const (
	ObligationRectify  = "rectify"
	ObligationErase    = "erase"
	ObligationRestrict = "restrict"
	ObligationRetain   = "retain"
)

// The Entry.Detail keys of notice, acknowledgement and revision entries.
// Values are never personal data.
const (
	DetailNoticeKind     = "notice_kind"   // correction, withdrawal or expiry
	DetailRefersTo       = "refers_to"     // the indexes of the releases a notice is about, comma-separated
	DetailReason         = "reason"        // a notice's reason code
	DetailObligation     = "obligation"    // what the recipient must do
	DetailRetention      = "retention"     // the retention rule's id, for obligation retain
	DetailRetainUntil    = "retain_until"  // the rule's last day, if it names one
	DetailNotice         = "notice"        // the index of the notice an acknowledgement answers
	DetailDone           = "done"          // what the recipient did
	DetailRelease        = "release"       // the release whose expiry was decided again
	DetailValidUntil     = "valid_until"   // the end date after a revision
	DetailDecidedAsOf    = "decided_as_of" // a revision decided as of the release's time: the basis had already ended
	DetailValidBefore    = "valid_until_before"
	DetailMoved          = "moved"           // "true" when a revision moved the expiry
	DetailReleasedDigest = "released_digest" // sha256:<hex> of what was released
	// An acknowledgement made while the gateway of the notice's sender (a
	// peer) did not answer has DetailPeerOutcome PeerOutcomeDeferred; the
	// entry that forwards it later names it (DetailForwards) and the time
	// it was made (DetailAcknowledgedAt, RFC 3339), and so does the
	// sender's gateway's entry of it.
	DetailPeerOutcome    = "peer_outcome"
	DetailForwards       = "forwards"
	DetailAcknowledgedAt = "acknowledged_at"
	PeerOutcomeDeferred  = "deferred"
	// So has, to the same end, one made while this gateway's registry
	// offboards the peer gateway the notice came through (it calls that
	// gateway no more): PeerOutcomePeerOffboarded. Its forward waits until
	// the registry takes the peer back, and is not tried meanwhile.
	PeerOutcomePeerOffboarded = "peer_offboarded"
	// So has, to the same end, one made while this gateway's registry no
	// longer lists the gateway the notice came through as a peer (it
	// cannot call it): PeerOutcomePeerNotRegistered. Its forward waits
	// until the registry lists that gateway again, and is not tried
	// meanwhile.
	PeerOutcomePeerNotRegistered = "peer_not_registered"
	// So has, to the same end, one the sender's gateway answered with a
	// claim that would settle it (ALREADY_ACKNOWLEDGED) without a receipt
	// of its entry of it that holds: DetailPeerDenial PeerDenialUnverified.
	DetailPeerDenial     = "peer_denial"
	PeerDenialUnverified = "unverified"
)

// A TrackedRelease is a release whose legal basis ends: the gateway tells
// its recipient when it does, unless the release was withdrawn, corrected
// or its expiry already notified (Closed).
type TrackedRelease struct {
	Index      int64  // the release's entry
	Recipient  string // agency id
	Holder     string // agency id
	Subject    string // audit pseudonym
	LegalBasis string // id
	RecordType string
	ValidUntil string // YYYY-MM-DD, the last day the basis covers
	RevisedBy  int64  // the last revise_expiry entry that moved it, or -1
	ClosedBy   int64  // the notice that closed it, or -1 while open
}

// A SentNotice is a correction, withdrawal or expiry notice sent to one
// recipient, with its acknowledgement.
type SentNotice struct {
	Index      int64
	Kind       string // NoticeCorrection, NoticeWithdrawal or NoticeExpiry
	Recipient  string
	Holder     string
	Subject    string // audit pseudonym
	RecordType string
	RefersTo   []int64
	Reason     string
	Obligation string
	Sent       time.Time
	AckIndex   int64 // the acknowledgement's entry, or -1 while open
	AckTime    time.Time
	Done       string // what the recipient said it did
	// ForwardDue is true while an acknowledgement made here, when the
	// peer gateway the notice came through did not answer, is still to
	// be forwarded there; ForwardedBy is the entry that forwarded such an
	// acknowledgement, or -1.
	ForwardDue  bool
	ForwardedBy int64
	// Swept is true once the unread inbox items of the releases it refers
	// to have been withdrawn from the recipient's inbox.
	Swept bool
	// SupersededBy is the later notice that refers to this one (a
	// correction is itself a release) and was sent before this one was
	// acknowledged, or -1: that notice replaced it, and withdrew it from
	// the recipient's inbox if it was still unread, so it is closed
	// without an acknowledgement.
	SupersededBy int64
}

// A Revision moves the expiry of a tracked release.
type Revision struct {
	Release    int64
	By         int64 // the revise_expiry entry
	ValidUntil string
}

// A Closure closes a tracked release.
type Closure struct {
	Release int64
	By      int64 // the notice
}

// A Supersession records that notice By refers to an earlier notice
// (Notice, a correction) to the same recipient. Stores apply it only to a
// notice not acknowledged before By and not superseded yet.
type Supersession struct {
	Notice int64
	By     int64
}

// An Ack records a notice's acknowledgement. Deferred is true when it
// is still to be forwarded to the peer gateway the notice came through.
type Ack struct {
	Notice   int64
	By       int64
	Time     time.Time
	Done     string
	Deferred bool
}

// A Forward records that a deferred acknowledgement of a notice was
// forwarded to its peer gateway, by entry By.
type Forward struct {
	Notice int64
	By     int64
}

// AftercareChanges are what a range of log entries changes in the
// aftercare state. Stores apply the inserts first, then the updates; an
// insert of a row already there is ignored, a closure or acknowledgement
// of a row already closed or acknowledged too, and so is a forward of an
// acknowledgement that was not deferred or is forwarded already. Acks
// are applied before Forwards.
type AftercareChanges struct {
	Releases  []TrackedRelease
	Notices   []SentNotice
	Revisions []Revision
	Closures  []Closure
	Acks      []Ack
	Forwards  []Forward
	// Supersessions are applied last.
	Supersessions []Supersession
}

// SentNoticeFilter selects notices. Zero fields match everything.
type SentNoticeFilter struct {
	Recipient  string
	Kind       string
	Subject    string
	SentBefore time.Time
	// IncludeAcked includes the closed notices: acknowledged ones and
	// superseded ones (SentNotice.SupersededBy). Without it only open
	// notices match.
	IncludeAcked bool
	Unswept      bool  // only notices not yet swept
	ForwardDue   bool  // only notices whose acknowledgement is still to be forwarded (with IncludeAcked)
	After        int64 // only indexes > After; -1 or less for all
	Limit        int   // 0 means 100
}

// A Fingerprint is a keyed digest of content released to a recipient,
// bound to the subject's audit pseudonym, stored with the release's entry
// (or, by AddFingerprints, before it and confirmed with its index after).
// It never holds content or an identifier: the stores keep only the
// subject's [SubjectTag], by which they keep a release's fingerprints
// together.
type Fingerprint struct {
	Recipient string
	Subject   string // the audit pseudonym of the subject the content is about
	FP        [32]byte
	RequestID string // the releasing exchange's request id
	After     int64  // the log size when it was written: the release's index is at least this
}

// Complete reports whether f has the recipient, subject and request id
// that every stored fingerprint needs.
func (f Fingerprint) Complete() bool {
	return f.Recipient != "" && f.Subject != "" && f.RequestID != ""
}

// SubjectTag is the part of a subject's audit pseudonym that the stores
// keep with its fingerprints: the 8 bytes after "apsn:" (fewer if the
// pseudonym is shorter). The stores key fingerprints by recipient, tag and
// fingerprint, so that the fingerprints of one release, all about one
// subject, lie together: stored under the fingerprint alone, each of a
// Disclose's six or seven went to a page of its own at a random place of
// the index, and half the pages its commit wrote were theirs
// (docs/performance.md). The SQL of the stores' migrations takes the same
// bytes (substr from the 6th byte, 8 long), and a fingerprint stored before
// them has the empty tag when its release's subject could not be found.
//
// A tag is not a subject's identifier: subjects may share one. Since a
// fingerprint is bound to its subject, content about another subject
// never has the same fingerprint, so keying by the tag changes no match.
func SubjectTag(pseudonym string) []byte {
	const prefix = len("apsn:")
	if len(pseudonym) <= prefix {
		return []byte{}
	}
	return []byte(pseudonym[prefix:min(prefix+8, len(pseudonym))])
}

// A FingerprintMatch is a stored fingerprint that matched.
type FingerprintMatch struct {
	FP        [32]byte
	RequestID string
	After     int64
	Index     int64 // the confirmed release index, or -1 if not confirmed yet
}

// An AftercareStore keeps the state that outlives a request after
// sharing, beside the log in the same database: the releases whose legal
// basis ends, the notices sent and their acknowledgements (both a
// projection of the log, rebuilt from it by [SyncAftercare]), the keyed
// fingerprints of released content, and leases for the timers. The audit
// stores implement it; audittest.RunAftercare is its conformance suite.
// Methods MUST be safe for concurrent use, also by several processes.
type AftercareStore interface {
	Leaser
	// AftercareWatermark returns the index of the first log entry not yet
	// projected.
	AftercareWatermark(ctx context.Context) (int64, error)
	// ApplyAftercare applies the changes that the entries [from, to) make
	// and moves the watermark to to, in one transaction, if the watermark
	// is still from; otherwise it changes nothing and returns false.
	ApplyAftercare(ctx context.Context, from, to int64, ch AftercareChanges) (bool, error)
	// DueReleases returns up to limit open tracked releases whose
	// ValidUntil is before day (YYYY-MM-DD) and whose index is greater
	// than after (-1 for all), by index: the next page after a full one
	// starts after its last.
	DueReleases(ctx context.Context, day string, after int64, limit int) ([]TrackedRelease, error)
	// OpenReleases returns the open tracked releases about subject made
	// by holder, by index.
	OpenReleases(ctx context.Context, subject, holder string) ([]TrackedRelease, error)
	// TrackedRelease returns the tracked release at index, if any.
	TrackedRelease(ctx context.Context, index int64) (TrackedRelease, bool, error)
	// Notices returns the notices f selects, by index.
	SentNotices(ctx context.Context, f SentNoticeFilter) ([]SentNotice, error)
	// MarkSwept records that a notice's unread items were withdrawn.
	MarkSwept(ctx context.Context, notice int64) error
	// WithdrawUnread withdraws recipient's unacknowledged inbox items that
	// were delivered under the given entries: Inbox never returns them
	// again, and their payloads are dropped. It returns how many it
	// withdrew.
	WithdrawUnread(ctx context.Context, recipient string, entries []int64) (int, error)
	// AddFingerprints stores fingerprints; one already stored is ignored.
	// Each needs a recipient, a subject and a request id
	// ([Fingerprint.Complete]).
	AddFingerprints(ctx context.Context, fps []Fingerprint) error
	// ConfirmFingerprints records the index of the release that the
	// fingerprints written under requestID belong to; those confirmed
	// already (stored with their entry) keep theirs.
	ConfirmFingerprints(ctx context.Context, requestID string, index int64) error
	// MatchFingerprints returns the stored fingerprints of content about
	// subject (an audit pseudonym) released to recipient that are among
	// fps: those stored under the subject's [SubjectTag], and those stored
	// before the stores kept tags whose release's subject was not found.
	MatchFingerprints(ctx context.Context, recipient, subject string, fps [][32]byte) ([]FingerprintMatch, error)
	// HasFingerprints reports whether any fingerprint of content about
	// subject released to recipient is stored, wherever MatchFingerprints
	// looks (under the subject's tag or the empty one). When none is, no
	// lookup for that recipient and subject can match anything, and the
	// onward check need not fingerprint the record it checks.
	HasFingerprints(ctx context.Context, recipient, subject string) (bool, error)
}

// aftercarePage is how many entries SyncAftercare projects at a time.
const aftercarePage = 1000

// SyncAftercare brings st's projection of the log up to the log's end: it
// reads the entries after the watermark and applies what they change. Any
// replica may call it at any time; concurrent calls apply each range once.
func SyncAftercare(ctx context.Context, q Querier, st AftercareStore) error {
	for {
		from, err := st.AftercareWatermark(ctx)
		if err != nil {
			return unavailable("aftercare sync", err)
		}
		recs, err := q.Query(ctx, Filter{Start: from, Limit: aftercarePage})
		if err != nil {
			return unavailable("aftercare sync", err)
		}
		if len(recs) == 0 {
			return nil
		}
		if recs[0].Index != from {
			return fmt.Errorf("audit: aftercare sync: the log read from %d starts at %d", from, recs[0].Index)
		}
		to := recs[len(recs)-1].Index + 1
		if to-from != int64(len(recs)) {
			return fmt.Errorf("audit: aftercare sync: entries [%d, %d) are not consecutive", from, to)
		}
		if _, err := st.ApplyAftercare(ctx, from, to, ProjectAftercare(recs)); err != nil {
			return unavailable("aftercare sync", err)
		}
		// Applied, or another replica moved the watermark first: read on.
	}
}

// trackedActions are the exchanges whose releases the gateway tracks to
// their legal basis's end.
var trackedActions = []string{"disclose", "request", "notify", ActionCorrect}

// ProjectAftercare returns what the records change in the aftercare
// state. It reads only what the entries say.
func ProjectAftercare(recs []Record) AftercareChanges {
	var ch AftercareChanges
	for _, rec := range recs {
		e, err := rec.Decoded()
		if err != nil {
			continue // not an entry this projection understands
		}
		if tr, ok := trackedRelease(rec.Index, e); ok {
			ch.Releases = append(ch.Releases, tr)
		}
		switch e.Action {
		case ActionCorrect, ActionWithdraw, ActionExpire:
			n, ok := NoticeOf(rec.Index, e)
			if !ok {
				continue
			}
			ch.Notices = append(ch.Notices, n)
			for _, r := range n.RefersTo {
				ch.Closures = append(ch.Closures, Closure{Release: r, By: rec.Index})
				// If r is itself a notice (a correction), this one
				// supersedes it.
				ch.Supersessions = append(ch.Supersessions, Supersession{Notice: r, By: rec.Index})
			}
		case ActionAcknowledgeNotice:
			if a, ok := AckOf(rec.Index, e); ok {
				ch.Acks = append(ch.Acks, a)
			} else if n, err := strconv.ParseInt(e.Detail[DetailNotice], 10, 64); err == nil && e.Outcome == OutcomeOK && e.Detail[DetailForwards] != "" {
				ch.Forwards = append(ch.Forwards, Forward{Notice: n, By: rec.Index})
			}
		case ActionReviseExpiry:
			r, err := strconv.ParseInt(e.Detail[DetailRelease], 10, 64)
			if e.Outcome == OutcomeOK && err == nil && e.Detail[DetailMoved] == "true" && e.Detail[DetailValidUntil] != "" {
				ch.Revisions = append(ch.Revisions, Revision{Release: r, By: rec.Index, ValidUntil: e.Detail[DetailValidUntil]})
			}
		}
	}
	return ch
}

// NoticeActions are the actions whose entries send obligation notices
// (NoticeOf): the entries that can supersede one.
var NoticeActions = []string{ActionCorrect, ActionWithdraw, ActionExpire}

// SupersedingNotice returns the first of recs, by index, that supersedes
// notice (an obligation notice to recipient) as the projection records
// it (ProjectAftercare, SentNotice.SupersededBy): a later notice to the
// same recipient that refers to it. It returns -1 if none does. Stores
// call it, in the transaction of an acknowledgement, on the entries
// their projection has not read yet.
func SupersedingNotice(recs []Record, notice int64, recipient string) int64 {
	for _, rec := range recs {
		e, err := rec.Decoded()
		if err != nil {
			continue
		}
		if rec.Index <= notice || !slices.Contains(NoticeActions, e.Action) {
			continue
		}
		if n, ok := NoticeOf(rec.Index, e); ok && n.Recipient == recipient && slices.Contains(n.RefersTo, notice) {
			return rec.Index
		}
	}
	return -1
}

// AckOf reads the acknowledgement of an obligation notice that the entry
// at index records, if it records one: an acknowledge_notice entry with
// outcome ok that is not the forward of an earlier acknowledgement.
func AckOf(index int64, e *Entry) (Ack, bool) {
	n, err := strconv.ParseInt(e.Detail[DetailNotice], 10, 64)
	if e.Action != ActionAcknowledgeNotice || e.Outcome != OutcomeOK || err != nil || e.Detail[DetailForwards] != "" {
		return Ack{}, false
	}
	return Ack{Notice: n, By: index, Time: AcknowledgedAt(e), Done: e.Detail[DetailDone],
		Deferred: e.Detail[DetailPeerOutcome] == PeerOutcomeDeferred || e.Detail[DetailPeerOutcome] == PeerOutcomePeerOffboarded ||
			e.Detail[DetailPeerOutcome] == PeerOutcomePeerNotRegistered ||
			e.Detail[DetailPeerDenial] == PeerDenialUnverified}, true
}

// AcknowledgedAt is when an acknowledgement entry says the agency
// acknowledged: its DetailAcknowledgedAt for one forwarded after the fact
// (never after the entry's own time), else the entry's time.
func AcknowledgedAt(e *Entry) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, e.Detail[DetailAcknowledgedAt]); err == nil && !t.After(e.Time) {
		return t.UTC()
	}
	return e.Time
}

// trackedRelease reports whether e released something to one recipient
// under a legal basis that ends.
func trackedRelease(index int64, e *Entry) (TrackedRelease, bool) {
	if !ReleasedBy(e) || !slices.Contains(trackedActions, e.Action) || e.LegalBasis == nil ||
		e.LegalBasis.ValidUntil == "" || len(e.Recipients) != 1 || e.Subject == nil || e.Holder == nil ||
		RecipientBehindPeer(e) {
		return TrackedRelease{}, false
	}
	return TrackedRelease{
		Index: index, Recipient: e.Recipients[0].Agency, Holder: e.Holder.Agency, Subject: e.Subject.Pseudonym,
		LegalBasis: e.LegalBasis.ID, RecordType: e.RecordType, ValidUntil: e.LegalBasis.ValidUntil, RevisedBy: -1, ClosedBy: -1,
	}, true
}

// RecipientBehindPeer reports whether an entry's recipient is an agency
// of another country's gateway: a request that gateway forwarded for it
// (detail via_peer), or a push this gateway forwarded to it (detail
// peer). Such a release is tracked to the end of its legal basis by the
// recipient's gateway, whose own entry of it carries the same basis; the
// expiry notice goes from there, into the recipient's inbox.
func RecipientBehindPeer(e *Entry) bool {
	if e.Action == "request" {
		return e.Detail["via_peer"] != ""
	}
	return e.Detail["peer"] != ""
}

// NoticeOf reads the notice an entry sent, if it sent one: the entry of
// a correction, withdrawal or expiry that failed or was refused sent none,
// and closes no release.
func NoticeOf(index int64, e *Entry) (SentNotice, bool) {
	kind := e.Detail[DetailNoticeKind]
	if kind == "" || len(e.Recipients) != 1 || (e.Outcome != OutcomeOK && !ReleasedBy(e)) {
		return SentNotice{}, false
	}
	refs, err := ParseIndexes(e.Detail[DetailRefersTo])
	if err != nil {
		return SentNotice{}, false
	}
	n := SentNotice{
		Index: index, Kind: kind, Recipient: e.Recipients[0].Agency, RecordType: e.RecordType, RefersTo: refs,
		Reason: e.Detail[DetailReason], Obligation: e.Detail[DetailObligation], Sent: e.Time, AckIndex: -1, ForwardedBy: -1, SupersededBy: -1,
	}
	if e.Holder != nil {
		n.Holder = e.Holder.Agency
	}
	if e.Subject != nil {
		n.Subject = e.Subject.Pseudonym
	}
	return n, true
}

// FormatIndexes writes indexes as Entry.Detail holds them: decimal,
// comma-separated.
func FormatIndexes(xs []int64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ",")
}

// ParseIndexes reads what FormatIndexes wrote.
func ParseIndexes(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for f := range strings.SplitSeq(s, ",") {
		x, err := strconv.ParseInt(f, 10, 64)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("audit: malformed index list %q", s)
		}
		out = append(out, x)
	}
	return out, nil
}
