package gateway_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestIdentityNotReleasedWhileTheRegistryEndsTheRequest: an identity's
// release after dual control is checked against the requester's standing
// (reidStanding) and committed later, after the identity is sealed and
// the release claimed. The store checks, as the release commits, only the
// cases it holds; the Rotterdam police's request is made in the sample
// registry's case NL-ZVH-RTM-0042, served from the registry file, and the
// requester's registration is the registry's too. A reload of the file
// between the check and the commit must end the request as it would have
// before the check: each time the race is forced, the same every run, on
// SQLite and PostgreSQL, right after the release's read of the log that
// follows its claim (raceStore.armQuery, the third read of the
// re-identification entries by the municipality's approval, which meets
// the quorum). The file takes the police out of the case
// (NOT_A_CASE_MEMBER), drops the case (CASE_CLOSED), offboards the police
// or drops them (REQUESTER_OFFBOARDED): the approval answers released
// false with that reason, the release is one refused entry with it, no
// release is disclosed and nothing reaches the police's inbox. Without
// the fix each identity was released to the police after the registry
// in force had ended their request.
func TestIdentityNotReleasedWhileTheRegistryEndsTheRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.policy = os.DirFS("testdata/dualcontrol")
		o.race = &raceStore{}
		s := startStack(t, o)
		const police = "nl-police-rotterdam"
		requester := officer{police, "insp.de.vries", []string{"case_officer"}, "confidential"}
		probation := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
		municipality := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
		council := s.cases(t, municipality)
		// caseIs waits, off the test's goroutine too, until the registry
		// in force shows the case as stands says.
		caseIs := func(what string, stands func(*liaisonv1.Case) bool) {
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				r, _ := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: reidCaseID})
				if stands(r.GetCase()) {
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("%s: the registry in force never applied it: %v", what, r.GetCase())
					return
				}
			}
		}
		withPolice := func(c *liaisonv1.Case) bool {
			return c != nil && slices.ContainsFunc(c.GetMembers(), func(m *liaisonv1.CaseMember) bool { return m.GetAgency() == police })
		}
		editCase := func(edit func(*gateway.CaseFile)) func(*gateway.RegistryFile) {
			return func(f *gateway.RegistryFile) {
				for i := range f.Cases {
					if f.Cases[i].ID == reidCaseID {
						edit(&f.Cases[i])
					}
				}
			}
		}
		var droppedCase gateway.CaseFile
		var droppedPolice gateway.AgencyFile

		for _, c := range []struct {
			what, reason  string
			change, after func()
		}{
			{"the file takes the police out of the case", "NOT_A_CASE_MEMBER", func() {
				editRegistry(t, s, editCase(func(c *gateway.CaseFile) {
					c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == police })
				}))
				caseIs("the police out of the case", func(c *liaisonv1.Case) bool { return c != nil && !withPolice(c) })
			}, func() {
				editRegistry(t, s, editCase(func(c *gateway.CaseFile) { c.Members = append(c.Members, police) }))
				caseIs("the police back in the case", withPolice)
			}},
			{"the file drops the case", "CASE_CLOSED", func() {
				editRegistry(t, s, func(f *gateway.RegistryFile) {
					f.Cases = slices.DeleteFunc(f.Cases, func(c gateway.CaseFile) bool {
						if c.ID == reidCaseID {
							droppedCase = c
							return true
						}
						return false
					})
				})
				caseIs("the case dropped", func(c *liaisonv1.Case) bool { return c == nil })
			}, func() {
				editRegistry(t, s, func(f *gateway.RegistryFile) { f.Cases = append(f.Cases, droppedCase) })
				caseIs("the case back", withPolice)
			}},
			{"the file offboards the police", "REQUESTER_OFFBOARDED", func() {
				setOffboarded(t, s, police, true)
			}, func() {
				setOffboarded(t, s, police, false)
			}},
			{"the file drops the police", "REQUESTER_OFFBOARDED", func() {
				// A case of the file names only agencies it lists: the
				// police leave the case with the file.
				editRegistry(t, s, func(f *gateway.RegistryFile) {
					f.Agencies = slices.DeleteFunc(f.Agencies, func(a gateway.AgencyFile) bool {
						if a.ID == police {
							droppedPolice = a
							return true
						}
						return false
					})
					editCase(func(c *gateway.CaseFile) {
						c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == police })
					})(f)
				})
				for deadline := time.Now().Add(15 * time.Second); !s.srv.Offboarded(police); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("the registry in force still lists %s", police)
						return
					}
				}
			}, func() {
				editRegistry(t, s, func(f *gateway.RegistryFile) {
					f.Agencies = append(f.Agencies, droppedPolice)
					editCase(func(c *gateway.CaseFile) { c.Members = append(c.Members, police) })(f)
				})
				caseIs("the police back", withPolice)
			}},
		} {
			before := len(inbox(t, s.exchange(t, requester)))
			rr, _ := reidentificationInCase(t, s)
			approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
				return s.exchange(t, o).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
			}
			if a, err := approve(probation); err != nil || a.GetApprovals() != 1 || a.GetReleased() {
				t.Fatalf("%s: the probation service's approval = %v, %v; want the first of two", c.what, a, err)
			}
			reads := 0
			o.race.armQuery(func(f audit.Filter) bool {
				if f.Action == "reidentify" {
					reads++
				}
				return reads == 3
			}, c.change)
			var a *liaisonv1.ApproveReidentificationResponse
			err, entries := s.grown(t, func() (err error) {
				a, err = approve(municipality)
				return err
			})
			if armedLeft(o.race) {
				t.Fatalf("%s: the approval never read the log a third time", c.what)
			}
			if err != nil || a.GetReleased() || a.GetReleasePendingReason() != c.reason {
				t.Errorf("%s: the approval that meets the quorum = %v, %v; want released false, %s", c.what, a, err, c.reason)
			}
			var releases []*audit.Entry
			for _, e := range entries {
				if e.Action == "reidentify" && e.Detail["step"] == "release" {
					releases = append(releases, e)
				}
			}
			if len(releases) != 1 || releases[0].Outcome != audit.OutcomeRefused || !slices.Equal(releases[0].Reasons, []string{c.reason}) ||
				len(releases[0].FieldsDisclosed) > 0 {
				for _, e := range releases {
					t.Errorf("%s: release entry %s %v fields %v", c.what, e.Outcome, e.Reasons, e.FieldsDisclosed)
				}
				t.Errorf("%s: %d release entries; want one, refused %s", c.what, len(releases), c.reason)
			}
			c.after()
			if n := len(inbox(t, s.exchange(t, requester))); n != before {
				t.Errorf("%s: the identity reached the police: their inbox grew from %d to %d identities", c.what, before, n)
			}
			// The request has ended: a further call is refused with the
			// reason, and nothing is released.
			if _, err := approve(officer{"nl-probation", "lo.jansen", []string{"legal_officer"}, "confidential"}); err == nil {
				t.Errorf("%s: a further approval of the ended request was accepted", c.what)
			}
		}
	})
}
