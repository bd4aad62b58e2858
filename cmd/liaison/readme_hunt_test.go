package main

import (
	"io"
	"strings"
	"testing"
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
