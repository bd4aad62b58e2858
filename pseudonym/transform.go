package pseudonym

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Field classes, as named in policy decisions.
const (
	ClassDirectIdentifier = "direct_identifier"
	ClassQuasiIdentifier  = "quasi_identifier"
	ClassSensitive        = "sensitive"
	ClassAssessment       = "assessment"
	ClassOperational      = "operational"
	ClassFreeText         = "free_text"
)

// Generalisations of a quasi-identifier, from the schema.
const (
	GeneraliseDrop  = ""      // dropped when generalised
	GeneraliseYear  = "year"  // YYYY-MM-DD -> YYYY
	GeneraliseMonth = "month" // YYYY-MM-DD -> YYYY-MM
	GeneraliseWeek  = "week"  // YYYY-MM-DD -> YYYY-Www (ISO week)
	GeneraliseKeep  = "keep"  // already coarse
)

// A Rule is what the schema says about a field.
type Rule struct {
	Class      string // one of the Class constants; "" drops the field
	Generalise string // one of the Generalise constants
	Key        bool   // the person's key: pseudonymised to the person's pseudonym
}

// A Classifier returns the schema's rule for a scalar field.
type Classifier func(protoreflect.FieldDescriptor) Rule

// A Plan is a policy decision's instructions for one recipient. Entries of
// Keep, Generalise and Pseudonymise are field classes or field names in the
// form Message.field (RiskAssessment.level); a name wins over its class. A
// field listed nowhere is dropped, and so is a field the schema does not
// know (an unknown field of the wire format).
type Plan struct {
	Keep         []string
	Generalise   []string
	Pseudonymise []string
	// Precision coarsens generalised dates (year, month, week); the coarser
	// of it and the field's own generalisation applies.
	Precision string
	// Domain is the pseudonymisation domain.
	Domain string
	// Version is the key version the pseudonyms are made under, so that
	// one release spells each person one way whatever the keys do
	// meanwhile (the subject's pseudonym beside the record was made
	// under it); 0 means the current version.
	Version int
}

type action int

const (
	drop action = iota
	keep
	generalise
	pseudonymise
)

// Apply transforms m in place as plan says and returns the fields that
// remain, by name, with a suffix for how: "~week" generalised, "#"
// pseudonymised, nothing for kept. Callers pass a copy of the record.
func (p *Pseudonymizer) Apply(m protoreflect.Message, plan Plan, classify Classifier) ([]string, error) {
	t := transform{p: p, plan: plan, classify: classify, out: map[string]bool{}}
	if err := t.message(m); err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(t.out))
	for f := range t.out {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	return fields, nil
}

type transform struct {
	p        *Pseudonymizer
	plan     Plan
	classify Classifier
	out      map[string]bool
}

func (t *transform) message(m protoreflect.Message) error {
	// Fields the schema does not know (a sender on another version of
	// it) have no class and no name a plan can list: they are dropped,
	// as an unclassified field is.
	if len(m.GetUnknown()) > 0 {
		m.SetUnknown(nil)
	}
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		if fd.Message() != nil {
			if fd.IsMap() {
				m.Clear(fd) // no record has maps; a new one would need a rule
				continue
			}
			if fd.IsList() {
				// Elements left empty go, so that even the number of a
				// record's contacts does not pass unless something of them
				// does.
				l := m.Mutable(fd).List()
				var kept []protoreflect.Value
				for j := range l.Len() {
					el := l.Get(j)
					if err := t.message(el.Message()); err != nil {
						return err
					}
					if !empty(el.Message()) {
						kept = append(kept, el)
					}
				}
				l.Truncate(0)
				for _, v := range kept {
					l.Append(v)
				}
				if l.Len() == 0 {
					m.Clear(fd)
				}
				continue
			}
			if err := t.message(m.Mutable(fd).Message()); err != nil {
				return err
			}
			if empty(m.Get(fd).Message()) {
				m.Clear(fd)
			}
			continue
		}
		if err := t.scalar(m, fd); err != nil {
			return err
		}
	}
	return nil
}

