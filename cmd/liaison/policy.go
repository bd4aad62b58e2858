package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/liaison-gateway/liaison/policies"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const policyUsage = "usage: liaison policy simulate -input FILE [-policies DIR]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return errors.New("policy: no subcommand")
	}
	switch args[0] {
	case "simulate":
		fs := flag.NewFlagSet("liaison policy simulate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		input := fs.String("input", "", "policy input `file` (JSON, the input of data.liaison.decision)")
		dir := fs.String("policies", "", "policy `directory`; empty means the embedded policies")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *input == "" {
			return errors.New("policy simulate: -input is required")
		}
		eng, err := loadPolicies(ctx, *dir)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(*input)
		if err != nil {
			return err
		}
		var in policies.Input
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("policy simulate: %s does not follow the input contract: %v", *input, err)
		}
		d, why, err := eng.Explain(ctx, in)
		if err != nil {
			return fmt.Errorf("policy simulate: the policy could not decide (the gateway would deny): %v", err)
		}
		out, err := json.MarshalIndent(struct {
			Revision    string            `json:"revision"`
			Decision    policies.Decision `json:"decision"`
			Explanation []string          `json:"explanation"`
		}{eng.Revision(), d, why}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(out))
		return nil
	}
	fmt.Fprint(stderr, policyUsage)
	return fmt.Errorf("policy: unknown subcommand %q", args[0])
}

func loadPolicies(ctx context.Context, dir string) (*policies.Engine, error) {
	if dir == "" {
		return policies.Load(ctx, policies.Embedded())
	}
	return policies.Load(ctx, os.DirFS(dir))
}
