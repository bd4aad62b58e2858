package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

const caseUsage = `usage: liaison case <command> [flags]

Multi-agency cases (a Safety House case consultation, an LIVC-R, a case
conference): one agency leads a case about one person, invites others, who
accept or decline; members leave or are removed; the lead hands the lead
over or closes the case. Every change is decided by the policy of the
case's jurisdiction and is an audit entry. Commands talk to a gateway's
Cases service over mTLS, as an officer of your agency (its certificate and
an officer token).

	open      open a case about a person, led by your agency (-id, -kind, -subject)
	invite    invite an agency into a case you lead (-id, -agency)
	accept    accept your agency's invitation (-id)
	decline   decline your agency's invitation (-id)
	leave     end your agency's membership (-id)
	remove    remove a member, or withdraw an invitation, from a case you lead (-id, -agency)
	handover  make another member the lead of a case you lead (-id, -agency)
	close     close a case you lead (-id)
	show      print a case your agency is in or invited to (-id)
	list      list the cases your agency is in or invited to
	import    move the registry file's cases into the gateway's store (an operator's
	          command: -registry, -audit-db), so that the Cases service manages them
	close-orphaned
	          close a case whose lead agency is offboarded or no longer registered,
	          telling its members (an operator's command: -id, -registry, -audit-db,
	          -operator, and the gateway's keys: -keys or -vault-addr)
	handover-orphaned
	          make a member the lead of a case whose lead agency is offboarded, so
	          that the case goes on (an operator's command: -id, -lead, -registry,
	          -audit-db, -operator, the gateway's keys and its policy: -policies)

Every change by an agency needs -justification: why, in words (never the
person's identifier). Run "liaison case <command> -h" for its flags.
`

// caseHelp says what each case command does.
var caseHelp = map[string]string{
	"open":     "Opens a case about a person, led by your agency: the policy decides whether your agency may lead a case of -kind.",
	"invite":   "Invites -agency into case -id. Only the lead invites, and only agencies of the kinds the case's kind admits.",
	"accept":   "Accepts your agency's invitation to case -id. No agency accepts on another's behalf.",
	"decline":  "Declines your agency's invitation to case -id.",
	"leave":    "Ends your agency's membership of case -id; from then on it exchanges nothing on the case's basis. The lead hands over first.",
	"remove":   "Removes -agency from case -id, or withdraws its invitation. Only the lead removes. An agency offboarded, or no longer in the gateway's registry, is removed too while it is in the case.",
	"handover": "Makes member -agency the lead of case -id. Only the lead hands over, to a member of a kind that may lead.",
	"close":    "Closes case -id: no exchange rests on it any more. Only the lead closes.",
	"show":     "Prints case -id, with every agency's standing. Your agency must be a member or invited.",
	"list":     "Lists the cases your agency is a member of or invited to.",
	"import": "Moves the cases the registry file declares into the gateway's audit store, each with an audit entry (case_import), so that the Cases service manages them; the gateway serves a case of the file until then. " +
		"Each needs a kind the gateway's policy (-policies) knows in the jurisdiction of the case's lead: the file's kind, or -kind; a case without one is skipped, as the policy would let nobody join or lead it. " +
		"A case the store holds already is skipped. Remove the cases from the file afterwards.",
	"close-orphaned": "Closes case -id when its lead agency is offboarded, or no longer in the registry file (-registry): only the lead closes a case, and an offboarded agency's calls are refused, so nobody else could. " +
		"An operator's command on the gateway's audit store (-audit-db), which may run while the gateway does: one audit entry (case_operator_close) names -operator and why the lead cannot close it; from then on nobody exchanges on the case (CASE_CLOSED). " +
		"A case whose lead may still act is refused: the lead closes it, or hands the lead over first. " +
		"Its members get a CaseUpdate in their inboxes, as for a lead's close, saying the operator closed it and why (change case_operator_close, by_operator, lead_standing), delivered with the entry: " +
		"the command seals it with the gateway's pseudonym keys, so it needs them (-keys, the gateway's key file, or Vault with -vault-addr and the gateway's Vault flags); it never creates a key file. " +
		"Every attempt is one entry: a refused one too (outcome refused, with its reason: LEAD_CAN_ACT, CASE_CLOSED, CASE_CHANGED...), which the error names. To let the case go on instead, hand its lead to a member with handover-orphaned.",
	"handover-orphaned": "Makes member -lead the lead of case -id when its lead agency is offboarded, so that the case goes on rather than be closed: an offboarded agency's calls are refused, so it can no longer hand the lead over itself. " +
		"An operator's command on the gateway's audit store (-audit-db), which may run while the gateway does. The new lead must be registered (-registry) and not offboarded (AGENCY_OFFBOARDED), and a current member other than the lead (NEW_LEAD_NOT_A_MEMBER); " +
		"the gateway's policy (-policies) decides, as it decides a lead's own handover (case_handover; e.g. LEAD_KIND_NOT_ALLOWED), the former lead being the requester as the registry describes it. " +
		"A lead no longer in the registry cannot be described to the policy (LEAD_UNREGISTERED): list it again, marked offboarded, first. A case whose lead may still act is refused (LEAD_CAN_ACT): the lead hands over itself. " +
		"Every attempt is one audit entry (case_operator_handover), refused or denied ones too, naming -operator; the former lead stays a member, which the new lead may remove. " +
		"The members, the new lead included, get a CaseUpdate (change case_operator_handover, by_operator, lead_standing), sealed with the gateway's keys (-keys or -vault-addr; never a new key file).",
}

