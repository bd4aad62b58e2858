package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// noticesPage is how many notices one call asks for (the gateway's
// most). The page reads each list on, a call per page, from the audit
// index after the last notice listed (start), up to Config.MaxEntries
// notices.
var noticesPage = 1000

// defaultOpenDays is how long a correction, withdrawal or expiry notice
// may stay unacknowledged before the page marks it overdue: the law sets
// no deadline for it, the console a week unless the auditor says otherwise.
const defaultOpenDays = 7

// agencyIDRE is how the registry spells an agency id, as the gateway
// checks a recipient filter (it refuses any other spelling, each list a
// refused read of the officer's).
var agencyIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// noticeFilter is the notices page's form, carried in its address (no
// personal data: an agency id and numbers).
type noticeFilter struct {
	Late      bool   // only those not acknowledged in time
	Recipient string // only notices to this agency
	Days      int    // a correction open longer than this is overdue
	// RequiredFrom, ObligationsFrom and WithdrawnFrom are where the page
	// reads on in each list (its start, an audit index): the list's next
	// part begins after the last notice of the part before. WithdrawnFrom
	// is the late notices' (with Late), among which those closed
	// unacknowledged are listed.
	RequiredFrom, ObligationsFrom, WithdrawnFrom int64
}

// url is the notices page's address for f, reading the required notices
// from required, the obligation notices from obligations and the late
// notices, for those closed unacknowledged, from withdrawn.
func (f noticeFilter) url(required, obligations, withdrawn int64) string {
	v := url.Values{}
	if f.Late {
		v.Set("late", "1")
	}
	if f.Recipient != "" {
		v.Set("recipient", f.Recipient)
	}
	if f.Days != defaultOpenDays {
		v.Set("days", strconv.Itoa(f.Days))
	}
	if required > 0 {
		v.Set("required_from", strconv.FormatInt(required, 10))
	}
	if obligations > 0 {
		v.Set("obligations_from", strconv.FormatInt(obligations, 10))
	}
	if withdrawn > 0 && f.Late {
		v.Set("withdrawn_from", strconv.FormatInt(withdrawn, 10))
	}
	if len(v) == 0 {
		return "/notices"
	}
	return "/notices?" + v.Encode()
}

// A requiredRow is a required notice (Exchange.Notify) not yet
// acknowledged.
type requiredRow struct {
	ID         string
	Event      string
	Sender     string
	Recipient  string
	Rule       string
	Sent       time.Time
	EscalateAt time.Time
	Escalated  time.Time
	Deadline   time.Time
	Overdue    time.Time
	Late       bool
	Index      int64
	// Peer is the other country's gateway that tracks the notice too
	// (TrackedNotice.peer): the recipient acknowledges there, and each
	// gateway escalates to the inbox it holds. Empty at home.
	Peer string
	// The entries of its escalation and of its deadline passing; -1 if
	// none.
	EscalationIndex, OverdueIndex int64
	// Withdrawn is when it was closed unacknowledged (its release
	// withdrawn, corrected with a new date, or ended), by the entry
	// WithdrawalIndex; zero and -1 if it was not.
	Withdrawn       time.Time
	WithdrawalIndex int64
	// Standing says, in audit.EscalationStandings' words, why its
	// escalation went to the sender alone or no acknowledgement is to be
	// expected, as the escalation's entry recorded it
	// (TrackedNotice.escalation_recipient_standing); empty if none.
	Standing string
	// SenderStanding says, in audit.SenderStandings' words, why the
	// sender was not told of its escalation, as the escalation's entry
	// recorded it (TrackedNotice.escalation_sender_standing); empty if
	// none.
	SenderStanding string
}

// An obligationRow is a correction, withdrawal or expiry notice
// (Aftercare) not yet acknowledged.
type obligationRow struct {
	Index      int64
	Kind       string
	Sent       time.Time
	Recipient  string
	Holder     string
	RefersTo   []int64
	Reason     string
	Obligation string
	Obliges    string
	OpenDays   int
	Late       bool
}

