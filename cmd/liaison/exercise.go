package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/liaison-gateway/liaison/exercise"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
)

const exerciseAbout = `Usage: liaison exercise run [flags] SCENARIO

Plays a tabletop exercise: a scenario file (YAML, see docs/exercises/README.md)
of what agencies do about one invented person over days and months, through a
gateway started for the exercise (gRPC over TLS on loopback, its own temporary
SQLite store, keys derived from the scenario, the scenario's agencies as its
registry) on a simulated clock that runs the gateway's notice timers between
events. Nothing leaves the machine and nothing is kept. A scenario with a
mistake is refused before anything is played, naming the field; so is one
whose title, notes, case ids, case kinds or expectations name the person's
identifier (subject.id), which no report prints.

It prints, and with -out writes as Markdown and as a self-contained HTML page,
a timeline per agency (what it learned, when, in which form, under which
provision and conditions; what it was refused and why; its required notices,
escalations and acknowledgements; the corrections and withdrawals it sent or
was sent) and the gaps: expectations of the scenario not met, required notices
not acknowledged in time, agencies that got a record and not its correction or
withdrawal, agencies that passed a record on and not its correction or
withdrawal, obligation notices never acknowledged, and exchanges that rest on a
reading of the law the pack marks as unverified.

-compare plays the same scenario on a candidate policy and adds what it
changes: the deliveries that differ, the gaps it opens and closes. The same
scenario and policy give the same output, byte for byte.
`

// exerciseUsage is the help of "liaison exercise"; "liaison exercise run
// -h" prints exerciseAbout and its flags.
const exerciseUsage = exerciseAbout + `
Commands:

	run   play a scenario

Flags of run:
`

func runExercise(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, exerciseUsage)
		f := newExerciseFlags(stdout)
		f.fs.PrintDefaults()
		return nil
	}
	if len(args) == 0 || args[0] != "run" {
		return errors.New("exercise: usage: liaison exercise run [flags] SCENARIO (liaison exercise -h)")
	}
	f := newExerciseFlags(stderr)
	if err := f.fs.Parse(args[1:]); err != nil {
		return err
	}
	if f.fs.NArg() > 1 && strings.HasPrefix(f.fs.Arg(1), "-") {
		// Go's flags end at the first argument that is not one: a flag
		// written after the file would be taken for a second file.
		return fmt.Errorf("exercise run: %s after the scenario file: flags go before it (liaison exercise run [flags] SCENARIO)", f.fs.Arg(1))
	}
	if f.fs.NArg() != 1 {
		return errors.New("exercise run: give one scenario file")
	}
	b, err := os.ReadFile(f.fs.Arg(0))
	if err != nil {
		return err
	}
	sc, err := exercise.Parse(b)
	if err != nil {
		return err
	}
	// The policy and the candidate are loaded before anything is played,
	// and an error names the flag and what it named.
	load := func(flag, dir string) (*policies.Engine, error) {
		eng, err := (&treeFlags{dir: dir, key: f.key, keyID: f.keyID}).load(ctx)
		switch {
		case err != nil && dir == "":
			return nil, fmt.Errorf("exercise run: the policy embedded in the binary does not load: %v", err)
		case err != nil:
			return nil, fmt.Errorf("exercise run: -%s %s does not load: %v", flag, dir, err)
		}
		return eng, nil
	}
	eng, err := load("policy", f.policy)
	if err != nil {
		return err
	}
	var ceng *policies.Engine
	if f.compare != "" {
		if ceng, err = load("compare", f.compare); err != nil {
			return err
		}
	}
	rep, err := exercise.Run(ctx, eng, sc)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(f.fs.Arg(0)), filepath.Ext(f.fs.Arg(0)))
	files := map[string][]byte{name + ".md": rep.Markdown(), name + ".html": rep.HTML()}
	// Without -compare this run has no comparison: an earlier run's in
	// -out would read as this one's, so it goes with this run's write.
	stale := []string{name + ".compare.md", name + ".compare.html"}
	out := rep.Markdown()
	if ceng != nil {
		stale = nil
		crep, err := exercise.Run(ctx, ceng, sc)
		if err != nil {
			return err
		}
		cmp := exercise.Compare(rep, crep)
		files[name+".compare.md"], files[name+".compare.html"] = cmp.Markdown(), cmp.HTML()
		out = append(append(out, '\n'), cmp.Markdown()...)
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	if f.out == "" {
		return nil
	}
	return writeReports(ctx, f.out, files, stale)
}