// officerFlags registers the flags that reach a gateway as an officer.
func (a *auditConn) officerFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.gateway, "gateway", "127.0.0.1:8443", "gateway `address`")
	fs.StringVar(&a.cert, "cert", "", "your agency's client certificate `file` (PEM)")
	fs.StringVar(&a.key, "key", "", "its private key `file` (PEM)")
	fs.StringVar(&a.ca, "ca", "", "CA `file` the gateway's certificate chains to")
	fs.StringVar(&a.token, "token", "", "your officer `token` (or -token-file, or $LIAISON_TOKEN)")
	fs.StringVar(&a.tokenFile, "token-file", "", "`file` holding the officer token (one that cannot be read or is empty is an error, never skipped for $LIAISON_TOKEN)")
}

func runCase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, caseUsage)
		if len(args) == 0 {
			return errors.New("case: no command")
		}
		return flag.ErrHelp
	}
	cmd := args[0]
	switch cmd {
	case "import":
		return runCaseImport(ctx, args[1:], stdout, stderr)
	case "close-orphaned":
		return runCaseCloseOrphaned(ctx, args[1:], stdout, stderr)
	case "handover-orphaned":
		return runCaseHandoverOrphaned(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("liaison case "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: liaison case %s [flags]\n\n%s\n\nFlags:\n", cmd, caseHelp[cmd])
		fs.PrintDefaults()
	}
	conn := auditConn{stderr: stderr}
	conn.officerFlags(fs)
	jsonUsage := "print the case as JSON (protojson)"
	if cmd == "list" {
		jsonUsage = "print each case as JSON (protojson), one a line"
	}
	asJSON := fs.Bool("json", false, jsonUsage)
	var id, agency, justification *string
	needID := func() { id = fs.String("id", "", "the case `id`, e.g. NL-ZVH-RTM-0042") }
	needAgency := func(what string) { agency = fs.String("agency", "", "the `agency` id "+what) }
	needWhy := func() {
		justification = fs.String("justification", "", "why, in `words` (required; never the person's identifier)")
	}
	var open liaisonv1.OpenCaseRequest
	var attrs struct {
		category, release, probation, municipality string
		custody                                    bool
	}
	var status string
	switch cmd {
	case "open":
		needID()
		needWhy()
		fs.StringVar(&open.Kind, "kind", "", "the policy's case `kind`, e.g. nl.zvh, be.livcr, de_ni.fallkonferenz (policies/README.md lists them)")
		fs.StringVar(&open.SubjectId, "subject", "", "the person's `identifier` in your records (the gateway keeps only its audit pseudonym)")
		fs.StringVar(&attrs.category, "category", "convicted", "the person's `category`: convicted, suspect, victim or other")
		fs.BoolVar(&attrs.custody, "in-custody", false, "the person is in custody now")
		fs.StringVar(&attrs.release, "release-date", "", "scheduled or actual release `date`, YYYY-MM-DD")
		fs.StringVar(&attrs.probation, "probation-until", "", "last `day` of probation, YYYY-MM-DD")
		fs.StringVar(&attrs.municipality, "municipality", "", "the `municipality` the person lives or will live in")
	case "invite":
		needID()
		needAgency("to invite")
		needWhy()
	case "remove":
		needID()
		needAgency("to remove")
		needWhy()
	case "handover":
		needID()
		needAgency("of the member that becomes the lead")
		needWhy()
	case "accept", "decline", "leave", "close":
		needID()
		needWhy()
	case "show":
		needID()
	case "list":
		fs.StringVar(&status, "status", "", "only cases with this `status`: open or closed (default both)")
	default:
		fmt.Fprint(stderr, caseUsage)
		return fmt.Errorf("case: unknown command %q", cmd)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("case %s: unexpected arguments %v", cmd, fs.Args())
	}
	if id != nil && *id == "" {
		return fmt.Errorf("case %s: -id is required", cmd)
	}
	if agency != nil && *agency == "" {
		return fmt.Errorf("case %s: -agency is required", cmd)
	}
	if justification != nil && strings.TrimSpace(*justification) == "" {
		return fmt.Errorf("case %s: -justification is required", cmd)
	}
	// The category in the one spelling -h names, checked before the
	// call: Convicted or unspecified went to the gateway, which refused
	// the latter only there.
	if cmd == "open" && !slices.Contains([]string{"convicted", "suspect", "victim", "other"}, attrs.category) {
		return fmt.Errorf("case open: -category %q: want convicted, suspect, victim or other", attrs.category)
	}
	c, err := conn.dial()
	if err != nil {
		return fmt.Errorf("case %s: %v", cmd, strings.TrimPrefix(err.Error(), "audit: "))
	}
	defer c.Close()
	cl := liaisonv1.NewCasesClient(c)
	var got *liaisonv1.Case
	var idx int64 = -1
	switch cmd {
	case "open":
		cat := liaisonv1.SubjectCategory_value["SUBJECT_CATEGORY_"+strings.ToUpper(attrs.category)]
		open.CaseId, open.Justification = *id, *justification
		open.Subject = &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory(cat), InCustody: attrs.custody,
			ReleaseDate: attrs.release, ProbationUntil: attrs.probation, Municipality: attrs.municipality}
		r, err := cl.OpenCase(ctx, &open)
		if err != nil {
			return fmt.Errorf("case open: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "invite":
		r, err := cl.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: *id, Agency: *agency, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case invite: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "remove":
		r, err := cl.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: *id, Agency: *agency, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case remove: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "handover":
		r, err := cl.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: *id, Agency: *agency, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case handover: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "accept":
		r, err := cl.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: *id, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case accept: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "decline":
		r, err := cl.DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: *id, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case decline: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "leave":
		r, err := cl.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: *id, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case leave: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "close":
		r, err := cl.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: *id, Justification: *justification})
		if err != nil {
			return fmt.Errorf("case close: %v", err)
		}
		got, idx = r.GetCase(), r.GetAuditIndex()
	case "show":
		r, err := cl.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: *id})
		if err != nil {
			return fmt.Errorf("case show: %v", err)
		}
		got = r.GetCase()
	case "list":
		req := &liaisonv1.ListCasesRequest{}
		switch status {
		case "":
		case "open":
			req.Status = liaisonv1.CaseStatus_CASE_STATUS_OPEN
		case "closed":
			req.Status = liaisonv1.CaseStatus_CASE_STATUS_CLOSED
		default:
			return fmt.Errorf("case list: -status %q: want open or closed", status)
		}
		r, err := cl.ListCases(ctx, req)
		if err != nil {
			return fmt.Errorf("case list: %v", err)
		}
		if *asJSON {
			for _, x := range r.GetCases() {
				if err := printJSON(stdout, x); err != nil {
					return err
				}
			}
			return nil
		}
		return printCases(stdout, r.GetCases())
	}
	if *asJSON {
		return printJSON(stdout, got)
	}
	return printCase(stdout, got, idx)
}

