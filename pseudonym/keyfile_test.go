package pseudonym_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// ringVersions returns the versions a key source serves, sorted.
func ringVersions(t *testing.T, src pseudonym.KeySource) (current int, versions []int) {
	t.Helper()
	ring, err := src.Keys(t.Context())
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	for v := range ring.Versions {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return ring.Current, versions
}

func newKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if created, err := pseudonym.CreateKeyFile(path); err != nil || !created {
		t.Fatalf("CreateKeyFile = %v, %v; want true, nil", created, err)
	}
	return path
}

func TestKeyFileWithoutCreationTimesIsCurrentEra(t *testing.T) {
	// A key file as written before creation times were recorded.
	path := filepath.Join(t.TempDir(), "keys.json")
	old := `{"current": 2, "keys": {"1": "` + b64(1) + `", "2": "` + b64(2) + `"}, "audit": "` + b64(9) + `"}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	far := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	src := pseudonym.FileKeys{Path: path, TransitionWindow: time.Hour, Now: func() time.Time { return far }}
	if cur, vs := ringVersions(t, src); cur != 2 || !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("old-format file: current %d, versions %v; want 2, [1 2] (no times: nothing retires)", cur, vs)
	}

	// The first rotation gives version 2 a successor with a known time:
	// version 1 stays (its successor's time is unknown), version 2 retires
	// when the window after version 3's creation ends.
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if v, err := pseudonym.RotateKeyFile(path, t0); err != nil || v != 3 {
		t.Fatalf("RotateKeyFile = %d, %v; want 3", v, err)
	}
	at := func(now time.Time) pseudonym.FileKeys {
		return pseudonym.FileKeys{Path: path, TransitionWindow: time.Hour, Now: func() time.Time { return now }}
	}
	if _, vs := ringVersions(t, at(t0.Add(59*time.Minute))); !slices.Equal(vs, []int{1, 2, 3}) {
		t.Errorf("in the window: versions %v; want [1 2 3]", vs)
	}
	if _, vs := ringVersions(t, at(t0.Add(61*time.Minute))); !slices.Equal(vs, []int{1, 3}) {
		t.Errorf("after the window: versions %v; want [1 3] (2 retired, 1 has no known successor time)", vs)
	}
}

// b64 returns the base64 of a 32-byte key filled with b.
func b64(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

func TestRotateKeyFileWithTransitionWindow(t *testing.T) {
	path := newKeyFile(t)
	t0 := time.Now().Add(time.Minute).Truncate(time.Second)
	now := t0
	src := pseudonym.FileKeys{Path: path, TransitionWindow: 24 * time.Hour, Now: func() time.Time { return now }}
	var rotations [][2]int
	var retirements []string
	p, err := pseudonym.New(t.Context(), pseudonym.Config{
		Source: src, Now: func() time.Time { return now },
		OnRotate: func(_ context.Context, from, to int, _ []int) { rotations = append(rotations, [2]int{from, to}) },
		OnRetire: func(_ context.Context, retired []int, cur int, _ []int) {
			retirements = append(retirements, fmt.Sprint(retired, cur))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const domain, id = "case/NL-ZVH-RTM-0042", "SYN-NL-0001"
	v1, _ := p.Pseudonym(domain, id)
	audit1, _ := p.AuditPseudonym(id)
	before, _ := os.ReadFile(path)

	v, err := pseudonym.RotateKeyFile(path, t0)
	if err != nil || v != 2 {
		t.Fatalf("RotateKeyFile = %d, %v; want 2", v, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode after rotation = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries after rotation; want only the key file (no temporary left)", len(ents))
	}
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rotations, [][2]int{{1, 2}}) {
		t.Errorf("OnRotate calls = %v; want [[1 2]]", rotations)
	}
	v2, _ := p.Pseudonym(domain, id)
	if p.CurrentVersion() != 2 || v2 == v1 || v2[:6] != "psn:2:" {
		t.Fatalf("after rotation: version %d, pseudonym %q (was %q)", p.CurrentVersion(), v2, v1)
	}
	// In the window: version 1 keeps its key, so the same pseudonym, and
	// both versions resolve.
	if again, err := p.PseudonymAt(1, domain, id); err != nil || again != v1 {
		t.Errorf("PseudonymAt(1) in the window = %q, %v; want %q", again, err, v1)
	}
	for _, ps := range []string{v1, v2} {
		if got, err := p.Resolve(domain, ps); err != nil || got != id {
			t.Errorf("Resolve(%q) in the window = %v, %v; want the subject", ps, got == id, err)
		}
	}
	if a, _ := p.AuditPseudonym(id); a != audit1 {
		t.Errorf("audit pseudonym changed with rotation: %q -> %q", audit1, a)
	}
	if err := p.Reload(t.Context()); err != nil || len(rotations) != 1 {
		t.Errorf("Reload without a change: err %v, OnRotate calls %v; want one call in all", err, rotations)
	}
	if len(retirements) != 0 {
		t.Errorf("OnRetire calls in the window = %v; want none", retirements)
	}

	// After the window, version 1 is retired.
	now = t0.Add(24*time.Hour + time.Second)
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = p.PseudonymAt(1, domain, id)
	if kv, ok := errors.AsType[*pseudonym.KeyVersionError](err); !ok || kv.Version != 1 {
		t.Errorf("PseudonymAt(1) after the window: err = %v; want KeyVersionError{1}", err)
	}
	if _, err := p.Resolve(domain, v1); err == nil {
		t.Error("a version-1 pseudonym resolved after its version retired")
	}
	if got, err := p.Resolve(domain, v2); err != nil || got != id {
		t.Errorf("Resolve(version 2) after the window = %v, %v", got == id, err)
	}
	// The retirement was reported once, naming version 1 and the current
	// version, so that the gateway audits it; a later reload reports
	// nothing more.
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(retirements, []string{"[1] 2"}) || len(rotations) != 1 {
		t.Errorf("OnRetire calls = %q, OnRotate calls %v; want [\"[1] 2\"] and the one rotation", retirements, rotations)
	}

	// The rotation kept the old key and the audit key byte for byte.
	var a, b struct {
		Keys  map[string]string
		Audit string
	}
	after, _ := os.ReadFile(path)
	json.Unmarshal(before, &a)
	json.Unmarshal(after, &b)
	if b.Keys["1"] != a.Keys["1"] || b.Audit != a.Audit || len(b.Keys["2"]) != 44 || b.Keys["2"] == a.Keys["1"] {
		t.Errorf("rotation changed existing keys or made a bad new one:\nbefore %s\nafter  %s", before, after)
	}
}

func TestKeyFileDefaultTransitionWindowIs30Days(t *testing.T) {
	path := newKeyFile(t)
	t0 := time.Now().Add(time.Minute).Truncate(time.Second)
	if _, err := pseudonym.RotateKeyFile(path, t0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after time.Duration
		want  []int
	}{
		{29 * 24 * time.Hour, []int{1, 2}},
		{30*24*time.Hour - time.Second, []int{1, 2}},
		{30*24*time.Hour + time.Second, []int{2}},
	} {
		now := t0.Add(tt.after)
		if _, vs := ringVersions(t, pseudonym.FileKeys{Path: path, Now: func() time.Time { return now }}); !slices.Equal(vs, tt.want) {
			t.Errorf("%v after rotation: versions %v; want %v", tt.after, vs, tt.want)
		}
	}
}

func TestKeyFileSchedule(t *testing.T) {
	path := newKeyFile(t)
	t1 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(10 * 24 * time.Hour)
	pseudonym.RotateKeyFile(path, t1)
	pseudonym.RotateKeyFile(path, t2)
	now := t1.Add(5 * 24 * time.Hour)
	cur, sched, err := pseudonym.FileKeys{Path: path, TransitionWindow: 7 * 24 * time.Hour, Now: func() time.Time { return now }}.Schedule()
	if err != nil || cur != 3 || len(sched) != 3 {
		t.Fatalf("Schedule = %d, %v, %v; want current 3 and three versions", cur, sched, err)
	}
	want := []struct {
		retires time.Time
		live    bool
	}{
		{t1.Add(7 * 24 * time.Hour), true}, // version 1: successor made at t1
		{t2.Add(7 * 24 * time.Hour), true}, // version 2: successor made at t2
		{time.Time{}, true},                // version 3: current
	}
	for i, w := range want {
		if g := sched[i]; g.Version != i+1 || !g.Retires.Equal(w.retires) || g.Live != w.live {
			t.Errorf("Schedule()[%d] = %+v; want version %d retiring %v, live %v", i, g, i+1, w.retires, w.live)
		}
	}
	if !sched[1].Created.Equal(t1) || sched[0].Created.IsZero() {
		t.Errorf("creation times %v, %v; want version 1 set by CreateKeyFile and version 2 = %v", sched[0].Created, sched[1].Created, t1)
	}
	now = t1.Add(8 * 24 * time.Hour)
	_, sched, _ = pseudonym.FileKeys{Path: path, TransitionWindow: 7 * 24 * time.Hour, Now: func() time.Time { return now }}.Schedule()
	if sched[0].Live || !sched[1].Live {
		t.Errorf("8 days after t1: live = %v, %v; want version 1 retired, 2 live", sched[0].Live, sched[1].Live)
	}
}

func TestRotateKeyFileRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := pseudonym.RotateKeyFile(filepath.Join(dir, "missing.json"), time.Now()); err == nil {
		t.Error("RotateKeyFile of a missing file succeeded")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"current": 3, "keys": {"1": "`+b64(1)+`"}, "audit": "`+b64(9)+`"}`), 0o600)
	before, _ := os.ReadFile(bad)
	if _, err := pseudonym.RotateKeyFile(bad, time.Now()); err == nil {
		t.Error("RotateKeyFile of a file whose current version has no key succeeded")
	}
	if after, _ := os.ReadFile(bad); !bytes.Equal(before, after) {
		t.Error("a refused rotation changed the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries; want only bad.json", len(ents))
	}
}

