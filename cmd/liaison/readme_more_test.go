package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestServeRefusesWhatItCannotRun: serve's durations of zero or less, an
// -audit-signer other than file or vault, a log format or level it does
// not know and a stray argument are refused before anything starts,
// naming the flag. -timer-interval or -aftercare-interval of -1s
// panicked once the gateway served (a ticker of a non-positive
// interval), 0 was read silently as the default, and -peer-timeout 0
// failed every call to a peer; "serve extra" served, ignoring "extra".
func TestServeRefusesWhatItCannotRun(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-timer-interval", "-1s"}, "-timer-interval -1s: must be positive"},
		{[]string{"-timer-interval", "0"}, "-timer-interval 0s: must be positive"},
		{[]string{"-aftercare-interval", "-1s"}, "-aftercare-interval -1s: must be positive"},
		{[]string{"-aftercare-interval", "0s"}, "-aftercare-interval 0s: must be positive"},
		{[]string{"-witness-interval", "-1s"}, "-witness-interval -1s: must be positive"},
		{[]string{"-peer-timeout", "0s"}, "-peer-timeout 0s: must be positive"},
		{[]string{"-audit-signer", "hsm"}, `-audit-signer "hsm": want file or vault`},
		// The log's name (origin): one with a space or '+' failed at start
		// naming no flag; one with a Hangul filler or a variation
		// selector served, a log that looks like another's.
		{[]string{"-audit-name", "liaison audit"}, `-audit-name "liaison audit": want a key name`},
		{[]string{"-audit-name", "liaison+audit"}, `-audit-name "liaison+audit": want a key name`},
		{[]string{"-audit-name", "liaison.audit\u3164"}, `-audit-name "liaison.audit\u3164": want a key name`},
		{[]string{"-audit-name", "liaison.audit\ufe0f"}, `-audit-name "liaison.audit\ufe0f": want a key name`},
		{[]string{"-log-format", "xml"}, `-log-format "xml": want json or text`},
		{[]string{"-log-level", "loud"}, `-log-level "loud"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		// The other flags point at files that do not exist: without the
		// checks, serve fails on them instead, or (given real files)
		// serves and panics.
		args := append([]string{"serve", "-client-ca", "no-ca.pem", "-tls-cert", "no-gateway.pem", "-tls-key", "no-gateway.key",
			"-keys", t.TempDir() + "/keys.json", "-audit-db", t.TempDir() + "/audit.db"}, tt.args...)
		err := run(t.Context(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison serve %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestDevTokenRefusesWhatTheGatewayRefuses: liaison dev token minted a
// token of a -clearance its help does not list ("bogus"), which every
// gateway refuses (BAD_CLAIMS, unknown clearance level), and one that
// had already expired (-ttl -1m) or expired as it was minted (-ttl 0);
// dev pki and dev token ignored a stray argument ("dev pki mydir" wrote
// to dev-pki). Each is refused now, naming the flag.
func TestDevTokenRefusesWhatTheGatewayRefuses(t *testing.T) {
	pki := t.TempDir()
	if err := run(t.Context(), []string{"dev", "pki", "-out", pki}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	tok := []string{"dev", "token", "-pki", pki, "-agency", "nl-police-rotterdam", "-officer", "officer.1"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{slices.Concat(tok, []string{"-clearance", "bogus"}), `-clearance "bogus": want one of none, restricted, confidential, secret, top_secret`},
		{slices.Concat(tok, []string{"-clearance", "Secret"}), `-clearance "Secret"`},
		{slices.Concat(tok, []string{"-ttl", "-1m"}), "-ttl -1m0s: must be positive"},
		{slices.Concat(tok, []string{"-ttl", "0"}), "-ttl 0s: must be positive"},
		{slices.Concat(tok, []string{"extra"}), `unexpected argument "extra"`},
		{[]string{"dev", "pki", "-out", t.TempDir(), "mydir"}, `unexpected argument "mydir"`},
	} {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
	// Every clearance the help lists is minted.
	for _, c := range []string{"none", "restricted", "confidential", "secret", "top_secret"} {
		if err := run(t.Context(), slices.Concat(tok, []string{"-clearance", c}), io.Discard, io.Discard); err != nil {
			t.Errorf("liaison dev token -clearance %s: %v", c, err)
		}
	}
}

// TestAuditCorrectionsFilteredEmptyClaimsNothingOfOthers: liaison audit
// corrections given a filter that matched nothing said of every notice
// what it knew only of the ones it asked for: with a correction open to
// the Aarhus police, "-recipient dk-social-aarhus" (or -kind withdrawal,
// or -older-than 168h) printed "Every correction, withdrawal and expiry
// notice sent has been acknowledged or superseded", and with -all "No
// correction, withdrawal or expiry notice has been sent". It now says
// that none matches the filters it names.
func TestAuditCorrectionsFilteredEmptyClaimsNothingOfOthers(t *testing.T) {
	s := startAuditStack(t, "")
	ctx := t.Context()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.d.releaseNotice(ctx, fx); err != nil {
		t.Fatal(err)
	}
	tok, err := s.d.pki.Issuers["dk-prison-east"].Mint(devpki.TokenSpec{Officer: "kf.release.coordinator", Roles: []string{"case_officer"}, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	rec, _, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, probation desk Aarhus"
	b, err := protojson.Marshal(corrected)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.dir, "corrected.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.WithoutCancel(ctx), []string{"correct", "-gateway", s.d.gw.Addr,
		"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
		"-ca", s.d.pki.Path("ca.pem"), "-token", tok, "-record", file, "-justification", "The contact point changed."}, &out, &out); err != nil {
		t.Fatalf("correct: %v\n%s", err, &out)
	}
	if got, err := s.audit(t, "corrections"); err != nil || !strings.Contains(got, "dk-police-aarhus") || !strings.Contains(got, "open") {
		t.Fatalf("audit corrections: %v\n%s (want the open correction)", err, got)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-recipient", "dk-social-aarhus"}, "No open correction, withdrawal or expiry notice matches -recipient dk-social-aarhus."},
		{[]string{"-kind", "withdrawal"}, "No open correction, withdrawal or expiry notice matches -kind withdrawal."},
		{[]string{"-older-than", "168h"}, "No open correction, withdrawal or expiry notice matches -older-than 168h0m0s."},
		{[]string{"-all", "-recipient", "dk-social-aarhus"}, "No correction, withdrawal or expiry notice matches -recipient dk-social-aarhus."},
		{[]string{"-all", "-start", "1000"}, "No correction, withdrawal or expiry notice matches -start 1000."},
	} {
		got, err := s.audit(t, "corrections", tt.args...)
		if err != nil || strings.TrimSpace(got) != tt.want {
			t.Errorf("audit corrections %s: %v\n%s\nwant: %s", strings.Join(tt.args, " "), err, got, tt.want)
		}
	}
}

// TestBenchRefusesBadFlagsNamingThem: liaison bench refused a bound that
// is not positive with one sentence for five flags (and -warmup -1s with a
// sentence that did not name -warmup); a -phases name that does not exist
// (dispose for disclose) was run as nothing, silently beside a good one,
// and alone or with a phase its flags do not enable (opa without -peers,
// disclose-pg without -postgres) failed "no phase selected" only after the
// holders had started. Each is refused first, naming the flag.
func TestBenchRefusesBadFlagsNamingThem(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-concurrency", "0"}, "-concurrency 0: must be positive"},
		{[]string{"-rounds", "0"}, "-rounds 0: must be positive"},
		{[]string{"-duration", "0s"}, "-duration 0s: must be positive"},
		{[]string{"-max-requests", "-1"}, "-max-requests -1: must be positive"},
		{[]string{"-append-concurrency", "0"}, "-append-concurrency 0: must be positive"},
		{[]string{"-warmup", "-1s"}, "-warmup -1s: must not be negative"},
		{[]string{"-duration", "2h"}, "-duration 2h0m0s: at most an hour"},
		{[]string{"-phases", "dispose"}, `-phases: unknown phase "dispose": accepted values are echo, disclose, request, disclose-pg, request-pg, opa, append, tessera`},
		{[]string{"-phases", "disclose,dispose"}, `unknown phase "dispose"`},
		{[]string{"-phases", "opa"}, "-phases: opa runs only with -peers"},
		{[]string{"-phases", "disclose-pg"}, "-phases: disclose-pg runs only with -postgres"},
	} {
		dir := t.TempDir()
		var out bytes.Buffer
		err := runBench(t.Context(), append(tt.args, "-dir", dir), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison bench %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 || out.Len() > 0 {
			t.Errorf("liaison bench %s started before refusing: %s", strings.Join(tt.args, " "), &out)
		}
	}
}

// TestToolsRefuseAMissingAuditDB: the commands that work on the gateway's
// audit database beside it (policy replay, case import, close-orphaned,
// handover-orphaned) created an empty log where -audit-db named none (a
// typo, or the default liaison-audit.db in another folder): replay said
// "The candidate decides every replayed exchange as before" over nothing,
// close-orphaned wrote its refusal as entry #0 of the new log, and import
// would have imported the cases into a log no gateway reads, telling the
// operator to remove them from the registry file. Each is refused now,
// naming -audit-db, and no file is made; so is a -since of zero or less,
// which replayed nothing and said nothing changes.
func TestToolsRefuseAMissingAuditDB(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if err := run(t.Context(), []string{"dev", "pki", "-out", pki}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.json")
	if err := run(t.Context(), []string{"keys", "init", "-keys", keys}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-audit.db")
	registry := filepath.Join(pki, "registry.yaml")
	for _, args := range [][]string{
		{"policy", "replay", "-candidate", "../../policies", "-audit-db", missing},
		{"case", "import", "-registry", registry, "-audit-db", missing, "-kind", "nl.zvh"},
		{"case", "close-orphaned", "-id", "NL-ZVH-RTM-0042", "-registry", registry, "-audit-db", missing, "-operator", "ops", "-keys", keys},
		{"case", "handover-orphaned", "-id", "NL-ZVH-RTM-0042", "-lead", "nl-probation", "-registry", registry, "-audit-db", missing, "-operator", "ops", "-keys", keys},
	} {
		var out bytes.Buffer
		err := run(t.Context(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-audit-db "+missing+": no such file") {
			t.Errorf("liaison %s: %v\n%s\nwant refused, naming -audit-db", strings.Join(args[:2], " "), err, &out)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Errorf("liaison %s created %s", strings.Join(args[:2], " "), missing)
			os.Remove(missing)
		}
	}
	db := filepath.Join(dir, "audit.db")
	writeAuditLog(t, db, time.Now().UTC().Truncate(time.Second), replayInputs(time.Now().UTC().Truncate(time.Second)))
	for _, since := range []string{"0s", "-1h"} {
		_, _, err := policyCmd(t, "replay", "-candidate", "../../policies", "-since", since, "-audit-db", db)
		if err == nil || !strings.Contains(err.Error(), "-since") || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("policy replay -since %s: %v; want refused, naming -since", since, err)
		}
	}
}

// TestNoStrayArguments: the flag package stops at the first word that is
// not a flag, and these commands did not look at what was left: one stray
// word (a boolean flag given a value, "-json true") left every flag after
// it unread, silently, so "audit query -json true -agency nl-probation"
// listed every agency's entries and "policy readiness -jurisdiction NL
// extra" answered as if nothing followed. Each refuses the word now,
// before it reaches a gateway, a file or a policy.
func TestNoStrayArguments(t *testing.T) {
	witnessKey := filepath.Join(t.TempDir(), "witness.key")
	for _, args := range [][]string{
		{"correct", "-json", "true", "-record", "x.json"},
		{"withdraw", "-restrict", "true", "-subject", "SYN-NL-0001"},
		{"audit", "corrections", "-all", "true"},
		{"audit", "query", "-json", "true", "-agency", "nl-probation"},
		{"audit", "verify", "-full", "true"},
		{"audit", "prove", "-index", "4", "extra"},
		{"audit", "report", "-with-officers", "true", "-subject", "SYN-NL-0001"},
		{"audit", "export", "-out", "export", "extra"},
		{"audit", "notices", "-late", "true"},
		{"policy", "test", "-coverage", "true"},
		{"policy", "simulate", "-input", "in.json", "extra"},
		{"policy", "bundle", "-policies", "p", "extra"},
		{"policy", "readiness", "-jurisdiction", "NL", "extra"},
		{"policy", "replay", "-candidate", "c", "extra"},
		{"provider", "-agency", "nl-probation", "extra"},
		{"witness", "-key", witnessKey, "-print-key", "true"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append(args, "-gateway", "127.0.0.1:1"), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "unexpected argument") {
			t.Errorf("liaison %s: %v; want the stray argument refused", strings.Join(args, " "), err)
		}
	}
}

// TestHealthRefusesWhatNoGatewayAnswers: liaison health asked the gateway
// about any -service, and the gateway answers one it does not list
// NotFound, which failed even a -live probe (help: "exit 0 when the
// gateway answers at all"): a liveness probe with a typo, or with
// -timeout 0, restarted a healthy gateway for ever. Both are refused
// before the call, naming the flag; the help's services are those the
// gateway reports on.
func TestHealthRefusesWhatNoGatewayAnswers(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-service", "liaison.v1.exchange", "-live"}, `-service "liaison.v1.exchange": want empty (the whole gateway) or one of liaison.v1.Exchange, liaison.v1.Audit, liaison.v1.Policy`},
		{[]string{"-service", "liaison.v1.Cases"}, `-service "liaison.v1.Cases"`},
		{[]string{"-timeout", "0", "-live"}, "-timeout 0s: must be positive"},
		{[]string{"-timeout", "-1s"}, "-timeout -1s: must be positive"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"health", "-addr", "127.0.0.1:1"}, tt.args...), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison health %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestPolicyTestRunNamesTheFlag: policy test -run with a pattern that is
// not a regular expression failed only after the policy tree had loaded,
// as "policies: test: error parsing regexp", naming no flag.
func TestPolicyTestRunNamesTheFlag(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"policy", "test", "-run", "test_[nl"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `-run "test_[nl": not a regular expression`) {
		t.Errorf("policy test -run test_[nl: %v; want refused, naming -run", err)
	}
}

// TestMatchRefusesAPurposeNotListed: liaison match sent a -purpose its help
// does not list (a typo, or "unspecified") as PURPOSE_UNSPECIFIED, and a
// -record-type of "unspecified" as RECORD_TYPE_UNSPECIFIED, for the
// gateway to refuse (and log) as a malformed request; each is refused by
// the command, naming the flag and the values it takes, as an unknown
// record type already was.
func TestMatchRefusesAPurposeNotListed(t *testing.T) {
	base := []string{"match", "-subject", "SYN-NL-0001", "-justification", "Stopped in a routine check.", "-gateway", "127.0.0.1:1"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-record-type", "risk_assessment", "-purpose", "risk-management"}, `-purpose "risk-management": accepted values are risk_management, resocialisation, maw_case_management, family_support, criminal_investigation, statistics`},
		{[]string{"-record-type", "risk_assessment", "-purpose", "unspecified"}, `-purpose "unspecified"`},
		{[]string{"-record-type", "unspecified", "-purpose", "risk_management"}, `-record-type "unspecified"`},
	} {
		var out bytes.Buffer
		err := run(t.Context(), slices.Concat(base, tt.args), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison match %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestAuditTimeFlagsNamed: audit query -from or -to that is not a time was
// refused as "audit: time ...", naming neither flag; audit corrections
// -older-than -1h was dropped as if not given, listing the recent notices
// too. Each is refused naming its flag.
func TestAuditTimeFlagsNamed(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "-from", "yesterday"}, `audit query: -from "yesterday": want a time in RFC 3339 or a date, YYYY-MM-DD`},
		{[]string{"query", "-from", "2026-11-01", "-to", "2026-13-01"}, `audit query: -to "2026-13-01"`},
		{[]string{"corrections", "-older-than", "-1h"}, "audit corrections: -older-than -1h0m0s: want a duration of 0 or more"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append(append([]string{"audit"}, tt.args...), "-gateway", "127.0.0.1:1"), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison audit %s: %v; want refused: %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestWitnessNameNamed: liaison witness -name with a space or '+', which
// its help says a name has none of, was refused as "audit: cosignature
// verifier key: invalid name", naming no flag. One with a Hangul filler or
// a variation selector (which unicode.IsPrint counts printable) made a
// key, a witness whose name looks like another's; it is refused too.
func TestWitnessNameNamed(t *testing.T) {
	for _, name := range []string{"a b", "w+1", "", "witness.liaison\u3164", "witness\u115f.liaison", "witness.liaison\ufe0f"} {
		err := run(t.Context(), []string{"witness", "-print-key", "-key", filepath.Join(t.TempDir(), "w.key"), "-name", name}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "witness: -name") {
			t.Errorf("liaison witness -name %q: %v; want refused, naming -name", name, err)
		}
	}
}
