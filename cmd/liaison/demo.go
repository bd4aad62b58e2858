package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const demoUsage = `Usage:

	liaison demo [flags]
	liaison demo cross-border [flags]

Without a command: one gateway with sample Danish and Dutch agencies plays
the scripted scenarios the README describes and verifies its audit log.
Exits 0 only if every outcome is the expected one.

Commands:

	cross-border  two countries' gateways as peers: a release notice, a request, a correction and a required notice across the border, each under both countries' law

Flags:
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "cross-border" {
		return runCrossBorderDemo(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("liaison demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoUsage)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "", "data `directory`, new or empty, kept afterwards with the checkpoint verifier key (verifier.key) and an export of the log (export/); empty means a temporary one, removed at the end")
	exportDir := fs.String("export", "", "also export the audit log to this `folder`, new or empty, in the format of an export for a supervisory authority (with -dir, instead of DIR/export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("demo: unexpected argument %q (the commands: cross-border)", fs.Arg(0))
	}
	if err := demoFolderUnused("demo", "-dir", *dir); err != nil {
		return err
	}
	if err := demoFolderUnused("demo", "-export", *exportDir); err != nil {
		return err
	}
	if *exportDir != "" {
		// What the export will refuse at the end (the current folder, a
		// file), refused before anything is played.
		if _, err := freeFolder(*exportDir); err != nil {
			return fmt.Errorf("demo: -export %v", err)
		}
	}
	d := &demo{out: stdout, start: time.Now(), exportDir: *exportDir, kept: *dir != "", clock: newDemoClock()}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "liaison-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	return d.run(ctx, *dir)
}

// demoFolderUnused refuses, before anything is played, a folder a demo's
// flag names that exists and is not empty: the demo writes a new audit
// log, keys and certificates there, and a previous demo's would make it
// fail half-way (its case exists already) after appending entries, dated
// days before the earlier run's, to the log kept for a look. "" (none
// named) and a folder not yet made are fine.
func demoFolderUnused(cmd, flag, dir string) error {
	if dir == "" {
		return nil
	}
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %s %s: %v", cmd, flag, dir, err)
	case len(ents) > 0:
		return fmt.Errorf("%s: %s %s is not empty (a previous demo's data?): name a new or empty folder", cmd, flag, dir)
	}
	return nil
}

type demo struct {
	out       io.Writer
	start     time.Time
	exportDir string
	kept      bool   // the data directory stays after the demo (-dir)
	dir       string // the data directory
	pki       *sample.PKI
	gw        *runningGateway
	// clock is the gateway's: the Safety House scenario runs over three
	// days, ending now.
	clock *demoClock
	// policies is a policy directory instead of the embedded policies
	// (tests only: liaison demo plays the embedded default).
	policies string
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "%8s  %s\n", fmt.Sprintf("+%.2fs", time.Since(d.start).Seconds()), fmt.Sprintf(format, args...))
}

func (d *demo) detail(format string, args ...any) {
	fmt.Fprintf(d.out, "%8s      %s\n", "", fmt.Sprintf(format, args...))
}

func (d *demo) run(ctx context.Context, dir string) error {
	d.dir = dir
	fmt.Fprintln(d.out, "Liaison demo: the embedded default (SQLite audit log, local key file, embedded policies, sample agencies)")
	fmt.Fprintln(d.out, "Every person below is invented.")
	fmt.Fprintln(d.out)

	fx, stop, err := d.startHolders(filepath.Join(dir, "pki"))
	if err != nil {
		return err
	}
	defer stop()

	logFile, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	d.gw, err = startGateway(ctx, gatewayOptions{
		Listen:    "127.0.0.1:0",
		Registry:  d.pki.Registry,
		TLSCert:   d.pki.Path("gateway.pem"),
		TLSKey:    d.pki.Path("gateway.key"),
		ClientCAs: []string{d.pki.Path("ca.pem")},
		AuditDB:   filepath.Join(dir, "audit.db"),
		AuditKey:  filepath.Join(dir, "audit-signer.key"),
		AuditName: "demo.liaison.test",
		Keys:      filepath.Join(dir, "pseudonym-keys.json"),
		Audience:  "liaison",
		Logger:    slog.New(slog.NewJSONHandler(logFile, nil)),
		Now:       d.clock.Now,
		Policies:  d.policies,
	})
	if err != nil {
		return err
	}
	defer d.gw.Stop()
	d.say("setup   gateway on %s: TLS 1.3, client certificates required, policies embedded", d.gw.Addr)
	d.detail("audit log %s, gateway log %s", filepath.Join(dir, "audit.db"), logFile.Name())
	fmt.Fprintln(d.out)

	if err := d.releaseNotice(ctx, fx); err != nil {
		return err
	}
	if err := d.riskAssessment(ctx, "nl-police-rotterdam", "insp.de.vries", "police", liaisonv1.Outcome_OUTCOME_PSEUDONYMISE); err != nil {
		return err
	}
	if err := d.riskAssessment(ctx, "nl-ngo-exit", "mentor.jansen", "ngo", liaisonv1.Outcome_OUTCOME_DENY); err != nil {
		return err
	}
	if err := d.safetyHouse(ctx); err != nil {
		return err
	}
	return d.auditTrail(ctx)
}

// startHolders writes the sample PKI under dir and starts the sample holder
// agencies' RecordProviders on loopback, with mTLS.
func (d *demo) startHolders(dir string) (*sample.Fixtures, func(), error) {
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		return nil, nil, err
	}
	listeners := map[string]net.Listener{}
	providers := map[string]string{}
	for _, a := range sample.SampleAgencies {
		if !a.Holder {
			continue
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		listeners[a.ID], providers[a.ID] = lis, lis.Addr().String()
	}
	d.pki, err = sample.WritePKI(dir, providers)
	if err != nil {
		return nil, nil, err
	}
	d.say("setup   development CA, certificates and token issuers for %d sample agencies in %s", len(sample.SampleAgencies), d.pki.Dir)
	var servers []*grpc.Server
	stop := func() {
		for _, gs := range servers {
			gs.Stop()
		}
	}
	for _, a := range sample.SampleAgencies {
		lis, ok := listeners[a.ID]
		if !ok {
			continue
		}
		srv, err := fx.NewServer(a.ID, d.pki.CA.GatewayIdentity())
		if err != nil {
			stop()
			return nil, nil, err
		}
		tc, err := mtlsServerConfig(d.pki.Path("agencies", a.ID+".pem"), d.pki.Path("agencies", a.ID+".key"), d.pki.Path("ca.pem"))
		if err != nil {
			stop()
			return nil, nil, err
		}
		gs := srv.Register(credentials.NewTLS(tc))
		servers = append(servers, gs)
		go gs.Serve(lis)
		d.say("setup   sample holder %-16s serves synthetic records on %s (mTLS)", a.ID, lis.Addr())
	}
	return fx, stop, nil
}

// client dials the gateway as an officer of a sample agency.
func (d *demo) client(agency, officer string, roles []string, clearance string) (*grpc.ClientConn, error) {
	cert, err := tls.LoadX509KeyPair(d.pki.Path("agencies", agency+".pem"), d.pki.Path("agencies", agency+".key"))
	if err != nil {
		return nil, err
	}
	tok, err := d.pki.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: roles, Clearance: clearance, Audience: "liaison"})
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: d.pki.CA.Pool()}
	return grpc.NewClient(d.gw.Addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(bearerToken(tok)))
}

// bearerToken sends an officer token with every call, over TLS only.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }

func (d *demo) releaseNotice(ctx context.Context, fx *sample.Fixtures) error {
	fmt.Fprintln(d.out, "1. Denmark: the prison service tells Aarhus police of an upcoming release")
	rec, attrs, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		return errors.New("demo: sample release notice missing")
	}
	conn, err := d.client("dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential")
	if err != nil {
		return err
	}
	defer conn.Close()
	d.say("dk-prison-east      -> Disclose release_notice to dk-police-aarhus, purpose risk_management")
	resp, err := liaisonv1.NewExchangeClient(conn).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Release in eleven days: local police must know before release (KSP co-operation).",
	})
	if err != nil {
		return fmt.Errorf("demo: disclose: %v", err)
	}
	r := resp.GetResults()[0]
	if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		return fmt.Errorf("demo: release notice outcome %v, want DISCLOSE", r.GetOutcome())
	}
	d.say("gateway             DISCLOSED under %s, audit entry #%d", r.GetLegalBasis().GetId(), r.GetAuditIndex())
	d.detail("citation:   %s", r.GetLegalBasis().GetCitation())
	d.detail("conditions: %s", strings.Join(r.GetConditions(), ", "))

	pol, err := d.client("dk-police-aarhus", "pi.soerensen", []string{"case_officer"}, "confidential")
	if err != nil {
		return err
	}
	defer pol.Close()
	item, err := firstInboxItem(ctx, pol, "police")
	if err != nil {
		return err
	}
	rn := item.GetReleased().GetRecord().GetReleaseNotice()
	d.say("dk-police-aarhus    <- inbox item %d from %s: release on %s from %s to %s", item.GetCursor(), item.GetSender(),
		rn.GetReleaseDate(), rn.GetFacility(), rn.GetDestination().GetMunicipality())
	d.detail("fields received: %s", strings.Join(item.GetReleased().GetFields(), " "))
	if _, err := liaisonv1.NewExchangeClient(pol).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()}); err != nil {
		return err
	}
	fmt.Fprintln(d.out)
	return nil
}

func (d *demo) riskAssessment(ctx context.Context, agency, officer, kind string, want liaisonv1.Outcome) error {
	if want == liaisonv1.Outcome_OUTCOME_DENY {
		fmt.Fprintln(d.out, "3. Netherlands: an exit-programme NGO asks probation for the same risk assessment")
	} else {
		fmt.Fprintln(d.out, "2. Netherlands: Rotterdam police ask probation for a risk assessment, outside any Safety House case")
	}
	conn, err := d.client(agency, officer, []string{"case_officer"}, "restricted")
	if err != nil {
		return err
	}
	defer conn.Close()
	d.say("%-19s -> Request risk_assessment from nl-probation, purpose risk_management", agency)
	resp, err := liaisonv1.NewExchangeClient(conn).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType:    liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Planning contact after a reported meeting with a known recruiter.",
	})
	if want == liaisonv1.Outcome_OUTCOME_DENY {
		st := status.Convert(err)
		if st.Code() != codes.PermissionDenied {
			return fmt.Errorf("demo: NGO request: got %v, want PermissionDenied", err)
		}
		reason := ""
		for _, det := range st.Details() {
			if ei, ok := det.(*errdetails.ErrorInfo); ok {
				reason = ei.GetReason()
			}
		}
		if reason != "ASSESSMENT_TO_NGO" {
			return fmt.Errorf("demo: NGO request refused with reason %q, want ASSESSMENT_TO_NGO", reason)
		}
		d.say("gateway             DENIED (%s, %s): %s", st.Code(), reason, st.Message())
		fmt.Fprintln(d.out)
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo: request: %v", err)
	}
	rel := resp.GetReleased()
	if rel.GetOutcome() != want {
		return fmt.Errorf("demo: risk assessment outcome %v, want %v", rel.GetOutcome(), want)
	}
	ra := rel.GetRecord().GetRiskAssessment()
	d.say("gateway             PSEUDONYMISED (no legal basis outside a case), audit entry #%d", rel.GetAuditIndex())
	d.detail("subject:    %s (pseudonym in domain %q; name and address removed)", rel.GetSubjectPseudonym(), rel.GetPseudonymDomain())
	d.detail("assessment: %v, level %v, assessed %s (an assessment, not a fact: %v)", ra.GetTool(), ra.GetLevel(), ra.GetAssessedOn(), rel.GetAssessment())
	d.detail("fields:     %s", strings.Join(rel.GetFields(), " "))
	if len(rel.GetConditions()) > 0 {
		d.detail("conditions: %s", strings.Join(rel.GetConditions(), ", "))
	}
	fmt.Fprintln(d.out)
	return nil
}

func (d *demo) auditTrail(ctx context.Context) error {
	fmt.Fprintln(d.out, "5. The audit log: what an auditor sees, and its proof")
	conn, err := d.client("dk-prison-east", "dpo.kristensen", []string{"auditor"}, "confidential")
	if err != nil {
		return err
	}
	defer conn.Close()
	ac := liaisonv1.NewAuditClient(conn)
	resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{Limit: 1000})
	if err != nil {
		return fmt.Errorf("demo: audit query: %v", err)
	}
	read := len(resp.GetEntries())
	cp, err := ac.GetCheckpoint(ctx, &liaisonv1.GetCheckpointRequest{})
	if err != nil {
		return fmt.Errorf("demo: checkpoint: %v", err)
	}
	entries, err := entriesUpTo(ctx, ac, resp.GetEntries(), cp.GetSize())
	if err != nil {
		return fmt.Errorf("demo: audit query: %v", err)
	}
	d.say("auditor             -> Query: %d entries, then the query's own entry (#%d), written once it had read", read, read)
	var leaves [][]byte
	for _, e := range entries[:cp.GetSize()] {
		leaves = append(leaves, []byte(e.GetJson()))
		ent, err := audit.Unmarshal([]byte(e.GetJson()))
		if err != nil {
			return err
		}
		d.detail("#%d %s", e.GetIndex(), describeEntry(ent))
	}
	v, err := note.NewVerifier(d.gw.VerifierKey)
	if err != nil {
		return err
	}
	size, err := audit.VerifyLeaves(leaves, []byte(cp.GetCheckpoint()), v)
	if err != nil {
		return fmt.Errorf("demo: audit log does not verify: %v", err)
	}
	d.say("auditor             checkpoint signed by %s covers %d entries; recomputed Merkle root matches: log VERIFIED", v.Name(), size)
	d.detail("verifier key: %s", d.gw.VerifierKey)
	d.detail("(the checkpoint verifier key: an operator gives it to auditors out of band; never trust the one a gateway serves)")
	if err := d.checkYourself(ctx, ac, v); err != nil {
		return err
	}
	fmt.Fprintln(d.out)
	fmt.Fprintln(d.out, "Demo complete: one disclosure, one pseudonymised answer, one refusal, a Safety House case whose release notice reached every member and the competent police, one notice escalated, all in a verified log.")
	return nil
}

// entriesUpTo returns have, the log's entries from index 0 as a query
// returned them, and, queried after them, those up to index size-1 at
// least: a query's own audit_read entry is written once it has read, so a
// checkpoint taken after a query covers entries it did not return.
func entriesUpTo(ctx context.Context, ac liaisonv1.AuditClient, have []*liaisonv1.AuditEntry, size int64) ([]*liaisonv1.AuditEntry, error) {
	for int64(len(have)) < size {
		resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{Start: int64(len(have)), Limit: 1000})
		if err != nil {
			return nil, err
		}
		if len(resp.GetEntries()) == 0 || resp.GetEntries()[0].GetIndex() != int64(len(have)) {
			return nil, fmt.Errorf("the log did not return entry %d, which its checkpoint covers", len(have))
		}
		have = append(have, resp.GetEntries()...)
	}
	return have, nil
}

// checkYourself exports the log where it outlives the demo (-export, or
// DIR/export with -dir), writes the verifier key beside the data, and
// prints how an auditor checks the log without the demo: with the export
// and the verifier key, and against a running gateway.
func (d *demo) checkYourself(ctx context.Context, ac liaisonv1.AuditClient, v note.Verifier) error {
	exp := d.exportDir
	if exp == "" && d.kept {
		exp = filepath.Join(d.dir, "export")
	}
	if exp == "" {
		d.detail("run `liaison demo -dir DIR` to keep the data, the verifier key and an export of the log, and check it yourself")
		return nil
	}
	if err := export(ctx, ac, v, nil, d.gw.VerifierKey, exp, io.Discard, io.Discard); err != nil {
		return err
	}
	d.say("auditor             exported the log to %s (entries.jsonl, checkpoint, verifier.key)", exp)
	keyFile := filepath.Join(exp, "verifier.key")
	if d.kept {
		keyFile = filepath.Join(d.dir, "verifier.key")
		if err := os.WriteFile(keyFile, []byte(d.gw.VerifierKey+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintln(d.out)
	fmt.Fprintln(d.out, "Check it yourself, after the demo:")
	d.detail("the verifier key is in %s", keyFile)
	d.detail("with nothing but tlog and note (from the source tree):")
	d.detail("  go run ./docs/auditor -key \"$(cat %s)\" %s", keyFile, exp)
	d.detail("with liaison:")
	d.detail("  liaison audit verify -export %s -verifier-key @%s -state %s", exp, keyFile, filepath.Join(filepath.Dir(keyFile), "auditor.trusted"))
	if d.kept {
		pki := d.pki.Dir
		d.detail("export from a running gateway (here the demo's, while it ran on %s):", d.gw.Addr)
		d.detail("  liaison audit export -gateway %s -ca %s -cert %s -key %s \\", d.gw.Addr, d.pki.Path("ca.pem"),
			d.pki.Path("agencies", "dk-prison-east.pem"), d.pki.Path("agencies", "dk-prison-east.key"))
		d.detail("    -token \"$(liaison dev token -pki %s -agency dk-prison-east -officer dpo.kristensen -roles auditor)\" \\", pki)
		d.detail("    -verifier-key @%s -out FOLDER", keyFile)
	}
	return nil
}

// firstInboxItem reads the oldest unread item in the inbox of the agency
// conn is an officer of; whose names it in an error.
func firstInboxItem(ctx context.Context, conn *grpc.ClientConn, whose string) (*liaisonv1.SubscribeResponse, error) {
	stream, err := liaisonv1.NewExchangeClient(conn).Subscribe(ctx, &liaisonv1.SubscribeRequest{})
	if err != nil {
		return nil, err
	}
	item, err := stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("demo: %s inbox: %v", whose, err)
	}
	return item, nil
}

// trailTime is an entry's time in a demo's audit trail, in UTC with its
// day, as the demo's clock lines give it ("Wed 2 Dec 15:51:06"): the
// Safety House scenario spans four days, which the time alone hid.
func trailTime(t time.Time) string {
	return t.UTC().Format("Mon 2 Jan 15:04:05")
}

func describeEntry(e *audit.Entry) string {
	var b strings.Builder
	switch e.Action {
	case audit.ActionPolicyActivate, audit.ActionKeyRotate, audit.ActionKeyRetire, audit.ActionKeyRestore:
		fmt.Fprintf(&b, "%s %s: %s", trailTime(e.Time), e.Action, strings.ToUpper(e.Outcome))
		switch e.Action {
		case audit.ActionPolicyActivate:
			if e.PolicyRevision != "" {
				fmt.Fprintf(&b, " revision %s", short(e.PolicyRevision))
			}
			if src := e.Detail["source"]; src != "" {
				fmt.Fprintf(&b, " from %s", src)
			}
			if e.Requester != nil {
				fmt.Fprintf(&b, ", asked by %s", actor(e))
			}
		case audit.ActionKeyRotate:
			fmt.Fprintf(&b, " %s", keyRotation(e.Detail))
		case audit.ActionKeyRetire:
			fmt.Fprintf(&b, " versions %s left the key ring; current version %s%s", e.Detail["retired_versions"], e.Detail["current_version"], seenAtStart(e.Detail))
		case audit.ActionKeyRestore:
			fmt.Fprintf(&b, " versions %s back in the key ring; current version %s%s", e.Detail["restored_versions"], e.Detail["current_version"], seenAtStart(e.Detail))
		}
		if len(e.Reasons) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(e.Reasons, ", "))
		}
		return b.String()
	}
	who := actor(e)
	switch {
	case who == "-" && e.Action == audit.ActionAuthenticate:
		who = "a caller that named no agency"
	case who == "-":
		who = "the gateway"
	}
	fmt.Fprintf(&b, "%s %s by %s", trailTime(e.Time), e.Action, who)
	if s, ok := describeCaseOrNotice(e); ok {
		return b.String() + s
	}
	switch e.Action {
	case audit.ActionAuditRead:
		// What was asked: the operation and the filters given.
		var asked []string
		for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
			if v := e.Detail[k]; k != "operation" && v != "false" {
				asked = append(asked, k+"="+v)
			}
		}
		fmt.Fprintf(&b, ": %s", e.Detail["operation"])
		if len(asked) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(asked, ", "))
		}
		fmt.Fprintf(&b, " -> %s", strings.ToUpper(e.Outcome))
		if len(e.Reasons) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(e.Reasons, ", "))
		}
		return b.String()
	case audit.ActionAuthenticate:
		// A refused call: what it called, from where; or a window's
		// refusals counted in one entry.
		if e.Detail["summary"] == "true" {
			fmt.Fprintf(&b, ": %s refused calls from %s, not recorded one by one (%s)", e.Detail["suppressed"], e.Detail["peer"], e.Detail["by_reason"])
		} else {
			fmt.Fprintf(&b, ": %s from %s", e.Detail["method"], e.Detail["peer"])
		}
		fmt.Fprintf(&b, " -> %s", strings.ToUpper(e.Outcome))
		if len(e.Reasons) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(e.Reasons, ", "))
		}
		return b.String()
	}
	// An exchange, or what came after one (a correction, a withdrawal, an
	// expiry notice, an expiry decided again): what the entry holds, no
	// part it leaves empty.
	b.WriteString(": " + e.RecordType)
	if e.Purpose != "" {
		fmt.Fprintf(&b, " for %s", e.Purpose)
	}
	if e.Holder != nil {
		fmt.Fprintf(&b, ", holder %s", e.Holder.Agency)
	}
	if len(e.Recipients) > 0 {
		fmt.Fprintf(&b, ", recipient %s", recipientIDs(e))
	}
	fmt.Fprintf(&b, " -> %s", strings.ToUpper(e.Outcome))
	if e.LegalBasis != nil {
		fmt.Fprintf(&b, " under %s", e.LegalBasis.ID)
	}
	if len(e.Reasons) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Reasons, ", "))
	}
	if kind := e.Detail[audit.DetailNoticeKind]; kind != "" {
		refs, _ := audit.ParseIndexes(e.Detail[audit.DetailRefersTo])
		fmt.Fprintf(&b, "; %s notice about %s (%s), to %s", kind, entriesWord(refs), e.Detail[audit.DetailReason], e.Detail[audit.DetailObligation])
	}
	if e.Action == audit.ActionReviseExpiry && e.Detail[audit.DetailRelease] != "" {
		fmt.Fprintf(&b, "; release %s valid until %s", e.Detail[audit.DetailRelease], cmp.Or(e.Detail[audit.DetailValidUntil], e.Detail[audit.DetailValidBefore]))
	}
	if e.Subject != nil {
		fmt.Fprintf(&b, "; subject %s", e.Subject.Pseudonym)
	}
	fmt.Fprintf(&b, "; %d fields", len(e.FieldsDisclosed))
	if e.PolicyRevision != "" {
		fmt.Fprintf(&b, "; policy %s", short(e.PolicyRevision))
	}
	return b.String()
}

func partyID(p *audit.Party) string {
	if p == nil {
		return "-"
	}
	return p.Agency
}

func short(rev string) string {
	if len(rev) > 19 {
		return rev[:19]
	}
	return rev
}

// keyRotation says what a key_rotate entry records: "version 1 to 2", or,
// for the key state a gateway found at its start on a log that recorded
// none (no old_version), "version 1 current, found at start".
func keyRotation(d map[string]string) string {
	if d["old_version"] == "" {
		return "version " + d["new_version"] + " current, found at start"
	}
	return "version " + d["old_version"] + " to " + d["new_version"] + seenAtStart(d)
}

// seenAtStart is ", found at start" for a key entry a gateway wrote at
// its start (detail seen: start), for a change made while it was down.
func seenAtStart(d map[string]string) string {
	if d["seen"] == "start" {
		return ", found at start"
	}
	return ""
}
