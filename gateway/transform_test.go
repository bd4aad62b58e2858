package gateway

// Field transformation tests: every record type, every field class, every
// plan shape, checked field by field against the schema's annotations. An
// internal test, to use the gateway's own classifier.

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

const (
	tfDomain      = "nl-police-rotterdam/risk_management"
	tfOtherDomain = "case/NL-ZVH-RTM-0042"
	tfDate        = "2026-12-15" // every generalisable date in a filled record
)

// tfDates is what tfDate becomes at each precision, written out by hand.
var tfDates = map[string]string{
	pseudonym.GeneraliseYear:  "2026",
	pseudonym.GeneraliseMonth: "2026-12",
	pseudonym.GeneraliseWeek:  "2026-W51",
}

var tfClasses = []string{
	pseudonym.ClassDirectIdentifier, pseudonym.ClassQuasiIdentifier, pseudonym.ClassSensitive,
	pseudonym.ClassAssessment, pseudonym.ClassOperational, pseudonym.ClassFreeText,
}

func tfPseudonymizer(tb testing.TB) *pseudonym.Pseudonymizer {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		tb.Fatal(err)
	}
	p, err := pseudonym.New(tb.Context(), pseudonym.Config{Source: pseudonym.FileKeys{Path: path}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// recordTypes returns an empty message of each record type in the Record
// oneof.
func recordTypes(tb testing.TB) []protoreflect.Message {
	tb.Helper()
	rec := (&liaisonv1.Record{}).ProtoReflect()
	fds := rec.Descriptor().Oneofs().ByName("body").Fields()
	var out []protoreflect.Message
	for i := range fds.Len() {
		out = append(out, rec.NewField(fds.Get(i)).Message())
	}
	if len(out) != 7 {
		tb.Fatalf("Record has %d record types; the tests expect 7", len(out))
	}
	return out
}

func fieldName(fd protoreflect.FieldDescriptor) string {
	return string(fd.ContainingMessage().Name()) + "." + string(fd.Name())
}

func isDateGeneralisation(g string) bool { _, ok := tfDates[g]; return ok }

// filler populates every field of a message, generically: a date where
// the field generalises to a date, a distinct identifier for each
// person's key, "v-<Message.field>" for other strings, enum value 1, true,
// 1, and two entries in every list.
type filler struct{ persons int }

func (f *filler) fill(m protoreflect.Message) {
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		switch {
		case fd.IsMap():
			panic("no record has a map field; extend the filler")
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := range 2 {
				if fd.Message() != nil {
					e := l.NewElement()
					f.fill(e.Message())
					l.Append(e)
				} else {
					l.Append(f.scalar(fd, j))
				}
			}
		case fd.Message() != nil:
			f.fill(m.Mutable(fd).Message())
		default:
			m.Set(fd, f.scalar(fd, 0))
		}
	}
}

func (f *filler) scalar(fd protoreflect.FieldDescriptor, j int) protoreflect.Value {
	r := classify(fd)
	switch fd.Kind() {
	case protoreflect.StringKind:
		switch {
		case r.Key:
			f.persons++
			return protoreflect.ValueOfString(fmt.Sprintf("SYN-P-%03d", f.persons))
		case isDateGeneralisation(r.Generalise):
			return protoreflect.ValueOfString(tfDate)
		case fd.IsList():
			return protoreflect.ValueOfString(fmt.Sprintf("v-%s-%d", fieldName(fd), j))
		}
		return protoreflect.ValueOfString("v-" + fieldName(fd))
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1)
	}
	panic(fmt.Sprintf("field %s: kind %v not filled; extend the filler", fieldName(fd), fd.Kind()))
}

func filled(m protoreflect.Message) protoreflect.Message {
	out := m.New()
	(&filler{}).fill(out)
	return out
}

// expectedAction is the Plan's documented rule: a field's name in a list
// wins over its class; Pseudonymise, then Generalise, then Keep; an
// unclassified field or one listed nowhere is dropped.
func expectedAction(plan pseudonym.Plan, name, class string) string {
	for _, l := range []struct {
		action string
		list   []string
	}{{"pseudonymise", plan.Pseudonymise}, {"generalise", plan.Generalise}, {"keep", plan.Keep}} {
		if slices.Contains(l.list, name) {
			return l.action
		}
	}
	if class == "" {
		return "drop"
	}
	for _, l := range []struct {
		action string
		list   []string
	}{{"pseudonymise", plan.Pseudonymise}, {"generalise", plan.Generalise}, {"keep", plan.Keep}} {
		if slices.Contains(l.list, class) {
			return l.action
		}
	}
	return "drop"
}

