package policies

// This file is the Go side of the policy contract (policies/README.md). The JSON
// names are the contract: legal officers read and write them in Rego, in
// policies/README.md and in the golden decision files. Do not rename them.

// Outcomes a policy can return, from most to least revealing.
const (
	OutcomeDisclose     = "disclose"
	OutcomePseudonymise = "pseudonymise"
	OutcomeHitOnly      = "hit_only"
	OutcomeDeny         = "deny"
	// OutcomeAllow answers an action on a multi-agency case (CaseActions):
	// the change may be made. It releases no record.
	OutcomeAllow = "allow"
)

// Input is the policy input, data.liaison.decision's input document. It
// never carries the subject's identity: only attributes of the subject.
type Input struct {
	// Action is one of disclose, request, notify, match, translate,
	// reidentify, or an action on a case (CaseActions).
	Action string `json:"action"`
	// Time is the RFC 3339 time of the request. Policies take "now" from it,
	// never from the clock, so that simulation and replay are exact.
	Time string `json:"time"`
	// Requester is the agency (and officer) asking or pushing.
	Requester Requester `json:"requester"`
	// Holder is the agency that holds the record; its jurisdiction governs.
	Holder Party `json:"holder"`
	// Recipient is the agency that would receive the record.
	Recipient Party `json:"recipient"`
	// Subject holds the attributes of the person the record is about.
	Subject Subject `json:"subject"`
	// RecordType is one of the seven record types, in snake_case; "" for
	// translate, reidentify and the actions on a case, which concern no record.
	RecordType string `json:"record_type"`
	// Purpose is the purpose of the exchange, in snake_case.
	Purpose string `json:"purpose"`
	// ClaimedLegalBasis is the legal basis the requester relies on, if any.
	ClaimedLegalBasis string `json:"claimed_legal_basis"`
	// Case is the multi-agency case the exchange belongs to, if any.
	Case *Case `json:"case,omitempty"`
	// Justification is the officer's stated reason, free text.
	Justification string `json:"justification"`
	// Event is the subject event a notify reports; nil for other actions
	// (and for a notify that reports none).
	Event *Event `json:"event,omitempty"`
	// Route says how the gateway found the recipient of a disclose or
	// notify; nil for other actions.
	Route *Route `json:"route,omitempty"`
	// Provenance is where the record came from when the requester received
	// it from another agency through the gateway: the release it was
	// received under, with the conditions in force on it. Nil when the
	// record is the requester's own.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// Provenance describes the release a record was received under, as the
// gateway's log records it: the entry, who released it to whom, under
// which basis, purpose and case, until when, and the handling conditions
// that travel with it. LegalBasis and ValidUntil are the basis the
// recipient holds the record under now and its last day as it stands now
// (the latest correction's, if the holder corrected the release; the end
// moved by a revision, or the day an expiry notice says the basis ended).
// Dates are YYYY-MM-DD; empty strings mean none.
type Provenance struct {
	AuditIndex int64    `json:"audit_index"`
	Holder     Party    `json:"holder"`
	Recipient  Party    `json:"recipient"`
	LegalBasis string   `json:"legal_basis"`
	ValidUntil string   `json:"valid_until"`
	Purpose    string   `json:"purpose"`
	CaseID     string   `json:"case_id"`
	Conditions []string `json:"conditions"`
}

// Party names an agency by id, kind and jurisdiction.
type Party struct {
	Agency       string `json:"agency"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
}

// Requester is a Party with the officer acting for it.
type Requester struct {
	Agency       string  `json:"agency"`
	Kind         string  `json:"kind"`
	Jurisdiction string  `json:"jurisdiction"`
	Officer      Officer `json:"officer"`
}

// Party returns the requester's agency as a Party.
func (r Requester) Party() Party {
	return Party{Agency: r.Agency, Kind: r.Kind, Jurisdiction: r.Jurisdiction}
}

// Officer is the person acting, as proven by their agency's token.
type Officer struct {
	ID        string   `json:"id"`
	Roles     []string `json:"roles"`
	Clearance string   `json:"clearance"`
}

// Subject holds attributes of the person a record is about, never identity.
// Dates are YYYY-MM-DD; the zero value of a string field means unknown.
type Subject struct {
	Category       string `json:"category"`
	InCustody      bool   `json:"in_custody"`
	ReleaseDate    string `json:"release_date"`
	ProbationUntil string `json:"probation_until"`
	Municipality   string `json:"municipality"`
}

// Case is a multi-agency working group case.
type Case struct {
	ID string `json:"id"`
	// Members are the agencies that are members now, the lead included.
	Members []string `json:"members"`
	Lead    string   `json:"lead"`
	// Kind is the case kind of the pack that governs the case (e.g.
	// "nl.zvh"); for a case of the registry file, the file's kind for it,
	// empty if the file gives none.
	Kind string `json:"kind,omitempty"`
	// Jurisdiction is the jurisdiction whose pack defines Kind; for a case
	// of the registry file, its lead's.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Invited are the agencies with an open invitation.
	Invited []string `json:"invited,omitempty"`
	// RequesterStatus is the requesting agency's standing in the case:
	// lead, member, invited or none.
	RequesterStatus string `json:"requester_status,omitempty"`
}

// Event is a subject event a notify reports.
type Event struct {
	// Type is one of EventTypes.
	Type string `json:"type"`
}

// Route says how the gateway found a recipient.
type Route struct {
	// Role is named (the caller named the recipient), competent (the
	// agency of the recipient's kind whose areas cover Area), case_member
	// (a member of case Case) or earlier_recipient (it received records
	// about the subject earlier, under Basis, still in force).
	Role string `json:"role"`
	// Area is the municipality a competent recipient covers.
	Area string `json:"area,omitempty"`
	// Case is the case a case_member belongs to.
	Case string `json:"case,omitempty"`
	// Basis is the legal basis an earlier_recipient received under, if any.
	Basis string `json:"basis,omitempty"`
}

// CaseActions are the actions on a multi-agency case. A policy answers
// them with OutcomeAllow or OutcomeDeny.
var CaseActions = []string{
	"case_open", "case_invite", "case_accept", "case_decline",
	"case_leave", "case_remove", "case_handover", "case_close",
}

// EventTypes are the subject events a notify can report.
var EventTypes = []string{
	"release_date_set", "release_date_changed", "released", "transferred",
	"absconded", "breach_of_conditions", "probation_ended", "deceased",
}

// RouteRoles are the roles of Route.Role.
var RouteRoles = []string{"named", "competent", "case_member", "earlier_recipient"}

// Decision is a policy's answer. A denial is a Decision with Outcome ==
// OutcomeDeny, not an error: errors mean the policy could not be evaluated.
// A denial has reasons only: no legal basis, pseudonym domain, fields or
// conditions.
type Decision struct {
	Outcome         string      `json:"outcome"`
	LegalBasis      *LegalBasis `json:"legal_basis,omitempty"`
	Fields          Fields      `json:"fields"`
	PseudonymDomain string      `json:"pseudonym_domain,omitempty"`
	Conditions      []string    `json:"conditions"`
	Reasons         []Reason    `json:"reasons"`
	// Approval is the dual control a re-identification needs; a policy
	// that lets action reidentify through MUST set it, and no other
	// decision has it.
	Approval *Approval `json:"approval,omitempty"`
	// Notice is set on a notify that is not denied when the notice is
	// required: the recipient must acknowledge it.
	Notice *Notice `json:"notice,omitempty"`
}

// Notice says that a notice is required, and by when it must be
// acknowledged. The gateway escalates it at EscalateAt (to the
// recipient's duty role, and back to the sender) if it is not
// acknowledged by then.
type Notice struct {
	Required bool `json:"required"`
	// Rule is the id of the pack's rule that requires it.
	Rule     string `json:"rule"`
	Citation string `json:"citation"`
	// AcknowledgeBy and EscalateAt are RFC 3339 times in UTC (ending Z,
	// as time.RFC3339Nano writes them; an offset such as +02:00 is
	// malformed); EscalateAt is before AcknowledgeBy.
	AcknowledgeBy string `json:"acknowledge_by"`
	EscalateAt    string `json:"escalate_at"`
	// Assumption is set where the rule rests on an unverified reading.
	Assumption string `json:"assumption,omitempty"`
}

// Approval names who must approve a re-identification before the identity
// is released: Quorum officers holding one of Roles (and, if Agencies is
// set, of one of those agencies; if OtherAgency, of an agency other than
// the requester's), never the requester, each approval counting for
// ExpiresAfter (a Go duration such as "72h").
type Approval struct {
	Quorum       int      `json:"quorum"`
	Roles        []string `json:"roles"`
	Agencies     []string `json:"agencies,omitempty"`
	OtherAgency  bool     `json:"other_agency"`
	ExpiresAfter string   `json:"expires_after"`
}

// LegalBasis identifies the provision a disclosure rests on.
type LegalBasis struct {
	ID       string `json:"id"`
	Citation string `json:"citation"`
	// ValidUntil is the last day (YYYY-MM-DD) the basis covers, or empty.
	ValidUntil string `json:"valid_until,omitempty"`
	// Assumption is set where the basis encodes a reading of law that was
	// not checked against the primary source.
	Assumption string `json:"assumption,omitempty"`
}

// Fields says what the recipient gets of each field. Entries are field
// classes (direct_identifier, quasi_identifier, sensitive, assessment,
// operational, free_text) or field names (RiskAssessment.level); a name
// wins over its class. A field listed nowhere is dropped.
type Fields struct {
	Keep         []string `json:"keep"`
	Generalise   []string `json:"generalise"`
	Pseudonymise []string `json:"pseudonymise"`
	// Precision coarsens generalised dates: year, month or week. Empty
	// means each field's own default from the schema.
	Precision string `json:"precision,omitempty"`
}

// Reason explains a decision: a stable code for machines and a sentence a
// caseworker understands.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
