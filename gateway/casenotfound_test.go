package gateway_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestGetCaseNotFoundDoesNotQuoteTheID: GetCase of a well-formed id that
// names no case the caller may see is NOT_FOUND, and the message does not
// quote the id: it could be anything, a person's identifier typed into
// the wrong field included (the Cases service records no such id for the
// same reason), and an error never carries one. The answer is the same
// for no case and for a case the caller may not see. Before, the message
// was "no case SYN-NL-0001 that your agency ...".
func TestGetCaseNotFoundDoesNotQuoteTheID(t *testing.T) {
	s := startStack(t, stackOptions{})
	cs := s.cases(t, dkPolice)
	var msgs []string
	for _, id := range []string{"SYN-NL-0001", "NL-ZVH-RTM-0042"} {
		_, err := cs.GetCase(t.Context(), &liaisonv1.GetCaseRequest{CaseId: id})
		st := status.Convert(err)
		if st.Code() != codes.NotFound {
			t.Fatalf("GetCase(%s) by an agency outside it: %v, want NOT_FOUND", id, err)
		}
		if strings.Contains(st.Message(), id) {
			t.Errorf("GetCase(%s): the message %q quotes the id", id, st.Message())
		}
		msgs = append(msgs, st.Message())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("no case and a case the caller may not see are answered apart: %q, %q", msgs[0], msgs[1])
	}
}