// coarsest returns the coarser date precision.
func coarsest(a, b string) string {
	rank := map[string]int{pseudonym.GeneraliseWeek: 1, pseudonym.GeneraliseMonth: 2, pseudonym.GeneraliseYear: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// checker compares a record before and after Apply, field by field.
type checker struct {
	t        *testing.T
	p        *pseudonym.Pseudonymizer
	plan     pseudonym.Plan
	classify pseudonym.Classifier
	reported map[string]bool // what Apply should report
}

func (c *checker) walk(orig, got protoreflect.Message, path string) {
	fds := orig.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		p := path + "." + string(fd.Name())
		switch {
		case fd.Message() != nil && fd.IsList():
			ol, gl := orig.Get(fd).List(), got.Get(fd).List()
			if gl.Len() == 0 {
				// Elements of which nothing passes are removed, so that not
				// even their number leaks: each must check out as empty.
				for j := range ol.Len() {
					c.walk(ol.Get(j).Message(), ol.Get(j).Message().Type().New(), fmt.Sprintf("%s[%d]", p, j))
				}
				continue
			}
			if ol.Len() != gl.Len() {
				c.t.Errorf("%s: %d entries, want %d", p, gl.Len(), ol.Len())
				continue
			}
			for j := range ol.Len() {
				c.walk(ol.Get(j).Message(), gl.Get(j).Message(), fmt.Sprintf("%s[%d]", p, j))
			}
		case fd.Message() != nil:
			c.walk(orig.Get(fd).Message(), got.Get(fd).Message(), p)
		default:
			c.scalar(fd, orig, got, p)
		}
	}
}

func (c *checker) scalar(fd protoreflect.FieldDescriptor, orig, got protoreflect.Message, path string) {
	t := c.t
	name := fieldName(fd)
	r := c.classify(fd)
	ov, gv := orig.Get(fd), got.Get(fd)
	kept := func() {
		if !got.Has(fd) || !protoEqualValue(fd, ov, gv) {
			t.Errorf("%s (%s): got %v, want it kept as %v", path, r.Class, gv, ov)
		}
	}
	dropped := func(why string) {
		if got.Has(fd) {
			t.Errorf("%s (%s): got %v, want it dropped (%s)", path, r.Class, gv, why)
		}
	}
	switch expectedAction(c.plan, name, r.Class) {
	case "keep":
		kept()
		c.reported[name] = true
	case "drop":
		dropped("not in the plan")
	case "generalise":
		switch {
		case r.Generalise == pseudonym.GeneraliseKeep:
			kept()
			c.reported[name] = true
		case isDateGeneralisation(r.Generalise):
			g := coarsest(r.Generalise, c.plan.Precision)
			if want := tfDates[g]; gv.String() != want {
				t.Errorf("%s generalised (%s, precision %q) = %q, want %q", path, r.Generalise, c.plan.Precision, gv.String(), want)
			}
			c.reported[name+"~"+g] = true
		default:
			dropped("no generalisation in the schema")
		}
	case "pseudonymise":
		if !r.Key {
			dropped("a direct identifier other than the key")
			return
		}
		id := pseudonym.SubjectID(ov.String())
		want, err := c.p.Pseudonym(c.plan.Domain, id)
		if err != nil {
			t.Fatal(err)
		}
		if gv.String() != want {
			t.Errorf("%s = %q, want the pseudonym of its own identifier in %s, %q", path, gv.String(), c.plan.Domain, want)
		}
		if back, err := c.p.Resolve(c.plan.Domain, gv.String()); err != nil || back != id {
			t.Errorf("Resolve(%s, %s) = %v, %v; want the identifier back", c.plan.Domain, path, back == id, err)
		}
		if _, err := c.p.Resolve(tfOtherDomain, gv.String()); err == nil {
			t.Errorf("%s: the pseudonym resolves in another domain", path)
		}
		c.reported[name+"#"] = true
	}
}

func protoEqualValue(fd protoreflect.FieldDescriptor, a, b protoreflect.Value) bool {
	if fd.IsList() {
		la, lb := a.List(), b.List()
		if la.Len() != lb.Len() {
			return false
		}
		for i := range la.Len() {
			if !la.Get(i).Equal(lb.Get(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// checkApply applies plan to a filled copy of m and checks every field and
// the fields Apply reports.
func checkApply(t *testing.T, p *pseudonym.Pseudonymizer, m protoreflect.Message, plan pseudonym.Plan, cl pseudonym.Classifier) {
	t.Helper()
	orig := filled(m)
	got := proto.Clone(orig.Interface()).ProtoReflect()
	fields, err := p.Apply(got, plan, cl)
	if err != nil {
		t.Fatalf("Apply(%+v): %v", plan, err)
	}
	c := &checker{t: t, p: p, plan: plan, classify: cl, reported: map[string]bool{}}
	c.walk(orig, got, string(m.Descriptor().Name()))
	var want []string
	for f := range c.reported {
		want = append(want, f)
	}
	slices.Sort(want)
	if !slices.Equal(fields, want) {
		t.Errorf("Apply reported fields\n  %v\nwant\n  %v", fields, want)
	}
}

// tfPlans are the plans every record type is put through.
func tfPlans(m protoreflect.Message) map[string]pseudonym.Plan {
	plans := map[string]pseudonym.Plan{
		"drop_everything":         {Domain: tfDomain},
		"pseudonymise_direct":     {Pseudonymise: []string{pseudonym.ClassDirectIdentifier}, Domain: tfDomain},
		"generalise_quasi_own":    {Generalise: []string{pseudonym.ClassQuasiIdentifier}, Domain: tfDomain},
		"generalise_quasi_year":   {Generalise: []string{pseudonym.ClassQuasiIdentifier}, Precision: pseudonym.GeneraliseYear, Domain: tfDomain},
		"generalise_quasi_month":  {Generalise: []string{pseudonym.ClassQuasiIdentifier}, Precision: pseudonym.GeneraliseMonth, Domain: tfDomain},
		"generalise_quasi_week":   {Generalise: []string{pseudonym.ClassQuasiIdentifier}, Precision: pseudonym.GeneraliseWeek, Domain: tfDomain},
		"pseudonymised_exchange":  {Keep: []string{pseudonym.ClassOperational, pseudonym.ClassAssessment}, Generalise: []string{pseudonym.ClassQuasiIdentifier}, Pseudonymise: []string{pseudonym.ClassDirectIdentifier}, Precision: pseudonym.GeneraliseMonth, Domain: tfDomain},
		"generalise_direct_drops": {Generalise: []string{pseudonym.ClassDirectIdentifier, pseudonym.ClassSensitive}, Domain: tfDomain},
	}
	for _, class := range tfClasses {
		plans["keep_"+class] = pseudonym.Plan{Keep: []string{class}, Domain: tfDomain}
	}
	// Free text passes only where the plan names it: the record's own
	// narrative, not the free text of its parts.
	var named []string
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		if classify(fds.Get(i)).Class == pseudonym.ClassFreeText {
			named = append(named, fieldName(fds.Get(i)))
		}
	}
	if len(named) == 0 {
		panic(fmt.Sprintf("%s has no top-level free text", m.Descriptor().Name()))
	}
	plans["free_text_named"] = pseudonym.Plan{
		Keep:         append([]string{pseudonym.ClassOperational, pseudonym.ClassSensitive, pseudonym.ClassAssessment}, named...),
		Generalise:   []string{pseudonym.ClassQuasiIdentifier},
		Pseudonymise: []string{pseudonym.ClassDirectIdentifier},
		Domain:       tfDomain,
	}
	// A name wins over its class: keep the quasi-identifiers' class but
	// pseudonymise the key and generalise one date by name.
	plans["names_win"] = pseudonym.Plan{
		Keep:         []string{pseudonym.ClassDirectIdentifier, pseudonym.ClassQuasiIdentifier},
		Pseudonymise: []string{"Person.subject_id"},
		Generalise:   []string{"Person.date_of_birth"},
		Domain:       tfDomain,
	}
	return plans
}

func TestApplyEveryRecordTypeEveryPlan(t *testing.T) {
	p := tfPseudonymizer(t)
	for _, m := range recordTypes(t) {
		for name, plan := range tfPlans(m) {
			t.Run(string(m.Descriptor().Name())+"/"+name, func(t *testing.T) {
				checkApply(t, p, m, plan, classify)
			})
		}
	}
}

// TestApplyDropsUnclassifiedFields removes the classification of each
// scalar field in turn, as for a new field added without an annotation:
// even a plan that keeps every class drops it.
func TestApplyDropsUnclassifiedFields(t *testing.T) {
	p := tfPseudonymizer(t)
	keepAll := pseudonym.Plan{Keep: tfClasses, Domain: tfDomain}
	for _, m := range recordTypes(t) {
		for _, fd := range scalarFields(m.Descriptor()) {
			t.Run(fieldName(fd)+"_in_"+string(m.Descriptor().Name()), func(t *testing.T) {
				cl := func(f protoreflect.FieldDescriptor) pseudonym.Rule {
					if f.FullName() == fd.FullName() {
						return pseudonym.Rule{}
					}
					return classify(f)
				}
				checkApply(t, p, m, keepAll, cl)
				// And directly: the field is gone wherever it occurs.
				got := filled(m)
				if _, err := p.Apply(got, keepAll, cl); err != nil {
					t.Fatal(err)
				}
				if n := countSet(got, fd); n != 0 {
					t.Errorf("unclassified %s is still set %d times", fieldName(fd), n)
				}
			})
		}
	}
}

// countSet counts the occurrences of fd set anywhere in m.
func countSet(m protoreflect.Message, target protoreflect.FieldDescriptor) int {
	n := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.FullName() == target.FullName():
			n++
		case fd.Message() != nil && fd.IsList():
			for i := range v.List().Len() {
				n += countSet(v.List().Get(i).Message(), target)
			}
		case fd.Message() != nil:
			n += countSet(v.Message(), target)
		}
		return true
	})
	return n
}

// scalarFields lists the scalar fields reachable from md, each once.
func scalarFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		fds := md.Fields()
		for i := range fds.Len() {
			if fd := fds.Get(i); fd.Message() != nil {
				walk(fd.Message())
			} else {
				out = append(out, fd)
			}
		}
	}
	walk(md)
	return out
}

