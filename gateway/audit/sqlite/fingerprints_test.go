package sqlite_test

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// The fingerprints an append stores with its entry are confirmed, and
// take no room in the index of unconfirmed ones that ConfirmFingerprints
// reads (migration 0250): a Disclose's commit wrote a page of the old
// index, at a random place, for every fingerprint.
func TestConfirmedFingerprintsLeaveTheRequestIndexAlone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, path := openFile(t)
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	indexed := func() (n int) {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM aftercare_fingerprints INDEXED BY aftercare_fingerprints_unconfirmed WHERE audit_idx IS NULL AND request_id > ''").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	var batch []audit.Pending
	for i := range 50 {
		e := &audit.Entry{
			Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", RequestID: fmt.Sprintf("req-%04d", i),
			Requester: &audit.Requester{Agency: "dk-prison-east"}, Holder: &audit.Party{Agency: "dk-prison-east"},
			Recipients: []audit.Party{{Agency: "dk-police-aarhus"}}, RecordType: "release_notice", Outcome: "disclose",
		}
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := audit.Pending{Leaf: leaf, Entry: e}
		for k := range 4 {
			p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: "dk-police-aarhus", Subject: "apsn:s1", FP: [32]byte{byte(i), byte(k)}, RequestID: e.RequestID})
		}
		batch = append(batch, p)
	}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 0 {
		t.Errorf("the index of unconfirmed fingerprints holds %d after appends that stored 200 confirmed ones, want 0", n)
	}

	// Stored before their release: unconfirmed, indexed, and confirmed
	// through the index.
	if err := s.AddFingerprints(ctx, []audit.Fingerprint{
		{Recipient: "dk-police-aarhus", Subject: "apsn:s1", FP: [32]byte{0xee, 1}, RequestID: "early", After: 50},
		{Recipient: "dk-police-aarhus", Subject: "apsn:s1", FP: [32]byte{0xee, 2}, RequestID: "early", After: 50},
	}); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 2 {
		t.Errorf("the index of unconfirmed fingerprints holds %d, want the 2 stored before their release", n)
	}
	plan := strings.Join(queryPlan(t, db, "UPDATE aftercare_fingerprints SET audit_idx = 51 WHERE request_id = 'early' AND audit_idx IS NULL"), "\n")
	if !strings.Contains(plan, "aftercare_fingerprints_unconfirmed") {
		t.Errorf("ConfirmFingerprints' update is planned as\n%s\nwant it to use aftercare_fingerprints_unconfirmed", plan)
	}
	if err := s.ConfirmFingerprints(ctx, "early", 51); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 0 {
		t.Errorf("the index of unconfirmed fingerprints holds %d after ConfirmFingerprints, want 0", n)
	}
}

// The fingerprints of a release, all about one subject, lie together
// (0270_fingerprints_by_subject.sql): a commit of 16 releases of seven
// fingerprints each writes at most four more WAL frames a release than
// one of 16 releases without any (about three: the page they share, and
// the splits of full pages). Fingerprints that each go to a page of their
// own, as under the old key by recipient and fingerprint alone, write
// about eight more a release. One record released again and again goes
// at the end of its fingerprints' rows: at most two frames a release
// more (about 1.6), against about nine when the random request id placed
// each row among the earlier ones.
func TestReleaseFingerprintsLieTogether(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, path := openFile(t)
	s.SetCheckpointing(1<<40, time.Hour)
	n := 0
	// scatter puts each fingerprint under a subject of its own; repeat
	// releases one record about one subject, again and again, under new
	// request ids.
	scatter, repeat := false, false
	batch := func(prints int) []audit.Pending {
		var b []audit.Pending
		for range 16 {
			n++
			e := &audit.Entry{
				Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", RequestID: fmt.Sprintf("req-%06d", n),
				Requester: &audit.Requester{Agency: "dk-prison-east"}, Holder: &audit.Party{Agency: "dk-prison-east"},
				Recipients: []audit.Party{{Agency: "dk-police-aarhus"}}, RecordType: "release_notice", Outcome: "disclose",
				Subject: &audit.Subject{Pseudonym: fmt.Sprintf("apsn:%X", sha256.Sum256(fmt.Append(nil, "subject", n)))},
			}
			content := n
			if repeat {
				content = 0
				e.Subject.Pseudonym = "apsn:REPEATED"
				e.RequestID = rand.Text()[:16] // as random as the gateway's
			}
			leaf, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			p := audit.Pending{Leaf: leaf, Entry: e}
			for k := range prints {
				subj := e.Subject.Pseudonym
				if scatter {
					subj = fmt.Sprintf("apsn:%X", sha256.Sum256(fmt.Append(nil, "subject", n, k)))
				}
				p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: "dk-police-aarhus", Subject: subj,
					FP: sha256.Sum256(fmt.Append(nil, content, k)), RequestID: e.RequestID})
			}
			b = append(b, p)
		}
		return b
	}
	for i := range 400 {
		repeat = i%2 == 1
		if _, err := s.Append(ctx, batch(7)); err != nil {
			t.Fatal(err)
		}
	}
	repeat = false
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	frames := func(b []audit.Pending) int64 {
		var busy, frames, copied int64
		if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil || busy != 0 {
			t.Fatalf("checkpoint: busy %d, %v", busy, err)
		}
		if _, err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
			t.Fatal(err)
		}
		return frames
	}
	without := frames(batch(0))
	together := frames(batch(7)) - without
	repeat = true
	repeated := frames(batch(7)) - frames(batch(0))
	repeat, scatter = false, true
	scattered := frames(batch(7)) - without
	t.Logf("WAL frames a commit of 16 releases of seven fingerprints writes more than one without: %d together, %d repeated, %d scattered", together, repeated, scattered)
	if together > 4*16 {
		t.Errorf("a commit of 16 releases of seven fingerprints each wrote %d WAL frames more than one of 16 releases without any, want at most %d", together, 4*16)
	}
	// The same content again: at the end of each fingerprint's rows
	// (after_idx before the request id in the key), not at random places
	// among the 3,200 rows each has already.
	if repeated > 2*16 {
		t.Errorf("a commit of 16 releases of one record again wrote %d WAL frames more than one of 16 such releases without fingerprints, want at most %d", repeated, 2*16)
	}
	// The measure tells the layouts apart: fingerprints each about a
	// subject of its own go where the old key put them, a page each.
	if scattered < 2*together {
		t.Errorf("fingerprints scattered over subjects cost %d more WAL frames and a release's together %d: want the scattered at least twice as many", scattered, together)
	}
}
