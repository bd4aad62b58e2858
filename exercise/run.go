package exercise

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// An Item is one line of an agency's timeline: something it learned, was
// refused, was told of, or did in a case.
type Item struct {
	At     time.Time // simulated time
	Day    int
	Agency string // whose timeline
	// Event is the index of the scenario event it comes from, -1 for the
	// notice timers.
	Event int
	// What: received (something was released to it), withheld (sent to
	// it, the law released nothing), refused (its own call was refused),
	// failed, hit, no_hit, unavailable (a match), case, notice, sent (a
	// correction or withdrawal the holder sent, or could not send).
	What        string
	Action      string // disclose, notify, request, match, correct, withdraw, or the case action
	Counterpart string // the holder, sender or case lead
	Record      string
	SubjectEvt  string // the event of a notify
	Purpose     string
	Outcome     string // disclose, pseudonymise, hit_only, deny, ...
	Basis       string
	Citation    string
	Conditions  []string
	Reasons     []string
	Message     string // why, in words, for a refused call
	Routes      []string
	// Notice, for a required notice: acknowledge by (RFC 3339).
	AckBy      string
	noticeID   string
	auditIndex int64  // of the release, for an onward disclose's provenance
	Text       string // for case, notice and sent items
	Note       string
}

// Form is how much the agency learned: full, pseudonymised, hit_only or
// "" (nothing).
func (it Item) Form() string {
	switch it.Outcome {
	case "disclose":
		return "full"
	case "pseudonymise":
		return "pseudonymised"
	case "hit_only":
		return "hit_only"
	}
	return ""
}

// delivery says whether the item is the outcome of an exchange for the
// agency (what compare compares), or what a correction or withdrawal
// sent one recipient (sent: the corrected record, a withdrawal instead,
// or nothing).
func (it Item) delivery() bool {
	switch it.What {
	case "received", "withheld", "refused", "failed", "hit", "no_hit", "unavailable", "denied", "sent":
		return true
	}
	return false
}

// key identifies an exchange's item across two runs of a scenario.
func (it Item) key() string {
	return fmt.Sprintf("%d/%s/%s/%s/%s", it.Event, it.Agency, it.Counterpart, it.Record, it.Action)
}

// A Gap is a duty not met, or an exchange resting on an unverified
// reading of the law.
type Gap struct {
	Key  string // stable across policies: compare matches gaps by it
	Text string
}

// Report is the result of an exercise.
type Report struct {
	Scenario *Scenario
	Revision string
	Items    []Item
	Gaps     []Gap
}

// Run plays the scenario through a gateway started in-process on eng (a
// real gateway.Server, gRPC over TLS on loopback, its own SQLite store
// and keys derived from the scenario's name), on a simulated clock that
// starts on day 0 and runs the notice timers between events, and returns
// the report.
func Run(ctx context.Context, eng *policies.Engine, s *Scenario) (*Report, error) {
	start, _ := time.Parse(time.DateOnly, s.Start)
	clk := &clock{now: start}
	// What each holder holds: what it declares and what it is asked.
	holds := map[string][]string{}
	for _, a := range s.Agencies {
		holds[a.ID] = slices.Clone(a.Holds)
	}
	for _, e := range s.Events {
		if e.Action == "request" && !slices.Contains(holds[e.Holder], e.Record) {
			holds[e.Holder] = append(holds[e.Holder], e.Record)
		}
	}
	live := &liveSubject{s: s.Subject}
	st, err := startStage(ctx, eng, s, holds, live, clk)
	if err != nil {
		return nil, fmt.Errorf("exercise: start the gateway: %v", err)
	}
	defer st.stop()
	p := &player{s: s, st: st, clk: clk, start: start, r: &Report{Scenario: s, Revision: eng.Revision()}, subject: s.Subject, live: live}
	if p.bases, err = provisions(ctx, eng); err != nil {
		return nil, err
	}
	prevDay, n := -1, 0
	for _, i := range s.order() {
		e := s.Events[i]
		if e.Day != prevDay {
			prevDay, n = e.Day, 0
		}
		n++
		at := start.AddDate(0, 0, e.Day).Add(9*time.Hour + time.Duration(n)*time.Minute)
		if err := p.timersUntil(ctx, at); err != nil {
			return nil, err
		}
		clk.Set(at)
		if err := p.play(ctx, i, e); err != nil {
			return nil, fmt.Errorf("exercise: events[%d] (day %d, %s by %s): %v", i, e.Day, e.Action, e.By, err)
		}
	}
	end := start.AddDate(0, 0, s.end()+1).Add(-time.Minute)
	if err := p.timersUntil(ctx, end); err != nil {
		return nil, err
	}
	clk.Set(end)
	if err := p.notices(ctx, end); err != nil {
		return nil, err
	}
	p.expectations()
	if err := p.unacknowledged(ctx); err != nil {
		return nil, err
	}
	p.notPassedOn()
	p.assumptions()
	slices.SortStableFunc(p.r.Items, func(a, b Item) int { return a.At.Compare(b.At) })
	return p.r, nil
}

type player struct {
	s       *Scenario
	st      *stage
	clk     *clock
	start   time.Time
	r       *Report
	subject Subject
	// live is the subject the holders' providers answer with.
	live  *liveSubject
	bases map[string]policies.Provision
	// delivered are the required notices delivered, by id: the item that
	// delivered them.
	delivered map[string]Item
	// byCorrection are the notices of an event (a moved release date)
	// that corrections delivered with a required notice: the recipient
	// learned the event so, and its timeline shows the correction notice.
	byCorrection []Item
	// ackedBy are the required notices an acknowledge event acknowledged,
	// by id: the event's index (its note joins the acknowledgement's row).
	ackedBy map[string]int
	// timersRan is the last due time the timers ran for; aftercareRan
	// the last day the expiry timers ran for.
	timersRan, aftercareRan time.Time
	// gone is when each recipient was last sent a withdrawal of a record
	// type by a holder, or an expiry notice telling it to erase it
	// ("holder/record/recipient").
	gone map[string]time.Time
	// obligs are the obligation notices already in the timelines, by
	// agency and audit index, and in the order they arrived.
	obligs     map[string]*oblig
	obligOrder []*oblig
	// onward are the releases an agency made of a record it received,
	// named in a correction or withdrawal notice it got since
	// (ObligationNotice.passed_on) and not yet corrected or withdrawn, by
	// audit index, and in the order they were named.
	onward      map[int64]*passedOn
	onwardOrder []int64
}

