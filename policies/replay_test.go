package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// planFields is a stand-in for gateway.PlanFields: the field lists with
// how each passes.
func planFields(_ string, d Decision) []string {
	if d.Outcome != OutcomeDisclose && d.Outcome != OutcomePseudonymise {
		return nil
	}
	var out []string
	out = append(out, d.Fields.Keep...)
	for _, f := range d.Fields.Generalise {
		out = append(out, f+"~"+d.Fields.Precision)
	}
	for _, f := range d.Fields.Pseudonymise {
		out = append(out, f+"#")
	}
	return out
}

func TestReplayer(t *testing.T) {
	ctx := t.Context()
	active := loadEmbedded(t)
	candidate := withoutNLFallbackEngine(t)
	var recs []Recorded
	for i, s := range samples[:5] {
		d, err := active.Decide(ctx, s.in)
		if err != nil {
			t.Fatal(err)
		}
		rec := Recorded{Index: int64(i), Input: s.in, Outcome: d.Outcome, Fields: planFields(s.in.RecordType, d), Conditions: d.Conditions}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	for _, baseline := range []*Engine{nil, active} {
		r := NewReplayer(candidate, baseline, planFields, nil)
		for _, rec := range recs {
			if err := r.Add(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		r.Skip("no decision recorded")
		rep := r.Report()
		if rep.Replayed != 5 || rep.Flips() != 1 || len(rep.Changes) != 1 || rep.Skipped["no decision recorded"] != 1 {
			t.Fatalf("report = %+v; want 5 replayed, the police request outside a case flipped", rep)
		}
		c := rep.Changes[0]
		if c.Index != 2 || c.Before != OutcomePseudonymise || c.After != OutcomeDeny || c.Recipient.Agency != "nl-police-rotterdam" ||
			!slices.Contains(c.Withdrawn, "RiskAssessment.level") || len(c.NewlyDisclosed) != 0 {
			t.Errorf("change = %+v", c)
		}
		if len(rep.Groups) != 1 || rep.Groups[0].Flips["pseudonymise→deny"] != 1 || rep.Groups[0].LegalBasis != "(no legal basis)" {
			t.Errorf("groups = %+v", rep.Groups)
		}
		var buf bytes.Buffer
		if err := rep.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"5 decisions replayed: 1 flip", "nl-police-rotterdam, (no legal basis): flips pseudonymise→deny ×1", "#2 "} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("report text lacks %q:\n%s", want, buf.String())
			}
		}
	}
}

