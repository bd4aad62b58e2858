package console

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The auditor's pages: the overview (is the log still the one I trusted?),
// the timeline with its filters and charts, one entry with its inclusion
// proof, the data-subject access report, and the export.

// A check is the outcome of proving the log against the trusted checkpoint.
type check struct {
	Time   time.Time
	Latest *audit.Checkpoint
	// Before is the checkpoint trusted before this check; nil the first
	// time (trust on first use) or when the check failed to start.
	Before *audit.Checkpoint
	// BeforeSince is when Before became trusted, if known.
	BeforeSince time.Time
	// Since is when the officer first trusted this log, if known.
	Since     time.Time
	FirstUse  bool
	Sampled   []int64
	Failed    bool   // the log is not what the trusted checkpoint commits to
	Failure   string // what is wrong, for people
	Kind      string // truncated, forked, entry, signature
	Detail    string // the verifier's own message
	Unreached string // the gateway could not be asked (not a verification failure)
	// Refused is set with Unreached when the gateway answered, refusing
	// the officer the log (no auditor role, or credentials it did not
	// accept): it was reached, and the log was not checked.
	Refused bool
	// Setup is set when the state file cannot serve (another log's
	// checkpoint, or a file that cannot be read or written): a problem of
	// the console's set-up, not a verification failure.
	Setup string
	// Malformed is set when the gateway's answer was no proof at all (a
	// hash not of its size, more or fewer hashes than a proof has, a proof
	// to another size than asked for): the log was not checked, and that
	// is no verification failure.
	Malformed string
	// FailedSince is how many checks the history notes as failed since
	// Since (before this one).
	FailedSince int
}

// verify updates the trusted checkpoint from the gateway, proving the new
// one consistent with it, and, if sample is set, proves a random sample of
// entries and the newest one included in it.
func (s *Server) verify(ctx context.Context, sample bool) check {
	s.verifyMu.Lock()
	defer s.verifyMu.Unlock()
	c := check{Time: s.cfg.Now().UTC()}
	hist, _ := s.trust.read()
	stateTime, stateKept := s.trust.modTime()
	c.Since = trustedSince(hist)
	if c.Since.IsZero() && stateKept {
		c.Since = stateTime // a state file kept by `liaison audit verify` alone
	}
	client := audit.NewClient(gateway.AuditSource{Audit: s.cfg.Audit}, s.trust, s.cfg.Verifier)
	latest, before, err := client.Update(ctx)
	if err != nil {
		s.failedCheck(&c, err)
		return c
	}
	c.Latest, c.Before, c.FirstUse = &latest, before, before == nil
	// The update may have begun trust afresh (see event.First): the
	// history says so now.
	hist, _ = s.trust.read()
	if t := trustedSince(hist); !t.IsZero() {
		c.Since = t
	}
	if before != nil {
		if t, ok := trustedAt(hist, *before); ok {
			c.BeforeSince = t
		} else if stateKept {
			c.BeforeSince = stateTime
		}
	}
	if c.FirstUse {
		c.Since = c.Time
	}
	for _, e := range hist {
		if e.Failure != "" && !c.Since.IsZero() && !e.Time.Before(c.Since) {
			c.FailedSince++
		}
	}
	if !sample {
		return c
	}
	idx, err := audit.Sample(latest.Size, s.cfg.Sample)
	if err != nil {
		s.failedCheck(&c, err)
		return c
	}
	if latest.Size > 0 {
		idx = append(idx, latest.Size-1)
	}
	slices.Sort(idx)
	c.Sampled = slices.Compact(idx)
	if err := client.CheckEntries(ctx, c.Sampled); err != nil {
		s.failedCheck(&c, err)
	}
	return c
}