// A passedOn is an agency's onward release of a record whose source it was
// told to correct or withdraw: it must pass that on.
type passedOn struct {
	agency, recipient, holder, kind, record string
	passed, told                            int // days
}

// An oblig is an obligation notice an agency received: a correction, a
// withdrawal or the end of a basis, to acknowledge once done.
type oblig struct {
	agency, holder, kind, record string
	index                        int64 // the notice's audit index
	obligation                   liaisonv1.Obligation
	day                          int
	acked                        bool
	refused                      bool // an acknowledgement was refused (not passed on yet)
}

// unacknowledged adds a gap for every obligation notice not acknowledged
// when the exercise ends. A notice a later one replaced before it was
// acknowledged (a second correction of the record) is closed by the
// gateway and can no longer be acknowledged: it is none, and its
// recipient's timeline says so.
func (p *player) unacknowledged(ctx context.Context) error {
	sup, err := p.superseded(ctx)
	if err != nil {
		return err
	}
	for _, o := range p.obligOrder {
		if o.acked {
			continue
		}
		if by, ok := sup[o.index]; ok {
			later := fmt.Sprintf("a later notice (day %d)", p.day(by.Sent))
			if l := p.obligs[fmt.Sprintf("%s/%d", o.agency, by.Index)]; l != nil {
				later = fmt.Sprintf("the %s notice of %s (day %d)", l.kind, l.record, l.day)
			}
			p.add(Item{Event: -1, At: by.Sent, Agency: o.agency, What: "notice", Counterpart: o.holder, Record: o.record,
				Text: fmt.Sprintf("no longer has to acknowledge the %s notice of %s (day %d): %s replaced it before it was acknowledged", o.kind, o.record, o.day, later)})
			continue
		}
		p.gap(fmt.Sprintf("obligation/%s/%s/%s/%s/%d", o.agency, o.kind, o.holder, o.record, o.day),
			fmt.Sprintf("obligation notice not acknowledged when the exercise ends: %s, the %s notice of %s from %s (day %d)", o.agency, o.kind, o.record, o.holder, o.day))
	}
	return nil
}

// superseded are the obligation notices a later notice replaced before
// they were acknowledged, by audit index: the later notice, as the
// gateway's store records them (audit.SentNotice.SupersededBy).
func (p *player) superseded(ctx context.Context) (map[int64]audit.SentNotice, error) {
	// The store's projection of the log follows it when the gateway next
	// needs it: bring it up to the log's end first.
	if err := audit.SyncAftercare(ctx, p.st.alog, p.st.store); err != nil {
		return nil, fmt.Errorf("exercise: the obligation notices sent: %v", err)
	}
	var all []audit.SentNotice
	for after := int64(-1); ; {
		page, err := p.st.store.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("exercise: the obligation notices sent: %v", err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Index
	}
	byIndex := map[int64]audit.SentNotice{}
	for _, n := range all {
		byIndex[n.Index] = n
	}
	out := map[int64]audit.SentNotice{}
	for _, n := range all {
		if n.SupersededBy >= 0 {
			out[n.Index] = byIndex[n.SupersededBy]
		}
	}
	return out, nil
}

// notPassedOn adds a gap for every onward release an agency was told
// to correct or withdraw, and did not by the end of the exercise.
func (p *player) notPassedOn() {
	for _, x := range p.onwardOrder {
		o, ok := p.onward[x]
		if !ok {
			continue
		}
		p.gap(fmt.Sprintf("passed_on/%s/%s/%s/%s/%d", o.agency, o.recipient, o.holder, o.record, o.told),
			fmt.Sprintf("%s not passed on: %s passed %s from %s on to %s on day %d, was sent the %s on day %d, and when the exercise ends has neither corrected nor withdrawn what it passed on",
				o.kind, o.agency, o.record, o.holder, o.recipient, o.passed, o.kind, o.told))
	}
}

// noteOnward remembers the onward releases a notice to agency names.
func (p *player) noteOnward(agency string, n *liaisonv1.ObligationNotice, day int) {
	for _, x := range n.GetPassedOn() {
		if _, ok := p.onward[x]; ok {
			continue
		}
		o := &passedOn{agency: agency, recipient: "an agency", holder: n.GetHolder(), kind: word(n.GetKind(), "OBLIGATION_KIND_"),
			record: word(n.GetRecordType(), "RECORD_TYPE_"), passed: -1, told: day}
		for _, it := range p.r.Items {
			switch {
			case it.auditIndex != x:
			case it.What == "received":
				o.recipient, o.passed = it.Agency, it.Day
			case it.What == "sent":
				o.recipient, o.passed = it.Counterpart, it.Day
			}
		}
		if p.onward == nil {
			p.onward = map[int64]*passedOn{}
		}
		p.onward[x], p.onwardOrder = o, append(p.onwardOrder, x)
	}
}

// passedOnDone notes that agency corrected or withdrew its release at
// index: what it was told of that release, it passed on.
func (p *player) passedOnDone(agency string, index int64) {
	if o, ok := p.onward[index]; ok && o.agency == agency {
		delete(p.onward, index)
	}
}

// provisions are the bases and receipt rules of every pack, by id.
func provisions(ctx context.Context, eng *policies.Engine) (map[string]policies.Provision, error) {
	packs, err := eng.Packs(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]policies.Provision{}
	for _, p := range packs {
		for _, b := range slices.Concat(p.Bases, p.Receipt, p.CaseKinds) {
			m[b.ID] = b
		}
	}
	return m, nil
}

func (p *player) day(t time.Time) int { return int(t.Sub(p.start).Hours() / 24) }

func (p *player) add(it Item) {
	if it.At.IsZero() {
		it.At = p.clk.Now()
	}
	it.Day = p.day(it.At)
	p.r.Items = append(p.r.Items, it)
}

// timersUntil runs the gateway's notice timers at every escalation time
// and deadline of an open required notice up to t, on the simulated clock.
func (p *player) timersUntil(ctx context.Context, t time.Time) error {
	for {
		open, err := p.st.alog.Notices(ctx, audit.NoticeFilter{Unacknowledged: true})
		if err != nil {
			return err
		}
		var next time.Time
		for _, n := range open {
			for _, due := range []time.Time{n.EscalateAt, n.Deadline} {
				switch {
				case due.IsZero(), due.Add(time.Second).After(t), !due.After(p.timersRan),
					due.Equal(n.EscalateAt) && !n.Escalated.IsZero(), due.Equal(n.Deadline) && !n.Overdue.IsZero():
					continue
				}
				if next.IsZero() || due.Before(next) {
					next = due
				}
			}
		}
		expiry := false
		ends, err := p.validUntils(ctx)
		if err != nil {
			return err
		}
		for _, v := range ends {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				continue
			}
			due := d.AddDate(0, 0, 1) // the day after the basis ends
			if due.Add(time.Second).After(t) || !due.After(p.aftercareRan) {
				continue
			}
			if next.IsZero() || !next.Before(due) {
				next, expiry = due, true
			}
		}
		if next.IsZero() {
			return nil
		}
		if expiry {
			p.aftercareRan = next
			if at := next.Add(time.Second); at.After(p.clk.Now()) {
				p.clk.Set(at)
			}
			if err := p.st.srv.RunAftercare(ctx); err != nil {
				return fmt.Errorf("exercise: aftercare timers: %v", err)
			}
			if err := p.obligations(ctx); err != nil {
				return err
			}
			continue
		}
		p.timersRan = next
		if at := next.Add(time.Second); at.After(p.clk.Now()) {
			p.clk.Set(at)
		}
		if _, err := p.st.srv.RunTimers(ctx); err != nil {
			return fmt.Errorf("exercise: notice timers: %v", err)
		}
	}
}

