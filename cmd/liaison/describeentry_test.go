package main

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestDescribeEntrySaysWhatEachKindRecords: the demos' audit trail
// (describeEntry) printed the kinds of entry its scenarios do not write
// through the branch for an exchange, with the fields they do not have: a
// refused authentication as "authenticate by nl-police-rotterdam/:  for ,
// holder -, recipient  -> REFUSED ...; policy " (an empty officer, record,
// purpose, recipient and policy revision), a withdrawal, expiry notice or
// expiry decided again with "for ," and "policy " and nothing of the
// notice; key_rotate, key_retire and key_restore as "OK" and nothing of
// the versions; a failed policy activation as "FAILED" without its
// reason; and an operator's close of a case as done "by the gateway".
func TestDescribeEntrySaysWhatEachKindRecords(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	officer := &audit.Requester{Agency: "dk-prison-east", Officer: "kf.release.coordinator"}
	holder := &audit.Party{Agency: "dk-prison-east"}
	to := []audit.Party{{Agency: "dk-police-aarhus"}}
	subject := &audit.Subject{Pseudonym: "apsn:af5njcjeka24vr75nvee2tjtg4"}
	for _, tt := range []struct {
		e    *audit.Entry
		want string
	}{
		{&audit.Entry{Action: "authenticate", Requester: &audit.Requester{Agency: "nl-police-rotterdam"}, Outcome: "refused",
			Reasons: []string{"TOKEN_EXPIRED"}, Detail: map[string]string{"method": "/liaison.v1.Exchange/Request", "peer": "192.0.2.7:40122"}},
			"authenticate by nl-police-rotterdam: /liaison.v1.Exchange/Request from 192.0.2.7:40122 -> REFUSED (TOKEN_EXPIRED)"},
		{&audit.Entry{Action: "authenticate", Outcome: "refused", Reasons: []string{"NO_CLIENT_CERT"},
			Detail: map[string]string{"peer": "192.0.2.7:40122", "summary": "true", "suppressed": "40", "by_reason": "NO_CLIENT_CERT=40"}},
			"authenticate by a caller that named no agency: 40 refused calls from 192.0.2.7:40122, not recorded one by one (NO_CLIENT_CERT=40) -> REFUSED"},
		{&audit.Entry{Action: "key_rotate", Outcome: "ok", Detail: map[string]string{"old_version": "1", "new_version": "2"}},
			"key_rotate: OK version 1 to 2"},
		// The key state a gateway found at its start on a log that recorded
		// none: no old_version (it was printed "from version  to 1").
		{&audit.Entry{Action: "key_rotate", Outcome: "ok", Detail: map[string]string{"new_version": "1", "versions": "1", "seen": "start"}},
			"key_rotate: OK version 1 current, found at start"},
		{&audit.Entry{Action: "key_rotate", Outcome: "ok", Detail: map[string]string{"old_version": "1", "new_version": "2", "versions": "1,2", "seen": "start"}},
			"key_rotate: OK version 1 to 2, found at start"},
		{&audit.Entry{Action: "key_retire", Outcome: "ok", Detail: map[string]string{"retired_versions": "1", "current_version": "2", "versions": "2", "seen": "start"}},
			"key_retire: OK versions 1 left the key ring; current version 2, found at start"},
		{&audit.Entry{Action: "key_retire", Outcome: "ok", Detail: map[string]string{"retired_versions": "1", "current_version": "2"}},
			"key_retire: OK versions 1 left the key ring; current version 2"},
		{&audit.Entry{Action: "key_restore", Outcome: "ok", Detail: map[string]string{"restored_versions": "1", "current_version": "2"}},
			"key_restore: OK versions 1 back in the key ring; current version 2"},
		{&audit.Entry{Action: "policy_activate", Requester: &audit.Requester{Agency: "dk-prison-east", Officer: "lo.bakker"}, Outcome: "failed",
			Reasons: []string{"POLICY_NOT_ACTIVATED"}, Detail: map[string]string{"by": "lo.bakker", "source": "bundle:/etc/liaison/policy.tar.gz"}},
			"policy_activate: FAILED from bundle:/etc/liaison/policy.tar.gz, asked by dk-prison-east/lo.bakker (POLICY_NOT_ACTIVATED)"},
		{&audit.Entry{Action: "withdraw", Requester: officer, Holder: holder, Recipients: to, Subject: subject, RecordType: "release_notice", Outcome: "ok",
			Detail: map[string]string{"notice_kind": "withdrawal", "refers_to": "1", "reason": "INCORRECT", "obligation": "erase"}},
			"withdraw by dk-prison-east/kf.release.coordinator: release_notice, holder dk-prison-east, recipient dk-police-aarhus -> OK; withdrawal notice about entry 1 (INCORRECT), to erase"},
		{&audit.Entry{Action: "expire", Holder: holder, Recipients: to, Subject: subject, RecordType: "release_notice", Outcome: "ok", Reasons: []string{"LEGAL_BASIS_EXPIRED"},
			Detail: map[string]string{"notice_kind": "expiry", "refers_to": "1,4", "reason": "LEGAL_BASIS_EXPIRED", "obligation": "erase"}},
			"expire by the gateway: release_notice, holder dk-prison-east, recipient dk-police-aarhus -> OK (LEGAL_BASIS_EXPIRED); expiry notice about entries 1, 4 (LEGAL_BASIS_EXPIRED), to erase"},
		{&audit.Entry{Action: "revise_expiry", Requester: officer, Holder: holder, Recipients: to, Subject: subject, RecordType: "release_notice", Outcome: "ok",
			Detail: map[string]string{"release": "1", "valid_until_before": "2027-01-01", "valid_until": "2027-06-01", "moved": "true"}},
			"-> OK; release 1 valid until 2027-06-01"},
		{&audit.Entry{Action: "case_operator_close", Case: &audit.Case{ID: "NL-ZVH-RTM-0042"}, Purpose: "maw_case_management", Outcome: "ok",
			Detail: map[string]string{"by_operator": "ops.jansen", "lead_standing": "offboarded"}},
			"case_operator_close by operator ops.jansen: case NL-ZVH-RTM-0042 -> OK"},
	} {
		tt.e.Time = at
		got := describeEntry(tt.e)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: got\n\t%s\nwant it to hold\n\t%s", tt.e.Action, got, tt.want)
		}
		for _, blank := range []string{"()", "/:", " for ,", ":  ", "holder -", "recipient  ", "by the gateway"} {
			if strings.Contains(got, blank) && !(blank == "by the gateway" && tt.e.Action == "expire") {
				t.Errorf("%s: a field left blank or wrong (%q): %s", tt.e.Action, blank, got)
			}
		}
		if strings.HasSuffix(got, " ") || strings.HasSuffix(got, ": OK") || strings.HasSuffix(got, ": FAILED") {
			t.Errorf("%s: ends with nothing of what it records: %q", tt.e.Action, got)
		}
	}
}
