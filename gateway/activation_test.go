package gateway_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// copyEmbedded writes the embedded policy tree into a directory.
func copyEmbedded(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Legal officers change the policy directory while requests run: a good
// change goes live without a restart and without failing a request; a
// broken one leaves the previous revision in force and is reported; every
// attempt is in the audit log with its digest.
func TestPolicyHotReload(t *testing.T) {
	dir := copyEmbedded(t)
	s := startStack(t, stackOptions{policyDir: dir})
	lo := liaisonv1.NewPolicyClient(s.conn(t, officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}))
	st0, err := lo.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st0.GetJurisdictions()) < 6 {
		t.Errorf("status lists jurisdictions %v, want the six packs", st0.GetJurisdictions())
	}

	// Requests run throughout.
	var failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex := s.exchange(t, nlPolice)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := ex.Request(t.Context(), riskRequest); err != nil {
					failures.Add(1)
				}
			}
		}()
	}

	// A good change: a harmless edit to a pack (a comment changes the revision).
	nl := filepath.Join(dir, "nl", "nl.rego")
	b, _ := os.ReadFile(nl)
	if err := os.WriteFile(nl, append(b, []byte("\n# amended by the legal officer\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	var st1 *liaisonv1.GetStatusResponse
	// Activation runs the candidate's own Rego tests: on a loaded machine
	// that takes far longer than eventually's 15 s.
	slowly(t, "the good change to go live", func() bool {
		st1, _ = lo.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
		return st1.GetRevision() != st0.GetRevision()
	})

	// A broken change: a syntax error. The good revision stays.
	if err := os.WriteFile(nl, append(b, []byte("\nbroken rule {{{\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	var st2 *liaisonv1.GetStatusResponse
	slowly(t, "the broken change to be refused", func() bool {
		st2, _ = lo.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
		return st2.GetLastAttempt() != nil && !st2.GetLastAttempt().GetOk()
	})
	if st2.GetRevision() != st1.GetRevision() || st2.GetLastAttempt().GetError() == "" {
		t.Errorf("after a broken change: revision %s (want %s), last attempt %v", st2.GetRevision(), st1.GetRevision(), st2.GetLastAttempt())
	}
	// Reload through the RPC says the same.
	rr, err := lo.Reload(t.Context(), &liaisonv1.ReloadRequest{})
	if err != nil || rr.GetActivation().GetOk() {
		t.Errorf("Reload of a broken tree = %v, %v; want a refused activation", rr, err)
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d requests failed during the activations", n)
	}

	// The decisions after the change carry the new revision, and the log
	// holds each attempt.
	resp, err := s.exchange(t, nlPolice).Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	if e := s.entry(t, resp.GetReleased().GetAuditIndex()); e.PolicyRevision != st1.GetRevision() {
		t.Errorf("decision under %s, want the activated %s", e.PolicyRevision, st1.GetRevision())
	}
	n, _ := s.store.Size(t.Context())
	var ok, failed int
	for i := range n {
		e := s.entry(t, i)
		if e.Action != "policy_activate" {
			continue
		}
		if e.Detail["digest"] == "" {
			t.Errorf("activation entry %d has no digest", i)
		}
		switch e.Outcome {
		case "ok":
			ok++
		case "failed":
			failed++
			if !strings.Contains(e.Detail["error"], "nl.rego") {
				t.Errorf("failed activation's error %q does not name the file", e.Detail["error"])
			}
		}
	}
	if ok < 1 || failed < 2 {
		t.Errorf("activation entries: %d ok, %d failed; want at least 1 and 2", ok, failed)
	}
}

func TestReadinessRPC(t *testing.T) {
	s := startStack(t, stackOptions{})
	lo := liaisonv1.NewPolicyClient(s.conn(t, officer{"dk-prison-east", "lo.holm", []string{"legal_officer"}, "confidential"}))
	for _, j := range []string{"DK", "NL", "BE", "FR", "DE-BY", "DE-NI"} {
		r, err := lo.GetReadiness(t.Context(), &liaisonv1.GetReadinessRequest{Jurisdiction: j})
		if err != nil {
			t.Fatalf("GetReadiness(%s): %v", j, err)
		}
		if !strings.Contains(r.GetMarkdown(), j) || len(r.GetReport().GetFields()) == 0 {
			t.Errorf("GetReadiness(%s): markdown %d bytes, report %d fields", j, len(r.GetMarkdown()), len(r.GetReport().GetFields()))
		}
	}
	// A code with no pack, and one spelt in lower case: InvalidArgument,
	// naming the field, what would be right and (policy.proto) the codes
	// there are: a lower-case code was told its upper case alone.
	for j, want := range map[string]string{"XX": "whose packs are BE, DE-BY, DE-NI, DK, FR, NL",
		"de-by": `codes are upper case: "DE-BY" (the active policy's packs are BE, DE-BY, DE-NI, DK, FR, NL)`} {
		_, err := lo.GetReadiness(t.Context(), &liaisonv1.GetReadinessRequest{Jurisdiction: j})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "jurisdiction") || !strings.Contains(status.Convert(err).Message(), want) {
			t.Errorf("GetReadiness(%s): %v; want InvalidArgument naming jurisdiction and saying %s", j, err, want)
		}
	}
}

// slowly retries f for up to two minutes, for steps that run a policy's
// own tests.
func slowly(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("%s: not within 2 minutes", what)
}

// TestReloadOfTheDefaultSource: Config.PolicySourceSpec left zero means
// the embedded policy, as Config says, for Reload too: a legal officer's
// Reload activates it again, rather than failing ("invalid Source") and
// recording a refused activation.
func TestReloadOfTheDefaultSource(t *testing.T) {
	s := startStack(t, stackOptions{zeroPolicySource: true})
	lo := liaisonv1.NewPolicyClient(s.conn(t, officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}))
	rr, err := lo.Reload(t.Context(), &liaisonv1.ReloadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a := rr.GetActivation()
	if !a.GetOk() || a.GetError() != "" || a.GetSource() != "embedded" {
		t.Errorf("Reload with the default source = %v; want the embedded policy activated", a)
	}
	st, err := lo.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.GetLastAttempt().GetOk() || st.GetRevision() != a.GetRevision() {
		t.Errorf("status after Reload = %v; want the reloaded revision %s active", st, a.GetRevision())
	}
}
