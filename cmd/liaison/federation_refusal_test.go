package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
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

// setRequest sets (nil: clears) what changes the calls the hostile peer
// passes on.
func (h *hostilePeer) setRequest(f func(method string, req proto.Message)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.request = f
}

// forwarder returns a hostilePeer that forges receipts as c's gateway
// would sign them (with its checkpoint key), for calls that c's gateway
// forwards to the hostile peer's.
func forwarder(t *testing.T, c *country) *hostilePeer {
	t.Helper()
	signer, vkey, err := audit.LoadOrCreateSignerKey(c.opts.AuditKey, c.domain)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &hostilePeer{real: c, origin: c.domain, signer: signer, verifier: verifier}
}

// TestForwardedNoticeIDInUse: the Danish gateway forwards a required
// notice under the id of one the Dutch gateway already tracks (here one
// it delivered before from the same Danish prison). The Dutch gateway
// does not take it over: it refuses the forward, INVALID_ARGUMENT on
// forwarded.receipt (NOTICE_ID_IN_USE), with one refused entry, and
// still tracks the first notice alone. The Danish failed entry names no
// notice or deadline: none was delivered (its pending entry names the
// one forwarded).
func TestForwardedNoticeIDInUse(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	notify := func(officer string) (*liaisonv1.NotifyResponse, error) {
		return f.dk.client(t, "dk-prison-east", officer).Notify(t.Context(), &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
			Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
			Justification: "The person will live in Rotterdam after release.",
		})
	}
	resp, err := notify("kf.first")
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	id := resp.GetResults()[0].GetNoticeId()
	h.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded() != nil {
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.Detail["notice_id"] = id }, "")
		}
	})
	defer h.setRequest(nil)
	if _, err := notify("kf.reuse"); err == nil {
		t.Errorf("a notice forwarded under an id in use was delivered")
	}
	nl := f.nl.all(t, "notify", "kf.reuse")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || !slices.Equal(nl[0].Reasons, []string{"NOTICE_ID_IN_USE"}) || nl[0].Detail["field"] != "forwarded.receipt" {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
		}
		t.Errorf("Dutch entries %q; want one refused NOTICE_ID_IN_USE on forwarded.receipt", got)
	}
	dkAll := f.dk.all(t, "notify", "kf.reuse")
	if len(dkAll) != 2 || dkAll[1].Outcome != audit.OutcomeFailed || dkAll[1].Detail["peer_reason"] != "NOTICE_ID_IN_USE" {
		t.Errorf("Danish entries %v; want pending, failed with the Dutch refusal", outcomes(dkAll))
	} else if pd, fd := dkAll[0].Detail, dkAll[1].Detail; pd["notice_id"] == "" || fd["notice_id"] != "" || fd["acknowledge_by"] != "" || fd["escalate_at"] != "" {
		// The pending entry names the notice forwarded; the failed one
		// delivered none, and tracks no deadline.
		t.Errorf("Danish pending entry detail %v, failed entry detail %v; want the notice and its deadline in the pending entry alone", pd, fd)
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetRecipient() != "nl-police-rotterdam" {
		t.Errorf("Dutch notices %v; want %s alone", ns, id)
	}
}

// TestPeerPushEntryOfAnotherExchange: the Danish prison pushes its
// release notice to the Dutch probation service; the Dutch gateway's
// answer carries a receipt that verifies and names the Danish pending
// entry, but of an entry that records another exchange: another holder,
// another action, another recipient. The Danish gateway does not take it
// as the delivery it forwarded: its final entry says failed,
// PEER_RECEIPT_INVALID.
func TestPeerPushEntryOfAnotherExchange(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h := f.hostile
	for _, tc := range []struct {
		name   string
		change func(e *audit.Entry)
	}{
		{"AnotherHolder", func(e *audit.Entry) { e.Holder.Agency = "dk-police-aarhus" }},
		{"AnotherAction", func(e *audit.Entry) { e.Action = "request" }},
		{"AnotherRecipient", func(e *audit.Entry) { e.Recipients[0].Agency = "nl-police-rotterdam" }},
		{"AnotherPurpose", func(e *audit.Entry) { e.Purpose = "risk_management" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf." + strings.ToLower(tc.name)
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if r, ok := resp.(*liaisonv1.DiscloseResponse); ok && method == "Disclose" && len(r.GetResults()) == 1 {
					r.Results[0].Receipt = h.forge(t, r.Results[0].Receipt, tc.change, "")
				}
				return resp, err
			})
			defer h.setAnswer(nil)
			if _, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err == nil {
				t.Errorf("Disclose succeeded on the receipt of another exchange")
			}
			dk := f.dk.all(t, "disclose", officer)
			if len(dk) != 2 || dk[1].Outcome != audit.OutcomeFailed || !slices.Contains(dk[1].Reasons, "PEER_RECEIPT_INVALID") {
				var got []string
				for _, e := range dk {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ","))
				}
				t.Errorf("Danish entries %q; want pending, failed PEER_RECEIPT_INVALID", got)
			}
		})
	}
}

