package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

var updateReadiness = flag.Bool("update-readiness", false, "rewrite docs/readiness/*.md from the embedded policy")

// readinessJurisdictions are the jurisdictions whose readiness reports are
// committed under docs/readiness.
var readinessJurisdictions = []string{"BE", "DE-BY", "DE-NI", "DK", "FR", "NL"}

// TestReadinessDocs checks that docs/readiness/<code>.md is exactly what
// `liaison policy readiness -jurisdiction <code> -format markdown` prints
// for the embedded policy, so that the committed answers cannot drift from
// the law as encoded. Regenerate with go test ./cmd/liaison -run
// TestReadinessDocs -update-readiness.
func TestReadinessDocs(t *testing.T) {
	for _, code := range readinessJurisdictions {
		t.Run(code, func(t *testing.T) {
			out, _, err := policyCmd(t, "readiness", "-jurisdiction", code, "-format", "markdown")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "docs", "readiness", code+".md")
			if *updateReadiness {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (generate it with go test ./cmd/liaison -run TestReadinessDocs -update-readiness)", err)
			}
			if string(b) != out {
				t.Errorf("%s differs from what liaison policy readiness -jurisdiction %s -format markdown prints; regenerate with go test ./cmd/liaison -run TestReadinessDocs -update-readiness and review the diff", path, code)
			}
		})
	}
}

func TestPolicyReadiness(t *testing.T) {
	out, _, err := policyCmd(t, "readiness", "-jurisdiction", "BE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Readiness of the BE policy (Belgian law)",
		"1. How and when are the local authority and the police informed of a release?",
		"5. How do the police, probation and the local authority co-operate?",
		"6. Who is told of a release, and by when must they acknowledge it?",
		"must acknowledge within 72h (escalated after 48h, be.notice.release.police)",
		"disclose under be.livcr.2018",
		"Assumptions (unverified readings the answers rest on)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("readiness text lacks %q", want)
		}
	}
	out, _, err = policyCmd(t, "readiness", "-jurisdiction", "DE-NI", "-format", "json")
	var r policies.Readiness
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || len(r.Questions) != 6 || len(r.Assumptions) == 0 {
		t.Fatalf("readiness -format json = %v, %d questions", err, len(r.Questions))
	}
	// Every answer that rests on a basis with an assumption is marked.
	for _, q := range r.Questions {
		for _, a := range q.Answers {
			if a.LegalBasis != "" && len(a.Assumptions) == 0 {
				t.Errorf("%s, %s: %s under %s is not marked as resting on an assumption", a.Exchange, a.When, a.Outcome, a.LegalBasis)
			}
		}
	}
	if _, _, err := policyCmd(t, "readiness", "-jurisdiction", "SE"); err == nil || !strings.Contains(err.Error(), `no pack for jurisdiction "SE"`) {
		t.Errorf("readiness for a jurisdiction without a pack = %v", err)
	}
}

// TestPolicyReadinessTakesCodesAsTheRPCDoes: Policy.GetReadiness refuses a
// jurisdiction code in lower case (naming the upper-case one) and, for a
// code without a pack, lists the packs' codes. The command takes the code
// the same way: before, it read "be" as BE and its error for "SE" named no
// code there is.
func TestPolicyReadinessTakesCodesAsTheRPCDoes(t *testing.T) {
	_, _, err := policyCmd(t, "readiness", "-jurisdiction", "be")
	if err == nil || !strings.Contains(err.Error(), `codes are upper case: "BE"`) {
		t.Errorf("readiness -jurisdiction be = %v; want a refusal naming BE", err)
	}
	_, _, err = policyCmd(t, "readiness", "-jurisdiction", "SE")
	if err == nil {
		t.Fatal("readiness -jurisdiction SE succeeded")
	}
	for _, code := range readinessJurisdictions {
		if !strings.Contains(err.Error(), code) {
			t.Errorf("readiness -jurisdiction SE = %v; want the codes there are, %s among them", err, code)
		}
	}
}