// TestKeyFileVersionAboveCurrentIsRefused lists a version above "current":
// it was left out of the ring and of status, and the next rotation made the
// version after it current, so that it entered the ring unannounced and,
// without a creation time, kept its predecessor from ever retiring.
func TestKeyFileVersionAboveCurrentIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	body := `{"current": 1, "keys": {"1": "` + b64(1) + `", "2": "` + b64(2) + `"}, "created": {"1": "2026-01-05T10:00:00Z"}, "audit": "` + b64(9) + `"}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context()); err == nil || !strings.Contains(err.Error(), "version 2 is above the current version 1") {
		t.Errorf("FileKeys.Keys = %v; want the version above current refused", err)
	}
	if _, _, err := (pseudonym.FileKeys{Path: path}).Schedule(); err == nil {
		t.Error("FileKeys.Schedule succeeded; want the file refused")
	}
	if v, err := pseudonym.RotateKeyFile(path, time.Now()); err == nil {
		t.Errorf("RotateKeyFile made version %d; want the file refused", v)
	}
	if after, _ := os.ReadFile(path); string(after) != body {
		t.Error("a refused rotation changed the file")
	}
}

func TestKeyScheduleRule(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := map[int]time.Time{1: {}, 2: t1, 3: t1.Add(time.Hour), 4: t1.Add(2 * time.Hour)}
	got := pseudonym.KeySchedule(3, created, 30*time.Minute, t1.Add(80*time.Minute))
	var live []int
	for _, v := range got {
		if v.Live {
			live = append(live, v.Version)
		}
	}
	// Version 4 is above current: left out. Version 2's successor (3) was
	// made 20 minutes ago: in the window. Version 1's successor (2) is 80
	// minutes old: retired, though its own creation time is unknown.
	if len(got) != 3 || !slices.Equal(live, []int{2, 3}) {
		t.Errorf("KeySchedule = %+v; want versions 1..3 with 2 and 3 live", got)
	}
}