// TestReplayAddAll replays part of the equivalence log (entries of Dutch
// holders) under a candidate that changes decisions, once entry by entry with Add and once with
// AddAll, which decides on several goroutines: the reports must be the
// same, changes in the log's order included, with the recorded decisions
// and with a baseline decided again.
func TestReplayAddAll(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	active := loadEmbedded(t)
	candidate := withoutNLFallbackEngine(t)
	var recs []Recorded
	for _, rec := range recordedLog(t, readEquivalenceLog(t)) {
		if rec.Input.Holder.Jurisdiction != "NL" { // where the candidate changes things
			continue
		}
		if recs = append(recs, rec); len(recs) == 1000 {
			break
		}
	}
	for _, baseline := range []*Engine{nil, active} {
		one := NewReplayer(candidate, baseline, planFields, nil)
		for _, rec := range recs {
			if err := one.Add(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		all := NewReplayer(candidate, baseline, planFields, nil)
		// In uneven pages, as the command reads the log.
		for page := range slices.Chunk(recs, 97) {
			if err := all.AddAll(ctx, page); err != nil {
				t.Fatal(err)
			}
		}
		want, got := one.Report(), all.Report()
		if want.Replayed != len(recs) || len(want.Changes) < 3 {
			t.Fatalf("Add: replayed %d, %d changes; want %d replayed and a few changes to compare", want.Replayed, len(want.Changes), len(recs))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("baseline %v: AddAll's report differs from Add's (-Add +AddAll):\n%s", baseline != nil, d)
		}
		if !slices.IsSortedFunc(got.Changes, func(a, b Change) int { return int(a.Index - b.Index) }) {
			t.Errorf("baseline %v: AddAll's changes are not in the log's order", baseline != nil)
		}
	}

	// A cancelled replay says so and replays nothing more.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r := NewReplayer(candidate, nil, planFields, nil)
	if err := r.AddAll(cancelled, recs[:10]); !errors.Is(err, context.Canceled) {
		t.Errorf("AddAll(cancelled) = %v; want context.Canceled", err)
	}
	if rep := r.Report(); rep.Replayed != 0 {
		t.Errorf("a cancelled AddAll replayed %d entries", rep.Replayed)
	}
}

// withoutNLFallbackEngine loads the embedded policy without the Dutch
// police's pseudonymised fallback: a candidate that flips some decisions.
func withoutNLFallbackEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, withoutNLPoliceFallback(t))
	e, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// withoutNLFallbackCondition is the embedded policy whose Dutch
// pseudonymised fallback no longer attaches NO_REIDENTIFICATION_WITHOUT_CASE:
// the same outcomes, fields and bases, one condition fewer.
func withoutNLFallbackCondition(t *testing.T) *Engine {
	t.Helper()
	b, err := fs.ReadFile(Embedded(), "nl/nl.rego")
	if err != nil {
		t.Fatal(err)
	}
	old := `"conditions": ["NO_ONWARD_DISCLOSURE", "NO_REIDENTIFICATION_WITHOUT_CASE"],`
	if !strings.Contains(string(b), old) {
		t.Fatalf("nl/nl.rego changed: %q not found", old)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"nl/nl.rego": strings.Replace(string(b), old, `"conditions": ["NO_ONWARD_DISCLOSURE"],`, 1)})
	e, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReplayReportsDroppedConditions: a candidate that drops a handling
// condition the recipient was bound by decides differently, though the
// outcome, basis and fields stay; replay used to call it unchanged ("The
// candidate decides every replayed exchange as before").
func TestReplayReportsDroppedConditions(t *testing.T) {
	ctx := t.Context()
	active := loadEmbedded(t)
	candidate := withoutNLFallbackCondition(t)
	var recs []Recorded
	for i, s := range samples[:5] {
		d, err := active.Decide(ctx, s.in)
		if err != nil {
			t.Fatal(err)
		}
		rec := Recorded{Index: int64(i), Input: s.in, Outcome: d.Outcome, Fields: planFields(s.in.RecordType, d), Conditions: d.Conditions}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	for _, baseline := range []*Engine{nil, active} {
		r := NewReplayer(candidate, baseline, planFields, nil)
		if err := r.AddAll(ctx, recs); err != nil {
			t.Fatal(err)
		}
		rep := r.Report()
		var buf bytes.Buffer
		if err := rep.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		if rep.Replayed != 5 || rep.Flips() != 0 || len(rep.Changes) != 1 || rep.Unchanged != 4 {
			t.Fatalf("baseline %v: %d replayed, %d flips, %d changes, %d unchanged; want the police request outside a case changed (a condition dropped):\n%s",
				baseline != nil, rep.Replayed, rep.Flips(), len(rep.Changes), rep.Unchanged, buf.String())
		}
		for _, want := range []string{
			"5 decisions replayed: 0 flip, 0 change fields or legal basis only, 1 change conditions only, 4 unchanged",
			"#2 ", "pseudonymise → pseudonymise",
			"conditions dropped: NO_REIDENTIFICATION_WITHOUT_CASE",
		} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("baseline %v: report text lacks %q:\n%s", baseline != nil, want, buf.String())
			}
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"conditions_dropped":["NO_REIDENTIFICATION_WITHOUT_CASE"]`) {
			t.Errorf("baseline %v: JSON report lacks conditions_dropped: %s", baseline != nil, b)
		}
	}
}

// undefinedFor loads the embedded policy with a decision that is
// undefined for an exchange justified with justification (and only
// for it: the tree's tests and samples pass).
func undefinedFor(t *testing.T, justification string) *Engine {
	t.Helper()
	b, err := fs.ReadFile(Embedded(), "liaison/decision.rego")
	if err != nil {
		t.Fatal(err)
	}
	old := "} else := _result.decision\n"
	if !strings.Contains(string(b), old) {
		t.Fatalf("liaison/decision.rego changed: %q not found", old)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"liaison/decision.rego": strings.Replace(string(b), old,
		"} else := _result.decision if {\n\tnot _in.justification == \""+justification+"\"\n}\n", 1)})
	e, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReplayPolicyErrorIsADenial: where a policy cannot decide, the
// gateway denies (POLICY_UNDEFINED, or POLICY_ERROR), and replay takes
// it to deny too, the active policy decided again with -active included:
// that replay used to stop at the first such entry ("baseline cannot
// decide entry"), so a candidate that mends the policy could not be
// compared with it.
func TestReplayPolicyErrorIsADenial(t *testing.T) {
	ctx := t.Context()
	const why = "Replay test: the policy is undefined here."
	active, broken := loadEmbedded(t), undefinedFor(t, why)
	var recs []Recorded
	for i, s := range samples[:5] {
		in := s.in
		if i == 0 {
			in.Justification = why
		}
		d, err := active.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		rec := Recorded{Index: int64(i), Input: in, Outcome: d.Outcome, Fields: planFields(in.RecordType, d), Conditions: d.Conditions}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	if recs[0].Outcome != OutcomeDisclose {
		t.Fatalf("sample 0 decided %s; want disclose", recs[0].Outcome)
	}
	for _, tt := range []struct {
		name                string
		candidate, baseline *Engine
		before, after       string
	}{
		{"the active policy, decided again, cannot decide", active, broken, OutcomeDeny, OutcomeDisclose},
		{"the candidate cannot decide", broken, nil, OutcomeDisclose, OutcomeDeny},
		{"the candidate cannot decide, against the active policy decided again", broken, active, OutcomeDisclose, OutcomeDeny},
	} {
		r := NewReplayer(tt.candidate, tt.baseline, planFields, nil)
		if err := r.AddAll(ctx, recs); err != nil {
			t.Errorf("%s: AddAll = %v; want the entry taken as denied", tt.name, err)
			continue
		}
		rep := r.Report()
		if rep.Replayed != 5 || len(rep.Changes) != 1 {
			t.Errorf("%s: %d replayed, %d changes; want 5 and 1", tt.name, rep.Replayed, len(rep.Changes))
			continue
		}
		c := rep.Changes[0]
		if c.Index != 0 || c.Before != tt.before || c.After != tt.after || !c.Flipped {
			t.Errorf("%s: change = %+v; want entry 0 %s → %s", tt.name, c, tt.before, tt.after)
		}
		if tt.after == OutcomeDeny && !slices.Equal(c.Reasons, []string{"POLICY_UNDEFINED"}) {
			t.Errorf("%s: reasons %v; want [POLICY_UNDEFINED], as the gateway records it", tt.name, c.Reasons)
		}
	}
}

// TestReplayExpiredBasisIsADenial: a candidate that releases under a basis
// whose valid_until has passed is denied by the gateway
// (LEGAL_BASIS_EXPIRED, its defence in depth), and replay shows that
// deny, not the release the candidate asked for.
func TestReplayExpiredBasisIsADenial(t *testing.T) {
	ctx := t.Context()
	const why = "Replay test: the basis chosen here has expired."
	b, err := fs.ReadFile(Embedded(), "liaison/decision.rego")
	if err != nil {
		t.Fatal(err)
	}
	old := "} else := _result.decision\n"
	if !strings.Contains(string(b), old) {
		t.Fatalf("liaison/decision.rego changed: %q not found", old)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"liaison/decision.rego": strings.Replace(string(b), old,
		"} else := object.union(_result.decision, {\"legal_basis\": object.union(_result.decision.legal_basis, {\"valid_until\": \"2000-01-01\"})}) if {\n"+
			"\t_in.justification == \""+why+"\"\n} else := _result.decision\n", 1)})
	faulty, err := LoadSource(ctx, DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	active := loadEmbedded(t)
	in := samples[0].in
	in.Justification = why
	d, err := active.Decide(ctx, in)
	if err != nil || d.Outcome != OutcomeDisclose || d.LegalBasis == nil {
		t.Fatalf("sample 0 decided %+v, %v; want disclose under a basis", d, err)
	}
	if fd, err := faulty.Decide(ctx, in); err != nil || fd.Outcome != OutcomeDisclose || fd.LegalBasis.ValidUntil != "2000-01-01" {
		t.Fatalf("the faulty candidate decided %+v, %v; want disclose under a basis ended in 2000", fd, err)
	}
	rec := Recorded{Index: 0, Input: in, Outcome: d.Outcome, LegalBasis: d.LegalBasis.ID, Fields: planFields(in.RecordType, d), Conditions: d.Conditions}
	r := NewReplayer(faulty, nil, planFields, nil)
	if err := r.AddAll(ctx, []Recorded{rec}); err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	if len(rep.Changes) != 1 || rep.Changes[0].After != OutcomeDeny || !slices.Equal(rep.Changes[0].Reasons, []string{"LEGAL_BASIS_EXPIRED"}) {
		t.Fatalf("replay of a release under an expired basis: %+v; want one flip to deny, LEGAL_BASIS_EXPIRED", rep.Changes)
	}
}

// TestDenyExpiredBasisReadsTheDayOfTheLaw: valid_until is a day of the
// law that sets the basis, ending at midnight in its pack's time_zone, as
// the policy reads it, and so does the check of it that the gateway and
// replay apply. The KSP window of a release on 2026-12-15 ends at the end
// of 2027-12-15 in Copenhagen, 23:00 UTC: the policy discloses under it
// at 22:30 UTC and denies at 23:30 UTC (2027-12-16T00:30:00+01:00), and
// the check must deny a release under it then, and not before, whatever
// offset the time is written with. Counting UTC days, it let a release
// through at 23:30 UTC that the policy held ended.
func TestDenyExpiredBasisReadsTheDayOfTheLaw(t *testing.T) {
	e := loadEmbedded(t)
	in := sampleDKRelease("risk_management") // released 2026-12-15: KSP until 2027-12-15
	for _, tt := range []struct {
		time    string
		outcome string
	}{
		{"2027-12-15T22:30:00Z", OutcomeDisclose},
		{"2027-12-15T23:59:59+01:00", OutcomeDisclose},
		{"2027-12-15T21:59:59-01:00", OutcomeDisclose},
		{"2027-12-15T23:00:00Z", OutcomeDeny},
		{"2027-12-15T23:30:00Z", OutcomeDeny},
		{"2027-12-16T00:30:00+01:00", OutcomeDeny},
		{"2027-12-15T22:30:00-01:00", OutcomeDeny},
	} {
		in.Time = tt.time
		d, err := e.Decide(t.Context(), in)
		if err != nil || d.Outcome != tt.outcome {
			t.Fatalf("%s: the policy decided %s, %v; want %s", tt.time, d.Outcome, err, tt.outcome)
		}
		// What the gateway makes of the policy's decision, and of a
		// release under the same basis the policy might have chosen.
		release := Decision{Outcome: OutcomeDisclose, PseudonymDomain: "dk-police-aarhus/risk_management",
			LegalBasis: &LegalBasis{ID: "dk.rpl.115.stk1.nr3", Citation: "Retsplejeloven § 115", ValidUntil: "2027-12-15"},
			Reasons:    []Reason{{Code: "LEGAL_BASIS_APPLIES", Message: "ok"}}}
		if got := e.DenyExpiredBasis(in, release); got.Outcome != tt.outcome {
			t.Errorf("%s: DenyExpiredBasis of a release valid until 2027-12-15 = %s %v; want %s, as the policy decides", tt.time, got.Outcome, got.Reasons, tt.outcome)
		}
		if got := e.DenyExpiredBasis(in, d); got.Outcome != d.Outcome {
			t.Errorf("%s: DenyExpiredBasis turned the policy's %s into %s %v", tt.time, d.Outcome, got.Outcome, got.Reasons)
		}
	}
	// A basis of a pack the policy does not have counts UTC days, as the
	// policy's basis_time_zone does.
	in.Time = "2027-12-15T23:30:00Z"
	other := Decision{Outcome: OutcomeDisclose, LegalBasis: &LegalBasis{ID: "xx.somewhere", Citation: "XX", ValidUntil: "2027-12-15"},
		Reasons: []Reason{{Code: "LEGAL_BASIS_APPLIES", Message: "ok"}}}
	if got := e.DenyExpiredBasis(in, other); got.Outcome != OutcomeDisclose {
		t.Errorf("DenyExpiredBasis of a basis of no pack at 23:30 UTC on its last day = %s, want disclose", got.Outcome)
	}
}

// TestReplayerAppliesTheCheck: the check given to NewReplayer (the
// gateway's check of a decision against the record schema) turns a
// decision it refuses into the gateway's deny, POLICY_ERROR, no legal
// basis, no fields, for the candidate and the baseline alike, on Add and
// AddAll.
func TestReplayerAppliesTheCheck(t *testing.T) {
	ctx := t.Context()
	e := loadEmbedded(t)
	in := samples[0].in
	d, err := e.Decide(ctx, in)
	if err != nil || d.Outcome != OutcomeDisclose || d.LegalBasis == nil {
		t.Fatalf("sample 0 decided %+v, %v; want disclose under a basis", d, err)
	}
	rec := Recorded{Index: 3, Input: in, Outcome: d.Outcome, LegalBasis: d.LegalBasis.ID, Fields: planFields(in.RecordType, d), Conditions: d.Conditions}
	refuseDisclose := func(_ Input, d Decision) error {
		if d.Outcome == OutcomeDisclose {
			return fmt.Errorf("%w: refused by the check", ErrMalformed)
		}
		return nil
	}
	for _, all := range []bool{false, true} {
		add := func(r *Replayer) {
			t.Helper()
			var err error
			if all {
				err = r.AddAll(ctx, []Recorded{rec})
			} else {
				err = r.Add(ctx, rec)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r := NewReplayer(e, nil, planFields, refuseDisclose)
		add(r)
		rep := r.Report()
		if len(rep.Changes) != 1 {
			t.Fatalf("AddAll %v: %d changes, want the disclosure denied", all, len(rep.Changes))
		}
		c := rep.Changes[0]
		if c.After != OutcomeDeny || c.AfterBasis != "" || !slices.Equal(c.Reasons, []string{"POLICY_ERROR"}) ||
			len(c.NewlyDisclosed) != 0 || len(c.Withdrawn) == 0 || len(c.ConditionsDropped) != len(d.Conditions) {
			t.Errorf("AddAll %v: %+v; want deny, POLICY_ERROR, no basis, the fields withdrawn and the conditions dropped", all, c)
		}
		// The baseline is checked too: both deny, nothing changes.
		r = NewReplayer(e, e, planFields, refuseDisclose)
		add(r)
		if rep := r.Report(); len(rep.Changes) != 0 || rep.Unchanged != 1 {
			t.Errorf("AddAll %v: candidate and baseline alike, %d changes; want none", all, len(rep.Changes))
		}
	}
}

// TestReplayReceivedRelease: a release received from another gateway
// (Recorded.Received) passed the fields and conditions the holder's law
// chose; the policy here decided on receipt only whether to take it.
// Replayed under the policy that decided it, nothing changes, whatever
// fields that decision names; under one that refuses it, what was
// received is withdrawn, and nothing of the candidate's own plan is
// newly disclosed.
func TestReplayReceivedRelease(t *testing.T) {
	ctx := t.Context()
	active := loadEmbedded(t)
	in := samples[2].in // the police request outside a case, which the candidate denies
	d, err := active.Decide(ctx, in)
	if err != nil || d.Outcome == OutcomeDeny {
		t.Fatalf("active decides %v, %v; want a release", d.Outcome, err)
	}
	rec := Recorded{Index: 2, Input: in, Outcome: d.Outcome, Fields: []string{"RiskAssessment.level~band", "Person.subject_id#"},
		Conditions: []string{"HOLDER_CONDITION"}, Received: true}
	if d.LegalBasis != nil {
		rec.LegalBasis = d.LegalBasis.ID
	}
	for _, tc := range []struct {
		name      string
		candidate *Engine
		want      []Change
	}{
		{"InForce", active, nil},
		{"Refusing", withoutNLFallbackEngine(t), []Change{{Before: d.Outcome, After: OutcomeDeny, Flipped: true,
			Withdrawn: []string{"Person.subject_id#", "RiskAssessment.level~band"}, ConditionsDropped: []string{"HOLDER_CONDITION"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, baseline := range []*Engine{nil, active} {
				r := NewReplayer(tc.candidate, baseline, planFields, nil)
				if err := r.Add(ctx, rec); err != nil {
					t.Fatal(err)
				}
				var got []Change
				for _, c := range r.Report().Changes {
					got = append(got, Change{Before: c.Before, After: c.After, Flipped: c.Flipped, NewlyDisclosed: c.NewlyDisclosed,
						Withdrawn: c.Withdrawn, ConditionsAdded: c.ConditionsAdded, ConditionsDropped: c.ConditionsDropped})
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("baseline %v: changes (-want +got):\n%s", baseline != nil, diff)
				}
			}
		})
	}
}

// TestReplayReleaseRefusedOnReceipt: a release received from another
// gateway that the policy here refused on receipt (Recorded.Received,
// outcome deny) passed nothing; its Fields and Conditions are the
// release's, as the holder's law chose them. Replayed under the policy
// that refused it, nothing changes; under one that would take it, the
// release's fields are newly disclosed and its conditions added, not the
// fields of the candidate's own plan (which chose nothing that passed).
func TestReplayReleaseRefusedOnReceipt(t *testing.T) {
	ctx := t.Context()
	active, refusing := loadEmbedded(t), withoutNLFallbackEngine(t)
	in := samples[2].in // the police request outside a case, which the refusing policy denies
	d, err := refusing.Decide(ctx, in)
	if err != nil || d.Outcome != OutcomeDeny {
		t.Fatalf("the refusing policy decides %v, %v; want a deny", d.Outcome, err)
	}
	taken, err := active.Decide(ctx, in)
	if err != nil || taken.Outcome == OutcomeDeny {
		t.Fatalf("active decides %v, %v; want a release", taken.Outcome, err)
	}
	released := []string{"Person.subject_id#", "RiskAssessment.level~band"}
	rec := Recorded{Index: 2, Input: in, Outcome: OutcomeDeny, Fields: released, Conditions: []string{"HOLDER_CONDITION"}, Received: true}
	takenBasis := ""
	if taken.LegalBasis != nil {
		takenBasis = taken.LegalBasis.ID
	}
	for _, tc := range []struct {
		name      string
		candidate *Engine
		want      []Change
	}{
		{"InForce", refusing, nil},
		{"Taking", active, []Change{{Before: OutcomeDeny, After: taken.Outcome, Flipped: true, AfterBasis: takenBasis,
			NewlyDisclosed: released, ConditionsAdded: []string{"HOLDER_CONDITION"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, baseline := range []*Engine{nil, refusing} {
				r := NewReplayer(tc.candidate, baseline, planFields, nil)
				if err := r.Add(ctx, rec); err != nil {
					t.Fatal(err)
				}
				var got []Change
				for _, c := range r.Report().Changes {
					got = append(got, Change{Before: c.Before, After: c.After, Flipped: c.Flipped, BeforeBasis: c.BeforeBasis, AfterBasis: c.AfterBasis,
						NewlyDisclosed: c.NewlyDisclosed, Withdrawn: c.Withdrawn, ConditionsAdded: c.ConditionsAdded, ConditionsDropped: c.ConditionsDropped})
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("baseline %v: changes (-want +got):\n%s", baseline != nil, diff)
				}
			}
		})
	}
}
