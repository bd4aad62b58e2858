package main

import (
	"strings"
	"testing"
	"time"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestReportSaysASupersededNoticeWasReplaced: the printed access report
// says that a correction replaced by a later one before its recipient
// acknowledged it was replaced, and by which entry, not "not yet" (it can
// no longer be acknowledged); an acknowledged one gives its date, an open
// one "not yet".
func TestReportSaysASupersededNoticeWasReplaced(t *testing.T) {
	t.Parallel()
	sent := timestamppb.New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	n := func(index, supersededBy int64, acked *timestamppb.Timestamp) *liaisonv1.ReportedNotice {
		return &liaisonv1.ReportedNotice{Index: index, Time: sent, Kind: "correction", Recipient: "dk-police-aarhus",
			Holder: "dk-prison-east", RefersTo: []int64{index - 1}, RecordType: "release_notice", Obligation: "rectify",
			SupersededBy: supersededBy, Acknowledged: acked}
	}
	var b strings.Builder
	renderReport(&b, &liaisonv1.AccessReportResponse{
		SubjectPseudonym: "apsn:x", Produced: sent,
		Corrections: []*liaisonv1.ReportedNotice{n(7, 9, nil), n(9, 0, timestamppb.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))), n(12, 0, nil)},
	}, time.UTC)
	out := b.String()
	for _, want := range []string{
		"acknowledged: no: replaced, before it was, by the notice in log entry 9\n",
		"acknowledged: 2026-11-27\n",
		"acknowledged: not yet\n",
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the report says %q %d times, want once:\n%s", want, strings.Count(out, want), out)
		}
	}
}

// TestReportNamesTheEntriesANoticeIsAbout: a notice about one release
// was printed "about entries 2" (the cross-border demo's correction, in
// the Danish log); it says "about entry 2", and a notice about several
// (an expiry notice of a gateway that grouped them) "about entries 2, 5".
func TestReportNamesTheEntriesANoticeIsAbout(t *testing.T) {
	t.Parallel()
	sent := timestamppb.New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	var b strings.Builder
	renderReport(&b, &liaisonv1.AccessReportResponse{
		SubjectPseudonym: "apsn:x", Produced: sent,
		Corrections: []*liaisonv1.ReportedNotice{{Index: 5, Time: sent, Kind: "correction", Recipient: "nl-police-rotterdam",
			Holder: "dk-prison-east", RefersTo: []int64{2}, RecordType: "release_notice", Obligation: "rectify"}},
		Withdrawals: []*liaisonv1.ReportedNotice{{Index: 9, Time: sent, Kind: "expiry", Recipient: "nl-police-rotterdam",
			Holder: "dk-prison-east", RefersTo: []int64{2, 5}, RecordType: "release_notice", Obligation: "erase"}},
	}, time.UTC)
	out := b.String()
	for _, want := range []string{"log entry:  5, about entry 2\n", "log entry:  9, about entries 2, 5\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
}

// TestReportSaysWhyARecordWasWithdrawn: the printed access report says
// why each withdrawal was sent by its reason code. A withdrawal the
// gateway sends instead of a correction because the record was passed on
// from a release its source withdrew (SOURCE_WITHDRAWN) said "it could not
// be corrected in the form the recipient holds", as did any code the
// command did not know; now each code the gateway sends has its words,
// and an unknown one is named, not guessed at.
func TestReportSaysWhyARecordWasWithdrawn(t *testing.T) {
	t.Parallel()
	sent := timestamppb.New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	for reason, want := range map[string]string{
		"INCORRECT":              "withdrawn (it was incorrect), to be erased",
		"CORRECTION_NOT_ALLOWED": "withdrawn (it could not be corrected in the form the recipient holds), to be erased",
		"ENTITLEMENT_NARROWED":   "withdrawn (the recipient may now have it only in a less revealing form than the one it holds), to be erased",
		"SOURCE_WITHDRAWN":       "withdrawn (the release it was passed on from was withdrawn by its source), to be erased",
		"SOME_LATER_CODE":        "withdrawn (reason SOME_LATER_CODE), to be erased",
	} {
		var b strings.Builder
		renderReport(&b, &liaisonv1.AccessReportResponse{
			SubjectPseudonym: "apsn:x", Produced: sent,
			Withdrawals: []*liaisonv1.ReportedNotice{{Index: 9, Time: sent, Kind: "withdrawal", Recipient: "nl-police-rotterdam",
				Holder: "dk-prison-east", RefersTo: []int64{5}, RecordType: "release_notice", Reason: reason, Obligation: "erase"}},
		}, time.UTC)
		if out := b.String(); !strings.Contains(out, "the release notice "+want+"\n") {
			t.Errorf("a withdrawal of reason %s: the report does not say %q:\n%s", reason, want, out)
		}
	}
}

// TestReportSaysACorrectionWasPseudonymised: a correction is itself a
// release, listed among the notices and not again among the disclosures;
// one that left pseudonymised (ReportedNotice.outcome) says so, as a
// pseudonymised disclosure does and as the console's report does. Before,
// the printed report said only "a correction of the risk assessment", as
// if the record had left with the person's name and identifiers.
func TestReportSaysACorrectionWasPseudonymised(t *testing.T) {
	t.Parallel()
	sent := timestamppb.New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	n := func(index int64, outcome string) *liaisonv1.ReportedNotice {
		return &liaisonv1.ReportedNotice{Index: index, Time: sent, Kind: "correction", Recipient: "nl-police-rotterdam",
			Holder: "nl-probation", RefersTo: []int64{index - 1}, RecordType: "risk_assessment", Obligation: "rectify", Outcome: outcome}
	}
	var b strings.Builder
	renderReport(&b, &liaisonv1.AccessReportResponse{SubjectPseudonym: "apsn:x", Produced: sent,
		Corrections: []*liaisonv1.ReportedNotice{n(5, "pseudonymise"), n(8, "disclose")}}, time.UTC)
	out := b.String()
	for _, want := range []string{
		": a correction of the risk assessment, pseudonymised (without name or identifiers), to be rectified\n",
		": a correction of the risk assessment, to be rectified\n",
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the report says %q %d times, want once:\n%s", want, strings.Count(out, want), out)
		}
	}
}
