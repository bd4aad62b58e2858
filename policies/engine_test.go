package policies

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// loadEmbedded loads the embedded tree once per test binary.
var loadEmbedded = sync1(func(tb testing.TB) *Engine {
	e, err := Load(tb.Context(), Embedded())
	if err != nil {
		tb.Fatalf("Load(Embedded()) error: %v", err)
	}
	return e
})

// sync1 memoises f's first successful result.
func sync1(f func(testing.TB) *Engine) func(testing.TB) *Engine {
	var e *Engine
	return func(tb testing.TB) *Engine {
		tb.Helper()
		if e == nil {
			e = f(tb)
		}
		return e
	}
}

// denyAll is a minimal tree that passes Load: it denies everything, except
// that purpose family_support gets the decision in familySupport (a Rego
// expression), which lets a test make one input misbehave.
func denyAll(familySupport string) fstest.MapFS {
	return fstest.MapFS{"liaison/decision.rego": {Data: []byte(`package liaison

decision := {
	"outcome": "deny",
	"fields": {"keep": [], "generalise": [], "pseudonymise": []},
	"conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "Nothing may be shared."}],
} if input.purpose != "family_support"

decision := ` + familySupport + ` if input.purpose == "family_support"
`)}}
}

func TestLoadEmbedded(t *testing.T) {
	e := loadEmbedded(t)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(e.Revision()) {
		t.Errorf("Revision() = %q, want sha256:<64 hex digits>", e.Revision())
	}
}

func TestEmbeddedHoldsOnlyTheRegoTree(t *testing.T) {
	var got []string
	err := fs.WalkDir(Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"liaison/decision.rego", "liaison/decision_test.rego", "dk/dk.rego", "dk/dk_test.rego", "nl/nl.rego", "nl/nl_test.rego"} {
		if !slices.Contains(got, want) {
			t.Errorf("Embedded() lacks %s; has %v", want, got)
		}
	}
	for _, p := range got {
		if !strings.HasSuffix(p, ".rego") || strings.Contains(p, "testdata") {
			t.Errorf("Embedded() has %s; want only .rego files outside testdata", p)
		}
	}
}

func TestLoadDirectoryMatchesEmbedded(t *testing.T) {
	// os.DirFS("policies") from a checkout must skip testdata/failing, whose
	// package liaison would otherwise clash with the real one.
	e, err := Load(t.Context(), os.DirFS("."))
	if err != nil {
		t.Fatalf("Load(os.DirFS(\".\")) error: %v", err)
	}
	if got, want := e.Revision(), loadEmbedded(t).Revision(); got != want {
		t.Errorf("Revision() of the directory = %s, of Embedded() = %s; want equal", got, want)
	}
}