// A forwardRow is a notice acknowledged at this gateway whose
// acknowledgement waits to be forwarded to the peer gateway it came from
// (TrackedNotice.forward_pending, ListedNotice.forward_pending): one that
// has not taken it yet, or that this gateway's registry offboards or no
// longer lists (Waits says which).
type forwardRow struct {
	Kind         string // required_notice, or the obligation notice's kind
	Index        int64  // the notice's entry
	From         string // its sender or holder, an agency behind the peer
	Recipient    string
	Peer         string // the peer gateway, where the list names it
	Acknowledged time.Time
	AckIndex     int64 // the acknowledgement's entry
	// Waits says why, in audit.ForwardWaits' words, as the listing gives
	// it (forward_pending_reason); empty if it gives none.
	Waits string
}

// A noticePart is one of the page's lists: what the gateway answered,
// or that it does not offer the list, or its error.
type noticePart[R any] struct {
	Unavailable bool
	Error       string
	Rows        []R
	Late        int
	Truncated   bool
	// From is the audit index the list was read from (0: its oldest).
	// With Truncated, Next is the index after its last row, where the
	// next part begins, and NextURL and FirstURL the addresses of the
	// next part and of the first.
	From              int64
	Next              int64
	NextURL, FirstURL string
}

type noticesData struct {
	F        noticeFilter
	Error    string
	Now      time.Time
	Required noticePart[requiredRow]
	// WithdrawnLate, with the late filter, are the required notices
	// closed unacknowledged after their deadline: late all the same.
	WithdrawnLate noticePart[requiredRow]
	Obligations   noticePart[obligationRow]
	Forwards      noticePart[forwardRow]
}

// obligations says what each obligation asks of the recipient, as
// provenance.proto defines it.
var obligations = map[liaisonv1.Obligation]string{
	liaisonv1.Obligation_OBLIGATION_RECTIFY:  "Replace the data with the corrected record (LED Art. 16(1), GDPR Art. 16).",
	liaisonv1.Obligation_OBLIGATION_ERASE:    "Erase the data (LED Art. 16(2), GDPR Art. 17).",
	liaisonv1.Obligation_OBLIGATION_RESTRICT: "Keep the data but restrict its processing to the purpose that kept it from erasure (LED Art. 16(3), GDPR Art. 18).",
	liaisonv1.Obligation_OBLIGATION_RETAIN:   "Keep the data under the retention rule the notice names, and erase it when that rule ends.",
}

