package gateway_test

import (
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// clock is a settable clock for the gateway (Config.Now): the notice
// timers and the policy's "now" follow it, so a test runs days in
// milliseconds.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// onEachStore runs test against a stack on SQLite and one on PostgreSQL
// (skipped, saying how to run it, when LIAISON_TEST_POSTGRES_URL is not
// set).
func onEachStore(t *testing.T, o stackOptions, test func(t *testing.T, s *stack)) {
	t.Run("SQLite", func(t *testing.T) {
		test(t, startStack(t, o))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		o := o
		o.postgresURL = pgtest.NewDatabase(t)
		test(t, startStack(t, o))
	})
}

var (
	nlCouncil   = officer{"nl-municipality-rotterdam", "ambt.smit", []string{"case_officer"}, "restricted"}
	nlProbation = officer{"nl-probation", "rc.jansen", []string{"case_officer"}, "restricted"}
	nlPrison    = officer{"nl-prison-dji", "dji.visser", []string{"release_officer"}, "restricted"}
	nlPoliceAms = officer{"nl-police-amsterdam", "insp.bakker", []string{"case_officer"}, "restricted"}
	nlDutyAms   = officer{"nl-police-amsterdam", "wachtc.de.boer", []string{"duty_officer"}, "restricted"}
	nlAuditor   = officer{"nl-probation", "fg.dekker", []string{"auditor"}, "confidential"}
	dkSocial    = officer{"dk-social-aarhus", "sr.holm", []string{"case_officer"}, "restricted"}
)

func (s *stack) cases(tb testing.TB, o officer) liaisonv1.CasesClient {
	return liaisonv1.NewCasesClient(s.conn(tb, o))
}

// one runs call and checks that it appended exactly one entry, with the
// action and outcome given; it returns the call's error and the entry.
func (s *stack) one(t *testing.T, what, action, outcome string, call func() error) (error, *audit.Entry) {
	t.Helper()
	err, entries := s.grown(t, call)
	if len(entries) != 1 {
		t.Fatalf("%s: the log grew by %d entries, want exactly 1", what, len(entries))
	}
	e := entries[0]
	if e.Action != action || e.Outcome != outcome {
		t.Fatalf("%s: entry %s -> %s (reasons %v), want %s -> %s (call error %v)", what, e.Action, e.Outcome, e.Reasons, action, outcome, err)
	}
	return err, e
}

// inboxItems reads every item in an officer's inboxes.
func inboxItems(t *testing.T, ex liaisonv1.ExchangeClient) []*liaisonv1.SubscribeResponse {
	t.Helper()
	st, err := ex.Subscribe(t.Context(), &liaisonv1.SubscribeRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*liaisonv1.SubscribeResponse
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

var caseStart = time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)

// TestCaseLifecycle runs a Safety House case from opening to closing over
// real TLS, on SQLite and PostgreSQL: every step is decided by the Dutch
// policy and is exactly one audit entry; a member that leaves, and every
// member once the case is closed, is refused from that moment.
func TestCaseLifecycle(t *testing.T) {
	onEachStore(t, stackOptions{serverNow: newClock(caseStart).Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		council, police, probation, ngo := s.cases(t, nlCouncil), s.cases(t, nlPolice), s.cases(t, nlProbation), s.cases(t, nlNGO)
		const id = "NL-ZVH-RTM-0100"
		why := "Case consultation before the release."

		// The police cannot open a Safety House case; the municipality can.
		_, e := s.one(t, "police open", "case_open", "deny", func() error {
			_, err := police.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
				Subject: nlSubject(), Justification: why})
			wantStatus(t, err, codes.PermissionDenied)
			return nil
		})
		if !slices.Contains(e.Reasons, "LEAD_KIND_NOT_ALLOWED") {
			t.Errorf("police opening: reasons %v, want LEAD_KIND_NOT_ALLOWED", e.Reasons)
		}
		var opened *liaisonv1.OpenCaseResponse
		_, e = s.one(t, "open", "case_open", "ok", func() (err error) {
			opened, err = council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
				Subject: nlSubject(), Justification: why})
			return err
		})
		c := opened.GetCase()
		if c.GetLead() != "nl-municipality-rotterdam" || c.GetVersion() != 1 || c.GetPseudonymDomain() != "case/"+id ||
			c.GetLegalBasis().GetId() != "nl.zvh" || c.GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_OPEN {
			t.Errorf("opened case = %v", c)
		}
		if e.Subject == nil || e.Subject.Pseudonym == "" || e.LegalBasis == nil || e.LegalBasis.ID != "nl.zvh" || e.Requester.Officer != nlCouncil.id {
			t.Errorf("opening entry = %+v, want the subject's audit pseudonym, the basis and the officer", e)
		}
		// The same id again is refused.
		err, _ := s.one(t, "open twice", "case_open", "refused", func() error {
			_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
				Subject: nlSubject(), Justification: why})
			return err
		})
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_EXISTS" {
			t.Errorf("open twice: reason %q, want CASE_EXISTS", errorReason(st))
		}

		// The lead invites the police, who accept.
		s.one(t, "invite police", "case_invite", "ok", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-police-rotterdam", Justification: why})
			return err
		})
		var updates int
		for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
			if u := it.GetCaseUpdate(); u != nil && u.GetChange() == "case_invite" && u.GetCase().GetId() == id && u.GetAgency() == "nl-police-rotterdam" {
				updates++
			}
		}
		if updates != 1 {
			t.Errorf("the police's inbox holds %d invitations to %s, want 1", updates, id)
		}
		s.one(t, "police accept", "case_accept", "ok", func() error {
			_, err := police.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."})
			return err
		})

		// A member that is not the lead cannot invite.
		_, e = s.one(t, "police invite", "case_invite", "deny", func() error {
			_, err := police.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-probation", Justification: why})
			if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "NOT_CASE_LEAD" {
				t.Errorf("police invite: reason %q, want NOT_CASE_LEAD", errorReason(st))
			}
			return nil
		})
		if e.Requester.Agency != "nl-police-rotterdam" || len(e.Recipients) != 1 || e.Recipients[0].Agency != "nl-probation" {
			t.Errorf("refused invitation entry names %+v -> %+v", e.Requester, e.Recipients)
		}

		// The lead invites probation. Nobody accepts on its behalf: not the
		// lead, not another agency.
		s.one(t, "invite probation", "case_invite", "ok", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-probation", Justification: why})
			return err
		})
		for _, o := range []liaisonv1.CasesClient{council, ngo} {
			err, _ := s.one(t, "accept on another's behalf", "case_accept", "deny", func() error {
				_, err := o.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "for probation"})
				return err
			})
			if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "NOT_INVITED" {
				t.Errorf("accept on another's behalf: reason %q, want NOT_INVITED", errorReason(st))
			}
		}
		got, err := probation.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		if st := memberStatus(got.GetCase(), "nl-probation"); st != liaisonv1.MemberStatus_MEMBER_STATUS_INVITED {
			t.Fatalf("probation after others tried to accept for it: %v, want still invited", st)
		}
		if _, err := ngo.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id}); err == nil {
			t.Error("GetCase by an agency outside the case: nil error, want NotFound")
		} else {
			wantStatus(t, err, codes.NotFound)
		}
		s.one(t, "probation accepts", "case_accept", "ok", func() error {
			_, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We supervise."})
			return err
		})

		// A member exchanges on the case's basis...
		inCase := riskReq(func(r *liaisonv1.RequestRequest) {
			r.CaseId, r.Purpose = id, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT
		})
		var rel *liaisonv1.RequestResponse
		s.one(t, "request in the case", "request", "disclose", func() (err error) {
			rel, err = s.exchange(t, nlPolice).Request(ctx, inCase)
			return err
		})
		if rel.GetReleased().GetLegalBasis().GetId() != "nl.zvh.casusoverleg" || rel.GetReleased().GetPseudonymDomain() != "case/"+id {
			t.Errorf("request in the case: basis %v, domain %q", rel.GetReleased().GetLegalBasis(), rel.GetReleased().GetPseudonymDomain())
		}
		// ... until it leaves: refused from that moment.
		s.one(t, "police leave", "case_leave", "ok", func() error {
			_, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Our part is done."})
			return err
		})
		err, e = s.one(t, "request after leaving", "request", "deny", func() error {
			_, err := s.exchange(t, nlPolice).Request(ctx, inCase)
			return err
		})
		wantStatus(t, err, codes.PermissionDenied)
		if !slices.Contains(e.Reasons, "NOT_A_CASE_MEMBER") || e.Case == nil || slices.Contains(e.Case.Members, "nl-police-rotterdam") {
			t.Errorf("request after leaving: reasons %v, case %+v; want NOT_A_CASE_MEMBER without the police among the members", e.Reasons, e.Case)
		}

		// The lead hands over to probation; the case's domain stays.
		s.one(t, "hand over", "case_handover", "ok", func() error {
			r, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: "nl-probation", Justification: "Probation knows the family best."})
			if err == nil && (r.GetCase().GetLead() != "nl-probation" || r.GetCase().GetPseudonymDomain() != "case/"+id) {
				t.Errorf("after hand-over: lead %q, domain %q", r.GetCase().GetLead(), r.GetCase().GetPseudonymDomain())
			}
			return err
		})
		s.one(t, "request by the old lead", "request", "disclose", func() error {
			r, err := s.exchange(t, nlCouncil).Request(ctx, inCase)
			if err == nil && r.GetReleased().GetPseudonymDomain() != "case/"+id {
				t.Errorf("domain after hand-over = %q, want case/%s", r.GetReleased().GetPseudonymDomain(), id)
			}
			return err
		})
		// The former lead can no longer close the case; the new lead can.
		err, _ = s.one(t, "old lead closes", "case_close", "deny", func() error {
			_, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: why})
			return err
		})
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "NOT_CASE_LEAD" {
			t.Errorf("old lead closes: reason %q", errorReason(st))
		}
		s.one(t, "close", "case_close", "ok", func() error {
			r, err := probation.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Supervision ended."})
			if err == nil && (r.GetCase().GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_CLOSED || r.GetCase().GetClosed() == "") {
				t.Errorf("closed case = %v", r.GetCase())
			}
			return err
		})
		// Nobody exchanges on a closed case, and it changes no more.
		err, e = s.one(t, "request on a closed case", "request", "refused", func() error {
			_, err := s.exchange(t, nlCouncil).Request(ctx, inCase)
			return err
		})
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_CLOSED" || !slices.Contains(e.Reasons, "CASE_CLOSED") {
			t.Errorf("request on a closed case: reason %q, entry reasons %v", errorReason(st), e.Reasons)
		}
		err, _ = s.one(t, "invite into a closed case", "case_invite", "refused", func() error {
			_, err := probation.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-ngo-exit", Justification: why})
			return err
		})
		wantStatus(t, err, codes.FailedPrecondition)

		// Eight changes were made (open, two invitations and acceptances,
		// a leave, a hand-over, the close); the refused ones changed nothing.
		final, err := probation.ListCases(ctx, &liaisonv1.ListCasesRequest{Status: liaisonv1.CaseStatus_CASE_STATUS_CLOSED})
		if err != nil || len(final.GetCases()) != 1 || final.GetCases()[0].GetVersion() != 8 {
			t.Fatalf("ListCases(closed) = %v, %v; want the case at version 8", final, err)
		}
		wantMembers := map[string]liaisonv1.MemberStatus{
			"nl-municipality-rotterdam": liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER,
			"nl-police-rotterdam":       liaisonv1.MemberStatus_MEMBER_STATUS_LEFT,
			"nl-probation":              liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER,
		}
		for a, want := range wantMembers {
			if got := memberStatus(final.GetCases()[0], a); got != want {
				t.Errorf("member %s = %v, want %v", a, got, want)
			}
		}
	})
}