// play makes one event's calls and records their outcomes.
func (p *player) play(ctx context.Context, idx int, e Event) error {
	a := p.s.agency(e.By)
	base := Item{Event: idx, Action: e.Action, Purpose: e.Purpose, Note: e.Note}
	cl := func(roles ...string) (liaisonv1.ExchangeClient, liaisonv1.CasesClient, error) {
		c, err := p.st.conn(e.By, a.Clearance, append([]string{"case_officer"}, roles...)...)
		if err != nil {
			return nil, nil, err
		}
		return liaisonv1.NewExchangeClient(c), liaisonv1.NewCasesClient(c), nil
	}
	ex, cs, err := cl()
	if err != nil && e.Action != "update" {
		return err
	}
	why := cmp.Or(e.Note, "Exercise: "+e.Action+".")
	switch e.Action {
	case "update":
		p.subject = p.subject.apply(e.Subject)
		p.live.set(p.subject)
		return nil
	case "disclose":
		base.Counterpart, base.Record = e.By, e.Record
		holder, prov := e.By, (*liaisonv1.Provenance)(nil)
		if e.From != "" {
			got := p.lastReceived(e.By, e.From, e.Record)
			if got == nil {
				it := base
				it.Agency, it.What, it.Text = e.By, "refused", fmt.Sprintf("nothing to pass on: it never learned %s from %s in full", e.Record, e.From)
				p.add(it)
				return nil
			}
			holder, prov = e.From, &liaisonv1.Provenance{AuditIndex: got.auditIndex}
		}
		resp, err := ex.Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: record(p.s, p.subject, holder, e.Record), Subject: subjectAttrs(p.subject), Recipients: e.To,
			RecipientRoles: p.roles(e), Purpose: purposeEnum(e.Purpose), ClaimedLegalBasis: e.Basis, CaseId: e.Case, Justification: why,
			Provenance: prov,
		})
		if err != nil {
			p.refusedFor(base, e, err)
			return nil
		}
		for _, r := range resp.GetResults() {
			p.result(base, r)
		}
	case "notify":
		rt := cmp.Or(e.Record, noticeRecord(e.Event))
		base.Counterpart, base.Record, base.SubjectEvt = e.By, rt, e.Event
		resp, err := ex.Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: eventEnum(e.Event), Record: record(p.s, p.subject, e.By, rt), Subject: subjectAttrs(p.subject),
			Recipients: e.To, RecipientRoles: p.roles(e), Purpose: purposeEnum(e.Purpose), CaseId: e.Case,
			ClaimedLegalBasis: e.Basis, Justification: why,
		})
		if err != nil {
			p.refusedFor(base, e, err)
			return nil
		}
		for _, r := range resp.GetResults() {
			p.result(base, r)
		}
	case "request":
		base.Counterpart, base.Record = e.Holder, e.Record
		resp, err := ex.Request(ctx, &liaisonv1.RequestRequest{
			Holder: e.Holder, SubjectId: p.subject.subjectID(), RecordType: recordEnum(e.Record), Purpose: purposeEnum(e.Purpose),
			ClaimedLegalBasis: e.Basis, CaseId: e.Case, Justification: why,
		})
		if err != nil {
			p.refused(base, e.By, err)
			return nil
		}
		rel := resp.GetReleased()
		it := base
		it.Agency, it.What, it.Outcome = e.By, "received", word(rel.GetOutcome(), "OUTCOME_")
		it.Basis, it.Citation, it.Conditions = rel.GetLegalBasis().GetId(), rel.GetLegalBasis().GetCitation(), rel.GetConditions()
		it.auditIndex = rel.GetAuditIndex()
		p.add(it)
	case "match":
		var types []liaisonv1.RecordType
		for _, r := range e.Records {
			types = append(types, recordEnum(r))
		}
		resp, err := ex.Match(ctx, &liaisonv1.MatchRequest{
			SubjectId: p.subject.subjectID(), RecordTypes: types, Purpose: purposeEnum(e.Purpose), ClaimedLegalBasis: e.Basis,
			CaseId: e.Case, Justification: why, Holders: e.Holders, DeadlineMs: 5000,
		})
		if err != nil {
			p.refused(base, e.By, err)
			return nil
		}
		for _, r := range resp.GetResults() {
			it := base
			it.Agency, it.Counterpart, it.Record = e.By, r.GetHolder(), word(r.GetRecordType(), "RECORD_TYPE_")
			it.What, it.Reasons = word(r.GetAnswer(), "MATCH_ANSWER_"), r.GetReasons()
			p.add(it)
		}
	case "acknowledge":
		if err := p.obligations(ctx); err != nil {
			return err
		}
		// The required notices this event acknowledges: those of by open
		// before it and acknowledged after it. Their rows (notices) carry
		// the event's note, as every row an event makes does.
		open, err := p.st.alog.Notices(ctx, audit.NoticeFilter{Recipient: e.By, Unacknowledged: true})
		if err != nil {
			return err
		}
		items, err := readInbox(ctx, ex)
		if err != nil {
			return err
		}
		// An obligation notice (a correction, a withdrawal, the end of a
		// basis) is acknowledged as done, by Aftercare.AcknowledgeNotice:
		// those in the inbox, and those the gateway refused to take as done
		// before (a correction not yet passed on).
		var due []*oblig
		for _, m := range items {
			if o := m.GetObligation(); o != nil {
				ob := p.obligs[fmt.Sprintf("%s/%d", e.By, o.GetAuditIndex())]
				if ob == nil {
					return fmt.Errorf("an obligation notice from %s not in the timeline", o.GetHolder())
				}
				due = append(due, ob)
			}
		}
		for _, ob := range p.obligOrder {
			if ob.agency == e.By && ob.refused && !ob.acked && !slices.Contains(due, ob) {
				due = append(due, ob)
			}
		}
		c, err := p.st.conn(e.By, a.Clearance, "case_officer")
		if err != nil {
			return err
		}
		// One a later notice replaced can no longer be acknowledged: the
		// later one is the one to acknowledge (unacknowledged says so).
		sup, err := p.superseded(ctx)
		if err != nil {
			return err
		}
		for _, ob := range due {
			if _, ok := sup[ob.index]; ok {
				continue
			}
			it := Item{Event: idx, Agency: e.By, What: "notice", Counterpart: ob.holder, Record: ob.record, Note: e.Note}
			_, err := liaisonv1.NewAftercareClient(c).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: ob.index, Done: ob.obligation, Note: why})
			switch {
			case status.Code(err) == codes.FailedPrecondition:
				ob.refused = true
				it.What, it.Text = "refused", fmt.Sprintf("could not acknowledge the %s notice of %s (day %d)", ob.kind, ob.record, ob.day)
				it.Reasons, it.Message = statusReasons(err)
			case err != nil:
				return fmt.Errorf("acknowledge the %s notice from %s: %v", ob.kind, ob.holder, err)
			default:
				ob.acked = true
				it.Text = fmt.Sprintf("acknowledged the %s notice of %s (day %d): done", ob.kind, ob.record, ob.day)
			}
			p.add(it)
		}
		if len(items) > 0 {
			if _, err = ex.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()}); err != nil {
				return err
			}
		}
		return p.noteAcknowledged(ctx, idx, open)
	case "open_case":
		resp, err := cs.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: e.Case, Kind: e.Kind, SubjectId: p.subject.subjectID(),
			Subject: subjectAttrs(p.subject), Justification: why})
		p.caseItem(base, e.By, e.By, fmt.Sprintf("opened case %s (%s)", e.Case, e.Kind), caseBasis(resp.GetCase()), err)
	case "invite":
		for _, to := range e.To {
			_, err := cs.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: e.Case, Agency: to, Justification: why})
			p.caseItem(base, e.By, to, fmt.Sprintf("invited %s to case %s", to, e.Case), "", err)
			if err != nil {
				continue
			}
			c, err := p.st.conn(to, p.s.agency(to).Clearance, "case_officer")
			if err != nil {
				return err
			}
			tc := liaisonv1.NewCasesClient(c)
			if e.Decline {
				_, err = tc.DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: e.Case, Justification: why})
				p.caseItem(base, to, e.By, "declined to join case "+e.Case, "", err)
				continue
			}
			resp, err := tc.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: e.Case, Justification: why})
			p.caseItem(base, to, e.By, "joined case "+e.Case, caseBasis(resp.GetCase()), err)
		}
	case "leave":
		_, err := cs.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: e.Case, Justification: why})
		p.caseItem(base, e.By, e.By, "left case "+e.Case, "", err)
	case "close_case":
		_, err := cs.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: e.Case, Justification: why})
		p.caseItem(base, e.By, e.By, "closed case "+e.Case, "", err)
	case "correct", "withdraw":
		return p.aftercare(ctx, idx, e, base, why)
	}
	return nil
}

