package policies

import (
	"bytes"
	"slices"
	"strings"
	"testing"
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
	dir := t.TempDir()
	writeTree(t, dir, withoutNLPoliceFallback(t))
	candidate, err := LoadSource(ctx, DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	var recs []Recorded
	for i, s := range samples[:5] {
		d, err := active.Decide(ctx, s.in)
		if err != nil {
			t.Fatal(err)
		}
		rec := Recorded{Index: int64(i), Input: s.in, Outcome: d.Outcome, Fields: planFields(s.in.RecordType, d)}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	for _, baseline := range []*Engine{nil, active} {
		r := NewReplayer(candidate, baseline, planFields)
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
