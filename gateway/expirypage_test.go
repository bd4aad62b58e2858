package gateway_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies/policytest"
)

// TestExpiryReachesDueReleasesBehindAPageNotDue: the days of Danish law
// are those of New York here (a patched policy), so at 23:30 UTC on 1
// March a Danish basis valid until 1 March is still in force (18:30 there)
// while the latest day in any law's time zone is 2 March (Amsterdam's,
// Berlin's...), and one valid until 28 February has ended. The prison
// released a record to the Aarhus police three times under the first, and
// then another person's to Aarhus social services under the second. With
// pages of two releases, the first page the store gives the timers is two
// of the police's, not due yet: one pass sends social services its expiry
// notice all the same, and the police theirs once their day has ended in
// New York, each once. The timers took one page and dropped what was not
// due: social services waited until the police's releases were due too.
func TestExpiryReachesDueReleasesBehindAPageNotDue(t *testing.T) {
	eachStore(t, testExpiryBehindAPageNotDue)
}

func testExpiryBehindAPageNotDue(t *testing.T, o stackOptions) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	o.serverNow = clk.Now
	o.policy = policytest.Patched(t, "dk/dk.rego", `time_zone := "Europe/Copenhagen"`, `time_zone := "America/New_York"`)
	s := startStack(t, o)
	s.srv.SetDuePage(2)
	rec, _ := dkRelease(t, s)
	var toPolice []int64
	for range 3 {
		toPolice = append(toPolice, discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex())
	}
	other := proto.CloneOf(rec)
	other.GetReleaseNotice().GetSubject().SubjectId = "SYN-DK-0777"
	toSocial := discloseUnderSupervision(t, s, other, "2027-02-28", "dk-social-aarhus").GetResults()[0].GetAuditIndex()
	// pass runs one pass and returns the releases the expiry notices sent
	// so far name, by recipient, each once.
	pass := func() map[string][]int64 {
		t.Helper()
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare at %v: %v", clk.Now(), err)
		}
		got := map[string][]int64{}
		for _, r := range entriesOf(t, s, audit.ActionExpire) {
			refs, err := audit.ParseIndexes(r.Entry.Detail[audit.DetailRefersTo])
			if r.Entry.Outcome != audit.OutcomeOK || err != nil {
				t.Errorf("expiry entry %d: %s %v, refers to %q", r.Index, r.Entry.Outcome, r.Entry.Reasons, r.Entry.Detail[audit.DetailRefersTo])
			}
			a := r.Entry.Recipients[0].Agency
			for _, x := range refs {
				if slices.Contains(got[a], x) {
					t.Errorf("release %d to %s named by a second expiry notice, entry %d", x, a, r.Index)
				}
			}
			got[a] = append(got[a], refs...)
		}
		return got
	}

	clk.Set(time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC)) // 18:30 on 1 March in New York
	if got := pass(); len(got) != 1 || !slices.Equal(got["dk-social-aarhus"], []int64{toSocial}) {
		t.Fatalf("expiry notices after one pass at %v: %v; want one to dk-social-aarhus about entry %d, behind a page of the police's releases not due yet",
			clk.Now(), got, toSocial)
	}
	// Due in New York too: the police are told of each release once (a
	// pass takes at most a page of due releases, the next the rest, but
	// a notice names all of its group's: TestOneExpiryNoticeForAGroupAcrossPages).
	clk.Set(time.Date(2027, 3, 2, 5, 30, 0, 0, time.UTC)) // 00:30 on 2 March in New York
	var got map[string][]int64
	for range 3 {
		got = pass()
	}
	if len(got) != 2 || !slices.Equal(got["dk-police-aarhus"], toPolice) || !slices.Equal(got["dk-social-aarhus"], []int64{toSocial}) {
		t.Fatalf("expiry notices at %v: %v; want social services' and the police's about entries %v", clk.Now(), got, toPolice)
	}
}

// TestOneExpiryNoticeForAGroupAcrossPages: the prison released a record to
// the Aarhus police, then another person's to Aarhus social services, then
// the first twice more to the police, all under the basis of a probation
// that ended on 28 February. With pages of two releases, a pass stops at
// a page of due releases: the first page holds the police's first release
// and social services', the second the police's other two. The police get
// one expiry notice naming all three releases, as they would with one page
// of them all (one notice per recipient, holder, subject, basis and end
// date), and social services theirs. The police got two expiry notices of
// the same basis and end date, one naming their first release, a pass
// later one naming the other two.
func TestOneExpiryNoticeForAGroupAcrossPages(t *testing.T) {
	eachStore(t, testOneExpiryNoticeAcrossPages)
}

func testOneExpiryNoticeAcrossPages(t *testing.T, o stackOptions) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	o.serverNow = clk.Now
	s := startStack(t, o)
	s.srv.SetDuePage(2)
	rec, _ := dkRelease(t, s)
	other := proto.CloneOf(rec)
	other.GetReleaseNotice().GetSubject().SubjectId = "SYN-DK-0777"
	toPolice := []int64{discloseUnderSupervision(t, s, rec, "2027-02-28", "dk-police-aarhus").GetResults()[0].GetAuditIndex()}
	toSocial := discloseUnderSupervision(t, s, other, "2027-02-28", "dk-social-aarhus").GetResults()[0].GetAuditIndex()
	for range 2 {
		toPolice = append(toPolice, discloseUnderSupervision(t, s, rec, "2027-02-28", "dk-police-aarhus").GetResults()[0].GetAuditIndex())
	}

	clk.Set(time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC))
	for range 3 {
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare at %v: %v", clk.Now(), err)
		}
	}
	got := map[string][][]int64{}
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		refs, err := audit.ParseIndexes(r.Entry.Detail[audit.DetailRefersTo])
		if r.Entry.Outcome != audit.OutcomeOK || err != nil {
			t.Errorf("expiry entry %d: %s %v, refers to %q", r.Index, r.Entry.Outcome, r.Entry.Reasons, r.Entry.Detail[audit.DetailRefersTo])
		}
		a := r.Entry.Recipients[0].Agency
		got[a] = append(got[a], refs)
	}
	if len(got) != 2 || len(got["dk-police-aarhus"]) != 1 || !slices.Equal(got["dk-police-aarhus"][0], toPolice) ||
		len(got["dk-social-aarhus"]) != 1 || !slices.Equal(got["dk-social-aarhus"][0], []int64{toSocial}) {
		t.Fatalf("expiry notices by recipient, the releases each names: %v; want one to dk-police-aarhus naming %v and one to dk-social-aarhus naming %d",
			got, toPolice, toSocial)
	}
}
