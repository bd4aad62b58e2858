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
// the policy is ready, with its revision and how long loading took.
func TestServeLogsPolicyLoading(t *testing.T) {
	var logs lockedBuffer
	startAuditStackWith(t, func(o *gatewayOptions) {
		o.Engine = nil
		o.Policies = "../../policies/testdata/failing" // a small tree: quick to load
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	out := logs.String()
	loading := strings.Index(out, `msg="loading policy`)
	ready := regexp.MustCompile(`msg="policy ready" policy_revision=sha256:[0-9a-f]{64} .*load_seconds=[0-9.]+`).FindStringIndex(out)
	serving := strings.Index(out, `msg="policy activated"`)
	if loading < 0 || ready == nil || serving < 0 || !(loading < ready[0] && ready[0] < serving) {
		t.Errorf("want a line when loading starts, then one when the policy is ready with its revision and load time, before activation; got:\n%s", out)
	}
	if !strings.Contains(out[loading:], "source=dir:../../policies/testdata/failing") {
		t.Errorf("the loading line does not name the source:\n%s", out)
	}
}