// TestThirdPartiesArePseudonymisedInTheirOwnRight checks family contacts
// and police associates: each gets the pseudonym of their own identifier,
// which resolves to them and not to the subject.
func TestThirdPartiesArePseudonymisedInTheirOwnRight(t *testing.T) {
	p := tfPseudonymizer(t)
	plan := pseudonym.Plan{
		Keep:         []string{pseudonym.ClassOperational},
		Generalise:   []string{pseudonym.ClassQuasiIdentifier},
		Pseudonymise: []string{pseudonym.ClassDirectIdentifier},
		Domain:       tfDomain,
	}
	for _, tt := range []struct {
		rec  proto.Message
		list func(proto.Message) []*liaisonv1.Person
	}{
		{&liaisonv1.FamilyContact{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001", FullName: "Aksel Fiktivsen"},
			Contacts: []*liaisonv1.Person{
				{SubjectId: "SYN-DK-0901", FullName: "Birte Fiktivsen", DateOfBirth: "1968-08-02", Relation: "mother",
					Address: &liaisonv1.Address{Street: "Påfundet Vej 3", PostalCode: "8200", Municipality: "Aarhus", Country: "DK"}},
				{SubjectId: "SYN-DK-0902", FullName: "Carl Fiktivsen", Relation: "brother"},
			},
		}, func(m proto.Message) []*liaisonv1.Person { return m.(*liaisonv1.FamilyContact).GetContacts() }},
		{&liaisonv1.PoliceObservation{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001", FullName: "Aksel Fiktivsen"},
			Associates: []*liaisonv1.Person{
				{SubjectId: "SYN-DK-0777", FullName: "Ole Opdigtet", Relation: "associate"},
				{SubjectId: "SYN-DK-0778", FullName: "Per Påhit", Relation: "associate"},
			},
		}, func(m proto.Message) []*liaisonv1.Person { return m.(*liaisonv1.PoliceObservation).GetAssociates() }},
	} {
		name := string(tt.rec.ProtoReflect().Descriptor().Name())
		t.Run(name, func(t *testing.T) {
			out := proto.Clone(tt.rec)
			if _, err := p.Apply(out.ProtoReflect(), plan, classify); err != nil {
				t.Fatal(err)
			}
			subject := out.ProtoReflect().Get(out.ProtoReflect().Descriptor().Fields().ByName("subject")).Message().Interface().(*liaisonv1.Person)
			if got, _ := p.Resolve(tfDomain, subject.GetSubjectId()); got != "SYN-DK-0001" {
				t.Errorf("the subject's pseudonym does not resolve to the subject")
			}
			before, after := tt.list(tt.rec), tt.list(out)
			seen := map[string]bool{subject.GetSubjectId(): true}
			for i, tp := range after {
				want, _ := p.Pseudonym(tfDomain, pseudonym.SubjectID(before[i].GetSubjectId()))
				if tp.GetSubjectId() != want || seen[want] {
					t.Errorf("third party %d: pseudonym %q, want %q, distinct from the subject's and the others'", i, tp.GetSubjectId(), want)
				}
				seen[want] = true
				if got, err := p.Resolve(tfDomain, tp.GetSubjectId()); err != nil || string(got) != before[i].GetSubjectId() {
					t.Errorf("third party %d resolves to someone else (subject? %v), err %v", i, got == "SYN-DK-0001", err)
				}
				if tp.GetFullName() != "" || tp.GetAddress().GetStreet() != "" || tp.GetAddress().GetPostalCode() != "" {
					t.Errorf("third party %d keeps identifying details: %v", i, tp)
				}
				if tp.GetRelation() != before[i].GetRelation() {
					t.Errorf("third party %d relation = %q, want %q (operational, kept)", i, tp.GetRelation(), before[i].GetRelation())
				}
				if before[i].GetDateOfBirth() != "" && tp.GetDateOfBirth() != before[i].GetDateOfBirth()[:4] {
					t.Errorf("third party %d date of birth = %q, want the year", i, tp.GetDateOfBirth())
				}
				if before[i].GetAddress() != nil && tp.GetAddress().GetMunicipality() != before[i].GetAddress().GetMunicipality() {
					t.Errorf("third party %d municipality = %q, want it kept", i, tp.GetAddress().GetMunicipality())
				}
			}
		})
	}
}

