package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// RestrictedCondition marks a disclosure whose communication to the data
// subject is restricted under LED Art. 15 (for example to avoid
// obstructing an inquiry). Policies attach it; the access report leaves
// such entries out and says only that restrictions may apply.
const RestrictedCondition = "LED_ART15_RESTRICTED"

// disclosed reports whether an entry records data leaving a holder.
func disclosed(e *audit.Entry) bool {
	switch e.Outcome {
	case "disclose", "pseudonymise", "hit_only":
		return e.Action != audit.ActionAuditRead
	}
	return false
}

// subjectReport writes a data-subject access report: which recipients got
// what about the subject, when, for which purpose and under which legal
// basis (CJEU C-154/21: recipients by identity). Officers are withheld
// unless asked for (C-579/21). Entries restricted under LED Art. 15 are
// left out.
func subjectReport(ctx context.Context, ac liaisonv1.AuditClient, subject string, withOfficers bool, w io.Writer) error {
	var entries []*audit.Entry
	var pseudonym string
	for start := int64(0); ; {
		resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{SubjectId: subject, Start: start, Limit: 1000})
		if err != nil {
			return fmt.Errorf("audit report: %v", err)
		}
		for _, le := range resp.GetEntries() {
			e, err := audit.Unmarshal([]byte(le.GetJson()))
			if err != nil {
				return err
			}
			if e.Subject != nil {
				pseudonym = e.Subject.Pseudonym
			}
			entries = append(entries, e)
			start = le.GetIndex() + 1
		}
		if len(resp.GetEntries()) < 1000 {
			break
		}
	}
	restricted := 0
	var shown []*audit.Entry
	for _, e := range entries {
		if !disclosed(e) {
			continue
		}
		if slices.Contains(e.Conditions, RestrictedCondition) {
			restricted++
			continue
		}
		shown = append(shown, e)
	}
	fmt.Fprintln(w, "DATA-SUBJECT ACCESS REPORT (GDPR Art. 15, LED Art. 14)")
	fmt.Fprintf(w, "Produced %s from the Liaison disclosure log.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if pseudonym != "" {
		fmt.Fprintf(w, "The log refers to the person by the pseudonym %s; it holds no identifier.\n", pseudonym)
	}
	fmt.Fprintln(w)
	if len(shown) == 0 {
		fmt.Fprintln(w, "No disclosure of information about this person is recorded.")
	}
	for i, e := range shown {
		fmt.Fprintf(w, "%d. %s: %s\n", i+1, e.Time.UTC().Format("2006-01-02"), describeRecord(e))
		fmt.Fprintf(w, "   from:       %s\n", partyID(e.Holder))
		var rcpt []string
		for _, r := range e.Recipients {
			rcpt = append(rcpt, r.Agency)
		}
		fmt.Fprintf(w, "   to:         %s\n", strings.Join(rcpt, ", "))
		fmt.Fprintf(w, "   purpose:    %s\n", strings.ReplaceAll(e.Purpose, "_", " "))
		if e.LegalBasis != nil {
			fmt.Fprintf(w, "   legal basis: %s (%s)\n", e.LegalBasis.Citation, e.LegalBasis.ID)
		}
		if withOfficers && e.Requester != nil {
			fmt.Fprintf(w, "   officer:    %s of %s\n", e.Requester.Officer, e.Requester.Agency)
		}
		fmt.Fprintf(w, "   log entry:  %s (request %s)\n", e.Action, e.RequestID)
	}
	fmt.Fprintln(w)
	if !withOfficers {
		fmt.Fprintln(w, "The identities of the officers who consulted the data are not included (CJEU C-579/21);")
		fmt.Fprintln(w, "they are in the log and available to the supervisory authority.")
	}
	fmt.Fprintln(w, "Some information may be withheld where the law restricts access (LED Art. 15).")
	_ = restricted // never printed: the count itself could reveal a restricted disclosure
	return nil
}

func describeRecord(e *audit.Entry) string {
	rec := strings.ReplaceAll(e.RecordType, "_", " ")
	switch e.Outcome {
	case "pseudonymise":
		return rec + ", pseudonymised (without name or identifiers)"
	case "hit_only":
		return "whether a " + rec + " exists"
	}
	return rec
}
