package gateway_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNoticeToAnEarlierRecipientWhileTheRegistryChangesItsCase: a case
// the registry file declares, never imported, is not in the store, which
// so checks nothing of it when an entry commits (audit.CaseHold); it
// changes with the file, by the gateway's reload of its trust files. A
// Notify routed to an earlier recipient by a receipt within such a case
// must still be refused if the reload removed the recipient from the
// case, or dropped the case, between the routing and the commit, as it
// is for a case in the store (TestNoticeToAnEarlierRecipientWhileTheCaseChanges).
// Probation gave the Rotterdam police its assessment within the sample
// registry's case NL-ZVH-RTM-0042, served from the file; its breach
// notice then goes to them as an earlier recipient. The race is forced,
// the same every run, on SQLite and PostgreSQL: the file changes, and the
// gateway applies it, right after the Notify looked for fingerprints
// of what its sender received (raceStore.armFingerprints), once routed and before it is
// decided and committed. The file removes the police from the case: the
// notice is refused FAILED_PRECONDITION, CASE_CHANGED_MEANWHILE, in one
// refused entry that describes no release and no tracked notice, and
// nothing reaches the police; called again, nobody is left to notify.
// The police are put back, and the file drops the case while the next
// notice is under way: refused so too. The case back, probation
// discloses to the police on the case's basis while the file removes
// them from it: refused PERMISSION_DENIED, NOT_A_CASE_MEMBER, as for a
// member that leaves a case in the store (TestCaseChangeDuringExchange),
// one refused entry, nothing delivered. Without the fix both notices and
// the disclosure reached the police after the registry in force had
// taken them out of the case.
func TestNoticeToAnEarlierRecipientWhileTheRegistryChangesItsCase(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newCaseClock(caseStart).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		const id = "NL-ZVH-RTM-0042" // the sample registry's case: the municipality leads, the police and probation are members
		if c, err := s.db.Case(ctx, id); err != nil || c != nil {
			t.Fatalf("the store holds case %s: %v, %v; want it served from the registry file", id, c, err)
		}
		ra, attrs, notify, policeItems := policeReceiptInCase(t, s, id)
		// reload edits the registry file and waits until the registry in
		// force says what stands says of the case, as the council reads
		// it. It may run off the test's goroutine.
		council := s.cases(t, nlCouncil)
		reload := func(edit func(*gateway.RegistryFile), stands func(*liaisonv1.Case) bool) {
			editRegistry(t, s, edit)
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				r, _ := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
				if stands(r.GetCase()) {
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("the registry in force never applied the change of case %s: %v", id, r.GetCase())
					return
				}
			}
		}
		withPolice := func(c *liaisonv1.Case) bool {
			return c != nil && slices.ContainsFunc(c.GetMembers(), func(m *liaisonv1.CaseMember) bool { return m.GetAgency() == nlPolice.agency })
		}
		var dropped gateway.CaseFile
		editCase := func(f *gateway.RegistryFile, edit func(*gateway.CaseFile)) {
			for i := range f.Cases {
				if f.Cases[i].ID == id {
					edit(&f.Cases[i])
				}
			}
		}

		refused := func(what string, change func(), message string) {
			t.Helper()
			before := policeItems()
			o.race.armFingerprints(change)
			var nr *liaisonv1.NotifyResponse
			err, entries := s.grown(t, func() (err error) {
				nr, err = notify()
				return err
			})
			if armedLeft(o.race) {
				t.Fatalf("%s: the Notify never looked for fingerprints", what)
			}
			if nr != nil {
				t.Errorf("%s: the notice went: %v", what, nr)
				return
			}
			wantChangedMeanwhile(t, what, id, message, err)
			var notices []*audit.Entry
			for _, e := range entries {
				if e.Action == "notify" {
					notices = append(notices, e)
				}
			}
			if len(notices) != 1 {
				t.Fatalf("%s: the log grew by %v, want one notify entry", what, entries)
			}
			wantNoticeEntryRefused(t, what, notices[0])
			if n := policeItems(); n != before {
				t.Errorf("%s: the police's inbox grew from %d to %d items: the refused notice reached them", what, before, n)
			}
		}

		// 1. The file removes the police from the case while the notice
		// is under way.
		refused("the file removes the police", func() {
			reload(func(f *gateway.RegistryFile) {
				editCase(f, func(c *gateway.CaseFile) {
					c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == nlPolice.agency })
				})
			}, func(c *liaisonv1.Case) bool { return c != nil && !withPolice(c) })
		}, "left the case")
		// Their receipt no longer counts: nobody is left to notify.
		if _, err := notify(); errorReason(wantStatus(t, err, codes.InvalidArgument)) != "NO_RECIPIENTS" {
			t.Errorf("the notice after the file removed the police: %v, want NO_RECIPIENTS", err)
		}

		// 2. Back in the case, the file drops the case while the next
		// notice is under way.
		reload(func(f *gateway.RegistryFile) {
			editCase(f, func(c *gateway.CaseFile) { c.Members = append(c.Members, nlPolice.agency) })
		}, withPolice)
		refused("the file drops the case", func() {
			reload(func(f *gateway.RegistryFile) {
				f.Cases = slices.DeleteFunc(f.Cases, func(c gateway.CaseFile) bool {
					if c.ID == id {
						dropped = c
						return true
					}
					return false
				})
			}, func(c *liaisonv1.Case) bool { return c == nil })
		}, "the case was closed")
		if dropped.ID != id {
			t.Fatalf("the registry file had no case %s to drop", id)
		}

		// 3. The case back in the file, probation discloses on its basis
		// to the police, and the file removes the police from the case
		// meanwhile: refused as when a member of a case in the store
		// leaves it (NOT_A_CASE_MEMBER), nothing delivered.
		reload(func(f *gateway.RegistryFile) { f.Cases = append(f.Cases, dropped) }, withPolice)
		before := policeItems()
		o.race.armFingerprints(func() {
			reload(func(f *gateway.RegistryFile) {
				editCase(f, func(c *gateway.CaseFile) {
					c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == nlPolice.agency })
				})
			}, func(c *liaisonv1.Case) bool { return c != nil && !withPolice(c) })
		})
		var dr *liaisonv1.DiscloseResponse
		err, entries := s.grown(t, func() (err error) {
			dr, err = s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: ra, Subject: attrs, Recipients: []string{nlPolice.agency}, CaseId: id,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
			})
			return err
		})
		if armedLeft(o.race) {
			t.Fatal("the Disclose never looked for fingerprints")
		}
		if dr != nil {
			t.Fatalf("the disclosure to the police the file removed from the case went: %v", dr)
		}
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "NOT_A_CASE_MEMBER" || !strings.Contains(st.Message(), id) {
			t.Errorf("the disclosure to the police the file removed from the case: %q %s; want NOT_A_CASE_MEMBER of case %s", errorReason(st), st.Message(), id)
		}
		var discloses []*audit.Entry
		for _, e := range entries {
			if e.Action == "disclose" {
				discloses = append(discloses, e)
			}
		}
		if len(discloses) != 1 || discloses[0].Outcome != audit.OutcomeRefused || !slices.Equal(discloses[0].Reasons, []string{"NOT_A_CASE_MEMBER"}) ||
			len(discloses[0].FieldsDisclosed) > 0 || discloses[0].Detail[audit.DetailReleasedDigest] != "" {
			t.Errorf("the disclosure to the police the file removed from the case: entries %v, want one refused NOT_A_CASE_MEMBER, no release", discloses)
		}
		if n := policeItems(); n != before {
			t.Errorf("the disclosure: the police's inbox grew from %d to %d items", before, n)
		}
	})
}

// armedLeft says whether r's armed look for fingerprints is still
// waiting to run (armFingerprints), and disarms it.
func armedLeft(r *raceStore) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	left := r.armedFP != nil
	r.armedFP = nil
	return left
}
