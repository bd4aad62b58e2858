package gateway_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestClaimedLegalBasisIsAnID: a claimed legal basis is a legal basis id,
// spelt as the policies spell one, on every exchange that takes one. A
// subject's identifier, control characters, kilobytes of text or another
// spelling of an id are refused (INVALID_ARGUMENT naming
// claimed_legal_basis), and reach neither the log nor the error.
func TestClaimedLegalBasisIsAnID(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	fx, _ := sample.ParseFixtures(sample.Sample())
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	long := strings.Repeat("k", 5000)
	request := func(lb string) error {
		_, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001", ClaimedLegalBasis: lb,
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Planning contact after a reported meeting with a recruiter.",
		})
		return err
	}
	for _, tt := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Request: the subject's identifier", func(context.Context) error { return request("SYN-NL-0001") }},
		{"Request: a lower-case spelling of it", func(context.Context) error { return request("syn.nl.0001") }},
		{"Request: kilobytes", func(context.Context) error { return request(long) }},
		{"Request: control characters", func(context.Context) error { return request("nl.wjsr\x00.art2") }},
		{"Request: upper case", func(context.Context) error { return request("NL.WJSR.ART2") }},
		{"Request: white space", func(context.Context) error { return request(" nl.wjsr.art2") }},
		{"Disclose", func(ctx context.Context) error {
			_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: "SYN-DK-0001",
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
			})
			return err
		}},
		{"Notify", func(ctx context.Context) error {
			_, err := s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS, ClaimedLegalBasis: "SYN-DK-0001",
				Record: rec, Subject: attrs, Justification: "Breach of the conditions of supervision.",
			})
			return err
		}},
		{"Match", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
				SubjectId: "SYN-NL-0001", ClaimedLegalBasis: "SYN-NL-0001",
				RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
				Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Does any partner know this person?",
			})
			return err
		}},
		{"Translate", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).Translate(ctx, &liaisonv1.TranslateRequest{
				Pseudonym: "psn:x", FromDomain: "nl-police-rotterdam/risk_management", ClaimedLegalBasis: "SYN-NL-0001",
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Bring to the case conference.",
			})
			return err
		}},
		{"RequestReidentification", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{
				Pseudonym: "psn:x", FromDomain: "nl-police-rotterdam/risk_management", ClaimedLegalBasis: long,
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Imminent risk.",
			})
			return err
		}},
	} {
		err := tt.call(ctx)
		st := wantStatus(t, err, codes.InvalidArgument)
		if f := badField(st); f != "claimed_legal_basis" {
			t.Errorf("%s: field %q (%v), want claimed_legal_basis", tt.name, f, err)
		}
		for _, raw := range []string{"SYN-", "syn.nl", "kkkkkkkkkk", "\x00", "WJSR"} {
			if strings.Contains(st.Message(), raw) {
				t.Errorf("%s: the error quotes the claimed basis: %q", tt.name, st.Message())
			}
		}
	}
	n, err := s.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := s.db.ReadLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		for _, raw := range []string{"SYN-", "syn.nl", "kkkkkkkkkk", `\u0000`, "WJSR"} {
			if bytes.Contains(l, []byte(raw)) {
				t.Errorf("entry %d holds %q: %.300s", i, raw, l)
			}
		}
	}
}
