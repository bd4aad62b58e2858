package audit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

func fullEntry() *audit.Entry {
	return &audit.Entry{
		Time:              time.Date(2026, 11, 2, 10, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		Action:            "disclose",
		RequestID:         "req-1",
		Requester:         &audit.Requester{Agency: "police-nl", Kind: "police", Jurisdiction: "NL", Officer: "officer-7", Roles: []string{"investigator"}, Clearance: "restricted"},
		Holder:            &audit.Party{Agency: "probation-nl", Kind: "probation", Jurisdiction: "NL"},
		Recipients:        []audit.Party{{Agency: "police-nl"}, {Agency: "municipality-x", Jurisdiction: "NL"}},
		Subject:           &audit.Subject{Pseudonym: "ps-abc", Category: "adult", InCustody: true, ReleaseDate: "2026-12-01", Municipality: "Utrecht"},
		RecordType:        "risk_assessment",
		Purpose:           "public_safety",
		ClaimedLegalBasis: "nl-wji-8",
		Case:              &audit.Case{ID: "case-9", Members: []string{"police-nl", "probation-nl"}, Lead: "police-nl"},
		Justification:     "release <scheduled> & risk \"high\"",
		Outcome:           "disclose",
		LegalBasis:        &audit.LegalBasis{ID: "nl-wji-8", Citation: "Wet justitiële gegevens, art. 8", ValidUntil: "2027-01-01"},
		Conditions:        []string{"no_onward_transfer"},
		Reasons:           []string{"OK"},
		PseudonymDomain:   "audit",
		FieldsDisclosed:   []string{"RiskAssessment.level", "ReleaseNotice.release_date~week"},
		PolicyRevision:    "sha256:abc",
		Detail:            map[string]string{"zeta": "1", "alpha": "2", "mid": "3"},
	}
}

func TestEntryRoundTrip(t *testing.T) {
	e := fullEntry()
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal() = %v", err)
	}
	got, err := audit.Unmarshal(leaf)
	if err != nil {
		t.Fatalf("Unmarshal(%s) = %v", leaf, err)
	}
	want := *e
	want.Time = e.Time.UTC()
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Unmarshal(Marshal(e)) mismatch (-want +got):\n%s", diff)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("Unmarshal(Marshal(e)).Time location = %v, want UTC", got.Time.Location())
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, leaf) {
		t.Errorf("Marshal(Unmarshal(leaf)) = %s, %v; want the same leaf %s", again, err, leaf)
	}
}

func TestEntryMarshalCanonical(t *testing.T) {
	a, err := fullEntry().Marshal()
	if err != nil {
		t.Fatal(err)
	}

	// Same instant in another zone, map built in another order.
	e := fullEntry()
	e.Time = e.Time.In(time.FixedZone("X", -5*3600))
	e.Detail = map[string]string{}
	for _, k := range []string{"mid", "alpha", "zeta"} {
		e.Detail[k] = fullEntry().Detail[k]
	}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("Marshal() of the same entry differs:\n%s\n%s", a, b)
	}

	s := string(a)
	for _, want := range []string{`"justification":"release <scheduled> & risk \"high\""`, `"detail":{"alpha":"2","mid":"3","zeta":"1"}`, `"time":"2026-11-02T09:30:00.123456789Z"`} {
		if !strings.Contains(s, want) {
			t.Errorf("Marshal() = %s, want it to contain %s", s, want)
		}
	}
	if strings.Contains(s, `\u003c`) || strings.Contains(s, `\u0026`) {
		t.Errorf("Marshal() = %s, want HTML characters unescaped", s)
	}
	if strings.HasSuffix(s, "\n") || strings.Contains(s, " :") || strings.Contains(s, "\n") {
		t.Errorf("Marshal() = %q, want compact JSON without a trailing newline", s)
	}
}

// TestEntryMarshalGolden pins the encoding: leaves already in a log must
// hash the same forever, so the field order and format never change.
func TestEntryMarshalGolden(t *testing.T) {
	e := &audit.Entry{
		Time:      time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Action:    "disclose",
		Requester: &audit.Requester{Agency: "police-nl", Officer: "o-1"},
		Subject:   &audit.Subject{Pseudonym: "ps-1"},
		Outcome:   "deny",
		Reasons:   []string{"NO_LEGAL_BASIS"},
	}
	const want = `{"time":"2026-11-02T09:00:00Z","action":"disclose","requester":{"agency":"police-nl","officer":"o-1"},"subject":{"pseudonym":"ps-1"},"outcome":"deny","reasons":["NO_LEGAL_BASIS"]}`
	got, err := e.Marshal()
	if err != nil || string(got) != want {
		t.Errorf("Marshal() = %s, %v; want %s", got, err, want)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, leaf := range []string{
		`{"time":"2026-11-02T09:00:00Z","action":"x","outcome":"ok","raw_subject_id":"123"}`,
		`{"time":"yesterday","action":"x","outcome":"ok"}`,
		`not json`,
	} {
		if e, err := audit.Unmarshal([]byte(leaf)); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, nil error; want an error", leaf, e)
		}
	}
}

