package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/policies"
)

// TestDemoShowsHowToCheckItsLog runs the demo with a kept data folder: it
// must print the checkpoint verifier key, keep it and an export of the
// log, and print commands that check them, which this test then runs.
func TestDemoShowsHowToCheckItsLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"demo", "-dir", dir}, &out, &out); err != nil {
		t.Fatalf("demo -dir: %v\n%s", err, &out)
	}
	text := out.String()
	key, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil {
		t.Fatalf("the demo kept no verifier key: %v", err)
	}
	vkey := strings.TrimSpace(string(key))
	if !strings.HasPrefix(vkey, "demo.liaison.test+") || !strings.Contains(text, "verifier key: "+vkey) {
		t.Errorf("the demo did not print its verifier key %q:\n%s", vkey, text)
	}
	exp := filepath.Join(dir, "export")
	keyFile := filepath.Join(dir, "verifier.key")
	for _, want := range []string{
		`go run ./docs/auditor -key "$(cat ` + keyFile + `)" ` + exp,
		"liaison audit export -gateway ",
		"liaison dev token -pki " + filepath.Join(dir, "pki") + " -agency dk-prison-east -officer dpo.kristensen -roles auditor",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	// Run the printed offline check as printed.
	var line string
	for l := range strings.Lines(text) {
		if _, cmd, ok := strings.Cut(l, "liaison audit verify -export "); ok {
			line = "audit verify -export " + strings.TrimSpace(cmd)
		}
	}
	if line == "" {
		t.Fatalf("the demo printed no liaison audit verify -export command:\n%s", text)
	}
	var vout bytes.Buffer
	if err := run(t.Context(), strings.Fields(line), &vout, &vout); err != nil || !strings.Contains(vout.String(), "OK") {
		t.Errorf("liaison %s: %v\n%s", line, err, &vout)
	}
	// The export is the log: change an entry and the printed check fails.
	entries := filepath.Join(exp, "entries.jsonl")
	b, _ := os.ReadFile(entries)
	if err := os.WriteFile(entries, bytes.Replace(b, []byte("risk_management"), []byte("statistics"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	vout.Reset()
	if err := run(t.Context(), strings.Fields(line), &vout, &vout); err == nil || !strings.Contains(err.Error(), "match") {
		t.Errorf("liaison %s on a changed export: %v, want an entry that does not match\n%s", line, err, &vout)
	}
}

// TestDemoRefusesUsedFolders: a demo keeps its data in a folder of its
// own. Run again with the same -dir, it failed half-way ("a case
// NL-ZVH-RTM-0107 exists already", or the cross-border demo's missing
// notice) after appending entries dated days before the first run's to the
// log kept for a look; -export into a folder that holds something failed
// only after the whole scenario; and an argument that is not a command
// ran the demo anyway. Each is refused before anything starts, naming the
// flag and the folder, and the kept log is left as it was.
func TestDemoRefusesUsedFolders(t *testing.T) {
	used := t.TempDir()
	db := filepath.Join(used, "audit.db")
	if err := os.WriteFile(db, []byte("a previous demo's log"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The export, written as a new folder in place of an empty one, would
	// replace the current folder (and fail at the end of the demo).
	t.Chdir(t.TempDir())
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "-dir", used}, "demo: -dir " + used + " is not empty"},
		{[]string{"demo", "-export", used}, "demo: -export " + used + " is not empty"},
		{[]string{"demo", "-export", "."}, "demo: -export . is the current folder"},
		{[]string{"demo", "cross-border", "-dir", used}, "demo cross-border: -dir " + used + " is not empty"},
		{[]string{"demo", "crossborder"}, `demo: unexpected argument "crossborder"`},
	} {
		var out bytes.Buffer
		err := run(t.Context(), tt.args, &out, &out)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("liaison %s: %v, want an error starting %q", strings.Join(tt.args, " "), err, tt.want)
		}
		if strings.Contains(out.String(), "Liaison demo") {
			t.Errorf("liaison %s started the demo:\n%s", strings.Join(tt.args, " "), &out)
		}
	}
	if b, _ := os.ReadFile(db); string(b) != "a previous demo's log" {
		t.Errorf("the kept audit.db was changed: %q", b)
	}
}

// TestDemoChecksWhatItPrints: the demo exits 0 only if every outcome is
// the expected one. Under a policy that refuses the NGO for another reason
// than the embedded one's, it printed the refusal and went on.
func TestDemoChecksWhatItPrints(t *testing.T) {
	pol := t.TempDir()
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasSuffix(p, "_test.rego") || !strings.HasSuffix(p, ".rego") {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(`"ASSESSMENT_TO_NGO"`), []byte(`"NGO_REFUSED"`))
		if err := os.MkdirAll(filepath.Join(pol, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(pol, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	d := &demo{out: &out, start: time.Now(), clock: newDemoClock(), policies: pol}
	err = d.run(t.Context(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `refused with reason "NGO_REFUSED", want ASSESSMENT_TO_NGO`) {
		t.Fatalf("demo under a policy refusing the NGO otherwise: %v; want the unexpected reason named\n%s", err, &out)
	}
}