func TestLoadRejects(t *testing.T) {
	valid := denyAll(`{"outcome": "deny", "fields": {"keep": [], "generalise": [], "pseudonymise": []}, "conditions": [], "reasons": [{"code": "X", "message": "x"}]}`)
	with := func(extra fstest.MapFS) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range valid {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name string
		fsys fs.FS
		want string // in the error
	}{
		{"syntax_error", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\ncode := {\n")}}), "rego_parse_error"},
		{"rego_v0_syntax", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package x\n\nallow { true }\n")}}), "rego_parse_error"},
		{"failing_test", with(fstest.MapFS{"liaison/decision_test.rego": {Data: []byte("package liaison_test\n\ntest_denies if data.liaison.decision.outcome == \"disclose\"\n")}}), "liaison_test.test_denies"},
		{"erroring_test", with(fstest.MapFS{"liaison/decision_test.rego": {Data: []byte("package liaison_test\n\ntest_number if to_number(\"ten\") == 10\n")}}), "error"},
		{"unused_variable", with(fstest.MapFS{"x/x.rego": {Data: []byte("package x\n\ny if {\n\tz := 1\n\ttrue\n}\n")}}), "assigned var z unused"},
		{"undefined_for_a_sample", fstest.MapFS{"liaison/decision.rego": {Data: []byte("package liaison\n\ndecision := {} if false\n")}}, "decision is undefined"},
		{"malformed_for_a_sample", fstest.MapFS{"liaison/decision.rego": {Data: []byte("package liaison\n\ndecision := {\"outcome\": \"allow\"}\n")}}, "malformed decision"},
		{"no_modules", fstest.MapFS{"README.md": {Data: []byte("# empty")}}, "no policy modules"},
		// A policy decides on its input alone: a built-in that reaches
		// the network, reads the clock or the environment, or draws
		// chance is not there, in a policy module or in a test.
		{"http_send", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\nleak(x) := http.send({\"method\": \"post\", \"url\": \"http://127.0.0.1:1/\", \"body\": x})\n")}}), "dk/dk.rego:3: rego_type_error: http.send may not be called by a policy"},
		{"now", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\nlate if time.now_ns() > time.parse_rfc3339_ns(input.time)\n")}}), "time.now_ns may not be called by a policy"},
		{"environment", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\nenv := opa.runtime().env\n")}}), "opa.runtime may not be called by a policy"},
		{"chance_in_a_test", with(fstest.MapFS{"liaison/decision_test.rego": {Data: []byte("package liaison_test\n\ntest_some if rand.intn(\"x\", 2) < 2\n")}}), "rand.intn may not be called by a policy"},
		// A pack's days are those of its time_zone: one that does not
		// load would fail every decision about its dated bases.
		{"unknown_time_zone", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\ncode := \"DK\"\n\ntime_zone := \"Europe/Atlantis\"\n")}}), `pack dk: time_zone "Europe/Atlantis" is not an IANA time zone`},
		{"time_zone_not_a_string", with(fstest.MapFS{"dk/dk.rego": {Data: []byte("package liaison.jurisdictions.dk\n\ncode := \"DK\"\n\ntime_zone := 1\n")}}), "pack dk: time_zone is not a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Load(t.Context(), tt.fsys)
			if err == nil || e != nil {
				t.Fatalf("Load() = %v, %v; want nil and an error", e, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() error = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestRevision(t *testing.T) {
	tree := denyAll(`{}`)
	tree["liaison/decision_test.rego"] = &fstest.MapFile{Data: []byte("package liaison_test\n\ntest_ok if true\n")}
	mods, _, _, err := parseTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	// The revision is what `sha256sum liaison/decision.rego | sha256sum` prints.
	src := tree["liaison/decision.rego"].Data
	line := fmt.Sprintf("%x  liaison/decision.rego\n", sha256.Sum256(src))
	if got, want := revision(mods), fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(line))); got != want {
		t.Errorf("revision() = %s, want %s", got, want)
	}

	tree["liaison/decision_test.rego"] = &fstest.MapFile{Data: []byte("package liaison_test\n\ntest_changed if true\n")}
	mods2, _, _, _ := parseTree(tree)
	if revision(mods2) != revision(mods) {
		t.Error("revision() changed when only a test changed")
	}
	tree["liaison/decision.rego"] = &fstest.MapFile{Data: append(slices.Clone(src), "\n# changed\n"...)}
	mods3, _, _, _ := parseTree(tree)
	if revision(mods3) == revision(mods) {
		t.Error("revision() did not change when a policy module changed")
	}
}

// TestFailingTree checks the tree the gateway uses to test failing closed.
func TestFailingTree(t *testing.T) {
	e, err := Load(t.Context(), os.DirFS("testdata/failing"))
	if err != nil {
		t.Fatalf("Load(testdata/failing) error: %v", err)
	}
	in := sampleDKRelease("risk_management")
	if d, err := e.Decide(t.Context(), in); err != nil || d.Outcome != OutcomeDisclose {
		t.Errorf("Decide(purpose risk_management) = %v, %v; want a disclosure", d.Outcome, err)
	}
	in.Purpose = "statistics"
	if _, err := e.Decide(t.Context(), in); !errors.Is(err, ErrUndefined) {
		t.Errorf("Decide(purpose statistics) error = %v, want ErrUndefined", err)
	}
	if _, _, err := e.Explain(t.Context(), in); !errors.Is(err, ErrUndefined) {
		t.Errorf("Explain(purpose statistics) error = %v, want ErrUndefined", err)
	}
	in.Purpose = "family_support"
	d, err := e.Decide(t.Context(), in)
	if err == nil || errors.Is(err, ErrUndefined) || !strings.Contains(err.Error(), "conflicting") {
		t.Errorf("Decide(purpose family_support) = %+v, %v; want a conflict error", d, err)
	}
}

func TestDecideErrors(t *testing.T) {
	for _, tt := range []struct {
		name          string
		familySupport string
		check         func(error) bool
	}{
		{"builtin_error_is_not_swallowed", `{"outcome": "deny", "x": to_number(input.justification)}`, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "to_number") && !errors.Is(err, ErrMalformed)
		}},
		{"unknown_outcome", `{"outcome": "allow", "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"disclose_without_basis", `{"outcome": "disclose", "pseudonym_domain": "a/b", "fields": {"keep": ["operational"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"pseudonymise_without_domain", `{"outcome": "pseudonymise", "fields": {"keep": ["operational"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"hit_only_with_content", `{"outcome": "hit_only", "pseudonym_domain": "a/b", "fields": {"keep": ["operational"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"unknown_field_class", `{"outcome": "pseudonymise", "pseudonym_domain": "a/b", "fields": {"keep": ["everything"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"unknown_key", `{"outcome": "deny", "allow": true, "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"no_reasons", `{"outcome": "deny", "fields": {"keep": [], "generalise": [], "pseudonymise": []}, "conditions": [], "reasons": []}`, isMalformed},
		// A legal basis id has one spelling, the one the log's query
		// filters by (QueryRequest.legal_basis).
		{"basis_id_upper_case", `{"outcome": "disclose", "legal_basis": {"id": "DK.rpl.115", "citation": "x"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"basis_id_one_part", `{"outcome": "disclose", "legal_basis": {"id": "rpl115", "citation": "x"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"basis_id_spaces", `{"outcome": "disclose", "legal_basis": {"id": "dk.rpl 115", "citation": "x"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"basis_id_too_long", `{"outcome": "disclose", "legal_basis": {"id": "dk.` + strings.Repeat("a", 130) + `", "citation": "x"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"deny_with_legal_basis", `{"outcome": "deny", "legal_basis": {"id": "x", "citation": "x"}, "conditions": [], "reasons": [{"code": "NO", "message": "no"}]}`, isMalformed},
		{"deny_with_pseudonym_domain", `{"outcome": "deny", "pseudonym_domain": "a/b", "conditions": [], "reasons": [{"code": "NO", "message": "no"}]}`, isMalformed},
		{"deny_with_conditions", `{"outcome": "deny", "conditions": ["NO_ONWARD_DISCLOSURE"], "reasons": [{"code": "NO", "message": "no"}]}`, isMalformed},
		{"conditions_unsorted", `{"outcome": "pseudonymise", "pseudonym_domain": "a/b", "fields": {"keep": ["operational"]}, "conditions": ["NO_ONWARD_DISCLOSURE", "CASE_PURPOSE_ONLY"], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"condition_twice", `{"outcome": "pseudonymise", "pseudonym_domain": "a/b", "fields": {"keep": ["operational"]}, "conditions": ["NO_ONWARD_DISCLOSURE", "NO_ONWARD_DISCLOSURE"], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		// The contract's keys are spelt exactly: encoding/json would read
		// "Reasons" or "LEGAL_BASIS" as reasons and legal_basis.
		{"key_in_another_case", `{"outcome": "deny", "conditions": [], "Reasons": [{"code": "NO", "message": "no"}]}`, isMalformed},
		{"nested_key_in_another_case", `{"outcome": "disclose", "legal_basis": {"ID": "x", "citation": "x"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
		{"notice_key_in_another_case", `{"outcome": "deny", "conditions": [], "reasons": [{"code": "NO", "message": "no"}], "Notice": null}`, isMalformed},
		{"bad_valid_until", `{"outcome": "disclose", "legal_basis": {"id": "x", "citation": "x", "valid_until": "soon"}, "pseudonym_domain": "a/b", "fields": {"keep": []}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, isMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Load(t.Context(), denyAll(tt.familySupport))
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			in := sampleDKRelease("family_support")
			in.Justification = "not a number"
			d, err := e.Decide(t.Context(), in)
			if !tt.check(err) {
				t.Errorf("Decide() = %+v, %v; want a different error", d, err)
			}
		})
	}
}

func isMalformed(err error) bool { return errors.Is(err, ErrMalformed) }

// TestDecideChecksApproval: a re-identification that may proceed names
// valid approvers, and nothing else has approvers.
func TestDecideChecksApproval(t *testing.T) {
	const disclose = `{"outcome": "disclose", "legal_basis": {"id": "x.y", "citation": "x"}, "pseudonym_domain": "dk-police-aarhus/family_support",
		"fields": {"keep": ["Person.subject_id"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]`
	for _, tt := range []struct {
		name, action, decision string
		ok                     bool
	}{
		{"reidentify_with_approval", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"}}`, true},
		{"reidentify_without_approval", "reidentify", disclose + `}`, false},
		{"disclose_without_approval", "disclose", disclose + `}`, true},
		{"disclose_with_approval", "disclose", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"}}`, false},
		{"notify_with_approval", "notify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"}}`, false},
		{"zero_quorum", "reidentify", disclose + `, "approval": {"quorum": 0, "roles": ["legal_officer"], "expires_after": "72h"}}`, false},
		{"no_roles", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": [], "expires_after": "72h"}}`, false},
		{"empty_agency", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "agencies": [""], "expires_after": "72h"}}`, false},
		// "agencies" present limits the approvers to those agencies; an
		// empty list is no such limit's absence (the gateway let any
		// agency approve), so it is malformed.
		{"no_agencies", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "agencies": [], "expires_after": "72h"}}`, false},
		{"agencies_null", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "agencies": null, "expires_after": "72h"}}`, true},
		// The gateway records the lists joined by ','; a name with ',' in
		// it was read back as two (approvers the decision never named).
		{"role_with_comma", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer,case_officer"], "expires_after": "72h"}}`, false},
		{"agency_with_comma", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "agencies": ["dk-police-aarhus,dk-prison-east"], "expires_after": "72h"}}`, false},
		{"role_with_space", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer, case_officer"], "expires_after": "72h"}}`, false},
		{"role_with_control", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer\u0000"], "expires_after": "72h"}}`, false},
		// A Hangul filler or a variation selector, which unicode.IsPrint
		// counts printable, and a decomposed letter make a role that
		// looks like the one meant and that no token carries.
		{"role_with_hangul_filler", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["legal_officer\u3164"], "expires_after": "72h"}}`, false},
		{"agency_with_variation_selector", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "agencies": ["dk-police-aarhus\ufe0f"], "expires_after": "72h"}}`, false},
		{"role_nfd", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["juriste_re\u0301fe\u0301rent"], "expires_after": "72h"}}`, false},
		{"role_nfc", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["juriste_r\u00e9f\u00e9rent"], "expires_after": "72h"}}`, true},
		{"bad_duration", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "expires_after": "3 days"}}`, false},
		{"negative_duration", "reidentify", disclose + `, "approval": {"quorum": 2, "roles": ["r"], "expires_after": "-1h"}}`, false},
		{"approval_on_a_denial", "reidentify", `{"outcome": "deny", "fields": {"keep": [], "generalise": [], "pseudonymise": []}, "conditions": [],
			"reasons": [{"code": "NO", "message": "no"}], "approval": {"quorum": 2, "roles": ["r"], "expires_after": "1h"}}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Load(t.Context(), denyAll(tt.decision))
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			in := sampleDKRelease("family_support")
			in.Action = tt.action
			d, err := e.Decide(t.Context(), in)
			if tt.ok && err != nil || !tt.ok && !isMalformed(err) {
				t.Errorf("Decide() = %+v, %v; want ok=%v", d, err, tt.ok)
			}
		})
	}
}

