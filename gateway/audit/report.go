package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ConditionRestricted is the handling condition by which a policy marks a
// disclosure whose communication to the data subject is restricted under
// LED Art. 15 (for example, not to obstruct an inquiry). [Report] leaves
// such entries out without a trace.
const ConditionRestricted = "LED_ART15_RESTRICTED"

// A Querier reads records by filter: a [*Log], or a [Store] directly.
type Querier interface {
	Query(ctx context.Context, f Filter) ([]Record, error)
}

// An AccessReport is what a data subject may learn from the log: the
// releases of information about them (GDPR Art. 15, LED Art. 14).
type AccessReport struct {
	// Subject is the audit-domain pseudonym the report is about.
	Subject string
	// Disclosures are the real releases, in index order, restricted
	// entries left out.
	Disclosures []Disclosure
	// OfficersWithheld is true when the officers were left out.
	OfficersWithheld bool
	// Corrections are the corrections sent to recipients on the subject's
	// behalf (GDPR Art. 19, LED Art. 16(6)), in index order.
	Corrections []NoticeReport
	// Withdrawals are the withdrawals and expiry notices sent to
	// recipients, in index order.
	Withdrawals []NoticeReport
}

// A NoticeReport is one correction, withdrawal or expiry notice sent to a
// recipient about the subject, as the access report gives it.
type NoticeReport struct {
	Index        int64
	Time         time.Time
	Kind         string // NoticeCorrection, NoticeWithdrawal or NoticeExpiry
	Recipient    string
	Holder       string
	RefersTo     []int64
	Reason       string
	Obligation   string
	Outcome      string   // for a correction: disclose or pseudonymise
	Fields       []string // for a correction: the fields that left, by name
	RecordType   string
	Acknowledged time.Time // zero while not acknowledged
	// SupersededBy is the later notice to the same recipient that refers
	// to this one (a correction is itself a release) and was sent before
	// this one was acknowledged, as SentNotice.SupersededBy, or 0: this
	// one is then closed without an acknowledgement.
	SupersededBy int64
}

// A Disclosure is one release of information about the subject, as the
// access report gives it.
type Disclosure struct {
	Index      int64
	Time       time.Time
	Action     string
	RequestID  string
	Outcome    string // disclose, pseudonymise or hit_only
	RecordType string
	Purpose    string
	Holder     string   // agency id
	Recipients []string // agency ids (CJEU C-154/21: recipients by identity)
	LegalBasis *LegalBasis
	Fields     []string // names only, as Entry.FieldsDisclosed
	Requester  string   // the agency that made the call
	Officer    string   // empty unless the report names officers
}

// Disclosed reports whether e records a release of information about its
// subject: an exchange that [ReleasedBy] something (so not an older
// gateway's entry of a request the holder could not answer). Reads of the
// log are not disclosures. A correction released the corrected record;
// the access report lists it among the corrections, not here.
func Disclosed(e *Entry) bool {
	return ReleasedBy(e) && e.Action != ActionAuditRead && e.Action != ActionCorrect
}

// NoticeReasons says in words why a correction, withdrawal or expiry
// notice was sent, by its reason code (ObligationNotice.reason): the
// holder's, or the gateway's own. The access reports of the command and
// the console give a reason in these words; a code not here is named as
// it is, never guessed at.
var NoticeReasons = map[string]string{
	"CORRECTED":              "the record was corrected",
	"INCORRECT":              "it was incorrect",
	"UNLAWFULLY_TRANSMITTED": "it should not have been transmitted",
	"ERASED_AT_SOURCE":       "it was erased at the source",
	"CORRECTION_NOT_ALLOWED": "it could not be corrected in the form the recipient holds",
	"ENTITLEMENT_NARROWED":   "the recipient may now have it only in a less revealing form than the one it holds",
	"SOURCE_WITHDRAWN":       "the release it was passed on from was withdrawn by its source",
	"LEGAL_BASIS_EXPIRED":    "the legal basis ended",
}

// Restricted reports whether a policy restricted the communication of e to
// the data subject (LED Art. 15).
func Restricted(e *Entry) bool {
	return slices.Contains(e.Conditions, ConditionRestricted)
}

// reportPage is how many records Report reads at a time.
const reportPage = 1000

