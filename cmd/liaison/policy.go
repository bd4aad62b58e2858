package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
)

const policyUsage = `Usage:

	liaison policy <command> [flags]

Commands for legal officers:

	test        run the policy tree's own Rego tests (PASS/FAIL per test, -coverage)
	simulate    decide one input and say why: legal basis, rules, assumptions
	replay      re-decide audited exchanges under a candidate policy: what would flip
	readiness   answer the police checklist for a jurisdiction from the policy
	bundle      build a signed OPA bundle from a policy directory

test, simulate and readiness read the embedded policy unless -policies names
a directory or a signed bundle (.tar.gz, with -verification-key); replay
decides the log again under -candidate and compares with the recorded
decisions (or with -active decided again); bundle builds from the directory
-policies names. Run "liaison policy <command> -h"
for its flags.
`

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return errors.New("policy: no subcommand")
	}
	switch args[0] {
	case "test":
		return runPolicyTest(ctx, args[1:], stdout, stderr)
	case "simulate":
		return runPolicySimulate(ctx, args[1:], stdout, stderr)
	case "replay":
		return runPolicyReplay(ctx, args[1:], stdout, stderr)
	case "readiness":
		return runPolicyReadiness(ctx, args[1:], stdout, stderr)
	case "bundle":
		return runPolicyBundle(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, policyUsage)
		return nil
	}
	fmt.Fprint(stderr, policyUsage)
	return fmt.Errorf("policy: unknown subcommand %q", args[0])
}

// newPolicyFlags returns a flag set for a policy subcommand with a usage
// line and description printed by -h.
func newPolicyFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet("liaison policy "+name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintf(fl.Output(), "Usage: liaison policy %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fl.PrintDefaults()
	}
	return fl
}

// treeFlags are the flags that choose a policy tree.
type treeFlags struct {
	dir, key, keyID string
}

func (t *treeFlags) register(fl *flag.FlagSet, what string) {
	fl.StringVar(&t.dir, "policies", "", what+": a policy `directory` or a signed bundle (.tar.gz); empty means the policy embedded in the binary")
	fl.StringVar(&t.key, "verification-key", "", "public key `file` (PEM) that a bundle's signature must verify with")
	fl.StringVar(&t.keyID, "key-id", "liaison", "`id` of the verification key (the kid the bundle was signed with)")
}

// source returns the policy source the flags name.
func (t *treeFlags) source() (policies.Source, error) {
	if t.dir == "" {
		return policies.EmbeddedSource(), nil
	}
	fi, err := os.Stat(t.dir)
	if err != nil {
		return policies.Source{}, err
	}
	if fi.IsDir() {
		return policies.DirSource(t.dir), nil
	}
	if t.key == "" {
		return policies.Source{}, fmt.Errorf("%s is a bundle: -verification-key is required (Liaison loads signed bundles only)", t.dir)
	}
	k, err := readPublicKey(t.key, t.keyID)
	if err != nil {
		return policies.Source{}, err
	}
	return policies.BundleSource(t.dir, k), nil
}

// tree returns the .rego files the flags name, without loading them.
func (t *treeFlags) tree() (fs.FS, string, error) {
	src, err := t.source()
	if err != nil {
		return nil, "", err
	}
	switch {
	case t.dir == "":
		return policies.Embedded(), src.String(), nil
	case strings.HasPrefix(src.String(), "dir:"):
		return os.DirFS(t.dir), src.String(), nil
	}
	k, err := readPublicKey(t.key, t.keyID)
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(t.dir)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	tree, _, err := policies.OpenBundle(f, k)
	return tree, src.String(), err
}

func (t *treeFlags) load(ctx context.Context) (*policies.Engine, error) {
	src, err := t.source()
	if err != nil {
		return nil, err
	}
	return policies.LoadSource(ctx, src)
}

func readPublicKey(name, id string) (policies.PublicKey, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return policies.PublicKey{}, err
	}
	return policies.ParsePublicKey(id, b)
}

func runPolicyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newPolicyFlags("test", "[-policies DIR] [-coverage] [-run REGEX]",
		`Runs the *_test.rego tests of the policy tree, as "opa test" does, and prints
PASS or FAIL for each test and a summary. The tests run as the gateway runs
them before it activates a policy: compiled in strict mode, with built-in
errors raised (to_number("ten") is an error, not "undefined"). A failing
test makes the command fail. -coverage adds the share of policy lines the
tests reach, per file.`, stderr)
	var t treeFlags
	t.register(fl, "the tree to test")
	coverage := fl.Bool("coverage", false, "report the coverage of the policy modules by the tests")
	run := fl.String("run", "", "run only tests whose name matches this `regex` (as opa test -r)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("policy test", fl); err != nil {
		return err
	}
	if _, err := regexp.Compile(*run); err != nil {
		// Said only after the tree had loaded, as the tests' error.
		return fmt.Errorf("policy test: -run %q: not a regular expression: %v", *run, err)
	}
	tree, from, err := t.tree()
	if err != nil {
		return fmt.Errorf("policy test: %v", err)
	}
	res, err := policies.RunTests(ctx, tree, *run, *coverage)
	if err != nil {
		return fmt.Errorf("policy test: %v", err)
	}
	ch := make(chan *tester.Result, len(res.Results))
	for _, r := range sortedResults(res.Results) {
		ch <- r
	}
	close(ch)
	fmt.Fprintf(stdout, "%s\n", from)
	if err := (tester.PrettyReporter{Verbose: true, Output: stdout}).Report(ch); err != nil {
		return err
	}
	if c := res.Coverage; c != nil {
		fmt.Fprintf(stdout, "\nCoverage of the policy modules by the tests:\n")
		var files []string
		for f := range c.Files {
			if !strings.HasSuffix(f, "_test.rego") {
				files = append(files, f)
			}
		}
		slices.Sort(files)
		covered, all := 0, 0
		for _, f := range files {
			r := c.Files[f]
			n := r.CoveredLines + r.NotCoveredLines
			covered, all = covered+r.CoveredLines, all+n
			fmt.Fprintf(stdout, "  %-32s %6.1f%%  (%d of %d lines)\n", f, r.Coverage, r.CoveredLines, n)
		}
		if all > 0 {
			fmt.Fprintf(stdout, "  %-32s %6.1f%%  (%d of %d lines)\n", "total", 100*float64(covered)/float64(all), covered, all)
		}
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("policy test: %d of %d tests failed", n, len(res.Results))
	}
	if len(res.Results) == 0 {
		return errors.New("policy test: no tests ran")
	}
	return nil
}

// sortedResults orders results by file and line, as a reader expects.
func sortedResults(rs []*tester.Result) []*tester.Result {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b *tester.Result) int {
		if c := strings.Compare(a.Location.File, b.Location.File); c != 0 {
			return c
		}
		return a.Location.Row - b.Location.Row
	})
	return rs
}

func runPolicySimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newPolicyFlags("simulate", "-input FILE [-policies DIR] [-format text|json]",
		`Decides one exchange and says why: the outcome, the legal basis with its
citation and end date, the fields that pass, the conditions that travel with
the data, the approval a re-identification needs, the notice a notify
requires (its rule, and by when it must be acknowledged), the reasons, the
stage that decided, every legal basis and fallback rule of the pack with
why it does or does not apply, and the unverified readings of law
(assumptions) the decision rests on. It shows the decision the gateway
would act on: a release under a legal basis whose valid_until is before
the exchange's day where the basis's law is (which a correct policy never
makes) as the gateway's
deny, LEGAL_BASIS_EXPIRED, a first line saying so; a decision whose field
plan the gateway refuses, or that the policy cannot make, as an error.

FILE holds the policy input as JSON (policies/README.md describes it, keys
spelt exactly as there: "Purpose" is not "purpose"), or a golden decision
file ({"name", "input", "want"}), whose expected decision is then compared
(a list of fields, or the conditions, that it leaves out or writes null
reads as empty, as the contract reads them: an expected deny needs none).`, stderr)
	input := fl.String("input", "", "policy input `file` (JSON): the input of data.liaison.decision, or a golden decision file")
	format := fl.String("format", "text", "output `format`: text or json")
	var t treeFlags
	t.register(fl, "the policy to decide with")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("policy simulate", fl); err != nil {
		return err
	}
	if *input == "" {
		fl.Usage()
		return errors.New("policy simulate: -input is required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("policy simulate: -format %q: want text or json", *format)
	}
	b, err := os.ReadFile(*input)
	if err != nil {
		return fmt.Errorf("policy simulate: %v", err)
	}
	in, want, err := decodeSimulateInput(b)
	if err != nil {
		return fmt.Errorf("policy simulate: %s does not follow the input contract: %v", *input, err)
	}
	eng, err := t.load(ctx)
	if err != nil {
		return fmt.Errorf("policy simulate: %v", err)
	}
	x, err := eng.Explanation(ctx, in)
	if err == nil {
		// What the gateway does with the decision: its check of the plan
		// against the schema, its deny of a release under an ended basis.
		x, err = gateway.AsTheGatewayActs(eng, in, x)
	}
	if err != nil {
		return fmt.Errorf("policy simulate: the policy could not decide (the gateway would deny): %v", err)
	}
	var matches *bool
	if want != nil {
		m := decisionsEqual(*want, x.Decision)
		matches = &m
	}
	if *format == "json" {
		out, err := json.MarshalIndent(struct {
			Revision    string            `json:"revision"`
			Decision    policies.Decision `json:"decision"`
			Stage       string            `json:"stage"`
			Explanation []string          `json:"explanation"`
			Assumptions []string          `json:"assumptions"`
			MatchesWant *bool             `json:"matches_want,omitempty"`
		}{eng.Revision(), x.Decision, x.Stage, x.Lines, x.Assumptions, matches}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(out))
	} else {
		writeExplanation(stdout, eng, x)
		if matches != nil {
			if *matches {
				fmt.Fprintln(stdout, "\nThe decision matches the file's expected decision.")
			} else {
				want, _ := json.MarshalIndent(want, "  ", "  ")
				fmt.Fprintf(stdout, "\nThe decision DIFFERS from the file's expected decision:\n  %s\n", want)
			}
		}
	}
	if matches != nil && !*matches {
		return errors.New("policy simulate: the decision differs from the expected one")
	}
	return nil
}