// TestDecideBasisIsPrintable: a decision's legal basis enters the log,
// the recipient's notices and onward rules as it is, and a peer gateway
// refuses one whose id or citation is not printable. A citation with a
// Hangul filler or a variation selector (which unicode.IsPrint counts
// printable) was well-formed; it is malformed now. The plain one is not.
func TestDecideBasisIsPrintable(t *testing.T) {
	const tmpl = `{"outcome": "disclose", "legal_basis": {"id": "x.y", "citation": "%s"}, "pseudonym_domain": "dk-police-aarhus/family_support",
		"fields": {"keep": ["Person.subject_id"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`
	for _, tt := range []struct {
		citation string
		ok       bool
	}{
		{"Retsplejeloven § 115, stk. 1, nr. 3", true},
		{"Retsplejeloven § 115, stk. 1, nr. 3\\u3164", false},
		{"Retsplejeloven\\u115f § 115", false},
		{"Retsplejeloven § 115\\ufe0f", false},
		{"Retsplejeloven\\u00a0§ 115", false},
	} {
		e, err := Load(t.Context(), denyAll(fmt.Sprintf(tmpl, tt.citation)))
		if err != nil {
			t.Fatalf("Load() error: %v", err)
		}
		d, err := e.Decide(t.Context(), sampleDKRelease("family_support"))
		if tt.ok && err != nil || !tt.ok && !isMalformed(err) {
			t.Errorf("citation %s: Decide() = %+v, %v; want ok=%v", tt.citation, d, err, tt.ok)
		}
	}
}