func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{EmitUnpopulated: false}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// printCases prints the case list for people: "-" for a case with no
// member or no invitation open, never an empty column.
func printCases(w io.Writer, cases []*liaisonv1.Case) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tKIND\tSTATUS\tLEAD\tMEMBERS\tINVITED\tVERSION")
	for _, x := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.GetId(), or(x.GetKind(), "(registry)"), caseStatusWord(x.GetStatus()),
			x.GetLead(), dash(strings.Join(membersWith(x, liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER), ",")),
			dash(strings.Join(membersWith(x, liaisonv1.MemberStatus_MEMBER_STATUS_INVITED), ",")), caseVersion(x))
	}
	return tw.Flush()
}

// caseVersion is a case's version for people: its number, or "(registry
// file)" for a case the registry file manages, which has none (the proto
// gives it version 0).
func caseVersion(c *liaisonv1.Case) string {
	if c.GetManagedByRegistry() {
		return "(registry file)"
	}
	return strconv.FormatInt(c.GetVersion(), 10)
}

// printCase prints a case for people; idx is the audit index of the
// change that made it, or -1.
func printCase(w io.Writer, c *liaisonv1.Case, idx int64) error {
	version := "version " + caseVersion(c)
	if c.GetManagedByRegistry() {
		version = "from the registry file"
	}
	fmt.Fprintf(w, "case %s (%s, %s law) %s: %s, led by %s\n", c.GetId(), or(c.GetKind(), "registry case"),
		or(c.GetJurisdiction(), "?"), version, caseStatusWord(c.GetStatus()), c.GetLead())
	if lb := c.GetLegalBasis(); lb != nil {
		fmt.Fprintf(w, "  held under %s: %s\n", lb.GetId(), lb.GetCitation())
	}
	// A case of the registry file was never opened through the gateway:
	// it has no opening date, nor its members a date they joined.
	fmt.Fprintf(w, "  pseudonym domain %s", c.GetPseudonymDomain())
	if c.GetOpened() != "" {
		fmt.Fprintf(w, "; opened %s", c.GetOpened())
	}
	if c.GetClosed() != "" {
		fmt.Fprintf(w, ", closed %s", c.GetClosed())
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range c.GetMembers() {
		lead := ""
		if m.GetLead() {
			lead = " (lead)"
		}
		line := fmt.Sprintf("  %s%s\t%s", m.GetAgency(), lead, memberStatusWord(m.GetStatus()))
		if m.GetSince() != "" {
			line += "\tsince " + m.GetSince()
		}
		if m.GetBy() != "" {
			line += "\tby " + m.GetBy()
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if idx >= 0 {
		fmt.Fprintf(w, "audit entry #%d\n", idx)
	}
	return nil
}

func membersWith(c *liaisonv1.Case, st liaisonv1.MemberStatus) []string {
	var out []string
	for _, m := range c.GetMembers() {
		if m.GetStatus() == st {
			out = append(out, m.GetAgency())
		}
	}
	return out
}

func caseStatusWord(s liaisonv1.CaseStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CASE_STATUS_"))
}

func memberStatusWord(s liaisonv1.MemberStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "MEMBER_STATUS_"))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// runAuditNotices is `liaison audit notices`: the required notices, for an
// auditor; -late lists those not acknowledged in time, -forward-pending
// those whose acknowledgement waits for a peer gateway.
func runAuditNotices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison audit notices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := auditConn{stderr: stderr}
	conn.flags(fs)
	var req liaisonv1.ListNoticesRequest
	fs.BoolVar(&req.LateOnly, "late", false, "only notices not acknowledged in time: the deadline passed without an acknowledgement, or before it (one withdrawn before its deadline was not late; one withdrawn after it, unacknowledged, was)")
	fs.BoolVar(&req.UnacknowledgedOnly, "unacknowledged", false, "only notices still awaiting acknowledgement (neither acknowledged nor withdrawn)")
	fs.StringVar(&req.Recipient, "recipient", "", "only notices to this `agency`")
	fs.StringVar(&req.Sender, "sender", "", "only notices from this `agency`")
	fs.BoolVar(&req.ForwardPendingOnly, "forward-pending", false, "only notices acknowledged here whose acknowledgement the sender's gateway (a peer that did not answer or refused it, or one offboarded or no longer listed here) has not taken yet (the list says why)")
	limit := decimalFlag(fs, "limit", 100, "at most this many `notices` (1 to 1000)")
	decimalVar(fs, &req.Start, "start", 0, "only notices with an audit `index` at or after this one: to read the next page, the one the command names after a full page")
	asJSON := fs.Bool("json", false, "print each notice as JSON, one a line")
	zone := zoneFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("audit notices", fs); err != nil {
		return err
	}
	loc, err := zone("audit notices")
	if err != nil {
		return err
	}
	if req.Limit, err = limitFlag("audit notices", *limit); err != nil {
		return err
	}
	c, err := conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := liaisonv1.NewNoticesClient(c).ListNotices(ctx, &req)
	if err != nil {
		return fmt.Errorf("audit notices: %v", err)
	}
	// A full page may not be the last: say where the next one starts (on
	// standard error with -json, as audit query does, so that standard
	// output stays one notice a line).
	var nextPage string
	if ns := r.GetNotices(); len(ns) == int(req.Limit) {
		nextPage = fullPage(len(ns), "notice", "notices", ns[len(ns)-1].GetAuditIndex()+1)
	}
	if *asJSON {
		for _, n := range r.GetNotices() {
			if err := printJSON(stdout, n); err != nil {
				return err
			}
		}
		fmt.Fprint(stderr, nextPage)
		return nil
	}
	var filters []string
	for _, f := range []struct {
		on   bool
		flag string
	}{
		{req.LateOnly, "-late"}, {req.UnacknowledgedOnly, "-unacknowledged"}, {req.Recipient != "", "-recipient " + req.Recipient},
		{req.Sender != "", "-sender " + req.Sender}, {req.ForwardPendingOnly, "-forward-pending"}, {req.Start > 0, fmt.Sprintf("-start %d", req.Start)},
	} {
		if f.on {
			filters = append(filters, f.flag)
		}
	}
	if err := printNotices(stdout, r.GetNotices(), filters, loc); err != nil {
		return err
	}
	fmt.Fprint(stdout, nextPage)
	return nil
}

// printNotices prints the required notices for an auditor, and how many
// there are; when none matches, a sentence saying so of the filters given
// (never an empty table, nor "every notice" of a filtered list). Its
// times are loc's, which the header names. Its ESCALATED column says why
// an escalation went to the sender without the recipient's duty role
// being told, or no acknowledgement is to be expected
// (escalation_recipient_standing, escalationStandingWords), and why the
// sender was not told of it (escalation_sender_standing,
// escalationSenderWords).
func printNotices(w io.Writer, notices []*liaisonv1.TrackedNotice, filters []string, loc *time.Location) error {
	if len(notices) == 0 {
		if len(filters) > 0 {
			_, err := fmt.Fprintf(w, "No required notice matches %s.\n", strings.Join(filters, " "))
			return err
		}
		_, err := fmt.Fprintln(w, "No required notice has been sent.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NOTICE\tEVENT\tFROM\tTO\tPEER\tSENT ("+loc.String()+")\tACKNOWLEDGE BY\tACKNOWLEDGED\tESCALATED\tLATE\tENTRY")
	tableTime := func(s string) string { return tableTime(s, loc) }
	for _, n := range notices {
		peer := or(n.GetPeer(), "-")
		if n.GetForwardPending() {
			peer += " (acknowledgement not forwarded yet" + forwardWaitWords(n.GetForwardPendingReason()) + ")"
		}
		acked := tableTime(n.GetAcknowledged())
		if n.GetWithdrawn() != "" {
			acked = fmt.Sprintf("withdrawn %s (#%d)", tableTime(n.GetWithdrawn()), n.GetWithdrawalAuditIndex())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\t#%d\n", n.GetNoticeId(),
			strings.ToLower(strings.TrimPrefix(n.GetEventType().String(), "SUBJECT_EVENT_TYPE_")), n.GetSender(), n.GetRecipient(), peer,
			tableTime(n.GetSent()), tableTime(n.GetAcknowledgeBy()), acked, tableTime(n.GetEscalated())+escalationStandingWords(n.GetEscalationRecipientStanding())+escalationSenderWords(n.GetEscalationSenderStanding()), n.GetLate(), n.GetAuditIndex())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notices) == 1 {
		_, err := fmt.Fprintln(w, "1 notice")
		return err
	}
	_, err := fmt.Fprintf(w, "%d notices\n", len(notices))
	return err
}

// tableTime is an RFC 3339 time of an answer as the tables print times,
// in loc to the minute ("2006-01-02 15:04", as audit corrections does),
// or "-" for none. A text that is no such time is printed as it is.
func tableTime(s string, loc *time.Location) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// runCaseImport is `liaison case import`: the registry file's cases into
// the audit store.
func runCaseImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison case import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: liaison case import [flags]\n\n%s\n\nFlags:\n", caseHelp["import"])
		fs.PrintDefaults()
	}
	registry := fs.String("registry", "registry.yaml", "the gateway's registry `file`")
	auditDB := fs.String("audit-db", "liaison-audit.db", "the gateway's audit log: a SQLite `file` (which must exist) or a postgres:// URL")
	kind := fs.String("kind", "", "the case `kind` of the policy for cases the file gives none, e.g. nl.zvh")
	var policy treeFlags
	policy.register(fs, "the gateway's policy, which must know each case's kind in its lead's jurisdiction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("case import: unexpected arguments %v", fs.Args())
	}
	reg, err := gateway.LoadRegistry(*registry)
	if err != nil {
		return fmt.Errorf("case import: %v", err)
	}
	eng, err := policy.load(ctx)
	if err != nil {
		return fmt.Errorf("case import: the policy does not load: %v", err)
	}
	ss, err := openCaseStore(ctx, "case import", *auditDB)
	if err != nil {
		return err
	}
	defer ss.Close()
	got, err := gateway.ImportRegistryCases(ctx, ss, eng, reg, *kind, time.Now())
	imported := 0
	for _, c := range got {
		if c.Skipped != "" {
			fmt.Fprintf(stdout, "case %s: skipped: %s\n", c.ID, c.Skipped)
			continue
		}
		imported++
		fmt.Fprintf(stdout, "case %s: imported as kind %s, audit entry #%d\n", c.ID, c.Kind, c.AuditIndex)
	}
	if err != nil {
		return fmt.Errorf("case import: %v", err)
	}
	fmt.Fprintf(stdout, "%d of %d cases imported; remove the imported ones from %s\n", imported, len(got), *registry)
	return nil
}