// failedCheck classifies err into c and, if the log failed verification
// (not merely the gateway being unreachable, its proof being malformed or
// the state file being unusable, as `liaison audit verify` tells them
// apart), notes it in the history.
func (s *Server) failedCheck(c *check, err error) {
	c.Detail = err.Error()
	if u, ok := errors.AsType[*gateway.UnreachableError](err); ok {
		c.Unreached = describeError(u.Err)
		switch status.Code(u.Err) {
		case codes.PermissionDenied, codes.Unauthenticated:
			c.Refused = true
		}
		return
	}
	_, path := errors.AsType[*fs.PathError](err)
	_, link := errors.AsType[*os.LinkError](err)
	switch {
	case errors.Is(err, audit.ErrTrustedNotThisLog):
		c.Setup = "The state file " + s.cfg.State + " holds a checkpoint that the verifier key you gave the console did not sign: " +
			"it is another log's, or it was changed. This is a problem of the console's set-up, not of the log, which was not checked: " +
			"give the console this log's state file (-state; keep one per log)."
	case path || link:
		c.Setup = "The state file " + s.cfg.State + " (or its .history) cannot be read or written. " +
			"This is a problem of the console's set-up, not of the log, which was not checked."
	}
	if c.Setup != "" {
		s.log.Warn("console: the trusted state cannot be used", "state", s.cfg.State, "error", err)
		return
	}
	if errors.Is(err, audit.ErrMalformedProof) {
		c.Malformed = "The gateway's answer is malformed: it is not a proof, so the log was not checked against the checkpoint you trusted. " +
			"This does not show that the log forked or was rewritten: tell the gateway's operator. The trusted checkpoint was kept."
		s.log.Warn("console: the gateway's proof is malformed", "error", err)
		return
	}
	c.Failed = true
	switch {
	case errors.Is(err, audit.ErrTruncated):
		c.Kind, c.Failure = "truncated", "The log is shorter than the checkpoint you trusted: entries were removed (log truncated)."
	case errors.Is(err, audit.ErrFork):
		c.Kind, c.Failure = "forked", "The log's history is not the one you trusted: it was forked or rewritten."
	case errors.Is(err, audit.ErrEntryMismatch):
		c.Kind, c.Failure = "entry", "An entry the gateway serves does not match the checkpoint: a stored entry was changed."
	case errors.Is(err, audit.ErrSignature):
		c.Kind, c.Failure = "signature", "The gateway's checkpoint is not signed by the verifier key you gave the console."
	default:
		c.Kind, c.Failure = "proof", "The gateway could not prove the log consistent with the checkpoint you trusted."
	}
	s.trust.failed(c.Failure + " " + c.Detail)
	s.log.Warn("console: the log failed verification", "kind", c.Kind, "error", err)
}

type overviewData struct {
	Check    check
	KeyName  string
	KeyHash  string
	State    string
	Policy   *liaisonv1.GetStatusResponse
	PolicyEr string
	Alarms   []event
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, ss *session) {
	d := overviewData{Check: s.verify(r.Context(), true), KeyName: s.cfg.Verifier.Name(), KeyHash: fmt.Sprintf("%08x", s.cfg.Verifier.KeyHash()), State: s.cfg.State}
	if st, err := s.cfg.Policy.GetStatus(r.Context(), &liaisonv1.GetStatusRequest{}); err == nil {
		d.Policy = st
	} else {
		d.PolicyEr = describeError(err)
	}
	hist, _ := s.trust.read()
	for i := len(hist) - 1; i >= 0 && len(d.Alarms) < 5; i-- {
		if hist[i].Failure != "" {
			d.Alarms = append(d.Alarms, hist[i])
		}
	}
	s.render(w, r, ss, http.StatusOK, "overview", "Overview", d)
}

// A filter is the timeline's filter, as the form and the URL carry it.
// The subject's identifier never travels in a URL: the form posts it, and
// the URL carries an opaque handle to it kept in the session.
type filter struct {
	From, To   string // YYYY-MM-DD, both days included
	Agency     string
	Officer    string
	LegalBasis string
	Outcome    string
	RecordType string
	Action     string // "" for exchanges, "all", or one action
	Subject    string // the identifier (never in a URL)
	Handle     string // the subject's handle in the session
}

func (f filter) query() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{
		"from": f.From, "to": f.To, "agency": f.Agency, "officer": f.Officer, "basis": f.LegalBasis,
		"outcome": f.Outcome, "record_type": f.RecordType, "action": f.Action, "s": f.Handle,
	} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func filterFrom(get func(string) string) filter {
	t := func(k string) string { return strings.TrimSpace(get(k)) }
	return filter{From: t("from"), To: t("to"), Agency: t("agency"), Officer: t("officer"), LegalBasis: t("basis"),
		Outcome: t("outcome"), RecordType: t("record_type"), Action: t("action")}
}

