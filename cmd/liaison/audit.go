package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/internal/spelling"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const auditUsage = `usage: liaison audit <command> [flags]

Commands (all talk to a gateway as an auditor, over mTLS with an officer
token holding the auditor role: the Audit service, and for notices the
Notices service and for corrections the Aftercare service; verify -export
reads a folder offline):

	query        list log entries by time, action, agency, officer, subject, legal basis,
	             outcome, record type
	verify       check the log against the last checkpoint you trusted: consistency,
	             inclusion of distinct sampled or given entries, or every entry and
	             the query index (-full);
	             or check an export folder offline (-export DIR)
	prove        print and check an inclusion proof for one entry
	report       a data-subject access report (-subject ID), as the gateway applies the
	             law: only real releases, LED Art. 15 restrictions left out, officers
	             withheld unless -with-officers (CJEU C-579/21)
	export       write the log for a supervisory authority (-out DIR -verifier-key KEY)
	notices      the required notices (of a Notify, or of a correction that moves the
	             release date): -late lists those not acknowledged in time
	corrections  the corrections, withdrawals and expiry notices still open (neither
	             acknowledged nor superseded by a later notice; -all for every one),
	             with what they oblige

Run "liaison audit <command> -h" for its flags.
`

// auditConn holds the flags to reach a gateway as an auditor.
type auditConn struct {
	gateway, cert, key, ca, token, tokenFile string
	// stderr, if set, is warned on if the -key file, or the -token-file
	// the token is read from, may be read or written by its group or
	// others (warnSharedSecrets).
	stderr io.Writer
}

func (a *auditConn) flags(fs *flag.FlagSet) {
	fs.StringVar(&a.gateway, "gateway", "127.0.0.1:8443", "gateway `address`")
	fs.StringVar(&a.cert, "cert", "", "your agency's client certificate `file` (PEM)")
	fs.StringVar(&a.key, "key", "", "its private key `file` (PEM)")
	fs.StringVar(&a.ca, "ca", "", "CA `file` the gateway's certificate chains to")
	fs.StringVar(&a.token, "token", "", "officer `token` (or -token-file, or $LIAISON_TOKEN): the auditor role for the log, legal_officer or auditor for the policy")
	fs.StringVar(&a.tokenFile, "token-file", "", "`file` holding the officer token (one that cannot be read or is empty is an error, never skipped for $LIAISON_TOKEN)")
}

func (a *auditConn) dial() (*grpc.ClientConn, error) {
	tok := a.token
	if tok == "" && a.tokenFile != "" {
		// A file that cannot be read or holds nothing is an error, as for
		// liaison console: it was taken for no file, and the call made
		// with $LIAISON_TOKEN, another officer's token perhaps, whom the
		// gateway's entry of the call then named.
		t, err := fileToken(a.tokenFile).read()
		if err != nil {
			return nil, fmt.Errorf("-token-file: %v", err)
		}
		tok = t
	}
	if tok == "" {
		tok = os.Getenv("LIAISON_TOKEN")
	}
	if a.cert == "" || a.key == "" || a.ca == "" || tok == "" {
		return nil, errors.New("audit: -cert, -key, -ca and a token are required to reach the gateway")
	}
	tc, err := a.tlsConfig()
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(a.gateway, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(bearerToken(tok)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAuditMessage)))
}

// maxAuditMessage is the largest answer the auditor's commands take from
// the gateway. gRPC's default, 4 MiB, is less than a page of 1000 entries
// (audit query -limit 1000) can take: an entry's justification alone may
// take 12,000 bytes (2,000 characters that JSON writes as \u00XX), and
// any agency can have such entries recorded.
const maxAuditMessage = 64 << 20

// tlsConfig is the client side of the gateway's mTLS: the agency's
// certificate, and the CA the gateway's certificate chains to.
func (a *auditConn) tlsConfig() (*tls.Config, error) {
	a.warnSharedSecrets()
	cert, err := tls.LoadX509KeyPair(a.cert, a.key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(a.ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificates", a.ca)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errors.New("audit: no command")
	}
	if args[0] == "notices" {
		return runAuditNotices(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("liaison audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := auditConn{stderr: stderr}
	switch args[0] {
	case "query":
		conn.flags(fs)
		var q liaisonv1.QueryRequest
		from := fs.String("from", "", "entries at or after this `time` (RFC 3339, or YYYY-MM-DD for its midnight in -tz)")
		to := fs.String("to", "", "entries before this `time` (as -from)")
		fs.StringVar(&q.Agency, "agency", "", "requester, holder or recipient agency `id`")
		fs.StringVar(&q.Officer, "officer", "", "officer `id`")
		fs.StringVar(&q.SubjectId, "subject", "", "the subject's `identifier` (the gateway looks up its audit pseudonym): the entries about the person, and the reads of the log that asked about them (with -action audit_read, those alone)")
		fs.StringVar(&q.LegalBasis, "legal-basis", "", "legal basis `id`")
		vocab := gateway.QueryFilterValues()
		fs.StringVar(&q.Outcome, "outcome", "", "`outcome`: "+strings.Join(vocab["outcome"], ", "))
		fs.StringVar(&q.RecordType, "record-type", "", "record `type`: "+strings.Join(vocab["record_type"], ", "))
		fs.StringVar(&q.Action, "action", "", "`action`: "+strings.Join(vocab["action"], ", "))
		decimalVar(fs, &q.Start, "start", 0, "only entries with an `index` at or after this one: to read the next page, the one the command names after a full page")
		limit := decimalFlag(fs, "limit", 100, "at most this many `entries` (1 to 1000)")
		asJSON := fs.Bool("json", false, "print each entry's canonical JSON, one a line")
		zone := zoneFlag(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := noStrayArgs("audit query", fs); err != nil {
			return err
		}
		loc, err := zone("audit query")
		if err != nil {
			return err
		}
		for _, f := range []struct{ flag, field, value string }{
			{"outcome", "outcome", q.Outcome}, {"record-type", "record_type", q.RecordType}, {"action", "action", q.Action},
		} {
			if f.value != "" && !slices.Contains(vocab[f.field], f.value) {
				return fmt.Errorf("audit query: -%s %q: accepted values are %s", f.flag, f.value, strings.Join(vocab[f.field], ", "))
			}
		}
		if q.From, err = parseTimeFlag("audit query", "-from", *from, loc); err != nil {
			return err
		}
		if q.To, err = parseTimeFlag("audit query", "-to", *to, loc); err != nil {
			return err
		}
		if q.Limit, err = limitFlag("audit query", *limit); err != nil {
			return err
		}
		c, err := conn.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		resp, err := liaisonv1.NewAuditClient(c).Query(ctx, &q)
		if err != nil {
			return fmt.Errorf("audit query: %v", err)
		}
		if err := printEntries(stdout, resp.GetEntries(), *asJSON, loc); err != nil {
			return err
		}
		// A full page may not be the last: say where the next one starts
		// (on stderr, so that -json output stays one entry a line).
		if es := resp.GetEntries(); len(es) > 0 && len(es) == int(q.Limit) {
			fmt.Fprint(stderr, fullPage(len(es), "entry", "entries", es[len(es)-1].GetIndex()+1))
		}
		return nil
	case "verify":
		conn.flags(fs)
		vkey := fs.String("verifier-key", "", "the log's checkpoint verifier `key` (name+hash+base64), or @file; get it from the operator out of band (with -export and no key, the export's own verifier.key is used, which proves only that the export is self-consistent; an @file that cannot be read is an error)")
		state := fs.String("state", "liaison-audit.trusted", "`file` keeping the last checkpoint you trusted")
		var entries multiFlag
		fs.Var(&entries, "entry", "check the inclusion of this entry `index` (repeatable)")
		sample := decimalFlag(fs, "sample", 16, "check the inclusion of this many distinct random `entries` (all of them on a smaller log; not negative)")
		full := fs.Bool("full", false, "download every entry and recompute the tree; the gateway also checks its query index against every entry (not with -entry or -sample)")
		export := fs.String("export", "", "verify an export `folder` offline instead of a gateway (every entry; not with -entry, -sample, -full or the flags that reach a gateway)")
		var wp witnessPolicyFlags
		wp.flags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := noStrayArgs("audit verify", fs); err != nil {
			return err
		}
		if *sample < 0 {
			return fmt.Errorf("audit verify: -sample %d: must not be negative", *sample)
		}
		if *export != "" {
			// An export is verified whole, offline: the flags that choose
			// what to ask a gateway would be ignored, and an auditor who
			// gave them would believe they had been applied.
			var online []string
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "entry", "sample", "full", "gateway", "cert", "key", "ca", "token", "token-file":
					online = append(online, "-"+f.Name)
				}
			})
			if len(online) > 0 {
				return fmt.Errorf("audit verify: -export verifies every entry of the export offline; %s ask a gateway and cannot be given with it", strings.Join(online, ", "))
			}
		}
		if *full {
			// -full checks every entry: an -entry or -sample would be
			// ignored (an -entry beyond the log too, which is an error
			// without -full), and the auditor who gave it would believe it
			// had been applied.
			var ignored []string
			fs.Visit(func(f *flag.Flag) {
				if f.Name == "entry" || f.Name == "sample" {
					ignored = append(ignored, "-"+f.Name)
				}
			})
			if len(ignored) > 0 {
				return fmt.Errorf("audit verify: -full checks every entry; %s cannot be given with it", strings.Join(slices.Compact(ignored), ", "))
			}
		}
		idx, err := entryIndexes(entries)
		if err != nil {
			return err
		}
		v, err := loadVerifier(*vkey, *export, stderr)
		if err != nil {
			return err
		}
		policy, err := wp.policy()
		if err != nil {
			return err
		}
		if *export != "" {
			return verifyExport(ctx, *export, v, policy, *state, stdout)
		}
		c, err := conn.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		return verifyOnline(ctx, liaisonv1.NewAuditClient(c), v, policy, *state, idx, *sample, *full, stdout, stderr)
	case "prove":
		conn.flags(fs)
		vkey := fs.String("verifier-key", "", "the checkpoint verifier `key`, or @file (required; from the operator out of band)")
		index := decimalFlag[int64](fs, "index", -1, "the entry's `index` (required; audit query lists it)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := noStrayArgs("audit prove", fs); err != nil {
			return err
		}
		if *index < 0 {
			return errors.New("audit prove: -index is required: the entry's index, 0 or more, as audit query lists it")
		}
		v, err := loadVerifier(*vkey, "", stderr)
		if err != nil {
			return err
		}
		c, err := conn.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		return prove(ctx, liaisonv1.NewAuditClient(c), v, *index, stdout)
	case "report":
		conn.flags(fs)
		subject := fs.String("subject", "", "the data subject's `identifier` in the agencies' records (required)")
		officers := fs.Bool("with-officers", false, "name the officers who acted (withheld by default, CJEU C-579/21)")
		zone := zoneFlag(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := noStrayArgs("audit report", fs); err != nil {
			return err
		}
		loc, err := zone("audit report")
		if err != nil {
			return err
		}
		if *subject == "" {
			return errors.New("audit report: -subject is required")
		}
		c, err := conn.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		return subjectReport(ctx, liaisonv1.NewAuditClient(c), *subject, *officers, loc, stdout)
	case "export":
		conn.flags(fs)
		out := fs.String("out", "", "output `folder`, new or empty (required): it appears whole once the export is downloaded, verified and written, or not at all; a folder that holds anything, such as an earlier export, is refused and never changed")
		vkey := fs.String("verifier-key", "", "the checkpoint verifier `key` to check and include, or @file (required)")
		var wp witnessPolicyFlags
		wp.flags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := noStrayArgs("audit export", fs); err != nil {
			return err
		}
		if *out == "" || *vkey == "" {
			return errors.New("audit export: -out and -verifier-key are required")
		}
		v, err := loadVerifier(*vkey, "", stderr)
		if err != nil {
			return err
		}
		policy, err := wp.policy()
		if err != nil {
			return err
		}
		k, err := keyText("-verifier-key", *vkey)
		if err != nil {
			return fmt.Errorf("audit export: %v", err)
		}
		c, err := conn.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		return export(ctx, liaisonv1.NewAuditClient(c), v, policy, k, *out, stdout, stderr)
	case "corrections":
		conn.flags(fs)
		return auditCorrections(ctx, &conn, fs, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("audit: unknown command %q", args[0])
}

// limitFlag reads a -limit flag for a list call, whose limit field is an
// int32 from 0 to 1000: a larger value is refused here rather than
// wrapped (4294967396 would ask for 100). 0, which the call reads as
// 100, is refused too: the flag's default is 100 already, and "at most 0
// entries" that listed 100 would not be what -h says.
func limitFlag(cmd string, n int) (int32, error) {
	if n < 1 || n > 1000 {
		return 0, fmt.Errorf("%s: -limit %d: want 1 to 1000", cmd, n)
	}
	return int32(n), nil
}

// parseTimeFlag reads the time a flag bounds a list by: RFC 3339, or a
// date alone for its midnight UTC. One that is neither is an error naming
// the flag.
func parseTimeFlag(cmd, flag, s string, loc *time.Location) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return timestamppb.New(t), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return timestamppb.New(t), nil
	}
	return nil, fmt.Errorf("%s: %s %q: want a time in RFC 3339 or a date, YYYY-MM-DD", cmd, flag, s)
}

// zoneFlag adds -tz to fs, the time zone a command shows times in and
// reads a date in. The function it returns, called after fs.Parse, gives
// the zone: UTC unless -tz names another. A zone is an IANA name, read
// from the tables built into the binary, so that every machine reads it
// alike; "Local", whatever the machine's zone is, is refused.
func zoneFlag(fs *flag.FlagSet) func(cmd string) (*time.Location, error) {
	name := fs.String("tz", "UTC", "`zone` to show times in and read a date in: an IANA name such as Europe/Copenhagen, or UTC")
	return func(cmd string) (*time.Location, error) {
		if *name == "UTC" {
			return time.UTC, nil
		}
		loc, err := time.LoadLocation(*name)
		if err != nil || *name == "" || *name == "Local" {
			return nil, fmt.Errorf("%s: -tz %q: want a time zone's IANA name, such as Europe/Copenhagen, or UTC", cmd, *name)
		}
		return loc, nil
	}
}

func printEntries(w io.Writer, entries []*liaisonv1.AuditEntry, asJSON bool, loc *time.Location) error {
	if asJSON {
		for _, e := range entries {
			fmt.Fprintln(w, e.GetJson())
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTIME ("+loc.String()+")\tACTION\tREQUESTER/OFFICER\tHOLDER\tRECIPIENTS\tRECORD/ABOUT\tPURPOSE\tOUTCOME\tLEGAL BASIS\tSUBJECT")
	for _, le := range entries {
		e, err := audit.Unmarshal([]byte(le.GetJson()))
		if err != nil {
			return err
		}
		req := actor(e)
		// What the log holds is shown, never obeyed: an officer id is
		// whatever the agency's token said, an escape sequence included.
		var rcpt []string
		for _, r := range e.Recipients {
			rcpt = append(rcpt, r.Agency)
		}
		basis, subj := "-", "-"
		if e.LegalBasis != nil {
			basis = e.LegalBasis.ID
		}
		if e.Subject != nil {
			subj = e.Subject.Pseudonym
		}
		cols := []string{e.Action, req, partyID(e.Holder), dash(strings.Join(rcpt, ",")), dash(about(e)), dash(e.Purpose), e.Outcome, basis, subj}
		for i := range cols {
			cols[i] = identifier(cols[i])
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", le.GetIndex(), e.Time.In(loc).Format("2006-01-02 15:04:05"), strings.Join(cols, "\t"))
	}
	return tw.Flush()
}

// printTrust says what the checkpoint just checked was proved against:
// the one trusted before, or none (trust on first use), online and for an
// export alike.
func printTrust(w io.Writer, before *audit.Checkpoint, state string) {
	if before == nil {
		fmt.Fprintf(w, "no checkpoint trusted before (%s): trusting this one from now on\n", state)
		return
	}
	fmt.Fprintf(w, "consistent with the checkpoint trusted before (%s)\n", count(before.Size, "entry", "entries"))
}

// count writes n of a noun: "1 entry", "16 entries".
func count[T int | int64](n T, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// checkpointLine is what audit verify prints of the latest checkpoint.
func checkpointLine(size int64, root, signer string) string {
	return fmt.Sprintf("checkpoint: %s, root %s, signed by %s\n", count(size, "entry", "entries"), root, signer)
}

// exportedLine is what audit export prints once the n entries and their
// checkpoint are in dir.
func exportedLine(n int, dir string) string {
	if n == 1 {
		return fmt.Sprintf("exported 1 entry and the checkpoint that covers it to %s\n", dir)
	}
	return fmt.Sprintf("exported %d entries and the checkpoint that covers them to %s\n", n, dir)
}

// fullPage says that a page of n items (one, many: the noun) filled the
// limit, so more may match, and where the next page starts: "A full page
// of 1 entry", never "1 entries", with -limit 1.
func fullPage(n int, one, many string, next int64) string {
	return fmt.Sprintf("A full page of %s: more may match; the next page is -start %d\n", count(n, one, many), next)
}

// about says what an entry is about, for the table's RECORD/ABOUT
// column: its record type; for an entry of no record, its case
// (case_open, case_invite, an operator's close, as the console shows
// it), the read of the log (audit_read: its operation), how far an
// inbox was read (an acknowledgement of no required notice), the key
// versions (key_rotate, key_retire, key_restore), the policy revision
// activated, or the method a refused call asked for; "" if none.
func about(e *audit.Entry) string {
	d := e.Detail
	switch {
	case e.RecordType != "":
		return e.RecordType
	case e.Case != nil:
		return "case " + e.Case.ID
	case e.Action == audit.ActionAuditRead && d["operation"] != "":
		return "read: " + d["operation"]
	case d["cursor"] != "":
		return "inbox up to item " + d["cursor"]
	case e.Action == audit.ActionKeyRotate:
		return "key " + keyRotation(d)
	case e.Action == audit.ActionKeyRetire:
		return "key versions " + d["retired_versions"] + " retired"
	case e.Action == audit.ActionKeyRestore:
		return "key versions " + d["restored_versions"] + " restored"
	case e.Action == audit.ActionPolicyActivate && e.PolicyRevision != "":
		return "policy " + short(e.PolicyRevision)
	case e.Action == audit.ActionPolicyActivate:
		return d["source"]
	case e.Action == audit.ActionAuthenticate && d["summary"] == "true":
		return d["suppressed"] + " refused calls"
	case e.Action == audit.ActionAuthenticate:
		return d["method"]
	}
	return ""
}

// actor names whoever an entry says acted: the requester's agency and
// officer (agency/officer), the agency alone when the entry names no
// officer (a refused authentication), the gateway's operator for an
// operator's command on the store (case_operator_close,
// case_operator_handover: detail by_operator), or "-" for the gateway's
// own entries.
func actor(e *audit.Entry) string {
	switch {
	case e.Requester != nil && e.Requester.Officer != "":
		return e.Requester.Agency + "/" + e.Requester.Officer
	case e.Requester != nil:
		return e.Requester.Agency
	case e.Detail["by_operator"] != "":
		return "operator " + e.Detail["by_operator"]
	}
	return "-"
}

// printable returns free text (a legal basis's citation) as a terminal
// should show it: a control character (ESC, which would let a string from
// the log move the cursor or erase lines of the output; a tab, a newline)
// or a format character (a direction override, which reorders what
// follows) written as its escape, \x1b or \u202e, so that what the log
// holds is shown and never obeyed. Other characters of text, a variation
// selector that asks for an emoji's presentation among them, are shown
// as they are.
func printable(s string) string {
	return escaped(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) })
}

// identifier returns an identifier (an agency, an officer, a subject's
// pseudonym, a legal basis's id, a case) as a terminal should show it:
// every character spelling.Unprintable refuses written as its escape,
// what printable escapes and also a Hangul filler (\u3164), a variation
// selector (\ufe0f), a space other than U+0020 (\xa0). A log written
// before the gateway refused such identifiers may hold two that differ
// only by one; the table shows them apart.
func identifier(s string) string { return escaped(s, spelling.Unprintable) }

// escaped writes each rune of s that hidden reports as its escape: \xhh
// below U+0100, \uhhhh in the Basic Multilingual Plane, \Uhhhhhhhh
// beyond it (U+E0100 is \U000e0100, never \ue0100, which reads as
// U+E010 and a 0).
func escaped(s string, hidden func(rune) bool) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !hidden(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// keyText returns a key given to flag as text or as @file. A file that
// cannot be read, or holds nothing, is an error naming the flag and the
// file: it is never taken for a key not given.
func keyText(flag, s string) (string, error) {
	f, ok := strings.CutPrefix(s, "@")
	if !ok {
		return s, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%s: %v", flag, err)
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("%s: %s holds no key", flag, f)
	}
	return k, nil
}

// loadVerifier returns the note verifier to trust. With an export and no
// key it falls back to the export's own verifier.key, which proves only
// that the export is self-consistent; it says so, on the command's
// standard error (not the process's, which a caller of run may not read).
func loadVerifier(vkey, exportDir string, stderr io.Writer) (note.Verifier, error) {
	k, err := keyText("-verifier-key", vkey)
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	if k == "" && exportDir != "" {
		b, err := os.ReadFile(filepath.Join(exportDir, "verifier.key"))
		if err != nil {
			return nil, err
		}
		k = strings.TrimSpace(string(b))
		fmt.Fprintln(stderr, "warning: no -verifier-key given; using the export's own verifier.key, which proves only that the export is self-consistent")
	}
	if k == "" {
		return nil, errors.New("audit: -verifier-key is required: the operator gives it to you out of band")
	}
	v, err := audit.NewVerifier(k)
	if err != nil {
		return nil, fmt.Errorf("audit: verifier key: %v", err)
	}
	return v, nil
}

// verifyFailed reports a verification that failed: the log, its proofs or
// its entries are not what the checkpoints commit to (truncated, forked or
// rewritten, an entry changed, a proof refused). A gateway that gave no
// checkpoint, a state file that cannot be read or written or that holds
// another log's checkpoint, and an -entry beyond the log are not reported
// as FAILED; nor is a malformed proof (a hash not of its size, more or
// fewer hashes than a proof has, a proof to another size than asked for,
// an inclusion proof that gives another entry than asked for or a leaf
// hash that is not its entry's), which is the gateway's malformed answer,
// no evidence of a fork.
func verifyFailed(err error) error {
	_, unreachable := errors.AsType[*gateway.UnreachableError](err)
	_, file := errors.AsType[*fs.PathError](err)
	if unreachable || file || errors.Is(err, audit.ErrOutOfRange) || errors.Is(err, audit.ErrTrustedNotThisLog) {
		return fmt.Errorf("audit verify: %v", err)
	}
	if errors.Is(err, audit.ErrMalformedProof) {
		return fmt.Errorf("audit verify: the gateway's answer is malformed, so the log was not checked (this shows no fork; tell its operator): %v", err)
	}
	return fmt.Errorf("audit verify: FAILED: %v", err)
}

// A decimal is an integer flag (an entry index, a page's start or size,
// a sample, a quorum) taken in decimal and in its one spelling: the flag
// package's own integer flags read "010" as 8, "0x10" as 16 and "1_000"
// as 1000, so that audit prove -index 042 proved entry 34, and
// query -start 0100 read from entry 64.
type decimal[T int | int64] struct{ p *T }

func (d decimal[T]) String() string {
	if d.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*d.p), 10)
}

func (d decimal[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s || int64(T(n)) != n {
		return errors.New("want an integer in decimal, with no '+', leading zero or '_'")
	}
	*d.p = T(n)
	return nil
}

// decimalVar defines a [decimal] flag with a default, stored in p.
func decimalVar[T int | int64](fs *flag.FlagSet, p *T, name string, value T, usage string) {
	*p = value
	fs.Var(decimal[T]{p}, name, usage)
}

// decimalFlag defines a [decimal] flag with a default, and returns where
// it is stored.
func decimalFlag[T int | int64](fs *flag.FlagSet, name string, value T, usage string) *T {
	p := new(T)
	decimalVar(fs, p, name, value, usage)
	return p
}

// entryIndexes reads -entry flags: each an index in decimal, 0 or more,
// and nothing else. (fmt.Sscan took "012" as entry 10, "0x10" as 16 and
// "12abc" as 12, and checked an entry the auditor did not name.)
func entryIndexes(entries []string) ([]int64, error) {
	var idx []int64
	for _, e := range entries {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < 0 || (len(e) > 1 && e[0] == '0') || e[0] == '+' {
			return nil, fmt.Errorf("audit verify: -entry %q: not an entry index (0 or more, in decimal, as audit query lists it)", e)
		}
		idx = append(idx, n)
	}
	return idx, nil
}

func verifyOnline(ctx context.Context, ac liaisonv1.AuditClient, v note.Verifier, policy *audit.WitnessPolicy, state string, idx []int64, sample int, full bool, stdout, stderr io.Writer) error {
	client := audit.NewClient(gateway.AuditSource{Audit: ac}, audit.TrustFile(state), v)
	if policy != nil {
		if err := client.RequireWitnesses(*policy); err != nil {
			return err
		}
	}
	latest, before, err := client.Update(ctx)
	if err != nil {
		return verifyFailed(err)
	}
	fmt.Fprint(stdout, checkpointLine(latest.Size, latest.Hash.String(), v.Name()))
	printCosigners(stdout, policy, client.Cosigners())
	printTrust(stdout, before, state)

	if full {
		if err := verifyAll(ctx, ac, latest, stdout, stderr); err != nil {
			return err
		}
	} else {
		sampled, err := audit.Sample(latest.Size, sample)
		if err != nil {
			return err
		}
		idx = append(idx, sampled...)
		slices.Sort(idx)
		idx = slices.Compact(idx)
		if err := client.CheckEntries(ctx, idx); err != nil {
			return verifyFailed(err)
		}
		fmt.Fprintf(stdout, "inclusion checked for %s\n", count(len(idx), "entry", "entries"))
	}
	fmt.Fprintln(stdout, "OK: the log verifies")
	return nil
}

// verifyAll downloads every entry and recomputes the root, with progress.
func verifyAll(ctx context.Context, ac liaisonv1.AuditClient, latest audit.Checkpoint, stdout, stderr io.Writer) error {
	stream, err := ac.Export(ctx, &liaisonv1.ExportRequest{})
	if err != nil {
		return err
	}
	leaves, cp, err := readExport(stream, stderr)
	if se, ok := errors.AsType[interface {
		error
		GRPCStatus() *status.Status
	}](err); ok && se.GRPCStatus().Code() == codes.DataLoss {
		return fmt.Errorf("audit verify: FAILED: %s", se.GRPCStatus().Message()) // the gateway's check of its query index
	}
	if err != nil {
		return err
	}
	// The export's checkpoint may be newer; check the part we trusted.
	if int64(len(leaves)) < latest.Size {
		return fmt.Errorf("audit verify: FAILED: %w: the gateway served %s for a checkpoint of %d", audit.ErrTruncated, count(len(leaves), "entry", "entries"), latest.Size)
	}
	root, err := audit.RootHash(leaves[:latest.Size])
	if err != nil {
		return err
	}
	if root != latest.Hash {
		return fmt.Errorf("audit verify: FAILED: %w: the %s served hash to %s, the checkpoint says %s", audit.ErrRootMismatch, count(latest.Size, "entry", "entries"), root, latest.Hash)
	}
	_ = cp
	if latest.Size == 1 {
		fmt.Fprintln(stdout, "the 1 entry recomputed: the root matches")
	} else {
		fmt.Fprintf(stdout, "all %d entries recomputed: the root matches\n", latest.Size)
	}
	return nil
}

// readExport drains an Export stream.
func readExport(stream grpc.ServerStreamingClient[liaisonv1.ExportResponse], stderr io.Writer) ([][]byte, *liaisonv1.GetCheckpointResponse, error) {
	var leaves [][]byte
	var cp *liaisonv1.GetCheckpointResponse
	next := int64(100000)
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("audit: export: %w", err)
		}
		if m.GetCheckpoint() != nil {
			cp = m.GetCheckpoint()
		}
		for _, e := range m.GetEntries() {
			if e.GetIndex() != int64(len(leaves)) {
				return nil, nil, fmt.Errorf("audit: export: entry %d arrived at position %d", e.GetIndex(), len(leaves))
			}
			leaves = append(leaves, []byte(e.GetJson()))
		}
		if cp != nil && int64(len(leaves)) >= next {
			fmt.Fprintf(stderr, "  %d of %d entries (%d%%)\n", len(leaves), cp.GetSize(), int64(len(leaves))*100/max(cp.GetSize(), 1))
			next += 100000
		}
	}
	if cp == nil {
		return nil, nil, errors.New("audit: export: no checkpoint")
	}
	return leaves, cp, nil
}

func prove(ctx context.Context, ac liaisonv1.AuditClient, v note.Verifier, index int64, stdout io.Writer) error {
	cpr, err := ac.GetCheckpoint(ctx, &liaisonv1.GetCheckpointRequest{})
	if err != nil {
		return err
	}
	cp, err := audit.OpenCheckpoint([]byte(cpr.GetCheckpoint()), v)
	if err != nil {
		return err
	}
	p, err := ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: index, TreeSize: cp.Size})
	if err != nil {
		return fmt.Errorf("audit prove: %v", err)
	}
	hashes, err := gateway.ReadInclusion(p, index, cp.Size)
	if err != nil {
		return fmt.Errorf("audit prove: the gateway's answer is malformed, so the entry was not checked (this does not show it changed; tell its operator): %v", err)
	}
	if err := audit.CheckInclusion(cp, index, []byte(p.GetEntry().GetJson()), hashes); err != nil {
		return fmt.Errorf("audit prove: FAILED: %v", err)
	}
	var proof []string
	for _, h := range hashes {
		proof = append(proof, h.String())
	}
	out, _ := json.MarshalIndent(map[string]any{
		"index": index, "tree_size": cp.Size, "root": cp.Hash.String(), "leaf_hash": tlog.RecordHash([]byte(p.GetEntry().GetJson())).String(),
		"proof": proof, "entry": json.RawMessage(p.GetEntry().GetJson()), "checkpoint": cpr.GetCheckpoint(), "verified": true,
	}, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return nil
}

// export writes the log into dir as a folder that appears whole or not at
// all (placeFolder): downloaded, verified as the authority will verify it,
// then written into a temporary folder beside dir and renamed into place.
// An export that fails (a stream broken, a log that does not verify, a
// write refused, the context cancelled) leaves nothing, and never touches
// a folder already at dir that holds anything, such as an earlier export.
func export(ctx context.Context, ac liaisonv1.AuditClient, v note.Verifier, policy *audit.WitnessPolicy, vkey, dir string, stdout, stderr io.Writer) error {
	// Refused before the download, and again at the rename if the folder
	// filled meanwhile.
	dest, err := freeFolder(dir)
	if err != nil {
		return fmt.Errorf("audit export: -out %v", err)
	}
	stream, err := ac.Export(ctx, &liaisonv1.ExportRequest{})
	if err != nil {
		return err
	}
	leaves, cp, err := readExport(stream, stderr)
	if err != nil {
		return err
	}
	// Check before writing: the export must verify as the authority will.
	if _, err := audit.VerifyLeaves(leaves, []byte(cp.GetCheckpoint()), v); err != nil {
		return fmt.Errorf("audit export: the gateway's log does not verify: %v", err)
	}
	who, err := checkExportWitnesses(policy, []byte(cp.GetCheckpoint()), v)
	if err != nil {
		return fmt.Errorf("audit export: the gateway's checkpoint: %v", err)
	}
	err = placeFolder(ctx, dest, func(tmp string) error {
		if err := writeEntries(ctx, filepath.Join(tmp, "entries.jsonl"), leaves); err != nil {
			return fmt.Errorf("write entries.jsonl: %w", err)
		}
		if err := writeSynced(filepath.Join(tmp, "checkpoint"), func(w *bufio.Writer) { w.WriteString(cp.GetCheckpoint()) }); err != nil {
			return fmt.Errorf("write checkpoint: %w", err)
		}
		if err := writeSynced(filepath.Join(tmp, "verifier.key"), func(w *bufio.Writer) { w.WriteString(vkey + "\n") }); err != nil {
			return fmt.Errorf("write verifier.key: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit export: nothing written to %s: %w", dest, err)
	}
	fmt.Fprint(stdout, exportedLine(len(leaves), dir))
	printCosigners(stdout, policy, who)
	return nil
}

// writeEntries writes entries.jsonl, one leaf a line, and syncs it. A
// write that fails (a full disk, a file size limit) is an error, and so
// is a cancelled context, checked as it goes.
func writeEntries(ctx context.Context, path string, leaves [][]byte) error {
	var cancelled error
	err := writeSynced(path, func(w *bufio.Writer) {
		for i, l := range leaves {
			if i%4096 == 0 {
				if cancelled = ctx.Err(); cancelled != nil {
					return
				}
			}
			w.Write(l)
			w.WriteByte('\n')
		}
	})
	if cancelled != nil {
		return cancelled
	}
	return err
}

// verifyExport checks an export folder offline.
func verifyExport(ctx context.Context, dir string, v note.Verifier, policy *audit.WitnessPolicy, state string, stdout io.Writer) error {
	signed, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "entries.jsonl"))
	if err != nil {
		return err
	}
	// One entry a line, each line exactly a leaf: an empty line is no
	// entry, and refused rather than skipped (docs/auditor reads it as a
	// leaf of its own).
	var leaves [][]byte
	if len(b) > 0 {
		for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line == "" {
				return fmt.Errorf("audit verify: FAILED: %s line %d is empty: one entry a line", filepath.Join(dir, "entries.jsonl"), i+1)
			}
			leaves = append(leaves, []byte(line))
		}
	}
	client := audit.NewClient(nil, audit.TrustFile(state), v)
	if policy != nil {
		if err := client.RequireWitnesses(*policy); err != nil {
			return err
		}
	}
	latest, before, err := client.CheckExport(ctx, leaves, signed)
	if err != nil {
		return verifyFailed(err)
	}
	printCosigners(stdout, policy, client.Cosigners())
	printTrust(stdout, before, state)
	verify := "entries verify"
	if latest.Size == 1 {
		verify = "entry verifies"
	}
	fmt.Fprintf(stdout, "OK: %d %s against the checkpoint signed by %s\n", latest.Size, verify, v.Name())
	return nil
}
