package gateway

import (
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// InputFromEntry rebuilds the policy input an audited exchange was decided
// on. It needs no personal data: the entry holds the subject's attributes
// and an audit pseudonym, never the identifier. ok is false for entries
// that record no policy decision (authentication refusals, audit reads).
func InputFromEntry(e *audit.Entry) (in policies.Input, ok bool) {
	switch e.Action {
	case "disclose", "request", "notify", "match", "translate", "reidentify":
	default:
		return in, false
	}
	if e.Requester == nil || e.Holder == nil || len(e.Recipients) != 1 || e.PolicyRevision == "" {
		return in, false
	}
	r := e.Recipients[0]
	in = policies.Input{
		Action: e.Action,
		Time:   e.Time.UTC().Format(time.RFC3339Nano),
		Requester: policies.Requester{
			Agency: e.Requester.Agency, Kind: e.Requester.Kind, Jurisdiction: e.Requester.Jurisdiction,
			Officer: policies.Officer{ID: e.Requester.Officer, Roles: slices.Clone(e.Requester.Roles), Clearance: e.Requester.Clearance},
		},
		Holder:            policies.Party{Agency: e.Holder.Agency, Kind: e.Holder.Kind, Jurisdiction: e.Holder.Jurisdiction},
		Recipient:         policies.Party{Agency: r.Agency, Kind: r.Kind, Jurisdiction: r.Jurisdiction},
		RecordType:        e.RecordType,
		Purpose:           e.Purpose,
		ClaimedLegalBasis: e.ClaimedLegalBasis,
		Justification:     e.Justification,
	}
	if in.Requester.Officer.Roles == nil {
		in.Requester.Officer.Roles = []string{}
	}
	if in.Requester.Officer.Clearance == "" {
		in.Requester.Officer.Clearance = "none"
	}
	if e.Subject != nil {
		in.Subject = policies.Subject{
			Category: e.Subject.Category, InCustody: e.Subject.InCustody, ReleaseDate: e.Subject.ReleaseDate,
			ProbationUntil: e.Subject.ProbationUntil, Municipality: e.Subject.Municipality,
		}
	}
	if e.Case != nil {
		in.Case = &policies.Case{ID: e.Case.ID, Members: slices.Clone(e.Case.Members), Lead: e.Case.Lead}
	}
	// A notify's event and the route a recipient was found by are in the
	// entry's detail (notify.go).
	if ev := e.Detail["event"]; ev != "" && e.Action == "notify" {
		in.Event = &policies.Event{Type: ev}
	}
	if r := e.Detail["route"]; r != "" {
		in.Route = &policies.Route{Role: r, Area: e.Detail["route_area"], Case: e.Detail["route_case"], Basis: e.Detail["route_basis"]}
	}
	if p := e.Provenance; p != nil {
		in.Provenance = policyProvenance(p)
	}
	return in, true
}

// NewReplayer returns a [policies.Replayer] that replays as this gateway
// decides: the fields a decision lets through are read from the record
// schema (PlanFields), and a decision whose field plan the gateway refuses
// (CheckPlan: a pseudonymise that keeps a direct identifier in clear, an
// assessment in clear to an NGO, a field name the schema does not have) is
// replayed as the deny, reason
// POLICY_ERROR, that the gateway records for it. `liaison policy replay`
// and the console's impact page replay through it.
func NewReplayer(candidate, baseline *policies.Engine) *policies.Replayer {
	return policies.NewReplayer(candidate, baseline, PlanFields, CheckPlan)
}

// reasonSkipCaseAction is why replay skips an action on a case.
const reasonSkipCaseAction = "deciding an action on a case (not replayed)"

// reasonSkipPeerDenial is why replay skips a deny of the peer gateway's
// law.
const reasonSkipPeerDenial = "denied by the peer gateway's law, not this policy"

// RecordedFromEntry returns the decision the audit entry at index records,
// for a [policies.Replayer]; or, for an entry that cannot be replayed, why
// not ("without a policy decision", "with outcome ...", "deciding an
// action on a case (not replayed)", "denied by the peer gateway's law,
// not this policy"), to count with
// Replayer.Skip. `liaison policy replay` and the console's impact page
// both read the log through it.
func RecordedFromEntry(index int64, e *audit.Entry) (rec policies.Recorded, skip string) {
	if slices.Contains(policies.CaseActions, e.Action) && e.PolicyRevision != "" &&
		(e.Outcome == audit.OutcomeOK || e.Outcome == policies.OutcomeAllow || e.Outcome == policies.OutcomeDeny) {
		// The policy decided it (the gateway records an action it
		// allowed as ok, done), but the entry does not hold the case as
		// it stood before the change (its invitations, the requester's
		// standing): it cannot be decided again as it was.
		return rec, reasonSkipCaseAction
	}
	in, ok := InputFromEntry(e)
	if !ok {
		return rec, "without a policy decision"
	}
	switch e.Outcome {
	case policies.OutcomeDisclose, policies.OutcomePseudonymise, policies.OutcomeHitOnly, policies.OutcomeDeny:
	default:
		return rec, "with outcome " + e.Outcome
	}
	// A deny the gateway's own rule made after the policy allowed the
	// exchange records the gateway's reason, not the policy's outcome: it
	// says nothing of what the policy decided.
	if e.Outcome == policies.OutcomeDeny && slices.Contains(e.Reasons, reasonUndeclaredOnward) {
		return rec, "denied by the gateway's rule, not the policy (" + reasonUndeclaredOnward + ")"
	}
	// Nor does a deny of the peer gateway's law (detail peer_denial: the
	// holder's law answering a Request, the recipient's law on receipt of
	// a push): this gateway's policy allowed the exchange to go, and the
	// peer's law refused it there.
	if e.Outcome == policies.OutcomeDeny && e.Detail["peer_denial"] != "" {
		return rec, reasonSkipPeerDenial
	}
	recorded := policies.Decision{Outcome: e.Outcome}
	if p := e.FieldPlan; p != nil {
		recorded.Fields = policies.Fields{Keep: p.Keep, Generalise: p.Generalise, Pseudonymise: p.Pseudonymise, Precision: p.Precision}
	}
	if ro := e.Detail["receipt_outcome"]; ro != "" {
		// A release received from a peer gateway (a Request's answer, a
		// forwarded push, notice or correction): the entry records what
		// the holder's law released (its outcome, legal basis, fields
		// and conditions), which this gateway delivered as it was, and
		// beside it this gateway's decision on receipt, which chose no
		// fields. Replay compares a candidate's decision on receipt
		// with that decision, and the fields and conditions with the
		// release's: a candidate can refuse the release, not change it.
		rec = policies.Recorded{Index: index, Input: in, Outcome: ro, LegalBasis: e.Detail["receipt_legal_basis"],
			Fields: e.FieldsDisclosed, Conditions: e.Conditions, Received: true}
		if ro == policies.OutcomeDeny {
			// Refused on receipt: nothing was delivered, and the entry
			// records this gateway's deny. What a candidate that takes
			// it would pass is the release as the holder's law made it,
			// which the peer's entry beside it records.
			fields, conditions, ok := refusedRelease(e)
			if !ok {
				return policies.Recorded{}, "refused on receipt, without the peer's entry of the release"
			}
			rec.Fields, rec.Conditions = fields, conditions
		}
		return rec, ""
	}
	rec = policies.Recorded{Index: index, Input: in, Outcome: e.Outcome, Fields: PlanFields(e.RecordType, recorded), Conditions: e.Conditions}
	if e.LegalBasis != nil {
		rec.LegalBasis = e.LegalBasis.ID
	}
	return rec, ""
}

// refusedRelease returns the fields and conditions of the release that
// entry e, of a release this gateway refused on receipt, refused: as the
// peer's entry in its receipt (detail peer_receipt) records them, the
// holder's gateway's entry of its answer to a Request or its pending
// entry of a push, which this gateway checked to record that release
// before it decided (peerEntryRecords, releaseAsLogged). ok is false if
// the entry holds no such receipt.
func refusedRelease(e *audit.Entry) (fields, conditions []string, ok bool) {
	var rc liaisonv1.PeerReceipt
	if err := protojson.Unmarshal([]byte(e.Detail["peer_receipt"]), &rc); err != nil {
		return nil, nil, false
	}
	pe, err := audit.Unmarshal([]byte(rc.GetEntry()))
	if err != nil {
		return nil, nil, false
	}
	return pe.FieldsDisclosed, pe.Conditions, true
}

// PlanFields lists the fields of a record type that a decision would let
// through, with how, as Released.fields names them ("RiskAssessment.level",
// "Person.date_of_birth~year", "Person.subject_id#"). It reads the schema
// only, so it needs no record: replay uses it to show fields newly
// disclosed by a candidate policy. A deny or hit-only outcome passes none.
func PlanFields(recordType string, d policies.Decision) []string {
	if d.Outcome != policies.OutcomeDisclose && d.Outcome != policies.OutcomePseudonymise {
		return nil
	}
	md := recordDescriptor(recordType)
	if md == nil {
		return nil
	}
	plan := pseudonym.Plan{Keep: d.Fields.Keep, Generalise: d.Fields.Generalise, Pseudonymise: d.Fields.Pseudonymise, Precision: d.Fields.Precision}
	out := map[string]bool{}
	walk := schemaWalk(func(_ protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) {
		if fd.Message() == nil {
			if name, ok := pseudonym.FieldOutcome(fd, plan, classify); ok {
				out[name] = true
			}
		}
	})
	walk(md)
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// recordDescriptor returns the message of a record type, e.g.
// "risk_assessment" -> liaison.v1.RiskAssessment.
func recordDescriptor(recordType string) protoreflect.MessageDescriptor {
	var found protoreflect.MessageDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("liaison.v1", func(fd protoreflect.FileDescriptor) bool {
		msgs := fd.Messages()
		for i := range msgs.Len() {
			md := msgs.Get(i)
			if r, _ := proto.GetExtension(md.Options(), liaisonv1.E_Record).(*liaisonv1.RecordRule); r.GetRecordType() == recordType && recordType != "" {
				found = md
				return false
			}
		}
		return true
	})
	return found
}
