package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// caseClock is a settable clock for the gateway (Config.Now): the notice
// timers and the policy's "now" follow it, so a test runs days in
// milliseconds.
type caseClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCaseClock(t time.Time) *caseClock { return &caseClock{t: t} }

func (c *caseClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *caseClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *caseClock) Advance(d time.Duration) {
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
	nlCouncil     = officer{"nl-municipality-rotterdam", "ambt.smit", []string{"case_officer"}, "restricted"}
	nlProbation   = officer{"nl-probation", "rc.jansen", []string{"case_officer"}, "restricted"}
	nlPrison      = officer{"nl-prison-dji", "dji.visser", []string{"release_officer"}, "restricted"}
	nlPoliceAms   = officer{"nl-police-amsterdam", "insp.bakker", []string{"case_officer"}, "restricted"}
	nlDutyAms     = officer{"nl-police-amsterdam", "wachtc.de.boer", []string{"duty_officer"}, "restricted"}
	nlCaseAuditor = officer{"nl-probation", "fg.dekker", []string{"auditor"}, "confidential"}
	dkCaseSocial  = officer{"dk-social-aarhus", "sr.holm", []string{"case_officer"}, "restricted"}
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
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now}, func(t *testing.T, s *stack) {
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
		if st := wantStatus(t, err, codes.AlreadyExists); errorReason(st) != "CASE_EXISTS" {
			t.Errorf("open twice: reason %q, want CASE_EXISTS", errorReason(st))
		}
		// An id has one spelling: the same id in other letter case is
		// that case, not a second one beside it.
		err, _ = s.one(t, "open in lower case", "case_open", "refused", func() error {
			_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: strings.ToLower(id), Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
				Subject: nlSubject(), Justification: why})
			return err
		})
		if st := wantStatus(t, err, codes.AlreadyExists); errorReason(st) != "CASE_EXISTS" {
			t.Errorf("open %s beside %s: reason %q, want CASE_EXISTS", strings.ToLower(id), id, errorReason(st))
		}

		// The lead invites the police, who accept.
		var invited *liaisonv1.InviteMemberResponse
		s.one(t, "invite police", "case_invite", "ok", func() (err error) {
			invited, err = council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-police-rotterdam", Justification: why})
			return err
		})
		var updates int
		for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
			if u := it.GetCaseUpdate(); u != nil && u.GetChange() == "case_invite" && u.GetCase().GetId() == id && u.GetAgency() == "nl-police-rotterdam" {
				updates++
				// The case as this change left it: its version and entry.
				if u.GetAuditIndex() != invited.GetAuditIndex() || u.GetCase().GetAuditIndex() != invited.GetAuditIndex() || u.GetCase().GetVersion() != 2 {
					t.Errorf("invitation: update entry %d, case entry %d version %d; want entry %d, version 2",
						u.GetAuditIndex(), u.GetCase().GetAuditIndex(), u.GetCase().GetVersion(), invited.GetAuditIndex())
				}
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
		// An auditor finds the case's changes by action (Audit.Query
		// -action): the refused opening and the one that went through.
		r, err := liaisonv1.NewAuditClient(s.conn(t, nlCaseAuditor)).Query(ctx, &liaisonv1.QueryRequest{Action: "case_open"})
		if err != nil {
			t.Fatalf("Query(action case_open) = %v", err)
		}
		var outcomes []string
		for _, e := range r.GetEntries() {
			var got audit.Entry
			if err := json.Unmarshal([]byte(e.GetJson()), &got); err != nil || got.Action != "case_open" {
				t.Fatalf("Query(action case_open) gave %s (%v)", e.GetJson(), err)
			}
			outcomes = append(outcomes, got.Outcome)
		}
		if !slices.Equal(outcomes, []string{"deny", "ok", "refused", "refused"}) {
			t.Errorf("Query(action case_open): outcomes %v, want the denied opening, the one that went through and the two repeated", outcomes)
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
		Destination:  &liaisonv1.Address{Street: "Verzonnenstraat 1", PostalCode: "1000 AA", Municipality: municipality, Country: "NL"},
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
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now}, func(t *testing.T, s *stack) {
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
		// Asked for "amsterdam", the route is the registry's "Amsterdam":
		// one spelling of the municipality for the policy and the log.
		if len(r) != 1 || r[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT || r[0].GetArea() != "Amsterdam" {
			t.Errorf("routes = %v, want competent for Amsterdam, the registry's spelling", r)
		}
		if e.Detail["route"] != "competent" || e.Detail["route_area"] != "Amsterdam" || e.Recipients[0].Agency != "nl-police-amsterdam" {
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

// TestReleaseDateChangeRouting brings a release date forward: the notice
// reaches every current member of the person's case and every earlier
// recipient under a basis still in force, and nobody else (not a member
// that left, not a recipient whose basis expired, not one that was
// refused); each delivery is decided and logged on its own.
func TestReleaseDateChangeRouting(t *testing.T) {
	clk := newCaseClock(time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
		const subject, id = "SYN-NL-0300", "NL-ZVH-RTM-0300"
		rec := func(date, previous string) *liaisonv1.Record {
			return releaseNoticeOf(subject, "Rotterdam", date, previous)
		}

		// 2025: the Danish prison told the Aarhus police of an earlier
		// release (§ 115 KSP, until a year after it), and was refused
		// sharing with social services for an investigation.
		dkAttrs := &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true, ReleaseDate: "2025-07-01", Municipality: "Aarhus"}
		r, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec("2025-07-01", ""), Subject: dkAttrs,
			Recipients: []string{"dk-police-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in Aarhus."})
		if err != nil || r.GetResults()[0].GetLegalBasis().GetValidUntil() != "2026-07-01" {
			t.Fatalf("Danish disclosure = %v, %v; want one valid until 2026-07-01", r, err)
		}
		_, err = s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec("2025-07-01", ""), Subject: dkAttrs,
			Recipients: []string{"dk-social-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_CRIMINAL_INVESTIGATION, Justification: "Investigation."})
		wantStatus(t, err, codes.PermissionDenied)

		// 2027: a Safety House case with the municipality, the prison, the
		// Rotterdam police, the exit NGO and probation, which receives the
		// release notice in the case and then leaves.
		clk.Set(caseStart)
		council := s.cases(t, nlCouncil)
		if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(), Justification: "Return to Rotterdam."}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []officer{nlPrison, nlPolice, nlNGO, nlProbation} {
			if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
				t.Fatal(err)
			}
		}
		prison := s.exchange(t, nlPrison)
		if _, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec("2027-03-01", ""), Subject: nlSubject(), Recipients: []string{"nl-probation"},
			CaseId: id, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the supervision plan."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, nlProbation).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Handed to another team."}); err != nil {
			t.Fatal(err)
		}
		// The Amsterdam police received it outside the case (pseudonymised,
		// no end to that).
		if _, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec("2027-03-01", ""), Subject: nlSubject(), Recipients: []string{"nl-police-amsterdam"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Family lives in Amsterdam."}); err != nil {
			t.Fatal(err)
		}
		before := map[string]int{}
		for _, o := range []officer{nlProbation, dkPolice, dkCaseSocial, dkPrison} {
			before[o.agency] = len(inboxItems(t, s.exchange(t, o)))
		}

		// The release is brought forward.
		clk.Advance(time.Hour)
		attrs := nlSubject()
		attrs.ReleaseDate = "2027-02-15"
		var nr *liaisonv1.NotifyResponse
		err, entries := s.grown(t, func() (err error) {
			nr, err = prison.Notify(ctx, &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED,
				Record:    rec("2027-02-15", "2027-03-01"), Subject: attrs,
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release brought forward by the court.",
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]liaisonv1.RouteRole{
			"nl-municipality-rotterdam": liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER,
			"nl-police-rotterdam":       liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER,
			"nl-ngo-exit":               liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER,
			"nl-police-amsterdam":       liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT,
		}
		got := map[string]*liaisonv1.RecipientResult{}
		for _, res := range nr.GetResults() {
			got[res.GetRecipient()] = res
		}
		if len(got) != len(want) || len(nr.GetResults()) != len(want) {
			t.Fatalf("the notice reached %v, want exactly %v", slices.Sorted(maps(got)), want)
		}
		for a, role := range want {
			res := got[a]
			if res == nil || res.GetRoutes()[0].GetRole() != role || !releasedResult(res) {
				t.Errorf("%s: %v, want it reached by %v", a, res, role)
			}
		}
		if got["nl-police-amsterdam"].GetRoutes()[0].GetEarlierAuditIndex() <= 0 {
			t.Errorf("earlier recipient route %v names no earlier receipt", got["nl-police-amsterdam"].GetRoutes()[0])
		}
		// Required: the two police forces and the lead municipality; not the NGO.
		for a, required := range map[string]bool{"nl-police-rotterdam": true, "nl-police-amsterdam": true, "nl-municipality-rotterdam": true, "nl-ngo-exit": false} {
			if (got[a].GetNoticeId() != "") != required {
				t.Errorf("%s: notice id %q, want required=%v", a, got[a].GetNoticeId(), required)
			}
		}
		// One entry per delivery, each with its decision and route.
		if len(entries) != len(want) {
			t.Fatalf("the notify appended %d entries, want %d", len(entries), len(want))
		}
		for _, e := range entries {
			if e.Action != "notify" || !audit.Released(e.Outcome) || e.Detail["event"] != "release_date_changed" || e.Detail["event_id"] != nr.GetEventId() ||
				e.Detail["route"] == "" || e.PolicyRevision == "" || e.Subject == nil || e.Subject.ReleaseDate != "2027-02-15" {
				t.Errorf("delivery entry = %+v", e)
			}
		}
		// Nobody else got anything.
		for _, o := range []officer{nlProbation, dkPolice, dkCaseSocial, dkPrison} {
			if n := len(inboxItems(t, s.exchange(t, o))); n != before[o.agency] {
				t.Errorf("%s's inbox grew by %d items, want none", o.agency, n-before[o.agency])
			}
		}
		// The police see the new date and the old one, as the case lets them.
		var seen bool
		for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
			if n := it.GetNotice(); n.GetEventId() == nr.GetEventId() {
				rn := it.GetReleased().GetRecord().GetReleaseNotice()
				seen = rn.GetReleaseDate() == "2027-02-15" && rn.GetPreviousReleaseDate() == "2027-03-01" &&
					n.GetEventType() == liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED && n.GetAcknowledgeBy() != ""
			}
		}
		if !seen {
			t.Error("the Rotterdam police's inbox holds no release date change with the new and the old date")
		}
	})
}

