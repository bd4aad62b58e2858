package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// witnessPolicyFlags are an auditor's witness policy: k of n named witness
// keys, for audit verify and audit export.
type witnessPolicyFlags struct {
	keys   multiFlag
	quorum int
}

func (w *witnessPolicyFlags) flags(fs *flag.FlagSet) {
	fs.Var(&w.keys, "witness-key", "a witness's cosignature verifier `key` (name+hash+base64), or @file; the checkpoint must be cosigned by -witness-quorum of them (repeatable)")
	decimalVar(fs, &w.quorum, "witness-quorum", 0, "how many of the -witness-key witnesses must have cosigned the checkpoint (`k` of n; 0 means all of them)")
}

// policy returns the witness policy, or nil if no witness key was given.
func (w *witnessPolicyFlags) policy() (*audit.WitnessPolicy, error) {
	if len(w.keys) == 0 {
		if w.quorum != 0 {
			return nil, fmt.Errorf("audit: -witness-quorum %d without any -witness-key", w.quorum)
		}
		return nil, nil
	}
	p := &audit.WitnessPolicy{Quorum: w.quorum}
	for _, k := range w.keys {
		text, err := keyText("-witness-key", k)
		if err != nil {
			return nil, fmt.Errorf("audit: %v", err)
		}
		v, err := audit.NewCosignatureVerifier(text)
		if err != nil {
			return nil, err
		}
		p.Witnesses = append(p.Witnesses, v)
	}
	if p.Quorum == 0 {
		p.Quorum = len(p.Witnesses)
	}
	if err := p.Valid(); err != nil {
		return nil, err
	}
	return p, nil
}

// printCosigners says which of the policy's witnesses cosigned.
func printCosigners(w io.Writer, p *audit.WitnessPolicy, who []string) {
	if p == nil {
		return
	}
	fmt.Fprintf(w, "cosigned by %d of %d named witnesses (%s); the policy needs %d\n", len(who), len(p.Witnesses), strings.Join(who, ", "), p.Quorum)
}

// checkExportWitnesses applies the policy to an export's checkpoint.
func checkExportWitnesses(p *audit.WitnessPolicy, signed []byte, v note.Verifier) ([]string, error) {
	if p == nil {
		return nil, nil
	}
	return p.Check(signed, v)
}