// aftercare plays a correct or withdraw: the holder sends the corrected
// record (or a withdrawal) to every agency it released the record to, and
// each recipient's notice joins its timeline. Every agency that learned
// the record from the holder, and holds it still as far as the exercise
// knows, must have been sent the correction or a withdrawal; one that was
// not is a gap.
func (p *player) aftercare(ctx context.Context, idx int, e Event, base Item, why string) error {
	a := p.s.agency(e.By)
	c, err := p.st.conn(e.By, a.Clearance, "case_officer")
	if err != nil {
		return err
	}
	ac := liaisonv1.NewAftercareClient(c)
	base.Counterpart, base.Record = e.By, e.Record
	var results []*liaisonv1.NoticeResult
	if e.Action == "correct" {
		resp, err := ac.Correct(ctx, &liaisonv1.CorrectRequest{Record: record(p.s, p.subject, cmp.Or(e.From, e.By), e.Record), Subject: subjectAttrs(p.subject), Justification: why})
		if err != nil {
			p.caseItem(base, e.By, e.By, "correction of "+e.Record, "", err)
		}
		results = resp.GetResults()
	} else {
		reason := liaisonv1.WithdrawalReason(liaisonv1.WithdrawalReason_value["WITHDRAWAL_REASON_"+strings.ToUpper(cmp.Or(e.Reason, "incorrect"))])
		resp, err := ac.Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: p.subject.subjectID(), RecordType: recordEnum(e.Record), Reason: reason, Justification: why})
		if err != nil {
			p.caseItem(base, e.By, e.By, "withdrawal of "+e.Record, "", err)
		}
		results = resp.GetResults()
	}
	reached := map[string]bool{}
	// By recipient: the log's order of releases made at once (a notify's
	// recipients) depends on concurrent appends, and the report must not.
	slices.SortStableFunc(results, func(a, b *liaisonv1.NoticeResult) int { return strings.Compare(a.GetRecipient(), b.GetRecipient()) })
	what := aftercareNoun[e.Action]
	for _, r := range results {
		it := base
		it.Agency, it.What, it.Counterpart, it.Reasons = e.By, "sent", r.GetRecipient(), r.GetReasons()
		it.auditIndex = r.GetAuditIndex()
		kind := word(r.GetKind(), "OBLIGATION_KIND_")
		switch {
		case r.GetFailure() != nil:
			it.Text, it.Reasons = "could not send the "+what, []string{r.GetFailure().GetReason()}
		case e.Action == "correct" && kind == "withdrawal":
			it.Text = "sent a withdrawal instead of the correction"
		default:
			it.Text = "sent the " + kind
		}
		if id := r.GetNoticeId(); id != "" && r.GetFailure() == nil {
			// A correction that moves the release date carries a required
			// notice, tracked as a Notify's is: its steps and whether it
			// was acknowledged in time join the timelines and the gaps
			// (notices) as a Notify's do.
			it.AckBy, it.noticeID = r.GetAcknowledgeBy(), id
			if p.delivered == nil {
				p.delivered = map[string]Item{}
			}
			// The recipient learns the event of the notice (the new release
			// date) from the correction, as it would from a Notify of it: an
			// expectation of that event is met by it (expectations).
			ns, err := p.st.alog.Notices(ctx, audit.NoticeFilter{ID: id})
			if err != nil || len(ns) != 1 {
				return fmt.Errorf("the required notice of the correction to %s: %v", r.GetRecipient(), err)
			}
			got := Item{Event: idx, Agency: r.GetRecipient(), What: "received", Action: e.Action, Counterpart: e.By, Record: e.Record,
				SubjectEvt: ns[0].EventType, Outcome: word(r.GetOutcome(), "OUTCOME_"), AckBy: it.AckBy, noticeID: id, At: p.clk.Now(), Day: p.day(p.clk.Now())}
			p.delivered[id], p.byCorrection = got, append(p.byCorrection, got)
		}
		if r.GetFailure() == nil && kind != "unspecified" {
			reached[r.GetRecipient()] = true
			p.passedOnDone(e.By, r.GetRefersTo())
			if kind == "withdrawal" {
				p.withdrawn(e.By, e.Record, r.GetRecipient())
			}
		}
		p.add(it)
	}
	p.notReached(idx, e, reached)
	return p.obligations(ctx)
}