func maps[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func releasedResult(r *liaisonv1.RecipientResult) bool {
	return r.GetFailure() == nil && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY && r.GetOutcome() != liaisonv1.Outcome_OUTCOME_UNSPECIFIED
}

// notifyCompetent has the Dutch prison notify the police competent for
// municipality of a release date set for subject.
func notifyCompetent(t *testing.T, s *stack, subject, municipality string) *liaisonv1.RecipientResult {
	t.Helper()
	nr, err := s.exchange(t, nlPrison).Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    releaseNoticeOf(subject, municipality, "2027-03-01", ""), Subject: attrsIn(municipality, "2027-03-01"),
		RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
		Purpose:        liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
	})
	if err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify(%s) = %v, %v; want one required notice", subject, nr, err)
	}
	return nr.GetResults()[0]
}

// entriesOf returns the log's entries of an action from index start on.
func (s *stack) entriesOf(t *testing.T, action string, start int64) []*audit.Entry {
	t.Helper()
	recs, err := s.db.Query(t.Context(), audit.Filter{Action: action, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Entry
	for _, r := range recs {
		out = append(out, r.Entry)
	}
	return out
}

// TestRequiredNoticeEscalation leaves a required notice unacknowledged: it
// is escalated once, before its deadline, to the recipient's duty role and
// back to the sender; its deadline passing is recorded once; an auditor
// lists it as not acknowledged in time, and a notice acknowledged in time
// is neither escalated nor listed.
func TestRequiredNoticeEscalation(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		late := notifyCompetent(t, s, "SYN-NL-0401", "Amsterdam")
		inTime := notifyCompetent(t, s, "SYN-NL-0402", "Rotterdam")
		if late.GetAcknowledgeBy() != "2027-01-13T10:00:00Z" {
			t.Fatalf("acknowledge_by = %s, want 72h later", late.GetAcknowledgeBy())
		}
		// The Rotterdam police acknowledge at once: one entry, in time.
		police := s.exchange(t, nlPolice)
		items := inboxItems(t, police)
		_, e := s.one(t, "acknowledge", "notice_acknowledge", "ok", func() error {
			_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()})
			return err
		})
		if e.Detail["notice_id"] != inTime.GetNoticeId() || e.Detail["late"] != "false" || e.Requester.Officer != nlPolice.id || e.Subject == nil {
			t.Errorf("acknowledgement entry = %+v", e)
		}
		start, _ := s.db.Size(ctx)
		run := func() {
			t.Helper()
			held, err := s.srv.RunTimers(ctx)
			if err != nil || !held {
				t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
			}
		}
		clk.Advance(47 * time.Hour)
		run()
		if n, _ := s.db.Size(ctx); n != start {
			t.Fatalf("before the escalation time the timers appended %d entries", n-start)
		}
		clk.Advance(time.Hour + time.Minute)
		run()
		run() // exactly once
		esc := s.entriesOf(t, "notice_escalate", start)
		if len(esc) != 1 || esc[0].Detail["notice_id"] != late.GetNoticeId() || esc[0].Detail["duty_role"] != "duty_officer" {
			t.Fatalf("escalations = %+v, want one of %s", esc, late.GetNoticeId())
		}
		deadline, _ := time.Parse(time.RFC3339, late.GetAcknowledgeBy())
		if !esc[0].Time.Before(deadline) {
			t.Errorf("escalated at %v, after the deadline %v", esc[0].Time, deadline)
		}
		// The duty officer sees it; the officer without the role does not;
		// the sender is told too.
		find := func(o officer, target liaisonv1.EscalationTarget) int {
			n := 0
			for _, it := range inboxItems(t, s.exchange(t, o)) {
				if x := it.GetEscalation(); x != nil && x.GetNoticeId() == late.GetNoticeId() && x.GetTarget() == target {
					n++
				}
			}
			return n
		}
		if find(nlDutyAms, liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE) != 1 {
			t.Error("the Amsterdam duty officer has no escalation")
		}
		if find(nlPoliceAms, liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE) != 0 {
			t.Error("an Amsterdam officer without the duty role sees the duty role's escalation")
		}
		if find(nlPrison, liaisonv1.EscalationTarget_ESCALATION_TARGET_SENDER) != 1 {
			t.Error("the sending prison has no escalation")
		}
		// The deadline passes: recorded once.
		clk.Advance(24 * time.Hour)
		run()
		run()
		if over := s.entriesOf(t, "notice_overdue", start); len(over) != 1 || over[0].Detail["notice_id"] != late.GetNoticeId() {
			t.Fatalf("overdue entries = %+v, want one", over)
		}
		// The auditor's list of notices not acknowledged in time.
		list := func() []*liaisonv1.TrackedNotice {
			r, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{LateOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			return r.GetNotices()
		}
		l := list()
		if len(l) != 1 || l[0].GetNoticeId() != late.GetNoticeId() || !l[0].GetLate() || l[0].GetEscalated() == "" || l[0].GetOverdue() == "" ||
			l[0].GetAcknowledged() != "" || l[0].GetRecipient() != "nl-police-amsterdam" || l[0].GetSender() != "nl-prison-dji" || l[0].GetPeer() != "" {
			t.Fatalf("late notices = %v, want the Amsterdam one only, at home", l)
		}
		if _, err := liaisonv1.NewNoticesClient(s.conn(t, nlPolice)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{}); err == nil {
			t.Error("ListNotices without the auditor role: nil error")
		}
		// A late acknowledgement is recorded as late, and the notice stays
		// on the list.
		ams := s.exchange(t, nlPoliceAms)
		items = inboxItems(t, ams)
		_, e = s.one(t, "late acknowledgement", "notice_acknowledge", "ok", func() error {
			_, err := ams.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()})
			return err
		})
		if e.Detail["late"] != "true" {
			t.Errorf("late acknowledgement entry detail = %v", e.Detail)
		}
		if l := list(); len(l) != 1 || l[0].GetAcknowledged() == "" || !l[0].GetLate() {
			t.Errorf("after the late acknowledgement: %v", l)
		}
		// An auditor finds each step by its action (Audit.Query -action).
		audits := liaisonv1.NewAuditClient(s.conn(t, nlCaseAuditor))
		for action, want := range map[string]int{"notice_escalate": 1, "notice_overdue": 1, "notice_acknowledge": 1} {
			r, err := audits.Query(ctx, &liaisonv1.QueryRequest{Action: action, Start: start})
			if err != nil {
				t.Fatalf("Query(action %s) = %v", action, err)
			}
			if len(r.GetEntries()) != want {
				t.Errorf("Query(action %s) gave %d entries, want %d", action, len(r.GetEntries()), want)
			}
			for _, e := range r.GetEntries() {
				if !strings.Contains(e.GetJson(), `"action":"`+action+`"`) {
					t.Errorf("Query(action %s) gave %s", action, e.GetJson())
				}
			}
		}
	})
}

