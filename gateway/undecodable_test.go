package gateway_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// rawCodec sends bytes as they are, to put on the wire what no client
// library would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, errors.New("rawCodec: not bytes")
	}
	return b, nil
}
func (rawCodec) Unmarshal(data []byte, v any) error { return nil }
func (rawCodec) Name() string                       { return "proto" } // what the server expects

// TestUnreadableRequestsAreAudited sends an audited RPC a request larger
// than the gateway accepts and one that is not the method's message: gRPC
// refuses both, with its own status, before any interceptor runs. Each
// must still end in exactly one entry (refused, REQUEST_TOO_LARGE or
// MALFORMED_REQUEST, the caller authenticated) holding nothing of what
// was sent.
func TestUnreadableRequestsAreAudited(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	conn := s.conn(t, dkPrison)
	ctx := t.Context()
	sent := "SYN-DK-0001-" + strings.Repeat("x", 2<<20) // over the 1 MiB default
	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code // gRPC's
		reason string
	}{
		{"too large", func() error {
			_, err := liaisonv1.NewExchangeClient(conn).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Recipients: []string{"dk-police-aarhus"}, Justification: sent,
			}, grpc.MaxCallSendMsgSize(4<<20))
			return err
		}, codes.ResourceExhausted, "REQUEST_TOO_LARGE"},
		{"malformed", func() error {
			// Field 1 (the record) says 16 bytes follow; one does.
			return conn.Invoke(ctx, liaisonv1.Exchange_Disclose_FullMethodName, []byte{0x0a, 0x10, 0x01}, new([]byte), grpc.ForceCodec(rawCodec{}))
		}, codes.Internal, "MALFORMED_REQUEST"},
		{"malformed, on a case", func() error {
			return conn.Invoke(ctx, liaisonv1.Cases_OpenCase_FullMethodName, []byte{0x0a, 0x10, 0x01}, new([]byte), grpc.ForceCodec(rawCodec{}))
		}, codes.Internal, "MALFORMED_REQUEST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := s.db.Size(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call()
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("status = %v %q, want %v", st.Code(), st.Message(), tc.code)
			}
			// The entry is written after gRPC has answered.
			var after int64
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if after, err = s.db.Size(ctx); err != nil {
					t.Fatal(err)
				}
				if after > before || time.Now().After(deadline) {
					break
				}
			}
			time.Sleep(100 * time.Millisecond) // a second entry would have come by now
			if after, err = s.db.Size(ctx); err != nil {
				t.Fatal(err)
			}
			if after != before+1 {
				t.Fatalf("%d entries written, want exactly 1", after-before)
			}
			e := s.entry(t, before)
			if e.Outcome != audit.OutcomeRefused || len(e.Reasons) != 1 || e.Reasons[0] != tc.reason {
				t.Errorf("entry: outcome %q, reasons %v; want refused, [%s]", e.Outcome, e.Reasons, tc.reason)
			}
			if e.Requester == nil || e.Requester.Agency != dkPrison.agency || e.Requester.Officer != dkPrison.id {
				t.Errorf("entry's requester = %+v, want the authenticated caller", e.Requester)
			}
			leaf, _ := e.Marshal()
			if strings.Contains(string(leaf), "SYN-DK-0001") || strings.Contains(st.Message(), "SYN-DK-0001") {
				t.Error("what was sent reached the entry or the status")
			}
		})
	}
}

// TestUnreadableRequestsAreCounted: a request gRPC could not read is
// counted in liaison_requests_total under its method, refused with the
// reason its entry records, and so is one whose caller is not
// authenticated, with the reason of that refusal; both count in
// liaison_refusals_total and their authentication is timed.
func TestUnreadableRequestsAreCounted(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := startStack(t, stackOptions{metrics: reg})
	ctx := t.Context()
	malformed := []byte{0x0a, 0x10, 0x01} // field 1 says 16 bytes follow; one does
	if err := s.conn(t, dkPrison).Invoke(ctx, liaisonv1.Exchange_Disclose_FullMethodName, malformed, new([]byte), grpc.ForceCodec(rawCodec{})); status.Code(err) != codes.Internal {
		t.Fatalf("malformed Disclose: %v, want gRPC's Internal", err)
	}
	if err := s.connWith(t, dkPrison.agency, "not-a-token").Invoke(ctx, liaisonv1.Exchange_Disclose_FullMethodName, malformed, new([]byte), grpc.ForceCodec(rawCodec{})); status.Code(err) != codes.Internal {
		t.Fatalf("malformed Disclose, bad token: %v, want gRPC's Internal", err)
	}
	// The entries, and so the counts, come after gRPC has answered, each
	// when its entry is committed: wait for all of them (on a loaded
	// machine the second call's duration was observed before its count).
	disclose := strings.TrimPrefix(liaisonv1.Exchange_Disclose_FullMethodName, "/")
	wants := map[string]float64{
		"liaison_requests_total " + disclose + " refused MALFORMED_REQUEST": 1,
		"liaison_requests_total " + disclose + " refused MALFORMED_TOKEN":   1,
		"liaison_refusals_total MALFORMED_REQUEST":                          1,
		"liaison_refusals_total MALFORMED_TOKEN":                            1,
		"liaison_stage_duration_seconds authenticate":                       2,
		"liaison_request_duration_seconds " + disclose:                      2,
	}
	var counts map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		counts = gatherCounts(t, reg)
		reached := true
		for key, want := range wants {
			reached = reached && counts[key] >= want
		}
		if reached || time.Now().After(deadline) {
			break
		}
	}
	for key, want := range wants {
		if counts[key] != want {
			t.Errorf("%s = %v, want %v", key, counts[key], want)
		}
	}
	for key, v := range counts {
		if strings.HasPrefix(key, "liaison_requests_total  ") && v != 0 {
			t.Errorf("%s = %v: counted without its method", key, v)
		}
	}
}

// gatherCounts reads the gateway's call metrics from reg: each counter by
// "name method outcome reason" (liaison_requests_total) or "name reason"
// (liaison_refusals_total), each histogram's count by "name stage" or
// "name method".
func gatherCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch f.GetName() {
			case "liaison_requests_total":
				counts[strings.Join([]string{f.GetName(), l["method"], l["outcome"], l["reason"]}, " ")] += m.GetCounter().GetValue()
			case "liaison_refusals_total":
				counts[f.GetName()+" "+l["reason"]] += m.GetCounter().GetValue()
			case "liaison_stage_duration_seconds":
				counts[f.GetName()+" "+l["stage"]] += float64(m.GetHistogram().GetSampleCount())
			case "liaison_request_duration_seconds":
				counts[f.GetName()+" "+l["method"]] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return counts
}