// decodeSimulateInput reads a policy input, or a golden file's input and
// expected decision (a JSON object with the key "input"), as the contract
// spells them: keys exactly as policies/README.md names them
// (policies.UnmarshalExact).
func decodeSimulateInput(b []byte) (policies.Input, *policies.Decision, error) {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) == nil && top["input"] != nil {
		var g struct {
			Name  string             `json:"name"`
			Input *policies.Input    `json:"input"`
			Want  *policies.Decision `json:"want"`
		}
		if err := policies.UnmarshalExact(b, &g); err != nil {
			return policies.Input{}, nil, err
		}
		if g.Input == nil {
			return policies.Input{}, nil, errors.New(`"input" is null`)
		}
		return *g.Input, g.Want, nil
	}
	var in policies.Input
	err := policies.UnmarshalExact(b, &in)
	return in, nil, err
}

// decisionsEqual reports whether a golden file's expected decision a is
// the decision b. The lists of fields and the conditions read as the
// contract reads them: one left out, or null, is the empty list (a field
// listed nowhere is dropped; a denial has no conditions), so an expected
// deny written without them matches the policy's [] (approval.agencies is
// not such a list: absent, it limits nobody; empty, it is malformed).
func decisionsEqual(a, b policies.Decision) bool {
	norm := func(d policies.Decision) []byte {
		for _, l := range []*[]string{&d.Fields.Keep, &d.Fields.Generalise, &d.Fields.Pseudonymise, &d.Conditions} {
			if *l == nil {
				*l = []string{}
			}
		}
		j, _ := json.Marshal(d)
		return j
	}
	return bytes.Equal(norm(a), norm(b))
}

