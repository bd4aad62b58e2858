package audit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

func TestIndexOf(t *testing.T) {
	e := &audit.Entry{Time: t0, Action: "notify", Outcome: "disclose", RecordType: "release_notice",
		Requester:  &audit.Requester{Agency: "probation-nl", Officer: "officer-3"},
		Holder:     &audit.Party{Agency: "probation-nl"},
		Recipients: []audit.Party{{Agency: "police-nl"}, {Agency: ""}, {Agency: "municipality-x"}, {Agency: "police-nl"}},
		Subject:    &audit.Subject{Pseudonym: "ps-a"}, ClaimedLegalBasis: "claimed", LegalBasis: &audit.LegalBasis{ID: "decided"}}
	x := audit.IndexOf(e)
	want := audit.Index{Time: t0.UnixNano(), Action: "notify", Agencies: []string{"municipality-x", "police-nl", "probation-nl"},
		Officer: "officer-3", Subject: "ps-a", LegalBasis: "decided", Outcome: "disclose", RecordType: "release_notice"}
	if x.Diff(want) != "" || !slices.Equal(x.Agencies, want.Agencies) {
		t.Errorf("IndexOf() = %+v, want %+v", x, want)
	}
	e.LegalBasis = &audit.LegalBasis{} // decided, without an id: not the claimed one
	if got := audit.IndexOf(e).LegalBasis; got != "" {
		t.Errorf("IndexOf().LegalBasis with a decided basis without id = %q, want empty", got)
	}
	e.LegalBasis = nil
	if got := audit.IndexOf(e).LegalBasis; got != "claimed" {
		t.Errorf("IndexOf().LegalBasis without a decided basis = %q, want the claimed one", got)
	}
	if c := x.Diff(audit.Index{Time: x.Time, Action: x.Action, Agencies: []string{"police-nl", "probation-nl"}}); c != audit.ColumnAgencies {
		t.Errorf("Diff() = %q, want the first column that differs, agencies", c)
	}
}

func TestFilterNormalize(t *testing.T) {
	f := audit.Filter{Officer: "a\xff\xfeb", Agency: "ok"}.Normalize()
	if f.Officer != "a\uFFFD\uFFFDb" || f.Agency != "ok" {
		t.Errorf("Normalize() = %#v, want each invalid byte as U+FFFD", f)
	}
}

func TestFilterRecheck(t *testing.T) {
	nul := func(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFE") }
	e := &audit.Entry{Time: t0, Action: "disclose", Outcome: "disclose",
		Requester: &audit.Requester{Agency: "police-nl", Officer: "a\uFFFEb"}, Recipients: []audit.Party{{Agency: "x\x00y"}}}
	for _, tc := range []struct {
		name   string
		f      audit.Filter
		match  bool
		column string // of the IndexError, if one
	}{
		{"match", audit.Filter{Officer: "a\uFFFEb", Agency: "police-nl", From: t0, To: t0.Add(time.Second)}, true, ""},
		{"same_key_other_string", audit.Filter{Officer: "a\x00b"}, false, ""},
		{"agency_same_key", audit.Filter{Agency: "x\uFFFEy"}, false, ""},
		{"officer_tampered", audit.Filter{Officer: "someone-else"}, false, audit.ColumnOfficer},
		{"agency_tampered", audit.Filter{Agency: "nobody"}, false, audit.ColumnAgencies},
		{"outcome_tampered", audit.Filter{Outcome: "deny"}, false, audit.ColumnOutcome},
		{"before_from", audit.Filter{From: t0.Add(time.Nanosecond)}, false, audit.ColumnTime},
		{"at_to", audit.Filter{To: t0}, false, audit.ColumnTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match, err := tc.f.Recheck(7, e, nul)
			if tc.column == "" {
				if err != nil || match != tc.match {
					t.Errorf("Recheck() = %v, %v; want %v, nil", match, err, tc.match)
				}
				return
			}
			ie, ok := errors.AsType[*audit.IndexError](err)
			if !ok || ie.Index != 7 || ie.Column != tc.column || !errors.Is(err, audit.ErrTampered) || match {
				t.Errorf("Recheck() = %v, %v; want an IndexError for entry 7, column %s", match, err, tc.column)
			}
		})
	}
}
