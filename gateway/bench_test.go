package gateway_test

import (
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// BenchmarkDisclose measures one whole disclosure in-process over real TLS
// 1.3: authentication, validation, the embedded policy, transformation,
// sealing into the inbox and a durable (fsync'd) audit append.
func BenchmarkDisclose(b *testing.B) {
	s := startStack(b, stackOptions{})
	ex := s.exchange(b, dkPrison)
	fx := s.fx
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	req := &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Benchmark.",
	}
	ctx := b.Context()
	if _, err := ex.Disclose(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ex.Disclose(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8) // concurrent callers share fsyncs through group commit
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ex.Disclose(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkDiscloseReceived is BenchmarkDisclose's parallel run by an
// agency that was released something about the person: the Aarhus
// police, who received the prison's release notice, disclose an
// observation of their own, so that the onward check fingerprints the
// record and looks it up among what they received.
func BenchmarkDiscloseReceived(b *testing.B) {
	s := startStack(b, stackOptions{})
	ctx := b.Context()
	rec, attrs, _ := s.fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if _, err := s.exchange(b, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Benchmark.",
	}); err != nil {
		b.Fatal(err)
	}
	ex := s.exchange(b, dkPolice)
	req := &liaisonv1.DiscloseRequest{
		Record: &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-20", Grading: "B2",
			ReportingUnit: "Østjyllands Politi, Forebyggelse", Description: "Seen at the youth club with his mentor.",
		}}},
		Subject: attrs, Recipients: []string{"dk-social-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Benchmark.",
	}
	if r, err := ex.Disclose(ctx, req); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		b.Fatalf("the police's observation = %v, %v; want it disclosed", r, err)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ex.Disclose(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEcho is the floor under BenchmarkDisclose: a health check over
// the same TLS 1.3 connection setup, with no pipeline behind it.
func BenchmarkEcho(b *testing.B) {
	s := startStack(b, stackOptions{})
	hc := healthpb.NewHealthClient(s.conn(b, dkPrison))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthentication measures an authenticated call that does almost
// nothing else (Policy.GetStatus), with the verified-token cache and
// without it (every call then verifies the certificate chain, the token's
// signature and claims, and checks the replay set in SQLite).
func BenchmarkAuthentication(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := startStack(b, stackOptions{cacheSize: bc.cache})
			pc := liaisonv1.NewPolicyClient(s.conn(b, officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}))
			ctx := b.Context()
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := pc.GetStatus(ctx, &liaisonv1.GetStatusRequest{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
