package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const matchAbout = `Match asks holder agencies, through the gateway, whether they hold records
of the given types about a subject: hit, no-hit, unavailable or denied (the
law does not let the holder answer you) per holder and record type, nothing
more (step one of hit/no-hit). Each answer is decided by the holder's law and
logged on its own. A hit prints a reference; cite it in
a Request (match_reference) to ask for the content (step two), with its own
justification. A holder that does not answer before -deadline is
unavailable, never no-hit.

Prints one line per answer: holder, record type, answer, audit index, and the
reference and its expiry for a hit, or the reasons.`

func runMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: liaison match -subject ID -record-type TYPE -purpose PURPOSE -justification TEXT [flags]\n\n%s\n\nFlags:\n", matchAbout)
		fs.PrintDefaults()
	}
	conn := auditConn{stderr: stderr}
	fs.StringVar(&conn.gateway, "gateway", "127.0.0.1:8443", "gateway `address`")
	fs.StringVar(&conn.cert, "cert", "", "your agency's client certificate `file` (PEM)")
	fs.StringVar(&conn.key, "key", "", "its private key `file` (PEM)")
	fs.StringVar(&conn.ca, "ca", "", "CA `file` the gateway's certificate chains to")
	fs.StringVar(&conn.token, "token", "", "the officer's `token` (or -token-file, or $LIAISON_TOKEN)")
	fs.StringVar(&conn.tokenFile, "token-file", "", "`file` holding the officer token (one that cannot be read or is empty is an error, never skipped for $LIAISON_TOKEN)")
	vocab := gateway.QueryFilterValues()
	subject := fs.String("subject", "", "the subject's `identifier`, as the holders know it")
	var types, holders multiFlag
	fs.Var(&types, "record-type", "record `type` to ask about (repeat for more): "+strings.Join(vocab["record_type"], ", "))
	purpose := fs.String("purpose", "", "`purpose`: "+strings.Join(matchPurposes(), ", "))
	fs.Var(&holders, "holder", "holder agency `id` to ask (repeat for more); none means every holder (or every member of -case)")
	caseID := fs.String("case", "", "a multi-agency case `id` registered with the gateway")
	basis := fs.String("legal-basis", "", "the legal basis `id` you rely on, if any")
	justification := fs.String("justification", "", "why you ask, in `words` (never the subject's identifier)")
	deadline := fs.Duration("deadline", 2*time.Second, "how long the gateway waits for the holders (at most 30s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("match: unexpected argument %q", fs.Arg(0))
	}
	// The request carries milliseconds in an int32: a longer -deadline
	// would wrap (4294969296ms to 2s) rather than be refused, and one
	// under a millisecond would be sent as 0, the gateway's default of 2s.
	if *deadline < 0 || *deadline > 30*time.Second || *deadline > 0 && *deadline < time.Millisecond {
		return fmt.Errorf("match: -deadline %s: want 0 (the gateway's default, 2s) or 1ms to 30s", *deadline)
	}
	// A purpose or record type not in the list was sent as UNSPECIFIED
	// (a typo, or "unspecified"), for the gateway to refuse and log.
	pv, ok := liaisonv1.Purpose_value["PURPOSE_"+strings.ToUpper(*purpose)]
	if *purpose != "" && (!ok || pv == 0) {
		return fmt.Errorf("match: -purpose %q: accepted values are %s", *purpose, strings.Join(matchPurposes(), ", "))
	}
	req := &liaisonv1.MatchRequest{
		SubjectId: *subject, Purpose: liaisonv1.Purpose(pv),
		ClaimedLegalBasis: *basis, CaseId: *caseID, Justification: *justification, Holders: holders,
		DeadlineMs: int32(deadline.Milliseconds()),
	}
	for _, t := range types {
		rt, ok := liaisonv1.RecordType_value["RECORD_TYPE_"+strings.ToUpper(t)]
		if !ok || rt == 0 {
			return fmt.Errorf("match: -record-type %q: not a record type", t)
		}
		req.RecordTypes = append(req.RecordTypes, liaisonv1.RecordType(rt))
	}
	if *subject == "" || len(types) == 0 || *purpose == "" || *justification == "" {
		return errors.New("match: -subject, -record-type, -purpose and -justification are required")
	}
	cc, err := conn.dial()
	if err != nil {
		return fmt.Errorf("match: %v", err)
	}
	defer cc.Close()
	resp, err := liaisonv1.NewExchangeClient(cc).Match(ctx, req)
	if err != nil {
		return fmt.Errorf("match: %v", err)
	}
	for _, r := range resp.GetResults() {
		answer := strings.ToLower(strings.TrimPrefix(r.GetAnswer().String(), "MATCH_ANSWER_"))
		rt := strings.ToLower(strings.TrimPrefix(r.GetRecordType().String(), "RECORD_TYPE_"))
		line := fmt.Sprintf("%s\t%s\t%s\taudit %d", r.GetHolder(), rt, answer, r.GetAuditIndex())
		if r.GetReference() != "" {
			line += fmt.Sprintf("\treference %s\texpires %s", r.GetReference(), r.GetReferenceExpiresAt())
		} else if len(r.GetReasons()) > 0 {
			line += "\t" + strings.Join(r.GetReasons(), ",")
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// matchPurposes are the purposes a Match may give, as -purpose spells
// them, in the proto's order.
func matchPurposes() []string {
	var ps []string
	for i := 1; ; i++ {
		name, ok := liaisonv1.Purpose_name[int32(i)]
		if !ok {
			return ps
		}
		ps = append(ps, strings.ToLower(strings.TrimPrefix(name, "PURPOSE_")))
	}
}
