package gateway_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestRequiredNoticesPage: ListNotices reads on past a full page (start),
// as ListObligationNotices does, in log order; without it an auditor saw
// the first 1000 notices and could not learn of the rest, and a repeated
// call returned the same page. The third notice is sent by a replica whose
// clock is an hour behind (its sent time is the earliest): it is still
// listed, last, where its delivery is in the log. The read's entry records
// start; a negative start is refused, and the refusal logged.
func TestRequiredNoticesPage(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		var want []string
		for _, n := range []struct{ subject, municipality string }{
			{"SYN-NL-0411", "Amsterdam"}, {"SYN-NL-0412", "Rotterdam"}, {"SYN-NL-0413", "Amsterdam"},
		} {
			if len(want) == 2 {
				clk.Set(caseStart.Add(-time.Hour))
			}
			want = append(want, notifyCompetent(t, s, n.subject, n.municipality).GetNoticeId())
			clk.Set(caseStart.Add(time.Minute))
		}
		nc := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor))
		all, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		if err != nil || len(all.GetNotices()) != 3 {
			t.Fatalf("ListNotices = %v, %v; want three notices", all, err)
		}
		var got []string
		var idx []int64
		start := int64(0)
		for range 4 {
			var page *liaisonv1.ListNoticesResponse
			_, e := s.one(t, "a page", "audit_read", "ok", func() (err error) {
				page, err = nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Limit: 1, Start: start})
				return err
			})
			if start > 0 && e.Detail["start"] != strconv.FormatInt(start, 10) {
				t.Errorf("the read's entry detail = %v, want start %d", e.Detail, start)
			}
			if len(page.GetNotices()) == 0 {
				break
			}
			if len(page.GetNotices()) != 1 {
				t.Fatalf("a page of limit 1 holds %d notices", len(page.GetNotices()))
			}
			n := page.GetNotices()[0]
			got, idx = append(got, n.GetNoticeId()), append(idx, n.GetAuditIndex())
			start = n.GetAuditIndex() + 1
		}
		if !slices.Equal(got, want) || !slices.IsSorted(idx) {
			t.Errorf("pages of one read notices %v (entries %v), want %v, one a page, in log order", got, idx, want)
		}
		var ids []string
		for _, n := range all.GetNotices() {
			ids = append(ids, n.GetNoticeId())
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ListNotices lists %v, want %v: in log order", ids, want)
		}
		err, e := s.one(t, "start -1", "audit_read", "refused", func() error {
			_, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Start: -1})
			return err
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "start" {
			t.Errorf("ListNotices(start -1): %v, want INVALID_ARGUMENT naming start", err)
		}
		if e.Detail["field"] != "start" || !slices.Equal(e.Reasons, []string{"INVALID_ARGUMENT"}) {
			t.Errorf("the refusal's entry = %v %v, want field start, INVALID_ARGUMENT", e.Detail, e.Reasons)
		}
	})
}