// TestRequiredNoticeAcknowledgedOnceAtOnce: eight officers of the
// Rotterdam police acknowledge their agency's inbox at the same moment.
// Each call succeeds (it marks its officer's inboxes read), and the
// required notice in it is acknowledged once: one notice_acknowledge
// entry of the notice. (The store checks "not yet acknowledged" in the
// transaction that appends the acknowledgement.) Each other call, which
// found it done and acknowledged nothing, is one ok entry of its own,
// with its cursor and no notice.
func TestRequiredNoticeAcknowledgedOnceAtOnce(t *testing.T) {
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		n := notifyCompetent(t, s, "SYN-NL-0402", "Rotterdam")
		items := inboxItems(t, s.exchange(t, nlPolice))
		cursor := items[len(items)-1].GetCursor()
		start, _ := s.db.Size(ctx)
		errs := atOnce(t, s, nlPolice, 8, func(_ int, c *grpc.ClientConn) error {
			_, err := liaisonv1.NewExchangeClient(c).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Acknowledge %d: %v", i, err)
			}
		}
		var ofNotice, own int
		for _, e := range s.entriesOf(t, "notice_acknowledge", start) {
			switch {
			case e.Outcome != audit.OutcomeOK:
				t.Errorf("an acknowledgement's entry is %s %v", e.Outcome, e.Reasons)
			case e.Detail["notice_id"] == n.GetNoticeId():
				ofNotice++
			case e.Detail["notice_id"] == "" && e.Detail["cursor"] == strconv.FormatInt(cursor, 10):
				own++
			default:
				t.Errorf("an acknowledgement's entry has detail %v", e.Detail)
			}
		}
		if ofNotice != 1 || own != 7 {
			t.Fatalf("8 acknowledgements at once logged %d entries of notice %s and %d of their own, want 1 and 7", ofNotice, n.GetNoticeId(), own)
		}
		if end, _ := s.db.Size(ctx); end != start+8 {
			t.Errorf("the log grew by %d entries, want 8, one a call", end-start)
		}
	})
}

