package gateway_test

import (
	"os"
	"slices"
	"testing"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestHitOnlyRequestDoesNotTellWhetherTheHolderKnowsTheSubject: under a
// hit-only decision a Request answers one bit, whether the holder has
// such a record. A holder that does not know the subject at all and one
// that knows the subject but holds no record of that type give the caller
// the same answer (a no-hit, hit false) and the same kind of entry
// (hit_only, fields [hit], detail.answer no_hit); only a record held is a
// hit.
func TestHitOnlyRequestDoesNotTellWhetherTheHolderKnowsTheSubject(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/hitonly")})
	police := s.exchange(t, nlPolice)
	fetches := s.providers["nl-probation"].Fetches()
	type answer struct {
		rel   *liaisonv1.Released
		err   error
		entry *audit.Entry
	}
	ask := func(t *testing.T, subject string, rt liaisonv1.RecordType) answer {
		t.Helper()
		var resp *liaisonv1.RequestResponse
		err, entries := s.grown(t, func() error {
			var err error
			resp, err = police.Request(t.Context(), riskReq(func(r *liaisonv1.RequestRequest) { r.SubjectId, r.RecordType = subject, rt }))
			return err
		})
		if len(entries) != 1 {
			t.Fatalf("Request(%s, %v): the log grew by %d entries, want 1", subject, rt, len(entries))
		}
		return answer{resp.GetReleased(), err, entries[0]}
	}
	releaseNotice := liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE // nl-probation holds none about SYN-NL-0001
	answers := map[string]answer{
		"record held":                   ask(t, "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT),
		"subject known, record absent":  ask(t, "SYN-NL-0001", releaseNotice),
		"subject unknown to the holder": ask(t, "SYN-NL-0404", releaseNotice),
	}
	for name, a := range answers {
		wantHit := name == "record held"
		if a.err != nil {
			t.Errorf("%s: %v (entry %s %v), want a released hit/no-hit answer", name, status.Convert(a.err).Message(), a.entry.Outcome, a.entry.Reasons)
			continue
		}
		if a.rel.GetOutcome() != liaisonv1.Outcome_OUTCOME_HIT_ONLY || a.rel.GetHit() != wantHit || a.rel.GetRecord() != nil || len(a.rel.GetFields()) > 0 {
			t.Errorf("%s: released %v, want hit_only with hit %v and nothing else", name, a.rel, wantHit)
		}
		e := a.entry
		wantAnswer := map[bool]string{true: "hit", false: "no_hit"}[wantHit]
		if e.Outcome != audit.OutcomeHitOnly || !slices.Equal(e.FieldsDisclosed, []string{"hit"}) || e.Detail["answer"] != wantAnswer ||
			slices.Contains(e.Reasons, "NOT_FOUND") || a.rel.GetAuditIndex() != a.rel.GetProvenance().GetAuditIndex() {
			t.Errorf("%s: entry outcome %q reasons %v fields %v detail %v, want hit_only, fields [hit], answer %s",
				name, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail, wantAnswer)
		}
	}
	if t.Failed() {
		return
	}

	// The two no-hits are one answer: nothing but the subject's pseudonym
	// (each the pseudonym of the identifier the caller sent) and the
	// entry's index and receipt differ.
	known, unknown := answers["subject known, record absent"], answers["subject unknown to the holder"]
	for id, a := range map[pseudonym.SubjectID]answer{"SYN-NL-0001": known, "SYN-NL-0404": unknown} {
		want, err := s.keys.Pseudonym(a.rel.GetPseudonymDomain(), id)
		if err != nil {
			t.Fatal(err)
		}
		if a.rel.GetSubjectPseudonym() != want {
			t.Errorf("subject pseudonym %q, want the %s domain's %q", a.rel.GetSubjectPseudonym(), a.rel.GetPseudonymDomain(), want)
		}
	}
	strip := func(r *liaisonv1.Released) *liaisonv1.Released {
		r = proto.CloneOf(r)
		r.SubjectPseudonym, r.AuditIndex, r.Provenance = "", 0, nil
		return r
	}
	if !proto.Equal(strip(known.rel), strip(unknown.rel)) {
		t.Errorf("the caller can tell the two no-hits apart:\n known subject:   %v\n unknown subject: %v", known.rel, unknown.rel)
	}
	ke, ue := known.entry, unknown.entry
	if ke.Outcome != ue.Outcome || !slices.Equal(ke.Reasons, ue.Reasons) || !slices.Equal(ke.FieldsDisclosed, ue.FieldsDisclosed) ||
		ke.Detail["answer"] != ue.Detail["answer"] || !slices.Equal(ke.Conditions, ue.Conditions) || ke.PseudonymDomain != ue.PseudonymDomain {
		t.Errorf("the entries differ in kind:\n known subject:   %+v\n unknown subject: %+v", ke, ue)
	}
	if n := s.providers["nl-probation"].Fetches(); n != fetches {
		t.Errorf("the holder was asked for %d records for hit/no-hit answers", n-fetches)
	}
}
