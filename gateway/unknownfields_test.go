package gateway_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// withUnknown appends a length-delimited field the schema does not have
// (number 999) holding text to a message's unknown fields, as a holder's
// system on a newer version of the schema would send it.
func withUnknown(m protoreflect.Message, text string) {
	b := protowire.AppendTag(m.GetUnknown(), 999, protowire.BytesType)
	m.SetUnknown(protowire.AppendString(b, text))
}

// unknownFields lists the messages of m, by path, that carry fields the
// schema does not know.
func unknownFields(m protoreflect.Message, path string) []string {
	var out []string
	if len(m.GetUnknown()) > 0 {
		out = append(out, path)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			for i := range v.List().Len() {
				out = append(out, unknownFields(v.List().Get(i).Message(), path+"."+string(fd.Name()))...)
			}
		default:
			out = append(out, unknownFields(v.Message(), path+"."+string(fd.Name()))...)
		}
		return true
	})
	return out
}

// TestUnknownFieldsAreNotReleased: a record whose messages carry fields
// the schema does not know (here the raw identifier and a narrative, in
// field 999 of the record, its body and the subject) is released with
// only the fields the policy's plan lets through, in full and
// pseudonymised alike: a field that is in no class is in no plan, so it
// is dropped, as an unclassified field is. Without the fix the unknown
// bytes went through the transformation untouched, into both inboxes.
func TestUnknownFieldsAreNotReleased(t *testing.T) {
	s := startStack(t, stackOptions{})
	rec, attrs := dkRelease(t, s)
	rec = proto.CloneOf(rec)
	const secret = "SYN-DK-0001 told his mentor about the plan"
	withUnknown(rec.ProtoReflect(), secret)
	withUnknown(rec.GetReleaseNotice().ProtoReflect(), secret)
	withUnknown(rec.GetReleaseNotice().GetSubject().ProtoReflect(), secret)
	prison := s.exchange(t, dkPrison)
	for _, d := range []struct {
		recipient string
		purpose   liaisonv1.Purpose
		want      liaisonv1.Outcome
		reader    officer
	}{
		{"dk-police-aarhus", liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, liaisonv1.Outcome_OUTCOME_DISCLOSE, dkPolice},
		{"dk-social-aarhus", liaisonv1.Purpose_PURPOSE_STATISTICS, liaisonv1.Outcome_OUTCOME_PSEUDONYMISE, dkSocial},
	} {
		resp, err := prison.Disclose(t.Context(), &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{d.recipient},
			Purpose: d.purpose, Justification: "Release in three weeks.",
		})
		if err != nil {
			t.Fatalf("Disclose to %s: %v", d.recipient, err)
		}
		if got := resp.GetResults()[0].GetOutcome(); got != d.want {
			t.Fatalf("Disclose to %s = %v, want %v", d.recipient, got, d.want)
		}
		items := readInbox(t, s, d.reader, 0)
		if len(items) != 1 {
			t.Fatalf("%s's inbox holds %d items, want 1", d.recipient, len(items))
		}
		got := items[0].GetReleased().GetRecord()
		if u := unknownFields(got.ProtoReflect(), "record"); len(u) > 0 {
			t.Errorf("%s received fields the schema does not know, in %v", d.recipient, u)
		}
		if b, _ := proto.Marshal(got); strings.Contains(string(b), "told his mentor") {
			t.Errorf("%s received the unknown field's text", d.recipient)
		}
	}
}
