package sample

import (
	"testing"

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