// TestForwardedWithdrawalOfAnotherType: the Danish gateway forwards a
// withdrawal that names the Dutch entry of a release notice but says it
// withdraws a risk assessment. The Dutch gateway refuses it
// (INVALID_ARGUMENT on forwarded.released.record_type, one refused
// entry): a correction or withdrawal is of the record type released.
func TestForwardedWithdrawalOfAnotherType(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err != nil {
		t.Fatal(err)
	}
	h.setRequest(func(method string, req proto.Message) {
		r, ok := req.(*liaisonv1.DiscloseRequest)
		if !ok || method != "Disclose" || r.GetForwarded().GetReleased() == nil {
			return
		}
		r.Forwarded.Released.RecordType = liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT
		r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.RecordType = "risk_assessment" }, releasedDigest(t, r.Forwarded.Released))
	})
	defer h.setRequest(nil)
	wr, err := f.dk.aftercare(t, "dk-prison-east", "kf.withdraw").Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The release was cancelled."})
	if err != nil {
		t.Fatalf("Withdraw: %v; want the Dutch refusal in its result", err)
	}
	nl := f.nl.all(t, audit.ActionWithdraw, "kf.withdraw")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.released.record_type" {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
		}
		t.Errorf("Dutch entries %q; want one refused on forwarded.released.record_type", got)
	}
	if rs := wr.GetResults(); len(rs) != 1 || !slices.Contains(rs[0].GetReasons(), "PEER_REFUSED") {
		t.Errorf("Danish results %v; want the withdrawal failed, PEER_REFUSED", rs)
	}
}

