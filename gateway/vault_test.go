package gateway_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

var (
	riskRequest = &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Vault test.",
	}
)

func releaseNotice(t testing.TB) *liaisonv1.DiscloseRequest {
	fx, _ := sample.ParseFixtures(sample.Sample())
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	return &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Vault test."}
}

func TestVaultOutageFailsOnlyPseudonymisingOutcomes(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client()
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{keySource: src, keyRefresh: 100 * time.Millisecond, keyMaxStale: 2 * time.Second})
	police, prison := s.exchange(t, nlPolice), s.exchange(t, dkPrison)
	before, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatalf("pseudonymised request with Vault up: %v", err)
	}

	srv.Stop()
	stopped := time.Now()
	if got, err := police.Request(t.Context(), riskRequest); err != nil || got.GetReleased().GetSubjectPseudonym() != before.GetReleased().GetSubjectPseudonym() {
		t.Fatalf("within the staleness bound: %v, %v", got, err)
	}
	time.Sleep(3*time.Second - time.Since(stopped))
	_, err = police.Request(t.Context(), riskRequest)
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "KEYS_UNAVAILABLE" {
		t.Errorf("reason = %q, want KEYS_UNAVAILABLE", errorReason(st))
	}
	// Outcomes that need no recipient pseudonym go on.
	if resp, err := prison.Disclose(t.Context(), releaseNotice(t)); err != nil || resp.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("full disclosure during the outage: %v, %v", resp, err)
	}
	_, err = s.exchange(t, nlNGO).Request(t.Context(), riskRequest)
	wantStatus(t, err, codes.PermissionDenied)
	_, e := s.lastEntry(t)
	if e.Outcome != "deny" {
		t.Errorf("the refusal during the outage was not audited as one: %s", e.Outcome)
	}

	srv.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := police.Request(t.Context(), riskRequest)
		if err == nil {
			if got.GetReleased().GetSubjectPseudonym() != before.GetReleased().GetSubjectPseudonym() {
				t.Error("the pseudonym changed across the outage")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 10s of Vault's return: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNoVaultCallOnTheRequestPath(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	cc, calls := vaulttest.Counted(t, c)
	src, err := vault.New(t.Context(), vault.Config{Client: cc, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{keySource: src, keyRefresh: time.Hour})
	atStart := calls.Count()
	if atStart == 0 {
		t.Fatal("the counter saw no call at all: it does not count")
	}
	police, prison := s.exchange(t, nlPolice), s.exchange(t, dkPrison)
	for range 25 {
		if _, err := police.Request(t.Context(), riskRequest); err != nil {
			t.Fatal(err)
		}
		if _, err := prison.Disclose(t.Context(), releaseNotice(t)); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Count() - atStart; got != 0 {
		t.Errorf("50 requests made %d Vault calls; want 0", got)
	}
}
