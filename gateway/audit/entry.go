package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Actions recorded besides the exchange actions of the policy contract
// (disclose, request, notify, match, translate, reidentify).
const (
	ActionAuthenticate   = "authenticate"    // a refused authentication
	ActionAuditRead      = "audit_read"      // a read of the log itself
	ActionPolicyActivate = "policy_activate" // a policy revision went live
	ActionKeyRotate      = "key_rotate"      // a pseudonymisation key rotated
	ActionKeyRetire      = "key_retire"      // pseudonymisation key versions retired (left the ring)
	ActionKeyRestore     = "key_restore"     // retired pseudonymisation key versions back in the ring
)

// The outcomes of the policy contract, as an entry records them when that
// is what really happened.
const (
	OutcomeDisclose     = "disclose"     // the record left in full (as the field plan allowed)
	OutcomePseudonymise = "pseudonymise" // the record left pseudonymised
	OutcomeHitOnly      = "hit_only"     // only whether a record exists left
	OutcomeDeny         = "deny"         // the policy refused the exchange
)

// Outcomes recorded besides the policy outcomes.
const (
	OutcomeRefused  = "refused"   // authentication, validation or a case's state refused the call (a case that no longer stood at the commit, after the decision, included): nothing left
	OutcomeFailed   = "failed"    // the decision allowed it, but a later stage failed: nothing left
	OutcomeNotFound = "not_found" // the holder holds no such record: nothing left
	OutcomeOK       = "ok"        // an administrative action succeeded
	OutcomePending  = "pending"   // allowed, awaiting approval (re-identification)
)

// Outcomes lists every outcome an entry can record, in the order the
// documentation gives them. Audit queries accept exactly these.
var Outcomes = []string{
	OutcomeDisclose, OutcomePseudonymise, OutcomeHitOnly, OutcomeDeny,
	OutcomeRefused, OutcomeFailed, OutcomeNotFound, OutcomeOK, OutcomePending,
}

// Released reports whether an entry's outcome means that something left
// the gateway for its recipients: a disclosure, a pseudonymised record or
// a hit/no-hit answer. Access reports, replay and disclosure counts treat
// only these as disclosures.
func Released(outcome string) bool {
	switch outcome {
	case OutcomeDisclose, OutcomePseudonymise, OutcomeHitOnly:
		return true
	}
	return false
}

// reasonNotFound is the reason with which gateways before the not_found
// outcome recorded a request the holder could not answer, under the
// policy's outcome. Such an entry released nothing.
const reasonNotFound = "NOT_FOUND"

// ReleasedBy reports whether entry e released something to its
// recipients: its outcome is one that [Released], and it is not an older
// gateway's entry of a request the holder could not answer (the policy's
// outcome with the reason NOT_FOUND). Every part that asks of an entry
// whether it released a record (aftercare and expiry notices, corrections,
// provenance, receipts, access reports, the console) asks this.
func ReleasedBy(e *Entry) bool {
	return Released(e.Outcome) && !slices.Contains(e.Reasons, reasonNotFound)
}

// An Entry is one record of the disclosure log: the facts that LED Art. 25
// asks for, the policy input minus identity (so that a candidate policy can
// be replayed over it), and the decision. Its canonical JSON encoding is the
// Merkle leaf. It never holds a raw subject identifier or a token.
type Entry struct {
	Time      time.Time `json:"time"`
	Action    string    `json:"action"`
	RequestID string    `json:"request_id,omitempty"`

	Requester  *Requester `json:"requester,omitempty"`
	Holder     *Party     `json:"holder,omitempty"`
	Recipients []Party    `json:"recipients,omitempty"`
	Subject    *Subject   `json:"subject,omitempty"`

	RecordType        string `json:"record_type,omitempty"`
	Purpose           string `json:"purpose,omitempty"`
	ClaimedLegalBasis string `json:"claimed_legal_basis,omitempty"`
	Case              *Case  `json:"case,omitempty"`
	Justification     string `json:"justification,omitempty"`
	// Provenance is the release the record was received under, when the
	// requester passed on a record it received from another agency (the
	// policy input's provenance, so that replay decides it again exactly);
	// for a correction of such a release, the source's latest correction
	// of it.
	Provenance *Provenance `json:"provenance,omitempty"`

	// Outcome is what actually happened: a policy outcome, or refused,
	// failed or ok.
	Outcome         string      `json:"outcome"`
	LegalBasis      *LegalBasis `json:"legal_basis,omitempty"`
	Conditions      []string    `json:"conditions,omitempty"`
	Reasons         []string    `json:"reasons,omitempty"`
	PseudonymDomain string      `json:"pseudonym_domain,omitempty"`
	// FieldsDisclosed lists the fields that left the gateway, by name
	// (RiskAssessment.level) with how: "RiskAssessment.level" kept,
	// "ReleaseNotice.release_date~week" generalised, "Person.subject_id#"
	// pseudonymised.
	FieldsDisclosed []string `json:"fields_disclosed,omitempty"`
	// FieldPlan is the decision's instruction for the fields, as the policy
	// gave it; replay compares a candidate policy's plan with it. An entry
	// of a release received from a peer gateway has none: the holder's
	// law there transformed it, and this gateway's decision on receipt
	// (detail receipt_outcome) applied no plan.
	FieldPlan      *FieldPlan `json:"field_plan,omitempty"`
	PolicyRevision string     `json:"policy_revision,omitempty"`

	// Detail carries action-specific facts (a bundle digest, a key version,
	// the filter of an audit read). Values are never personal data.
	Detail map[string]string `json:"detail,omitempty"`
}

