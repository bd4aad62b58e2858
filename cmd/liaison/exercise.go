package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/liaison-gateway/liaison/exercise"
	"github.com/liaison-gateway/liaison/policies"
)

const exerciseAbout = `Exercise run plays a tabletop exercise: a scenario file (YAML, see
docs/exercises/README.md) of exchanges about one invented person on a
simulated clock (days from a start date), each decided by the policy as the
gateway would decide it. It prints a timeline per agency (what it learned,
when, in which form, under which provision and conditions; what it was
refused and why) and the gaps (duties of the scenario not met, exchanges
resting on a reading of the law the pack marks unverified), and with -out
writes it as Markdown. -compare DIR plays the same scenario on a candidate
policy and prints what would change. Same scenario and policy, same bytes.`

func runExercise(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(stdout, "Usage: liaison exercise run [flags] SCENARIO\n\n"+exerciseAbout+"\n\nCommands:\n\n\trun   play a scenario\n")
			return nil
		}
		return errors.New("exercise: usage: liaison exercise run [flags] SCENARIO")
	}
	fs := flag.NewFlagSet("liaison exercise run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: liaison exercise run [flags] SCENARIO\n\n%s\n\nFlags:\n", exerciseAbout)
		fs.PrintDefaults()
	}
	dir := fs.String("policy", "", "policy `directory`; empty means the embedded policies")
	compare := fs.String("compare", "", "a candidate policy `directory` to compare with")
	out := fs.String("out", "", "write the report as Markdown into this `directory`")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("exercise run: give one scenario file")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	sc, err := exercise.Parse(b)
	if err != nil {
		return err
	}
	load := func(d string) (*policies.Engine, error) {
		if d == "" {
			return policies.Load(ctx, policies.Embedded())
		}
		return policies.Load(ctx, os.DirFS(d))
	}
	eng, err := load(*dir)
	if err != nil {
		return err
	}
	rep, err := exercise.Run(ctx, eng, sc)
	if err != nil {
		return err
	}
	md := rep.Markdown()
	if *compare != "" {
		ceng, err := load(*compare)
		if err != nil {
			return err
		}
		crep, err := exercise.Run(ctx, ceng, sc)
		if err != nil {
			return err
		}
		md = append(append(md, '\n'), exercise.Compare(rep, crep)...)
	}
	if _, err := stdout.Write(md); err != nil {
		return err
	}
	if *out != "" {
		name := strings.TrimSuffix(filepath.Base(fs.Arg(0)), filepath.Ext(fs.Arg(0))) + ".md"
		return os.WriteFile(filepath.Join(*out, name), md, 0o644)
	}
	return nil
}
