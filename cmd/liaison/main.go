// Command liaison is the Liaison gateway and its tools: one binary with a
// subcommand for each user.
//
//	liaison serve      run the gateway
//	liaison demo       run the gateway and sample agencies and a scripted scenario
//	liaison provider   run a sample holder agency's RecordProvider
//	liaison policy     test and simulate legal-basis policies
//	liaison audit      query, verify, prove, report on and export the audit log
//	liaison console    the web console for auditors and legal officers
//	liaison case       open and run multi-agency cases
//	liaison correct    send a corrected record to every agency that received it
//	liaison withdraw   tell every agency that received a record to erase it
//	liaison dev        development PKI and officer tokens
//	liaison keys       create, rotate and show the pseudonym keys
//	liaison health     ask a running gateway whether it serves (probes)
//	liaison witness    run a witness that cosigns a log's consistent checkpoints
//	liaison match      ask holders hit/no-hit about a subject (step one of two)
//	liaison exercise   play a tabletop exercise on a simulated clock
//	liaison bench      load the gateway and its peers, and print what a call costs
//
// Run "liaison <command> -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// An error that only says "context canceled" came from the signal.
		err = errors.New("interrupted by a signal (SIGINT or SIGTERM) before it finished")
	}
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "liaison:", err)
		os.Exit(1)
	}
}

const usage = `Liaison is a privacy-preserving information-sharing gateway.

Usage:

	liaison <command> [flags]

Commands:

	serve      run the gateway
	demo       run the gateway, sample agencies and a scripted scenario
	provider   run a sample holder agency's RecordProvider (synthetic subjects)
	policy     test, simulate, replay, readiness, bundle: the legal-basis policies (policy -h)
	audit      query, verify, prove, report on and export the disclosure log (audit -h)
	console    the web console for auditors and legal officers, in your browser
	case       open, join, leave, hand over and close multi-agency cases (case -h)
	correct    send a corrected record to every agency that received it (correct -h)
	withdraw   tell every agency that received a record to erase or restrict it (withdraw -h)
	dev        development helpers: pki, token (dev -h for more)
	keys       create, rotate and show the pseudonym keys (Vault or a local file)
	health     ask a running gateway whether it serves; exit 0 only if so (for probes)
	witness    run a witness that cosigns gateways' checkpoints only if consistent (C2SP tlog-witness)
	match      ask holder agencies hit/no-hit about a subject; a hit's reference opens a Request
	exercise   run: play a tabletop exercise scenario and report timelines and gaps (exercise -h)
	bench      load a gateway (and with -peers, OPA's server and Tessera's log) and print what a call costs

Run "liaison <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "provider":
		return runProvider(ctx, args[1:], stderr)
	case "policy":
		return runPolicy(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "console":
		return runConsole(ctx, args[1:], os.Stdin, stdout, stderr)
	case "case":
		return runCase(ctx, args[1:], stdout, stderr)
	case "correct":
		return runCorrect(ctx, args[1:], stdout, stderr)
	case "withdraw":
		return runWithdraw(ctx, args[1:], stdout, stderr)
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "health":
		return runHealth(ctx, args[1:], stdout, stderr)
	case "witness":
		return runWitness(ctx, args[1:], stdout, stderr)
	case "match":
		return runMatch(ctx, args[1:], stdout, stderr)
	case "exercise":
		return runExercise(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// newLogger builds the process's slog handler: JSON for production, text
// for development. Only main chooses handlers.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want json or text", format)
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// noStrayArgs refuses an argument left after cmd's flags. The flag package
// stops at the first word that is not a flag, so one stray word (a
// boolean flag given a value, "-json true", or a value with a space
// unquoted) left every flag after it unread, silently: "audit query -json
// true -agency nl-probation" listed every agency's entries.
func noStrayArgs(cmd string, fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	return fmt.Errorf("%s: unexpected argument %q: %s takes flags only, and reads none after it (a boolean flag takes a value as -flag=false, and a value with spaces needs quotes)", cmd, fs.Arg(0), cmd)
}
