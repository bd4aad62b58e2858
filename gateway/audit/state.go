package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// State that outlives a request (multi-agency cases, required notices and
// their deadlines, the lease that elects the replica running the timers)
// lives in the store's database beside the log, so that replicas sharing a
// database share it. Every change to it is committed in the same
// transaction as the entry that records it ([Log.AppendState]): the log
// stays the authority, and the state is what its entries say.

// Statuses of a case.
const (
	CaseOpen   = "open"
	CaseClosed = "closed"
)

// Statuses of an agency in a case. The lead is a member whose agency is
// [CaseState.Lead].
const (
	MemberInvited  = "invited"  // invited, has not answered
	MemberActive   = "member"   // accepted (or opened the case)
	MemberDeclined = "declined" // declined the invitation
	MemberLeft     = "left"     // was a member and left
	MemberRemoved  = "removed"  // was a member or invited and was removed by the lead
)

// CaseSourceRegistry marks a case that the gateway's registry file
// declares: the file, not the Cases service, manages it.
const CaseSourceRegistry = "registry"

// ErrConflict is returned, wrapped, by [StateStore.AppendState] and
// [Log.AppendState] when the state changed since the caller read it (a
// case's version moved on, a notice was already acknowledged or
// escalated, a new notice's id is tracked already): nothing was appended.
// Callers read the state again.
var ErrConflict = errors.New("audit: the state changed meanwhile")

// A CaseState is one version of a multi-agency case.
type CaseState struct {
	ID string `json:"id"`
	// Kind is the policy's case kind (e.g. "nl.zvh"); empty for a case of
	// the registry file.
	Kind string `json:"kind,omitempty"`
	// Jurisdiction is the law the case is held under: its kind's pack.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Subject is the audit-domain pseudonym of the person the case is
	// about, never an identifier; empty for a case of the registry file.
	Subject string `json:"subject,omitempty"`
	// SubjectMention lets the gateway find the person's identifier in
	// what callers write about the case (the justification of a change)
	// without holding it: a keyed hash of the identifier folded as the
	// gateway folds it to find it in text (its letters and digits, in
	// lower case), and MentionLen the number of those. Empty for a case of
	// the registry file, one opened before it was kept, or one whose
	// identifier has fewer than four letters and digits.
	SubjectMention string `json:"subject_mention,omitempty"`
	MentionLen     int    `json:"mention_len,omitempty"`
	// Lead is the agency that leads the case; it is an active member.
	Lead   string `json:"lead"`
	Status string `json:"status"` // CaseOpen or CaseClosed
	// Members lists every agency ever invited, with its latest status.
	Members []Member `json:"members"`
	// Source is CaseSourceRegistry for a case of the registry file, empty
	// for one opened through the Cases service.
	Source string `json:"source,omitempty"`
	// LegalBasis is what the policy held the case under when it opened.
	LegalBasis *LegalBasis `json:"legal_basis,omitempty"`
	Opened     time.Time   `json:"opened"`
	Closed     time.Time   `json:"closed,omitzero"`
	// Version counts the changes: 1 when opened. A change writes Version+1.
	Version int64 `json:"version"`
	// AuditIndex is the index of the entry that wrote this version; stores
	// set it when they read a case.
	AuditIndex int64 `json:"-"`
}

// A Member is an agency's standing in a case.
type Member struct {
	Agency string    `json:"agency"`
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
	// By is the agency whose action gave this status (the inviting or
	// removing lead); empty when the agency acted itself.
	By string `json:"by,omitempty"`
}

// Clone returns a deep copy of c.
func (c *CaseState) Clone() *CaseState {
	if c == nil {
		return nil
	}
	out := *c
	out.Members = slices.Clone(c.Members)
	if c.LegalBasis != nil {
		lb := *c.LegalBasis
		out.LegalBasis = &lb
	}
	return &out
}

// StatusOf returns agency's status in the case, "" if it was never invited.
func (c *CaseState) StatusOf(agency string) string {
	for _, m := range c.Members {
		if m.Agency == agency {
			return m.Status
		}
	}
	return ""
}

