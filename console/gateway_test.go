package console_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	_ "modernc.org/sqlite"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/loopback"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// A real gateway for the console to talk to: the sample holders'
// RecordProviders and the gateway on loopback TCP with TLS 1.3 and client
// certificates, the embedded policies, SQLite and a local key file, as
// gateway/stack_test.go builds it. Its clock can be set, so that the
// traffic spreads over several days.
type fixture struct {
	dir      string
	pki      *sample.PKI
	addr     string
	dbPath   string
	verifier note.Verifier
	vkey     string
	now      atomic.Pointer[time.Time] // the gateway's clock; nil means time.Now

	mu   sync.Mutex
	stop func()
	srv  *gateway.Server // the running gateway, for its aftercare timers
}

var embeddedEngine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.Load(context.Background(), policies.Embedded())
})

func startGateway(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{dir: tb.TempDir()}
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	lis := map[string]net.Listener{}
	addrs := map[string]string{}
	for _, a := range sample.SampleAgencies {
		if a.Holder {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				tb.Fatal(err)
			}
			lis[a.ID], addrs[a.ID] = l, l.Addr().String()
		}
	}
	if f.pki, err = sample.WritePKI(filepath.Join(f.dir, "pki"), addrs); err != nil {
		tb.Fatal(err)
	}
	for id, l := range lis {
		ps, err := fx.NewServer(id, f.pki.CA.GatewayIdentity())
		if err != nil {
			tb.Fatal(err)
		}
		leaf, err := tls.LoadX509KeyPair(f.pki.Path("agencies", id+".pem"), f.pki.Path("agencies", id+".key"))
		if err != nil {
			tb.Fatal(err)
		}
		gs := ps.Register(credentials.NewTLS(&tls.Config{
			MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{leaf},
			ClientCAs: f.pki.CA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
		}))
		go gs.Serve(l)
		tb.Cleanup(gs.Stop)
	}
	f.dbPath = filepath.Join(f.dir, "audit.db")
	if _, err := pseudonym.CreateKeyFile(filepath.Join(f.dir, "keys.json")); err != nil {
		tb.Fatal(err)
	}
	if _, f.vkey, err = audit.LoadOrCreateSignerKey(filepath.Join(f.dir, "audit.key"), "test.liaison"); err != nil {
		tb.Fatal(err)
	}
	if f.verifier, err = note.NewVerifier(f.vkey); err != nil {
		tb.Fatal(err)
	}
	// restart takes this address back: not port 0, whose port an
	// outgoing connection may hold by then (see package loopback).
	addr, err := loopback.Addr()
	if err != nil {
		tb.Fatal(err)
	}
	f.start(tb, addr)
	tb.Cleanup(func() { f.halt() })
	return f
}

