package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
)

// forget removes agencies from a country's registry file, as an operator
// does; the gateway picks the change up within seconds.
func (c *country) forget(t *testing.T, ids ...string) {
	t.Helper()
	b, err := os.ReadFile(c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	f.Agencies = slices.DeleteFunc(f.Agencies, func(a gateway.AgencyFile) bool { return slices.Contains(ids, a.ID) })
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Registry, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// errorInfo is a gRPC error's google.rpc.ErrorInfo, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i
		}
	}
	return nil
}

// TestPeerRefusalIsNotADeny: the Danish gateway no longer lists the Dutch
// probation service as an agency behind the Dutch gateway, so it refuses
// the Dutch gateway's call for it (UNKNOWN_PEER_AGENCY) before any Danish
// law is applied. That is no decision of Danish law: the Dutch entry says
// failed, PEER_REFUSED, with the Danish reason in detail peer_reason, and
// the officer is told so (not PERMISSION_DENIED, "the other country's law
// does not allow this exchange").
func TestPeerRefusalIsNotADeny(t *testing.T) {
	f := startFederation(t, nil, nil)
	f.dk.forget(t, "nl-probation")
	until(t, "the Danish registry reloaded", func() bool {
		_, err := f.nl.client(t, "nl-probation", "insp.probe").Request(t.Context(), riskAssessmentRequest)
		return err != nil && (errorReason(err) == "UNKNOWN_PEER_AGENCY" || errorInfo(err).GetMetadata()["peer_reason"] == "UNKNOWN_PEER_AGENCY")
	})
	_, err := f.nl.client(t, "nl-probation", "insp.refused").Request(t.Context(), riskAssessmentRequest)
	if status.Code(err) == codes.PermissionDenied || errorReason(err) != "PEER_REFUSED" || errorInfo(err).GetMetadata()["peer_reason"] != "UNKNOWN_PEER_AGENCY" {
		t.Errorf("Request refused by the Danish gateway's authentication: %v (%v); want PEER_REFUSED with peer_reason UNKNOWN_PEER_AGENCY, not a denial", err, errorInfo(err))
	}
	nl := f.nl.entries(t, "insp.refused")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Equal(nl[0].Reasons, []string{"PEER_REFUSED"}) ||
		nl[0].Detail["peer_reason"] != "UNKNOWN_PEER_AGENCY" {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["peer_reason"])
		}
		t.Errorf("Dutch entries %v; want one failed PEER_REFUSED, peer_reason UNKNOWN_PEER_AGENCY", got)
	}
}

// TestPeerReasonsAreChecked: what a peer gateway says of its refusals
// enters the log, and reaches the officer, only as a reason code. A
// denial whose reason is not spelled as one is logged as PEER_DENIED; a
// PERMISSION_DENIED that names no entry of the peer (no decision was
// logged there: an authentication refusal) is PEER_REFUSED, failed, with
// no peer_reason if the peer's is not a code; an UNAUTHENTICATED is
// PEER_REFUSED too, not PEER_UNAVAILABLE; and the peer's message reaches
// the officer without control characters and bounded.
func TestPeerReasonsAreChecked(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	long := strings.Repeat("law ", 400)
	deny := func(code codes.Code, reason string, md map[string]string) func(string, proto.Message, error) (proto.Message, error) {
		return func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			st, _ := status.New(code, "refused\x1b[31m by "+long).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "liaison.v1", Metadata: md})
			return nil, st.Err()
		}
	}
	for _, tc := range []struct {
		name             string
		answer           func(string, proto.Message, error) (proto.Message, error)
		outcome, reason  string
		peerReason, code string
	}{
		{"DenialWithAMalformedReason", deny(codes.PermissionDenied, "POLICY_DENIED\nACCESS_GRANTED", map[string]string{"audit_index": "7"}), audit.OutcomeDeny, "PEER_DENIED", "", "PermissionDenied"},
		{"DenialWithALongReason", deny(codes.PermissionDenied, strings.Repeat("A", 65), map[string]string{"audit_index": "7"}), audit.OutcomeDeny, "PEER_DENIED", "", "PermissionDenied"},
		{"DenialOfTheLaw", deny(codes.PermissionDenied, "RECIPIENT_LAW", map[string]string{"audit_index": "7"}), audit.OutcomeDeny, "RECIPIENT_LAW", "", "PermissionDenied"},
		{"RefusalNamingNoEntry", deny(codes.PermissionDenied, "UNKNOWN_PEER_AGENCY", nil), audit.OutcomeFailed, "PEER_REFUSED", "UNKNOWN_PEER_AGENCY", "Internal"},
		{"RefusalWithAMalformedReason", deny(codes.PermissionDenied, "unknown agency", nil), audit.OutcomeFailed, "PEER_REFUSED", "", "Internal"},
		{"Unauthenticated", deny(codes.Unauthenticated, "CERTIFICATE_REVOKED", nil), audit.OutcomeFailed, "PEER_REFUSED", "CERTIFICATE_REVOKED", "Internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp." + strings.ToLower(tc.name)
			h.setAnswer(tc.answer)
			defer h.setAnswer(nil)
			_, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
			st := status.Convert(err)
			if st.Code().String() != tc.code || errorReason(err) != tc.reason || errorInfo(err).GetMetadata()["peer_reason"] != tc.peerReason {
				t.Errorf("Request: %v %v; want %s, reason %s, peer_reason %q", st.Code(), errorInfo(err), tc.code, tc.reason, tc.peerReason)
			}
			if m := st.Message(); len(m) > 600 || strings.ContainsAny(m, "\x1b\n") {
				t.Errorf("the officer got the peer's message unchecked (%d bytes): %q", len(m), m[:min(len(m), 80)])
			}
			nl := f.nl.entries(t, officer)
			if len(nl) != 1 || nl[0].Outcome != tc.outcome || !slices.Equal(nl[0].Reasons, []string{tc.reason}) || nl[0].Detail["peer_reason"] != tc.peerReason {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["peer_reason"])
				}
				t.Errorf("Dutch entries %q; want one %s %s, peer_reason %q", got, tc.outcome, tc.reason, tc.peerReason)
			}
		})
	}
}