// notReached adds a gap for every agency that holds the record of a
// correct or withdraw event, as far as the exercise knows, and is not
// among those reached.
func (p *player) notReached(idx int, e Event, reached map[string]bool) {
	what := aftercareNoun[e.Action]
	for _, held := range p.holders(e.By, e.Record) {
		if reached[held.Agency] {
			continue
		}
		p.gap(fmt.Sprintf("%s/%d/%s", what, idx, held.Agency), fmt.Sprintf("%s not delivered: %s learned %s from %s on day %d, and on day %d was sent neither the %s nor a withdrawal",
			what, held.Agency, e.Record, e.By, held.Day, p.day(p.clk.Now()), cmp.Or(map[string]string{"correct": "corrected record"}[e.Action], what)))
	}
}

// aftercareNoun names what a correct or withdraw sends.
var aftercareNoun = map[string]string{"correct": "correction", "withdraw": "withdrawal"}

// holders are the agencies that learned rt from holder (in full or
// pseudonymised) and were not sent a withdrawal of it since: one item
// each, the first time they learned it.
func (p *player) holders(holder, rt string) []Item {
	var out []Item
	for _, it := range p.r.Items {
		if it.What != "received" || it.Record != rt || it.Counterpart != holder || it.Agency == holder ||
			(it.Form() != "full" && it.Form() != "pseudonymised") || p.gone[holder+"/"+rt+"/"+it.Agency].After(it.At) ||
			slices.ContainsFunc(out, func(o Item) bool { return o.Agency == it.Agency }) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// lastReceived is the latest release of rt from holder to agency in full,
// or nil.
func (p *player) lastReceived(agency, holder, rt string) *Item {
	for i := len(p.r.Items) - 1; i >= 0; i-- {
		it := &p.r.Items[i]
		if it.Agency == agency && it.What == "received" && it.Counterpart == holder && it.Record == rt && it.Form() == "full" {
			return it
		}
	}
	return nil
}

// withdrawn notes that recipient was told to erase what it learned of rt
// from holder so far (a withdrawal, or an expiry notice that obliges
// erasure).
func (p *player) withdrawn(holder, rt, recipient string) {
	if p.gone == nil {
		p.gone = map[string]time.Time{}
	}
	p.gone[holder+"/"+rt+"/"+recipient] = p.clk.Now()
}

func caseBasis(c *liaisonv1.Case) string { return c.GetLegalBasis().GetId() }

// caseItem records a case change (or its refusal) in the timeline of the
// agency that made it.
func (p *player) caseItem(base Item, agency, other, text, basis string, err error) {
	it := base
	it.Agency, it.Counterpart, it.What, it.Text, it.Basis, it.Citation = agency, other, "case", text, basis, p.bases[basis].Citation
	if err != nil {
		it.What, it.Text = "refused", text
		it.Reasons, it.Message = statusReasons(err)
	}
	p.add(it)
}

// roles are the recipients by role of a disclose or notify.
func (p *player) roles(e Event) []*liaisonv1.RecipientRole {
	var rs []*liaisonv1.RecipientRole
	for _, k := range e.ToCompetent {
		rs = append(rs, &liaisonv1.RecipientRole{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: kindEnum(k)}}})
	}
	if e.ToCaseMembers {
		rs = append(rs, &liaisonv1.RecipientRole{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: e.Case}})
	}
	return rs
}

