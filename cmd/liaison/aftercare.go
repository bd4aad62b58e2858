package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const correctUsage = `usage: liaison correct -record FILE -justification TEXT [flags]

Sends the corrected version of a record your agency released earlier to
every agency that received it (LED Art. 7(3) and 16(6), GDPR Art. 19),
through a gateway's Aftercare service, as an officer of your agency (mTLS
and an officer token). The gateway finds the recipients in its log,
decides each again under today's policy and delivers the correction in the
form that recipient was entitled to (the original field plan and
pseudonym domain), or, where today's law no longer allows that, a
withdrawal notice that obliges erasure (or restriction, for a recipient
that keeps the record under its own retention rule since the basis
ended). Agencies that were refused get nothing. A corrected record that
repeats content your agency received through the gateway, other than
from the source the corrected release named, is refused for each
recipient (UNDECLARED_ONWARD_DISCLOSURE): pass it on with a disclosure
that names its provenance. Each notice is one audit entry; recipients
acknowledge it, and auditors list the open ones with "liaison audit
corrections". A recipient that passed the record on finds those releases in its notice (passed_on)
and corrects them in turn with this command: the gateway then decides
with the conditions of the correction it received, or sends a withdrawal
(SOURCE_WITHDRAWN) if its source has withdrawn the record since. A
corrected release notice that moves the release date tells the recipient
of the new date as a notify of release_date_changed would: where the
policy requires that notice to be acknowledged, the command prints its
id and deadline for that recipient (notice_id, acknowledge_by), and the
gateway tracks it ("liaison audit notices"). A recipient in another country, behind a peer gateway, gets the correction
at its own gateway, which decides it again under its own law and tracks
the acknowledgement. If a recipient was sent nothing, because the
correction failed (the keys or the audit log were unavailable: send it
again) or was refused, the command prints every result and the gateway's
words for each recipient sent nothing, and exits 1.

The record is a liaison.v1.Record in protobuf JSON, e.g.
{"releaseNotice": {"subject": {"subjectId": "SYN-DK-0001"}, "releaseDate": "2026-12-22", ...}}

Flags:
`

const withdrawUsage = `usage: liaison withdraw -subject ID -reason REASON -justification TEXT [flags]

Tells every agency that received a record from your agency about a person
to erase it (or, with -restrict, to keep it only restricted): it was
incorrect, unlawfully transmitted or erased at the source (LED Art. 7(3)
and 16(6), GDPR Art. 19). The gateway finds the recipients in its log;
each notice is one audit entry, unread copies are withdrawn from the
recipients' inboxes, and recipients acknowledge it. A recipient that
passed the record on finds those releases in its notice (passed_on) and
withdraws them in turn. A recipient in another country, behind a peer
gateway, gets the notice at its own gateway. If a recipient was sent
nothing (the keys or the audit log were unavailable: withdraw again), the
command prints every result and exits 1.

Flags:
`

// agencyConnFlags are auditConn's flags, for an officer of any role.
func agencyConnFlags(fs *flag.FlagSet, c *auditConn) {
	c.flags(fs)
	fs.Lookup("token").Usage = "officer `token` (or -token-file, or $LIAISON_TOKEN)"
}

func runCorrect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison correct", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), correctUsage); fs.PrintDefaults() }
	conn := auditConn{stderr: stderr}
	agencyConnFlags(fs, &conn)
	recordFile := fs.String("record", "", "`file` with the corrected liaison.v1.Record in protobuf JSON (required)")
	subjectFile := fs.String("subject-attributes", "", "`file` with the subject's liaison.v1.SubjectAttributes now, in protobuf JSON (default: those recorded with each release)")
	var corrects multiFlag
	fs.Var(&corrects, "corrects", "the audit `index` of a release it corrects (repeatable; default: every open release of this record)")
	justification := fs.String("justification", "", "what was wrong, in `words` (required; never the subject's identifier)")
	asJSON := fs.Bool("json", false, "print the gateway's answer as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("correct", fs); err != nil {
		return err
	}
	if *recordFile == "" || *justification == "" {
		fs.Usage()
		return errors.New("correct: -record and -justification are required")
	}
	req := &liaisonv1.CorrectRequest{Record: &liaisonv1.Record{}, Justification: *justification}
	if err := readProtoJSON(*recordFile, req.Record); err != nil {
		return fmt.Errorf("correct: -record: %v", err)
	}
	if *subjectFile != "" {
		req.Subject = &liaisonv1.SubjectAttributes{}
		if err := readProtoJSON(*subjectFile, req.Subject); err != nil {
			return fmt.Errorf("correct: -subject-attributes: %v", err)
		}
	}
	var err error
	if req.Corrects, err = indexes(corrects); err != nil {
		return fmt.Errorf("correct: -corrects: %v", err)
	}
	c, err := conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := liaisonv1.NewAftercareClient(c).Correct(ctx, req)
	if err != nil {
		return fmt.Errorf("correct: %v", err)
	}
	if *asJSON {
		if err := printJSON(stdout, resp); err != nil {
			return err
		}
	} else {
		printNoticeResults(stdout, resp.GetResults())
	}
	return noticeFailures("correct", resp.GetResults())
}

