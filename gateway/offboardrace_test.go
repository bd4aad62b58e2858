package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// armFingerprints has f run once, right after the gateway's next look
// at the fingerprints of what a record's sender was released about its
// subject (HasFingerprints, which undeclaredOnward asks first unless it
// knows the answer is yes, or MatchFingerprints): a Disclose or Notify
// has found its recipients in the registry and not yet decided or
// committed.
func (r *raceStore) armFingerprints(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armedFP = f
}

func (r *raceStore) HasFingerprints(ctx context.Context, recipient, subject string) (bool, error) {
	has, err := r.testStore.HasFingerprints(ctx, recipient, subject)
	r.fingerprintsLooked(err)
	return has, err
}

func (r *raceStore) MatchFingerprints(ctx context.Context, recipient, subject string, fps [][32]byte) ([]audit.FingerprintMatch, error) {
	ms, err := r.testStore.MatchFingerprints(ctx, recipient, subject, fps)
	r.fingerprintsLooked(err)
	return ms, err
}

// fingerprintsLooked runs the armed function, if any, after a look at
// fingerprints that did not fail.
func (r *raceStore) fingerprintsLooked(err error) {
	r.mu.Lock()
	run := r.armedFP
	r.armedFP = nil
	r.mu.Unlock()
	if run != nil && err == nil {
		run()
	}
}

// setOffboarded marks agency offboarded (or not) in the registry file and
// waits until the gateway's registry in force says so, as a reload of
// the trust files applies it. It may run off the test's goroutine.
func setOffboarded(t *testing.T, s *stack, agency string, off bool) {
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == agency {
				f.Agencies[i].Offboarded = off
			}
		}
	})
	for deadline := time.Now().Add(15 * time.Second); s.srv.Offboarded(agency) != off; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the registry in force never said %s offboarded=%v", agency, off)
			return
		}
	}
}

