package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// subjectReport asks the gateway for a data-subject access report and
// renders it. The gateway applies the legal rules (only real releases,
// LED Art. 15 restrictions, officers withheld unless asked for, CJEU
// C-579/21); this only renders its answer.
func subjectReport(ctx context.Context, ac liaisonv1.AuditClient, subject string, withOfficers bool, loc *time.Location, w io.Writer) error {
	resp, err := ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: subject, WithOfficers: withOfficers})
	if err != nil {
		return fmt.Errorf("audit report: %v", err)
	}
	renderReport(w, resp, loc)
	return nil
}

// renderReport writes an access report as text for the data subject:
// which recipients got what about them, when, for which purpose and under
// which legal basis (CJEU C-154/21: recipients by identity). Times and
// days are those of loc, named once at the top.
func renderReport(w io.Writer, r *liaisonv1.AccessReportResponse, loc *time.Location) {
	fmt.Fprintln(w, "DATA-SUBJECT ACCESS REPORT (GDPR Art. 15, LED Art. 14)")
	fmt.Fprintf(w, "Produced %s from the Liaison disclosure log.\n", r.GetProduced().AsTime().In(loc).Format("2006-01-02 15:04 MST"))
	if loc != time.UTC {
		fmt.Fprintf(w, "Dates are days in the time zone %s.\n", loc)
	}
	if r.GetSubjectPseudonym() != "" {
		fmt.Fprintf(w, "The log refers to the person by the pseudonym %s; it holds no identifier.\n", identifier(r.GetSubjectPseudonym()))
	}
	fmt.Fprintln(w)
	if len(r.GetDisclosures()) == 0 {
		fmt.Fprintln(w, "No disclosure of information about this person is recorded.")
	}
	for i, d := range r.GetDisclosures() {
		fmt.Fprintf(w, "%d. %s: %s\n", i+1, d.GetTime().AsTime().In(loc).Format("2006-01-02"), describeRecord(d))
		fmt.Fprintf(w, "   from:       %s\n", identifier(dash(d.GetHolder())))
		fmt.Fprintf(w, "   to:         %s\n", identifier(dash(strings.Join(d.GetRecipients(), ", "))))
		fmt.Fprintf(w, "   purpose:    %s\n", dash(strings.ReplaceAll(d.GetPurpose(), "_", " ")))
		if lb := d.GetLegalBasis(); lb != nil {
			fmt.Fprintf(w, "   legal basis: %s (%s)\n", printable(lb.GetCitation()), identifier(lb.GetId()))
		}
		if d.GetOfficer() != "" { // whatever the agency's token said: shown, never obeyed
			fmt.Fprintf(w, "   officer:    %s of %s\n", identifier(d.GetOfficer()), identifier(d.GetRequester()))
		}
		fmt.Fprintf(w, "   log entry:  %d, %s (request %s)\n", d.GetIndex(), d.GetAction(), d.GetRequestId())
	}
	if len(r.GetCorrections())+len(r.GetWithdrawals()) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Sent to the recipients on the person's behalf (GDPR Art. 19, LED Art. 16(6)):")
	}
	for i, n := range append(append([]*liaisonv1.ReportedNotice{}, r.GetCorrections()...), r.GetWithdrawals()...) {
		fmt.Fprintf(w, "%d. %s: %s\n", i+1, n.GetTime().AsTime().In(loc).Format("2006-01-02"), describeNotice(n))
		fmt.Fprintf(w, "   to:         %s\n", dash(n.GetRecipient()))
		fmt.Fprintf(w, "   from:       %s\n", dash(n.GetHolder()))
		acked := "not yet"
		switch {
		case n.GetAcknowledged() != nil:
			acked = n.GetAcknowledged().AsTime().In(loc).Format("2006-01-02")
		case n.GetSupersededBy() > 0:
			acked = fmt.Sprintf("no: replaced, before it was, by the notice in log entry %d", n.GetSupersededBy())
		}
		fmt.Fprintf(w, "   acknowledged: %s\n", acked)
		fmt.Fprintf(w, "   log entry:  %d, about %s\n", n.GetIndex(), entriesWord(n.GetRefersTo()))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Only information that left an agency is listed; requests that released nothing are not disclosures.")
	if r.GetOfficersWithheld() {
		fmt.Fprintln(w, "The identities of the officers who consulted the data are not included (CJEU C-579/21);")
		fmt.Fprintln(w, "they are in the log and available to the supervisory authority.")
	}
	fmt.Fprintln(w, "Some information may be withheld where the law restricts access (LED Art. 15).")
}

// entriesWord names the log entries a notice is about: "entry 2",
// "entries 2, 5", never "entries 2" for one.
func entriesWord(xs []int64) string {
	if len(xs) == 1 {
		return fmt.Sprintf("entry %d", xs[0])
	}
	return "entries " + strings.ReplaceAll(audit.FormatIndexes(xs), ",", ", ")
}

func describeRecord(d *liaisonv1.ReportedDisclosure) string {
	switch d.GetAction() {
	case "reidentify":
		return "the person's identity, behind a pseudonym (re-identification)"
	case "translate":
		return "the person's pseudonym in another agency's domain"
	}
	rec := dash(strings.ReplaceAll(d.GetRecordType(), "_", " "))
	switch d.GetOutcome() {
	case "pseudonymise":
		return rec + ", pseudonymised (without name or identifiers)"
	case "hit_only":
		return "whether a " + rec + " exists"
	}
	return rec
}

// describeNotice says what a correction, withdrawal or expiry notice asked.
func describeNotice(n *liaisonv1.ReportedNotice) string {
	rec := dash(strings.ReplaceAll(n.GetRecordType(), "_", " "))
	switch n.GetKind() {
	case audit.NoticeCorrection:
		// A correction is itself a release, listed here and not among
		// the disclosures: it says in what form it left, as they do.
		if n.GetOutcome() == audit.OutcomePseudonymise {
			return "a correction of the " + rec + ", pseudonymised (without name or identifiers), to be rectified"
		}
		return "a correction of the " + rec + ", to be rectified"
	case audit.NoticeExpiry:
		if n.GetObligation() == audit.ObligationRetain {
			return "the legal basis of the " + rec + " ended: to be kept only under a retention rule, then erased"
		}
		return "the legal basis of the " + rec + " ended: to be erased"
	}
	why, ok := audit.NoticeReasons[n.GetReason()]
	if !ok {
		// A code this command does not know is named, not guessed at.
		why = "reason " + dash(identifier(n.GetReason()))
	}
	verb := "erased"
	if n.GetObligation() == audit.ObligationRestrict {
		verb = "restricted"
	}
	return "the " + rec + " withdrawn (" + why + "), to be " + verb
}