// openCaseStore opens the gateway's audit log at path for an operator's
// case command (cmd, for errors): a store that keeps cases.
func openCaseStore(ctx context.Context, cmd, path string) (audit.StateStore, error) {
	store, err := openExistingStore(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", cmd, err)
	}
	ss, ok := store.(audit.StateStore)
	if !ok {
		store.Close()
		return nil, fmt.Errorf("%s: the store %s keeps no cases", cmd, path)
	}
	return ss, nil
}

// runCaseCloseOrphaned is `liaison case close-orphaned`: an operator
// closes a case whose lead can no longer act.
func runCaseCloseOrphaned(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison case close-orphaned", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: liaison case close-orphaned [flags]\n\n%s\n\nFlags:\n", caseHelp["close-orphaned"])
		fs.PrintDefaults()
	}
	id := fs.String("id", "", "the case `id`, e.g. NL-ZVH-RTM-0042")
	registry := fs.String("registry", "registry.yaml", "the gateway's registry `file`, which says the lead is offboarded or no longer lists it")
	auditDB := fs.String("audit-db", "liaison-audit.db", "the gateway's audit log: a SQLite `file` (which must exist) or a postgres:// URL")
	operator := fs.String("operator", "", "your `name` or id as the gateway's operator, recorded in the entry (required): 1 to 64 letters, digits, '.', '_', '@' or '-', no spaces")
	var keys keyOptions
	keys.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("case close-orphaned: unexpected arguments %v", fs.Args())
	case *id == "":
		return errors.New("case close-orphaned: -id is required")
	case *operator == "":
		return errors.New("case close-orphaned: -operator is required")
	}
	op, done, err := caseOperator(ctx, "case close-orphaned", *registry, *auditDB, *operator, &keys, stderr)
	if err != nil {
		return err
	}
	defer done()
	c, idx, err := op.CloseOrphanedCase(ctx, *id)
	if err != nil {
		return operatorError("case close-orphaned", err)
	}
	fmt.Fprintf(stdout, "case %s (%s) closed by %s at version %d: its lead %s can no longer act; its members are told (CaseUpdate); audit entry #%d\n",
		c.ID, c.Kind, *operator, c.Version, c.Lead, idx)
	return nil
}

