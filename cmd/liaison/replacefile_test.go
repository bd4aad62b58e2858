package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// withFileSizeLimit runs f while files of this process may grow to limit
// bytes (Go ignores SIGXFSZ: a write past it fails EFBIG), as a full disk
// would cut them. Any process may lower its own soft limit.
func withFileSizeLimit(t *testing.T, limit uint64, f func()) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal("read the file size limit:", err)
	}
	small := lim
	small.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Fatal("lower the file size limit:", err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
	}()
	f()
}

// writeSigningKey writes a new P-256 signing key, mode 0600, to path.
func writeSigningKey(t *testing.T, path string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyBundleWriteFailureKeepsTheEarlierBundle: a policy bundle
// whose write fails (a full disk; here the process's file size limit)
// leaves the bundle and the public key already there byte for byte, and
// no temporary file beside them. The command truncated -out and wrote it
// in place: the failed write left a cut-off bundle where the gateway's
// good one was, which the gateway then refused on its next start or
// reload.
func TestPolicyBundleWriteFailureKeepsTheEarlierBundle(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	copyPolicyTree(t, tree, nil)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	key1, key2 := filepath.Join(dir, "key1.pem"), filepath.Join(dir, "key2.pem")
	writeSigningKey(t, key1)
	writeSigningKey(t, key2)
	bundle, pub := filepath.Join(out, "policy.tar.gz"), filepath.Join(out, "policy.pub.pem")
	if o, _, err := policyCmd(t, "bundle", "-policies", tree, "-out", bundle, "-signing-key", key1, "-public-key-out", pub); err != nil {
		t.Fatalf("the earlier policy bundle = %v\n%s", err, o)
	}
	before := folderFiles(t, out)
	const limit = 4096
	if n := len(before["policy.tar.gz"]); n <= limit {
		t.Fatalf("the bundle has %d bytes, not more than the limit of %d the test cuts it at", n, limit)
	}

	var o string
	var err error
	withFileSizeLimit(t, limit, func() {
		o, _, err = policyCmd(t, "bundle", "-policies", tree, "-out", bundle, "-signing-key", key2, "-key-id", "second", "-public-key-out", pub)
	})
	if err == nil {
		t.Fatalf("policy bundle with the bundle cut at %d bytes = nil error\n%s", limit, o)
	}
	if !strings.Contains(err.Error(), bundle) {
		t.Errorf("the error does not name the bundle: %v", err)
	}
	after := folderFiles(t, out)
	for _, name := range []string{"policy.tar.gz", "policy.pub.pem"} {
		if after[name] != before[name] {
			t.Errorf("the failed bundle (%v) changed the earlier %s: %d bytes, was %d", err, name, len(after[name]), len(before[name]))
		}
	}
	if names := folderNames(t, out); !slices.Equal(names, []string{"policy.pub.pem", "policy.tar.gz"}) {
		t.Errorf("the failed bundle left %q", names)
	}
	// The earlier bundle still loads with its key.
	if o, _, err := policyCmd(t, "test", "-policies", bundle, "-verification-key", pub); err != nil {
		t.Errorf("policy test on the earlier bundle after the failed one = %v\n%s", err, o)
	}
}

// TestReplaceFileKeepsTheEarlierFile: replaceFile, which the policy
// bundle's -out and -public-key-out and exercise run's -out write
// through, leaves the file already at the path byte for byte when its
// write fails, and nothing beside it; when it succeeds the path holds the
// new bytes whole, with the mode given, also through a symbolic link.
func TestReplaceFileKeepsTheEarlierFile(t *testing.T) {
	earlier := []byte(strings.Repeat("the earlier good file\n", 10))
	later := bytes.Repeat([]byte("the later file, cut by the failure\n"), 400)
	for _, tc := range []struct {
		name string
		// setup makes the write at path fail, and returns what path
		// must hold afterwards (nil: a folder).
		setup func(t *testing.T, path string) []byte
		limit uint64
	}{
		{name: "the write is cut", limit: 4096, setup: func(t *testing.T, path string) []byte {
			if err := os.WriteFile(path, earlier, 0o644); err != nil {
				t.Fatal(err)
			}
			return earlier
		}},
		{name: "the path is a folder", setup: func(t *testing.T, path string) []byte {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "file")
			want := tc.setup(t, path)
			var err error
			if tc.limit > 0 {
				withFileSizeLimit(t, tc.limit, func() { err = replaceFile(path, later, 0o644) })
			} else {
				err = replaceFile(path, later, 0o644)
			}
			if err == nil {
				t.Fatal("replaceFile = nil error; want the failure")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("replaceFile error does not name the file: %v", err)
			}
			if want == nil {
				if fi, serr := os.Stat(path); serr != nil || !fi.IsDir() {
					t.Errorf("the folder at the path is gone (%v)", serr)
				}
			} else if got, rerr := os.ReadFile(path); rerr != nil || !bytes.Equal(got, want) {
				t.Errorf("the failed replaceFile (%v) changed the earlier file: %d bytes (%v), was %d", err, len(got), rerr, len(want))
			}
			if names := folderNames(t, dir); !slices.Equal(names, []string{"file"}) {
				t.Errorf("the failed replaceFile left %q", names)
			}
		})
	}
	t.Run("through a link", func(t *testing.T) {
		dir := t.TempDir()
		target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
		if err := os.WriteFile(target, earlier, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("target", link); err != nil {
			t.Fatal(err)
		}
		if err := replaceFile(link, later, 0o644); err != nil {
			t.Fatal("replaceFile:", err)
		}
		if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, later) {
			t.Errorf("the link's target holds %d bytes (%v); want the %d written", len(got), err, len(later))
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link is no longer a link (%v)", err)
		}
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("the file's mode = %v (%v); want 0644", fi.Mode().Perm(), err)
		}
		if names := folderNames(t, dir); !slices.Equal(names, []string{"link", "target"}) {
			t.Errorf("replaceFile left %q", names)
		}
	})
}