// period returns the filter's period, defaulting to the 30 days up to
// To, itself today by default.
func (s *Server) period(f *filter) (from, to time.Time, err error) {
	loc := s.cfg.Location
	if f.To == "" {
		f.To = s.cfg.Now().In(loc).Format(time.DateOnly)
	}
	if to, err = time.ParseInLocation(time.DateOnly, f.To, loc); err != nil {
		return from, to, fmt.Errorf("To: %q is not a date (YYYY-MM-DD)", f.To)
	}
	if f.From == "" {
		f.From = to.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	if from, err = time.ParseInLocation(time.DateOnly, f.From, loc); err != nil {
		return from, to, fmt.Errorf("From: %q is not a date (YYYY-MM-DD)", f.From)
	}
	if to.Before(from) {
		return from, to, errors.New("To is before From")
	}
	if to.After(from.AddDate(maxPeriodYears, 0, 0)) {
		return from, to, fmt.Errorf("the period is longer than %d years: narrow it", maxPeriodYears)
	}
	if from.Year() < 1970 || to.Year() > 9998 {
		return from, to, errors.New("From and To must lie between 1970 and 9998")
	}
	return from, to.AddDate(0, 0, 1), nil
}

// maxPeriodYears bounds a period the console reads and charts (a chart of
// one by month has about 1,200 columns).
const maxPeriodYears = 100

// A row is one entry as the timeline lists it.
type row struct {
	Index      int64
	Time       time.Time
	Action     string
	Requester  string
	Officer    string
	Holder     string
	Recipients string
	RecordType string
	Purpose    string
	Basis      string
	Outcome    string
	Reasons    string
	Case       string // the case the entry is about, if any
	Refusal    bool   // deny or refused: stands out
	Released   bool
	// PeerDenial is the entry's detail peer_denial: "verified" for a
	// peer gateway's refusal its signed receipt proves (PeerRefusal; the
	// peer's entry in PeerIndex), "unverified" for one that came without
	// a receipt that holds; empty for no peer refusal.
	PeerDenial string
	PeerIndex  string
	// PeerOutcome says, in words, what became of the exchange at the peer
	// gateway where the entry's outcome alone does not (detail
	// peer_outcome): a failed forward it may have delivered, an
	// acknowledgement that stands here only.
	PeerOutcome string
	// PeerRefused says, in words, that the peer gateway refused the
	// exchange (reason PEER_REFUSED) and why: its reason (detail
	// peer_reason) and status (peer_code); by its own rules, proven by
	// its signed receipt (outcome refused), or by not taking the call at
	// all (outcome failed).
	PeerRefused string
}

// peerOutcomes says what each detail peer_outcome means for an auditor.
var peerOutcomes = map[string]string{
	"unknown":              "Delivery at the peer gateway unknown: it delivered only if its log holds an entry naming this exchange's pending entry; check there.",
	"deferred":             "Acknowledged here while the sender's gateway did not answer: forwarded to it later.",
	"already_acknowledged": "The peer gateway had taken this acknowledgement already (an earlier forward's answer was lost).",
	"notice_withdrawn":     "The notice was withdrawn at the sender's gateway before this acknowledgement reached it (NOTICE_WITHDRAWN): the acknowledgement stands here only.",
	"notice_unknown":       "The sender's gateway holds no such notice (NOTICE_UNKNOWN): the acknowledgement stands here only.",
	"already_at_date":      "The peer gateway held the date already (an earlier forward's answer was lost).",
}

// peerRefusal says what a peer gateway's refusal of an exchange (reason
// PEER_REFUSED) was: a refusal by its own rules that its signed receipt
// proves (outcome refused, peer_denial verified: NOT_A_CASE_MEMBER, say),
// not a decision of its law; or its refusal to take the call at all
// (outcome failed: it did not authenticate this gateway or the officer,
// or found the call invalid). Each with the peer's reason and status.
func peerRefusal(e *audit.Entry) string {
	why := "giving no reason"
	if r := e.Detail["peer_reason"]; r != "" {
		why = "reason " + r
	}
	if c := e.Detail["peer_code"]; c != "" {
		why += ", status " + c
	}
	if e.Outcome == audit.OutcomeRefused && e.Detail["peer_denial"] == "verified" {
		return "Refused by the peer gateway's own rules, not by its law (" + why + ")."
	}
	return "The peer gateway refused to take the call (" + why + ")."
}

func rowOf(index int64, e *audit.Entry) row {
	r := row{Index: index, Time: e.Time.UTC(), Action: e.Action, RecordType: e.RecordType, Purpose: e.Purpose, Outcome: e.Outcome,
		Refusal: e.Outcome == audit.OutcomeDeny || e.Outcome == audit.OutcomeRefused, Released: audit.ReleasedBy(e),
		Reasons: strings.Join(e.Reasons, ", ")}
	if e.Requester != nil {
		r.Requester, r.Officer = e.Requester.Agency, e.Requester.Officer
	} else if op := e.Detail["by_operator"]; op != "" {
		// An operator's command on the store (case_operator_close,
		// case_operator_handover): no agency called; the entry names the
		// operator.
		r.Requester, r.Officer = "the gateway's operator", op
	}
	if e.Case != nil {
		r.Case = e.Case.ID
	}
	r.PeerDenial, r.PeerIndex = e.Detail["peer_denial"], e.Detail["peer_index"]
	if o := e.Detail["peer_outcome"]; o != "" {
		r.PeerOutcome = cmpOr(peerOutcomes[o], "At the peer gateway: "+strings.ReplaceAll(o, "_", " ")+".")
	}
	if slices.Contains(e.Reasons, "PEER_REFUSED") {
		r.PeerRefused = peerRefusal(e)
	}
	if e.Holder != nil {
		r.Holder = e.Holder.Agency
	}
	var rc []string
	for _, p := range e.Recipients {
		rc = append(rc, p.Agency)
	}
	r.Recipients = strings.Join(rc, ", ")
	if e.LegalBasis != nil {
		r.Basis = e.LegalBasis.ID
	}
	return r
}

// exchangeActions are the actions of exchanges between agencies, the
// timeline's default list: with the corrections and withdrawals a holder
// sends of what it released, and the expiry notices the gateway's timers
// send on its behalf when the release's legal basis ends (an order to
// erase it, or keep it only under a retention rule, as a withdrawal is),
// which are part of the process over time.
var exchangeActions = []string{"disclose", "request", "notify", "match", "translate", "reidentify", audit.ActionCorrect, audit.ActionWithdraw, audit.ActionExpire}

type timelineData struct {
	F          filter
	Error      string
	Outcomes   []string
	RecordTyps []string
	Actions    []string
	Rows       []row
	Matched    int
	Shown      int
	Truncated  bool
	ReadUntil  time.Time // with Truncated, the time of the last entry read
	// Start is the entry index this part of the period was read from (0:
	// the period's first). With Truncated, Next is the index after the
	// last entry read, where the next part begins; NextURL and FirstURL
	// are the addresses of the next part and of the first.
	Start             int64
	Next              int64
	NextURL, FirstURL string
	Released          int
	Refused           int
	Other             int
	// PeerUnverified counts the peer gateways' refusals read that no
	// signed receipt proves (detail peer_denial "unverified").
	PeerUnverified int
	Charts         []chart
	Query          string
}

// maxRows bounds the table; the charts count every entry read.
const maxRows = 500

func (s *Server) timelineForm(w http.ResponseWriter, r *http.Request, ss *session) {
	f := filterFrom(r.PostFormValue)
	if subj := strings.TrimSpace(r.PostFormValue("subject")); subj != "" {
		f.Handle = s.sessions.saveHandle(ss, subj)
	}
	http.Redirect(w, r, "/timeline?"+f.query().Encode(), http.StatusSeeOther)
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	if q.Has("subject") || q.Has("subject_id") {
		s.render(w, r, ss, http.StatusBadRequest, "message", "Filter refused", struct{ Heading, Message string }{
			"Filter refused", "A subject's identifier is never put in an address; use the form on the timeline page."})
		return
	}
	f := filterFrom(q.Get)
	vocab := gateway.QueryFilterValues()
	d := timelineData{Outcomes: vocab["outcome"], RecordTyps: vocab["record_type"], Actions: vocab["action"]}
	if h := q.Get("s"); h != "" {
		subj, ok := s.sessions.handle(ss, h)
		if !ok {
			d.Error = "The subject filter has expired; enter the identifier again."
		}
		f.Subject, f.Handle = subj, h
	}
	from, to, err := s.period(&f)
	d.F = f
	if err != nil {
		d.Error = err.Error()
	}
	if v := strings.TrimSpace(q.Get("start")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			d.Error = fmt.Sprintf("Where to read on from (start) must be an entry's index, a whole number from 0; the address says %q.", v)
		}
		d.Start = n
	}
	for _, c := range []struct{ name, v string }{{"outcome", f.Outcome}, {"record_type", f.RecordType}} {
		if c.v != "" && !slices.Contains(vocab[c.name], c.v) {
			d.Error = fmt.Sprintf("Unknown %s %q.", strings.ReplaceAll(c.name, "_", " "), c.v)
		}
	}
	if f.Action != "" && f.Action != "all" && !slices.Contains(vocab["action"], f.Action) {
		d.Error = fmt.Sprintf("Unknown action %q.", f.Action)
	}
	if d.Error != "" {
		s.render(w, r, ss, http.StatusBadRequest, "timeline", "Timeline", d)
		return
	}
	req := &liaisonv1.QueryRequest{From: timestamppb.New(from), To: timestamppb.New(to), Agency: f.Agency, Officer: f.Officer,
		SubjectId: f.Subject, LegalBasis: f.LegalBasis, Outcome: f.Outcome, RecordType: f.RecordType, Start: d.Start}
	if f.Action != "" && f.Action != "all" {
		req.Action = f.Action
	}
	keep := func(e *audit.Entry) bool { return f.Action != "" || slices.Contains(exchangeActions, e.Action) }
	var rows []row
	byDay := map[string]map[string]int{}
	byPair := map[string]map[string]int{}
	byBasis := map[string]map[string]int{}
	add := func(m map[string]map[string]int, k, o string) {
		if m[k] == nil {
			m[k] = map[string]int{}
		}
		m[k][o]++
	}
	var firstRead, lastRead time.Time
	matched := 0
	truncated, next, err := s.readEntries(r.Context(), req, keep, func(index int64, e *audit.Entry) {
		if firstRead.IsZero() {
			firstRead = e.Time.In(s.cfg.Location)
		}
		lastRead = e.Time.In(s.cfg.Location)
		if !keep(e) {
			return
		}
		rw := rowOf(index, e)
		// The table shows the newest maxRows: only they are kept.
		matched++
		if rows = append(rows, rw); len(rows) > maxRows {
			rows = rows[1:]
		}
		add(byDay, rw.Time.In(s.cfg.Location).Format(time.DateOnly), rw.Outcome)
		if rw.Holder != "" || rw.Recipients != "" {
			add(byPair, cmpOr(rw.Holder, "?")+" → "+cmpOr(rw.Recipients, "?"), rw.Outcome)
		}
		add(byBasis, cmpOr(rw.Basis, "(no legal basis)"), rw.Outcome)
		if rw.PeerDenial == "unverified" {
			d.PeerUnverified++
		}
		switch {
		case rw.Released:
			d.Released++
		case rw.Refusal:
			d.Refused++
		default:
			d.Other++
		}
	})
	if status.Code(err) == codes.InvalidArgument {
		d.Error = describeError(err)
		s.render(w, r, ss, http.StatusBadRequest, "timeline", "Timeline", d)
		return
	}
	if err != nil {
		s.gatewayError(w, r, ss, "The log could not be read", err)
		return
	}
	d.Truncated, d.Matched = truncated, matched
	rows = slices.Clone(rows)
	slices.Reverse(rows)
	d.Rows, d.Shown = rows, len(rows)
	base := f.query()
	if d.Start > 0 {
		d.FirstURL = "/timeline?" + base.Encode()
		// A part after the first begins on the day of its first entry.
		if begin := midnight(firstRead); begin.After(from) && begin.Before(to) {
			from = begin
		}
	}
	if truncated {
		d.Next = next
		next := f.query()
		next.Set("start", strconv.FormatInt(d.Next, 10))
		d.NextURL = "/timeline?" + next.Encode()
		// Nothing after the last entry read was counted: the time chart
		// ends on its day rather than show the days after it empty.
		d.ReadUntil = lastRead
		if end := midnight(lastRead).AddDate(0, 0, 1); end.After(from) && end.Before(to) {
			to = end
		}
	}
	unit, bucket := buckets(from, to)
	var periods []series
	seen := map[string]int{}
	for t := from; t.Before(to); t = t.AddDate(0, 0, 1) {
		k := bucket(t)
		i, ok := seen[k]
		if !ok {
			i = len(periods)
			seen[k] = i
			periods = append(periods, series{Label: k, Counts: map[string]int{}})
		}
		for o, n := range byDay[t.Format(time.DateOnly)] {
			periods[i].Counts[o] += n
		}
	}
	d.Charts = []chart{
		columnChart("by-day", "Entries per "+unit+", by outcome", unit, periods),
		barChart("by-pair", "Entries per agency pair (holder → recipients), by outcome", "Holder → recipients", "agency pair", "agency pairs", seriesOf(byPair)),
		barChart("by-basis", "Entries per legal basis, by outcome", "Legal basis", "legal basis", "legal bases", seriesOf(byBasis)),
	}
	d.Query = f.query().Encode()
	s.render(w, r, ss, http.StatusOK, "timeline", "Timeline", d)
}

