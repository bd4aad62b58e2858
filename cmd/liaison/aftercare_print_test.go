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