// TestPeerDenialIsVerified: the Danish gateway's law denies a Dutch
// officer's request for a risk assessment, and its PERMISSION_DENIED names
// its entry of the denial. The Dutch entry names that Danish entry
// (detail.peer_index, the receipt in detail.peer_receipt, peer_denial
// verified) only because the denial carries the Danish receipt of it
// (PeerRefusal), bound to this call. The same denial with the receipt
// stripped, or a denial of an earlier call presented again (its receipt
// intact), or with a receipt re-signed to name another recipient than the
// Dutch agency that asked, or of an entry made out to another recipient
// (both verified before the fix: the recipient went unchecked), is logged
// unverified: a deny without the Danish index, and the officer's
// ErrorInfo says peer_denial unverified. So is the denial with a receipt
// of an entry the Danish gateway made up and signed, naming the Dutch
// pending entry and the digest of this call's assertion as the real one
// does, but another requester (another Dutch agency, or another officer
// of the one that asked: the requester went unchecked, the index and the
// digest being only what the peer wrote beside it), or no recipient (as
// only the entry of a NOTICE_UNKNOWN of an acknowledgement names none),
// or no recipient and the reason NOTICE_UNKNOWN itself, for a Request:
// each was verified before the fix. So is a receipt of an entry of
// another action than the request (an audit_read the Danish gateway
// refused, naming the same parties, index and digest: verified before
// the fix, the action went unchecked), or of an entry whose outcome is no
// refusal (disclose). And the real denial, its receipt intact, answered
// FAILED_PRECONDITION as if the Danish gateway's state had refused the
// call: its entry is a deny, which only a PERMISSION_DENIED reports, so
// it proves no such refusal (verified before the fix, the outcome taken
// as deny or refused whatever the status): failed, PEER_REFUSED,
// peer_denial unverified, without the Danish index.
func TestPeerDenialIsVerified(t *testing.T) {
	dkEng := patchedEngine(t, "dk/dk.rego", `"release_notice", "risk_assessment", `, `"release_notice", `)
	f := startFederationWith(t, fedConfig{dkEngine: dkEng, hostile: "DK"})
	h := f.hostile
	ask := func(officer string) error {
		_, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
		return err
	}
	dutch := func(t *testing.T, officer string) *audit.Entry {
		t.Helper()
		nl := f.nl.entries(t, officer)
		if len(nl) != 1 || nl[0].Outcome != audit.OutcomeDeny {
			t.Fatalf("Dutch entries %v; want one deny", outcomes(nl))
		}
		return nl[0]
	}

	var first error
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if method == "Request" && first == nil {
			first = err
		}
		return resp, err
	})
	err := ask("insp.first")
	h.setAnswer(nil)
	if status.Code(err) != codes.PermissionDenied || errorInfo(err).GetMetadata()["peer_denial"] != "verified" {
		t.Fatalf("Request = %v (%v); want PermissionDenied, peer_denial verified", err, errorInfo(err))
	}
	var rc *liaisonv1.PeerReceipt
	for _, d := range status.Convert(first).Details() {
		if r, ok := d.(*liaisonv1.PeerRefusal); ok {
			rc = r.GetReceipt()
		}
	}
	dk := f.dk.entries(t, "insp.first")
	if rc == nil || len(dk) != 1 || dk[0].Outcome != audit.OutcomeDeny || strconv.FormatInt(rc.GetIndex(), 10) != errorInfo(first).GetMetadata()["audit_index"] {
		t.Fatalf("the Danish denial %v carries receipt %v; want the receipt of its deny entry", first, rc)
	}
	nl := dutch(t, "insp.first")
	if nl.Detail["peer_index"] != strconv.FormatInt(rc.GetIndex(), 10) || nl.Detail["peer_receipt"] == "" || nl.Detail["peer_denial"] != "verified" {
		t.Errorf("Dutch entry detail %v; want peer_index %d with its receipt, peer_denial verified", nl.Detail, rc.GetIndex())
	}
	if dk[0].Detail["peer_index"] != nl.Detail["pending_index"] {
		t.Errorf("the Danish denial names Dutch entry %q, the Dutch pending entry is %q", dk[0].Detail["peer_index"], nl.Detail["pending_index"])
	}
	if !slices.Contains(h.statement(t, rc), [2]string{"recipient", "nl-probation"}) {
		t.Errorf("the Danish receipt of its denial names %v; want recipient nl-probation", h.statement(t, rc))
	}

	// Before the forged logs below: the real log, the real receipt.
	t.Run("DenyAnsweredAsStateRefusal", func(t *testing.T) {
		h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			st := status.Convert(err)
			var refusal *liaisonv1.PeerRefusal
			for _, d := range st.Details() {
				if r, ok := d.(*liaisonv1.PeerRefusal); ok {
					refusal = r
				}
			}
			if refusal == nil {
				t.Error("the Danish denial carries no receipt")
				return resp, err
			}
			changed, _ := status.New(codes.FailedPrecondition, st.Message()).WithDetails(errorInfo(err), refusal)
			return nil, changed.Err()
		})
		defer h.setAnswer(nil)
		err := ask("insp.denyasstate")
		if errorReason(err) != "PEER_REFUSED" || errorInfo(err).GetMetadata()["peer_denial"] != "unverified" {
			t.Errorf("Request = %v (%v); want PEER_REFUSED, peer_denial unverified", err, errorInfo(err))
		}
		nl := f.nl.entries(t, "insp.denyasstate")
		if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_REFUSED") ||
			nl[0].Detail["peer_index"] != "" || nl[0].Detail["peer_receipt"] != "" || nl[0].Detail["peer_denial"] != "unverified" {
			var got []string
			for _, e := range nl {
				got = append(got, fmt.Sprintf("%s %v peer_index=%q peer_denial=%q", e.Outcome, e.Reasons, e.Detail["peer_index"], e.Detail["peer_denial"]))
			}
			t.Errorf("Dutch entries %q; want one failed PEER_REFUSED, no peer_index or peer_receipt, peer_denial unverified", got)
		}
	})

	for _, tc := range []struct {
		name   string
		answer func(method string, resp proto.Message, err error) (proto.Message, error)
	}{
		{"ReceiptStripped", func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			st := status.Convert(err)
			bare, _ := status.New(st.Code(), st.Message()).WithDetails(errorInfo(err))
			return nil, bare.Err()
		}},
		{"EarlierDenialReplayed", func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			return nil, first
		}},
		{"ReceiptOfAnotherRecipient", func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			st := status.Convert(err)
			var rc *liaisonv1.PeerReceipt
			for _, d := range st.Details() {
				if r, ok := d.(*liaisonv1.PeerRefusal); ok {
					rc = proto.CloneOf(r.GetReceipt())
				}
			}
			if rc == nil {
				t.Error("the Danish denial carries no receipt")
				return resp, err
			}
			fields := h.statement(t, rc)
			for i := range fields {
				if fields[i][0] == "recipient" {
					fields[i][1] = "nl-police-rotterdam"
				}
			}
			rc.Statement = h.sign(t, fields)
			forged, _ := status.New(st.Code(), st.Message()).WithDetails(errorInfo(err), &liaisonv1.PeerRefusal{Receipt: rc})
			return nil, forged.Err()
		}},
		// Last, those of a forged log: without the fix each was
		// remembered, and the real log then seen as a fork of it.
		{"EntryOfAnotherRecipient", func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" {
				return resp, err
			}
			st := status.Convert(err)
			var rc *liaisonv1.PeerReceipt
			for _, d := range st.Details() {
				if r, ok := d.(*liaisonv1.PeerRefusal); ok {
					rc = r.GetReceipt()
				}
			}
			if rc == nil {
				t.Error("the Danish denial carries no receipt")
				return resp, err
			}
			// The Danish entry of the denial, and its receipt, made out
			// to another Dutch agency, in a log that extends the real one.
			rc = h.forge(t, rc, func(e *audit.Entry) { e.Recipients[0].Agency = "nl-police-rotterdam" }, "")
			fields := h.statement(t, rc)
			for i := range fields {
				if fields[i][0] == "recipient" {
					fields[i][1] = "nl-police-rotterdam"
				}
			}
			rc.Statement = h.sign(t, fields)
			info := proto.CloneOf(errorInfo(err))
			info.Metadata["audit_index"] = strconv.FormatInt(rc.GetIndex(), 10)
			forged, _ := status.New(st.Code(), st.Message()).WithDetails(info, &liaisonv1.PeerRefusal{Receipt: rc})
			return nil, forged.Err()
		}},
		{"EntryOfAnotherRequester", forgeDenial(t, h, "", func(e *audit.Entry) { e.Requester.Agency = "nl-police-rotterdam" })},
		{"EntryOfAnotherOfficer", forgeDenial(t, h, "", func(e *audit.Entry) { e.Requester.Officer = "insp.someone.else" })},
		{"EntryNamingNoRecipient", forgeDenial(t, h, "", func(e *audit.Entry) { e.Recipients = nil })},
		{"UnaddressedNoticeUnknown", forgeDenial(t, h, "NOTICE_UNKNOWN", func(e *audit.Entry) {
			e.Recipients, e.Outcome, e.Reasons = nil, audit.OutcomeRefused, []string{"NOTICE_UNKNOWN"}
		})},
		{"EntryOfAnotherAction", forgeDenial(t, h, "", func(e *audit.Entry) { e.Action, e.Outcome = audit.ActionAuditRead, audit.OutcomeRefused })},
		{"EntryOfAnotherOutcome", forgeDenial(t, h, "", func(e *audit.Entry) { e.Outcome = audit.OutcomeDisclose })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp." + strings.ToLower(tc.name)
			h.setAnswer(tc.answer)
			defer h.setAnswer(nil)
			err := ask(officer)
			if status.Code(err) != codes.PermissionDenied || errorInfo(err).GetMetadata()["peer_denial"] != "unverified" {
				t.Errorf("Request = %v (%v); want PermissionDenied, peer_denial unverified", err, errorInfo(err))
			}
			nl := dutch(t, officer)
			if nl.Detail["peer_index"] != "" || nl.Detail["peer_receipt"] != "" || nl.Detail["peer_denial"] != "unverified" {
				t.Errorf("Dutch entry detail %v; want no peer_index or peer_receipt, peer_denial unverified", nl.Detail)
			}
		})
	}
}