func runWithdraw(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison withdraw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), withdrawUsage); fs.PrintDefaults() }
	conn := auditConn{stderr: stderr}
	agencyConnFlags(fs, &conn)
	var req liaisonv1.WithdrawRequest
	fs.StringVar(&req.SubjectId, "subject", "", "the subject's `identifier` in your agency's records (required)")
	recordType := fs.String("record-type", "", "only releases of this record `type` (release_notice, risk_assessment, ...); default all")
	var withdraws multiFlag
	fs.Var(&withdraws, "withdraws", "the audit `index` of a release withdrawn (repeatable; default: every open release about the subject)")
	reason := fs.String("reason", "", "`why`: incorrect, unlawfully_transmitted or erased_at_source (required)")
	restrict := fs.Bool("restrict", false, "oblige the recipients to restrict the data (LED Art. 16(3)) instead of erasing it")
	fs.StringVar(&req.Justification, "justification", "", "the officer's reason, in `words` (required; never the subject's identifier)")
	asJSON := fs.Bool("json", false, "print the gateway's answer as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("withdraw", fs); err != nil {
		return err
	}
	if req.SubjectId == "" || *reason == "" || req.Justification == "" {
		fs.Usage()
		return errors.New("withdraw: -subject, -reason and -justification are required")
	}
	r, ok := liaisonv1.WithdrawalReason_value["WITHDRAWAL_REASON_"+strings.ToUpper(*reason)]
	if !ok || r == 0 {
		return fmt.Errorf("withdraw: -reason %q: want incorrect, unlawfully_transmitted or erased_at_source", *reason)
	}
	req.Reason = liaisonv1.WithdrawalReason(r)
	if *recordType != "" {
		rt, ok := liaisonv1.RecordType_value["RECORD_TYPE_"+strings.ToUpper(*recordType)]
		if !ok || rt == 0 {
			return fmt.Errorf("withdraw: -record-type %q is not a record type", *recordType)
		}
		req.RecordType = liaisonv1.RecordType(rt)
	}
	if *restrict {
		req.Obligation = liaisonv1.Obligation_OBLIGATION_RESTRICT
	}
	var err error
	if req.Withdraws, err = indexes(withdraws); err != nil {
		return fmt.Errorf("withdraw: -withdraws: %v", err)
	}
	c, err := conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := liaisonv1.NewAftercareClient(c).Withdraw(ctx, &req)
	if err != nil {
		return fmt.Errorf("withdraw: %v", err)
	}
	if *asJSON {
		if err := printJSON(stdout, resp); err != nil {
			return err
		}
	} else {
		printNoticeResults(stdout, resp.GetResults())
	}
	return noticeFailures("withdraw", resp.GetResults())
}