// TestEscalationExactlyOnceAcrossReplicas runs two gateway processes on
// one PostgreSQL database, both running their timers: every required
// notice is escalated exactly once, and its deadline recorded once.
func TestEscalationExactlyOnceAcrossReplicas(t *testing.T) {
	clk := newCaseClock(caseStart)
	s := startStack(t, stackOptions{serverNow: clk.Now, postgresURL: pgtest.NewDatabase(t), timerInterval: 5 * time.Millisecond})
	second := s.startGateway(t)
	const notices = 6
	var ids []string
	for i := range notices {
		ids = append(ids, notifyCompetent(t, s, "SYN-NL-05"+string(rune('0'+i))+"0", "Amsterdam").GetNoticeId())
	}
	start, _ := s.db.Size(t.Context())
	// Both replicas also race for the timers by hand while their Run loops
	// tick.
	clk.Advance(49 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for range 10 {
		for _, srv := range []interface {
			RunTimers(context.Context) (bool, error)
		}{s.srv, second.srv} {
			wg.Go(func() {
				ok, err := srv.RunTimers(t.Context())
				if err != nil {
					t.Errorf("RunTimers = %v", err)
				}
				mu.Lock()
				if ok {
					held++
				}
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if held == 0 {
		t.Error("no replica held the timer lease")
	}
	eventually(t, "every notice escalated", func() bool { return len(s.entriesOf(t, "notice_escalate", start)) >= notices })
	time.Sleep(200 * time.Millisecond) // many more ticks of both replicas
	check := func(action string) {
		t.Helper()
		per := map[string]int{}
		for _, e := range s.entriesOf(t, action, start) {
			per[e.Detail["notice_id"]]++
		}
		for _, id := range ids {
			if per[id] != 1 {
				t.Errorf("%s of %s recorded %d times, want exactly once", action, id, per[id])
			}
		}
		if len(per) != notices {
			t.Errorf("%s entries for %d notices, want %d", action, len(per), notices)
		}
	}
	check("notice_escalate")
	clk.Advance(24 * time.Hour)
	eventually(t, "every deadline recorded", func() bool { return len(s.entriesOf(t, "notice_overdue", start)) >= notices })
	time.Sleep(200 * time.Millisecond)
	check("notice_overdue")
	check("notice_escalate")
}

// TestRegistryCasesKeepWorking: the registry file's cases work as before
// (exchanges on their basis, file edits applying at once, no entry of
// their own), the Cases service leaves them to the file, and
// ImportRegistryCases moves them into the store, where the service
// manages them.
func TestRegistryCasesKeepWorking(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0042" // the sample registry's case
	inCase := riskReq(func(r *liaisonv1.RequestRequest) {
		r.CaseId, r.Purpose = id, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT
	})
	s.one(t, "request in the registry's case", "request", "disclose", func() error {
		_, err := s.exchange(t, nlPolice).Request(ctx, inCase)
		return err
	})
	c, err := s.cases(t, nlCouncil).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || !c.GetCase().GetManagedByRegistry() || c.GetCase().GetLead() != "nl-municipality-rotterdam" || c.GetCase().GetVersion() != 0 {
		t.Fatalf("GetCase(registry case) = %v, %v", c, err)
	}
	l, err := s.cases(t, nlPolice).ListCases(ctx, &liaisonv1.ListCasesRequest{})
	if err != nil || len(l.GetCases()) != 1 || l.GetCases()[0].GetId() != id {
		t.Errorf("ListCases by a member of the registry case = %v, %v", l, err)
	}
	err, _ = s.one(t, "invite into a registry case", "case_invite", "refused", func() error {
		_, err := s.cases(t, nlCouncil).InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-ngo-exit", Justification: "x"})
		return err
	})
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_MANAGED_BY_REGISTRY" {
		t.Errorf("invite into a registry case: reason %q", errorReason(st))
	}
	// Its id is taken: a case opened under it would shadow it.
	err, _ = s.one(t, "open a case under the registry case's id", "case_open", "refused", func() error {
		_, err := s.cases(t, nlCouncil).OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0003",
			Subject: nlSubject(), Justification: "x"})
		return err
	})
	if st := wantStatus(t, err, codes.AlreadyExists); errorReason(st) != "CASE_EXISTS" {
		t.Errorf("open under the registry case's id: reason %q", errorReason(st))
	}

	// The file drops the police from the case: refused from then on.
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Cases {
			if f.Cases[i].ID == id {
				f.Cases[i].Members = slices.DeleteFunc(f.Cases[i].Members, func(m string) bool { return m == "nl-police-rotterdam" })
			}
		}
	})
	eventually(t, "the police to be refused on the registry case", func() bool {
		_, err := s.exchange(t, nlPolice).Request(ctx, inCase)
		return status.Code(err) == codes.PermissionDenied
	})

	// Moved into the store, the case is the service's to manage.
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	got, err := gateway.ImportRegistryCases(ctx, s.db, eng, reg, "nl.zvh", caseStart)
	if err != nil || len(got) != 1 || got[0].Skipped != "" || got[0].AuditIndex < 0 {
		t.Fatalf("ImportRegistryCases = %+v, %v", got, err)
	}
	if e := s.entry(t, got[0].AuditIndex); e.Action != "case_import" || e.Outcome != "ok" || e.Case == nil || e.Case.ID != id || e.Detail["case_kind"] != "nl.zvh" {
		t.Errorf("import entry = %+v", e)
	}
	c, err = s.cases(t, nlCouncil).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || c.GetCase().GetManagedByRegistry() || c.GetCase().GetKind() != "nl.zvh" || c.GetCase().GetVersion() != 1 ||
		memberStatus(c.GetCase(), "nl-police-rotterdam") != liaisonv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED {
		t.Fatalf("GetCase after the import = %v, %v", c, err)
	}
	s.one(t, "invite into the imported case", "case_invite", "ok", func() error {
		_, err := s.cases(t, nlCouncil).InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-police-rotterdam", Justification: "Back in."})
		return err
	})
	again, err := gateway.ImportRegistryCases(ctx, s.db, eng, reg, "nl.zvh", caseStart)
	if err != nil || len(again) != 1 || again[0].Skipped == "" {
		t.Errorf("a second import = %+v, %v; want the case skipped", again, err)
	}
}