// Active returns the agencies that are members now, the lead first.
func (c *CaseState) Active() []string {
	out := []string{}
	if c.Lead != "" {
		out = append(out, c.Lead)
	}
	for _, m := range c.Members {
		if m.Status == MemberActive && m.Agency != c.Lead {
			out = append(out, m.Agency)
		}
	}
	return out
}

// Invited returns the agencies with an open invitation.
func (c *CaseState) Invited() []string {
	out := []string{}
	for _, m := range c.Members {
		if m.Status == MemberInvited {
			out = append(out, m.Agency)
		}
	}
	return out
}

// SetStatus gives agency a status in the case, adding it if needed.
func (c *CaseState) SetStatus(agency, status, by string, at time.Time) {
	for i := range c.Members {
		if c.Members[i].Agency == agency {
			c.Members[i] = Member{Agency: agency, Status: status, Since: at, By: by}
			return
		}
	}
	c.Members = append(c.Members, Member{Agency: agency, Status: status, Since: at, By: by})
}

// Steps of a tracked notice after its delivery.
const (
	NoticeAcknowledged = "acknowledged"
	NoticeEscalated    = "escalated"
	NoticeOverdue      = "overdue" // its deadline passed without an acknowledgement
	// NoticeForwardDue marks, with its acknowledgement, a notice from an
	// agency behind a peer gateway that could not be reached: the
	// acknowledgement is still to be forwarded to it.
	NoticeForwardDue = "forward_due"
	// NoticeForwarded records that the peer gateway took that
	// acknowledgement (or had it already).
	NoticeForwarded = "forwarded"
	// NoticeWithdrawn closes one open notice unacknowledged, by its id,
	// as a [Withdrawal] closes those of a release, but with the
	// withdrawal's precondition: a notice acknowledged or withdrawn
	// already is a conflict. The sender's gateway of a notice to an agency
	// behind a peer gateway marks it when the legal basis of its release
	// ends there (the peer sends the expiry notice, which closes its own
	// copy).
	NoticeWithdrawn = "withdrawn"
)

// A Withdrawal closes the tracked notices delivered to Recipient under
// the entries Releases that are still awaiting acknowledgement: their
// sender withdrew them (Exchange.Withdraw, or a correction the law turned
// into a withdrawal), so nothing is left to acknowledge, escalate or call
// overdue. A notice acknowledged or withdrawn already is left as it is:
// a Withdrawal is never a conflict.
type Withdrawal struct {
	Recipient string
	Releases  []int64
	Time      time.Time
}

// A Notice is a required notice the gateway tracks: delivered to one
// recipient, to be acknowledged by a deadline, escalated before it.
type Notice struct {
	ID string
	// AuditIndex is the entry that delivered it; stores set it to the index
	// of the entry whose change created the notice.
	AuditIndex int64
	Recipient  string // agency
	Sender     string // agency that notified
	EventType  string // e.g. release_date_changed
	Rule       string // the policy rule that made it required
	Created    time.Time
	EscalateAt time.Time // when it is escalated if not acknowledged
	Deadline   time.Time // when it must be acknowledged by
	// Peer is the peer gateway that tracks the notice with this one, as
	// the entry that created it records it ([NoticePeer]): the gateway
	// that delivered it or the one it was forwarded to; empty for a
	// notice between this gateway's own agencies. [Log.AppendState] sets
	// it from the entry; a registry change since does not change it.
	Peer string

	// The steps, zero until they happen, each with the entry recording it.
	Acknowledged    time.Time
	AckIndex        int64
	Escalated       time.Time
	EscalationIndex int64
	Overdue         time.Time
	OverdueIndex    int64
	// Withdrawn is when its sender withdrew it unacknowledged (a
	// [Withdrawal]), with the entry of the withdrawal; the notice is
	// closed then.
	Withdrawn       time.Time
	WithdrawalIndex int64

	// For a notice whose acknowledgement could not reach the sender's peer
	// gateway at once: ForwardDue is set with the acknowledgement, and
	// Forwarded (with the entry recording it) once the peer took it.
	ForwardDue   bool
	Forwarded    time.Time
	ForwardIndex int64
}

