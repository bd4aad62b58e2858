package gateway

import (
	"regexp"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestEveryRecordDateIsChecked: every string field of a record whose name
// says it is a date (records.proto gives them all as YYYY-MM-DD) is one
// validRecord checks. RiskAssessment.review_by, kept as it is rather than
// generalised, was not: a caller's or a holder's record with it written
// 16.01.2027 was delivered so.
func TestEveryRecordDateIsChecked(t *testing.T) {
	dateName := regexp.MustCompile(`(^|_)(date|on|until|by|due|review)$`)
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			switch {
			case fd.Kind() == protoreflect.MessageKind:
				walk(fd.Message())
			case fd.Kind() == protoreflect.StringKind && dateName.MatchString(string(fd.Name())) && !isDate(fd):
				t.Errorf("%s is a date but not checked as one", fd.FullName())
			}
		}
	}
	walk((&liaisonv1.Record{}).ProtoReflect().Descriptor())
	if !seen["liaison.v1.RiskAssessment"] {
		t.Fatal("the walk did not reach RiskAssessment")
	}
}
