package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/policies"
)

// auditEntry is what the gateway records for a decision on in: the policy
// input without identity, and the decision.
func auditEntry(in policies.Input, d policies.Decision, revision string, at time.Time) *audit.Entry {
	e := &audit.Entry{
		Time:   at,
		Action: in.Action,
		Requester: &audit.Requester{Agency: in.Requester.Agency, Kind: in.Requester.Kind, Jurisdiction: in.Requester.Jurisdiction,
			Officer: in.Requester.Officer.ID, Roles: in.Requester.Officer.Roles, Clearance: in.Requester.Officer.Clearance},
		Holder:     &audit.Party{Agency: in.Holder.Agency, Kind: in.Holder.Kind, Jurisdiction: in.Holder.Jurisdiction},
		Recipients: []audit.Party{{Agency: in.Recipient.Agency, Kind: in.Recipient.Kind, Jurisdiction: in.Recipient.Jurisdiction}},
		Subject: &audit.Subject{Pseudonym: "audit-pseudonym", Category: in.Subject.Category, InCustody: in.Subject.InCustody,
			ReleaseDate: in.Subject.ReleaseDate, ProbationUntil: in.Subject.ProbationUntil, Municipality: in.Subject.Municipality},
		RecordType: in.RecordType, Purpose: in.Purpose, ClaimedLegalBasis: in.ClaimedLegalBasis, Justification: in.Justification,
		Outcome: d.Outcome, Conditions: d.Conditions, PseudonymDomain: d.PseudonymDomain, PolicyRevision: revision,
	}
	if in.Case != nil {
		e.Case = &audit.Case{ID: in.Case.ID, Members: in.Case.Members, Lead: in.Case.Lead}
	}
	for _, r := range d.Reasons {
		e.Reasons = append(e.Reasons, r.Code)
	}
	if d.LegalBasis != nil {
		e.LegalBasis = &audit.LegalBasis{ID: d.LegalBasis.ID, Citation: d.LegalBasis.Citation, ValidUntil: d.LegalBasis.ValidUntil}
	}
	if f := d.Fields; len(f.Keep)+len(f.Generalise)+len(f.Pseudonymise) > 0 {
		e.FieldPlan = &audit.FieldPlan{Keep: f.Keep, Generalise: f.Generalise, Pseudonymise: f.Pseudonymise, Precision: f.Precision}
	}
	return e
}

