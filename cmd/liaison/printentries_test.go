package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestQueryTableNamesWhoActedAndTheCase: audit query's table printed a
// refused authentication, which names the agency its certificate claimed
// and no officer, as "nl-police-rotterdam/" (an empty officer after the
// slash); an operator's command on the store (case_operator_close, the
// operator named in detail by_operator) as done by "-", nobody; and every
// entry about a case and no record (case_open, case_invite, an operator's
// close) with "-" as its record, though the entry names its case, which
// the console shows there; and the entries of no record nor case with
// nothing of what they are about: an audit read with nothing of what was
// read (the line the demo's trail printed as "audit_read by Y -> ok"), an
// inbox read, a key rotation or retirement, a policy activation.
func TestQueryTableNamesWhoActedAndTheCase(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var entries []*liaisonv1.AuditEntry
	for i, e := range []*audit.Entry{
		{Time: at, Action: "authenticate", Requester: &audit.Requester{Agency: "nl-police-rotterdam"}, Outcome: "refused",
			Reasons: []string{"TOKEN_EXPIRED"}, Detail: map[string]string{"method": "/liaison.v1.Exchange/Request", "peer": "127.0.0.1:5555"}},
		{Time: at, Action: "case_operator_close", RequestID: "R1", Purpose: "maw_case_management", Outcome: "ok",
			Case:   &audit.Case{ID: "NL-ZVH-RTM-0107", Members: []string{"nl-probation"}, Lead: "nl-municipality-rotterdam"},
			Detail: map[string]string{"by_operator": "ops.jansen", "lead_standing": "offboarded"}},
		{Time: at, Action: "case_open", RequestID: "R2", Requester: &audit.Requester{Agency: "nl-municipality-rotterdam", Officer: "ambt.smit"},
			Holder: &audit.Party{Agency: "nl-municipality-rotterdam"}, Recipients: []audit.Party{{Agency: "nl-municipality-rotterdam"}},
			Case: &audit.Case{ID: "NL-ZVH-RTM-0108", Lead: "nl-municipality-rotterdam"}, Purpose: "maw_case_management", Outcome: "ok",
			LegalBasis: &audit.LegalBasis{ID: "nl.zvh"}},
		{Time: at, Action: "policy_activate", Outcome: "ok", PolicyRevision: "sha256:b74149adf8af3587affa7e876b695089d18e1994c6a330a8f30f744682de9102",
			Detail: map[string]string{"by": "start", "source": "embedded"}},
		{Time: at, Action: "audit_read", Requester: &audit.Requester{Agency: "dk-prison-east", Officer: "dpo.kristensen"}, Outcome: "ok",
			Detail: map[string]string{"operation": "list_notices", "late_only": "true"}},
		{Time: at, Action: "notice_acknowledge", Requester: &audit.Requester{Agency: "nl-probation", Officer: "rc.jansen"}, Outcome: "ok",
			Detail: map[string]string{"cursor": "24"}},
		{Time: at, Action: "key_rotate", Outcome: "ok", Detail: map[string]string{"old_version": "1", "new_version": "2"}},
		{Time: at, Action: "key_retire", Outcome: "ok", Detail: map[string]string{"retired_versions": "1", "current_version": "2"}},
		// The key state found at a start on a log that recorded none.
		{Time: at, Action: "key_rotate", Outcome: "ok", Detail: map[string]string{"new_version": "1", "versions": "1", "seen": "start"}},
	} {
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, &liaisonv1.AuditEntry{Index: int64(7 + i), Json: string(b)})
	}
	var out bytes.Buffer
	if err := printEntries(&out, entries, false, time.UTC); err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for l := range strings.Lines(out.String()) {
		f := strings.Split(strings.TrimSpace(l), "  ")
		var cols []string
		for _, c := range f {
			if c = strings.TrimSpace(c); c != "" {
				cols = append(cols, c)
			}
		}
		rows[cols[0]] = cols
	}
	// INDEX, TIME, ACTION, REQUESTER/OFFICER, HOLDER, RECIPIENTS, RECORD/ABOUT, ...
	for idx, want := range map[string][2]string{
		"7":  {"nl-police-rotterdam", "/liaison.v1.Exchange/Request"},
		"8":  {"operator ops.jansen", "case NL-ZVH-RTM-0107"},
		"9":  {"nl-municipality-rotterdam/ambt.smit", "case NL-ZVH-RTM-0108"},
		"10": {"-", "policy sha256:b74149adf8af"},
		"11": {"dk-prison-east/dpo.kristensen", "read: list_notices"},
		"12": {"nl-probation/rc.jansen", "inbox up to item 24"},
		"13": {"-", "key version 1 to 2"},
		"14": {"-", "key versions 1 retired"},
		"15": {"-", "key version 1 current, found at start"},
	} {
		r := rows[idx]
		if len(r) < 7 {
			t.Fatalf("entry %s: row %q has too few columns:\n%s", idx, r, out.String())
		}
		if r[3] != want[0] || r[6] != want[1] {
			t.Errorf("entry %s: requester/officer %q, record %q; want %q, %q:\n%s", idx, r[3], r[6], want[0], want[1], out.String())
		}
	}
}