// auditCorrections lists the obligation notices not yet acknowledged (or
// all of them).
func auditCorrections(ctx context.Context, conn *auditConn, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	all := fs.Bool("all", false, "also list closed notices: acknowledged, or superseded by a later notice before they were acknowledged")
	recipient := fs.String("recipient", "", "only notices to this recipient agency `id`")
	kind := fs.String("kind", "", "only notices of this `kind`: correction, withdrawal or expiry")
	olderThan := fs.Duration("older-than", 0, "only notices sent at least this `long` ago (e.g. 168h: open for a week)")
	forwardPending := fs.Bool("forward-pending", false, "only notices acknowledged here whose acknowledgement the gateway they came from (a peer that did not answer or refused it, or one offboarded or no longer listed here) has not taken yet (the list says why)")
	limit := decimalFlag(fs, "limit", 100, "at most this many `notices` (1 to 1000)")
	start := decimalFlag[int64](fs, "start", 0, "only notices with an audit `index` at or after this one: to read the next page, the one the command names after a full page")
	asJSON := fs.Bool("json", false, "print the gateway's answer as JSON (protojson): one object, the notices in \"notices\"")
	zone := zoneFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("audit corrections", fs); err != nil {
		return err
	}
	loc, err := zone("audit corrections")
	if err != nil {
		return err
	}
	lim, err := limitFlag("audit corrections", *limit)
	if err != nil {
		return err
	}
	req := &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: *all, Recipient: *recipient, Limit: lim, ForwardPendingOnly: *forwardPending, Start: *start}
	if *kind != "" {
		// The kind in the one spelling -h names (and the list prints):
		// "Correction" or "CORRECTION" is not another name for it.
		k, ok := liaisonv1.ObligationKind_value["OBLIGATION_KIND_"+strings.ToUpper(*kind)]
		if !ok || k == 0 || *kind != strings.ToLower(*kind) {
			return fmt.Errorf("audit corrections: -kind %q: want correction, withdrawal or expiry", *kind)
		}
		req.Kind = liaisonv1.ObligationKind(k)
	}
	// A negative duration is no age: it was dropped, and every notice
	// listed as if the flag had not been given.
	if *olderThan < 0 {
		return fmt.Errorf("audit corrections: -older-than %v: want a duration of 0 or more, e.g. 168h", *olderThan)
	}
	if *olderThan > 0 {
		req.SentBefore = timestamppb.New(time.Now().Add(-*olderThan))
	}
	c, err := conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := liaisonv1.NewAftercareClient(c).ListObligationNotices(ctx, req)
	if err != nil {
		return fmt.Errorf("audit corrections: %v", err)
	}
	// A full page may not be the last: say where the next one starts (on
	// standard error with -json, as audit query does, so that standard
	// output stays the JSON).
	var nextPage string
	if ns := resp.GetNotices(); len(ns) == int(lim) {
		nextPage = fullPage(len(ns), "notice", "notices", ns[len(ns)-1].GetAuditIndex()+1)
	}
	if *asJSON {
		fmt.Fprint(stderr, nextPage)
		return printJSON(stdout, resp)
	}
	if len(resp.GetNotices()) == 0 {
		// What the gateway found says nothing of the notices the filters
		// left out: "every notice sent has been acknowledged" is said of
		// all of them, never of one recipient's, kind or period.
		var filters []string
		if *recipient != "" {
			filters = append(filters, "-recipient "+*recipient)
		}
		if *kind != "" {
			filters = append(filters, "-kind "+*kind)
		}
		if *olderThan > 0 {
			filters = append(filters, "-older-than "+olderThan.String())
		}
		if *start > 0 {
			filters = append(filters, fmt.Sprintf("-start %d", *start))
		}
		open := " open"
		if *all {
			open = ""
		}
		switch {
		case len(filters) > 0:
			if *forwardPending {
				filters = append(filters, "-forward-pending")
			}
			fmt.Fprintf(stdout, "No%s correction, withdrawal or expiry notice matches %s.\n", open, strings.Join(filters, " "))
		case *forwardPending:
			fmt.Fprintln(stdout, "No acknowledgement made here waits to be forwarded to a peer gateway.")
		case *all:
			fmt.Fprintln(stdout, "No correction, withdrawal or expiry notice has been sent.")
		default:
			fmt.Fprintln(stdout, "Every correction, withdrawal and expiry notice sent has been acknowledged or superseded.")
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tSENT ("+loc.String()+")\tKIND\tRECIPIENT\tHOLDER\tREFERS TO\tREASON\tOBLIGATION\tACKNOWLEDGED")
	for _, n := range resp.GetNotices() {
		acked := "open"
		if n.GetAcknowledged() != nil {
			acked = fmt.Sprintf("%s (entry %d)", n.GetAcknowledged().AsTime().In(loc).Format("2006-01-02 15:04"), n.GetAcknowledgementIndex())
		} else if n.GetSupersededBy() > 0 {
			acked = fmt.Sprintf("superseded by entry %d", n.GetSupersededBy())
		}
		if n.GetForwardPending() {
			acked += ", not forwarded to the peer gateway yet" + forwardWaitWords(n.GetForwardPendingReason())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.GetAuditIndex(), n.GetSent().AsTime().In(loc).Format("2006-01-02 15:04"),
			enumWord(n.GetKind().String(), "OBLIGATION_KIND_"), n.GetRecipient(), n.GetHolder(), audit.FormatIndexes(n.GetRefersTo()),
			n.GetReason(), enumWord(n.GetObligation().String(), "OBLIGATION_"), acked)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(stdout, nextPage)
	return nil
}

// forwardWaitWords says why an acknowledgement's forward waits, after
// the listings' "not forwarded yet" (ListedNotice.forward_pending_reason,
// TrackedNotice.forward_pending_reason), in the words audit.ForwardWaits
// gives it, which the console's notices page gives too: "" for none, a
// code it does not know as it is.
func forwardWaitWords(reason string) string {
	if reason == "" {
		return ""
	}
	if w, ok := audit.ForwardWaits[reason]; ok {
		return ": " + w
	}
	return ": " + reason
}

// escalationStandingWords says why a required notice's escalation went
// to its sender alone, or no acknowledgement is to be expected
// (TrackedNotice.escalation_recipient_standing), in the words
// audit.EscalationStandings gives it, which the console's notices page
// gives too: "" for none, a value it does not know as it is.
func escalationStandingWords(standing string) string {
	if standing == "" {
		return ""
	}
	if w, ok := audit.EscalationStandings[standing]; ok {
		return " (" + w + ")"
	}
	return " (" + standing + ")"
}

// escalationSenderWords says why the copy of a required notice's
// escalation meant for its sender went nowhere, so that the sender was
// not told (TrackedNotice.escalation_sender_standing), in the words
// audit.SenderStandings gives it, which the console's notices page gives
// too: "" for none, a value it does not know as it is, after "sender".
func escalationSenderWords(standing string) string {
	if standing == "" {
		return ""
	}
	if w, ok := audit.SenderStandings[standing]; ok {
		return " (" + w + ")"
	}
	return " (sender " + standing + ")"
}

// noticeFailures is an error if a recipient was sent nothing (the keys
// or the audit log were unavailable, or the correction was refused), so
// that the command exits 1 and a script does not take it for done; nil if
// every recipient was sent a notice.
func noticeFailures(verb string, rs []*liaisonv1.NoticeResult) error {
	var failed []string
	for _, r := range rs {
		if f := r.GetFailure(); f != nil {
			failed = append(failed, fmt.Sprintf("%s (release %d: %s)", r.GetRecipient(), r.GetRefersTo(), f.GetReason()))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d of %d recipients were sent nothing: %s", verb, len(failed), len(rs), strings.Join(failed, ", "))
}

// printNoticeResults prints what each recipient was sent.
func printNoticeResults(w io.Writer, rs []*liaisonv1.NoticeResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECIPIENT\tRELEASE\tSENT\tOUTCOME\tOBLIGATION\tENTRY\tREASONS")
	for _, r := range rs {
		sent := enumWord(r.GetKind().String(), "OBLIGATION_KIND_")
		if f := r.GetFailure(); f != nil {
			sent = "nothing: " + f.GetCode() + " " + f.GetReason()
		}
		outcome := "-"
		if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_UNSPECIFIED {
			outcome = enumWord(r.GetOutcome().String(), "OUTCOME_")
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\n", r.GetRecipient(), r.GetRefersTo(), sent, outcome,
			enumWord(r.GetObligation().String(), "OBLIGATION_"), r.GetAuditIndex(), dash(strings.Join(r.GetReasons(), ", ")))
	}
	tw.Flush()
	// Why nothing was sent, in the gateway's words: what to do instead.
	for _, r := range rs {
		if f := r.GetFailure(); f != nil && f.GetMessage() != "" {
			fmt.Fprintf(w, "release %d to %s (entry %d): %s\n", r.GetRefersTo(), r.GetRecipient(), r.GetAuditIndex(), f.GetMessage())
		}
	}
	// A correction that moves the release date carries a required notice
	// of the new date: the recipient must acknowledge it by its deadline.
	for _, r := range rs {
		if r.GetNoticeId() != "" {
			fmt.Fprintf(w, "release %d to %s (entry %d): the new release date is a required notice, %s, to be acknowledged by %s\n",
				r.GetRefersTo(), r.GetRecipient(), r.GetAuditIndex(), r.GetNoticeId(), r.GetAcknowledgeBy())
		}
	}
}

// enumWord writes an enum value name as a lower-case word.
func enumWord(name, prefix string) string {
	w := strings.ToLower(strings.TrimPrefix(name, prefix))
	if w == "unspecified" {
		return "-"
	}
	return w
}

// readProtoJSON reads a message in protobuf JSON from a file. A file that
// does not parse is named with where it went wrong, never with what it
// holds there: protojson quotes the offending value ("invalid value
// SYN-NL-0001"), which in a record or a subject's attributes may be the
// subject's identifier, and this error reaches the terminal and whatever
// keeps its output.
func readProtoJSON(path string, m proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		msg := fmt.Sprintf("%s is not a %s in protobuf JSON", path, m.ProtoReflect().Descriptor().FullName())
		if at := protoJSONPos.FindString(err.Error()); at != "" {
			msg += " " + at
		}
		return errors.New(msg)
	}
	return nil
}

// protoJSONPos finds where a protojson error says a file went wrong.
var protoJSONPos = regexp.MustCompile(`\(line \d+:\d+\)`)

func indexes(vs []string) ([]int64, error) {
	var out []int64
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			xs, err := audit.ParseIndexes(strings.TrimSpace(f))
			if err != nil {
				return nil, err
			}
			out = append(out, xs...)
		}
	}
	return out, nil
}