// TestCaseAndNotifyRefusals walks the ways a Cases call or a Notify is
// refused before any decision: each leaves exactly one entry, refused,
// naming the field, and nothing changes or is delivered.
func TestCaseAndNotifyRefusals(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	council, prison := s.cases(t, nlCouncil), s.exchange(t, nlPrison)
	open := func(edit func(*liaisonv1.OpenCaseRequest)) func(context.Context) error {
		r := &liaisonv1.OpenCaseRequest{CaseId: "NL-ZVH-RTM-0900", Kind: "nl.zvh", SubjectId: "SYN-NL-0900", Subject: nlSubject(), Justification: "x"}
		edit(r)
		return func(ctx context.Context) error { _, err := council.OpenCase(ctx, r); return err }
	}
	notify := func(edit func(*liaisonv1.NotifyRequest)) func(context.Context) error {
		r := &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASED, Record: releaseNoticeOf("SYN-NL-0901", "Rotterdam", "2027-03-01", ""),
			Subject: nlSubject(), Justification: "Released today.",
		}
		edit(r)
		return func(ctx context.Context) error { _, err := prison.Notify(ctx, r); return err }
	}
	s.checkPaths(t, []path{
		{name: "open/bad id", call: open(func(r *liaisonv1.OpenCaseRequest) { r.CaseId = "bad id!" }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "case_id"},
		{name: "open/id with the subject", call: open(func(r *liaisonv1.OpenCaseRequest) { r.CaseId = "C-SYN-NL-0900" }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "case_id"},
		{name: "open/no kind", call: open(func(r *liaisonv1.OpenCaseRequest) { r.Kind = "" }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "kind"},
		{name: "open/unknown kind", call: open(func(r *liaisonv1.OpenCaseRequest) { r.Kind = "nl.club" }),
			code: codes.PermissionDenied, reason: "UNKNOWN_CASE_KIND", outcome: "deny", entry: "UNKNOWN_CASE_KIND"},
		{name: "open/no subject attributes", call: open(func(r *liaisonv1.OpenCaseRequest) { r.Subject = nil }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "subject"},
		{name: "invite/unknown case", call: func(ctx context.Context) error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: "NL-NONE", Agency: "nl-probation", Justification: "x"})
			return err
		}, code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "case_id"},
		{name: "invite/unknown agency", call: func(ctx context.Context) error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: "NL-ZVH-RTM-0042", Agency: "xx-nobody", Justification: "x"})
			return err
		}, code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "agency"},
		{name: "accept/no justification", call: func(ctx context.Context) error {
			_, err := council.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: "NL-ZVH-RTM-0042"})
			return err
		}, code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "justification"},
		{name: "notify/no event", call: notify(func(r *liaisonv1.NotifyRequest) { r.EventType = 0 }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "event_type"},
		{name: "notify/no record", call: notify(func(r *liaisonv1.NotifyRequest) { r.Record = nil }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "record"},
		{name: "notify/named without a purpose", call: notify(func(r *liaisonv1.NotifyRequest) { r.Recipients = []string{"nl-police-rotterdam"} }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "purpose"},
		{name: "notify/nobody to tell", call: notify(func(r *liaisonv1.NotifyRequest) {}),
			code: codes.InvalidArgument, reason: "NO_RECIPIENTS", outcome: "refused", entry: "NO_RECIPIENTS", field: "recipients"},
		{name: "notify/a case not held", call: notify(func(r *liaisonv1.NotifyRequest) { r.CaseId = "NL-NONE" }),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "case_id"},
		{name: "disclose/members of a case of nobody else", call: func(ctx context.Context) error {
			_, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf("SYN-NL-0902", "Rotterdam", "2027-03-01", ""), Subject: nlSubject(),
				RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: "NL-NONE"}}},
				Purpose:        liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "x"})
			return err
		}, code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "recipient_roles[0].case_members"},
		// An empty case_members (and no case_id) once crashed the gateway.
		{name: "disclose/members of no case", call: func(ctx context.Context) error {
			_, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf("SYN-NL-0903", "Rotterdam", "2027-03-01", ""), Subject: nlSubject(),
				RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: ""}}},
				Purpose:        liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "x"})
			return err
		}, code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "recipient_roles[0].case_members"},
		{name: "notify/members of no case", call: notify(func(r *liaisonv1.NotifyRequest) {
			r.Purpose, r.RecipientRoles = liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{}}}
		}), code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "recipient_roles[0].case_members"},
	})
	if cs, err := s.db.Cases(t.Context(), audit.CaseFilter{Source: "api"}); err != nil || len(cs) != 0 {
		t.Errorf("cases after refusals = %d, %v; want none", len(cs), err)
	}
}