// midnight is the start of t's day, in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// buckets chooses the periods of the time chart: days up to three months,
// weeks (from Monday) up to two years, months beyond.
func buckets(from, to time.Time) (unit string, bucket func(time.Time) string) {
	switch days := to.Sub(from).Hours() / 24; {
	case days <= 92:
		return "day", func(t time.Time) string { return t.Format(time.DateOnly) }
	case days <= 731:
		return "week", func(t time.Time) string {
			return t.AddDate(0, 0, -(int(t.Weekday())+6)%7).Format(time.DateOnly)
		}
	}
	return "month", func(t time.Time) string { return t.Format("2006-01") }
}

func seriesOf(m map[string]map[string]int) []series {
	out := make([]series, 0, len(m))
	for k, v := range m {
		out = append(out, series{Label: k, Counts: v})
	}
	slices.SortFunc(out, func(a, b series) int { return strings.Compare(a.Label, b.Label) })
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// queryPage is how many entries one Query asks for (the gateway's most).
const queryPage = 1000

// readEntries reads every entry req matches, in index order, up to
// MaxEntries, passing each to each. truncated is set if there are more
// that the page would show: past the limit it reads on for the first
// entry that wanted keeps (nil: any), and next is its index, where the
// next part begins, so that no part is offered with nothing in it to
// show. It looks at no more than queryPage entries past the limit (the
// rest of the page the limit falls in, and one more call of the
// gateway's at most): finding none wanted there but more entries after
// them, it offers the next part from the entry after those, which may
// then show none.
func (s *Server) readEntries(ctx context.Context, req *liaisonv1.QueryRequest, wanted func(*audit.Entry) bool, each func(int64, *audit.Entry)) (truncated bool, next int64, err error) {
	read, looked := 0, 0
	req.Limit = queryPage
	for {
		resp, err := s.cfg.Audit.Query(ctx, req)
		if err != nil {
			return false, 0, err
		}
		for i, le := range resp.GetEntries() {
			e, err := audit.Unmarshal([]byte(le.GetJson()))
			if err != nil {
				return false, 0, fmt.Errorf("console: entry %d: %v", le.GetIndex(), err)
			}
			req.Start = le.GetIndex() + 1
			if read >= s.cfg.MaxEntries {
				// Past the limit: is there anything for a next part?
				if wanted == nil || wanted(e) {
					return true, le.GetIndex(), nil
				}
				// After queryPage entries left out, the next part
				// begins, if there may be more.
				if looked++; looked >= queryPage && (i < len(resp.GetEntries())-1 || len(resp.GetEntries()) >= queryPage) {
					return true, req.Start, nil
				}
				continue
			}
			each(le.GetIndex(), e)
			read++
		}
		if len(resp.GetEntries()) < queryPage {
			return false, 0, nil
		}
	}
}

type entryData struct {
	Index    int64
	Entry    *audit.Entry
	Row      row
	JSON     string
	LeafHash string
	Proof    []string
	Check    check
	Verified bool
	Problem  string // why the proof was not verified
	Pending  bool   // not yet in a signed checkpoint
	Detail   [][2]string
}

// entry shows one entry and checks its inclusion proof against the
// checkpoint the officer trusts, once that is brought up to date.
func (s *Server) entry(w http.ResponseWriter, r *http.Request, ss *session) {
	index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || index < 0 {
		s.notFound(w, r, ss, "No such entry", "An entry is named by its index, a number from 0.")
		return
	}
	ctx := r.Context()
	d := entryData{Index: index}
	// The gateway signs a checkpoint at least every second while entries
	// arrive; an entry just written may wait for the next one.
	for try := 0; ; try++ {
		d.Check = s.verify(ctx, false)
		if d.Check.Latest == nil || index < d.Check.Latest.Size || try >= 6 {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	cp := d.Check.Latest
	switch {
	case cp == nil:
		d.Problem = "The proof was not checked, because the log could not be verified against your trusted checkpoint."
	case index >= cp.Size:
		d.Pending = true
		d.Problem = fmt.Sprintf("Entry %d is not yet covered by a signed checkpoint (it covers %d entries). Reload in a moment.", index, cp.Size)
	}
	var leaf []byte
	proven := false
	if cp != nil && index < cp.Size {
		p, err := s.cfg.Audit.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: index, TreeSize: cp.Size})
		if err != nil {
			s.gatewayError(w, r, ss, "The entry could not be read", err)
			return
		}
		hashes, err := gateway.ReadInclusion(p, index, cp.Size)
		if err != nil {
			// The answer may give another entry than this one: the entry
			// shown is the one the log's query serves at this index.
			d.Problem = "The gateway's answer is malformed: it is not a proof, so the entry was not checked. " +
				"This does not show that the entry was changed: tell the gateway's operator. (" + err.Error() + ")"
			s.log.Warn("console: the gateway's proof is malformed", "index", index, "error", err)
		} else {
			proven, leaf = true, []byte(p.GetEntry().GetJson())
			for _, h := range hashes {
				d.Proof = append(d.Proof, h.String())
			}
			if err := audit.CheckInclusion(*cp, index, leaf, hashes); err != nil {
				d.Problem = "The proof does not verify: " + err.Error()
				s.trust.failed("entry " + strconv.FormatInt(index, 10) + ": " + err.Error())
			} else if !d.Check.Failed {
				d.Verified = true
			}
		}
	}
	if !proven {
		resp, err := s.cfg.Audit.Query(ctx, &liaisonv1.QueryRequest{Start: index, Limit: 1})
		if err != nil {
			s.gatewayError(w, r, ss, "The entry could not be read", err)
			return
		}
		if len(resp.GetEntries()) == 0 || resp.GetEntries()[0].GetIndex() != index {
			s.notFound(w, r, ss, "No such entry", fmt.Sprintf("The log has no entry %d.", index))
			return
		}
		leaf = []byte(resp.GetEntries()[0].GetJson())
	}
	e, err := audit.Unmarshal(leaf)
	if err != nil {
		d.Problem = "The entry is not a valid log entry: " + err.Error()
	} else {
		d.Entry, d.Row = e, rowOf(index, e)
		for _, k := range sortedKeys(e.Detail) {
			d.Detail = append(d.Detail, [2]string{k, e.Detail[k]})
		}
	}
	d.JSON = string(leaf)
	d.LeafHash = leafHash(leaf)
	s.render(w, r, ss, http.StatusOK, "entry", fmt.Sprintf("Entry %d", index), d)
}

type reportData struct {
	Subject      string
	WithOfficers bool
	Report       *liaisonv1.AccessReportResponse
	Produced     time.Time
	Error        string
	NoticeParts  []reportNotices
}

// reportNotices is one list of the notices an access report names: the
// corrections, or the withdrawals and expiry notices.
type reportNotices struct {
	ID, Heading, Caption, None string
	Notices                    []*liaisonv1.ReportedNotice
}

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request, ss *session) {
	subj := strings.TrimSpace(r.PostFormValue("subject"))
	if subj == "" {
		s.render(w, r, ss, http.StatusBadRequest, "report", "Access report", reportData{Error: "Enter the person's identifier."})
		return
	}
	v := url.Values{"s": {s.sessions.saveHandle(ss, subj)}}
	if r.PostFormValue("with_officers") != "" {
		v.Set("officers", "1")
	}
	http.Redirect(w, r, "/report?"+v.Encode(), http.StatusSeeOther)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	d := reportData{WithOfficers: q.Get("officers") == "1"}
	h := q.Get("s")
	if h == "" {
		s.render(w, r, ss, http.StatusOK, "report", "Access report", d)
		return
	}
	subj, ok := s.sessions.handle(ss, h)
	if !ok {
		d.Error = "This report has expired from the session; enter the identifier again."
		s.render(w, r, ss, http.StatusOK, "report", "Access report", d)
		return
	}
	d.Subject = subj
	rep, err := s.cfg.Audit.AccessReport(r.Context(), &liaisonv1.AccessReportRequest{SubjectId: subj, WithOfficers: d.WithOfficers})
	if err != nil {
		d.Error = describeError(err)
		s.render(w, r, ss, failedStatus(err), "report", "Access report", d)
		return
	}
	d.Report, d.Produced = rep, rep.GetProduced().AsTime().UTC()
	d.NoticeParts = []reportNotices{
		{ID: "corrections", Heading: "Corrections sent on the person's behalf", Caption: "Corrections sent to the recipients",
			None: "No correction was sent about this person.", Notices: rep.GetCorrections()},
		{ID: "withdrawals", Heading: "Withdrawals and expiry notices sent on the person's behalf", Caption: "Withdrawals and expiry notices sent to the recipients",
			None: "No withdrawal or expiry notice was sent about this person.", Notices: rep.GetWithdrawals()},
	}
	s.render(w, r, ss, http.StatusOK, "report", "Access report", d)
}

