package sample

import (
	"testing"
	"time"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

func TestSampleFixtures(t *testing.T) {
	f, err := ParseFixtures(Sample())
	if err != nil {
		t.Fatalf("ParseFixtures(sample) error: %v", err)
	}
	if got, want := len(f.Holders()), 2; got != want {
		t.Fatalf("Holders() = %v, want %d holders", f.Holders(), want)
	}
	r, attrs, ok := f.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	if !ok {
		t.Fatal("Record(nl-probation, SYN-NL-0001, risk_assessment) not found")
	}
	if got := r.GetRiskAssessment().GetLevel(); got != liaisonv1.RiskLevel_RISK_LEVEL_HIGH {
		t.Errorf("risk level = %v, want HIGH", got)
	}
	if got := attrs.GetProbationUntil(); got != "2028-06-30" {
		t.Errorf("probation_until = %q, want 2028-06-30", got)
	}
}

func TestParseFixturesRejectsMixedSubjects(t *testing.T) {
	bad := `{"holders":[{"agency":"a","subjects":[{"attributes":{},"records":[
		{"releaseNotice":{"subject":{"subjectId":"X"}}},
		{"riskAssessment":{"subject":{"subjectId":"Y"}}}]}]}]}`
	if _, err := ParseFixtures([]byte(bad)); err == nil {
		t.Fatal("ParseFixtures accepted records about two people under one subject")
	}
}

// The sample moved to another day keeps its story: every date moves by the
// same days, and the fixtures still parse.
func TestSampleOnMovesEveryDate(t *testing.T) {
	for _, c := range []struct {
		day                          time.Time
		release, probation, birth    string
		nlProbation, nlBreach, nlRev string
	}{
		{SampleWrittenOn.Add(15 * time.Hour), "2026-12-15", "2029-12-15", "1994-03-17", "2028-06-30", "2026-08-21", "2027-01-15"},
		{time.Date(2027, 12, 4, 23, 59, 0, 0, time.UTC), "2027-12-15", "2030-12-15", "1995-03-17", "2029-06-30", "2027-08-21", "2028-01-15"},
		{time.Date(2028, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "2028-03-11", "2031-03-12", "1995-06-12", "2029-09-25", "2027-11-16", "2028-04-11"},
	} {
		f, err := ParseFixtures(SampleOn(c.day))
		if err != nil {
			t.Fatalf("ParseFixtures(SampleOn(%v)): %v", c.day, err)
		}
		rec, attrs, ok := f.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
		if !ok {
			t.Fatal("release notice missing")
		}
		rn := rec.GetReleaseNotice()
		nl, nlAttrs, _ := f.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_PROBATION_MEASURES)
		risk, _, _ := f.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
		for _, g := range []struct{ name, got, want string }{
			{"attributes release_date", attrs.GetReleaseDate(), c.release},
			{"release notice release_date", rn.GetReleaseDate(), c.release},
			{"release notice probation_until", rn.GetProbationUntil(), c.probation},
			{"date_of_birth", rn.GetSubject().GetDateOfBirth(), c.birth},
			{"nl probation_until", nlAttrs.GetProbationUntil(), c.nlProbation},
			{"nl breach date", nl.GetProbationMeasures().GetBreaches()[0].GetDate(), c.nlBreach},
			{"nl review_by", risk.GetRiskAssessment().GetReviewBy(), c.nlRev},
			{"facility (not a date)", rn.GetFacility(), "Fiktivt Fængsel Øst"},
		} {
			if g.got != g.want {
				t.Errorf("SampleOn(%v): %s = %q, want %q", c.day, g.name, g.got, g.want)
			}
		}
	}
}