// TestCaseMemberRoutesSkipOffboardedAgencies: a member of a case that has
// been offboarded is no longer found as a recipient by the case: neither
// by a Notify's route to the members of the person's open cases nor by a
// recipient role case_members. (An agency behind a peer gateway is found
// by the same routes.)
func TestCaseMemberRoutesSkipOffboardedAgencies(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, subject = "NL-ZVH-RTM-0400", "SYN-NL-0400"
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(),
		Justification: "Case consultation before the release."}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlPolice, nlProbation} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == nlPolice.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "the police offboarded", func() bool {
		_, err := s.exchange(t, nlPolice).ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	recipients := func(rs []*liaisonv1.RecipientResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.GetRecipient())
		}
		return out
	}
	probation := s.exchange(t, nlProbation)
	nr, err := probation.Notify(ctx, &liaisonv1.NotifyRequest{EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""), Subject: nlSubject(), Justification: "The release date is set."})
	if err != nil || !slices.Equal(recipients(nr.GetResults()), []string{"nl-municipality-rotterdam"}) {
		t.Errorf("Notify to the person's case = %v, %v; want the municipality only, not the offboarded police", recipients(nr.GetResults()), err)
	}
	dr, err := probation.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""), Subject: nlSubject(),
		CaseId: id, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
		RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: id}}}})
	if err != nil || !slices.Equal(recipients(dr.GetResults()), []string{"nl-municipality-rotterdam"}) {
		t.Errorf("Disclose to the case's members = %v, %v; want the municipality only, not the offboarded police", recipients(dr.GetResults()), err)
	}
}