// Report builds the access report for the subject with the given audit
// pseudonym from the records q holds. It applies the rules the law sets,
// so that every client gets the same answer: only real releases are
// listed ([Disclosed]); entries restricted under LED Art. 15
// ([Restricted]) are left out, and so are the notices about them, and
// nothing in the report says whether any were (no notice names one); the
// officers are left out unless withOfficers (CJEU C-579/21).
// Attempts that released nothing are not in the report.
func Report(ctx context.Context, q Querier, subject string, withOfficers bool) (*AccessReport, error) {
	if subject == "" {
		return nil, fmt.Errorf("audit: report: no subject")
	}
	r := &AccessReport{Subject: subject, OfficersWithheld: !withOfficers}
	acks := map[int64]time.Time{}
	ackIdx := map[int64]int64{} // a notice's first acknowledgement's entry
	hidden := map[int64]bool{}  // entries left out as restricted, and notices about them alone
	for start := int64(0); ; {
		recs, err := q.Query(ctx, Filter{Subject: subject, Start: start, Limit: reportPage})
		if err != nil {
			return nil, fmt.Errorf("audit: report: %w", err)
		}
		for _, rec := range recs {
			start = rec.Index + 1
			e := rec.Entry
			if e == nil {
				if e, err = Unmarshal(rec.Leaf); err != nil {
					return nil, fmt.Errorf("audit: report: entry %d: %w", rec.Index, err)
				}
			}
			if e.Subject == nil || e.Subject.Pseudonym != subject {
				return nil, fmt.Errorf("audit: report: entry %d is not about the subject the query asked for", rec.Index)
			}
			if e.Action == ActionAcknowledgeNotice && e.Outcome == OutcomeOK {
				if n, err := strconv.ParseInt(e.Detail[DetailNotice], 10, 64); err == nil {
					if _, ok := acks[n]; !ok {
						acks[n] = AcknowledgedAt(e) // a forwarded one: when it was made
						ackIdx[n] = rec.Index
					}
				}
			}
			if Restricted(e) {
				hidden[rec.Index] = true
				continue
			}
			if n, ok := NoticeOf(rec.Index, e); ok {
				// A notice about a restricted release is left out as that
				// release is, and names no restricted release beside others
				// (an expiry notice of a gateway that grouped them).
				refs := slices.DeleteFunc(slices.Clone(n.RefersTo), func(x int64) bool { return hidden[x] })
				if len(refs) == 0 && len(n.RefersTo) > 0 {
					hidden[rec.Index] = true // a correction left out: so are notices about it
					continue
				}
				nr := NoticeReport{
					Index: n.Index, Time: n.Sent, Kind: n.Kind, Recipient: n.Recipient, Holder: n.Holder, RefersTo: refs,
					Reason: n.Reason, Obligation: n.Obligation, RecordType: n.RecordType,
				}
				if ReleasedBy(e) {
					nr.Outcome, nr.Fields = e.Outcome, slices.Clone(e.FieldsDisclosed)
				}
				if n.Kind == NoticeCorrection {
					r.Corrections = append(r.Corrections, nr)
				} else {
					r.Withdrawals = append(r.Withdrawals, nr)
				}
				continue
			}
			if !Disclosed(e) {
				continue
			}
			r.Disclosures = append(r.Disclosures, disclosure(rec.Index, e, withOfficers))
		}
		if len(recs) < reportPage {
			for _, list := range [][]NoticeReport{r.Corrections, r.Withdrawals} {
				for i := range list {
					list[i].Acknowledged = acks[list[i].Index]
				}
			}
			superseded(r, ackIdx)
			return r, nil
		}
	}
}

// superseded sets SupersededBy on the report's notices as the stores set
// SentNotice.SupersededBy: a notice is superseded by the first later notice
// to the same recipient that refers to it, sent before its first
// acknowledgement (ackIdx, by notice). Only notices the report lists are
// looked at, so none is said superseded by a notice left out of it.
func superseded(r *AccessReport, ackIdx map[int64]int64) {
	byIndex := map[int64]*NoticeReport{}
	var all []*NoticeReport
	for _, list := range [][]NoticeReport{r.Corrections, r.Withdrawals} {
		for i := range list {
			byIndex[list[i].Index] = &list[i]
			all = append(all, &list[i])
		}
	}
	slices.SortFunc(all, func(a, b *NoticeReport) int { return cmp.Compare(a.Index, b.Index) })
	for _, m := range all {
		for _, ref := range m.RefersTo {
			n := byIndex[ref]
			if n == nil || n.Index >= m.Index || n.Recipient != m.Recipient || n.SupersededBy != 0 {
				continue
			}
			if ack, ok := ackIdx[n.Index]; ok && ack < m.Index {
				continue // acknowledged before the later notice was sent
			}
			n.SupersededBy = m.Index
		}
	}
}

func disclosure(index int64, e *Entry, withOfficers bool) Disclosure {
	d := Disclosure{
		Index: index, Time: e.Time, Action: e.Action, RequestID: e.RequestID, Outcome: e.Outcome,
		RecordType: e.RecordType, Purpose: e.Purpose, LegalBasis: e.LegalBasis,
		Fields: slices.Clone(e.FieldsDisclosed),
	}
	if e.Holder != nil {
		d.Holder = e.Holder.Agency
	}
	for _, p := range e.Recipients {
		d.Recipients = append(d.Recipients, p.Agency)
	}
	if e.Requester != nil {
		d.Requester = e.Requester.Agency
		if withOfficers {
			d.Officer = e.Requester.Officer
		}
	}
	return d
}