// NoticePeer returns the peer gateway that tracks, with this gateway,
// the required notices that entry e tracks: the gateway that delivered
// them (detail via_peer), which holds the sender's inbox, or else the one
// they were forwarded to (detail peer), which holds the recipient's; ""
// for notices between this gateway's own agencies, and for notices
// forwarded to a peer that delivered them without tracking them (detail
// peer_tracks_notice false: this gateway tracks them alone).
func NoticePeer(e *Entry) string {
	if via := e.Detail["via_peer"]; via != "" {
		return via
	}
	if e.Detail[DetailPeerTracksNotice] == "false" {
		return ""
	}
	return e.Detail["peer"]
}

// DetailPeerTracksNotice is the detail, "false" in the entry of a
// required notice forwarded to a peer gateway, that says the peer
// delivered the notice without tracking it (a gateway of a release before
// such notices were tracked by both): nobody there escalates it or
// forwards its acknowledgement.
const DetailPeerTracksNotice = "peer_tracks_notice"

// Late reports whether n was not acknowledged by its deadline, as of now.
// A notice withdrawn before its deadline was never late; one withdrawn
// after it, unacknowledged, was.
func (n *Notice) Late(now time.Time) bool {
	switch {
	case !n.Acknowledged.IsZero():
		return n.Acknowledged.After(n.Deadline)
	case !n.Withdrawn.IsZero():
		return n.Withdrawn.After(n.Deadline)
	}
	return now.After(n.Deadline)
}

// Open reports whether n still awaits its acknowledgement: neither
// acknowledged nor withdrawn.
func (n *Notice) Open() bool { return n.Acknowledged.IsZero() && n.Withdrawn.IsZero() }

// A NoticeMark records one step of a tracked notice. Each step happens at
// most once, and none after the acknowledgement or the withdrawal but the
// forward's: a mark of a step already recorded, or of an acknowledged or
// withdrawn notice, is a conflict.
// NoticeForwardDue is marked only with the acknowledgement, after it in
// the same change; NoticeForwarded needs a NoticeForwardDue.
type NoticeMark struct {
	Notice string
	// NoticeAcknowledged, NoticeEscalated, NoticeOverdue, NoticeForwardDue,
	// NoticeForwarded or NoticeWithdrawn
	Step string
	Time time.Time
}