// TestEscalationAfterAnOutage: no gateway ran the timers between a
// required notice's escalation time and its deadline. The first pass
// after that still escalates it, once, since nobody acknowledged it, and
// records it overdue in the same pass; the
// escalation's entry shows it was late.
func TestEscalationAfterAnOutage(t *testing.T) {
	clk := newCaseClock(caseStart)
	s := startStack(t, stackOptions{serverNow: clk.Now})
	ctx := t.Context()
	n := notifyCompetent(t, s, "SYN-NL-0401", "Amsterdam")
	deadline, _ := time.Parse(time.RFC3339, n.GetAcknowledgeBy())
	start, _ := s.db.Size(ctx)
	clk.Advance(100 * time.Hour) // past the deadline (72 h), the timers never ran
	for range 2 {
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
		}
	}
	esc, over := s.entriesOf(t, "notice_escalate", start), s.entriesOf(t, "notice_overdue", start)
	if len(esc) != 1 || len(over) != 1 || esc[0].Detail["notice_id"] != n.GetNoticeId() || over[0].Detail["notice_id"] != n.GetNoticeId() {
		t.Fatalf("after the outage: %d escalations, %d overdue entries; want one of each, of %s", len(esc), len(over), n.GetNoticeId())
	}
	if !esc[0].Time.After(deadline) {
		t.Errorf("the escalation's entry is timed %v, not after the deadline %v it missed", esc[0].Time, deadline)
	}
	if end, _ := s.db.Size(ctx); end != start+2 {
		t.Errorf("the timers appended %d entries, want 2", end-start)
	}
	got := 0
	for _, it := range inboxItems(t, s.exchange(t, nlDutyAms)) {
		if x := it.GetEscalation(); x != nil && x.GetNoticeId() == n.GetNoticeId() {
			got++
		}
	}
	if got != 1 {
		t.Errorf("the Amsterdam duty officer has %d escalations of the notice, want 1", got)
	}
}