// result records what one recipient of a disclose or notify got.
func (p *player) result(base Item, r *liaisonv1.RecipientResult) {
	it := base
	it.Agency, it.Outcome = r.GetRecipient(), word(r.GetOutcome(), "OUTCOME_")
	it.Basis, it.Citation = r.GetLegalBasis().GetId(), r.GetLegalBasis().GetCitation()
	it.Conditions, it.Reasons = r.GetConditions(), r.GetReasons()
	it.AckBy, it.noticeID, it.auditIndex = r.GetAcknowledgeBy(), r.GetNoticeId(), r.GetAuditIndex()
	// Each recipient's delivery is decided for its route's purpose (the
	// members of the person's case for case management, an earlier
	// recipient for the purpose it received under), not always the one the
	// sender named: the report gives the purpose its entry records.
	if purpose := p.loggedPurpose(r.GetAuditIndex()); purpose != "" {
		it.Purpose = purpose
	}
	for _, rt := range r.GetRoutes() {
		it.Routes = append(it.Routes, route(rt))
	}
	switch {
	case r.GetFailure() != nil:
		it.What, it.Outcome, it.Reasons = "failed", "failed", []string{r.GetFailure().GetReason()}
	case it.Form() != "":
		it.What = "received"
	default:
		it.What = "withheld"
		it.Message = entriesRE.ReplaceAllString(underEntryRE.ReplaceAllString(r.GetMessage(), ""), "")
	}
	it.At = p.clk.Now()
	it.Day = p.day(it.At)
	if it.noticeID != "" {
		if p.delivered == nil {
			p.delivered = map[string]Item{}
		}
		p.delivered[it.noticeID] = it
	}
	p.add(it)
}

// loggedPurpose is the purpose the exercise gateway's log records for
// the exchange at index, "" if there is none to read.
func (p *player) loggedPurpose(index int64) string {
	if index < 0 {
		return ""
	}
	leaves, err := p.st.alog.Leaves(context.Background(), index, index+1)
	if err != nil || len(leaves) != 1 {
		return ""
	}
	e, err := audit.Unmarshal(leaves[0])
	if err != nil {
		return ""
	}
	return e.Purpose
}

func route(r *liaisonv1.RecipientRoute) string {
	switch r.GetRole() {
	case liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER:
		return "member of case " + r.GetCaseId()
	case liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT:
		return "competent for " + r.GetArea()
	case liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT:
		return "earlier recipient" + map[bool]string{true: " under " + r.GetLegalBasis(), false: ""}[r.GetLegalBasis() != ""]
	}
	return "named"
}

// refusedFor records a disclose or notify no recipient received: one the
// gateway decided for each recipient, every one denied or failed, gives
// each recipient's own result (its status carries them all, as the call's
// response would), for the reasons of its own entry; one the gateway
// refused as a whole, before any recipient's decision: each recipient
// named by id was not told, and the sender's call was refused.
func (p *player) refusedFor(base Item, e Event, err error) {
	if rs := callResults(err); len(rs) > 0 {
		for _, r := range rs {
			p.result(base, r)
		}
		return
	}
	to := slices.Clone(e.To)
	// The competent agencies of the scenario: those the gateway would have
	// found by role.
	for _, a := range p.s.Agencies {
		if slices.Contains(e.ToCompetent, a.Kind) && !slices.Contains(to, a.ID) &&
			slices.ContainsFunc(a.Areas, func(m string) bool { return strings.EqualFold(m, p.subject.Municipality) }) {
			to = append(to, a.ID)
		}
	}
	for _, id := range to {
		it := base
		it.Agency, it.What, it.Outcome = id, "withheld", "refused"
		it.Reasons, it.Message = statusReasons(err)
		p.add(it)
	}
	if len(to) == 0 || e.ToCaseMembers {
		p.refused(base, e.By, err)
	}
}

// callResults are the recipients' results that the status of a Disclose
// or Notify no recipient received carries (a DiscloseResponse or
// NotifyResponse in its details), or nil for a call refused as a whole.
func callResults(err error) []*liaisonv1.RecipientResult {
	for _, d := range status.Convert(err).Details() {
		switch x := d.(type) {
		case *liaisonv1.DiscloseResponse:
			return x.GetResults()
		case *liaisonv1.NotifyResponse:
			return x.GetResults()
		}
	}
	return nil
}

// refused records a call the gateway refused as a whole.
func (p *player) refused(base Item, agency string, err error) {
	it := base
	it.Agency, it.What, it.Outcome = agency, "refused", "refused"
	it.Reasons, it.Message = statusReasons(err)
	p.add(it)
}

// statusReasons are a status error's reason codes and message.
func statusReasons(err error) ([]string, string) {
	st := status.Convert(err)
	var rs []string
	for _, d := range st.Details() {
		switch x := d.(type) {
		case *errdetails.ErrorInfo:
			rs = append(rs, x.GetReason())
		case *errdetails.BadRequest:
			for _, v := range x.GetFieldViolations() {
				rs = append(rs, "INVALID "+v.GetField())
			}
		}
	}
	if len(rs) == 0 {
		rs = []string{st.Code().String()}
	}
	return rs, entriesRE.ReplaceAllString(underEntryRE.ReplaceAllString(st.Message(), ""), "")
}

// underEntryRE finds the audit index a policy's message names for the
// release a record came from ("received from X under entry 12"), which
// the report leaves out, as entriesRE's.
var underEntryRE = regexp.MustCompile(` under entry [0-9]+`)

// readInbox reads every item of an officer's inbox, a page of at most
// inboxPage items at a time, each from the last cursor of the one before.
func readInbox(ctx context.Context, ex liaisonv1.ExchangeClient) ([]*liaisonv1.SubscribeResponse, error) {
	var out []*liaisonv1.SubscribeResponse
	var after int64
	for {
		stream, err := ex.Subscribe(ctx, &liaisonv1.SubscribeRequest{After: after, Limit: int32(inboxPage)})
		if err != nil {
			return nil, err
		}
		n := 0
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			out, after, n = append(out, m), m.GetCursor(), n+1
		}
		if n < inboxPage {
			return out, nil
		}
	}
}

