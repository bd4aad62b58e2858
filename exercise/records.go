package exercise

import (
	"strings"
	"time"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The vocabulary's words and the protos' enums: "risk_assessment" is
// RECORD_TYPE_RISK_ASSESSMENT.
func recordEnum(w string) liaisonv1.RecordType {
	return liaisonv1.RecordType(liaisonv1.RecordType_value["RECORD_TYPE_"+strings.ToUpper(w)])
}

func purposeEnum(w string) liaisonv1.Purpose {
	return liaisonv1.Purpose(liaisonv1.Purpose_value["PURPOSE_"+strings.ToUpper(w)])
}

func kindEnum(w string) liaisonv1.AgencyKind {
	return liaisonv1.AgencyKind(liaisonv1.AgencyKind_value["AGENCY_KIND_"+strings.ToUpper(w)])
}

func eventEnum(w string) liaisonv1.SubjectEventType {
	return liaisonv1.SubjectEventType(liaisonv1.SubjectEventType_value["SUBJECT_EVENT_TYPE_"+strings.ToUpper(w)])
}

func word(e interface{ String() string }, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(e.String(), prefix))
}

func subjectAttrs(s Subject) *liaisonv1.SubjectAttributes {
	return &liaisonv1.SubjectAttributes{
		Category:  liaisonv1.SubjectCategory(liaisonv1.SubjectCategory_value["SUBJECT_CATEGORY_"+strings.ToUpper(s.Category)]),
		InCustody: s.InCustody, ReleaseDate: s.ReleaseDate, ProbationUntil: s.ProbationUntil, Municipality: s.Municipality,
	}
}

func (s Subject) apply(c *SubjectChange) Subject {
	if c.Category != "" {
		s.Category = c.Category
	}
	if c.InCustody != nil {
		s.InCustody = *c.InCustody
	}
	if c.ReleaseDate != "" {
		s.ReleaseDate = c.ReleaseDate
	}
	if c.ProbationUntil != "" {
		s.ProbationUntil = c.ProbationUntil
	}
	if c.Municipality != "" {
		s.Municipality = c.Municipality
	}
	if c.Country != "" {
		s.Country = c.Country
	}
	return s
}

// subjectID is the person's identifier in the holders' records.
func (s Subject) subjectID() string {
	if s.ID != "" {
		return s.ID
	}
	return "EX-0001"
}

// record is an invented record of a type about the subject, as a holder
// keeps it: every field the type has a class for, so that the report shows
// what the law removes.
func record(sc *Scenario, s Subject, holder, rt string) *liaisonv1.Record {
	addr := &liaisonv1.Address{Street: "Invented Street 1", PostalCode: "0000", Municipality: s.Municipality, Country: s.Country}
	person := &liaisonv1.Person{SubjectId: s.subjectID(), FullName: "Invented Person", DateOfBirth: "1995-05-05", Address: addr}
	start, _ := time.Parse(time.DateOnly, sc.Start)
	day := start.Format(time.DateOnly)
	switch rt {
	case "release_notice":
		return &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{
			Subject: person, ReleaseDate: s.ReleaseDate, Facility: "Invented Prison", Destination: addr,
			ProbationUntil: s.ProbationUntil, RiskAssessmentAvailable: true, LicenceConditions: []string{"reside at the stated address"},
			OffenceCategory: "terrorist offence", ContactPoint: "release desk of " + holder, Notes: "Invented for the exercise.",
		}}}
	case "risk_assessment":
		return &liaisonv1.Record{Body: &liaisonv1.Record_RiskAssessment{RiskAssessment: &liaisonv1.RiskAssessment{
			Subject: person, Tool: liaisonv1.AssessmentTool_ASSESSMENT_TOOL_VERA_2R, Level: liaisonv1.RiskLevel_RISK_LEVEL_MODERATE,
			AssessedOn: day, AssessorAgency: holder, Worries: []string{"contact with an extremist milieu online"},
			Strengths: []string{"supportive family"}, Actions: []string{"mentor before release"}, Summary: "Invented for the exercise.",
		}}}
	case "probation_measures":
		return &liaisonv1.Record{Body: &liaisonv1.Record_ProbationMeasures{ProbationMeasures: &liaisonv1.ProbationMeasures{
			Subject: person, ProbationUntil: s.ProbationUntil, SupervisingOffice: holder, ReportingFrequency: "weekly",
			Conditions: []*liaisonv1.ProbationCondition{{Kind: "residence", Details: "at the stated address"}}, Notes: "Invented for the exercise.",
		}}}
	case "exit_programme_status":
		return &liaisonv1.Record{Body: &liaisonv1.Record_ExitProgrammeStatus{ExitProgrammeStatus: &liaisonv1.ExitProgrammeStatus{
			Subject: person, Programme: "exit programme", ProviderAgency: holder, Stage: liaisonv1.ExitStage_EXIT_STAGE_ACTIVE,
			EnrolledOn: day, Engagement: liaisonv1.Engagement_ENGAGEMENT_MODERATE, Notes: "Invented for the exercise.",
		}}}
	case "family_contact":
		return &liaisonv1.Record{Body: &liaisonv1.Record_FamilyContact{FamilyContact: &liaisonv1.FamilyContact{
			Subject: person, Contacts: []*liaisonv1.Person{{SubjectId: "EX-0901", FullName: "Invented Relative", Relation: "mother"}},
			ContactWorker: holder, LastContactOn: day, Worries: []string{"old friends waiting"}, Notes: "Invented for the exercise.",
		}}}
	case "case_plan":
		return &liaisonv1.Record{Body: &liaisonv1.Record_CasePlan{CasePlan: &liaisonv1.CasePlan{
			Subject: person, LeadAgency: holder, Measures: []*liaisonv1.CaseMeasure{{Description: "housing", OwnerAgency: holder, Due: day}},
			Notes: "Invented for the exercise.",
		}}}
	case "police_observation":
		return &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
			Subject: person, ObservedOn: day, Location: addr, Category: liaisonv1.ObservationCategory_OBSERVATION_CATEGORY_OTHER,
			Grading: "B2", ReportingUnit: holder, Description: "Invented for the exercise.",
		}}}
	}
	return nil
}

// noticeRecord is the record a notify carries by default: the release
// notice for release events and an absconding, the probation measures for
// a breach and the end of probation.
func noticeRecord(event string) string {
	switch event {
	case "breach_of_conditions", "probation_ended":
		return "probation_measures"
	}
	return "release_notice"
}
