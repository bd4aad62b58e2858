package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// demoClock is the demo gateway's clock: it starts days behind the wall
// clock, so that the Safety House scenario can span three days and still
// end now. Advance moves it on.
type demoClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// The scenario advances the clock 24 hours (day 2) and 49 hours (day 4):
// it starts 73 hours back and ends now.
func newDemoClock() *demoClock { return &demoClock{offset: -73 * time.Hour} }

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *demoClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// The Safety House scenario's case and person.
const (
	demoCase    = "NL-ZVH-RTM-0107"
	demoSubject = "SYN-NL-0002"
)

// safetyHouse runs the Dutch Safety House scenario: a case opened by the
// municipality, members invited and accepting, a release date brought
// forward and the notice reaching every member and the competent police,
// the municipality's notice escalated because nobody acknowledged it.
func (d *demo) safetyHouse(ctx context.Context) error {
	fmt.Fprintln(d.out, "4. Netherlands: a Safety House case, a release brought forward, a notice nobody read")
	day := func(n int) string { return d.clock.Now().Format("Mon 2 Jan 15:04") + fmt.Sprintf(" (day %d)", n) }
	d.say("clock   %s: the gateway's clock is set 73 hours back and moves on with this scenario, which ends now", day(1))

	type who struct{ agency, officer string }
	var (
		council   = who{"nl-municipality-rotterdam", "ambt.smit"}
		police    = who{"nl-police-rotterdam", "insp.de.vries"}
		probation = who{"nl-probation", "rc.jansen"}
		prison    = who{"nl-prison-dji", "dji.visser"}
		ngo       = who{"nl-ngo-exit", "mentor.jansen"}
		duty      = who{"nl-municipality-rotterdam", "wachtdienst.de.wit"}
	)
	conns := map[who]*clientSet{}
	client := func(w who, roles ...string) (*clientSet, error) {
		if c, ok := conns[w]; ok {
			return c, nil
		}
		conn, err := d.client(w.agency, w.officer, append([]string{"case_officer"}, roles...), "restricted")
		if err != nil {
			return nil, err
		}
		c := &clientSet{ex: liaisonv1.NewExchangeClient(conn), cases: liaisonv1.NewCasesClient(conn), notices: liaisonv1.NewNoticesClient(conn), close: conn.Close}
		conns[w] = c
		return c, nil
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	c, err := client(council)
	if err != nil {
		return err
	}
	why := "Person-centred approach: the person returns to Rotterdam."
	open, err := c.cases.OpenCase(ctx, &liaisonv1.OpenCaseRequest{
		CaseId: demoCase, Kind: "nl.zvh", SubjectId: demoSubject, Justification: why,
		Subject: &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true, Municipality: "Rotterdam"},
	})
	if err != nil {
		return fmt.Errorf("demo: open case: %v", err)
	}
	d.say("%-19s -> OpenCase %s (kind nl.zvh) about %s: OPENED under %s, audit entry #%d", council.agency, demoCase, demoSubject,
		open.GetCase().GetLegalBasis().GetId(), open.GetAuditIndex())
	d.detail("pseudonym domain %s for the case's whole life, whoever leads it", open.GetCase().GetPseudonymDomain())
	for _, m := range []who{police, probation, prison, ngo} {
		inv, err := c.cases.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: demoCase, Agency: m.agency, Justification: why})
		if err != nil {
			return fmt.Errorf("demo: invite %s: %v", m.agency, err)
		}
		mc, err := client(m)
		if err != nil {
			return err
		}
		acc, err := mc.cases.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: demoCase, Justification: "We take part in the case consultation."})
		if err != nil {
			return fmt.Errorf("demo: %s accepts: %v", m.agency, err)
		}
		d.say("%-19s -> InviteMember %-19s entry #%d; %s accepts, entry #%d", council.agency, m.agency, inv.GetAuditIndex(), m.agency, acc.GetAuditIndex())
	}
	nc, _ := client(ngo)
	_, err = nc.cases.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: demoCase, Agency: "nl-police-amsterdam", Justification: "They know the family."})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied || reasonOf(err) != "NOT_CASE_LEAD" {
		return fmt.Errorf("demo: an invitation by a member that is not the lead: %v, want PermissionDenied, NOT_CASE_LEAD", err)
	}
	d.say("%-19s -> InviteMember nl-police-amsterdam: DENIED (%s): %s", ngo.agency, reasonOf(err), status.Convert(err).Message())
	fmt.Fprintln(d.out)

	// Day 2: the court brings the release forward.
	d.clock.Advance(24 * time.Hour)
	now := d.clock.Now()
	was, release := now.AddDate(0, 0, 30).Format(time.DateOnly), now.AddDate(0, 0, 10).Format(time.DateOnly)
	d.say("clock   %s", day(2))
	pc, err := client(prison)
	if err != nil {
		return err
	}
	rec := &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{
		Subject:     &liaisonv1.Person{SubjectId: demoSubject, FullName: "Fictief Persoon", DateOfBirth: "1996-09-12"},
		ReleaseDate: release, PreviousReleaseDate: was, Facility: "PI Rotterdam (sample)",
		Destination:  &liaisonv1.Address{Street: "Verzonnenstraat 9", PostalCode: "3011 AA", Municipality: "Rotterdam", Country: "NL"},
		ContactPoint: "Release desk, PI Rotterdam",
	}}}
	d.say("%-19s -> Notify release_date_changed (%s, was %s) to the person's case and the police competent for Rotterdam", prison.agency, release, was)
	nr, err := pc.ex.Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED, Record: rec,
		Subject: &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true, ReleaseDate: release, Municipality: "Rotterdam"},
		RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{
			Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE, Municipality: "Rotterdam"}}}},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The court brought the release forward by twenty days.",
	})
	if err != nil {
		return fmt.Errorf("demo: notify: %v", err)
	}
	d.say("gateway             routed event %s to %d agencies, each decided and logged on its own:", nr.GetEventId(), len(nr.GetResults()))
	var councilNotice string
	// Every member is told, each under the Safety House's basis, and the
	// lead and the competent police must acknowledge.
	wantNotified := map[string]bool{council.agency: true, police.agency: true, probation.agency: false, ngo.agency: false} // agency: notice required
	if len(nr.GetResults()) != len(wantNotified) {
		return fmt.Errorf("demo: notify reached %d agencies, want %d", len(nr.GetResults()), len(wantNotified))
	}
	for _, r := range nr.GetResults() {
		required, ok := wantNotified[r.GetRecipient()]
		if !ok || r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || (r.GetNoticeId() != "") != required {
			return fmt.Errorf("demo: notify to %s: outcome %v, notice %q; want DISCLOSE, a required notice %v", r.GetRecipient(), r.GetOutcome(), r.GetNoticeId(), required)
		}
	}
	for _, r := range nr.GetResults() {
		var routes []string
		for _, rt := range r.GetRoutes() {
			routes = append(routes, describeRouteForPeople(rt))
		}
		line := fmt.Sprintf("%-26s %s under %s, entry #%d; %s", r.GetRecipient(), strings.TrimPrefix(r.GetOutcome().String(), "OUTCOME_"),
			r.GetLegalBasis().GetId(), r.GetAuditIndex(), strings.Join(routes, "; also "))
		if r.GetNoticeId() != "" {
			line += fmt.Sprintf("; must acknowledge by %s", r.GetAcknowledgeBy())
		}
		d.detail("%s", line)
		if r.GetRecipient() == council.agency {
			councilNotice = r.GetNoticeId()
		}
	}
	if councilNotice == "" {
		return errors.New("demo: the lead municipality's notice is not required")
	}
	// Everyone reads and acknowledges, but the municipality.
	for _, m := range []who{police, probation, ngo} {
		mc, _ := client(m)
		it, err := lastNotice(ctx, mc.ex, nr.GetEventId())
		if err != nil {
			return err
		}
		rn := it.GetReleased().GetRecord().GetReleaseNotice()
		if _, err := mc.ex.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: it.GetCursor()}); err != nil {
			return err
		}
		d.say("%-19s <- release on %s (was %s), %d fields; acknowledged", m.agency, or(rn.GetReleaseDate(), "(withheld)"), or(rn.GetPreviousReleaseDate(), "(withheld)"), len(it.GetReleased().GetFields()))
	}
	d.say("%-19s does not read its inbox", council.agency)
	fmt.Fprintln(d.out)

	// Day 4: two days later the escalation is due.
	d.clock.Advance(49 * time.Hour)
	d.say("clock   %s: 49 hours later", day(4))
	if _, err := d.gw.Server.RunTimers(ctx); err != nil {
		return fmt.Errorf("demo: timers: %v", err)
	}
	dc, err := client(duty, "duty_officer")
	if err != nil {
		return err
	}
	for _, w := range []struct {
		who   who
		label string
		c     *clientSet
	}{{duty, "duty officer", dc}, {prison, "sender", pc}} {
		x, err := escalationFor(ctx, w.c.ex, councilNotice)
		if err != nil {
			return err
		}
		d.say("%-19s <- ESCALATION (%s): %s from %s not acknowledged by %s, due %s; entry #%d", w.who.agency, w.label,
			strings.ToLower(strings.TrimPrefix(x.GetEventType().String(), "SUBJECT_EVENT_TYPE_")), x.GetSender(), x.GetRecipient(), x.GetAcknowledgeBy(), x.GetAuditIndex())
	}
	it, err := lastNotice(ctx, dc.ex, nr.GetEventId())
	if err != nil {
		return err
	}
	if _, err := dc.ex.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: it.GetCursor()}); err != nil {
		return err
	}
	d.say("%-19s the duty officer reads the notice and acknowledges it, before the deadline", council.agency)

	aud, err := client(who{"nl-probation", "fg.dekker"}, "auditor")
	if err != nil {
		return err
	}
	all, err := aud.notices.ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
	if err != nil {
		return err
	}
	late, err := aud.notices.ListNotices(ctx, &liaisonv1.ListNoticesRequest{LateOnly: true})
	if err != nil {
		return err
	}
	escalated := 0
	for _, n := range all.GetNotices() {
		if n.GetEscalated() != "" {
			escalated++
		}
	}
	if len(all.GetNotices()) != 2 || escalated != 1 || len(late.GetNotices()) != 0 {
		return fmt.Errorf("demo: ListNotices: %d required notices, %d escalated, %d late; want 2, 1 and 0", len(all.GetNotices()), escalated, len(late.GetNotices()))
	}
	d.say("auditor             -> ListNotices: %d required notices, %d escalated, %d not acknowledged in time", len(all.GetNotices()), escalated, len(late.GetNotices()))
	fmt.Fprintln(d.out)
	return nil
}

