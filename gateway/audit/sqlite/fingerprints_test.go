package sqlite_test

import (
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
			p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: "dk-police-aarhus", FP: [32]byte{byte(i), byte(k)}, RequestID: e.RequestID})
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
		{Recipient: "dk-police-aarhus", FP: [32]byte{0xee, 1}, RequestID: "early", After: 50},
		{Recipient: "dk-police-aarhus", FP: [32]byte{0xee, 2}, RequestID: "early", After: 50},
	}); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 2 {
		t.Errorf("the index of unconfirmed fingerprints holds %d, want the 2 stored before their release", n)
	}
	var plan strings.Builder
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN UPDATE aftercare_fingerprints SET audit_idx = 51 WHERE request_id = 'early' AND audit_idx IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&plan, detail)
	}
	rows.Close()
	if !strings.Contains(plan.String(), "aftercare_fingerprints_unconfirmed") {
		t.Errorf("ConfirmFingerprints' update is planned as\n%s\nwant it to use aftercare_fingerprints_unconfirmed", plan.String())
	}
	if err := s.ConfirmFingerprints(ctx, "early", 51); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 0 {
		t.Errorf("the index of unconfirmed fingerprints holds %d after ConfirmFingerprints, want 0", n)
	}
}