// A Change is what an entry changes in the state, committed with it.
type Change struct {
	// Case, if set, is the case's new version. Its Version MUST be one more
	// than the stored version (1 for a case not yet stored); otherwise the
	// append is a conflict.
	Case *CaseState
	// Notices are required notices delivered under the entry, to track.
	Notices []Notice
	// Marks are steps of tracked notices. No step but the forward's can
	// be marked on a withdrawn notice: such a mark is a conflict.
	Marks []NoticeMark
	// Withdrawals close tracked notices whose release the entry
	// withdraws (see [Withdrawal]).
	Withdrawals []Withdrawal
	// Fingerprints of the content the entry releases, stored with it as
	// [Pending.Fingerprints] are.
	Fingerprints []Fingerprint
	// NoticeAcks are acknowledgements of obligation notices (the
	// corrections, withdrawals and expiry notices of [SentNotice]) that the
	// entry records, as [AckOf] reads them from it; the store sets By to
	// the entry's index. The store records them in its aftercare
	// projection ([AftercareStore]) in the transaction that appends the
	// entry, as [SyncAftercare] would later (which then finds them there
	// and leaves them). Each notice MUST be in the projection and not yet
	// acknowledged; otherwise the append is a conflict: of concurrent
	// acknowledgements of one notice, by any replica, exactly one is
	// recorded. Nor MUST the notice be superseded by a notice the log
	// holds before the entry (as [SentNotice.SupersededBy] says, whether
	// or not the projection has read that notice yet), unless
	// AckSuperseded is set; otherwise the append fails with a
	// *[NoticeSupersededError], which wraps ErrConflict: of an
	// acknowledgement and a later notice that replaces the notice, the
	// one the log holds first wins, on any replica.
	NoticeAcks []Ack
	// AckSuperseded lets NoticeAcks acknowledge a superseded notice: a
	// peer gateway's forward of its recipient's acknowledgement, which
	// that gateway recorded.
	AckSuperseded bool
	// PassedOn, if set, is a precondition of NoticeAcks: the
	// acknowledging agency has not passed the record on meanwhile (see
	// [PassedOnHold]); otherwise the append fails with a
	// *[PassedOnError], which wraps ErrConflict, and nothing is appended.
	PassedOn *PassedOnHold
	// Open, if set, is a precondition of an obligation notice's entry:
	// the releases it refers to are still open (see [OpenHold]);
	// otherwise the append fails with a *[ReleaseClosedError], which
	// wraps ErrConflict, and nothing is appended.
	Open *OpenHold
	// Provenance, if set, is a precondition of an entry that releases a
	// record its sender received through the gateway (a Disclose naming
	// its provenance, a correction of a release that named one): the
	// release the sender holds the record under, as the gateway read it
	// when it decided (the provenance's latest correction), is still as
	// read. No correction, withdrawal or expiry notice of it, nor a
	// revision that moved its end, from From up to the entry's own (see
	// [OpenHold]; set Ends and Tracked); otherwise the append fails with a
	// *[ProvenanceChangedError], which wraps ErrConflict, and nothing is
	// appended: a record its source withdrew, corrected or ended while the
	// exchange was under way does not go on under what the gateway read
	// before.
	Provenance *OpenHold
	// Holds are cases the entry's exchange rests on: each MUST still stand
	// when the entry is appended, checked in its transaction (see
	// [CaseHold]); otherwise the append fails with a *[CaseHoldError],
	// which wraps ErrConflict, and nothing is appended. A member that
	// leaves, or a case that closes, while an exchange on the case's basis
	// is under way thus stops it at its commit, on every replica.
	Holds []CaseHold
	// Claims are ids the entry takes in the store's first-writer-wins set
	// (the one that refuses replayed tokens: Remember, of
	// authn.ReplayStore), each until its Expires, bound to the entry. An id
	// taken already and not expired is a conflict: of concurrent appends
	// that claim one id, by any replica, exactly one is recorded, and an
	// append that fails takes none. Expired ids are dropped as tokens are.
	Claims []Claim
}

// A CaseHold is a precondition of an entry on a case it rests on (see
// [Change.Holds]): if the store holds case ID, the case is open and each
// of Members is its lead or an active member. A case the store does not
// hold (one of the registry file, which the store never holds until it is
// imported) holds no precondition here (the gateway checks such a case
// against its registry in force): cases are never removed from the
// store, so an exchange that read a case from the store finds it there.
type CaseHold struct {
	ID      string
	Members []string
}

// A CaseHoldError is the failure of a [CaseHold]: the case was closed,
// or Agency is no longer a member of it. It wraps [ErrConflict].
type CaseHoldError struct {
	Case   string
	Closed bool   // the case is closed
	Agency string // else the agency that is no longer a member
}

func (e *CaseHoldError) Error() string {
	if e.Closed {
		return fmt.Sprintf("%v: case %s is closed", ErrConflict, e.Case)
	}
	return fmt.Sprintf("%v: %s is no longer a member of case %s", ErrConflict, e.Agency, e.Case)
}

// Unwrap returns ErrConflict: a failed hold is a conflict like any other.
func (e *CaseHoldError) Unwrap() error { return ErrConflict }

// A ProvenanceChangedError is the failure of [Change.Provenance]: entry
// By closed the release Release the record came from (a correction,
// withdrawal or expiry notice of it), or, if Moved, moved the end of its
// basis. It wraps [ErrConflict].
type ProvenanceChangedError struct {
	Release, By int64
	Moved       bool
}

func (e *ProvenanceChangedError) Error() string {
	return fmt.Sprintf("%v: release %d, the record's provenance, was changed by entry %d", ErrConflict, e.Release, e.By)
}

// Unwrap returns ErrConflict.
func (e *ProvenanceChangedError) Unwrap() error { return ErrConflict }

