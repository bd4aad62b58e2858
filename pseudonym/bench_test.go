package pseudonym_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// benchPseudonymizer returns a Pseudonymizer on a fresh key file, logging
// nowhere.
func benchPseudonymizer(b *testing.B) *pseudonym.Pseudonymizer {
	b.Helper()
	path := filepath.Join(b.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		b.Fatal(err)
	}
	p, err := pseudonym.New(b.Context(), pseudonym.Config{
		Source: pseudonym.FileKeys{Path: path},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchIDs are 1,024 distinct identifiers, cycled through by benchmarks.
func benchIDs() []pseudonym.SubjectID {
	ids := make([]pseudonym.SubjectID, 1024)
	for i := range ids {
		ids[i] = pseudonym.SubjectID(fmt.Sprintf("%02d%02d%02d-%04d", 1+i%28, 1+i%12, i%100, i))
	}
	return ids
}

// BenchmarkPseudonym measures pseudonyms per second on one core with the
// keys cached (as on the request path: no key service is called) and the
// domain's derived keys warm.
func BenchmarkPseudonym(b *testing.B) {
	p := benchPseudonymizer(b)
	ids := benchIDs()
	const domain = "nl-police-rotterdam/risk_management"
	if _, err := p.Pseudonym(domain, ids[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Pseudonym(domain, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pseudonyms/s")
}

// BenchmarkResolve measures turning a pseudonym back into the identifier,
// as Translate and re-identification do.
func BenchmarkResolve(b *testing.B) {
	p := benchPseudonymizer(b)
	const domain = "case/NL-ZVH-RTM-0042"
	var pss []string
	for _, id := range benchIDs() {
		ps, err := p.Pseudonym(domain, id)
		if err != nil {
			b.Fatal(err)
		}
		pss = append(pss, ps)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Resolve(domain, pss[i%len(pss)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resolves/s")
}

// BenchmarkAuditPseudonym measures the audit-domain pseudonym that every
// audit entry carries.
func BenchmarkAuditPseudonym(b *testing.B) {
	p := benchPseudonymizer(b)
	ids := benchIDs()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.AuditPseudonym(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFingerprint measures the keyed digest that the onward-use check
// takes of every value of a record.
func BenchmarkFingerprint(b *testing.B) {
	p := benchPseudonymizer(b)
	value, subject := []byte("Fiktivt Fængsel Øst"), []byte("apsn:abcdefghijklmnopqrstuvwxyz")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Fingerprint([]byte("value"), subject, value); err != nil {
			b.Fatal(err)
		}
	}
}