// runCaseHandoverOrphaned is `liaison case handover-orphaned`: an
// operator hands the lead of a case whose lead can no longer act to a
// member.
func runCaseHandoverOrphaned(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison case handover-orphaned", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: liaison case handover-orphaned [flags]\n\n%s\n\nFlags:\n", caseHelp["handover-orphaned"])
		fs.PrintDefaults()
	}
	id := fs.String("id", "", "the case `id`, e.g. NL-ZVH-RTM-0042")
	lead := fs.String("lead", "", "the `agency` id of the member that becomes the lead (required)")
	registry := fs.String("registry", "registry.yaml", "the gateway's registry `file`, which marks the lead offboarded and lists the members")
	auditDB := fs.String("audit-db", "liaison-audit.db", "the gateway's audit log: a SQLite `file` (which must exist) or a postgres:// URL")
	operator := fs.String("operator", "", "your `name` or id as the gateway's operator, recorded in the entry (required): 1 to 64 letters, digits, '.', '_', '@' or '-', no spaces")
	var keys keyOptions
	keys.flags(fs)
	var policy treeFlags
	policy.register(fs, "the gateway's policy, which decides whether the member may take the lead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("case handover-orphaned: unexpected arguments %v", fs.Args())
	case *id == "":
		return errors.New("case handover-orphaned: -id is required")
	case *lead == "":
		return errors.New("case handover-orphaned: -lead is required")
	case *operator == "":
		return errors.New("case handover-orphaned: -operator is required")
	}
	eng, err := policy.load(ctx)
	if err != nil {
		return fmt.Errorf("case handover-orphaned: the policy does not load: %v", err)
	}
	op, done, err := caseOperator(ctx, "case handover-orphaned", *registry, *auditDB, *operator, &keys, stderr)
	if err != nil {
		return err
	}
	defer done()
	op.Policy = eng
	c, idx, err := op.HandOverOrphanedCase(ctx, *id, *lead)
	if err != nil {
		return operatorError("case handover-orphaned", err)
	}
	fmt.Fprintf(stdout, "case %s (%s) handed over by %s at version %d: %s leads it now, its former lead being unable to act; its members are told (CaseUpdate); audit entry #%d\n",
		c.ID, c.Kind, *operator, c.Version, c.Lead, idx)
	return nil
}

