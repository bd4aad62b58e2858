package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/liaison-gateway/liaison/gateway"
)

func runPolicyReadiness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newPolicyFlags("readiness", "-jurisdiction XX [-policies DIR] [-format text|json|markdown]",
		`Answers the police checklist for one jurisdiction from the policy, by
deciding representative exchanges about a convicted person before and after
release:

  1. How and when are the local authority and the police informed of a release?
  2. Who does the risk assessment, and will the local police get it?
  3. What is the role of the police in exit programmes and reintegration?
  4. Who is in contact with the family?
  5. How do the police, probation and the local authority co-operate?
  6. Who is told of a release, and by when must they acknowledge it?

Each answer names the legal basis or the reasons, and is marked [An] where it
rests on an unverified reading of the law (listed at the end). The "who"
comes from the pack's practice description, which is not law.

Each answer is what the gateway would do, as replay decides it: an exchange
the policy cannot decide (its decision undefined, or an error) is answered
deny (POLICY_UNDEFINED or POLICY_ERROR), and so is a decision whose field
plan the gateway refuses against the record schema, instead of a report
that stops; a release under a legal basis that ended before the exchange's
day is deny (LEGAL_BASIS_EXPIRED).

The jurisdiction is the code of one of the policy's packs, in upper case as
the packs spell it (as Policy.GetReadiness takes it): a code in lower case,
or one without a pack, is refused, the error listing the codes there are.`, stderr)
	jurisdiction := fl.String("jurisdiction", "", "jurisdiction `code` of one of the policy's packs, in upper case: e.g. DK, NL, BE, FR, DE-BY, DE-NI")
	format := fl.String("format", "text", "output `format`: text, json or markdown")
	var t treeFlags
	t.register(fl, "the policy to ask")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("policy readiness", fl); err != nil {
		return err
	}
	if *jurisdiction == "" {
		fl.Usage()
		return errors.New("policy readiness: -jurisdiction is required")
	}
	switch *format {
	case "text", "json", "markdown":
	default:
		return fmt.Errorf("policy readiness: -format %q: want text, json or markdown", *format)
	}
	eng, err := t.load(ctx)
	if err != nil {
		return fmt.Errorf("policy readiness: %v", err)
	}
	// The code as Policy.GetReadiness takes it: one of the packs', spelt
	// as they spell it.
	packs, err := eng.Packs(ctx)
	if err != nil {
		return fmt.Errorf("policy readiness: %v", err)
	}
	codes := make([]string, 0, len(packs))
	for _, p := range packs {
		codes = append(codes, p.Code)
	}
	if j := *jurisdiction; !slices.Contains(codes, j) {
		if u := strings.ToUpper(j); slices.Contains(codes, u) {
			return fmt.Errorf("policy readiness: -jurisdiction %q: codes are upper case: %q", j, u)
		}
		return fmt.Errorf("policy readiness: -jurisdiction %q: no pack for jurisdiction %q in the policy, whose packs are %s", j, j, strings.Join(codes, ", "))
	}
	// Each answer as the gateway decides it: its check of the plan too.
	r, err := eng.ReadinessChecked(ctx, *jurisdiction, gateway.CheckPlan)
	if err != nil {
		return fmt.Errorf("policy readiness: %v", err)
	}
	switch *format {
	case "json":
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	case "markdown":
		return r.WriteMarkdown(stdout)
	}
	return r.WriteText(stdout)
}
