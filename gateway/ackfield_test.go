package gateway_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAgencyAcknowledgeByNoticeIDNamesNoticeID: AcknowledgeRequest's
// notice_id is set only by a peer gateway, with forwarded. An agency's
// Acknowledge that sets notice_id (and no forwarded) is refused naming
// notice_id, the field it set, in the BadRequest and its one refused
// entry; one that sets forwarded is refused naming forwarded. Before, both
// named forwarded, a field the first call never set.
func TestAgencyAcknowledgeByNoticeIDNamesNoticeID(t *testing.T) {
	s := startStack(t, stackOptions{})
	police := s.exchange(t, dkPolice)
	for _, c := range []struct {
		name, field string
		req         *liaisonv1.AcknowledgeRequest
	}{
		{"notice_id", "notice_id", &liaisonv1.AcknowledgeRequest{Cursor: 1, NoticeId: "ntc-0123456789abcdefghij"}},
		{"notice_id without a cursor", "notice_id", &liaisonv1.AcknowledgeRequest{NoticeId: "ntc-0123456789abcdefghij"}},
		{"forwarded", "forwarded", &liaisonv1.AcknowledgeRequest{Forwarded: &liaisonv1.PeerForward{}, NoticeId: "ntc-0123456789abcdefghij"}},
	} {
		s.refusedOn(t, "Acknowledge/"+c.name, "notice_acknowledge", codes.InvalidArgument, c.field, "", func() error {
			_, err := police.Acknowledge(t.Context(), c.req)
			return err
		})
	}
}
