package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyDurationsMustBePositive: -transition-window, -key-refresh and
// -key-max-stale of zero or less were taken silently, each in its own
// way. A key file's source read a transition window of 0 or -1h as the
// default 30 days, while the Vault source read 0 as 30 days and -1h as
// none, retiring every older version at once, and `liaison keys status`
// printed 30 days either way; a refresh or staleness bound of 0 or less
// became one minute or 15 minutes. Each is refused now, naming its flag.
func TestKeyDurationsMustBePositive(t *testing.T) {
	t.Setenv("VAULT_ADDR", "")
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, _, err := keys(t, "init", "-keys", path); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"keys", "status", "-keys", path, "-transition-window", "0s"}, "-transition-window"},
		{[]string{"keys", "rotate", "-keys", path, "-transition-window", "-1h"}, "-transition-window"},
		{[]string{"serve", "-keys", path, "-transition-window", "-1h", "-client-ca", "ca.pem"}, "-transition-window"},
		{[]string{"serve", "-keys", path, "-key-refresh", "0s", "-client-ca", "ca.pem"}, "-key-refresh"},
		{[]string{"serve", "-keys", path, "-key-max-stale", "-5m", "-client-ca", "ca.pem"}, "-key-max-stale"},
		{[]string{"case", "close-orphaned", "-id", "NL-ZVH-RTM-0042", "-operator", "ops", "-keys", path, "-transition-window", "-1h"}, "-transition-window"},
		{[]string{"case", "handover-orphaned", "-id", "NL-ZVH-RTM-0042", "-lead", "nl-probation", "-operator", "ops", "-keys", path, "-transition-window", "0s"}, "-transition-window"},
	} {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.flag) || !strings.Contains(err.Error(), "positive") {
			t.Errorf("liaison %s: %v; want refused, naming %s", strings.Join(tt.args, " "), err, tt.flag)
		}
	}
	// Nothing was rotated.
	out, _, err := keys(t, "status", "-keys", path)
	if err != nil || !strings.Contains(out, "current version:   1\n") {
		t.Errorf("keys status after the refused rotation: %v\n%s", err, out)
	}
}

// TestKeyRefreshWithinTheStalenessBound: a -key-refresh not shorter than
// -key-max-stale (20m against the default 15m) was taken: the keys then
// passed the staleness bound between every two refreshes, Vault up or
// not, and every call needing a pseudonym failed KEYS_UNAVAILABLE for
// five minutes in twenty (LiaisonPseudonymKeysStale firing). It is
// refused now, naming both flags.
func TestKeyRefreshWithinTheStalenessBound(t *testing.T) {
	t.Setenv("VAULT_ADDR", "")
	path := filepath.Join(t.TempDir(), "keys.json")
	for _, args := range [][]string{
		{"-key-refresh", "20m"},
		{"-key-refresh", "5m", "-key-max-stale", "5m"},
	} {
		err := run(t.Context(), append([]string{"serve", "-keys", path, "-client-ca", "ca.pem"}, args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-key-refresh") || !strings.Contains(err.Error(), "-key-max-stale") {
			t.Errorf("liaison serve %s: %v; want refused, naming -key-refresh and -key-max-stale", strings.Join(args, " "), err)
		}
	}
}
