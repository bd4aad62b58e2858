package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCorrectWithdrawAndAuditCorrections runs the commands against a
// gateway: the prison corrects the release notice it disclosed to the
// police, then withdraws it; the auditor lists what the police have not
// acknowledged, and the access report shows what was sent on the
// person's behalf.
func TestCorrectWithdrawAndAuditCorrections(t *testing.T) {
	s := startAuditStack(t, "")
	ctx := t.Context()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.d.releaseNotice(ctx, fx); err != nil {
		t.Fatal(err)
	}
	tok, err := s.d.pki.Issuers["dk-prison-east"].Mint(devpki.TokenSpec{Officer: "kf.release.coordinator", Roles: []string{"case_officer"}, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	asPrison := func(args ...string) (string, error) {
		t.Helper()
		full := append([]string{args[0], "-gateway", s.d.gw.Addr,
			"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
			"-ca", s.d.pki.Path("ca.pem"), "-token", tok}, args[1:]...)
		var out bytes.Buffer
		err := run(context.WithoutCancel(ctx), full, &out, &out)
		return out.String(), err
	}
	rec, _, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, probation desk Aarhus"
	b, err := protojson.Marshal(corrected)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.dir, "corrected.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := asPrison("correct", "-record", file, "-justification", "The contact point changed.")
	if err != nil || !strings.Contains(out, "dk-police-aarhus") || !strings.Contains(out, "correction") || !strings.Contains(out, "disclose") {
		t.Fatalf("correct: %v\n%s", err, out)
	}
	if _, err := asPrison("correct", "-record", file); err == nil {
		t.Error("correct without -justification = nil error")
	}
	out, err = s.audit(t, "corrections")
	if err != nil || !strings.Contains(out, "dk-police-aarhus") || !strings.Contains(out, "CORRECTED") || !strings.Contains(out, "open") {
		t.Fatalf("audit corrections: %v\n%s", err, out)
	}

	out, err = asPrison("withdraw", "-subject", "SYN-DK-0001", "-reason", "erased_at_source", "-justification", "Erased after the appeal.")
	if err != nil || !strings.Contains(out, "withdrawal") || !strings.Contains(out, "erase") {
		t.Fatalf("withdraw: %v\n%s", err, out)
	}
	if _, err := asPrison("withdraw", "-subject", "SYN-DK-0001", "-reason", "boredom", "-justification", "x"); err == nil {
		t.Error("withdraw -reason boredom = nil error")
	}
	// The withdrawal supersedes the correction, which the police had not
	// acknowledged (nor read: it left their inbox): it is closed.
	out, err = s.audit(t, "corrections")
	if err != nil || strings.Count(out, "dk-police-aarhus") != 1 || !strings.Contains(out, "ERASED_AT_SOURCE") || strings.Contains(out, "CORRECTED") {
		t.Errorf("audit corrections after the withdrawal: %v\n%s", err, out)
	}
	out, err = s.audit(t, "corrections", "-all")
	if err != nil || strings.Count(out, "dk-police-aarhus") != 2 || !strings.Contains(out, "superseded by entry") {
		t.Errorf("audit corrections -all after the withdrawal: %v\n%s", err, out)
	}
	out, err = s.audit(t, "corrections", "-kind", "withdrawal", "-json")
	if err != nil || strings.Count(out, `"auditIndex"`) != 1 {
		t.Errorf("audit corrections -kind withdrawal -json: %v\n%s", err, out)
	}
	// -tz shows the times where the auditor is: each notice's sent time
	// of the JSON, in Kolkata (+05:30, so every time moves), under a header
	// that names the zone.
	out, err = s.audit(t, "corrections", "-all", "-json")
	var listed struct {
		Notices []struct {
			Sent time.Time `json:"sent"`
		} `json:"notices"`
	}
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed.Notices) != 2 {
		t.Fatalf("audit corrections -all -json: %v\n%s", err, out)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	out, err = s.audit(t, "corrections", "-all", "-tz", "Asia/Kolkata")
	if err != nil || !strings.Contains(out, "SENT (Asia/Kolkata)") {
		t.Errorf("audit corrections -all -tz Asia/Kolkata: %v\n%s", err, out)
	}
	for _, n := range listed.Notices {
		if local := n.Sent.In(kolkata).Format("2006-01-02 15:04"); !strings.Contains(out, local) || strings.Contains(out, n.Sent.UTC().Format("2006-01-02 15:04")) {
			t.Errorf("audit corrections -tz Asia/Kolkata:\n%s\nwant the notice sent at %s UTC at %s", out, n.Sent.UTC(), local)
		}
	}
	// A full page names the next, with -json too (as audit query -json
	// does, on standard error).
	for _, asJSON := range []string{"-json=false", "-json"} {
		out, err = s.audit(t, "corrections", "-all", "-limit", "1", asJSON)
		if err != nil || strings.Count(out, "dk-police-aarhus") != 1 || !strings.Contains(out, "the next page is -start ") {
			t.Errorf("audit corrections -all -limit 1 %s: %v\n%s\nwant one notice and the next page named", asJSON, err, out)
		}
	}
	out, err = s.audit(t, "report", "-subject", "SYN-DK-0001")
	if err != nil || !strings.Contains(out, "on the person's behalf") || !strings.Contains(out, "a correction of the release notice") ||
		!strings.Contains(out, "withdrawn (it was erased at the source), to be erased") {
		t.Errorf("report: %v\n%s", err, out)
	}
}

// TestNoticeFailuresExitNonZero: a correction or withdrawal that sent
// nothing to a recipient makes the command fail (exit 1), naming the
// recipient and release but not the person; one that reached everyone
// does not.
func TestNoticeFailuresExitNonZero(t *testing.T) {
	sent := &liaisonv1.NoticeResult{Recipient: "dk-police-aarhus", RefersTo: 4, Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION, AuditIndex: 9}
	failed := &liaisonv1.NoticeResult{Recipient: "dk-social-aarhus", RefersTo: 5,
		Failure: &liaisonv1.RecipientFailure{Code: "UNAVAILABLE", Reason: "KEYS_UNAVAILABLE", Message: "keys not refreshed for 2s"}}
	if err := noticeFailures("correct", []*liaisonv1.NoticeResult{sent}); err != nil {
		t.Errorf("every recipient sent a notice: %v, want nil", err)
	}
	err := noticeFailures("withdraw", []*liaisonv1.NoticeResult{sent, failed})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 recipients") || !strings.Contains(err.Error(), "dk-social-aarhus (release 5: KEYS_UNAVAILABLE)") ||
		strings.Contains(err.Error(), "dk-police-aarhus") {
		t.Errorf("one recipient sent nothing: %v", err)
	}
}