// forgeDenial returns an answer for h that turns the Danish denial of a
// Request into one whose receipt is of an entry changed by change, in a
// log of the peer's making that extends the real one (hostilePeer.forge),
// its statement naming the changed entry's one recipient (none if it
// names none), and the denial naming that entry, for reason if set.
func forgeDenial(t *testing.T, h *hostilePeer, reason string, change func(e *audit.Entry)) func(string, proto.Message, error) (proto.Message, error) {
	return func(method string, resp proto.Message, err error) (proto.Message, error) {
		if method != "Request" {
			return resp, err
		}
		st := status.Convert(err)
		var rc *liaisonv1.PeerReceipt
		for _, d := range st.Details() {
			if r, ok := d.(*liaisonv1.PeerRefusal); ok {
				rc = r.GetReceipt()
			}
		}
		if rc == nil {
			t.Error("the Danish denial carries no receipt")
			return resp, err
		}
		var recipient string
		rc = h.forge(t, rc, func(e *audit.Entry) {
			change(e)
			if len(e.Recipients) == 1 {
				recipient = e.Recipients[0].Agency
			}
		}, "")
		fields := h.statement(t, rc)
		for i := range fields {
			if fields[i][0] == "recipient" {
				fields[i][1] = recipient
			}
		}
		rc.Statement = h.sign(t, fields)
		info := proto.CloneOf(errorInfo(err))
		info.Metadata["audit_index"] = strconv.FormatInt(rc.GetIndex(), 10)
		if reason != "" {
			info.Reason = reason
		}
		forged, _ := status.New(st.Code(), st.Message()).WithDetails(info, &liaisonv1.PeerRefusal{Receipt: rc})
		return nil, forged.Err()
	}
}