// empty reports whether a message has no field set.
func empty(m protoreflect.Message) bool {
	e := true
	m.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { e = false; return false })
	return e
}

func (t *transform) decide(name string, r Rule) action {
	switch {
	case slices.Contains(t.plan.Pseudonymise, name):
		return pseudonymise
	case slices.Contains(t.plan.Generalise, name):
		return generalise
	case slices.Contains(t.plan.Keep, name):
		return keep
	case r.Class == "":
		return drop // unclassified: fail closed
	case slices.Contains(t.plan.Pseudonymise, r.Class):
		return pseudonymise
	case slices.Contains(t.plan.Generalise, r.Class):
		return generalise
	case slices.Contains(t.plan.Keep, r.Class):
		return keep
	}
	return drop
}

// FieldOutcome says what plan does to a scalar field, without a value: the
// field's name with the suffix Apply would give it, and false if the field
// is dropped. Replay uses it to compare plans on the schema alone.
func FieldOutcome(fd protoreflect.FieldDescriptor, plan Plan, classify Classifier) (string, bool) {
	t := transform{plan: plan, classify: classify}
	name := string(fd.ContainingMessage().Name()) + "." + string(fd.Name())
	r := classify(fd)
	switch t.decide(name, r) {
	case keep:
		return name, true
	case generalise:
		switch {
		case r.Generalise == GeneraliseKeep:
			return name, true
		case r.Generalise == GeneraliseDrop || fd.Kind() != protoreflect.StringKind || fd.IsList():
			return "", false
		}
		return name + "~" + coarser(r.Generalise, plan.Precision), true
	case pseudonymise:
		if !r.Key || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			return "", false
		}
		return name + "#", true
	}
	return "", false
}

func (t *transform) scalar(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	name := string(fd.ContainingMessage().Name()) + "." + string(fd.Name())
	r := t.classify(fd)
	switch t.decide(name, r) {
	case keep:
		t.out[name] = true
	case generalise:
		g := coarser(r.Generalise, t.plan.Precision)
		switch {
		case r.Generalise == GeneraliseKeep:
			t.out[name] = true
		case r.Generalise == GeneraliseDrop || fd.Kind() != protoreflect.StringKind || fd.IsList():
			m.Clear(fd)
		default:
			d, err := generaliseDate(m.Get(fd).String(), g)
			if err != nil {
				m.Clear(fd) // not a date we understand: fail closed
				return nil
			}
			m.Set(fd, protoreflect.ValueOfString(d))
			t.out[name+"~"+g] = true
		}
	case pseudonymise:
		if !r.Key || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			m.Clear(fd) // only the person's key has a useful pseudonym
			return nil
		}
		if t.plan.Domain == "" {
			return errors.New("pseudonym: plan has no domain")
		}
		ps, err := t.p.PlanPseudonym(t.plan, SubjectID(m.Get(fd).String()))
		if err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfString(ps))
		t.out[name+"#"] = true
	default:
		m.Clear(fd)
	}
	return nil
}

// PlanPseudonym returns id's pseudonym in plan's domain under plan's key
// version (the current one if it names none), as Apply makes it.
func (p *Pseudonymizer) PlanPseudonym(plan Plan, id SubjectID) (string, error) {
	if plan.Version == 0 {
		return p.Pseudonym(plan.Domain, id)
	}
	return p.PseudonymAt(plan.Version, plan.Domain, id)
}

var coarseness = map[string]int{GeneraliseWeek: 1, GeneraliseMonth: 2, GeneraliseYear: 3}

// coarser returns the coarser of two date precisions.
func coarser(a, b string) string {
	if coarseness[b] > coarseness[a] {
		return b
	}
	return a
}

func generaliseDate(s, precision string) (string, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", err
	}
	switch precision {
	case GeneraliseYear:
		return d.Format("2006"), nil
	case GeneraliseMonth:
		return d.Format("2006-01"), nil
	case GeneraliseWeek:
		y, w := d.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w), nil
	}
	return "", fmt.Errorf("pseudonym: unknown precision %q", precision)
}