// writeReports writes the reports named in files into dir, making it if
// need be, and removes the earlier reports named in stale (an earlier
// run's comparison, which this run does not make). The reports of one
// run replace earlier ones of their names together ([replaceFiles]): a
// write that fails leaves every earlier report as it was, so that the
// folder never holds one run's HTML beside another's Markdown, nor one
// run's comparison beside another's report. The stale reports are
// renamed out of the way (to hidden names in dir) before the write, put
// back if it fails, and removed once it succeeds.
func writeReports(ctx context.Context, dir string, files map[string][]byte, stale []string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("exercise run: -out: %v", err)
	}
	var aside [][2]string // {report, where it was set aside}
	defer func() {
		if err == nil {
			return
		}
		for _, a := range aside {
			if rerr := os.Rename(a[1], a[0]); rerr != nil {
				err = fmt.Errorf("%v; and the earlier %s could not be put back (%v): it is %s", err, a[0], rerr, a[1])
			}
		}
	}()
	for _, n := range stale {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("exercise run: -out: %v (the reports already there are left as they were)", err)
		}
		f, err := os.CreateTemp(dir, "."+n+".*.stale")
		if err == nil {
			err = f.Close()
		}
		if err == nil {
			if err = os.Rename(p, f.Name()); err != nil {
				os.Remove(f.Name())
			}
		}
		if err != nil {
			return fmt.Errorf("exercise run: -out: set the earlier %s aside: %v (the reports already there are left as they were)", n, err)
		}
		aside = append(aside, [2]string{p, f.Name()})
	}
	var set []sample.File
	for _, n := range slices.Sorted(maps.Keys(files)) {
		set = append(set, sample.File{Name: n, Data: files[n], Mode: 0o644})
	}
	if err := replaceFiles(ctx, dir, set); err != nil {
		return fmt.Errorf("exercise run: -out: %v (the reports already there are left as they were)", err)
	}
	var rerr []error
	for _, a := range aside {
		if err := os.Remove(a[1]); err != nil {
			rerr = append(rerr, err)
		}
	}
	aside = nil // written: nothing to put back
	if len(rerr) > 0 {
		return fmt.Errorf("exercise run: -out: the reports are written, but an earlier comparison set aside could not be removed: %w", errors.Join(rerr...))
	}
	return nil
}

type exerciseFlags struct {
	fs                               *flag.FlagSet
	policy, compare, out, key, keyID string
}

func newExerciseFlags(output io.Writer) *exerciseFlags {
	f := &exerciseFlags{fs: flag.NewFlagSet("liaison exercise run", flag.ContinueOnError)}
	f.fs.SetOutput(output)
	f.fs.Usage = func() {
		fmt.Fprint(f.fs.Output(), exerciseAbout+"\nFlags:\n")
		f.fs.PrintDefaults()
	}
	f.fs.StringVar(&f.policy, "policy", "", "the policy: a `directory` or a signed bundle (.tar.gz); empty means the policy embedded in the binary")
	f.fs.StringVar(&f.compare, "compare", "", "a candidate policy (`directory` or signed bundle) to play the same scenario on and compare")
	f.fs.StringVar(&f.out, "out", "", "also write the report into this `directory`: SCENARIO.md and SCENARIO.html (and SCENARIO.compare.md and .html with -compare; without it an earlier run's SCENARIO.compare.md and .html are removed), together replacing the earlier reports of their names, or leaving every one as it was if the write fails")
	f.fs.StringVar(&f.key, "verification-key", "", "public key `file` (PEM) that a bundle's signature must verify with")
	f.fs.StringVar(&f.keyID, "key-id", "liaison", "`id` of the verification key (the kid the bundles were signed with)")
	return f
}