// enumName turns an enum value's name into the log's snake_case word
// (SUBJECT_EVENT_TYPE_RELEASE_DATE_SET → release_date_set).
func enumName(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// parseRFC3339 reads a TrackedNotice time; empty is the zero time.
func parseRFC3339(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// noticesForm turns the page's form into its address.
func (s *Server) noticesForm(w http.ResponseWriter, r *http.Request, ss *session) {
	v := url.Values{}
	if r.PostFormValue("late") != "" {
		v.Set("late", "1")
	}
	if rc := strings.TrimSpace(r.PostFormValue("recipient")); rc != "" {
		v.Set("recipient", rc)
	}
	if d := strings.TrimSpace(r.PostFormValue("days")); d != "" && d != strconv.Itoa(defaultOpenDays) {
		v.Set("days", d)
	}
	u := "/notices"
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// notices lists what recipients have not acknowledged: the required
// notices of Notify (Notices.ListNotices) and the corrections,
// withdrawals and expiry notices sent on a subject's behalf
// (Aftercare.ListObligationNotices). Each list is the officer's read,
// which the gateway records; a gateway without one of the services shows
// the other.
func (s *Server) notices(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	d := noticesData{Now: s.cfg.Now().UTC(), F: noticeFilter{Late: q.Get("late") == "1", Recipient: strings.TrimSpace(q.Get("recipient")), Days: defaultOpenDays}}
	if v := strings.TrimSpace(q.Get("days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			d.Error = "The number of days must be a whole number from 1 to 3650."
		} else {
			d.F.Days = n
		}
	}
	if q.Has("late") && q.Get("late") != "1" {
		d.Error = "Only those not acknowledged in time: the address says late=" + q.Get("late") + "; it must be late=1, or left out for all."
	}
	for _, p := range []struct {
		name string
		to   *int64
	}{{"required_from", &d.F.RequiredFrom}, {"obligations_from", &d.F.ObligationsFrom}, {"withdrawn_from", &d.F.WithdrawnFrom}} {
		if v := strings.TrimSpace(q.Get(p.name)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				d.Error = "Where a list reads on from (" + p.name + ") must be an entry's index, a whole number from 0."
			} else {
				*p.to = n
			}
		}
	}
	if d.F.Recipient != "" && !agencyIDRE.MatchString(d.F.Recipient) {
		d.Error = "The recipient must be an agency id as the registry spells it: 1 to 64 lower-case letters, digits, '.', '_' or '-' (e.g. dk-police-aarhus)."
	}
	if d.Error != "" {
		s.render(w, r, ss, http.StatusBadRequest, "notices", "Notices", d)
		return
	}
	ctx := r.Context()
	d.Required = s.requiredNotices(ctx, d.F)
	if d.F.Late {
		d.WithdrawnLate = s.withdrawnLate(ctx, d.F)
	}
	d.Obligations = s.obligationNotices(ctx, d.F, d.Now)
	d.Forwards = s.pendingForwards(ctx, d.F)
	s.render(w, r, ss, http.StatusOK, "notices", "Notices", d)
}

func (s *Server) requiredNotices(ctx context.Context, f noticeFilter) (p noticePart[requiredRow]) {
	if s.cfg.Notices == nil {
		p.Unavailable = true
		return p
	}
	p.From = f.RequiredFrom
	list, more, err := s.listNotices(ctx, f.RequiredFrom, &liaisonv1.ListNoticesRequest{UnacknowledgedOnly: true, LateOnly: f.Late, Recipient: f.Recipient})
	if status.Code(err) == codes.Unimplemented {
		p.Unavailable = true
		return p
	}
	if err != nil {
		p.Error = describeError(err)
		return p
	}
	for _, n := range list {
		rw := requiredRowOf(n)
		if rw.Late {
			p.Late++
		}
		p.Rows = append(p.Rows, rw)
	}
	p.Truncated = more
	if more && len(list) > 0 {
		p.Next = list[len(list)-1].GetAuditIndex() + 1
		p.NextURL = f.url(p.Next, f.ObligationsFrom, f.WithdrawnFrom)
	}
	p.FirstURL = f.url(0, f.ObligationsFrom, f.WithdrawnFrom)
	return p
}

// requiredRowOf is a required notice as the page lists it.
func requiredRowOf(n *liaisonv1.TrackedNotice) requiredRow {
	return requiredRow{
		ID: n.GetNoticeId(), Event: enumName(n.GetEventType().String(), "SUBJECT_EVENT_TYPE_"),
		Sender: n.GetSender(), Recipient: n.GetRecipient(), Rule: n.GetRule(),
		Sent: parseRFC3339(n.GetSent()), EscalateAt: parseRFC3339(n.GetEscalateAt()), Escalated: parseRFC3339(n.GetEscalated()),
		Deadline: parseRFC3339(n.GetAcknowledgeBy()), Overdue: parseRFC3339(n.GetOverdue()), Late: n.GetLate(),
		Index: n.GetAuditIndex(), EscalationIndex: indexOrNone(n.GetEscalationAuditIndex(), n.GetEscalated()),
		OverdueIndex: indexOrNone(n.GetOverdueAuditIndex(), n.GetOverdue()), Peer: n.GetPeer(),
		Withdrawn: parseRFC3339(n.GetWithdrawn()), WithdrawalIndex: indexOrNone(n.GetWithdrawalAuditIndex(), n.GetWithdrawn()),
		Standing:       inWords(audit.EscalationStandings, n.GetEscalationRecipientStanding()),
		SenderStanding: inWords(audit.SenderStandings, n.GetEscalationSenderStanding()),
	}
}

// inWords is a code of the listings in the words the table gives it, a
// code it does not know as it is, "" for none.
func inWords(words map[string]string, code string) string {
	if w, ok := words[code]; ok {
		return w
	}
	return code
}

// withdrawnLate lists the required notices closed unacknowledged after
// their deadline (TrackedNotice.withdrawn, late): no longer awaited, so
// not among the required notices, but not acknowledged in time. One more
// read of the officer's, made only with the late filter: the late
// notices from f.WithdrawnFrom, up to MaxEntries, of which it keeps those
// closed unacknowledged; with more late notices, its next part reads on
// from the entry after the last late notice read.
func (s *Server) withdrawnLate(ctx context.Context, f noticeFilter) (p noticePart[requiredRow]) {
	if s.cfg.Notices == nil {
		p.Unavailable = true
		return p
	}
	p.From = f.WithdrawnFrom
	list, more, err := s.listNotices(ctx, f.WithdrawnFrom, &liaisonv1.ListNoticesRequest{LateOnly: true, Recipient: f.Recipient})
	if status.Code(err) == codes.Unimplemented {
		p.Unavailable = true
		return p
	}
	if err != nil {
		p.Error = describeError(err)
		return p
	}
	for _, n := range list {
		if n.GetWithdrawn() != "" && n.GetAcknowledged() == "" {
			p.Rows = append(p.Rows, requiredRowOf(n))
		}
	}
	p.Truncated = more
	if more && len(list) > 0 {
		p.Next = list[len(list)-1].GetAuditIndex() + 1
		p.NextURL = f.url(f.RequiredFrom, f.ObligationsFrom, p.Next)
	}
	p.FirstURL = f.url(f.RequiredFrom, f.ObligationsFrom, 0)
	return p
}

// readPages reads a list the gateway serves a page at a time, oldest
// first by audit index, from start: noticesPage at a time, each page from
// the index after the last one listed, until a page is not full or most
// have been read. more is set if there are more than most, or if the gateway
// listed none beyond the first page (one that does not read on from
// start).
func readPages[T any](most int, start int64, list func(start int64, limit int32) ([]T, error), index func(T) int64) (out []T, more bool, err error) {
	for {
		limit := min(noticesPage, most-len(out)+1) // one more than most tells whether there are more
		page, err := list(start, int32(limit))
		if err != nil {
			return nil, false, err
		}
		full := len(page) >= limit
		page = slices.DeleteFunc(page, func(x T) bool { return index(x) < start })
		out = append(out, page...)
		switch {
		case len(out) > most:
			return out[:most], true, nil
		case !full:
			return out, false, nil
		case len(page) == 0:
			return out, true, nil
		}
		start = index(page[len(page)-1]) + 1
	}
}

// listNotices reads the required notices req selects from the audit
// index start, up to MaxEntries.
func (s *Server) listNotices(ctx context.Context, start int64, req *liaisonv1.ListNoticesRequest) ([]*liaisonv1.TrackedNotice, bool, error) {
	return readPages(s.cfg.MaxEntries, start, func(start int64, limit int32) ([]*liaisonv1.TrackedNotice, error) {
		req.Start, req.Limit = start, limit
		resp, err := s.cfg.Notices.ListNotices(ctx, req)
		return resp.GetNotices(), err
	}, (*liaisonv1.TrackedNotice).GetAuditIndex)
}

// listObligationNotices reads the corrections, withdrawals and expiry
// notices req selects from the audit index start, up to MaxEntries.
func (s *Server) listObligationNotices(ctx context.Context, start int64, req *liaisonv1.ListObligationNoticesRequest) ([]*liaisonv1.ListedNotice, bool, error) {
	return readPages(s.cfg.MaxEntries, start, func(start int64, limit int32) ([]*liaisonv1.ListedNotice, error) {
		req.Start, req.Limit = start, limit
		resp, err := s.cfg.Aftercare.ListObligationNotices(ctx, req)
		return resp.GetNotices(), err
	}, (*liaisonv1.ListedNotice).GetAuditIndex)
}

// indexOrNone is a step's entry, or -1 if the step has not happened.
func indexOrNone(index int64, when string) int64 {
	if when == "" || index < 0 {
		return -1
	}
	return index
}

func (s *Server) obligationNotices(ctx context.Context, f noticeFilter, now time.Time) (p noticePart[obligationRow]) {
	if s.cfg.Aftercare == nil {
		p.Unavailable = true
		return p
	}
	req := &liaisonv1.ListObligationNoticesRequest{Recipient: f.Recipient}
	overdueBefore := now.AddDate(0, 0, -f.Days)
	if f.Late {
		req.SentBefore = timestamppb.New(overdueBefore)
	}
	p.From = f.ObligationsFrom
	list, more, err := s.listObligationNotices(ctx, f.ObligationsFrom, req)
	if status.Code(err) == codes.Unimplemented {
		p.Unavailable = true
		return p
	}
	if err != nil {
		p.Error = describeError(err)
		return p
	}
	for _, n := range list {
		sent := n.GetSent().AsTime().UTC()
		rw := obligationRow{
			Index: n.GetAuditIndex(), Kind: enumName(n.GetKind().String(), "OBLIGATION_KIND_"), Sent: sent,
			Recipient: n.GetRecipient(), Holder: n.GetHolder(), RefersTo: n.GetRefersTo(), Reason: n.GetReason(),
			Obligation: enumName(n.GetObligation().String(), "OBLIGATION_"), Obliges: obligations[n.GetObligation()],
			OpenDays: int(now.Sub(sent).Hours() / 24), Late: sent.Before(overdueBefore),
		}
		if rw.Late {
			p.Late++
		}
		p.Rows = append(p.Rows, rw)
	}
	p.Truncated = more
	if more && len(list) > 0 {
		p.Next = list[len(list)-1].GetAuditIndex() + 1
		p.NextURL = f.url(f.RequiredFrom, p.Next, f.WithdrawnFrom)
	}
	p.FirstURL = f.url(f.RequiredFrom, 0, f.WithdrawnFrom)
	return p
}

// pendingForwards lists the acknowledgements made here that wait for a
// peer gateway, of both kinds of notice, each list an officer's read the
// gateway records. A gateway without a list leaves its kind out.
func (s *Server) pendingForwards(ctx context.Context, f noticeFilter) (p noticePart[forwardRow]) {
	var errs []string
	if s.cfg.Notices != nil {
		list, more, err := s.listNotices(ctx, 0, &liaisonv1.ListNoticesRequest{ForwardPendingOnly: true, Recipient: f.Recipient})
		switch {
		case status.Code(err) == codes.Unimplemented:
		case err != nil:
			errs = append(errs, describeError(err))
		}
		for _, n := range list {
			p.Rows = append(p.Rows, forwardRow{Kind: "required_notice", Index: n.GetAuditIndex(), From: n.GetSender(), Recipient: n.GetRecipient(),
				Peer: n.GetPeer(), Acknowledged: parseRFC3339(n.GetAcknowledged()), AckIndex: n.GetAckAuditIndex(),
				Waits: inWords(audit.ForwardWaits, n.GetForwardPendingReason())})
		}
		p.Truncated = more
	}
	if s.cfg.Aftercare != nil {
		list, more, err := s.listObligationNotices(ctx, 0, &liaisonv1.ListObligationNoticesRequest{ForwardPendingOnly: true, Recipient: f.Recipient})
		switch {
		case status.Code(err) == codes.Unimplemented:
		case err != nil:
			errs = append(errs, describeError(err))
		}
		for _, n := range list {
			p.Rows = append(p.Rows, forwardRow{Kind: enumName(n.GetKind().String(), "OBLIGATION_KIND_"), Index: n.GetAuditIndex(), From: n.GetHolder(),
				Recipient: n.GetRecipient(), Acknowledged: n.GetAcknowledged().AsTime().UTC(), AckIndex: n.GetAcknowledgementIndex(),
				Waits: inWords(audit.ForwardWaits, n.GetForwardPendingReason())})
		}
		p.Truncated = p.Truncated || more
	}
	slices.SortStableFunc(p.Rows, func(a, b forwardRow) int { return a.Acknowledged.Compare(b.Acknowledged) })
	p.Error = strings.Join(errs, " ")
	return p
}

// lateness says how late a required notice is, in words.
func lateness(deadline, now time.Time) string {
	if deadline.IsZero() {
		return ""
	}
	d := now.Sub(deadline)
	switch {
	case d < time.Hour:
		return "deadline just passed"
	case d < 2*time.Hour:
		return "1 hour past the deadline"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours past the deadline", int(d.Hours()))
	}
	return fmt.Sprintf("%d days past the deadline", int(d.Hours()/24))
}
