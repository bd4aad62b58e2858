package gateway

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// enumName returns the policy vocabulary form of an enum value: its name
// without the enum's prefix, in lower case (RECORD_TYPE_RISK_ASSESSMENT is
// "risk_assessment"), or "" for the zero value and unknown numbers.
func enumName(e protoreflect.Enum) string {
	n := e.Number()
	if n == 0 {
		return ""
	}
	vals := e.Descriptor().Values()
	v := vals.ByNumber(n)
	if v == nil {
		return ""
	}
	prefix := strings.TrimSuffix(string(vals.ByNumber(0).Name()), "UNSPECIFIED")
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix))
}

// enumValue is the inverse of enumName; ok is false for unknown names.
func enumValue(ed protoreflect.EnumDescriptor, name string) (protoreflect.EnumNumber, bool) {
	vals := ed.Values()
	prefix := strings.TrimSuffix(string(vals.ByNumber(0).Name()), "UNSPECIFIED")
	v := vals.ByName(protoreflect.Name(prefix + strings.ToUpper(name)))
	if v == nil || v.Number() == 0 || name == "" {
		return 0, false
	}
	return v.Number(), true
}

func outcomeEnum(s string) liaisonv1.Outcome {
	n, _ := enumValue(liaisonv1.Outcome(0).Descriptor(), s)
	return liaisonv1.Outcome(n)
}

func purposeEnum(s string) liaisonv1.Purpose {
	n, _ := enumValue(liaisonv1.Purpose(0).Descriptor(), s)
	return liaisonv1.Purpose(n)
}

func recordTypeEnum(s string) liaisonv1.RecordType {
	n, _ := enumValue(liaisonv1.RecordType(0).Descriptor(), s)
	return liaisonv1.RecordType(n)
}

// recordBody returns the message in a Record's oneof and its record rule.
func recordBody(r *liaisonv1.Record) (protoreflect.Message, *liaisonv1.RecordRule) {
	if r == nil {
		return nil, nil
	}
	m := r.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("body")
	fd := m.WhichOneof(od)
	if fd == nil {
		return nil, nil
	}
	body := m.Get(fd).Message()
	return body, recordRule(body.Descriptor())
}

// The schema's rules, read from the descriptors' options once each: the
// schema never changes, and reading an option decodes it every time.
var (
	recordRules sync.Map // protoreflect.MessageDescriptor -> *liaisonv1.RecordRule
	fieldRules  sync.Map // protoreflect.FieldDescriptor -> pseudonym.Rule
)

// recordRule returns a record message's (liaison.v1.record) option.
func recordRule(md protoreflect.MessageDescriptor) *liaisonv1.RecordRule {
	if r, ok := recordRules.Load(md); ok {
		return r.(*liaisonv1.RecordRule)
	}
	rule, _ := proto.GetExtension(md.Options(), liaisonv1.E_Record).(*liaisonv1.RecordRule)
	recordRules.Store(md, rule)
	return rule
}

// classFields caches fieldsOfClass by record type and class.
var classFields sync.Map // [2]string -> []protoreflect.FieldDescriptor

// fieldsOfClass returns the scalar fields of a record type's schema, its
// parts' included (Person, Address), that the schema gives class; none
// for "" or an unknown type.
func fieldsOfClass(recordType, class string) []protoreflect.FieldDescriptor {
	key := [2]string{recordType, class}
	if v, ok := classFields.Load(key); ok {
		return v.([]protoreflect.FieldDescriptor)
	}
	var out []protoreflect.FieldDescriptor
	walk := schemaWalk(func(_ protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) {
		if fd.Message() == nil && classify(fd).Class == class {
			out = append(out, fd)
		}
	})
	body := (&liaisonv1.Record{}).ProtoReflect().Descriptor().Oneofs().ByName("body").Fields()
	for i := range body.Len() {
		if md := body.Get(i).Message(); recordType != "" && recordRule(md).GetRecordType() == recordType {
			walk(md)
			classFields.Store(key, out) // only the schema's types: the cache stays small
		}
	}
	return out
}

