package main

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestKeyChangesWhileDownAreRecordedAtStart: what changed in the
// pseudonymisation keys while the gateway was stopped is recorded when it
// starts again, compared with the key state the audit log last recorded,
// so that the log's key history has no hole. A first start on an empty
// log records the version it finds; a restart with no change records
// nothing; a rotation made while it was down is one key_rotate entry
// N→N+1, a version that left the ring meanwhile one key_retire entry and
// one back in it one key_restore entry, each with detail seen start. A
// last entry of an earlier release, without the ring's versions, tells
// the current version alone; one that does not say the current version
// is no view at all. The latest key entry of any replica sharing the log
// is its view. Without the comparison at start the gateway
// recorded none of it: it compared each refresh with the previous one
// only. On both stores.
func TestKeyChangesWhileDownAreRecordedAtStart(t *testing.T) {
	eng := embeddedEngine(t)
	for _, sk := range storeKinds {
		t.Run(sk.name, func(t *testing.T) {
			dir := t.TempDir()
			db := cmp.Or(sk.newDB(t), filepath.Join(dir, "audit.db"))
			pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(dir, "keys.json")
			window := time.Hour
			var running *runningGateway
			t.Cleanup(func() { running.Stop() })
			start := func() *runningGateway {
				t.Helper()
				running.Stop()
				running = nil
				gw, err := startGateway(t.Context(), gatewayOptions{
					Listen: "127.0.0.1:0", Registry: pki.Registry,
					TLSCert: pki.Path("gateway.pem"), TLSKey: pki.Path("gateway.key"), ClientCAs: []string{pki.Path("ca.pem")},
					AuditDB: db, AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
					KeyOptions: &keyOptions{File: keyFile, TransitionWindow: window, Refresh: time.Hour, MaxStale: 2 * time.Hour},
					Audience:   "liaison", Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					t.Fatal(err)
				}
				running = gw
				return gw
			}
			var want []string // the key entries the log should hold, in order
			check := func(gw *runningGateway, step string, added ...string) {
				t.Helper()
				want = append(want, added...)
				var recs []audit.Record
				for _, a := range []string{audit.ActionKeyRotate, audit.ActionKeyRetire, audit.ActionKeyRestore} {
					r, err := gw.Audit.Query(t.Context(), audit.Filter{Action: a})
					if err != nil {
						t.Fatalf("%s: Query(%s): %v", step, a, err)
					}
					recs = append(recs, r...)
				}
				slices.SortFunc(recs, func(a, b audit.Record) int { return int(a.Index - b.Index) })
				var got []string
				for _, r := range recs {
					got = append(got, describeKeyEntry(r.Entry))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: key entries\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}

			// A first start on an empty log records the version current.
			gw := start()
			check(gw, "first start", "key_rotate new_version=1 seen=start versions=1")

			// A restart with no change records nothing.
			gw = start()
			check(gw, "restart, no change")

			// Rotated while down: one key_rotate entry 1→2.
			if _, err := pseudonym.RotateKeyFile(keyFile, time.Now()); err != nil {
				t.Fatal(err)
			}
			gw = start()
			check(gw, "restart after a rotation", "key_rotate new_version=2 old_version=1 seen=start versions=1,2")

			// Rotated again, the new version made two days ago: version 2,
			// whose successor is older than the window, left the ring.
			if _, err := pseudonym.RotateKeyFile(keyFile, time.Now().Add(-48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			gw = start()
			check(gw, "restart after a rotation and a retirement",
				"key_rotate new_version=3 old_version=2 seen=start versions=1,3",
				"key_retire current_version=3 retired_versions=2 seen=start versions=1,3")

			// A longer window brings version 2 back.
			window = 72 * time.Hour
			gw = start()
			check(gw, "restart with a longer window", "key_restore current_version=3 restored_versions=2 seen=start versions=1,2,3")
			gw = start()
			check(gw, "restart, no change again")

			// The last key entry is of an earlier release (no versions): it
			// tells the current version alone, and only a rotation is found.
			if _, err := gw.Audit.Append(t.Context(), &audit.Entry{Time: time.Now(), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK,
				Detail: map[string]string{"old_version": "2", "new_version": "3"}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "key_rotate new_version=3 old_version=2")
			window = time.Hour // version 2 leaves the ring again: not derivable from that entry
			if _, err := pseudonym.RotateKeyFile(keyFile, time.Now()); err != nil {
				t.Fatal(err)
			}
			gw = start()
			check(gw, "restart after an entry without versions", "key_rotate new_version=4 old_version=3 seen=start versions=1,3,4")

			// Another replica sharing the log saw the next rotation first
			// and recorded it: the log's view is its entry, and this
			// replica's start, finding the same, records nothing.
			if _, err := pseudonym.RotateKeyFile(keyFile, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := gw.Audit.Append(t.Context(), &audit.Entry{Time: time.Now(), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK,
				Detail: map[string]string{"old_version": "4", "new_version": "5", "versions": "1,3,4,5"}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "key_rotate new_version=5 old_version=4 versions=1,3,4,5")
			gw = start()
			check(gw, "restart after another replica recorded the rotation")

			// A last key entry that does not say the current version: the
			// log's view is unknown, and the start records the state it
			// finds, as on a first start.
			if _, err := gw.Audit.Append(t.Context(), &audit.Entry{Time: time.Now(), Action: audit.ActionKeyRetire, Outcome: audit.OutcomeOK,
				Detail: map[string]string{"retired_versions": "2"}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "key_retire retired_versions=2")
			gw = start()
			check(gw, "restart after an entry without a current version", "key_rotate new_version=5 seen=start versions=1,3,4,5")
		})
	}
}

// describeKeyEntry spells a key entry's action and detail, sorted by key,
// for comparison; its outcome must be ok.
func describeKeyEntry(e *audit.Entry) string {
	s := e.Action
	if e.Outcome != audit.OutcomeOK {
		s += " outcome=" + e.Outcome
	}
	for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
		s += fmt.Sprintf(" %s=%s", k, e.Detail[k])
	}
	return s
}