// clientSet is one officer's clients.
type clientSet struct {
	ex      liaisonv1.ExchangeClient
	cases   liaisonv1.CasesClient
	notices liaisonv1.NoticesClient
	close   func() error
}

func reasonOf(err error) string {
	for _, det := range status.Convert(err).Details() {
		if ei, ok := det.(interface{ GetReason() string }); ok {
			return ei.GetReason()
		}
	}
	return ""
}

func describeRouteForPeople(r *liaisonv1.RecipientRoute) string {
	switch r.GetRole() {
	case liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER:
		return "member of case " + r.GetCaseId()
	case liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT:
		return "the police competent for " + r.GetArea()
	case liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT:
		return fmt.Sprintf("received records earlier (entry #%d, %s)", r.GetEarlierAuditIndex(), or(r.GetLegalBasis(), "no end"))
	}
	return "named"
}

// readInbox reads every item of an officer's inbox.
func readInbox(ctx context.Context, ex liaisonv1.ExchangeClient) ([]*liaisonv1.SubscribeResponse, error) {
	st, err := ex.Subscribe(ctx, &liaisonv1.SubscribeRequest{Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []*liaisonv1.SubscribeResponse
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
}

// lastNotice is the inbox item of an event.
func lastNotice(ctx context.Context, ex liaisonv1.ExchangeClient, event string) (*liaisonv1.SubscribeResponse, error) {
	items, err := readInbox(ctx, ex)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.GetNotice().GetEventId() == event {
			return it, nil
		}
	}
	return nil, fmt.Errorf("demo: no notice of event %s in the inbox", event)
}

// escalationFor is the inbox item escalating a notice.
func escalationFor(ctx context.Context, ex liaisonv1.ExchangeClient, notice string) (*liaisonv1.Escalation, error) {
	items, err := readInbox(ctx, ex)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if x := it.GetEscalation(); x.GetNoticeId() == notice {
			return x, nil
		}
	}
	return nil, fmt.Errorf("demo: no escalation of notice %s in the inbox", notice)
}