// start starts the gateway on the fixture's database and keys.
func (f *fixture) start(tb testing.TB, addr string) {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := embeddedEngine()
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := pseudonym.New(ctx, pseudonym.Config{Source: pseudonym.FileKeys{Path: filepath.Join(f.dir, "keys.json")}, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	store, err := sqlite.Open(ctx, f.dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	signer, _, err := audit.LoadOrCreateSignerKey(filepath.Join(f.dir, "audit.key"), "test.liaison")
	if err != nil {
		tb.Fatal(err)
	}
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	ver, err := authn.NewVerifier(authn.Config{Audience: "liaison", Logger: logger, Replay: store})
	if err != nil {
		tb.Fatal(err)
	}
	gwLeaf, err := tls.LoadX509KeyPair(f.pki.Path("gateway.pem"), f.pki.Path("gateway.key"))
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := gateway.New(gateway.Config{
		Policies: eng, Audit: alog, Pseudonyms: keys, Verifier: ver, Once: store, Aftercare: store, Logger: logger,
		ProviderTLS: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{gwLeaf}, RootCAs: f.pki.CA.Pool()},
		Now: func() time.Time {
			if t := f.now.Load(); t != nil {
				return *t
			}
			return time.Now()
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tf := gateway.TrustFiles{Registry: f.pki.Registry, ClientCAs: []string{f.pki.Path("ca.pem")}, Interval: time.Second}
	if err := srv.LoadTrust(ctx, tf); err != nil {
		tb.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	go srv.WatchTrust(wctx)
	var l net.Listener
	for try := 0; ; try++ { // a restart takes the port back
		if l, err = net.Listen("tcp", addr); err == nil || try > 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatal(err)
	}
	f.addr = l.Addr().String()
	gs := srv.GRPCServer(gateway.ServerTLS(gwLeaf))
	go gs.Serve(l)
	f.mu.Lock()
	f.srv = srv
	f.stop = func() {
		cancel()
		gs.Stop()
		srv.Close()
		alog.Close(context.Background())
		store.Close()
	}
	f.mu.Unlock()
}

func (f *fixture) halt() {
	f.mu.Lock()
	stop := f.stop
	f.stop = nil
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// restart stops the gateway and starts it again on the same address and
// database, as an operator would after maintenance; edit runs in between.
func (f *fixture) restart(tb testing.TB, edit func()) {
	tb.Helper()
	f.halt()
	if edit != nil {
		edit()
	}
	f.start(tb, f.addr)
}

// at sets the gateway's clock (the zero time puts it back on time.Now).
func (f *fixture) at(t time.Time) {
	if t.IsZero() {
		f.now.Store(nil)
		return
	}
	f.now.Store(&t)
}

// officer is who calls.
type officer struct {
	agency, id string
	roles      []string
	clearance  string
}

var (
	dkPrison    = officer{"dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential"}
	dkPolice    = officer{"dk-police-aarhus", "pi.soerensen", []string{"case_officer"}, "confidential"}
	nlPolice    = officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted"}
	nlMunicip   = officer{"nl-municipality-rotterdam", "zvh.coordinator", []string{"case_officer"}, "restricted"}
	nlNGO       = officer{"nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "none"}
	nlProbation = officer{"nl-probation", "po.bakker", []string{"case_officer"}, "confidential"}
	dkAuditor   = officer{"dk-prison-east", "dpo.kristensen", []string{"auditor", "legal_officer"}, "confidential"}
)

// token mints a token for o, valid for an hour.
func (f *fixture) token(tb testing.TB, o officer) string {
	tb.Helper()
	tok, err := f.pki.Issuers[o.agency].Mint(devpki.TokenSpec{Officer: o.id, Roles: o.roles, Clearance: o.clearance, Audience: "liaison", TTL: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// conn dials the gateway as o, with o's agency's certificate.
func (f *fixture) conn(tb testing.TB, o officer) *grpc.ClientConn {
	tb.Helper()
	return f.connWith(tb, o, f.token(tb, o))
}

// connWith dials the gateway with o's agency's certificate and tok.
func (f *fixture) connWith(tb testing.TB, o officer, tok string) *grpc.ClientConn {
	tb.Helper()
	cert, err := tls.LoadX509KeyPair(f.pki.Path("agencies", o.agency+".pem"), f.pki.Path("agencies", o.agency+".key"))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := grpc.NewClient(f.addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: f.pki.CA.Pool()})),
		grpc.WithPerRPCCredentials(bearer(tok)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return true }

// An exchange the traffic made, and what the log recorded.
type exchange struct {
	name    string
	subject string // the sample subject's identifier
	outcome string
	index   int64 // its audit entry, -1 if the gateway did not say
	day     time.Time
}

// traffic makes exchanges about the two sample people over the four days
// before today: releases, pseudonymised answers, denials and a refused
// call, between Danish and Dutch agencies. It returns them in order.
func (f *fixture) traffic(tb testing.TB) []exchange {
	tb.Helper()
	ctx := context.Background()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var out []exchange
	disclose := func(name string, day int, hour int, o officer, recipient string, rt liaisonv1.RecordType, purpose liaisonv1.Purpose) {
		tb.Helper()
		at := today.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
		f.at(at)
		rec, attrs, ok := fx.Record(o.agency, "SYN-DK-0001", rt)
		if !ok {
			tb.Fatalf("%s: no sample record", name)
		}
		resp, err := liaisonv1.NewExchangeClient(f.conn(tb, o)).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{recipient}, Purpose: purpose,
			Justification: "Release planning with the local partners.",
		})
		ex := exchange{name: name, subject: "SYN-DK-0001", index: -1, day: at}
		switch st := status.Convert(err); st.Code() {
		case codes.OK:
			r := resp.GetResults()[0]
			ex.outcome, ex.index = outcomeName(r.GetOutcome()), r.GetAuditIndex()
		case codes.PermissionDenied:
			ex.outcome = audit.OutcomeDeny
		default:
			tb.Fatalf("%s: Disclose: %v", name, err)
		}
		out = append(out, ex)
	}
	request := func(name string, day int, hour int, o officer, rt liaisonv1.RecordType, purpose liaisonv1.Purpose, caseID, justification string) {
		tb.Helper()
		at := today.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
		f.at(at)
		resp, err := liaisonv1.NewExchangeClient(f.conn(tb, o)).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: rt, Purpose: purpose, CaseId: caseID,
			Justification: justification,
		})
		ex := exchange{name: name, subject: "SYN-NL-0001", index: -1, day: at}
		switch st := status.Convert(err); st.Code() {
		case codes.OK:
			ex.outcome, ex.index = outcomeName(resp.GetReleased().GetOutcome()), resp.GetReleased().GetAuditIndex()
		case codes.PermissionDenied:
			ex.outcome = audit.OutcomeDeny
		case codes.InvalidArgument:
			ex.outcome = audit.OutcomeRefused
		default:
			tb.Fatalf("%s: Request: %v", name, err)
		}
		out = append(out, ex)
	}
	const why = "Planning contact after a reported meeting with a known recruiter."
	disclose("dk release notice to police", -4, 9, dkPrison, "dk-police-aarhus", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	request("nl police outside a case", -3, 10, nlPolice, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, "", why)
	request("nl ngo", -3, 11, nlNGO, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, "", why)
	request("nl police in the case", -2, 9, nlPolice, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, "NL-ZVH-RTM-0042", why)
	request("nl municipality in the case", -2, 10, nlMunicip, liaisonv1.RecordType_RECORD_TYPE_PROBATION_MEASURES, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, "NL-ZVH-RTM-0042", why)
	disclose("dk release notice for an investigation", -1, 8, dkPrison, "dk-police-aarhus", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, liaisonv1.Purpose_PURPOSE_CRIMINAL_INVESTIGATION)
	request("nl police, justification naming the person", -1, 12, nlPolice, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, "", "About SYN-NL-0001.")
	request("nl police outside a case, again", 0, 1, nlPolice, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, "", why)
	f.at(time.Time{})
	return out
}

// What aftercare made: the required notices and the correction the
// notices page must list.
type aftercareMade struct {
	late, inTime *liaisonv1.RecipientResult // required notices to the Aarhus police
	correction   *liaisonv1.NoticeResult    // of the first release in the traffic
}

// aftercare follows the traffic (ex) with the Danish prison's aftercare of
// SYN-DK-0001: it notifies the Aarhus police of the release date twice,
// four days ago (now past its deadline, unacknowledged) and today (open),
// each a notice the policy requires them to acknowledge; and it corrects
// the release notice it disclosed to them on the traffic's first day.
// Nobody acknowledges anything.
func (f *fixture) aftercare(tb testing.TB, ex []exchange) aftercareMade {
	tb.Helper()
	ctx := context.Background()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	rec, _, ok := fx.Record(dkPrison.agency, "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		tb.Fatal("no sample release notice")
	}
	var m aftercareMade
	now := time.Now().UTC()
	m.late = f.notifyRelease(tb, now.AddDate(0, 0, -4))
	m.inTime = f.notifyRelease(tb, now)
	if ex[0].outcome != audit.OutcomeDisclose {
		tb.Fatalf("the traffic's first exchange was %s, want a release to correct", ex[0].outcome)
	}
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, probation desk Aarhus"
	cr, err := liaisonv1.NewAftercareClient(f.conn(tb, dkPrison)).Correct(ctx, &liaisonv1.CorrectRequest{
		Record: corrected, Corrects: []int64{ex[0].index}, Justification: "The contact point changed.",
	})
	if err != nil || len(cr.GetResults()) != 1 || cr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		tb.Fatalf("Correct = %v, %v; want one correction", cr, err)
	}
	m.correction = cr.GetResults()[0]
	return m
}

// notifyRelease has the Danish prison notify the Aarhus police, at the
// time at, of SYN-DK-0001's release date: a notice the policy requires
// them to acknowledge by a deadline (past, for an at days ago).
func (f *fixture) notifyRelease(tb testing.TB, at time.Time) *liaisonv1.RecipientResult {
	tb.Helper()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	rec, attrs, ok := fx.Record(dkPrison.agency, "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		tb.Fatal("no sample release notice")
	}
	f.at(at)
	defer f.at(time.Time{})
	nr, err := liaisonv1.NewExchangeClient(f.conn(tb, dkPrison)).Notify(context.Background(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The release date is set.",
	})
	if err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" {
		tb.Fatalf("Notify = %v, %v; want one required notice to the Aarhus police", nr, err)
	}
	return nr.GetResults()[0]
}

// recorrect corrects again, before its recipient has acknowledged it, the
// correction aftercare sent (m.correction, itself a release of the
// corrected record): the second correction supersedes the first
// (ReportedNotice.superseded_by). It returns the second.
func (f *fixture) recorrect(tb testing.TB, m aftercareMade) *liaisonv1.NoticeResult {
	tb.Helper()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	rec, _, ok := fx.Record(dkPrison.agency, "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		tb.Fatal("no sample release notice")
	}
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, probation desk Aarhus, room 2"
	cr, err := liaisonv1.NewAftercareClient(f.conn(tb, dkPrison)).Correct(context.Background(), &liaisonv1.CorrectRequest{
		Record: corrected, Corrects: []int64{m.correction.GetAuditIndex()}, Justification: "The room of the contact point changed.",
	})
	if err != nil || len(cr.GetResults()) != 1 || cr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION ||
		cr.GetResults()[0].GetRefersTo() != m.correction.GetAuditIndex() {
		tb.Fatalf("Correct = %v, %v; want one correction of the correction %d", cr, err, m.correction.GetAuditIndex())
	}
	return cr.GetResults()[0]
}

// expire runs the gateway's aftercare timers on the day after the legal
// basis of the release at index ends (the entry's legal_basis.valid_until),
// 06:00 UTC, so that they send its recipient the expiry notice, and puts
// the clock back. It returns the expiry notice's entry and its time.
func (f *fixture) expire(tb testing.TB, release int64) (int64, time.Time) {
	tb.Helper()
	ctx := context.Background()
	ac := liaisonv1.NewAuditClient(f.conn(tb, dkAuditor))
	resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{Start: release, Limit: 1})
	if err != nil || len(resp.GetEntries()) != 1 || resp.GetEntries()[0].GetIndex() != release {
		tb.Fatalf("Query of the release %d = %v, %v", release, resp, err)
	}
	e, err := audit.Unmarshal([]byte(resp.GetEntries()[0].GetJson()))
	if err != nil || e.LegalBasis == nil || e.LegalBasis.ValidUntil == "" {
		tb.Fatalf("the release %d names no legal basis that ends: %v", release, err)
	}
	end, err := time.Parse(time.DateOnly, e.LegalBasis.ValidUntil)
	if err != nil {
		tb.Fatal(err)
	}
	at := end.AddDate(0, 0, 1).Add(6 * time.Hour)
	f.at(at)
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	err = srv.RunAftercare(ctx)
	f.at(time.Time{})
	if err != nil {
		tb.Fatalf("RunAftercare on %s: %v", at.Format(time.DateOnly), err)
	}
	resp, err = ac.Query(ctx, &liaisonv1.QueryRequest{Action: audit.ActionExpire})
	if err != nil {
		tb.Fatal(err)
	}
	for _, le := range resp.GetEntries() {
		x, err := audit.Unmarshal([]byte(le.GetJson()))
		if err != nil {
			tb.Fatal(err)
		}
		if refers, _ := audit.ParseIndexes(x.Detail[audit.DetailRefersTo]); slices.Contains(refers, release) {
			return le.GetIndex(), x.Time
		}
	}
	tb.Fatalf("no expiry notice of the release %d in the log: %v", release, resp.GetEntries())
	return 0, time.Time{}
}

func outcomeName(o liaisonv1.Outcome) string {
	switch o {
	case liaisonv1.Outcome_OUTCOME_DISCLOSE:
		return audit.OutcomeDisclose
	case liaisonv1.Outcome_OUTCOME_PSEUDONYMISE:
		return audit.OutcomePseudonymise
	case liaisonv1.Outcome_OUTCOME_HIT_ONLY:
		return audit.OutcomeHitOnly
	case liaisonv1.Outcome_OUTCOME_DENY:
		return audit.OutcomeDeny
	}
	return o.String()
}

// waitCheckpoint waits until the gateway's checkpoint covers the whole
// log as the store has it.
func (f *fixture) waitCheckpoint(tb testing.TB, ac liaisonv1.AuditClient) int64 {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db, err := sql.Open("sqlite", f.dbPath+"?_pragma=busy_timeout(10000)")
		if err != nil {
			tb.Fatal(err)
		}
		var n int64
		err = db.QueryRow("SELECT COUNT(*) FROM leaves").Scan(&n)
		db.Close()
		if err != nil {
			tb.Fatal(err)
		}
		cp, err := ac.GetCheckpoint(context.Background(), &liaisonv1.GetCheckpointRequest{})
		if err == nil && cp.GetSize() >= n {
			return cp.GetSize()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no checkpoint covers the %d entries: %v, %v", n, cp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sqlExec runs statements on the audit database directly, as an attacker
// with access to the server would.
func (f *fixture) sqlExec(tb testing.TB, stmts ...string) {
	tb.Helper()
	db, err := sql.Open("sqlite", f.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// appendEntries appends entries to the log through the store, beside the
// running gateway, as `liaison case close-orphaned` does: for entries this
// one gateway cannot make itself (a peer gateway's refusal, say). It
// returns their indexes.
func (f *fixture) appendEntries(tb testing.TB, es ...*audit.Entry) []int64 {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, f.dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	var out []int64
	for _, e := range es {
		leaf, err := e.Marshal()
		if err != nil {
			tb.Fatal(err)
		}
		i, err := store.Append(ctx, []audit.Pending{{Leaf: leaf, Entry: e}})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, i)
	}
	return out
}