// CheckProvenance is the error of h, a [Change.Provenance], on recs, the
// log's entries of [OpenHold.Actions] from h.From before the entry's: a
// *[ProvenanceChangedError], or nil. Stores call it so that both say the
// same.
func CheckProvenance(recs []Record, h OpenHold) error {
	if ce, ok := errors.AsType[*ReleaseClosedError](CheckOpen(recs, h)); ok {
		return &ProvenanceChangedError{Release: ce.Release, By: ce.By, Moved: ce.Moved}
	}
	return nil
}

// A NoticeSupersededError is the conflict of an acknowledgement of an
// obligation notice (Change.NoticeAcks) that a later notice superseded
// before it: By, the first notice the log holds that refers to Notice.
type NoticeSupersededError struct {
	Notice, By int64
}

func (e *NoticeSupersededError) Error() string {
	return fmt.Sprintf("%v: notice %d was superseded by notice %d", ErrConflict, e.Notice, e.By)
}

// Unwrap returns ErrConflict.
func (e *NoticeSupersededError) Unwrap() error { return ErrConflict }

// A PassedOnHold is the precondition of an acknowledgement of a
// correction, withdrawal or expiry notice by its recipient, Agency: that
// it released nothing about Subject (an audit pseudonym) naming one of
// Provenances (the releases the notice is about, and those they
// corrected) as its provenance, in the log's entries from From (the
// log's size when the gateway read those before it, and found none it had
// not corrected or withdrawn since) up to the acknowledgement's own. The
// store checks it in the append's transaction ([PassedOnIn]): a release
// passed on while the acknowledgement was under way is one the recipient
// has not corrected either.
type PassedOnHold struct {
	Agency, Subject string
	Provenances     []int64
	From            int64
}

// A PassedOnError is the failure of a [PassedOnHold]: Releases passed the
// record on meanwhile. It wraps [ErrConflict].
type PassedOnError struct {
	Releases []int64
}

func (e *PassedOnError) Error() string {
	return fmt.Sprintf("%v: the record was passed on meanwhile (entries %s)", ErrConflict, FormatIndexes(e.Releases))
}

// Unwrap returns ErrConflict.
func (e *PassedOnError) Unwrap() error { return ErrConflict }

// ReleaseActions are the actions whose entries can release a record to a
// recipient, naming a provenance: the entries a [PassedOnHold] reads.
var ReleaseActions = []string{"disclose", "request", "notify", ActionCorrect}

// PassedOnIn returns the entries of recs, by index, from h.From on, that
// fail h: releases of a record by h.Agency about h.Subject to one
// recipient, naming one of h.Provenances as their provenance. Stores call
// it, in the transaction of an acknowledgement, on the log's entries
// from h.From before it.
func PassedOnIn(recs []Record, h PassedOnHold) []int64 {
	var out []int64
	for _, rec := range recs {
		e, err := rec.Decoded()
		if err != nil {
			continue
		}
		if rec.Index < h.From || !slices.Contains(ReleaseActions, e.Action) || !ReleasedBy(e) || len(e.Recipients) != 1 ||
			e.Holder == nil || e.Holder.Agency != h.Agency || e.Subject == nil || e.Subject.Pseudonym != h.Subject ||
			e.Provenance == nil || !slices.Contains(h.Provenances, e.Provenance.Index) {
			continue
		}
		out = append(out, rec.Index)
	}
	return out
}

// An OpenHold is the precondition of an obligation notice about
// Releases (a correction or withdrawal of them) that the gateway read
// open in the log's entries before From (the log's size when it read
// them): no entry from From up to the notice's own closed one of them
// meanwhile (a correction or withdrawal of it sent, or an expiry notice
// that obliged its erasure: [ClosingNotice]). The store checks it in the
// append's transaction, so that a notice never refers to a release that
// a notice the log holds before it replaced, withdrew or ended (the
// recipient holds that one's record now, which the notice would leave
// as it is).
//
// With Ends set (an expiry notice, which ends the releases at the end
// date the gateway read), a revision that moved the end of one of them
// meanwhile fails it too (a revise_expiry entry with outcome ok and
// detail moved true naming it in detail release): the recipient is not
// told that a basis ended on a day it no longer ends.
//
// With Tracked set (a revision of the releases' end), any expiry notice
// fails it, one that let the recipient retain the record too: the end
// has come, and no revision moves it since.
type OpenHold struct {
	Releases []int64
	From     int64
	Ends     bool
	Tracked  bool
}

