package gateway_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// Health answers load balancers without credentials; reflection (for
// grpcurl) needs a trusted client certificate but no officer token.
func TestHealthAndReflection(t *testing.T) {
	s := startStack(t, stackOptions{})
	hc := healthpb.NewHealthClient(s.dial(t, s.addr, nil, ""))
	resp, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "liaison.v1.Exchange"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", resp, err)
	}

	list := func(certs bool) ([]string, error) {
		conn := s.dial(t, s.addr, nil, "")
		if certs {
			conn = s.connWith(t, "dk-prison-east", "")
		}
		st, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
		if err != nil {
			return nil, err
		}
		if err := st.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
			return nil, err
		}
		r, err := st.Recv()
		if err != nil {
			return nil, err
		}
		var names []string
		for _, sv := range r.GetListServicesResponse().GetService() {
			names = append(names, sv.GetName())
		}
		return names, nil
	}
	names, err := list(true)
	if err != nil {
		t.Fatalf("reflection with a certificate: %v", err)
	}
	for _, want := range []string{"liaison.v1.Exchange", "liaison.v1.Audit", "liaison.v1.Policy", "grpc.health.v1.Health"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
	_, err = list(false)
	wantStatus(t, err, codes.Unauthenticated)
}