// FieldPlan is a policy decision's fields: classes or names kept,
// generalised and pseudonymised, and the date precision.
type FieldPlan struct {
	Keep         []string `json:"keep,omitempty"`
	Generalise   []string `json:"generalise,omitempty"`
	Pseudonymise []string `json:"pseudonymise,omitempty"`
	Precision    string   `json:"precision,omitempty"`
}

// Party names an agency.
type Party struct {
	Agency       string `json:"agency"`
	Kind         string `json:"kind,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// Requester is the agency and officer that made the call.
type Requester struct {
	Agency       string   `json:"agency"`
	Kind         string   `json:"kind,omitempty"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	Officer      string   `json:"officer,omitempty"`
	Roles        []string `json:"roles,omitempty"`
	Clearance    string   `json:"clearance,omitempty"`
}

// Subject is the person a record is about: an audit-domain pseudonym and
// the attributes the policy saw.
type Subject struct {
	Pseudonym      string `json:"pseudonym"`
	Category       string `json:"category,omitempty"`
	InCustody      bool   `json:"in_custody,omitempty"`
	ReleaseDate    string `json:"release_date,omitempty"`
	ProbationUntil string `json:"probation_until,omitempty"`
	Municipality   string `json:"municipality,omitempty"`
}

// Case is a multi-agency case.
type Case struct {
	ID      string   `json:"id"`
	Members []string `json:"members,omitempty"`
	Lead    string   `json:"lead,omitempty"`
}

// Provenance names the release a record was received under, as the log
// recorded it: its entry, the parties, basis, validity, purpose, case and
// the conditions in force on it. Basis and validity are those in force
// when the entry that names it was made: those of the latest correction
// of the release, if its holder corrected it since, with the end a
// revision moved it to or an expiry notice gave.
type Provenance struct {
	Index      int64    `json:"index"`
	Holder     Party    `json:"holder"`
	Recipient  Party    `json:"recipient"`
	LegalBasis string   `json:"legal_basis,omitempty"`
	ValidUntil string   `json:"valid_until,omitempty"`
	Purpose    string   `json:"purpose,omitempty"`
	CaseID     string   `json:"case_id,omitempty"`
	Conditions []string `json:"conditions,omitempty"`
}

// LegalBasis is the provision a disclosure rested on.
type LegalBasis struct {
	ID         string `json:"id"`
	Citation   string `json:"citation,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// Marshal returns the canonical encoding of e: compact JSON with fields in
// declaration order, map keys sorted, time in UTC, no HTML escaping and no
// trailing newline. These bytes are the Merkle leaf and the line of an export.
//
// A string that is not valid UTF-8 is recorded with U+FFFD, the
// replacement character, in place of each invalid byte, written as the
// character itself (encoding/json alone would write "\ufffd", a second
// spelling of the same character), so that Marshal of the entry a leaf
// decodes to gives the leaf again.
func (e *Entry) Marshal() ([]byte, error) {
	leaf, err := e.encode()
	if err != nil || !bytes.Contains(leaf, escapedReplacement) {
		return leaf, err
	}
	// Rare: a string held bytes that are not UTF-8. Reading the leaf back
	// gives the entry with each such byte replaced by U+FFFD (and
	// nothing else changed); its encoding writes U+FFFD plainly.
	var clean Entry
	if err := json.Unmarshal(leaf, &clean); err != nil {
		return nil, fmt.Errorf("audit: encode entry: %v", err)
	}
	return clean.encode()
}

// escapedReplacement is how encoding/json writes a byte that is not UTF-8.
// (A string holding the six characters \ufffd is written with its
// backslash doubled, so that this test can only give a false alarm, never
// miss one; the false alarm costs a second encoding, no difference.)
var escapedReplacement = []byte(`\ufffd`)

func (e *Entry) encode() ([]byte, error) {
	c := *e
	c.Time = c.Time.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("audit: encode entry: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ErrNotCanonical is returned by [Unmarshal] for an entry that
// is not spelled exactly as [Entry.Marshal] spells it.
var ErrNotCanonical = errors.New("audit: decode entry: not the canonical encoding of an entry")

// Unmarshal decodes a leaf produced by Marshal. It accepts only that one
// spelling of an entry: the leaf must be exactly what Marshal gives for
// the entry it decodes to. Any other spelling of the same facts (spaces,
// another key order or case, a repeated key, an escaped character Marshal
// writes plainly, an empty list Marshal leaves out, a time not in UTC,
// bytes after the object) is refused with [ErrNotCanonical], so that one
// entry has one leaf hash however it reached the gateway.
func Unmarshal(leaf []byte) (*Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(leaf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("audit: decode entry: %v", err)
	}
	canonical, err := e.Marshal()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canonical, leaf) {
		return nil, ErrNotCanonical
	}
	return &e, nil
}