func (s *Server) exportPage(w http.ResponseWriter, r *http.Request, ss *session) {
	s.render(w, r, ss, http.StatusOK, "export", "Export", struct{ KeyName string }{s.cfg.Verifier.Name()})
}

// exportDownload streams the whole log as a zip of the export folder the
// README describes (entries.jsonl, checkpoint, verifier.key), after checking it
// as the supervisory authority will and against the trusted checkpoint.
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	stream, err := s.cfg.Audit.Export(ctx, &liaisonv1.ExportRequest{})
	if err != nil {
		s.gatewayError(w, r, ss, "The export failed", err)
		return
	}
	leaves, signed, err := readExport(stream)
	if err != nil {
		s.gatewayError(w, r, ss, "The export failed", err)
		return
	}
	s.verifyMu.Lock()
	_, _, err = audit.NewClient(nil, s.trust, s.cfg.Verifier).CheckExport(ctx, leaves, signed)
	s.verifyMu.Unlock()
	if err != nil {
		c := check{}
		s.failedCheck(&c, err)
		if c.Setup != "" {
			s.render(w, r, ss, http.StatusInternalServerError, "message", "The export was not checked", struct{ Heading, Message string }{
				"The export was not checked", c.Setup + " (" + c.Detail + ") Nothing was downloaded."})
			return
		}
		s.render(w, r, ss, http.StatusConflict, "message", "The export does not verify", struct{ Heading, Message string }{
			"The export does not verify", c.Failure + " (" + c.Detail + ") Nothing was downloaded."})
		return
	}
	name := fmt.Sprintf("liaison-export-%d", len(leaves))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	zw := zip.NewWriter(w)
	put := func(file string, write func(io.Writer) error) error {
		f, err := zw.Create(name + "/" + file)
		if err != nil {
			return err
		}
		return write(f)
	}
	err = errors.Join(
		put("entries.jsonl", func(f io.Writer) error {
			for _, l := range leaves {
				if _, err := f.Write(append(l, '\n')); err != nil {
					return err
				}
			}
			return nil
		}),
		put("checkpoint", func(f io.Writer) error { _, err := f.Write(signed); return err }),
		put("verifier.key", func(f io.Writer) error { _, err := io.WriteString(f, s.cfg.VerifierKey+"\n"); return err }),
		zw.Close(),
	)
	if err != nil {
		s.log.ErrorContext(ctx, "console: export download", "error", err)
	}
}

// readExport drains an Export stream.
func readExport(stream grpc.ServerStreamingClient[liaisonv1.ExportResponse]) (leaves [][]byte, checkpoint []byte, err error) {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if m.GetCheckpoint() != nil {
			checkpoint = []byte(m.GetCheckpoint().GetCheckpoint())
		}
		for _, e := range m.GetEntries() {
			if e.GetIndex() != int64(len(leaves)) {
				return nil, nil, fmt.Errorf("console: export: entry %d arrived at position %d", e.GetIndex(), len(leaves))
			}
			leaves = append(leaves, []byte(e.GetJson()))
		}
	}
	if checkpoint == nil {
		return nil, nil, errors.New("console: export: no checkpoint")
	}
	return leaves, checkpoint, nil
}