// TestPeerRefusalIsNotADenyOfItsLaw: the Danish gateway answers a Dutch
// officer's request PERMISSION_DENIED naming its entry, with a receipt of
// it that holds, but that entry records a refusal by the Danish gateway's
// own rules (outcome refused, NOT_A_CASE_MEMBER), not a denial of Danish
// law (the hostile peer turns the real denial into one, signed with the
// Danish key). The Dutch entry says what the receipt proves: refused,
// PEER_REFUSED, with the Danish reason in detail peer_reason and the
// Danish entry named (peer_denial verified); the officer gets
// PERMISSION_DENIED, reason PEER_REFUSED, metadata peer_reason. Without
// the fix the Dutch entry said deny, as for a decision of Danish law. The
// same refusal without the receipt stays an unverified deny.
func TestPeerRefusalIsNotADenyOfItsLaw(t *testing.T) {
	dkEng := patchedEngine(t, "dk/dk.rego", `"release_notice", "risk_assessment", `, `"release_notice", `)
	f := startFederationWith(t, fedConfig{dkEngine: dkEng, hostile: "DK"})
	h := f.hostile
	refuse := func(strip bool) func(string, proto.Message, error) (proto.Message, error) {
		return func(method string, resp proto.Message, err error) (proto.Message, error) {
			if method != "Request" || status.Code(err) != codes.PermissionDenied {
				return resp, err
			}
			var rc *liaisonv1.PeerReceipt
			for _, d := range status.Convert(err).Details() {
				if r, ok := d.(*liaisonv1.PeerRefusal); ok {
					rc = r.GetReceipt()
				}
			}
			if rc == nil {
				t.Errorf("the Danish denial %v carries no receipt", err)
				return resp, err
			}
			forged := h.forge(t, rc, func(e *audit.Entry) {
				e.Outcome, e.Reasons = audit.OutcomeRefused, []string{"NOT_A_CASE_MEMBER"}
			}, "")
			st, _ := status.New(codes.PermissionDenied, "dk-police-aarhus is not a member of the case").WithDetails(&errdetails.ErrorInfo{
				Reason: "NOT_A_CASE_MEMBER", Domain: "liaison.v1", Metadata: map[string]string{"audit_index": strconv.FormatInt(forged.GetIndex(), 10)},
			})
			if !strip {
				st, _ = st.WithDetails(&liaisonv1.PeerRefusal{Receipt: forged})
			}
			return nil, st.Err()
		}
	}
	for _, tc := range []struct {
		name                          string
		strip                         bool
		outcome, reason, peer, denial string
		code                          codes.Code
	}{
		{"Proven", false, audit.OutcomeRefused, "PEER_REFUSED", "NOT_A_CASE_MEMBER", "verified", codes.PermissionDenied},
		{"Unproven", true, audit.OutcomeDeny, "NOT_A_CASE_MEMBER", "", "unverified", codes.PermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp.refused." + strings.ToLower(tc.name)
			h.setAnswer(refuse(tc.strip))
			defer h.setAnswer(nil)
			_, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
			md := errorInfo(err).GetMetadata()
			if status.Code(err) != tc.code || errorReason(err) != tc.reason || md["peer_reason"] != tc.peer || md["peer_denial"] != tc.denial {
				t.Errorf("Request = %v (%v); want %v, reason %s, peer_reason %q, peer_denial %s", err, errorInfo(err), tc.code, tc.reason, tc.peer, tc.denial)
			}
			nl := f.nl.entries(t, officer)
			if len(nl) != 1 || nl[0].Outcome != tc.outcome || !slices.Equal(nl[0].Reasons, []string{tc.reason}) ||
				nl[0].Detail["peer_reason"] != tc.peer || nl[0].Detail["peer_denial"] != tc.denial || (nl[0].Detail["peer_index"] != "") != !tc.strip {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["peer_reason"]+" "+e.Detail["peer_denial"]+" peer_index="+e.Detail["peer_index"])
				}
				t.Errorf("Dutch entries %q; want one %s %s, peer_reason %q, peer_denial %s", got, tc.outcome, tc.reason, tc.peer, tc.denial)
			}
		})
	}
}