func memberStatus(c *liaisonv1.Case, agency string) liaisonv1.MemberStatus {
	for _, m := range c.GetMembers() {
		if m.GetAgency() == agency {
			return m.GetStatus()
		}
	}
	return liaisonv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED
}

func nlSubject() *liaisonv1.SubjectAttributes {
	return &liaisonv1.SubjectAttributes{
		Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true,
		ReleaseDate: "2027-03-01", ProbationUntil: "2029-02-28", Municipality: "Rotterdam",
	}
}

// releaseNoticeOf is a Dutch prison's release notice about subject, who
// will live in municipality.
func releaseNoticeOf(subject, municipality, date, previous string) *liaisonv1.Record {
	return &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{
		Subject:     &liaisonv1.Person{SubjectId: subject, FullName: "Fictief Persoon", DateOfBirth: "1990-02-03"},
		ReleaseDate: date, PreviousReleaseDate: previous, Facility: "PI Rotterdam (sample)",
		Destination: &liaisonv1.Address{Street: "Verzonnenstraat 1", PostalCode: "1000 AA", Municipality: municipality, Country: "NL"},
		ContactPoint: "Release desk",
	}}}
}

func attrsIn(municipality, date string) *liaisonv1.SubjectAttributes {
	a := nlSubject()
	a.Municipality, a.ReleaseDate = municipality, date
	return a
}