// Actions are the actions of the entries the store reads to check h.
func (h OpenHold) Actions() []string {
	if h.Ends {
		return append(slices.Clone(NoticeActions), ActionReviseExpiry)
	}
	return NoticeActions
}

// A ReleaseClosedError is the failure of an [OpenHold]: notice By closed
// Release meanwhile, or, if Moved, revision By moved the end of its
// basis. It wraps [ErrConflict].
type ReleaseClosedError struct {
	Release, By int64
	Moved       bool
}

func (e *ReleaseClosedError) Error() string {
	if e.Moved {
		return fmt.Sprintf("%v: the end of release %d was moved by entry %d", ErrConflict, e.Release, e.By)
	}
	return fmt.Sprintf("%v: release %d was closed by entry %d", ErrConflict, e.Release, e.By)
}

// Unwrap returns ErrConflict.
func (e *ReleaseClosedError) Unwrap() error { return ErrConflict }

// ClosingNotice returns the first entry of recs, by index, from h.From
// on, that closes one of h.Releases, and that release: a correction or a
// withdrawal sent that refers to it (NoticeOf), or an expiry notice that
// obliged its erasure, as the gateway reads the releases open; with
// h.Ends, also a revision that moved the end of one (see [OpenHold]). It
// returns -1, -1 if none does. Stores call it, in the transaction of the
// notice's entry, on the log's entries (those of [OpenHold.Actions]) from
// h.From before it; [CheckOpen] makes the error.
func ClosingNotice(recs []Record, h OpenHold) (release, by int64) {
	for _, rec := range recs {
		e, err := rec.Decoded()
		if err != nil {
			continue
		}
		if rec.Index < h.From || !slices.Contains(h.Actions(), e.Action) {
			continue
		}
		if e.Action == ActionReviseExpiry {
			x, err := strconv.ParseInt(e.Detail[DetailRelease], 10, 64)
			if err == nil && e.Outcome == OutcomeOK && e.Detail[DetailMoved] == "true" && slices.Contains(h.Releases, x) {
				return x, rec.Index
			}
			continue
		}
		n, ok := NoticeOf(rec.Index, e)
		if !ok || e.Action == ActionExpire && n.Obligation != ObligationErase && !h.Tracked {
			continue
		}
		for _, x := range n.RefersTo {
			if slices.Contains(h.Releases, x) {
				return x, rec.Index
			}
		}
	}
	return -1, -1
}

// CheckOpen is the error of h on recs, the log's entries of
// [OpenHold.Actions] from h.From before the notice's: a
// *[ReleaseClosedError], or nil. Stores call it so that both say the same.
func CheckOpen(recs []Record, h OpenHold) error {
	x, by := ClosingNotice(recs, h)
	if by < 0 {
		return nil
	}
	for _, r := range recs {
		if r.Index == by {
			e, err := r.Decoded()
			return &ReleaseClosedError{Release: x, By: by, Moved: err == nil && e.Action == ActionReviseExpiry}
		}
	}
	return &ReleaseClosedError{Release: x, By: by}
}

// CheckHold checks h against a case as a store read it in the transaction
// that appends the entry: status and lead from the case, and the status of
// each of h.Members (a missing one is ""). Stores call it so that both say
// the same.
func CheckHold(h CaseHold, status, lead string, memberStatus map[string]string) error {
	if status != CaseOpen {
		return &CaseHoldError{Case: h.ID, Closed: true}
	}
	for _, m := range h.Members {
		if m != lead && memberStatus[m] != MemberActive {
			return &CaseHoldError{Case: h.ID, Agency: m}
		}
	}
	return nil
}

// A Claim is an id that an entry takes (see [Change.Claims]).
type Claim struct {
	ID      [32]byte
	Expires time.Time
}