// TestPeerReleaseReplayed: the answer to an earlier request, the Danish
// release and its receipt, presented again as the answer to a new request
// of the same record: the receipt verifies, but its entry names the Dutch
// pending entry of the earlier call, and the assertion of that call. The
// Dutch gateway does not take it: failed, PEER_RECEIPT_INVALID, and the
// officer gets nothing.
func TestPeerReleaseReplayed(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	var first *liaisonv1.RequestResponse
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
			if first == nil {
				first = proto.CloneOf(r)
			} else {
				return proto.CloneOf(first), nil
			}
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	if _, err := f.nl.client(t, "nl-probation", "insp.first").Request(t.Context(), riskAssessmentRequest); err != nil || first == nil {
		t.Fatalf("the first request: %v", err)
	}
	if resp, err := f.nl.client(t, "nl-probation", "insp.again").Request(t.Context(), riskAssessmentRequest); err == nil {
		t.Fatalf("a replayed release was delivered: %v", resp.GetReleased().GetAuditIndex())
	}
	nl := f.nl.entries(t, "insp.again")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RECEIPT_INVALID") {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ","))
		}
		t.Errorf("Dutch entries %q; want one failed PEER_RECEIPT_INVALID", got)
	}
}

// TestPeerAnswerOfAnotherCall: the Danish gateway answers a Dutch request
// with a receipt that verifies, of an entry that names the Dutch pending
// entry of this exchange and records the release, but was made for
// another call: it records the digest of another assertion than the one
// this call carried. The Dutch gateway does not take it as the answer to
// this call: failed, PEER_RECEIPT_INVALID, and the officer gets nothing.
func TestPeerAnswerOfAnotherCall(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) {
				e.Detail["assertion_sha256"] = strings.Repeat("ab", 32)
			}, "")
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	if resp, err := f.nl.client(t, "nl-probation", "insp.other").Request(t.Context(), riskAssessmentRequest); err == nil {
		t.Fatalf("a release answering another call was delivered: %v", resp.GetReleased().GetAuditIndex())
	}
	nl := f.nl.entries(t, "insp.other")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RECEIPT_INVALID") {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ","))
		}
		t.Errorf("Dutch entries %q; want one failed PEER_RECEIPT_INVALID", got)
	}
}