// schemaWalk returns a walk of a message of the record schema: it calls
// visit with each field of the message and of the parts it holds (Person,
// Address, ...), each message once however often it is held, a field that
// holds a part before the part's own fields.
func schemaWalk(visit func(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor)) func(protoreflect.MessageDescriptor) {
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		fds := md.Fields()
		for i := range fds.Len() {
			fd := fds.Get(i)
			visit(md, fd)
			if fd.Message() != nil {
				walk(fd.Message())
			}
		}
	}
	return walk
}

// planNames maps every name a field plan can give a field of the record
// schema (the seven record types and their parts: Person, Address, ...),
// Message.field, to "" for a field that holds a value, which a plan
// treats, and to the part's message name for a field that holds a part
// (ReleaseNotice.subject is a Person), which a plan does not treat: its
// fields are named instead (Person.full_name).
var planNames = sync.OnceValue(func() map[string]string {
	names := map[string]string{}
	walk := schemaWalk(func(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) {
		name := string(md.Name()) + "." + string(fd.Name())
		names[name] = ""
		if fd.Message() != nil {
			names[name] = string(fd.Message().Name())
		}
	})
	body := (&liaisonv1.Record{}).ProtoReflect().Descriptor().Oneofs().ByName("body").Fields()
	for i := range body.Len() {
		walk(body.Get(i).Message())
	}
	return names
})

// recordSubjectID returns the subject's identifier from a record body's
// "subject" field.
func recordSubjectID(body protoreflect.Message) pseudonym.SubjectID {
	fd := body.Descriptor().Fields().ByName("subject")
	if fd == nil || fd.Message() == nil || !body.Has(fd) {
		return ""
	}
	p, ok := body.Get(fd).Message().Interface().(*liaisonv1.Person)
	if !ok {
		return ""
	}
	return pseudonym.SubjectID(p.GetSubjectId())
}

// subjectIDField is the path, in a request's record field, of the
// subject_id recordSubjectID reads: record.release_notice.subject.subject_id,
// by the names of the fields (the oneof's), not of their message types.
func subjectIDField(r *liaisonv1.Record) string {
	m := r.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return "record"
	}
	return "record." + string(fd.Name()) + ".subject.subject_id"
}

var classNames = map[liaisonv1.FieldClass]string{
	liaisonv1.FieldClass_FIELD_CLASS_DIRECT_IDENTIFIER: pseudonym.ClassDirectIdentifier,
	liaisonv1.FieldClass_FIELD_CLASS_QUASI_IDENTIFIER:  pseudonym.ClassQuasiIdentifier,
	liaisonv1.FieldClass_FIELD_CLASS_SENSITIVE:         pseudonym.ClassSensitive,
	liaisonv1.FieldClass_FIELD_CLASS_ASSESSMENT:        pseudonym.ClassAssessment,
	liaisonv1.FieldClass_FIELD_CLASS_OPERATIONAL:       pseudonym.ClassOperational,
	liaisonv1.FieldClass_FIELD_CLASS_FREE_TEXT:         pseudonym.ClassFreeText,
}

var generalisations = map[liaisonv1.Generalisation]string{
	liaisonv1.Generalisation_GENERALISATION_UNSPECIFIED: pseudonym.GeneraliseDrop,
	liaisonv1.Generalisation_GENERALISATION_YEAR:        pseudonym.GeneraliseYear,
	liaisonv1.Generalisation_GENERALISATION_MONTH:       pseudonym.GeneraliseMonth,
	liaisonv1.Generalisation_GENERALISATION_WEEK:        pseudonym.GeneraliseWeek,
	liaisonv1.Generalisation_GENERALISATION_KEEP:        pseudonym.GeneraliseKeep,
}