// TestDateGeneralisationAtBoundaries checks ISO weeks across year ends and
// that a date the gateway cannot parse is dropped, not passed.
func TestDateGeneralisationAtBoundaries(t *testing.T) {
	p := tfPseudonymizer(t)
	for _, tt := range []struct {
		date, precision, want string
	}{
		{"2026-12-15", pseudonym.GeneraliseWeek, "2026-W51"},
		{"2026-12-15", pseudonym.GeneraliseMonth, "2026-12"},
		{"2026-12-15", pseudonym.GeneraliseYear, "2026"},
		{"2026-12-31", pseudonym.GeneraliseWeek, "2026-W53"},
		{"2027-01-01", pseudonym.GeneraliseWeek, "2026-W53"},
		{"2027-01-01", pseudonym.GeneraliseYear, "2027"},
		{"2024-12-30", pseudonym.GeneraliseWeek, "2025-W01"},
		{"2024-12-30", pseudonym.GeneraliseMonth, "2024-12"},
		{"15/12/2026", pseudonym.GeneraliseWeek, ""},
		{"2026-12", pseudonym.GeneraliseMonth, ""},
	} {
		rn := &liaisonv1.ReleaseNotice{ReleaseDate: tt.date} // generalises to a week
		fields, err := p.Apply(rn.ProtoReflect(), pseudonym.Plan{Generalise: []string{pseudonym.ClassQuasiIdentifier}, Precision: tt.precision, Domain: tfDomain}, classify)
		if err != nil {
			t.Fatal(err)
		}
		if rn.GetReleaseDate() != tt.want {
			t.Errorf("release_date %s at %s = %q, want %q", tt.date, tt.precision, rn.GetReleaseDate(), tt.want)
		}
		if tt.want == "" && len(fields) != 0 {
			t.Errorf("release_date %s: reported %v for a dropped field", tt.date, fields)
		}
	}
}