// TestWithdrawnRequiredNoticeIsClosed: the prison withdraws the release
// that carried a required notice before the police read it. The notice is
// closed unacknowledged (ListNotices: withdrawn, with the withdrawal's
// entry; no longer awaiting acknowledgement): the timers neither escalate
// it nor record it overdue, it is not late, and the police's inbox
// acknowledgement, which goes past it, records only the notice they still
// had to read. Before, the withdrawn notice was escalated to the duty role
// and the sender, recorded overdue, and a later inbox acknowledgement
// recorded it read although its copy had been withdrawn unread.
func TestWithdrawnRequiredNoticeIsClosed(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		gone := notifyCompetent(t, s, "SYN-NL-0401", "Amsterdam")
		kept := notifyCompetent(t, s, "SYN-NL-0403", "Amsterdam")
		w, err := aftercare(t, s, nlPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{
			SubjectId: "SYN-NL-0401", Withdraws: []int64{gone.GetAuditIndex()},
			Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "The release date was set for another person.",
		})
		if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetFailure() != nil {
			t.Fatalf("Withdraw = %v, %v; want one withdrawal sent", w, err)
		}
		withdrawal := w.GetResults()[0].GetAuditIndex()
		notices := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor))
		list := func(req *liaisonv1.ListNoticesRequest) map[string]*liaisonv1.TrackedNotice {
			t.Helper()
			r, err := notices.ListNotices(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]*liaisonv1.TrackedNotice{}
			for _, n := range r.GetNotices() {
				out[n.GetNoticeId()] = n
			}
			return out
		}
		all := list(&liaisonv1.ListNoticesRequest{})
		if n := all[gone.GetNoticeId()]; n == nil || n.GetWithdrawn() == "" || n.GetWithdrawalAuditIndex() != withdrawal || n.GetAcknowledged() != "" {
			t.Fatalf("withdrawn notice listed as %v; want withdrawn by entry %d", n, withdrawal)
		}
		if n := all[kept.GetNoticeId()]; n == nil || n.GetWithdrawn() != "" || n.GetWithdrawalAuditIndex() != -1 {
			t.Fatalf("the other notice listed as %v; want it open", n)
		}
		if open := list(&liaisonv1.ListNoticesRequest{UnacknowledgedOnly: true}); open[gone.GetNoticeId()] != nil || open[kept.GetNoticeId()] == nil {
			t.Errorf("notices awaiting acknowledgement = %v; want the other one only", open)
		}
		start, _ := s.db.Size(ctx)
		run := func() {
			t.Helper()
			if held, err := s.srv.RunTimers(ctx); err != nil || !held {
				t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
			}
		}
		clk.Advance(49 * time.Hour) // past both escalation times
		run()
		for _, e := range s.entriesOf(t, "notice_escalate", start) {
			if e.Detail["notice_id"] == gone.GetNoticeId() {
				t.Errorf("the withdrawn notice was escalated (%v)", e.Detail)
			}
		}
		// The police read their inbox to its end and acknowledge it.
		ams := s.exchange(t, nlPoliceAms)
		items := inboxItems(t, ams)
		if _, err := ams.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()}); err != nil {
			t.Fatalf("Acknowledge: %v", err)
		}
		acks := s.entriesOf(t, "notice_acknowledge", start)
		if len(acks) != 1 || acks[0].Detail["notice_id"] != kept.GetNoticeId() {
			var ids []string
			for _, e := range acks {
				ids = append(ids, e.Detail["notice_id"])
			}
			t.Fatalf("acknowledgements recorded for notices %v; want %s only", ids, kept.GetNoticeId())
		}
		clk.Advance(48 * time.Hour) // past both deadlines
		run()
		if over := s.entriesOf(t, "notice_overdue", start); len(over) != 0 {
			t.Errorf("overdue entries = %+v; want none", over)
		}
		if late := list(&liaisonv1.ListNoticesRequest{LateOnly: true}); len(late) != 0 {
			t.Errorf("late notices = %v; want none (one withdrawn in time, one acknowledged in time)", late)
		}
		if n := list(&liaisonv1.ListNoticesRequest{})[gone.GetNoticeId()]; n.GetLate() || n.GetAcknowledged() != "" || n.GetOverdue() != "" || n.GetEscalated() != "" {
			t.Errorf("withdrawn notice at the end = %v; want withdrawn, nothing else", n)
		}
	})
}

// TestCorrectedReleaseDateSupersedesTheNotice: the prison notifies the
// police of a release date, then corrects the release to another date
// before the police read it. The correction carries a required notice of
// its own (the new date); the first, about a date that no longer holds,
// is closed unacknowledged by the correction (ListNotices: withdrawn, by
// the correction's entry), so it is not escalated, and the police's inbox
// acknowledgement records the new notice only. Before, both were open:
// the old one was escalated, and the acknowledgement recorded it read
// although its copy had been withdrawn unread.
func TestCorrectedReleaseDateSupersedesTheNotice(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		old := notifyCompetent(t, s, "SYN-NL-0401", "Amsterdam")
		c, err := aftercare(t, s, nlPrison).Correct(ctx, &liaisonv1.CorrectRequest{
			Record: releaseNoticeOf("SYN-NL-0401", "Amsterdam", "2027-02-15", "2027-03-01"), Subject: attrsIn("Amsterdam", "2027-02-15"),
			Justification: "The court brought the release forward.",
		})
		if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetNoticeId() == "" {
			t.Fatalf("Correct = %v, %v; want one correction carrying a required notice", c, err)
		}
		corr := c.GetResults()[0]
		r, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*liaisonv1.TrackedNotice{}
		for _, n := range r.GetNotices() {
			got[n.GetNoticeId()] = n
		}
		if n := got[old.GetNoticeId()]; n == nil || n.GetWithdrawn() == "" || n.GetWithdrawalAuditIndex() != corr.GetAuditIndex() {
			t.Fatalf("the first notice listed as %v; want closed by the correction's entry %d", n, corr.GetAuditIndex())
		}
		if n := got[corr.GetNoticeId()]; n == nil || n.GetWithdrawn() != "" || n.GetAcknowledged() != "" {
			t.Fatalf("the correction's notice listed as %v; want it open", n)
		}
		start, _ := s.db.Size(ctx)
		clk.Advance(49 * time.Hour) // past the first notice's escalation time
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
		for _, e := range s.entriesOf(t, "notice_escalate", start) {
			if e.Detail["notice_id"] == old.GetNoticeId() {
				t.Errorf("the superseded notice was escalated")
			}
		}
		ams := s.exchange(t, nlPoliceAms)
		items := inboxItems(t, ams)
		if _, err := ams.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()}); err != nil {
			t.Fatalf("Acknowledge: %v", err)
		}
		var ids []string
		for _, e := range s.entriesOf(t, "notice_acknowledge", start) {
			ids = append(ids, e.Detail["notice_id"])
		}
		if !slices.Equal(ids, []string{corr.GetNoticeId()}) {
			t.Errorf("acknowledgements of %v; want the correction's notice %s only", ids, corr.GetNoticeId())
		}
	})
}