// CaseFilter selects cases. Zero fields match everything.
type CaseFilter struct {
	Agency  string // the agency is or was invited, a member or the lead
	Subject string // audit-domain pseudonym
	Status  string // CaseOpen or CaseClosed
	Source  string // CaseSourceRegistry, or "api" for cases opened through the service
	// SameID selects the case whose id is this one in any letter case
	// (case ids are ASCII): the one an OpenCase of SameID would clash with.
	SameID string
	// After selects the cases whose id sorts after this one, byte by
	// byte: the order Cases returns them in. A list read a part at a time
	// reads on from the last id of the part before.
	After string
	Limit int // 0 means 1000
}

// NoticeFilter selects tracked notices. Zero fields match everything; set
// fields must all match.
type NoticeFilter struct {
	ID        string // the one notice with this id
	Recipient string
	Sender    string
	// Unacknowledged selects notices still awaiting their acknowledgement:
	// not acknowledged, and not withdrawn.
	Unacknowledged bool
	// EscalateBy selects open (unacknowledged, not withdrawn),
	// unescalated notices whose escalation time is at or before it.
	EscalateBy time.Time
	// OverdueBy selects open notices whose deadline is at or before it
	// and whose overdue step is not recorded.
	OverdueBy time.Time
	// LateAt selects notices not acknowledged in time as of LateAt (as
	// [Notice.Late] says): the deadline is before LateAt and there is no
	// acknowledgement, or one after the deadline, and the notice was not
	// withdrawn by its deadline.
	LateAt time.Time
	// ForwardDue selects acknowledged notices whose acknowledgement is
	// still to be forwarded to a peer gateway (NoticeForwardDue without
	// NoticeForwarded).
	ForwardDue bool
	// InboxCursor, with Recipient, selects notices delivered at or before
	// this cursor of the recipient's inbox.
	InboxCursor int64
	// Start selects notices delivered under an entry with an index at or
	// after it (AuditIndex >= Start): the next page after one whose last
	// notice's AuditIndex is Start-1.
	Start int64
	Limit int // 0 means 1000
}

// A StateStore is a [Store] that also keeps the state beside the log
// (and, for [Change.NoticeAcks], is an [AftercareStore] on the same
// database).
// Implementations MUST apply a [Change] in the transaction that appends
// its entry, under the same serialisation as appends, and MUST check the
// change's preconditions inside it. The audittest package covers this
// contract too.
type StateStore interface {
	Store
	// AppendState appends one entry with its deliveries and the change it
	// records, in one transaction, and returns the entry's index. If a
	// precondition of c fails it appends nothing and returns an error
	// wrapping ErrConflict.
	AppendState(ctx context.Context, p Pending, c Change) (int64, error)
	// Case returns the latest version of a case, or nil if there is none.
	Case(ctx context.Context, id string) (*CaseState, error)
	// Cases returns the cases matching f, by id.
	Cases(ctx context.Context, f CaseFilter) ([]*CaseState, error)
	// Notices returns the tracked notices matching f, oldest first: by
	// AuditIndex, then ID.
	Notices(ctx context.Context, f NoticeFilter) ([]Notice, error)
	// Lease takes or renews the named lease for holder until the given
	// time, if it is free, expired at now, or already holder's, and
	// reports whether holder holds it. Replicas use it to elect the one
	// that runs the timers.
	Lease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
}

// stateStore returns the store as a StateStore.
func (l *Log) stateStore() (StateStore, error) {
	ss, ok := l.store.(StateStore)
	if !ok {
		return nil, unavailable("state", fmt.Errorf("the %T store keeps no state", l.store))
	}
	return ss, nil
}

