package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// BenchmarkQueryByAgency queries a log of 50,000 entries by an agency
// that one entry in ten involves (as requester, holder, first recipient or
// a later one, in turn): the latest match, and the first page of 100.
func BenchmarkQueryByAgency(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 50_000
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 500 {
		batch := make([]audit.Pending, 0, 500)
		for i := start; i < start+500; i++ {
			agency := func(k int) string { return fmt.Sprintf("agency-%d", (i+k)%10) }
			e := &audit.Entry{Time: t0.Add(time.Duration(i) * time.Second), Action: "disclose", Outcome: "disclose",
				Requester: &audit.Requester{Agency: agency(0)}, Holder: &audit.Party{Agency: agency(3)},
				Recipients: []audit.Party{{Agency: agency(5)}, {Agency: agency(7)}}}
			leaf, err := e.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, audit.Pending{Leaf: leaf, Entry: e})
		}
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		f    audit.Filter
	}{
		{"latest", audit.Filter{Agency: "agency-4", Descending: true, Limit: 1}},
		{"first_100", audit.Filter{Agency: "agency-4", Limit: 100}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				recs, err := s.Query(ctx, bc.f)
				if err != nil || len(recs) != bc.f.Limit {
					b.Fatalf("Query() = %d records, %v; want %d", len(recs), err, bc.f.Limit)
				}
			}
		})
	}
}

// BenchmarkMatchFingerprints looks up a Disclose's fingerprints (fifteen:
// the record's, and its values' and other texts', seven of them stored)
// among those of 20,000 releases of seven fingerprints each, to 10
// recipients about 2,000 subjects.
func BenchmarkMatchFingerprints(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 20_000
	fp := func(i, k int) [32]byte { return sha256.Sum256(fmt.Append(nil, i, k)) }
	subject := func(i int) string { return fmt.Sprintf("apsn:%X", sha256.Sum256(fmt.Append(nil, "subject", i%2000))) }
	recipient := func(i int) string { return fmt.Sprintf("agency-%d", i%10) }
	for start := 0; start < n; start += 500 {
		batch := make([]audit.Pending, 0, 500)
		for i := start; i < start+500; i++ {
			e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose", RequestID: fmt.Sprintf("req-%d", i),
				Recipients: []audit.Party{{Agency: recipient(i)}}, Subject: &audit.Subject{Pseudonym: subject(i)}}
			leaf, err := e.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			p := audit.Pending{Leaf: leaf, Entry: e}
			for k := range 7 {
				p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: recipient(i), Subject: subject(i), FP: fp(i, k), RequestID: e.RequestID})
			}
			batch = append(batch, p)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		r := (i * 7919) % n
		i++
		look := make([][32]byte, 0, 15)
		for k := range 15 {
			look = append(look, fp(r, k))
		}
		got, err := s.MatchFingerprints(ctx, recipient(r), subject(r), look)
		if err != nil || len(got) != 7 {
			b.Fatalf("MatchFingerprints = %d matches, %v; want 7", len(got), err)
		}
	}
}