// describeCaseOrNotice describes an entry of a case change or of a step of
// a required notice, for the demo's audit trail.
func describeCaseOrNotice(e *audit.Entry) (string, bool) {
	var b strings.Builder
	switch {
	case strings.HasPrefix(e.Action, "case_"):
		id := ""
		if e.Case != nil {
			id = e.Case.ID
		}
		fmt.Fprintf(&b, ": case %s", id)
		if len(e.Recipients) == 1 && (e.Requester == nil || e.Recipients[0].Agency != e.Requester.Agency) {
			fmt.Fprintf(&b, ", agency %s", e.Recipients[0].Agency)
		}
		if e.Detail["source"] != "" {
			fmt.Fprintf(&b, " (from the %s file)", e.Detail["source"])
		}
	case e.Action == "notice_acknowledge" && e.Detail["notice_id"] == "":
		// An acknowledgement that acknowledged no required notice: the
		// inbox read up to a cursor (Exchange.Acknowledge).
		fmt.Fprintf(&b, ": inbox read up to item %s", e.Detail["cursor"])
	case strings.HasPrefix(e.Action, "notice_"):
		fmt.Fprintf(&b, ": notice %s (%s) from %s to %s, due %s", e.Detail["notice_id"], e.Detail["event"], partyID(e.Holder), recipientIDs(e), e.Detail["acknowledge_by"])
		if to := e.Detail["escalated_to"]; to != "" {
			fmt.Fprintf(&b, ", escalated to %s", to)
		}
		if e.Detail["late"] == "true" {
			b.WriteString(", LATE")
		}
	case e.Action == audit.ActionAcknowledgeNotice:
		fmt.Fprintf(&b, ": notice #%s (%s) from %s to %s, done: %s", e.Detail[audit.DetailNotice], e.RecordType, partyID(e.Holder), recipientIDs(e), e.Detail[audit.DetailDone])
	default:
		return "", false
	}
	fmt.Fprintf(&b, " -> %s", strings.ToUpper(e.Outcome))
	if e.LegalBasis != nil {
		fmt.Fprintf(&b, " under %s", e.LegalBasis.ID)
	}
	if len(e.Reasons) > 0 && e.Outcome != audit.OutcomeOK {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Reasons, ", "))
	}
	return b.String(), true
}

func recipientIDs(e *audit.Entry) string {
	var ids []string
	for _, r := range e.Recipients {
		ids = append(ids, r.Agency)
	}
	return strings.Join(ids, ",")
}
