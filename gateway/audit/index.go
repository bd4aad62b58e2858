package audit

import (
	"slices"
	"time"
)

// The columns of the query index: the values a [Filter] selects entries
// on. [IndexError] names them.
const (
	ColumnTime       = "time"
	ColumnAction     = "action"
	ColumnAgencies   = "agencies" // requester, holder and recipients
	ColumnOfficer    = "officer"
	ColumnSubject    = "subject"
	ColumnLegalBasis = "legal_basis"
	ColumnOutcome    = "outcome"
	ColumnRecordType = "record_type"
)

// IndexColumns lists the columns of the query index.
var IndexColumns = []string{
	ColumnTime, ColumnAction, ColumnAgencies, ColumnOfficer,
	ColumnSubject, ColumnLegalBasis, ColumnOutcome, ColumnRecordType,
}

// Index holds the values Query filters an entry on. They are a function of
// the entry's leaf and nothing else: stores derive them from the leaf
// (their databases compute them, so that no code path writes them), Query
// checks every record it returns against its leaf, and [Store.CheckIndex]
// recomputes them all. An empty string means that the entry has no value.
type Index struct {
	Time       int64    // Unix nanoseconds
	Action     string   // Entry.Action
	Agencies   []string // requester, holder and recipients: distinct, non-empty, sorted
	Officer    string   // Requester.Officer
	Subject    string   // Subject.Pseudonym
	LegalBasis string   // LegalBasis.ID if the entry has a LegalBasis, else ClaimedLegalBasis
	Outcome    string   // Entry.Outcome
	RecordType string   // Entry.RecordType
}

// IndexOf returns the index values of e. Stores call it on the entry
// decoded from the leaf ([Unmarshal]), never on the entry they were handed,
// so that the index is what the tree commits to.
func IndexOf(e *Entry) Index {
	x := Index{Time: e.Time.UnixNano(), Action: e.Action, Outcome: e.Outcome, RecordType: e.RecordType}
	var agencies []string
	if e.Requester != nil {
		x.Officer = e.Requester.Officer
		agencies = append(agencies, e.Requester.Agency)
	}
	if e.Holder != nil {
		agencies = append(agencies, e.Holder.Agency)
	}
	for _, r := range e.Recipients {
		agencies = append(agencies, r.Agency)
	}
	agencies = slices.DeleteFunc(agencies, func(a string) bool { return a == "" })
	slices.Sort(agencies)
	x.Agencies = slices.Compact(agencies)
	if e.Subject != nil {
		x.Subject = e.Subject.Pseudonym
	}
	x.LegalBasis = e.ClaimedLegalBasis
	if e.LegalBasis != nil {
		x.LegalBasis = e.LegalBasis.ID
	}
	return x
}

// Keyed returns x with every string passed through key, as a store holds
// it: a store whose database cannot hold some strings as they are maps
// them, possibly many to one, and says so with key. A nil key is the
// identity. The agencies are sorted and distinct again afterwards.
func (x Index) Keyed(key func(string) string) Index {
	if key == nil {
		return x
	}
	y := x
	for _, p := range []*string{&y.Action, &y.Officer, &y.Subject, &y.LegalBasis, &y.Outcome, &y.RecordType} {
		*p = key(*p)
	}
	y.Agencies = nil
	for _, a := range x.Agencies {
		y.Agencies = append(y.Agencies, key(a))
	}
	slices.Sort(y.Agencies)
	y.Agencies = slices.Compact(y.Agencies)
	return y
}

// Diff returns the first column, in the order of IndexColumns, in which x
// and y differ, or "" if they are equal. Agencies compare as sets.
func (x Index) Diff(y Index) string {
	switch {
	case x.Time != y.Time:
		return ColumnTime
	case x.Action != y.Action:
		return ColumnAction
	case !sameSet(x.Agencies, y.Agencies):
		return ColumnAgencies
	case x.Officer != y.Officer:
		return ColumnOfficer
	case x.Subject != y.Subject:
		return ColumnSubject
	case x.LegalBasis != y.LegalBasis:
		return ColumnLegalBasis
	case x.Outcome != y.Outcome:
		return ColumnOutcome
	case x.RecordType != y.RecordType:
		return ColumnRecordType
	}
	return ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// Normalize returns f with every string as an entry's leaf would hold it.
// The canonical encoding replaces each byte of invalid UTF-8 with U+FFFD,
// and the index is derived from the leaf, so that is what a filter must be
// compared with. Stores normalize the filter they are given.
func (f Filter) Normalize() Filter {
	for _, p := range []*string{&f.Agency, &f.Officer, &f.Subject, &f.LegalBasis, &f.Outcome, &f.RecordType, &f.Action} {
		*p = string([]rune(*p)) // each invalid byte becomes U+FFFD, as encoding/json does
	}
	return f
}

// Recheck checks a record that a store's index selected for the
// normalized filter f against the record's entry, decoded from its leaf,
// with the store's key mapping (see [Index.Keyed]). It reports whether the
// entry matches f. An entry whose keyed values equal f's keyed values but
// whose values differ (two strings that the store holds alike) does not
// match, and the store skips it. An entry that the index should not have
// selected at all is tampering: Recheck returns an [*IndexError] naming
// the column, and the store fails the query rather than return or drop it.
func (f Filter) Recheck(index int64, e *Entry, key func(string) string) (bool, error) {
	if key == nil {
		key = func(s string) string { return s }
	}
	x := IndexOf(e)
	t := time.Unix(0, x.Time)
	if (!f.From.IsZero() && t.Before(f.From)) || (!f.To.IsZero() && !t.Before(f.To)) {
		return false, &IndexError{Index: index, Column: ColumnTime}
	}
	match := true
	if f.Agency != "" && !slices.Contains(x.Agencies, f.Agency) {
		if !slices.ContainsFunc(x.Agencies, func(a string) bool { return key(a) == key(f.Agency) }) {
			return false, &IndexError{Index: index, Column: ColumnAgencies}
		}
		match = false
	}
	for _, c := range []struct{ column, want, got string }{
		{ColumnAction, f.Action, x.Action},
		{ColumnOfficer, f.Officer, x.Officer},
		{ColumnSubject, f.Subject, x.Subject},
		{ColumnLegalBasis, f.LegalBasis, x.LegalBasis},
		{ColumnOutcome, f.Outcome, x.Outcome},
		{ColumnRecordType, f.RecordType, x.RecordType},
	} {
		switch {
		case c.want == "" || c.want == c.got:
		case key(c.want) == key(c.got):
			match = false
		default:
			return false, &IndexError{Index: index, Column: c.column}
		}
	}
	return match, nil
}
