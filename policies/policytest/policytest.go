// Package policytest gives tests another reading of the law: the embedded
// policy tree with one text replaced in one file.
package policytest

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/liaison-gateway/liaison/policies"
)

// Patched returns the embedded policy tree, without its Rego tests (which
// the change may break), with every old replaced by new in file. It fails
// the test if file does not contain old.
func Patched(tb testing.TB, file, old, new string) fstest.MapFS {
	tb.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.rego") || strings.Contains(p, "testdata") {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if p == file {
			if !strings.Contains(string(b), old) {
				tb.Fatalf("%s does not contain %q", file, old)
			}
			b = []byte(strings.ReplaceAll(string(b), old, new))
		}
		out[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Dir writes a policy tree to a temporary directory it returns, for a
// gateway that reads its policy from disk (liaison serve -policies).
func Dir(tb testing.TB, fsys fs.FS) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, fsys); err != nil {
		tb.Fatal(err)
	}
	return dir
}