// TestPeerAlreadyAcknowledgedIsVerified: the Dutch probation service
// acknowledges a Danish correction; the Danish gateway closes the notice,
// but its answer is lost, so the Dutch gateway defers the forward. Its
// timers forward it again, and the Danish gateway refuses it
// ALREADY_ACKNOWLEDGED, naming its entry of that refusal. The Dutch
// forward's entry records that Danish entry (peer_index, with its receipt,
// peer_denial verified) because the refusal carries the receipt of it,
// and the forward is settled. With the receipt stripped the refusal
// settles nothing: the forward fails (PEER_CLAIM_UNVERIFIED, peer_outcome
// already_acknowledged, peer_denial unverified, without the Danish index)
// and stays due; before, it counted as done.
func TestPeerAlreadyAcknowledgedIsVerified(t *testing.T) {
	for _, strip := range []bool{false, true} {
		t.Run(map[bool]string{false: "WithItsReceipt", true: "ReceiptStripped"}[strip], func(t *testing.T) {
			f := startFederationWith(t, fedConfig{hostile: "DK"})
			h := f.hostile
			ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if method == "AcknowledgeNotice" && err == nil {
					return nil, status.Error(codes.Unavailable, "the answer was lost")
				}
				return resp, err
			})
			resp, err := f.nl.aftercare(t, "nl-probation", "insp.lost").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
				NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
			if err != nil || !resp.GetDeferred() {
				t.Fatalf("AcknowledgeNotice, the Danish answer lost = %v, %v; want success, the forward deferred", resp, err)
			}
			if dk := f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.lost"); len(dk) != 1 || dk[0].Outcome != audit.OutcomeOK {
				t.Fatalf("Danish acknowledgements %v; want one ok", outcomes(dk))
			}
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if method == "AcknowledgeNotice" && strip && err != nil {
					st := status.Convert(err)
					bare, _ := status.New(st.Code(), st.Message()).WithDetails(errorInfo(err))
					return nil, bare.Err()
				}
				return resp, err
			})
			defer h.setAnswer(nil)
			if err := f.nl.gw.Server.RunAftercare(t.Context()); (err != nil) != strip {
				t.Fatalf("the Dutch timers' forward: %v; want an error %v", err, strip)
			}
			dk := f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.lost")
			nl := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.lost")
			if len(dk) != 2 || dk[1].Outcome != audit.OutcomeRefused || !slices.Contains(dk[1].Reasons, "ALREADY_ACKNOWLEDGED") || len(nl) < 2 {
				t.Fatalf("Danish acknowledgements %v, Dutch %v; want the forward refused ALREADY_ACKNOWLEDGED there", outcomes(dk), outcomes(nl))
			}
			last := nl[len(nl)-1]
			if outcome := map[bool]string{false: audit.OutcomeOK, true: audit.OutcomeFailed}[strip]; last.Outcome != outcome ||
				last.Detail[audit.DetailPeerOutcome] != "already_acknowledged" || strip && !slices.Contains(last.Reasons, "PEER_CLAIM_UNVERIFIED") {
				t.Fatalf("the Dutch forward %s %v %v; want %s, peer_outcome already_acknowledged (PEER_CLAIM_UNVERIFIED if unverified)", last.Outcome, last.Reasons, last.Detail, outcome)
			}
			all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
				&liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
			if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetForwardPending() != strip {
				t.Errorf("Dutch obligation notices %v, %v; want the correction, its forward pending %v", all, err, strip)
			}
			want := map[string]string{"peer_denial": "verified", "peer_index": strconv.Itoa(f.dk.indexOf(t, dk[1]))}
			if strip {
				want = map[string]string{"peer_denial": "unverified", "peer_index": ""}
			}
			if last.Detail["peer_denial"] != want["peer_denial"] || last.Detail["peer_index"] != want["peer_index"] || (last.Detail["peer_receipt"] != "") != !strip {
				t.Errorf("the Dutch forward's detail %v; want %v, a receipt %v", last.Detail, want, !strip)
			}
		})
	}
}