// AppendState records e with its deliveries and the state change c in one
// transaction, outside the group commit (state changes are rare and must
// be able to fail alone). It returns e's index. If c's preconditions no
// longer hold, it returns an error wrapping [ErrConflict] and nothing is
// recorded; other store failures wrap [ErrUnavailable].
func (l *Log) AppendState(ctx context.Context, e *Entry, c Change, deliveries ...Delivery) (int64, error) {
	ss, err := l.stateStore()
	if err != nil {
		return -1, err
	}
	switch {
	case e == nil:
		return -1, errors.New("audit: append state: nil entry")
	case e.Action == "":
		return -1, errors.New("audit: append state: entry has no action")
	case e.Outcome == "":
		return -1, errors.New("audit: append state: entry has no outcome")
	}
	for _, d := range deliveries {
		if d.Recipient == "" || d.Kind == "" {
			return -1, errors.New("audit: append state: delivery without recipient or kind")
		}
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return -1, unavailable("append state", errClosed)
	}
	cp := *e
	if cp.Time.IsZero() {
		cp.Time = l.now()
	}
	leaf, err := cp.Marshal()
	if err != nil {
		return -1, err
	}
	for _, f := range c.Fingerprints {
		if !f.Complete() {
			return -1, errors.New("audit: append state: fingerprint without recipient, subject or request id")
		}
	}
	for _, w := range c.Withdrawals {
		if w.Recipient == "" || w.Time.IsZero() {
			return -1, errors.New("audit: append state: withdrawal without recipient or time")
		}
	}
	for _, cl := range c.Claims {
		if cl.Expires.IsZero() {
			return -1, errors.New("audit: append state: claim without expiry")
		}
	}
	if len(c.NoticeAcks) > 0 {
		// The projection must say what the entry says, as SyncAftercare
		// would read it from the log.
		le, err := Unmarshal(leaf)
		if err != nil {
			return -1, err
		}
		a, ok := AckOf(-1, le)
		if !ok || len(c.NoticeAcks) != 1 || !sameAck(c.NoticeAcks[0], a) {
			return -1, errors.New("audit: append state: the notice acknowledgement is not the one the entry records")
		}
	}
	// The notices' peer is what the entry records, whatever the caller
	// set.
	c.Notices = slices.Clone(c.Notices)
	for i := range c.Notices {
		c.Notices[i].Peer = NoticePeer(&cp)
	}
	idx, err := ss.AppendState(ctx, Pending{Leaf: leaf, Entry: &cp, Deliveries: slices.Clone(deliveries), Fingerprints: c.Fingerprints}, c)
	switch {
	case errors.Is(err, ErrConflict):
		return -1, err
	case err != nil:
		return -1, unavailable("append state", err)
	}
	l.log.DebugContext(ctx, "audit entry with state change committed", "index", idx, "action", cp.Action)
	return idx, nil
}

// sameAck reports whether a and b record the same acknowledgement, By
// aside.
func sameAck(a, b Ack) bool {
	return a.Notice == b.Notice && a.Time.Equal(b.Time) && a.Done == b.Done && a.Deferred == b.Deferred
}

// Case returns the latest version of a case, or nil if there is none.
func (l *Log) Case(ctx context.Context, id string) (*CaseState, error) {
	ss, err := l.stateStore()
	if err != nil {
		return nil, err
	}
	c, err := ss.Case(ctx, id)
	if err != nil {
		return nil, unavailable("case", err)
	}
	return c, nil
}

// Cases returns the cases matching f, by id in byte order, at most
// f.Limit (1000 if zero).
func (l *Log) Cases(ctx context.Context, f CaseFilter) ([]*CaseState, error) {
	ss, err := l.stateStore()
	if err != nil {
		return nil, err
	}
	cs, err := ss.Cases(ctx, f)
	if err != nil {
		return nil, unavailable("cases", err)
	}
	return cs, nil
}

// Notices returns the tracked notices matching f.
func (l *Log) Notices(ctx context.Context, f NoticeFilter) ([]Notice, error) {
	ss, err := l.stateStore()
	if err != nil {
		return nil, err
	}
	ns, err := ss.Notices(ctx, f)
	if err != nil {
		return nil, unavailable("notices", err)
	}
	return ns, nil
}

// Lease takes or renews the named lease for holder; see [StateStore.Lease].
func (l *Log) Lease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	ss, err := l.stateStore()
	if err != nil {
		return false, err
	}
	ok, err := ss.Lease(ctx, name, holder, now, until)
	if err != nil {
		return false, unavailable("lease", err)
	}
	return ok, nil
}