func TestExplain(t *testing.T) {
	e := loadEmbedded(t)
	d, lines, err := e.Explain(t.Context(), sampleDKRelease("risk_management"))
	if err != nil {
		t.Fatalf("Explain() error: %v", err)
	}
	want, err := e.Decide(t.Context(), sampleDKRelease("risk_management"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != want.Outcome || d.LegalBasis.ID != want.LegalBasis.ID {
		t.Errorf("Explain() decision = %s %s, Decide() = %s %s; want equal", d.Outcome, d.LegalBasis.ID, want.Outcome, want.LegalBasis.ID)
	}
	for _, l := range []string{
		"outcome disclose, decided at stage legal_basis",
		"basis dk.rpl.115.stk1.nr3: applies and was chosen",
	} {
		if !slices.Contains(lines, l) {
			t.Errorf("Explain() lines lack %q:\n%s", l, strings.Join(lines, "\n"))
		}
	}

	// A tree without data.liaison.explain still explains with its reasons.
	e2, err := Load(t.Context(), denyAll(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, lines, err = e2.Explain(t.Context(), sampleDKRelease("risk_management"))
	if err != nil || len(lines) != 2 || lines[1] != "reason NO_LEGAL_BASIS: Nothing may be shared." {
		t.Errorf("Explain() on a tree without explain = %q, %v", lines, err)
	}
}

// TestDecideTranslateNeedsABasis: only a basis allows a translate (never a
// fallback), so its pseudonymise decision names the basis; one without is
// malformed, and the gateway refuses the call POLICY_ERROR.
func TestDecideTranslateNeedsABasis(t *testing.T) {
	const tmpl = `{"outcome": "pseudonymise", %s"pseudonym_domain": "case/NL-ZVH-RTM-0042",
		"fields": {"pseudonymise": ["Person.subject_id"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`
	in := sampleNLRequest(nlPolice, "family_support", &Case{ID: "NL-ZVH-RTM-0042", Members: []string{"nl-police-rotterdam"}, Lead: "nl-police-rotterdam"})
	in.Action, in.RecordType = "translate", ""
	in.Holder = in.Recipient
	for _, tt := range []struct {
		name, basis string
		ok          bool
	}{
		{"with a basis", `"legal_basis": {"id": "nl.zvh.casusoverleg.translate", "citation": "Safety House covenant"}, `, true},
		{"without a basis", ``, false},
	} {
		e, err := Load(t.Context(), denyAll(fmt.Sprintf(tmpl, tt.basis)))
		if err != nil {
			t.Fatalf("Load() error: %v", err)
		}
		d, err := e.Decide(t.Context(), in)
		if tt.ok && err != nil || !tt.ok && !isMalformed(err) {
			t.Errorf("%s: Decide() = %+v, %v; want ok=%v", tt.name, d, err, tt.ok)
		}
	}
}

// TestDecideMatchIsHitOrDeny: a match is answered hit_only or deny (the
// README: "a pack can only answer hit_only or deny"); content, in full or
// pseudonymised, is malformed, so the gateway denies it POLICY_ERROR
// rather than failing the holder's answer as if it were unavailable.
func TestDecideMatchIsHitOrDeny(t *testing.T) {
	in := sampleDKRelease("family_support")
	in.Action, in.Requester = "match", Requester{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK",
		Officer: Officer{ID: "o", Roles: []string{}, Clearance: "secret"}}
	for _, tt := range []struct {
		name, decision string
		ok             bool
	}{
		{"hit_only", `{"outcome": "hit_only", "pseudonym_domain": "dk-police-aarhus/family_support", "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, true},
		{"pseudonymise", `{"outcome": "pseudonymise", "pseudonym_domain": "dk-police-aarhus/family_support", "fields": {"keep": ["operational"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, false},
		{"disclose", `{"outcome": "disclose", "legal_basis": {"id": "x", "citation": "x"}, "pseudonym_domain": "dk-police-aarhus/family_support", "fields": {"keep": ["operational"]}, "conditions": [], "reasons": [{"code": "OK", "message": "ok"}]}`, false},
	} {
		e, err := Load(t.Context(), denyAll(tt.decision))
		if err != nil {
			t.Fatalf("Load() error: %v", err)
		}
		d, err := e.Decide(t.Context(), in)
		if tt.ok && err != nil || !tt.ok && !isMalformed(err) {
			t.Errorf("%s: Decide() = %+v, %v; want ok=%v", tt.name, d, err, tt.ok)
		}
	}
}

// An explanation is of the decision the gateway enforces: a tree whose
// data.liaison.explain gives a decision other than data.liaison.decision
// (its own copy of the rules, an old one left behind) has Explanation,
// and so Policy.Simulate, `liaison policy simulate` and the readiness
// reports, fail rather than show a decision the gateway does not make.
// Where data.liaison.decision is undefined, which the gateway denies
// (POLICY_UNDEFINED), Explanation is ErrUndefined too. Explanation
// returned the explanation's own decision: "disclose" for an exchange the
// gateway refused, and a denial for one it let through.
func TestExplanationIsTheDecision(t *testing.T) {
	for _, tt := range []struct {
		name, decision string
		want           error
	}{
		{"undefined", `} else := _result.decision if {
	_in.justification != "Nothing to decide."
}`, ErrUndefined},
		{"another", `} else := _deny([_reason("NOTHING", "Nothing to decide.")]) if {
	_in.justification == "Nothing to decide."
} else := _result.decision`, ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := fs.ReadFile(Embedded(), "liaison/decision.rego")
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			for old, new := range map[string]string{
				"} else := _result.decision\n": tt.decision + "\n",
				"\t\"decision\": decision,\n":  "\t\"decision\": _result.decision,\n",
			} {
				if !strings.Contains(src, old) {
					t.Fatalf("liaison/decision.rego changed: %q not found", old)
				}
				src = strings.Replace(src, old, new, 1)
			}
			tree := fstest.MapFS{}
			err = walkTree(Embedded(), func(p string, b []byte) error {
				if !strings.HasSuffix(p, "_test.rego") {
					tree[p] = &fstest.MapFile{Data: b}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tree["liaison/decision.rego"] = &fstest.MapFile{Data: []byte(src)}
			e, err := Load(t.Context(), tree)
			if err != nil {
				t.Fatal(err)
			}
			in := sampleDKRelease("risk_management")
			in.Justification = "Nothing to decide."
			d, derr := e.Decide(t.Context(), in)
			if tt.want == ErrUndefined && !errors.Is(derr, ErrUndefined) || tt.want == ErrMalformed && (derr != nil || d.Outcome != OutcomeDeny) {
				t.Fatalf("Decide = %v, %v; the tree does not decide as the test means", d.Outcome, derr)
			}
			x, err := e.Explanation(t.Context(), in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Explanation = %v (%q), %v; want %v, as the gateway's decision is %v, %v", x.Decision.Outcome, x.Stage, err, tt.want, d.Outcome, derr)
			}
			// Where the two agree, the explanation stands.
			if x, err := e.Explanation(t.Context(), sampleDKRelease("risk_management")); err != nil || x.Decision.Outcome != OutcomeDisclose {
				t.Errorf("Explanation of the sample = %v, %v; want disclose", x.Decision.Outcome, err)
			}
		})
	}
}