// writeAuditLog decides each input under the embedded policy and records
// it in a new SQLite audit log, with some entries replay must skip.
func writeAuditLog(t *testing.T, path string, now time.Time, inputs []policies.Input) {
	t.Helper()
	ctx := t.Context()
	eng, err := policies.LoadSource(ctx, policies.EmbeddedSource())
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	skey, _, err := audit.GenerateSignerKey("test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close(ctx)
	add := func(e *audit.Entry) {
		t.Helper()
		if _, err := log.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the replay window: never read.
	old := inputs[1]
	old.Time = now.Add(-90 * 24 * time.Hour).Format(time.RFC3339)
	d, err := eng.Decide(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	add(auditEntry(old, d, eng.Revision(), now.Add(-90*24*time.Hour)))
	for i, in := range inputs {
		at := now.Add(time.Duration(i-len(inputs)) * time.Minute)
		in.Time = at.UTC().Format(time.RFC3339)
		d, err := eng.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		add(auditEntry(in, d, eng.Revision(), at))
	}
	// No policy decision: an auditor's query, and a failed exchange.
	add(&audit.Entry{Time: now, Action: "audit_query", Outcome: "ok", Requester: &audit.Requester{Agency: "dpo"}})
	failed := auditEntry(inputs[0], policies.Decision{Outcome: audit.OutcomeFailed}, eng.Revision(), now)
	add(failed)
}

// replayInputs are realistic exchanges dated around now: two Dutch police
// requests outside a case (the deliberate change flips them), and others
// it leaves alone.
func replayInputs(now time.Time) []policies.Input {
	day := func(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }
	party := func(a, k, j string) policies.Party { return policies.Party{Agency: a, Kind: k, Jurisdiction: j} }
	req := func(p policies.Party, clearance string) policies.Requester {
		return policies.Requester{Agency: p.Agency, Kind: p.Kind, Jurisdiction: p.Jurisdiction,
			Officer: policies.Officer{ID: p.Agency + "-officer", Roles: []string{"case_officer"}, Clearance: clearance}}
	}
	nlPolice, nlProbation := party("nl-police-rotterdam", "police", "NL"), party("nl-probation", "probation", "NL")
	dkPrison, dkPolice := party("dk-prison-east", "prison", "DK"), party("dk-police-aarhus", "police", "DK")
	onProbation := policies.Subject{Category: "convicted", ReleaseDate: day(-60), ProbationUntil: day(700), Municipality: "Rotterdam"}
	nlRequest := func(recordType, purpose string, c *policies.Case) policies.Input {
		return policies.Input{Action: "request", Requester: req(nlPolice, "confidential"), Holder: nlProbation, Recipient: nlPolice,
			Subject: onProbation, RecordType: recordType, Purpose: purpose, Case: c, Justification: "Risk review."}
	}
	return []policies.Input{
		{Action: "disclose", Requester: req(dkPrison, "confidential"), Holder: dkPrison, Recipient: dkPolice,
			Subject:    policies.Subject{Category: "convicted", InCustody: true, ReleaseDate: day(20), Municipality: "Aarhus"},
			RecordType: "release_notice", Purpose: "risk_management", Justification: "Release scheduled."},
		nlRequest("risk_assessment", "risk_management", nil),
		nlRequest("risk_assessment", "maw_case_management", &policies.Case{ID: "NL-ZVH-RTM-0042",
			Members: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"}, Lead: "nl-municipality-rotterdam"}),
		nlRequest("probation_measures", "risk_management", nil),
	}
}

func TestPolicyReplay(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	now := time.Now().UTC().Truncate(time.Second)
	writeAuditLog(t, db, now, replayInputs(now))
	candidate := filepath.Join(dir, "candidate")
	copyPolicyTree(t, candidate, withoutNLPoliceFallback(t))
	active := filepath.Join(dir, "active")
	copyPolicyTree(t, active, nil)

	for _, extra := range [][]string{nil, {"-active", active}} {
		args := append([]string{"replay", "-candidate", candidate, "-since", "720h", "-audit-db", db}, extra...)
		out, progress, err := policyCmd(t, args...)
		if err != nil {
			t.Fatalf("policy %v: %v\n%s", args, err, out)
		}
		for _, want := range []string{
			"4 decisions replayed: 2 flip, 0 change fields or legal basis only, 2 unchanged",
			"nl-police-rotterdam, (no legal basis): flips pseudonymise→deny ×2; newly disclosed: none; withdrawn: ",
			"RiskAssessment.level",
			"request risk assessment for risk management: nl-probation (NL) → nl-police-rotterdam (NL): pseudonymise → deny [NO_LEGAL_BASIS]",
			"request probation measures for risk management",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("policy %v output lacks %q:\n%s", extra, want, out)
			}
		}
		if extra == nil && !strings.Contains(out, "skipped: 1 with outcome failed, 1 without a policy decision") {
			t.Errorf("replay does not count the skipped entries:\n%s", out)
		}
		if !strings.Contains(progress, "audit entries read") {
			t.Errorf("replay shows no progress: %q", progress)
		}
	}

	// JSON, and a candidate that changes nothing.
	out, _, err := policyCmd(t, "replay", "-candidate", active, "-since", "720h", "-audit-db", db, "-format", "json")
	var rep policies.ReplayReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Replayed != 4 || len(rep.Changes) != 0 || rep.Unchanged != 4 {
		t.Errorf("replay of the active policy = %v, %+v", err, rep)
	}
	// A candidate that does not load is refused before anything is read.
	broken := filepath.Join(dir, "broken")
	copyPolicyTree(t, broken, map[string]string{"nl/nl.rego": withoutNLPoliceFallback(t)["nl/nl.rego"]})
	if _, _, err := policyCmd(t, "replay", "-candidate", broken, "-audit-db", db); err == nil || !strings.Contains(err.Error(), "the candidate does not load") {
		t.Errorf("replay of a candidate whose tests fail = %v", err)
	}
}

// TestPolicyReplayConditions: the Dutch fallback no longer attaches
// NO_REIDENTIFICATION_WITHOUT_CASE. Outcomes, bases and fields stay, but
// the recipients of the two police requests outside a case would no
// longer be bound by it: replay reads the conditions the log recorded and
// reports the two changes (it called every decision unchanged).
func TestPolicyReplayConditions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	now := time.Now().UTC().Truncate(time.Second)
	writeAuditLog(t, db, now, replayInputs(now))
	b, err := fs.ReadFile(policies.Embedded(), "nl/nl.rego")
	if err != nil {
		t.Fatal(err)
	}
	old := `"conditions": ["NO_ONWARD_DISCLOSURE", "NO_REIDENTIFICATION_WITHOUT_CASE"],`
	if !strings.Contains(string(b), old) {
		t.Fatalf("nl/nl.rego changed: %q not found", old)
	}
	candidate := filepath.Join(dir, "candidate")
	copyPolicyTree(t, candidate, map[string]string{"nl/nl.rego": strings.Replace(string(b), old, `"conditions": ["NO_ONWARD_DISCLOSURE"],`, 1)})
	out, _, err := policyCmd(t, "replay", "-candidate", candidate, "-since", "720h", "-audit-db", db)
	if err != nil {
		t.Fatalf("policy replay: %v\n%s", err, out)
	}
	for _, want := range []string{
		"4 decisions replayed: 0 flip, 0 change fields or legal basis only, 2 change conditions only, 2 unchanged",
		"nl-police-rotterdam, (no legal basis): 2 field changes; newly disclosed: none; withdrawn: none; conditions added: none; conditions dropped: NO_REIDENTIFICATION_WITHOUT_CASE",
		"pseudonymise → pseudonymise [PSEUDONYMISED_OUTSIDE_CASE",
		"      conditions dropped: NO_REIDENTIFICATION_WITHOUT_CASE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}
}

// TestPolicyReplayShowsThePlanCheck: the candidate's Dutch fallback keeps
// Person.full_name in clear in a pseudonymised record. The engine accepts
// the decision (it does not know the schema), but the gateway checks the
// plan against the record type and denies it POLICY_ERROR. Replay showed
// the two police requests outside a case as still pseudonymised, with the
// name newly disclosed: a release the gateway would never make. It now
// shows the gateway's denial, with -active too. And it says what the check
// found, naming the field, per change and counted per group (text and
// JSON): it said POLICY_ERROR only, and the legal officer had to put each
// input through policy simulate to learn which field to fix.
func TestPolicyReplayShowsThePlanCheck(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	now := time.Now().UTC().Truncate(time.Second)
	writeAuditLog(t, db, now, replayInputs(now))
	candidate := filepath.Join(dir, "candidate")
	edits := map[string]string{}
	for _, p := range []string{"nl/nl.rego", "nl/nl_test.rego"} {
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			t.Fatal(err)
		}
		old := `"keep": ["operational", "RiskAssessment.level"],`
		if strings.Count(string(b), old) != 1 {
			t.Fatalf("%s changed: %q not found once", p, old)
		}
		edits[p] = strings.Replace(string(b), old, `"keep": ["operational", "RiskAssessment.level", "Person.full_name"],`, 1)
	}
	copyPolicyTree(t, candidate, edits)
	active := filepath.Join(dir, "active")
	copyPolicyTree(t, active, nil)

	for _, extra := range [][]string{nil, {"-active", active}} {
		args := append([]string{"replay", "-candidate", candidate, "-since", "720h", "-audit-db", db}, extra...)
		out, _, err := policyCmd(t, args...)
		if err != nil {
			t.Fatalf("policy %v: %v\n%s", args, err, out)
		}
		for _, want := range []string{
			"4 decisions replayed: 2 flip, 0 change fields or legal basis only, 2 unchanged",
			"nl-police-rotterdam, (no legal basis): flips pseudonymise→deny ×2; newly disclosed: none; withdrawn: ",
			"request risk assessment for risk management: nl-probation (NL) → nl-police-rotterdam (NL): pseudonymise → deny [POLICY_ERROR]",
			"request probation measures for risk management: nl-probation (NL) → nl-police-rotterdam (NL): pseudonymise → deny [POLICY_ERROR]\n" +
				"      plan check: " + planCheckFullName + "\n",
			"flips pseudonymise→deny ×2; newly disclosed: none; withdrawn: ",
			"\n      plan check ×2: " + planCheckFullName + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("policy %v output lacks %q:\n%s", extra, want, out)
			}
		}
		if n := strings.Count(out, "pseudonymise → deny [POLICY_ERROR]\n      plan check: "+planCheckFullName+"\n"); n != 2 {
			t.Errorf("policy %v shows the plan check under %d changes, want 2:\n%s", extra, n, out)
		}
		// The field is named as what the check found, never as released;
		// and no identifier is shown (the log holds an audit pseudonym).
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "Person.full_name") && !strings.HasPrefix(strings.TrimSpace(line), "plan check") {
				t.Errorf("policy %v shows Person.full_name other than as the plan check's finding: %q", extra, line)
			}
		}
		if strings.Contains(out, "audit-pseudonym") {
			t.Errorf("policy %v shows the subject's audit pseudonym:\n%s", extra, out)
		}

		// The same in JSON: each change and, counted, its group.
		js, _, err := policyCmd(t, append(args, "-format", "json")...)
		var rep struct {
			Changes []struct {
				Index          int64    `json:"index"`
				NewlyDisclosed []string `json:"newly_disclosed"`
				PlanCheck      string   `json:"plan_check"`
			} `json:"changes"`
			Groups []struct {
				PlanChecks map[string]int `json:"plan_checks"`
			} `json:"groups"`
		}
		if err != nil || json.Unmarshal([]byte(js), &rep) != nil {
			t.Fatalf("policy %v -format json: %v\n%s", args, err, js)
		}
		if len(rep.Changes) != 2 || len(rep.Groups) != 1 {
			t.Fatalf("policy %v -format json: %d changes in %d groups, want 2 in 1:\n%s", extra, len(rep.Changes), len(rep.Groups), js)
		}
		for _, c := range rep.Changes {
			if c.PlanCheck != planCheckFullName || slices.Contains(c.NewlyDisclosed, "Person.full_name") {
				t.Errorf("policy %v -format json: change #%d plan_check %q newly disclosed %q, want %q and not the name", extra, c.Index, c.PlanCheck, c.NewlyDisclosed, planCheckFullName)
			}
		}
		if g := rep.Groups[0]; !maps.Equal(g.PlanChecks, map[string]int{planCheckFullName: 2}) {
			t.Errorf("policy %v -format json: the group's plan_checks = %v, want %q: 2", extra, g.PlanChecks, planCheckFullName)
		}
		if !strings.Contains(js, `"plan_check": "`+planCheckFullName+`"`) || !strings.Contains(js, `"plan_checks": {`) {
			t.Errorf("policy %v -format json lacks plan_check and plan_checks:\n%s", extra, js)
		}
	}
	// The candidate as the active policy, against itself: the gateway
	// would deny both requests each time, so nothing changes.
	out, _, err := policyCmd(t, "replay", "-candidate", candidate, "-active", candidate, "-since", "720h", "-audit-db", db, "-format", "json")
	var rep policies.ReplayReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Replayed != 4 || len(rep.Changes) != 0 {
		t.Errorf("replay of the candidate against itself = %v, %s", err, out)
	}
}

// planCheckFullName is what the gateway's plan check finds in a
// pseudonymised risk assessment or probation measures that keeps the
// person's name: the field, never a value.
const planCheckFullName = "outcome pseudonymise passes the direct identifier Person.full_name in clear"