// TestSchemaIsComplete checks that every scalar field of every record type
// has a class, that generalisations and keys sit where they can work, and
// that the gateway knows every class and generalisation of the schema.
func TestSchemaIsComplete(t *testing.T) {
	known := map[string]bool{}
	for _, c := range tfClasses {
		known[c] = true
	}
	total := 0
	for _, m := range recordTypes(t) {
		md := m.Descriptor()
		if rr, _ := proto.GetExtension(md.Options(), liaisonv1.E_Record).(*liaisonv1.RecordRule); rr.GetRecordType() == "" {
			t.Errorf("%s has no (liaison.v1.record) record_type", md.Name())
		}
		if sub := md.Fields().ByName("subject"); sub == nil || sub.Message() == nil || sub.Message().FullName() != "liaison.v1.Person" {
			t.Errorf("%s has no subject Person", md.Name())
		}
		checkMessages(t, md)
		for _, fd := range scalarFields(md) {
			total++
			r := classify(fd)
			name := fieldName(fd)
			if !known[r.Class] {
				t.Errorf("%s (in %s) has no field class", name, md.Name())
			}
			if isDateGeneralisation(r.Generalise) && (fd.Kind() != protoreflect.StringKind || fd.IsList() || r.Class != pseudonym.ClassQuasiIdentifier) {
				t.Errorf("%s generalises to a %s but is not a singular string quasi-identifier", name, r.Generalise)
			}
			if r.Generalise != pseudonym.GeneraliseDrop && r.Class != pseudonym.ClassQuasiIdentifier {
				t.Errorf("%s has a generalisation but is %s, not a quasi-identifier", name, r.Class)
			}
			if r.Key && (name != "Person.subject_id" || r.Class != pseudonym.ClassDirectIdentifier) {
				t.Errorf("%s is marked as a key; only Person.subject_id, a direct identifier, should be", name)
			}
		}
	}
	if total < 50 {
		t.Errorf("walked %d scalar fields across the record types; the schema has more", total)
	}
	if !classify((&liaisonv1.Person{}).ProtoReflect().Descriptor().Fields().ByName("subject_id")).Key {
		t.Error("Person.subject_id is not marked as the key")
	}
	for v := range liaisonv1.FieldClass_name {
		if _, ok := classNames[liaisonv1.FieldClass(v)]; v != 0 && !ok {
			t.Errorf("the gateway has no name for field class %v", liaisonv1.FieldClass(v))
		}
	}
	for v := range liaisonv1.Generalisation_name {
		if _, ok := generalisations[liaisonv1.Generalisation(v)]; !ok {
			t.Errorf("the gateway does not know generalisation %v", liaisonv1.Generalisation(v))
		}
	}
}

