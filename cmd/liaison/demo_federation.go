package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/loopback"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const crossBorderUsage = `Usage:

	liaison demo cross-border [flags]

Two countries' gateways, the Danish and the Dutch, each with its own sample
agencies, development CA, policy, pseudonym keys and audit log, peers of
each other over mTLS. A person released in Denmark moves to the
Netherlands: the Danish prison service's release notice reaches the
Rotterdam police through both gateways, each applying its own law; the
Rotterdam police's request for the Danish risk assessment comes back
pseudonymised under Danish law; the release date moves, and the prison
service's correction reaches the Rotterdam police the same way, carrying
the required notice of the new date, which both gateways track; the police
acknowledge the notice and the correction at their gateway, which forwards
both acknowledgements; both logs are verified, and each holds the other
gateway's signed receipt of its part. Exits 0 only if every outcome is the
expected one.

Flags:
`

func runCrossBorderDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison demo cross-border", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), crossBorderUsage)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "", "data `directory`, new or empty, kept afterwards (dk/ and nl/: certificates, registry, audit database, gateway log); empty means a temporary one, removed at the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("demo cross-border: unexpected argument %q", fs.Arg(0))
	}
	if err := demoFolderUnused("demo cross-border", "-dir", *dir); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "liaison-demo-cross-border-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	d := &crossDemo{demo: demo{out: stdout, start: time.Now()}}
	return d.run(ctx, *dir)
}

// crossDemo is the cross-border demo: two gateways, peers of each other.
type crossDemo struct {
	demo
	dk, nl *demoCountry
}

// demoCountry is one country of the cross-border demo.
type demoCountry struct {
	*sample.Country
	name   string // "Danish", "Dutch"
	peerID string // its id in the other country's registry
	opts   gatewayOptions
	gw     *runningGateway
	vkey   string
}

func (d *crossDemo) run(ctx context.Context, dir string) error {
	fmt.Fprintln(d.out, "Liaison demo, across a border: the Danish and the Dutch gateway, each with its own agencies, policy, keys and log")
	fmt.Fprintln(d.out, "Every person below is invented.")
	fmt.Fprintln(d.out)
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		return err
	}
	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	mk := func(code, jur, name, holder string) (*demoCountry, error) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		cdir := filepath.Join(dir, code)
		domain := code + ".liaison.test"
		c, err := sample.WriteCountry(filepath.Join(cdir, "pki"), domain, jur, map[string]string{holder: lis.Addr().String()})
		if err != nil {
			lis.Close()
			return nil, err
		}
		srv, err := fx.NewServer(holder, c.CA.GatewayIdentity())
		if err != nil {
			lis.Close()
			return nil, err
		}
		tc, err := mtlsServerConfig(c.Path("agencies", holder+".pem"), c.Path("agencies", holder+".key"), c.Path("ca.pem"))
		if err != nil {
			lis.Close()
			return nil, err
		}
		gs := srv.Register(credentials.NewTLS(tc))
		stops = append(stops, gs.Stop)
		go gs.Serve(lis)
		keyFile := filepath.Join(cdir, "audit-signer.key")
		_, vkey, err := audit.LoadOrCreateSignerKey(keyFile, domain)
		if err != nil {
			return nil, err
		}
		port, err := loopback.Addr()
		if err != nil {
			return nil, err
		}
		logFile, err := os.Create(filepath.Join(cdir, "gateway.log"))
		if err != nil {
			return nil, err
		}
		stops = append(stops, func() { logFile.Close() })
		d.say("setup   %s development CA, agencies and gateway assertion key in %s", name, c.Dir)
		d.say("setup   %s sample holder %s serves synthetic records on %s (mTLS)", name, holder, lis.Addr())
		return &demoCountry{Country: c, name: name, peerID: code + "-gateway", vkey: vkey, opts: gatewayOptions{
			Listen: port, Registry: c.Registry, TLSCert: c.Path("gateway.pem"), TLSKey: c.Path("gateway.key"),
			AuditDB: filepath.Join(cdir, "audit.db"), AuditKey: keyFile, AuditName: domain,
			Keys: filepath.Join(cdir, "pseudonym-keys.json"), Audience: "liaison",
			Logger:     slog.New(slog.NewJSONHandler(logFile, nil)),
			Federation: &federationOptions{Issuer: sample.AssertionIssuer(domain), Key: c.Path("issuers", "gateway.key"), Kid: "gateway-1", Timeout: 30 * time.Second},
		}}, nil
	}
	if d.dk, err = mk("dk", "DK", "Danish", "dk-prison-east"); err != nil {
		return err
	}
	if d.nl, err = mk("nl", "NL", "Dutch", "nl-probation"); err != nil {
		return err
	}
	for _, p := range [][2]*demoCountry{{d.dk, d.nl}, {d.nl, d.dk}} {
		me, peer := p[0], p[1]
		if err := me.AddPeer(peer.peerID, peer.Country, peer.opts.Listen, peer.vkey); err != nil {
			return err
		}
		me.opts.ClientCAs = []string{me.Path("ca.pem"), peer.Path("ca.pem")}
	}
	// One policy for both gateways: one load compiles and plans the tree.
	eng, err := policies.LoadSource(ctx, policies.EmbeddedSource())
	if err != nil {
		return err
	}
	for _, c := range []*demoCountry{d.dk, d.nl} {
		c.opts.Engine = eng
		if c.gw, err = startGateway(ctx, c.opts); err != nil {
			return fmt.Errorf("demo: the %s gateway: %v", c.name, err)
		}
		stops = append([]func(){func() { c.gw.Stop() }}, stops...)
		d.say("setup   %s gateway on %s: its peer is the %s gateway, which it knows by certificate, assertion key and checkpoint key",
			c.name, c.gw.Addr, map[string]string{"Danish": "Dutch", "Dutch": "Danish"}[c.name])
	}
	fmt.Fprintln(d.out)
	if err := d.releaseNotice(ctx, fx); err != nil {
		return err
	}
	if err := d.riskAssessment(ctx); err != nil {
		return err
	}
	if err := d.correction(ctx, fx); err != nil {
		return err
	}
	if err := d.bothLogs(ctx); err != nil {
		return err
	}
	fmt.Fprintln(d.out)
	fmt.Fprintln(d.out, "Demo complete: a notice, a pseudonymised answer and a correction carrying a required notice across a border, each under both countries' law, in two verified logs that prove each other's part.")
	return nil
}

// client dials a country's gateway as an officer of one of its agencies.
func (c *demoCountry) client(agency, officer string, roles []string, clearance string) (*grpc.ClientConn, error) {
	cert, err := tls.LoadX509KeyPair(c.Path("agencies", agency+".pem"), c.Path("agencies", agency+".key"))
	if err != nil {
		return nil, err
	}
	tok, err := c.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: roles, Clearance: clearance, Audience: "liaison"})
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: c.CA.Pool()}
	return grpc.NewClient(c.gw.Addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(bearerToken(tok)))
}

// entry reads one entry of a country's log.
func (c *demoCountry) entry(ctx context.Context, index int64) (*audit.Entry, error) {
	leaves, err := c.gw.Audit.Leaves(ctx, index, index+1)
	if err != nil {
		return nil, err
	}
	return audit.Unmarshal(leaves[0])
}

// peerIndex is the other gateway's entry an entry names.
func peerIndex(e *audit.Entry) int64 {
	n, err := strconv.ParseInt(e.Detail["peer_index"], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (d *crossDemo) releaseNotice(ctx context.Context, fx *sample.Fixtures) error {
	fmt.Fprintln(d.out, "1. Denmark: the prison service tells the Rotterdam police that a person it releases will live in Rotterdam")
	rec, attrs, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		return errors.New("demo: sample release notice missing")
	}
	rec = proto.CloneOf(rec)
	rn := rec.GetReleaseNotice()
	rn.Destination = &liaisonv1.Address{Street: "Verzonnenstraat 8", PostalCode: "3011 AA", Municipality: "Rotterdam", Country: "NL"}
	attrs = proto.CloneOf(attrs)
	attrs.Municipality = "Rotterdam"
	conn, err := d.dk.client("dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential")
	if err != nil {
		return err
	}
	defer conn.Close()
	d.say("dk-prison-east      -> Danish gateway: Disclose release_notice to nl-police-rotterdam (reached via nl-gateway), purpose risk_management")
	resp, err := liaisonv1.NewExchangeClient(conn).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"nl-police-rotterdam"},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Release in eleven days; he will live in Rotterdam. The police there must know before he arrives.",
	})
	if err != nil {
		return fmt.Errorf("demo: cross-border disclose: %v", err)
	}
	r := resp.GetResults()[0]
	if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		return fmt.Errorf("demo: release notice to the Dutch police: outcome %v, want DISCLOSE", r.GetOutcome())
	}
	final, err := d.dk.entry(ctx, r.GetAuditIndex())
	if err != nil {
		return err
	}
	d.say("Danish gateway      Danish law (the holder's): DISCLOSE under %s; logged #%s as pending, then forwarded", r.GetLegalBasis().GetId(), final.Detail["pending_index"])
	d.detail("citation:   %s", r.GetLegalBasis().GetCitation())
	nlEntry, err := d.nl.entry(ctx, peerIndex(final))
	if err != nil {
		return err
	}
	if nlEntry.Detail["peer_index"] != final.Detail["pending_index"] || nlEntry.Outcome != audit.OutcomeDisclose {
		return fmt.Errorf("demo: the Dutch entry #%d does not name the Danish pending entry", peerIndex(final))
	}
	d.say("Dutch gateway       checked the Danish receipt of #%s; Dutch law on receipt allows it (its own decision: %s); logged #%d and delivered",
		nlEntry.Detail["peer_index"], strings.ToUpper(nlEntry.Detail["receipt_outcome"]), peerIndex(final))
	d.say("Danish gateway      checked the Dutch receipt of #%d; logged #%d beside it", peerIndex(final), r.GetAuditIndex())

	pol, err := d.nl.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		return err
	}
	defer pol.Close()
	item, err := firstInboxItem(ctx, pol, "the Rotterdam police's")
	if err != nil {
		return err
	}
	got := item.GetReleased().GetRecord().GetReleaseNotice()
	if got == nil || item.GetSender() != "dk-prison-east" || got.GetDestination().GetMunicipality() != "Rotterdam" {
		return fmt.Errorf("demo: the Rotterdam police's inbox holds %v, want the Danish release notice", item)
	}
	d.say("nl-police-rotterdam <- inbox of the Dutch gateway, item %d from %s: release on %s from %s to %s (%s)", item.GetCursor(), item.GetSender(),
		got.GetReleaseDate(), got.GetFacility(), got.GetDestination().GetMunicipality(), got.GetDestination().GetCountry())
	d.detail("fields received: %s", strings.Join(item.GetReleased().GetFields(), " "))
	d.detail("conditions:      %s", strings.Join(item.GetReleased().GetConditions(), ", "))
	if _, err := liaisonv1.NewExchangeClient(pol).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()}); err != nil {
		return err
	}
	fmt.Fprintln(d.out)
	return nil
}

func (d *crossDemo) riskAssessment(ctx context.Context) error {
	fmt.Fprintln(d.out, "2. Netherlands: the Rotterdam police ask the Danish prison service for its risk assessment")
	conn, err := d.nl.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		return err
	}
	defer conn.Close()
	d.say("nl-police-rotterdam -> Dutch gateway: Request risk_assessment from dk-prison-east (reached via dk-gateway), purpose risk_management")
	resp, err := liaisonv1.NewExchangeClient(conn).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "dk-prison-east", SubjectId: "SYN-DK-0001",
		RecordType:    liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "A person released in Denmark now lives in Rotterdam; we need to know the risk to plan our contact.",
	})
	if err != nil {
		return fmt.Errorf("demo: cross-border request: %v", err)
	}
	rel := resp.GetReleased()
	if rel.GetOutcome() != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE {
		return fmt.Errorf("demo: the Danish risk assessment for the Dutch police: outcome %v, want PSEUDONYMISE", rel.GetOutcome())
	}
	final, err := d.nl.entry(ctx, rel.GetAuditIndex())
	if err != nil {
		return err
	}
	dkEntry, err := d.dk.entry(ctx, peerIndex(final))
	if err != nil {
		return err
	}
	if dkEntry.Detail["peer_index"] != final.Detail["pending_index"] || dkEntry.Outcome != audit.OutcomePseudonymise {
		return fmt.Errorf("demo: the Danish entry #%d does not name the Dutch pending entry", peerIndex(final))
	}
	d.say("Dutch gateway       Dutch rules before forwarding allow the request; logged #%s as pending, then forwarded", final.Detail["pending_index"])
	d.say("Danish gateway      checked the Dutch receipt of #%s; Danish law (the holder's): PSEUDONYMISED (%s); logged #%d",
		dkEntry.Detail["peer_index"], strings.Join(dkEntry.Reasons[:1], ""), peerIndex(final))
	d.say("Dutch gateway       checked the Danish receipt of #%d; Dutch law on receipt allows it (its own decision: %s); logged #%d, answered",
		peerIndex(final), strings.ToUpper(final.Detail["receipt_outcome"]), rel.GetAuditIndex())
	ra := rel.GetRecord().GetRiskAssessment()
	if ra.GetSubject().GetFullName() != "" || ra.GetLevel() == liaisonv1.RiskLevel_RISK_LEVEL_UNSPECIFIED {
		return fmt.Errorf("demo: the pseudonymised assessment names the person or has no level: %v", ra)
	}
	d.say("nl-police-rotterdam <- risk level %v, assessed %s; the person as %s (pseudonym in domain %q)", ra.GetLevel(), ra.GetAssessedOn(),
		rel.GetSubjectPseudonym(), rel.GetPseudonymDomain())
	d.detail("fields:     %s", strings.Join(rel.GetFields(), " "))
	d.detail("conditions: %s", strings.Join(rel.GetConditions(), ", "))
	fmt.Fprintln(d.out)
	return nil
}

// correction: the release date moves. The Danish prison service corrects
// its release notice; the correction reaches the Rotterdam police in their
// inbox at the Dutch gateway, decided under both countries' law and naming
// the Dutch entry of what they hold. It carries the required notice of the
// new date: Danish law requires the police to acknowledge it before the
// release (dk.notice.release.police), so both gateways track it under one
// id and one deadline. The police acknowledge the notice and the
// correction at their gateway, which forwards both acknowledgements, so
// each is closed in both logs.
func (d *crossDemo) correction(ctx context.Context, fx *sample.Fixtures) error {
	fmt.Fprintln(d.out, "3. Denmark: the release date moves; the prison service corrects its notice, Danish law requires the Rotterdam police to acknowledge the new date, and they do")
	rec, _, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		return errors.New("demo: sample release notice missing")
	}
	rec = proto.CloneOf(rec)
	rn := rec.GetReleaseNotice()
	rn.Destination = &liaisonv1.Address{Street: "Verzonnenstraat 8", PostalCode: "3011 AA", Municipality: "Rotterdam", Country: "NL"}
	rn.ReleaseDate = weekLater(rn.GetReleaseDate())
	conn, err := d.dk.client("dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential")
	if err != nil {
		return err
	}
	defer conn.Close()
	d.say("dk-prison-east      -> Danish gateway: Correct release_notice (release on %s, a week later)", rn.GetReleaseDate())
	resp, err := liaisonv1.NewAftercareClient(conn).Correct(ctx, &liaisonv1.CorrectRequest{
		Record: rec, Justification: "The release was postponed by a week after a disciplinary hearing.",
	})
	if err != nil {
		return fmt.Errorf("demo: cross-border correction: %v", err)
	}
	var r *liaisonv1.NoticeResult
	for _, x := range resp.GetResults() {
		if x.GetRecipient() == "nl-police-rotterdam" {
			r = x
		}
	}
	if r == nil || r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || r.GetNoticeId() == "" {
		return fmt.Errorf("demo: the correction for the Rotterdam police: %v, want a correction carrying the required notice of the new date", resp.GetResults())
	}
	final, err := d.dk.entry(ctx, r.GetAuditIndex())
	if err != nil {
		return err
	}
	nlEntry, err := d.nl.entry(ctx, peerIndex(final))
	if err != nil {
		return err
	}
	if nlEntry.Detail["peer_index"] != final.Detail["pending_index"] || nlEntry.Detail[audit.DetailNoticeKind] != audit.NoticeCorrection {
		return fmt.Errorf("demo: the Dutch entry #%d does not name the Danish pending entry of the correction", peerIndex(final))
	}
	if nlEntry.Detail["notice_id"] != r.GetNoticeId() || nlEntry.Detail["acknowledge_by"] != r.GetAcknowledgeBy() {
		return fmt.Errorf("demo: the Dutch entry #%d does not track the correction's notice %s", peerIndex(final), r.GetNoticeId())
	}
	d.say("Danish gateway      Danish law: the correction goes as the notice went (%s), and the police must acknowledge the new date (%s) by %s, "+
		"escalation at %s; logged #%s as pending, then forwarded", strings.ToUpper(final.Outcome), final.Detail["notice_rule"], r.GetAcknowledgeBy(),
		final.Detail["escalate_at"], final.Detail["pending_index"])
	d.say("Dutch gateway       Dutch law on receipt allows it (%s); logged #%d: a correction of Dutch entry #%s, delivered with notice %s, with the same deadline",
		strings.ToUpper(nlEntry.Detail["receipt_outcome"]), peerIndex(final), nlEntry.Detail[audit.DetailRefersTo], r.GetNoticeId())
	d.say("Danish gateway      checked the Dutch receipt of #%d; logged #%d beside it: both gateways track notice %s", peerIndex(final), r.GetAuditIndex(), r.GetNoticeId())

	pol, err := d.nl.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		return err
	}
	defer pol.Close()
	item, err := firstInboxItem(ctx, pol, "the Rotterdam police's")
	if err != nil {
		return err
	}
	n := item.GetObligation()
	if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || item.GetReleased().GetRecord().GetReleaseNotice().GetReleaseDate() != rn.GetReleaseDate() {
		return fmt.Errorf("demo: the Rotterdam police's inbox holds %v, want the correction", item)
	}
	if item.GetNotice().GetNoticeId() != r.GetNoticeId() {
		return fmt.Errorf("demo: the Rotterdam police's inbox item %d carries notice %q, want %s", item.GetCursor(), item.GetNotice().GetNoticeId(), r.GetNoticeId())
	}
	d.say("nl-police-rotterdam <- inbox of the Dutch gateway, item %d: %s", item.GetCursor(), n.GetMessage())
	d.detail("notice %s: release on %s, acknowledge by %s", r.GetNoticeId(), item.GetReleased().GetRecord().GetReleaseNotice().GetReleaseDate(),
		item.GetNotice().GetAcknowledgeBy())
	d.say("nl-police-rotterdam -> Dutch gateway: Acknowledge up to item %d (notice %s)", item.GetCursor(), r.GetNoticeId())
	if ar, err := liaisonv1.NewExchangeClient(pol).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()}); err != nil {
		return fmt.Errorf("demo: cross-border acknowledgement of a required notice: %v", err)
	} else if ids := ar.GetDeferredNoticeIds(); len(ids) > 0 {
		return fmt.Errorf("demo: the Danish gateway did not answer: the acknowledgement of %v stands at the Dutch gateway and waits to be forwarded", ids)
	}
	for _, c := range []struct {
		*demoCountry
		agency string
	}{{d.dk, "dk-prison-east"}, {d.nl, "nl-probation"}} {
		conn, err := c.client(c.agency, "dpo.auditor", []string{"auditor"}, "confidential")
		if err != nil {
			return err
		}
		defer conn.Close()
		ls, err := liaisonv1.NewNoticesClient(conn).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ls.GetNotices(), func(n *liaisonv1.TrackedNotice) bool { return n.GetNoticeId() == r.GetNoticeId() })
		if i < 0 || ls.GetNotices()[i].GetAcknowledged() == "" || ls.GetNotices()[i].GetLate() || ls.GetNotices()[i].GetForwardPending() {
			return fmt.Errorf("demo: the %s gateway does not hold notice %s as acknowledged in time", c.name, r.GetNoticeId())
		}
		tn := ls.GetNotices()[i]
		d.say("%-19s notice %s: acknowledged %s, in time (entry #%d)", c.name+" auditor", tn.GetNoticeId(), tn.GetAcknowledged(), tn.GetAckAuditIndex())
	}
	d.say("nl-police-rotterdam -> Dutch gateway: AcknowledgeNotice #%d, done: rectify", n.GetAuditIndex())
	ack, err := liaisonv1.NewAftercareClient(pol).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: n.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Our file now has the new date; the visit is moved.",
	})
	if err != nil {
		return fmt.Errorf("demo: cross-border acknowledgement: %v", err)
	}
	if ack.GetDeferred() {
		return fmt.Errorf("demo: the Danish gateway did not answer: the acknowledgement of notice #%d stands at the Dutch gateway and waits to be forwarded", n.GetAuditIndex())
	}
	nlAck, err := d.nl.entry(ctx, ack.GetAuditIndex())
	if err != nil {
		return err
	}
	dkAck, err := d.dk.entry(ctx, peerIndex(nlAck))
	if err != nil {
		return err
	}
	if dkAck.Action != audit.ActionAcknowledgeNotice || dkAck.Detail[audit.DetailNotice] != strconv.FormatInt(r.GetAuditIndex(), 10) {
		return fmt.Errorf("demo: the Danish entry #%d is not the acknowledgement of notice #%d", peerIndex(nlAck), r.GetAuditIndex())
	}
	d.say("Dutch gateway       logged #%s as pending, then forwarded it; the Danish gateway logged #%d, acknowledging its notice #%d; the Dutch gateway logged #%d",
		nlAck.Detail["pending_index"], peerIndex(nlAck), r.GetAuditIndex(), ack.GetAuditIndex())
	fmt.Fprintln(d.out)
	return nil
}

// bothLogs verifies each gateway's log against its checkpoint, as that
// country's auditor would, and each receipt one log holds against the
// other gateway's checkpoint key alone.
func (d *crossDemo) bothLogs(ctx context.Context) error {
	fmt.Fprintln(d.out, "4. The two logs: each verified against its checkpoint, each holding the other gateway's receipts")
	logs := map[*demoCountry][]*audit.Entry{}
	for _, c := range []struct {
		*demoCountry
		agency string
	}{{d.dk, "dk-prison-east"}, {d.nl, "nl-probation"}} {
		conn, err := c.client(c.agency, "dpo.auditor", []string{"auditor"}, "confidential")
		if err != nil {
			return err
		}
		defer conn.Close()
		ac := liaisonv1.NewAuditClient(conn)
		resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{Limit: 1000})
		if err != nil {
			return fmt.Errorf("demo: %s audit query: %v", c.name, err)
		}
		cp, err := ac.GetCheckpoint(ctx, &liaisonv1.GetCheckpointRequest{})
		if err != nil {
			return fmt.Errorf("demo: %s checkpoint: %v", c.name, err)
		}
		entries, err := entriesUpTo(ctx, ac, resp.GetEntries(), cp.GetSize())
		if err != nil {
			return fmt.Errorf("demo: %s audit query: %v", c.name, err)
		}
		var leaves [][]byte
		for _, e := range entries[:cp.GetSize()] {
			leaves = append(leaves, []byte(e.GetJson()))
			ent, err := audit.Unmarshal([]byte(e.GetJson()))
			if err != nil {
				return err
			}
			logs[c.demoCountry] = append(logs[c.demoCountry], ent)
		}
		v, err := note.NewVerifier(c.vkey)
		if err != nil {
			return err
		}
		size, err := audit.VerifyLeaves(leaves, []byte(cp.GetCheckpoint()), v)
		if err != nil {
			return fmt.Errorf("demo: the %s log does not verify: %v", c.name, err)
		}
		d.say("%-19s checkpoint signed by %s covers %d entries; recomputed Merkle root matches: log VERIFIED", c.name+" auditor", v.Name(), size)
		for i, e := range logs[c.demoCountry][:size] {
			if slices.Contains([]string{"disclose", "request", "notify", audit.ActionCorrect, audit.ActionAcknowledgeNotice, "notice_acknowledge"}, e.Action) {
				d.detail("#%d %s", i, describeEntry(e))
			}
		}
	}
	receipts := 0
	for _, p := range [][2]*demoCountry{{d.dk, d.nl}, {d.nl, d.dk}} {
		me, peer := p[0], p[1]
		key, err := note.NewVerifier(peer.vkey)
		if err != nil {
			return err
		}
		for i, e := range logs[me] {
			if e.Detail["peer_receipt"] == "" {
				continue
			}
			var rc liaisonv1.PeerReceipt
			if err := protojson.Unmarshal([]byte(e.Detail["peer_receipt"]), &rc); err != nil {
				return err
			}
			got, err := gateway.VerifyReceipt(&rc, key, "", nil)
			if err != nil {
				return fmt.Errorf("demo: the %s receipt in %s entry #%d does not verify: %v", peer.name, me.name, i, err)
			}
			if got.Index != peerIndex(e) {
				return fmt.Errorf("demo: %s entry #%d names %s entry %d, its receipt %d", me.name, i, peer.name, peerIndex(e), got.Index)
			}
			d.say("%-19s entry #%d holds the %s receipt of %s entry #%d (%s -> %s): VERIFIED with the %s key alone", me.name+" log", i, peer.name, peer.name,
				got.Index, got.Entry.Action, strings.ToUpper(got.Entry.Outcome), peer.name)
			receipts++
		}
	}
	if receipts != 10 {
		return fmt.Errorf("demo: %d receipts across the two logs, want 10 (five exchanges, each logged on both sides: the release notice, the request, "+
			"the correction, and the acknowledgements of its required notice and of the correction)", receipts)
	}
	d.detail("verifier keys: Danish %s, Dutch %s", d.dk.vkey, d.nl.vkey)
	return nil
}

// weekLater returns the date (YYYY-MM-DD) seven days after date: the
// demo's moved release.
func weekLater(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return t.AddDate(0, 0, 7).Format(time.DateOnly)
}