// classify reads a field's rule from its (liaison.v1.field) option. A field
// without one gets the zero Rule and is dropped.
func classify(fd protoreflect.FieldDescriptor) pseudonym.Rule {
	if r, ok := fieldRules.Load(fd); ok {
		return r.(pseudonym.Rule)
	}
	var rule pseudonym.Rule
	if r, _ := proto.GetExtension(fd.Options(), liaisonv1.E_Field).(*liaisonv1.FieldRule); r != nil {
		rule = pseudonym.Rule{Class: classNames[r.GetClass()], Generalise: generalisations[r.GetGeneralise()], Key: r.GetKey()}
	}
	fieldRules.Store(fd, rule)
	return rule
}

// isDate reports whether a record's field is a date, YYYY-MM-DD: the
// schema generalises it to a year, month or week, or marks it a date
// ((liaison.v1.field).date, a date kept as it is, such as
// RiskAssessment.review_by).
func isDate(fd protoreflect.FieldDescriptor) bool {
	switch classify(fd).Generalise {
	case pseudonym.GeneraliseYear, pseudonym.GeneraliseMonth, pseudonym.GeneraliseWeek:
		return true
	}
	r, _ := proto.GetExtension(fd.Options(), liaisonv1.E_Field).(*liaisonv1.FieldRule)
	return r.GetDate()
}

// The years of the dates the gateway takes: the years the policy's
// is_date reads (policies/liaison/vocabulary.rego). A date outside them
// would pass the gateway and reach the policy as no date at all.
const (
	firstDateYear = 1900
	lastDateYear  = 2199
)

// dateProblem says what is wrong with d as a date, or "" if it is a real
// calendar day written YYYY-MM-DD from 1900-01-01 to 2199-12-31. Every
// date the gateway checks (a subject's attributes, a record's dates, a
// holder's answer, a peer's entry) is checked by it.
// DateProblem says what keeps d from being a date the gateway takes (in
// SubjectAttributes and in records: YYYY-MM-DD, a real day from 1900-01-01
// to 2199-12-31), or "" if nothing does: for those that make calls of
// their own (the exercises).
func DateProblem(d string) string { return dateProblem(d) }

func dateProblem(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Format(time.DateOnly) != d {
		return "must be a date in YYYY-MM-DD form"
	}
	if y := t.Year(); y < firstDateYear || y > lastDateYear {
		return fmt.Sprintf("must be a date from %d-01-01 to %d-12-31, the years the policy reads", firstDateYear, lastDateYear)
	}
	return ""
}

// validRecord checks what a caller sends in a record (Disclose, Notify,
// Correct) that has one spelling, naming the field by its path in the
// request:
//
//   - every date (a field the schema generalises to a year, month or
//     week, or marks a date) is empty or spelt YYYY-MM-DD, the one spelling the schema
//     gives dates, from 1900 to 2199 (dateProblem). Another spelling (15.12.2026, 2026-1-5, a time of day)
//     would be delivered as it is where the policy keeps the field, and
//     dropped where it generalises it;
//   - every person's identifier (the key of a Person: the subject's, and
//     a third party's, pseudonymised in their own right) is empty or
//     spelt as a subject's identifier must be: one too long to
//     pseudonymise would fail the exchange after the decision, and one
//     with white space around it would get a pseudonym of its own.
func validRecord(r *liaisonv1.Record) error {
	return walkRecord(r.ProtoReflect(), "record")
}

func walkRecord(m protoreflect.Message, path string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				if err = walkRecord(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", p, i)); err != nil {
					return false
				}
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			err = walkRecord(v.Message(), p)
		case fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap():
			rule := classify(fd)
			switch d := v.String(); {
			case d == "":
			case rule.Key:
				err = validSubjectID(p, d)
			case isDate(fd):
				if dp := dateProblem(d); dp != "" {
					err = invalid(p, "%s", dp)
				}
			}
		}
		return err == nil
	})
	return err
}