// TestUnmarshalRefusesOtherSpellings: an entry has one leaf. Every other
// spelling of the same facts, which encoding/json alone would read as the
// same entry, is refused, so that two gateways (or a peer and an auditor)
// can never hash one entry two ways.
func TestUnmarshalRefusesOtherSpellings(t *testing.T) {
	const canonical = `{"time":"2026-11-02T09:00:00Z","action":"disclose","requester":{"agency":"police-nl","officer":"o-1"},"subject":{"pseudonym":"ps-1"},"outcome":"deny","reasons":["NO_LEGAL_BASIS"],"detail":{"a":"1","b":"<2>"}}`
	if _, err := audit.Unmarshal([]byte(canonical)); err != nil {
		t.Fatalf("Unmarshal(canonical) = %v", err)
	}
	for name, leaf := range map[string]string{
		"spaces":              strings.Replace(canonical, `"action":"disclose"`, `"action": "disclose"`, 1),
		"newline after":       canonical + "\n",
		"bytes after":         canonical + `{}`,
		"key order":           `{"action":"disclose","time":"2026-11-02T09:00:00Z","requester":{"agency":"police-nl","officer":"o-1"},"subject":{"pseudonym":"ps-1"},"outcome":"deny","reasons":["NO_LEGAL_BASIS"],"detail":{"a":"1","b":"<2>"}}`,
		"map key order":       strings.Replace(canonical, `{"a":"1","b":"<2>"}`, `{"b":"<2>","a":"1"}`, 1),
		"key case":            strings.Replace(canonical, `"outcome"`, `"Outcome"`, 1),
		"repeated key":        strings.Replace(canonical, `"outcome":"deny"`, `"outcome":"ok","outcome":"deny"`, 1),
		"escaped character":   strings.Replace(canonical, `<2>`, `\u003c2\u003e`, 1),
		"escaped letter":      strings.Replace(canonical, `"ps-1"`, `"p\u0073-1"`, 1),
		"empty list":          strings.Replace(canonical, `"outcome":"deny"`, `"outcome":"deny","conditions":[]`, 1),
		"zero value":          strings.Replace(canonical, `"outcome":"deny"`, `"outcome":"deny","purpose":""`, 1),
		"time not in UTC":     strings.Replace(canonical, `2026-11-02T09:00:00Z`, `2026-11-02T10:00:00+01:00`, 1),
		"time with zero frac": strings.Replace(canonical, `2026-11-02T09:00:00Z`, `2026-11-02T09:00:00.000Z`, 1),
	} {
		// encoding/json reads it as an entry: only the spelling is wrong.
		var plain audit.Entry
		if err := json.NewDecoder(strings.NewReader(leaf)).Decode(&plain); err != nil {
			t.Fatalf("%s: encoding/json cannot read %s: %v", name, leaf, err)
		}
		e, err := audit.Unmarshal([]byte(leaf))
		if !errors.Is(err, audit.ErrNotCanonical) {
			t.Errorf("%s: Unmarshal(%s) = %+v, %v; want ErrNotCanonical", name, leaf, e, err)
		}
	}
}

// TestMarshalInvalidUTF8: bytes that are not UTF-8 are recorded as U+FFFD,
// written plainly, so the leaf reads back (Unmarshal) as an entry whose
// encoding is the leaf again. A string holding the text \ufffd stays that
// text.
func TestMarshalInvalidUTF8(t *testing.T) {
	e := &audit.Entry{
		Time:          time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Action:        "disclose",
		Requester:     &audit.Requester{Agency: "police-nl", Officer: "o-\xff\xfe-1"},
		Justification: `a \ufffd b`,
		Outcome:       "deny",
		Reasons:       []string{"x\xc3"},
		Detail:        map[string]string{"k\xff": "v\xfe"},
	}
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-02T09:00:00Z","action":"disclose","requester":{"agency":"police-nl","officer":"o-��-1"},"justification":"a \\ufffd b","outcome":"deny","reasons":["x�"],"detail":{"k�":"v�"}}`
	if string(leaf) != want {
		t.Errorf("Marshal() = %s\nwant %s", leaf, want)
	}
	got, err := audit.Unmarshal(leaf)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(e)) = %v", err)
	}
	if got.Requester.Officer != "o-\uFFFD\uFFFD-1" || got.Justification != `a \ufffd b` {
		t.Errorf("Unmarshal(Marshal(e)) = officer %q, justification %q", got.Requester.Officer, got.Justification)
	}
	// The escaped spelling of the same entry is refused.
	escaped := strings.ReplaceAll(string(leaf), "\uFFFD", `\ufffd`)
	if _, err := audit.Unmarshal([]byte(escaped)); !errors.Is(err, audit.ErrNotCanonical) {
		t.Errorf("Unmarshal(%s) = %v, want ErrNotCanonical", escaped, err)
	}
}
