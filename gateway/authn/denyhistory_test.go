package authn_test

import (
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/authn"
)

// TestDenyListVersion: a deny list takes at most one version line, a
// decimal number; once a numbered list is in force, a lower version, a
// list without one, or the same version with other entries is refused,
// while the same entries spelled, ordered or commented otherwise, a
// higher version, and unnumbered lists before any numbered one pass. No
// deny list at all is refused after a numbered one with entries, and
// passes after one without.
func TestDenyListVersion(t *testing.T) {
	for _, bad := range []string{"version:\n", "version:+3\n", "version:3.0\n", "version:0x10\n", "version: 3\n",
		"version:1\nversion:2\n", "version:99999999999999999999\n", "version\n"} {
		var r authn.Revocation
		if err := r.AddDenyList([]byte(bad)); err == nil {
			t.Errorf("AddDenyList(%q) = nil, want an error", bad)
		}
	}
	load := func(list string) *authn.Revocation {
		t.Helper()
		var r authn.Revocation
		if err := r.AddDenyList([]byte(list)); err != nil {
			t.Fatalf("AddDenyList(%q) = %v", list, err)
		}
		return &r
	}
	const a, b = "serial:0a\n", "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12" + "\n"
	var h authn.DenyListHistory
	// Unnumbered lists before any numbered one: no rule.
	h.Record(load(a + b))
	if err := h.Check(load("# nothing\n")); err != nil {
		t.Errorf("an unnumbered list after an unnumbered one: Check = %v, want nil", err)
	}
	if load("version:5\n"+a).DenyListVersioned() != true || load(a).DenyListVersioned() {
		t.Error("DenyListVersioned does not tell a numbered list from an unnumbered one")
	}
	h.Record(load("version:5\n" + a + b))
	for _, c := range []struct {
		name, list string
		want       string // in the error; "" passes
	}{
		{"the same list", "version:5\n" + a + b, ""},
		{"the same entries spelled, ordered and commented otherwise", "# stolen laptop\nsha256:" + strings.ToUpper(b[len("sha256:"):]) + "serial:000A\nversion:05\n" + a, ""},
		{"a higher version", "version:6\n", ""},
		{"a lower version", "version:4\n" + a + b, "is older than the one in force before (version 5)"},
		{"no version", a + b, "has no version line, and the one in force before has version 5"},
		{"the same version, other entries", "version:5\n" + a, "differs from the one in force before, of the same version"},
		{"no deny list", "", "there is no deny list, and the one in force before (version 5) has entries"},
	} {
		r := load(c.list)
		if c.list == "" {
			r = &authn.Revocation{}
		}
		err := h.Check(r)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Check = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Check = %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// The newest recorded counts.
	h.Record(load("version:7\n"))
	h.Record(load("version:6\n"))
	if err := h.Check(load("version:6\n")); err == nil {
		t.Error("version 6 passes after version 7 was in force")
	}
	// Version 7 has no entries: it retired the list, which may now be
	// dropped.
	if err := h.Check(&authn.Revocation{}); err != nil {
		t.Errorf("no deny list after version 7, without entries: Check = %v, want nil", err)
	}
}

// TestUnnumberedDenyListNotDropped: a deny list without a version line is
// not dropped while it has entries: no deny list at all after it is
// refused, saying how to retire it; after it, emptied, no deny list
// passes. Only a numbered list was kept: dropping an unnumbered one
// passed, and every revocation of it was gone.
func TestUnnumberedDenyListNotDropped(t *testing.T) {
	load := func(list string) *authn.Revocation {
		t.Helper()
		var r authn.Revocation
		if err := r.AddDenyList([]byte(list)); err != nil {
			t.Fatalf("AddDenyList(%q) = %v", list, err)
		}
		return &r
	}
	var h authn.DenyListHistory
	h.Record(load("serial:0a\n"))
	if err := h.Check(&authn.Revocation{}); err == nil || !strings.Contains(err.Error(), "there is no deny list, and the one in force before (no version) has entries") ||
		!strings.Contains(err.Error(), "put in force a deny list with no entries") {
		t.Errorf("no deny list after an unnumbered one with entries: Check = %v, want it refused", err)
	}
	h.Record(load("# retired\n"))
	if err := h.Check(&authn.Revocation{}); err != nil {
		t.Errorf("no deny list after the unnumbered one emptied: Check = %v, want nil", err)
	}
}