// operatorError is the error of an operator's command (cmd): a refusal
// says its reason and its entry.
func operatorError(cmd string, err error) error {
	r, ok := errors.AsType[*gateway.OperatorRefusal](err)
	switch {
	case ok && r.Denied:
		return fmt.Errorf("%s: denied by the policy (%s): %s; audit entry #%d", cmd, r.Reason, r.Message, r.AuditIndex)
	case ok:
		return fmt.Errorf("%s: refused (%s): %s; audit entry #%d", cmd, r.Reason, r.Message, r.AuditIndex)
	}
	return fmt.Errorf("%s: %v", cmd, strings.TrimPrefix(err.Error(), "gateway: "))
}

// caseOperator readies an operator's command (cmd, for errors) on the
// gateway's store at auditDB, with its registry file and its keys, which
// seal the CaseUpdates the members get. done closes the store.
func caseOperator(ctx context.Context, cmd, registry, auditDB, operator string, keys *keyOptions, stderr io.Writer) (_ *gateway.CaseOperator, done func(), err error) {
	if err := keys.checkDurations(false); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cmd, err)
	}
	reg, err := gateway.LoadRegistry(registry)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cmd, err)
	}
	ps, err := gatewayKeys(ctx, keys, stderr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cmd, err)
	}
	ss, err := openCaseStore(ctx, cmd, auditDB)
	if err != nil {
		return nil, nil, err
	}
	return &gateway.CaseOperator{Store: ss, Registry: reg, Pseudonyms: ps, Name: operator}, func() { ss.Close() }, nil
}

// gatewayKeys loads the gateway's pseudonym keys, from Vault or its key
// file, for an operator's command that seals inbox items. Unlike the
// gateway, it never creates a key file: items sealed under new keys
// would be unreadable to the gateway's agencies.
func gatewayKeys(ctx context.Context, o *keyOptions, stderr io.Writer) (*pseudonym.Pseudonymizer, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	addr, err := o.vaultAddr()
	if err != nil {
		return nil, err
	}
	var src pseudonym.KeySource
	if addr != "" {
		if src, _, err = o.vaultSource(ctx, addr, logger); err != nil {
			return nil, err
		}
	} else {
		if _, err := os.Stat(o.keyFile()); err != nil {
			return nil, fmt.Errorf("the gateway's pseudonym keys: %v: give its key file with -keys, or its Vault with -vault-addr (the members' CaseUpdates are sealed with them)", err)
		}
		src = o.fileKeys()
	}
	return pseudonym.New(ctx, pseudonym.Config{Source: src, Logger: logger})
}