// checkMessages fails on message-typed fields that Apply cannot walk
// field by field: maps and messages from outside the liaison.v1 schema.
func checkMessages(t *testing.T, md protoreflect.MessageDescriptor) {
	fds := md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.Message() == nil {
			continue
		}
		if fd.IsMap() || !strings.HasPrefix(string(fd.Message().FullName()), "liaison.v1.") {
			t.Errorf("%s is a %s, which Apply cannot classify", fieldName(fd), fd.Message().FullName())
			continue
		}
		if fd.Message().FullName() != md.FullName() {
			checkMessages(t, fd.Message())
		}
	}
}

// tfRiskAssessment is a realistic risk assessment, from the sample data.
func tfRiskAssessment() *liaisonv1.RiskAssessment {
	return &liaisonv1.RiskAssessment{
		Subject: &liaisonv1.Person{SubjectId: "SYN-NL-0001", FullName: "Daan Verzonnen", DateOfBirth: "1999-11-05",
			Address: &liaisonv1.Address{Street: "Bedachtstraat 7b", PostalCode: "3011 AB", Municipality: "Rotterdam", Country: "NL"}},
		Tool:           liaisonv1.AssessmentTool_ASSESSMENT_TOOL_VERA_2R,
		Level:          liaisonv1.RiskLevel_RISK_LEVEL_HIGH,
		AssessedOn:     "2026-09-14",
		AssessorAgency: "nl-probation",
		Worries:        []string{"renewed contact with a known recruiter", "unemployment since release"},
		Strengths:      []string{"attends every probation meeting", "close to his sister"},
		Actions:        []string{"Safety House case consultation", "job coaching via the municipality"},
		ReviewBy:       "2027-01-15",
		Summary:        "High risk at present; the recruiter contact is the decisive worry.",
	}
}

