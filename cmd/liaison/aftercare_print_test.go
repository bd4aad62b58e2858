package main

import (
	"bytes"
	"strings"
	"testing"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNoticeResultsSayWhyNothingWasSent: "liaison correct" and "liaison
// withdraw" print, for a recipient that was sent nothing, the gateway's
// message as well as its code and reason: for a correction refused as an
// undeclared onward disclosure, which release it repeats and what to do
// instead. Without the fix the message was dropped and the officer saw
// only "nothing: PERMISSION_DENIED UNDECLARED_ONWARD_DISCLOSURE".
func TestNoticeResultsSayWhyNothingWasSent(t *testing.T) {
	msg := "This record repeats what dk-police-aarhus received through Liaison from dk-prison-east (entry 0). Passing it on is an onward disclosure."
	var out bytes.Buffer
	printNoticeResults(&out, []*liaisonv1.NoticeResult{
		{Recipient: "dk-social-aarhus", RefersTo: 1, AuditIndex: 3, Reasons: []string{"UNDECLARED_ONWARD_DISCLOSURE"},
			Failure: &liaisonv1.RecipientFailure{Code: "PERMISSION_DENIED", Reason: "UNDECLARED_ONWARD_DISCLOSURE", Message: msg}},
		{Recipient: "dk-police-aarhus", RefersTo: 2, AuditIndex: 4, Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION,
			Outcome: liaisonv1.Outcome_OUTCOME_DISCLOSE, Obligation: liaisonv1.Obligation_OBLIGATION_RECTIFY},
	})
	got := out.String()
	if !strings.Contains(got, "nothing: PERMISSION_DENIED UNDECLARED_ONWARD_DISCLOSURE") || !strings.Contains(got, msg) {
		t.Errorf("printed:\n%s\nwant the failure's code, reason and message", got)
	}
	if strings.Count(got, msg) != 1 {
		t.Errorf("printed the message %d times:\n%s", strings.Count(got, msg), got)
	}
}

// TestNoticeResultsNameTheRequiredNotice: a correction that moves the
// release date carries a required notice of the new date (NoticeResult
// notice_id and acknowledge_by); "liaison correct" printed neither, so the
// holder's officer could not tell that the recipient owed an
// acknowledgement, nor by when, without -json.
func TestNoticeResultsNameTheRequiredNotice(t *testing.T) {
	var out bytes.Buffer
	printNoticeResults(&out, []*liaisonv1.NoticeResult{
		{Recipient: "dk-police-aarhus", RefersTo: 2, AuditIndex: 7, Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION,
			Outcome: liaisonv1.Outcome_OUTCOME_DISCLOSE, Obligation: liaisonv1.Obligation_OBLIGATION_RECTIFY,
			NoticeId: "n-4f2a", AcknowledgeBy: "2026-12-21T23:00:00Z"},
		{Recipient: "dk-social-aarhus", RefersTo: 3, AuditIndex: 8, Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION,
			Outcome: liaisonv1.Outcome_OUTCOME_DISCLOSE, Obligation: liaisonv1.Obligation_OBLIGATION_RECTIFY},
	})
	got := out.String()
	if !strings.Contains(got, "release 2 to dk-police-aarhus (entry 7): the new release date is a required notice, n-4f2a, to be acknowledged by 2026-12-21T23:00:00Z") {
		t.Errorf("printed:\n%s\nwant the required notice's id and deadline for dk-police-aarhus", got)
	}
	if strings.Count(got, "required notice") != 1 {
		t.Errorf("printed:\n%s\nwant a required notice named for dk-police-aarhus only", got)
	}
}
