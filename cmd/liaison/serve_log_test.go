package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer that a logger and a test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeLogsPolicyLoading: the gateway says when it starts loading the
// policy (which runs the policy's own tests and can take seconds) and when
// the policy is ready, with its revision, where its tests ran and how long
// loading took: at load for a tree of a directory, at the binary's build
// for the embedded one.
func TestServeLogsPolicyLoading(t *testing.T) {
	for _, tt := range []struct{ policies, source, testsRunAt string }{
		{"../../policies/testdata/failing", "source=dir:../../policies/testdata/failing", "load"}, // a small tree: quick to load
		{"", "source=embedded", "build"},
	} {
		var logs lockedBuffer
		startAuditStackWith(t, func(o *gatewayOptions) {
			o.Engine = nil
			o.Policies = tt.policies
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		out := logs.String()
		loading := strings.Index(out, `msg="loading policy`)
		ready := regexp.MustCompile(`msg="policy ready" policy_revision=sha256:[0-9a-f]{64} .*tests_run_at=` + tt.testsRunAt + ` load_seconds=[0-9.]+`).FindStringIndex(out)
		serving := strings.Index(out, `msg="policy activated"`)
		if loading < 0 || ready == nil || serving < 0 || !(loading < ready[0] && ready[0] < serving) {
			t.Errorf("want a line when loading starts, then one when the policy is ready with its revision, tests_run_at=%s and load time, before activation; got:\n%s", tt.testsRunAt, out)
		}
		if !strings.Contains(out[max(loading, 0):], tt.source) {
			t.Errorf("the loading line does not name the source %s:\n%s", tt.source, out)
		}
	}
}