// TestExerciseReportsWriteFailureKeepsTheEarlierReports: exercise run
// -out into a folder holding earlier reports, whose write fails, leaves
// each earlier report byte for byte. The command truncated each report
// and wrote it in place: a failed write left a cut-off report.
func TestExerciseReportsWriteFailureKeepsTheEarlierReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	earlier := map[string][]byte{"s.md": []byte("# the earlier report\n"), "s.html": []byte("<p>the earlier report</p>\n")}
	if err := writeReports(t.Context(), dir, earlier, nil); err != nil {
		t.Fatal("writeReports:", err)
	}
	later := map[string][]byte{
		"s.md":   bytes.Repeat([]byte("a later report, cut by the failure\n"), 400),
		"s.html": bytes.Repeat([]byte("<p>a later report, cut by the failure</p>\n"), 400),
	}
	var err error
	withFileSizeLimit(t, 4096, func() { err = writeReports(t.Context(), dir, later, nil) })
	if err == nil || !strings.Contains(err.Error(), "-out") {
		t.Fatalf("writeReports with the reports cut at 4 KiB = %v; want an error naming -out", err)
	}
	got := folderFiles(t, dir)
	for n, b := range earlier {
		if got[n] != string(b) {
			t.Errorf("the failed write (%v) changed the earlier %s: %d bytes, was %d", err, n, len(got[n]), len(b))
		}
	}
	if len(got) != len(earlier) {
		t.Errorf("the failed write left %d files; want the %d earlier reports", len(got), len(earlier))
	}
	// The reports of one run go together: when one fits and the other is
	// cut, neither is replaced. Each report was replaced on its own, so the
	// folder held the later HTML report beside the earlier Markdown one.
	mixed := map[string][]byte{"s.html": []byte("<p>a later report that fits</p>\n"), "s.md": later["s.md"]}
	withFileSizeLimit(t, 4096, func() { err = writeReports(t.Context(), dir, mixed, nil) })
	if err == nil {
		t.Fatal("writeReports with the Markdown report cut at 4 KiB succeeded")
	}
	got = folderFiles(t, dir)
	for n, b := range earlier {
		if got[n] != string(b) {
			t.Errorf("the failed write of one report (%v) changed the earlier %s: %q", err, n, got[n])
		}
	}
	if len(got) != len(earlier) {
		t.Errorf("the failed write left %d files; want the %d earlier reports", len(got), len(earlier))
	}
}

// TestExerciseRunWithoutCompareRemovesTheEarlierComparison: `exercise run
// -out DIR` without -compare, into a folder holding an earlier run's
// report and comparison, leaves this run's report and no comparison: the
// earlier comparison beside the new report read as this run's. A write
// that fails leaves the earlier report and comparison as they were, and
// no file set aside.
func TestExerciseRunWithoutCompareRemovesTheEarlierComparison(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	earlier := map[string][]byte{
		"dk-release.md": []byte("# the earlier report\n"), "dk-release.html": []byte("<p>the earlier report</p>\n"),
		"dk-release.compare.md": []byte("# the earlier comparison\n"), "dk-release.compare.html": []byte("<p>the earlier comparison</p>\n"),
		"other.compare.md": []byte("# another scenario's comparison\n"),
	}
	if err := writeReports(t.Context(), dir, earlier, nil); err != nil {
		t.Fatal("writeReports:", err)
	}
	stale := []string{"dk-release.compare.md", "dk-release.compare.html"}
	later := map[string][]byte{
		"dk-release.md":   bytes.Repeat([]byte("a later report, cut by the failure\n"), 400),
		"dk-release.html": []byte("<p>a later report that fits</p>\n"),
	}
	var err error
	withFileSizeLimit(t, 4096, func() { err = writeReports(t.Context(), dir, later, stale) })
	if err == nil || !strings.Contains(err.Error(), "-out") {
		t.Fatalf("writeReports with the report cut at 4 KiB = %v; want an error naming -out", err)
	}
	if got := folderFiles(t, dir); len(got) != len(earlier) {
		t.Errorf("the failed write left %v; want the earlier reports and comparisons only", slices.Sorted(maps.Keys(got)))
	} else {
		for n, b := range earlier {
			if got[n] != string(b) {
				t.Errorf("the failed write (%v) changed the earlier %s: %q", err, n, got[n])
			}
		}
	}

	scenario := filepath.Join("..", "..", "exercise", "testdata", "dk-release.yaml")
	var stdout, stderr bytes.Buffer
	if err := runExercise(t.Context(), []string{"run", "-out", dir, scenario}, &stdout, &stderr); err != nil {
		t.Fatalf("exercise run: %v\n%s", err, &stderr)
	}
	got := folderFiles(t, dir)
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, []string{"dk-release.html", "dk-release.md", "other.compare.md"}) {
		t.Errorf("after a run without -compare the folder holds %v; want this run's report and the other scenario's comparison", names)
	}
	if got["dk-release.md"] != stdout.String() || got["other.compare.md"] != string(earlier["other.compare.md"]) {
		t.Errorf("the report written is not the one printed, or another scenario's comparison changed")
	}
}