// TestCompetentRecipient addresses a release notice to "the police
// competent for" a municipality: it reaches exactly that force, and a
// municipality no agency covers is refused with a clear error, and logged.
func TestCompetentRecipient(t *testing.T) {
	onEachStore(t, stackOptions{serverNow: newClock(caseStart).Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		prison := s.exchange(t, nlPrison)
		competent := func(m string) []*liaisonv1.RecipientRole {
			return []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{
				Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE, Municipality: m}}}}
		}
		// A Disclose by role.
		var dr *liaisonv1.DiscloseResponse
		_, e := s.one(t, "disclose to the competent police", "disclose", "pseudonymise", func() (err error) {
			dr, err = prison.Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: releaseNoticeOf("SYN-NL-0201", "Amsterdam", "2027-03-01", ""), Subject: attrsIn("Amsterdam", "2027-03-01"),
				RecipientRoles: competent("amsterdam"), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Release on 1 March: the police where the person will live must know.",
			})
			return err
		})
		if len(dr.GetResults()) != 1 || dr.GetResults()[0].GetRecipient() != "nl-police-amsterdam" {
			t.Fatalf("disclose by role reached %v, want exactly nl-police-amsterdam", dr.GetResults())
		}
		r := dr.GetResults()[0].GetRoutes()
		if len(r) != 1 || r[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT || r[0].GetArea() != "amsterdam" {
			t.Errorf("routes = %v, want competent for amsterdam", r)
		}
		if e.Detail["route"] != "competent" || e.Detail["route_area"] != "amsterdam" || e.Recipients[0].Agency != "nl-police-amsterdam" {
			t.Errorf("entry detail %v, recipients %v: want the route in the log", e.Detail, e.Recipients)
		}

		// A Notify by role, with the municipality from the subject.
		var nr *liaisonv1.NotifyResponse
		_, e = s.one(t, "notify the competent police", "notify", "pseudonymise", func() (err error) {
			nr, err = prison.Notify(ctx, &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record:    releaseNoticeOf("SYN-NL-0202", "Amsterdam", "2027-03-01", ""), Subject: attrsIn("Amsterdam", "2027-03-01"),
				RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{
					Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
				Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Release date set.",
			})
			return err
		})
		if len(nr.GetResults()) != 1 || nr.GetResults()[0].GetRecipient() != "nl-police-amsterdam" || nr.GetResults()[0].GetNoticeId() == "" {
			t.Fatalf("notify by role = %v, want exactly nl-police-amsterdam with a required notice", nr.GetResults())
		}
		if e.Detail["event"] != "release_date_set" || e.Detail["notice_rule"] != "nl.notice.release.police" || e.Detail["event_id"] != nr.GetEventId() {
			t.Errorf("notify entry detail = %v", e.Detail)
		}
		for _, o := range []officer{nlPolice, nlCouncil} {
			if items := inboxItems(t, s.exchange(t, o)); len(items) != 0 {
				t.Errorf("%s's inbox holds %d items, want none", o.agency, len(items))
			}
		}
		items := inboxItems(t, s.exchange(t, nlPoliceAms))
		if len(items) != 2 || items[1].GetNotice().GetNoticeId() != nr.GetResults()[0].GetNoticeId() ||
			items[1].GetReleased().GetRecordType() != liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE {
			t.Fatalf("the Amsterdam police's inbox = %v, want the disclosure and the notice", items)
		}

		// Nobody covers Groningen: refused, logged, nothing delivered.
		for _, c := range []struct {
			action string
			call   func() error
		}{
			{"disclose", func() error {
				_, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{
					Record: releaseNoticeOf("SYN-NL-0203", "Groningen", "2027-03-01", ""), Subject: attrsIn("Groningen", "2027-03-01"),
					RecipientRoles: competent("Groningen"), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release.",
				})
				return err
			}},
			{"notify", func() error {
				_, err := prison.Notify(ctx, &liaisonv1.NotifyRequest{
					EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
					Record:    releaseNoticeOf("SYN-NL-0203", "Groningen", "2027-03-01", ""), Subject: attrsIn("Groningen", "2027-03-01"),
					RecipientRoles: competent("Groningen"), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release.",
				})
				return err
			}},
		} {
			before := len(inboxItems(t, s.exchange(t, nlPoliceAms)))
			err, e := s.one(t, "no competent police", c.action, "refused", c.call)
			st := wantStatus(t, err, codes.InvalidArgument)
			if errorReason(st) != "NO_COMPETENT_RECIPIENT" || !slices.Contains(e.Reasons, "NO_COMPETENT_RECIPIENT") ||
				e.Detail["field"] != "recipient_roles[0].competent" {
				t.Errorf("no competent police: status reason %q (%s), entry reasons %v, field %q", errorReason(st), st.Message(), e.Reasons, e.Detail["field"])
			}
			if after := len(inboxItems(t, s.exchange(t, nlPoliceAms))); after != before {
				t.Errorf("a refused call delivered %d items", after-before)
			}
		}
	})
}