// noteAcknowledged notes which of the required notices open before the
// acknowledge event idx it acknowledged, so that their rows carry its
// note.
func (p *player) noteAcknowledged(ctx context.Context, idx int, open []audit.Notice) error {
	for _, n := range open {
		now, err := p.st.alog.Notices(ctx, audit.NoticeFilter{ID: n.ID})
		if err != nil {
			return err
		}
		if len(now) == 1 && !now[0].Acknowledged.IsZero() {
			if p.ackedBy == nil {
				p.ackedBy = map[string]int{}
			}
			p.ackedBy[n.ID] = idx
		}
	}
	return nil
}

// inboxPage is how many items readInbox asks for at a time: the most
// Exchange.Subscribe gives (a variable for the test that pages).
var inboxPage = 1000

// notices adds each required notice's steps to the timelines, and a gap
// for every one not acknowledged by its deadline.
func (p *player) notices(ctx context.Context, end time.Time) error {
	ns, err := p.st.alog.Notices(ctx, audit.NoticeFilter{})
	if err != nil {
		return err
	}
	for _, n := range ns {
		d, ok := p.delivered[n.ID]
		if !ok {
			continue
		}
		desc := fmt.Sprintf("required notice of %s from %s (rule %s, acknowledge by %s)", n.EventType, n.Sender, n.Rule, n.Deadline.UTC().Format("2006-01-02 15:04"))
		base := Item{Event: d.Event, What: "notice", Counterpart: n.Sender, SubjectEvt: n.EventType, Record: d.Record}
		if !n.Escalated.IsZero() {
			it := base
			it.At, it.Agency, it.Text = n.Escalated, n.Recipient, "escalated to its duty role: "+desc
			p.add(it)
			it.Agency, it.Counterpart, it.Text = n.Sender, n.Recipient, fmt.Sprintf("told that %s has not acknowledged its %s", n.Recipient, desc)
			p.add(it)
		}
		if !n.Acknowledged.IsZero() {
			it := base
			it.At, it.Agency, it.Text = n.Acknowledged, n.Recipient, "acknowledged the "+desc
			if i, ok := p.ackedBy[n.ID]; ok {
				it.Event, it.Note = i, p.s.Events[i].Note
			}
			p.add(it)
		}
		if !n.Overdue.IsZero() {
			it := base
			it.At, it.Agency, it.Text = n.Overdue, n.Recipient, "did not acknowledge in time the "+desc
			p.add(it)
		}
		if !n.Withdrawn.IsZero() {
			it := base
			it.At, it.Agency, it.Text = n.Withdrawn, n.Recipient, "no longer has to acknowledge (withdrawn unread) the "+desc
			// A correction that moved the date closes it with a required
			// notice of its own, the one now to acknowledge: not withdrawn.
			if j := slices.IndexFunc(ns, func(m audit.Notice) bool {
				return m.ID != n.ID && m.Recipient == n.Recipient && m.AuditIndex == n.WithdrawalIndex
			}); j >= 0 {
				it.Text = fmt.Sprintf("no longer has to acknowledge the %s: the required notice of %s with the correction (day %d) replaced it", desc, ns[j].EventType, p.day(n.Withdrawn))
			}
			p.add(it)
		}
		key := fmt.Sprintf("notice/%s/%s/%s/%d", n.Recipient, n.EventType, n.Rule, d.Event)
		switch {
		case n.Late(end) && n.Acknowledged.IsZero():
			p.gap(key, fmt.Sprintf("required notice never acknowledged: %s did not acknowledge the notice of %s from %s (day %d, rule %s) by its deadline %s",
				n.Recipient, n.EventType, n.Sender, d.Day, n.Rule, n.Deadline.UTC().Format("2006-01-02 15:04")))
		case n.Late(end):
			p.gap(key, fmt.Sprintf("required notice acknowledged late: %s acknowledged the notice of %s from %s (day %d, rule %s) on day %d, after its deadline %s",
				n.Recipient, n.EventType, n.Sender, d.Day, n.Rule, p.day(n.Acknowledged), n.Deadline.UTC().Format("2006-01-02 15:04")))
		case n.Acknowledged.IsZero() && n.Withdrawn.IsZero():
			p.gap(key, fmt.Sprintf("required notice not yet acknowledged when the exercise ends: %s, the notice of %s from %s (day %d, rule %s), due %s",
				n.Recipient, n.EventType, n.Sender, d.Day, n.Rule, n.Deadline.UTC().Format("2006-01-02 15:04")))
		}
	}
	return nil
}

func (p *player) gap(key, text string) { p.r.Gaps = append(p.r.Gaps, Gap{Key: key, Text: text}) }

// expectations adds a gap for every expectation not met.
func (p *player) expectations() {
	for i, x := range p.s.Expect {
		form := cmp.Or(x.Form, "pseudonymised")
		what := x.Record
		if x.Event != "" {
			what = "the notice of " + x.Event
		}
		var best *Item
		met := false
		learned := slices.Concat(p.r.Items, p.byCorrection)
		for j := range learned {
			it := &learned[j]
			if it.Agency != x.Agency || it.What != "received" || (x.Record != "" && it.Record != x.Record) || (x.Event != "" && it.SubjectEvt != x.Event) {
				continue
			}
			ok := slices.Index(forms, it.Form()) >= slices.Index(forms, form) && it.Day <= x.ByDay
			if ok && x.Acknowledged {
				ok = p.acknowledgedInTime(it.noticeID)
			}
			if ok {
				met = true
				break
			}
			if closer(it, best, form) {
				best = it
			}
		}
		if met {
			continue
		}
		why := "never received " + what
		if best != nil {
			switch {
			case slices.Index(forms, best.Form()) < slices.Index(forms, form) && best.Day > x.ByDay:
				why = fmt.Sprintf("received %s only as %s, and only on day %d", what, best.Form(), best.Day)
			case slices.Index(forms, best.Form()) < slices.Index(forms, form):
				why = fmt.Sprintf("received %s only as %s", what, best.Form())
			case best.Day > x.ByDay:
				why = fmt.Sprintf("received %s only on day %d", what, best.Day)
			default:
				why = fmt.Sprintf("did not acknowledge %s in time", what)
			}
		}
		want := fmt.Sprintf("%s, at least %s", what, strings.ReplaceAll(form, "_", " "))
		if x.Acknowledged {
			want += ", acknowledged in time"
		}
		p.gap(fmt.Sprintf("expect/%d", i), fmt.Sprintf("expected by day %d: %s (%s): %s %s", x.ByDay, x.Name, want, x.Agency, why))
	}
}