// writeExplanation prints a decision and why, for a legal officer.
func writeExplanation(w io.Writer, eng *policies.Engine, x policies.Explanation) {
	d := x.Decision
	fmt.Fprintf(w, "outcome:          %s\n", d.Outcome)
	if lb := d.LegalBasis; lb != nil {
		fmt.Fprintf(w, "legal basis:      %s\n", lb.ID)
		fmt.Fprintf(w, "citation:         %s\n", lb.Citation)
		if lb.ValidUntil != "" {
			fmt.Fprintf(w, "valid until:      %s\n", lb.ValidUntil)
		}
	}
	if d.PseudonymDomain != "" {
		fmt.Fprintf(w, "pseudonym domain: %s\n", d.PseudonymDomain)
	}
	if f := d.Fields; len(f.Keep)+len(f.Generalise)+len(f.Pseudonymise) > 0 {
		fmt.Fprintf(w, "fields kept:         %s\n", listOr(f.Keep, "none"))
		fmt.Fprintf(w, "fields generalised:  %s", listOr(f.Generalise, "none"))
		if f.Precision != "" {
			fmt.Fprintf(w, " (to the %s)", f.Precision)
		}
		fmt.Fprintf(w, "\nfields pseudonymised: %s\n", listOr(f.Pseudonymise, "none"))
		fmt.Fprintln(w, "(every other field is dropped)")
	}
	if len(d.Conditions) > 0 {
		fmt.Fprintf(w, "conditions:       %s\n", strings.Join(d.Conditions, ", "))
	}
	if a := d.Approval; a != nil {
		who := "officers holding " + strings.Join(a.Roles, " or ")
		if len(a.Agencies) > 0 {
			who += " of " + strings.Join(a.Agencies, ", ")
		}
		if a.OtherAgency {
			who += ", of another agency than the requester's"
		}
		fmt.Fprintf(w, "approval:         %d %s, within %s\n", a.Quorum, who, a.ExpiresAfter)
	}
	if n := d.Notice; n != nil && n.Required {
		fmt.Fprintf(w, "notice:           required by %s (%s): acknowledge by %s, escalated at %s\n", n.Rule, n.Citation, n.AcknowledgeBy, n.EscalateAt)
	}
	fmt.Fprintln(w, "reasons:")
	for _, r := range d.Reasons {
		fmt.Fprintf(w, "  %s: %s\n", r.Code, r.Message)
	}
	if x.Stage != "" {
		fmt.Fprintf(w, "\nwhy (decided at stage %s):\n", x.Stage)
	} else {
		fmt.Fprintln(w, "\nwhy:")
	}
	for _, l := range x.Lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if len(x.Assumptions) > 0 {
		fmt.Fprintln(w, "\nthis decision rests on unverified readings of the law:")
		for _, a := range x.Assumptions {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	}
	fmt.Fprintf(w, "\npolicy revision %s (%s)\n", eng.Revision(), eng.Source())
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}

func runPolicyBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newPolicyFlags("bundle", "-policies DIR -out FILE.tar.gz -signing-key KEY.pem [-key-id ID] [-public-key-out FILE]",
		`Builds an OPA bundle (.tar.gz) of the policy directory, signed in OPA's
bundle-signing format, after checking that the tree loads as the gateway
would load it (strict compile, its own tests, the built-in samples). The
gateway and "opa run --verification-key" accept it; Liaison refuses unsigned,
tampered or wrongly signed bundles. Prints the bundle's digest (the SHA-256
of the file, recorded in the audit log on activation) and the revision.

The signing key is an RSA or ECDSA private key in PEM, for example:

	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out bundle-signing.pem
	openssl pkey -in bundle-signing.pem -pubout -out bundle-signing.pub.pem

Like ssh with a private key, it refuses a signing key file that group or
others may read or write (openssl writes it mode 0600; else chmod 600).

The bundle, and the public key, each appear whole or not at all: each is
written to a temporary file beside it, synced and renamed over it. A write
that fails (a full disk, a folder that refuses new files) leaves a bundle or
key already there as it was, for the gateway that runs with it.`, stderr)
	dir := fl.String("policies", "", "policy `directory` to bundle")
	out := fl.String("out", "", "bundle `file` to write (.tar.gz): replaced whole, or left as it was if the write fails")
	keyFile := fl.String("signing-key", "", "private key `file` (PEM: RSA, or ECDSA P-256/384/521; refused if group or others may read or write it)")
	keyID := fl.String("key-id", "liaison", "key `id` written into the signature")
	pubOut := fl.String("public-key-out", "", "also write the matching public key to this `file`, for the gateway's -policy-bundle-key (liaison serve) and the -verification-key of the policy and exercise commands")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("policy bundle", fl); err != nil {
		return err
	}
	if *dir == "" || *out == "" || *keyFile == "" {
		fl.Usage()
		return errors.New("policy bundle: -policies, -out and -signing-key are required")
	}
	pem, err := audit.ReadPrivateKeyFile(*keyFile)
	if err != nil {
		return fmt.Errorf("policy bundle: -signing-key: %v", err)
	}
	key, err := policies.ParseSigningKey(*keyID, pem)
	if err != nil {
		return fmt.Errorf("policy bundle: %v", err)
	}
	pub, err := key.Public()
	if err != nil {
		return fmt.Errorf("policy bundle: %v", err)
	}
	eng, err := policies.LoadSource(ctx, policies.DirSource(*dir))
	if err != nil {
		return fmt.Errorf("policy bundle: the tree does not load, so no bundle was written: %v", err)
	}
	var buf bytes.Buffer
	digest, err := policies.WriteBundle(&buf, os.DirFS(*dir), key)
	if err != nil {
		return fmt.Errorf("policy bundle: %v", err)
	}
	// Check the bundle as the gateway will, before handing it out.
	check, err := policies.LoadBundle(ctx, bytes.NewReader(buf.Bytes()), pub)
	if err != nil {
		return fmt.Errorf("policy bundle: the bundle does not load back: %v", err)
	}
	if check.Revision() != eng.Revision() {
		return fmt.Errorf("policy bundle: the bundle's revision %s differs from the directory's %s", check.Revision(), eng.Revision())
	}
	// Each file appears whole or not at all: a write that fails leaves
	// the bundle or key already there as it was.
	if err := replaceFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("policy bundle: -out: %v (a bundle already there is left as it was)", err)
	}
	if *pubOut != "" {
		if err := replaceFile(*pubOut, pub.PEM, 0o644); err != nil {
			return fmt.Errorf("policy bundle: wrote %s, but not the public key: -public-key-out: %v (a key already there is left as it was)", *out, err)
		}
	}
	fmt.Fprintf(stdout, "wrote %s\ndigest   %s\nrevision %s\nsigned   %s with key id %q\n", *out, digest, eng.Revision(), pub.Algorithm, key.ID)
	return nil
}