// tfExchangePlan is a typical pseudonymised outcome's plan.
var tfExchangePlan = pseudonym.Plan{
	Keep:         []string{pseudonym.ClassOperational, pseudonym.ClassAssessment},
	Generalise:   []string{pseudonym.ClassQuasiIdentifier},
	Pseudonymise: []string{pseudonym.ClassDirectIdentifier},
	Precision:    pseudonym.GeneraliseMonth,
	Domain:       tfDomain,
}

func TestRiskAssessmentPseudonymised(t *testing.T) {
	p := tfPseudonymizer(t)
	ra := tfRiskAssessment()
	fields, err := p.Apply(ra.ProtoReflect(), tfExchangePlan, classify)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := p.Pseudonym(tfDomain, "SYN-NL-0001")
	want := &liaisonv1.RiskAssessment{
		Subject:        &liaisonv1.Person{SubjectId: ps, DateOfBirth: "1999", Address: &liaisonv1.Address{Municipality: "Rotterdam", Country: "NL"}},
		Tool:           liaisonv1.AssessmentTool_ASSESSMENT_TOOL_VERA_2R,
		Level:          liaisonv1.RiskLevel_RISK_LEVEL_HIGH,
		AssessedOn:     "2026-09",
		AssessorAgency: "nl-probation",
		Worries:        tfRiskAssessment().Worries,
		Strengths:      tfRiskAssessment().Strengths,
		Actions:        tfRiskAssessment().Actions,
		ReviewBy:       "2027-01-15",
	}
	if !proto.Equal(ra, want) {
		t.Errorf("Apply =\n  %v\nwant\n  %v", ra, want)
	}
	wantFields := []string{"Address.country", "Address.municipality", "Person.date_of_birth~year", "Person.subject_id#",
		"RiskAssessment.actions", "RiskAssessment.assessed_on~month", "RiskAssessment.assessor_agency", "RiskAssessment.level",
		"RiskAssessment.review_by", "RiskAssessment.strengths", "RiskAssessment.tool", "RiskAssessment.worries"}
	if !slices.Equal(fields, wantFields) {
		t.Errorf("fields = %v\nwant %v", fields, wantFields)
	}
}

// BenchmarkTransformRiskAssessment measures the transformation of one
// realistic risk assessment for a pseudonymised outcome, as the pipeline
// does it: clone the record, then Apply.
func BenchmarkTransformRiskAssessment(b *testing.B) {
	p := tfPseudonymizer(b)
	ra := tfRiskAssessment()
	b.Run("clone+apply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := proto.CloneOf(ra)
			if _, err := p.Apply(out.ProtoReflect(), tfExchangePlan, classify); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = proto.CloneOf(ra)
		}
	})
}

// A plan that lets nothing of the family through does not even tell how
// many family members the record lists.
func TestNothingOfThirdPartiesNotEvenTheirNumber(t *testing.T) {
	p := tfPseudonymizer(t)
	rec := &liaisonv1.FamilyContact{
		Subject:  &liaisonv1.Person{SubjectId: "SYN-DK-0001"},
		Contacts: []*liaisonv1.Person{{SubjectId: "SYN-DK-0901", FullName: "A"}, {SubjectId: "SYN-DK-0902", FullName: "B"}},
		Worries:  []string{"w"},
	}
	if _, err := p.Apply(rec.ProtoReflect(), pseudonym.Plan{Keep: []string{"assessment"}, Domain: "d"}, classify); err != nil {
		t.Fatal(err)
	}
	if len(rec.GetContacts()) != 0 || rec.GetSubject() != nil {
		t.Errorf("after a plan passing no identifier: %d contacts, subject %v; want none", len(rec.GetContacts()), rec.GetSubject())
	}
	if len(rec.GetWorries()) != 1 {
		t.Error("the kept assessment is gone")
	}
}