// indexOf is the index of an entry in a country's log, found by its
// request id.
func (c *country) indexOf(t *testing.T, e *audit.Entry) int {
	t.Helper()
	recs, err := c.gw.Audit.Query(t.Context(), audit.Filter{Officer: e.Requester.Officer})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Entry.RequestID == e.RequestID && r.Entry.Outcome == e.Outcome {
			return int(r.Index)
		}
	}
	t.Fatalf("no entry of request %s in the %s log", e.RequestID, c.Jurisdiction)
	return -1
}

// TestPeerNoticeAckClaimIsVerified: the Dutch probation service
// acknowledges a Danish correction at its gateway, which forwards it; the
// Danish gateway takes it, but the hostile peer puts in place of its
// answer an ALREADY_ACKNOWLEDGED naming the Danish entry, without the
// receipt of a refusal. The Dutch gateway does not take that on the
// peer's word: the acknowledgement stands (deferred), its entry says
// peer_outcome already_acknowledged, peer_denial unverified, and the
// forward stays due (forward_pending). Its timers forward it again; the
// Danish gateway, answering for itself, refuses it ALREADY_ACKNOWLEDGED
// with the receipt of that refusal, which settles it. Before, the
// unverified claim counted as done and nothing was forwarded again.
func TestPeerNoticeAckClaimIsVerified(t *testing.T) {
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{hostile: "DK", now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	f.hostile.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		r, ok := resp.(*liaisonv1.AcknowledgeNoticeResponse)
		if method != "AcknowledgeNotice" || err != nil || !ok {
			return resp, err
		}
		st, _ := status.New(codes.PermissionDenied, "acknowledged already").WithDetails(&errdetails.ErrorInfo{
			Reason: "ALREADY_ACKNOWLEDGED", Domain: "liaison.v1", Metadata: map[string]string{"audit_index": strconv.FormatInt(r.GetAuditIndex(), 10)}})
		return nil, st.Err()
	})
	resp, err := f.nl.aftercare(t, "nl-probation", "insp.claim").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice, the Danish answer an unverified ALREADY_ACKNOWLEDGED = %v, %v; want success, the forward deferred", resp, err)
	}
	nl := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.claim")
	if last := nl[len(nl)-1]; last.Outcome != audit.OutcomeOK || last.Detail[audit.DetailPeerOutcome] != "already_acknowledged" ||
		last.Detail["peer_denial"] != "unverified" || last.Detail["peer_index"] != "" {
		t.Errorf("the Dutch acknowledgement %s %v; want ok, peer_outcome already_acknowledged, peer_denial unverified, no Danish index", last.Outcome, last.Detail)
	}
	pending := func() bool {
		t.Helper()
		all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
			&liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
		if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetAcknowledgementIndex() != resp.GetAuditIndex() {
			t.Fatalf("Dutch obligation notices %v, %v; want the correction, acknowledged by entry %d", all, err, resp.GetAuditIndex())
		}
		return all.GetNotices()[0].GetForwardPending()
	}
	if !pending() {
		t.Fatal("the Dutch gateway took the unverified claim as the forward's answer: its forward is not pending")
	}
	// The Danish gateway answers for itself: its ALREADY_ACKNOWLEDGED
	// carries the receipt, and settles the forward.
	f.hostile.setAnswer(nil)
	for wait := time.Now().Add(30 * time.Second); pending(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatal("the Dutch gateway never settled the forward")
		}
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunAftercare(t.Context())
	}
	nl = f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.claim")
	if last := nl[len(nl)-1]; last.Outcome != audit.OutcomeOK || last.Detail[audit.DetailForwards] != strconv.FormatInt(resp.GetAuditIndex(), 10) ||
		last.Detail[audit.DetailPeerOutcome] != "already_acknowledged" || last.Detail["peer_denial"] != "verified" || last.Detail["peer_index"] == "" {
		t.Errorf("the Dutch forward %s %v; want ok, forwarding entry %d, peer_outcome already_acknowledged, peer_denial verified", last.Outcome, last.Detail, resp.GetAuditIndex())
	}
}
