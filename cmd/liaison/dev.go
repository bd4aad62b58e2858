package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
)

// devClearances are the clearance levels the gateway knows, in ascending
// order (authn's).
var devClearances = []string{"none", "restricted", "confidential", "secret", "top_secret"}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const devUsage = `usage: liaison dev pki|token [flags]

	pki      write a development CA, the gateway's and the sample agencies'
	         certificates, their issuer keys and a registry (-out DIR);
	         run again, it replaces the set in DIR with a new CA's,
	         whole or not at all
	token    mint an officer token signed by a sample agency's issuer
	         (-pki DIR -agency ID -officer ID), naming the agency in its
	         liaison_agency_id claim unless -agency-claim=false; a -ttl
	         above the agency's max_token_lifetime in the registry
	         (DIR/registry.yaml, or -registry FILE) is refused, as the
	         gateway would refuse the token (TOKEN_LIFETIME_TOO_LONG)

For development and tests only. Run "liaison dev <command> -h" for its flags.
`
	if len(args) == 0 {
		fmt.Fprint(stderr, devUsage)
		return errors.New("dev: no subcommand")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, devUsage)
		return nil
	case "pki":
		fs := flag.NewFlagSet("liaison dev pki", flag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", "dev-pki", "output `directory`")
		var provs multiFlag
		fs.Var(&provs, "provider", "a holder's RecordProvider as `agency=host:port` (repeatable)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("dev pki: unexpected argument %q (the directory is -out)", fs.Arg(0))
		}
		pm := map[string]string{}
		for _, p := range provs {
			id, addr, ok := strings.Cut(p, "=")
			if !ok {
				return fmt.Errorf("dev pki: -provider %q: want agency=host:port", p)
			}
			pm[id] = addr
		}
		// A new CA's certificates and keys only work together: the set is
		// placed whole, over an earlier one in the folder, or not at all.
		p, files, err := sample.NewPKI(*out, pm)
		if err != nil {
			return err
		}
		if err := replaceFiles(ctx, *out, files); err != nil {
			return fmt.Errorf("dev pki: %v", err)
		}
		fmt.Fprintf(stdout, "development PKI for %d sample agencies written to %s (registry: %s)\n", len(sample.SampleAgencies), p.Dir, p.Registry)
		return nil
	case "token":
		fs := flag.NewFlagSet("liaison dev token", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("pki", "dev-pki", "development PKI `directory` from `liaison dev pki`")
		agency := fs.String("agency", "", "the officer's agency `id`")
		officer := fs.String("officer", "", "the officer's `id` (sub claim)")
		roles := fs.String("roles", "case_officer", "comma-separated `roles` (white space around each dropped; one the gateway would refuse, with an invisible character, say, is an error)")
		clearance := fs.String("clearance", "restricted", "security `clearance`: "+strings.Join(devClearances, ", "))
		ttl := fs.Duration("ttl", 15*time.Minute, "token `lifetime`: at most the agency's max_token_lifetime in the registry (1h if it gives none), which the gateway holds tokens to")
		registry := fs.String("registry", "", "the registry `file` the gateway runs with, whose max_token_lifetime for -agency bounds -ttl (default: registry.yaml in the -pki directory, as liaison dev pki wrote it)")
		aud := fs.String("audience", "liaison", "the gateway's `audience`")
		agencyClaim := fs.Bool("agency-claim", true, "name the agency in the token's liaison_agency_id claim (required where its issuer serves several agencies; -agency-claim=false leaves it out)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("dev token: unexpected argument %q", fs.Arg(0))
		}
		if *agency == "" || *officer == "" {
			return errors.New("dev token: -agency and -officer are required")
		}
		// The gateway refuses a token of any other clearance (BAD_CLAIMS),
		// and one that has expired: neither is worth minting.
		if !slices.Contains(devClearances, *clearance) {
			return fmt.Errorf("dev token: -clearance %q: want one of %s", *clearance, strings.Join(devClearances, ", "))
		}
		if *ttl <= 0 {
			return fmt.Errorf("dev token: -ttl %v: must be positive", *ttl)
		}
		if err := checkTokenLifetime(*ttl, *agency, cmp.Or(*registry, filepath.Join(*dir, "registry.yaml"))); err != nil {
			return err
		}
		// Nor a role the gateway refuses (BAD_CLAIMS): " auditor" from
		// "case_officer, auditor", or "" from -roles "".
		var roleList []string
		for r := range strings.SplitSeq(*roles, ",") {
			switch r = strings.TrimSpace(r); {
			case r == "":
			case !authn.ValidRole(r):
				return errors.New("dev token: -roles: a role is not spelt as the gateway takes one (printable characters in Unicode NFC)")
			default:
				roleList = append(roleList, r)
			}
		}
		iss, err := devpki.LoadIssuer(filepath.Join(*dir, "issuers", *agency+".key"), sample.IssuerName(*agency), sample.IssuerKid(*agency))
		if err != nil {
			return err
		}
		spec := devpki.TokenSpec{Officer: *officer, Roles: roleList, Clearance: *clearance, Audience: *aud, TTL: *ttl}
		if *agencyClaim {
			spec.Agency = *agency
		}
		tok, err := iss.Mint(spec)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	}
	fmt.Fprint(stderr, devUsage)
	return fmt.Errorf("dev: unknown subcommand %q", args[0])
}

// checkTokenLifetime refuses a token lifetime the gateway would refuse
// for the agency (authn: TOKEN_LIFETIME_TOO_LONG): one above the
// agency's max_token_lifetime in the registry at path, an hour if it
// gives none. An agency the registry does not list is refused too: the
// gateway refuses every token of it.
func checkTokenLifetime(ttl time.Duration, agency, path string) error {
	reg, err := gateway.LoadRegistry(path)
	if err != nil {
		return fmt.Errorf("dev token: the registry bounds -ttl: %v (give the gateway's with -registry)", err)
	}
	a, ok := reg.Agencies[agency]
	if !ok {
		return fmt.Errorf("dev token: -agency %q is not in the registry %s, so the gateway would refuse its tokens", agency, path)
	}
	maxLife := cmp.Or(a.MaxTokenLifetime, authn.DefaultMaxTokenLifetime)
	if ttl > maxLife {
		return fmt.Errorf("dev token: -ttl %v is longer than %s's max_token_lifetime of %v in the registry %s: the gateway would refuse the token (TOKEN_LIFETIME_TOO_LONG)", ttl, agency, maxLife, path)
	}
	return nil
}