// TestNothingReachesAnAgencyOffboardedWhileItIsUnderWay: the registry is
// read when a call begins (the caller authenticated, the recipients
// found); the entry commits later. An agency the registry offboards in
// between must get nothing, as it gets nothing once offboarded: the
// gateway neither delivers to it nor answers it. The race is forced, the
// same every run, on SQLite and PostgreSQL: the registry file offboards
// the agency, and the gateway applies it, right after the Danish prison's
// Disclose to the Aarhus police looked for fingerprints of what the prison received
// (raceStore.armFingerprints), and while the Rotterdam police's Request
// is held at probation's RecordProvider (fetchGate); then the file drops
// the Aarhus police altogether during the next Disclose. Each is refused
// FAILED_PRECONDITION, AGENCY_OFFBOARDED (AGENCY_UNREGISTERED for the
// agency no longer listed), in one refused entry that
// describes no release; nothing reaches the police's inbox (read once
// they are onboarded again) and no record reaches the caller. Without the
// fix the release notice was sealed into the Aarhus police's inbox, which
// they read once onboarded again, and the Rotterdam police got the
// assessment they asked for after they were offboarded.
func TestNothingReachesAnAgencyOffboardedWhileItIsUnderWay(t *testing.T) {
	gate := &fetchGate{}
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.race = &raceStore{}
		o.holderInterceptor = gate.intercept
		s := startStack(t, o)
		// one is the one entry the call appended, refused
		// AGENCY_OFFBOARDED and describing no release.
		one := func(what string, err error, entries []*audit.Entry, action, agency string) {
			t.Helper()
			st := wantStatus(t, err, codes.FailedPrecondition)
			if errorReason(st) != "AGENCY_OFFBOARDED" || !strings.Contains(st.Message(), agency) {
				t.Errorf("%s: %q %s; want AGENCY_OFFBOARDED naming %s", what, errorReason(st), st.Message(), agency)
			}
			if len(entries) != 1 {
				t.Fatalf("%s: the log grew by %d entries, want one", what, len(entries))
			}
			e := entries[0]
			if e.Action != action || e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{"AGENCY_OFFBOARDED"}) ||
				len(e.FieldsDisclosed) > 0 || e.Detail[audit.DetailReleasedDigest] != "" {
				t.Errorf("%s: entry %s %s %v (fields %v, detail %v), want %s refused AGENCY_OFFBOARDED and no release",
					what, e.Action, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail, action)
			}
		}

		// 1. The Aarhus police are offboarded while the prison's
		// release notice is on its way to them.
		const aarhus = "dk-police-aarhus"
		before := len(inboxItems(t, s.exchange(t, dkPolice)))
		o.race.armFingerprints(func() { setOffboarded(t, s, aarhus, true) })
		var d *liaisonv1.DiscloseResponse
		err, entries := s.grown(t, func() (err error) {
			d, err = s.exchange(t, dkPrison).Disclose(ctx, releaseNotice(s))
			return err
		})
		if d != nil {
			t.Errorf("the release notice went to the offboarded police: %v", d)
		}
		one("disclose to an agency offboarded meanwhile", err, entries, "disclose", aarhus)
		setOffboarded(t, s, aarhus, false)
		if n := len(inboxItems(t, s.exchange(t, dkPolice))); n != before {
			t.Errorf("the Aarhus police's inbox grew from %d to %d items while they were offboarded", before, n)
		}

		// 2. The registry file drops the Aarhus police while the next
		// release notice is on its way to them: refused so too, as an
		// agency the registry no longer lists (AGENCY_UNREGISTERED).
		var dropped gateway.AgencyFile
		o.race.armFingerprints(func() {
			editRegistry(t, s, func(f *gateway.RegistryFile) {
				f.Agencies = slices.DeleteFunc(f.Agencies, func(a gateway.AgencyFile) bool {
					if a.ID == aarhus {
						dropped = a
						return true
					}
					return false
				})
			})
			for deadline := time.Now().Add(15 * time.Second); !s.srv.Offboarded(aarhus); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the registry in force still lists %s", aarhus)
					return
				}
			}
		})
		d = nil
		err, entries = s.grown(t, func() (err error) {
			d, err = s.exchange(t, dkPrison).Disclose(ctx, releaseNotice(s))
			return err
		})
		if d != nil {
			t.Errorf("the release notice went to the police the registry dropped: %v", d)
		}
		st := wantStatus(t, err, codes.FailedPrecondition)
		if errorReason(st) != "AGENCY_UNREGISTERED" || !strings.Contains(st.Message(), aarhus) ||
			len(entries) != 1 || entries[0].Outcome != audit.OutcomeRefused || !slices.Equal(entries[0].Reasons, []string{"AGENCY_UNREGISTERED"}) {
			t.Errorf("disclose to an agency the registry dropped meanwhile: %q %s, entries %v; want AGENCY_UNREGISTERED in one refused entry",
				errorReason(st), st.Message(), entries)
		}
		editRegistry(t, s, func(f *gateway.RegistryFile) { f.Agencies = append(f.Agencies, dropped) })
		setOffboarded(t, s, aarhus, false)
		if n := len(inboxItems(t, s.exchange(t, dkPolice))); n != before {
			t.Errorf("the Aarhus police's inbox grew from %d to %d items while the registry did not list them", before, n)
		}

		// 3. The Rotterdam police are offboarded while probation's system
		// answers their request.
		arrived, release := gate.arm()
		type answer struct {
			r   *liaisonv1.RequestResponse
			err error
		}
		done := make(chan answer, 1)
		police := s.exchange(t, nlPolice)
		size, err := s.db.Size(ctx)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			r, err := police.Request(ctx, riskReq(nil))
			done <- answer{r, err}
		}()
		select {
		case <-arrived:
		case a := <-done:
			release()
			t.Fatalf("the request ended before probation was asked: %v, %v", a.r, a.err)
		}
		setOffboarded(t, s, nlPolice.agency, true)
		release()
		a := <-done
		if a.r.GetReleased() != nil {
			t.Errorf("the offboarded police got the assessment: %v", a.r)
		}
		after, err := s.db.Size(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []*audit.Entry
		for i := size; i < after; i++ {
			got = append(got, s.entry(t, i))
		}
		one("request by an agency offboarded meanwhile", a.err, got, "request", nlPolice.agency)
	})
}