// closer reports whether it comes closer than best (nil: nothing yet) to
// meeting an expectation of at least form: in that form before in a
// lesser one, then earlier, and, in a lesser form, in a greater one. The
// gap then says what kept the closest from meeting it: its day, its form,
// or its acknowledgement.
func closer(it, best *Item, form string) bool {
	if best == nil {
		return true
	}
	rank := func(x *Item) int { return slices.Index(forms, x.Form()) }
	want := slices.Index(forms, form)
	switch itOK, bestOK := rank(it) >= want, rank(best) >= want; {
	case itOK != bestOK:
		return itOK
	case !itOK && rank(it) != rank(best):
		return rank(it) > rank(best)
	}
	return it.Day < best.Day
}

func (p *player) acknowledgedInTime(id string) bool {
	if id == "" {
		return true // the law does not require an acknowledgement
	}
	ns, _ := p.st.alog.Notices(context.Background(), audit.NoticeFilter{})
	for seen := map[string]bool{}; !seen[id]; {
		seen[id] = true
		i := slices.IndexFunc(ns, func(n audit.Notice) bool { return n.ID == id })
		if i < 0 {
			return false
		}
		n := &ns[i]
		switch {
		case !n.Acknowledged.IsZero():
			return !n.Late(n.Deadline)
		case n.Withdrawn.IsZero(), n.Late(n.Deadline):
			return false // still open, or closed only after the deadline it missed
		}
		// Closed before its deadline. A correction that moved the date and
		// carries a required notice of its own to the same recipient closes
		// it (the recipient must acknowledge the new date, not the old
		// one): the acknowledgement is owed on that notice. Otherwise its
		// release was withdrawn or ended (audit.Notice.Withdrawn): the law
		// no longer asks the recipient to acknowledge it, as the required
		// notices' gaps (notices) have it.
		j := slices.IndexFunc(ns, func(m audit.Notice) bool {
			return m.ID != n.ID && m.Recipient == n.Recipient && m.AuditIndex == n.WithdrawalIndex
		})
		if j < 0 {
			return true
		}
		id = ns[j].ID
	}
	return false
}

// assumptions adds a gap for every legal basis an exchange released
// something under and that the pack marks as an unverified reading.
func (p *player) assumptions() {
	var ids []string
	used := map[string][]string{}
	for _, it := range p.r.Items {
		if !it.delivery() || it.Form() == "" || it.Basis == "" || p.bases[it.Basis].Assumption == "" {
			continue
		}
		if _, ok := used[it.Basis]; !ok {
			ids = append(ids, it.Basis)
		}
		used[it.Basis] = append(used[it.Basis], fmt.Sprintf("day %d %s to %s", it.Day, it.Record, it.Agency))
	}
	slices.Sort(ids)
	for _, id := range ids {
		p.gap("assumption/"+id, fmt.Sprintf("rests on an unverified reading: %s (%s) carried %s. The pack says: %s",
			id, p.bases[id].Citation, strings.Join(used[id], "; "), p.bases[id].Assumption))
	}
}

// entriesRE finds the audit indexes a notice's message names, which the
// report leaves out (they depend on the order of concurrent appends).
var entriesRE = regexp.MustCompile(` \(entr(?:y|ies) [0-9, ]+\)`)

// validUntils are the last days of the bases of the releases still open,
// sorted, as the gateway's store tracks them: a correction that moves the
// basis's end (a new release date, a longer probation) moves them, and a
// release withdrawn, corrected or told of its end has none any more.
func (p *player) validUntils(ctx context.Context) ([]string, error) {
	if err := audit.SyncAftercare(ctx, p.st.alog, p.st.store); err != nil {
		return nil, fmt.Errorf("exercise: the releases tracked: %v", err)
	}
	open, err := p.st.store.DueReleases(ctx, "9999-12-31", -1, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("exercise: the releases tracked: %v", err)
	}
	var vs []string
	for _, r := range open {
		if r.ValidUntil != "" && !slices.Contains(vs, r.ValidUntil) {
			vs = append(vs, r.ValidUntil)
		}
	}
	slices.Sort(vs)
	return vs, nil
}

// obligations adds the obligation notices (expiry of a basis, from the
// aftercare timers) that reached each agency's inbox since the last look.
func (p *player) obligations(ctx context.Context) error {
	if p.obligs == nil {
		p.obligs = map[string]*oblig{}
	}
	for _, a := range p.s.Agencies {
		c, err := p.st.conn(a.ID, a.Clearance, "case_officer")
		if err != nil {
			return err
		}
		items, err := readInbox(ctx, liaisonv1.NewExchangeClient(c))
		if err != nil {
			return err
		}
		for _, m := range items {
			o := m.GetObligation()
			key := fmt.Sprintf("%s/%d", a.ID, o.GetAuditIndex())
			if o == nil || p.obligs[key] != nil {
				continue
			}
			ob := &oblig{agency: a.ID, holder: o.GetHolder(), kind: word(o.GetKind(), "OBLIGATION_KIND_"), record: word(o.GetRecordType(), "RECORD_TYPE_"),
				index: o.GetAuditIndex(), obligation: o.GetObligation(), day: p.day(p.clk.Now())}
			p.obligs[key], p.obligOrder = ob, append(p.obligOrder, ob)
			p.noteOnward(a.ID, o, ob.day)
			if o.GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY && o.GetObligation() == liaisonv1.Obligation_OBLIGATION_ERASE {
				// The basis ended and nothing lets it keep the record: it
				// holds it no longer, as after a withdrawal.
				p.withdrawn(o.GetHolder(), ob.record, a.ID)
			}
			p.add(Item{Event: -1, Agency: a.ID, What: "notice", Counterpart: o.GetHolder(), Record: word(o.GetRecordType(), "RECORD_TYPE_"),
				Basis: o.GetLegalBasis().GetId(), Citation: o.GetLegalBasis().GetCitation(),
				Text: fmt.Sprintf("%s notice: %s", word(o.GetKind(), "OBLIGATION_KIND_"), entriesRE.ReplaceAllString(o.GetMessage(), ""))})
		}
	}
	return nil
}
