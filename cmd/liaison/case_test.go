package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseCommandsHelp: every case command has -h.
func TestCaseCommandsHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"case", "-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "handover") {
		t.Errorf("case -h = %v, %q", err, errOut.String())
	}
	for _, sub := range []string{"open", "invite", "accept", "decline", "leave", "remove", "handover", "close", "show", "list", "import", "close-orphaned", "handover-orphaned"} {
		errOut.Reset()
		err := run(t.Context(), []string{"case", sub, "-h"}, &out, &errOut)
		conn := "-gateway"
		if sub == "import" || strings.HasSuffix(sub, "-orphaned") {
			conn = "-audit-db" // an operator's command on the store
		}
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "Usage: liaison case "+sub) || !strings.Contains(errOut.String(), conn) {
			t.Errorf("case %s -h = %v, %q", sub, err, errOut.String())
		}
	}
	errOut.Reset()
	if err := run(t.Context(), []string{"audit", "notices", "-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "-late") {
		t.Errorf("audit notices -h = %v, %q", err, errOut.String())
	}
}

// TestCaseCommands runs a Safety House case from the command line against
// a gateway: open, invite, accept, show, list, hand over, close; a refused
// step says why; an auditor lists the required notices.
func TestCaseCommands(t *testing.T) {
	s := startAuditStack(t, "")
	p := s.d.pki
	as := func(agency, officer string, roles ...string) func(args ...string) (string, error) {
		tok, err := p.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: roles, Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return func(args ...string) (string, error) {
			var out, errOut bytes.Buffer
			full := append([]string{args[0], args[1], "-gateway", s.d.gw.Addr, "-cert", p.Path("agencies", agency+".pem"),
				"-key", p.Path("agencies", agency+".key"), "-ca", p.Path("ca.pem"), "-token", tok}, args[2:]...)
			err := run(t.Context(), full, &out, &errOut)
			return out.String() + errOut.String(), err
		}
	}
	release := time.Now().UTC().AddDate(0, 0, 87).Format(time.DateOnly) // about three months ahead, whenever the test runs
	council := as("nl-municipality-rotterdam", "ambt.smit", "case_officer")
	police := as("nl-police-rotterdam", "insp.de.vries", "case_officer")
	why := []string{"-justification", "Case consultation before the release."}
	steps := []struct {
		who  func(...string) (string, error)
		args []string
		want []string
	}{
		{council, append([]string{"case", "open", "-id", "NL-ZVH-CLI-1", "-kind", "nl.zvh", "-subject", "SYN-NL-0001", "-in-custody",
			"-release-date", release, "-municipality", "Rotterdam"}, why...),
			[]string{"case NL-ZVH-CLI-1 (nl.zvh, NL law) version 1: open, led by nl-municipality-rotterdam", "held under nl.zvh", "audit entry #"}},
		{council, append([]string{"case", "invite", "-id", "NL-ZVH-CLI-1", "-agency", "nl-police-rotterdam"}, why...),
			[]string{"nl-police-rotterdam", "invited", "by nl-municipality-rotterdam"}},
		{police, append([]string{"case", "accept", "-id", "NL-ZVH-CLI-1"}, why...), []string{"version 3", "\n  nl-police-rotterdam "}},
		{police, []string{"case", "show", "-id", "NL-ZVH-CLI-1"}, []string{"pseudonym domain case/NL-ZVH-CLI-1"}},
		{police, []string{"case", "list", "-status", "open"}, []string{"NL-ZVH-CLI-1", "nl.zvh", "open", "nl-municipality-rotterdam,nl-police-rotterdam"}},
		{council, append([]string{"case", "handover", "-id", "NL-ZVH-CLI-1", "-agency", "nl-police-rotterdam"}, why...), []string{"led by nl-police-rotterdam"}},
		{police, append([]string{"case", "close", "-id", "NL-ZVH-CLI-1"}, why...), []string{"closed, led by nl-police-rotterdam", "closed 20"}},
	}
	for _, st := range steps {
		out, err := st.who(st.args...)
		if err != nil {
			t.Fatalf("liaison %s: %v\n%s", strings.Join(st.args, " "), err, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("liaison %s printed\n%s\nwant %q in it", strings.Join(st.args[:2], " "), out, w)
			}
		}
	}
	// A refused step says why, and fails.
	out, err := council("case", "invite", "-id", "NL-ZVH-CLI-1", "-agency", "nl-ngo-exit", "-justification", "late")
	if err == nil || !strings.Contains(err.Error(), "CASE_CLOSED") && !strings.Contains(err.Error(), "closed") {
		t.Errorf("invite into a closed case = %v\n%s", err, out)
	}
	if _, err := council("case", "invite", "-id", "NL-ZVH-CLI-1", "-agency", "nl-ngo-exit"); err == nil || !strings.Contains(err.Error(), "-justification is required") {
		t.Errorf("invite without -justification = %v", err)
	}

	// An auditor lists the required notices.
	conn, err := s.d.client("nl-prison-dji", "dji.visser", []string{"release_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = liaisonv1.NewExchangeClient(conn).Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record: &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{
			Subject: &liaisonv1.Person{SubjectId: "SYN-NL-0777"}, ReleaseDate: release}}},
		Subject:        &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true, ReleaseDate: release, Municipality: "Amsterdam"},
		RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
		Purpose:        liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
	})
	if err != nil {
		t.Fatal(err)
	}
	auditor := as("dk-prison-east", "dpo.kristensen", "auditor")
	out, err = auditor("audit", "notices")
	if err != nil || !strings.Contains(out, "release_date_set") || !strings.Contains(out, "nl-police-amsterdam") || !strings.Contains(out, "\n1 notice\n") {
		t.Errorf("audit notices = %v\n%s", err, out)
	}
	out, err = auditor("audit", "notices", "-late")
	if err != nil || !strings.Contains(out, "No required notice matches -late.") {
		t.Errorf("audit notices -late (nothing is late yet) = %v\n%s", err, out)
	}
	// A full page names the next one, which is read with -start.
	out, err = auditor("audit", "notices", "-limit", "1")
	_, next, found := strings.Cut(out, "the next page is -start ")
	if err != nil || !found || !strings.Contains(out, "\n1 notice\n") || !strings.Contains(out, "A full page of 1 notice: more may match") {
		t.Fatalf("audit notices -limit 1 = %v\n%s", err, out)
	}
	out, err = auditor("audit", "notices", "-limit", "1", "-start", strings.TrimSpace(next))
	if err != nil || !strings.Contains(out, "No required notice matches -start "+strings.TrimSpace(next)+".") || strings.Contains(out, "next page") {
		t.Errorf("audit notices -start %s (after the only notice) = %v\n%s", strings.TrimSpace(next), err, out)
	}
	// With -json too, as audit query -json does: on standard error, so
	// that standard output stays one notice a line.
	out, err = auditor("audit", "notices", "-limit", "1", "-json")
	if _, jnext, found := strings.Cut(out, "the next page is -start "); err != nil || !found || strings.TrimSpace(jnext) != strings.TrimSpace(next) {
		t.Errorf("audit notices -limit 1 -json = %v\n%s\nwant it to name the next page, -start %s", err, out, strings.TrimSpace(next))
	}
}

// TestCaseImportCommand moves the registry file's case into a running
// gateway's store with liaison case import; the case is then the Cases
// service's, and a second import skips it.
func TestCaseImportCommand(t *testing.T) {
	s := startAuditStack(t, "")
	var out, errOut bytes.Buffer
	// A kind Dutch law does not know: the case would be one nobody could
	// ever change or close, so it is skipped.
	bad := []string{"case", "import", "-registry", s.d.pki.Registry, "-audit-db", s.opts.AuditDB, "-kind", "dk.ksp"}
	if err := run(t.Context(), bad, &out, &errOut); err != nil || !strings.Contains(out.String(), `skipped: the policy knows no case kind "dk.ksp" in NL; it knows nl.zvh`) ||
		!strings.Contains(out.String(), "0 of 1 cases imported") {
		t.Fatalf("case import -kind dk.ksp = %v\n%s%s", err, out.String(), errOut.String())
	}
	out.Reset()
	args := []string{"case", "import", "-registry", s.d.pki.Registry, "-audit-db", s.opts.AuditDB, "-kind", "nl.zvh"}
	if err := run(t.Context(), args, &out, &errOut); err != nil || !strings.Contains(out.String(), "case NL-ZVH-RTM-0042: imported as kind nl.zvh, audit entry #") ||
		!strings.Contains(out.String(), "1 of 1 cases imported") {
		t.Fatalf("case import = %v\n%s%s", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := run(t.Context(), args, &out, &errOut); err != nil || !strings.Contains(out.String(), "skipped: the gateway holds a case of that id already") {
		t.Errorf("a second case import = %v\n%s", err, out.String())
	}
	tok, err := s.d.pki.Issuers["nl-municipality-rotterdam"].Mint(devpki.TokenSpec{Officer: "ambt.smit", Roles: []string{"case_officer"}, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	p := s.d.pki
	out.Reset()
	err = run(t.Context(), []string{"case", "show", "-id", "NL-ZVH-RTM-0042", "-gateway", s.d.gw.Addr,
		"-cert", p.Path("agencies", "nl-municipality-rotterdam.pem"), "-key", p.Path("agencies", "nl-municipality-rotterdam.key"),
		"-ca", p.Path("ca.pem"), "-token", tok}, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "case NL-ZVH-RTM-0042 (nl.zvh, NL law) version 1: open, led by nl-municipality-rotterdam") {
		t.Errorf("case show after the import = %v\n%s", err, out.String())
	}
}

// TestCaseCloseOrphanedCommand: a case whose lead agency is offboarded
// can never be closed by its lead, whose calls are refused. The operator
// closes it with liaison case close-orphaned, on the running gateway's
// store: one entry says who and why, and from then on nobody exchanges on
// the case. A case whose lead may still act is refused, and changes not.
func TestCaseCloseOrphanedCommand(t *testing.T) {
	s := startAuditStack(t, "")
	p := s.d.pki
	as := func(agency, officer string) func(args ...string) (string, error) {
		tok, err := p.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: []string{"case_officer"}, Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return func(args ...string) (string, error) {
			var out, errOut bytes.Buffer
			full := append([]string{args[0], args[1], "-gateway", s.d.gw.Addr, "-cert", p.Path("agencies", agency+".pem"),
				"-key", p.Path("agencies", agency+".key"), "-ca", p.Path("ca.pem"), "-token", tok}, args[2:]...)
			err := run(t.Context(), full, &out, &errOut)
			return out.String() + errOut.String(), err
		}
	}
	council := as("nl-municipality-rotterdam", "ambt.smit")
	police := as("nl-police-rotterdam", "insp.de.vries")
	const id = "NL-ZVH-CLI-9"
	why := []string{"-justification", "Case consultation before the release."}
	for _, st := range []struct {
		who  func(...string) (string, error)
		args []string
	}{
		{council, append([]string{"case", "open", "-id", id, "-kind", "nl.zvh", "-subject", "SYN-NL-0001", "-in-custody", "-municipality", "Rotterdam"}, why...)},
		{council, append([]string{"case", "invite", "-id", id, "-agency", "nl-police-rotterdam"}, why...)},
		{police, append([]string{"case", "accept", "-id", id}, why...)},
	} {
		if out, err := st.who(st.args...); err != nil {
			t.Fatalf("liaison %s: %v\n%s", strings.Join(st.args[:2], " "), err, out)
		}
	}
	orphanWith := func(registry, keys string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), []string{"case", "close-orphaned", "-id", id, "-registry", registry, "-audit-db", s.opts.AuditDB,
			"-operator", "ops.jansen", "-keys", keys}, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	orphan := func(registry string) (string, error) { return orphanWith(registry, s.opts.Keys) }
	// The lead is registered and may act: it closes the case itself.
	if out, err := orphan(p.Registry); err == nil || !strings.Contains(err.Error(), "is registered and not offboarded") || !strings.Contains(err.Error(), "refused (LEAD_CAN_ACT)") {
		t.Fatalf("close-orphaned of a case whose lead may act = %v\n%s", err, out)
	}
	if out, err := police("case", "show", "-id", id); err != nil || !strings.Contains(out, "version 3: open") {
		t.Fatalf("case show after the refused close-orphaned = %v\n%s", err, out)
	}
	// The operator offboards the council: it can no longer close the case.
	b, err := os.ReadFile(p.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Agencies {
		f.Agencies[i].Offboarded = f.Agencies[i].Offboarded || f.Agencies[i].ID == "nl-municipality-rotterdam"
	}
	b, err = yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Registry, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.restart(t) // as the operator's gateway reloads its registry
	if out, err := council("case", "close", "-id", id, "-justification", "Closing."); err == nil || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Fatalf("the offboarded lead's close = %v\n%s; want it refused (PermissionDenied)", err, out)
	}
	// Without the gateway's keys it cannot tell the members: it refuses,
	// and makes no key file of its own.
	missing := filepath.Join(t.TempDir(), "keys.json")
	if out, err := orphanWith(p.Registry, missing); err == nil || !strings.Contains(err.Error(), "-keys") {
		t.Fatalf("close-orphaned without the gateway's keys = %v\n%s", err, out)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("close-orphaned without the gateway's keys made a key file: %v", err)
	}
	out, err := orphan(p.Registry)
	if err != nil || !strings.Contains(out, "case "+id+" (nl.zvh) closed by ops.jansen at version 4: its lead nl-municipality-rotterdam can no longer act; its members are told (CaseUpdate); audit entry #") {
		t.Fatalf("close-orphaned = %v\n%s", err, out)
	}
	if out, err := police("case", "show", "-id", id); err != nil || !strings.Contains(out, "version 4: closed") {
		t.Errorf("case show after close-orphaned = %v\n%s", err, out)
	}
	// Two attempts, two entries: the refused one says why.
	recs, err := s.d.gw.Audit.Query(t.Context(), audit.Filter{Action: "case_operator_close"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("entries case_operator_close: %d, %v; want 2", len(recs), err)
	}
	if e := recs[0].Entry; e.Outcome != audit.OutcomeRefused || len(e.Reasons) != 1 || e.Reasons[0] != "LEAD_CAN_ACT" || e.Detail["by_operator"] != "ops.jansen" {
		t.Errorf("the refused close's entry = %+v", e)
	}
	recs = recs[1:]
	if e := recs[0].Entry; e.Outcome != audit.OutcomeOK || e.Detail["by_operator"] != "ops.jansen" || e.Detail["lead_standing"] != "offboarded" ||
		e.Case == nil || e.Case.ID != id || e.Subject == nil || e.Subject.Pseudonym == "" || strings.Contains(e.Justification, "SYN-NL") {
		t.Errorf("the close's entry = %+v", e)
	}
	// The police, a member, learn it in their inbox: the operator closed
	// the case, its lead being offboarded.
	conn, err := s.d.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if u := lastCaseUpdate(t, conn, id); u.GetChange() != "case_operator_close" || !u.GetByOperator() || u.GetLeadStanding() != "offboarded" ||
		u.GetCase().GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_CLOSED || u.GetAuditIndex() != recs[0].Index {
		t.Errorf("the police's last CaseUpdate of case %s = %v; want the operator's close (entry %d), lead offboarded", id, u, recs[0].Index)
	}
	// Nobody exchanges on it any more; a second close says it is closed.
	_, err = liaisonv1.NewExchangeClient(conn).Request(t.Context(), &liaisonv1.RequestRequest{Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: id,
		Justification: "Case consultation."})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a request on the closed case = %v, want CASE_CLOSED", err)
	}
	if out, err := orphan(p.Registry); err == nil || !strings.Contains(err.Error(), "closed already") {
		t.Errorf("close-orphaned twice = %v\n%s", err, out)
	}
}

// lastCaseUpdate reads the inbox of conn's agency and returns the last
// CaseUpdate of case id in it, or nil.
func lastCaseUpdate(t *testing.T, conn grpc.ClientConnInterface, id string) *liaisonv1.CaseUpdate {
	t.Helper()
	st, err := liaisonv1.NewExchangeClient(conn).Subscribe(t.Context(), &liaisonv1.SubscribeRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var last *liaisonv1.CaseUpdate
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return last
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.GetCaseUpdate(); u.GetCase().GetId() == id {
			last = u
		}
	}
}

// TestCaseHandoverOrphanedCommand: a case whose lead agency is offboarded
// goes on under another member: the operator hands its lead over with
// liaison case handover-orphaned, on the running gateway's store, as the
// policy allows. A refused attempt (a member the policy does not let
// lead) says why and names its entry; the hand-over is one entry, the new
// lead leads from then on, and the members learn it in their inboxes.
func TestCaseHandoverOrphanedCommand(t *testing.T) {
	s := startAuditStack(t, "")
	p := s.d.pki
	as := func(agency, officer string) func(args ...string) (string, error) {
		tok, err := p.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: []string{"case_officer"}, Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return func(args ...string) (string, error) {
			var out, errOut bytes.Buffer
			full := append([]string{args[0], args[1], "-gateway", s.d.gw.Addr, "-cert", p.Path("agencies", agency+".pem"),
				"-key", p.Path("agencies", agency+".key"), "-ca", p.Path("ca.pem"), "-token", tok}, args[2:]...)
			err := run(t.Context(), full, &out, &errOut)
			return out.String() + errOut.String(), err
		}
	}
	council := as("nl-municipality-rotterdam", "ambt.smit")
	police := as("nl-police-rotterdam", "insp.de.vries")
	ngo := as("nl-ngo-exit", "mentor.jansen")
	const id = "NL-ZVH-CLI-10"
	why := []string{"-justification", "Case consultation before the release."}
	for _, st := range []struct {
		who  func(...string) (string, error)
		args []string
	}{
		{council, append([]string{"case", "open", "-id", id, "-kind", "nl.zvh", "-subject", "SYN-NL-0001", "-in-custody", "-municipality", "Rotterdam"}, why...)},
		{council, append([]string{"case", "invite", "-id", id, "-agency", "nl-police-rotterdam"}, why...)},
		{police, append([]string{"case", "accept", "-id", id}, why...)},
		{council, append([]string{"case", "invite", "-id", id, "-agency", "nl-ngo-exit"}, why...)},
		{ngo, append([]string{"case", "accept", "-id", id}, why...)},
	} {
		if out, err := st.who(st.args...); err != nil {
			t.Fatalf("liaison %s: %v\n%s", strings.Join(st.args[:2], " "), err, out)
		}
	}
	b, err := os.ReadFile(p.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Agencies {
		f.Agencies[i].Offboarded = f.Agencies[i].Offboarded || f.Agencies[i].ID == "nl-municipality-rotterdam"
	}
	if b, err = yaml.Marshal(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Registry, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.restart(t)
	handover := func(lead string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), []string{"case", "handover-orphaned", "-id", id, "-lead", lead, "-registry", p.Registry, "-audit-db", s.opts.AuditDB,
			"-operator", "ops.jansen", "-keys", s.opts.Keys}, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	// The exit NGO is a member, but Dutch law does not let it lead a
	// Safety House case.
	if out, err := handover("nl-ngo-exit"); err == nil || !strings.Contains(err.Error(), "denied by the policy (LEAD_KIND_NOT_ALLOWED)") || !strings.Contains(err.Error(), "audit entry #") {
		t.Fatalf("handover-orphaned to the NGO = %v\n%s", err, out)
	}
	if out, err := handover(""); err == nil || !strings.Contains(err.Error(), "-lead is required") {
		t.Fatalf("handover-orphaned without -lead = %v\n%s", err, out)
	}
	out, err := handover("nl-police-rotterdam")
	if err != nil || !strings.Contains(out, "case "+id+" (nl.zvh) handed over by ops.jansen at version 6: nl-police-rotterdam leads it now") {
		t.Fatalf("handover-orphaned = %v\n%s", err, out)
	}
	recs, err := s.d.gw.Audit.Query(t.Context(), audit.Filter{Action: "case_operator_handover"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("entries case_operator_handover: %d, %v; want 2 (the denial, the hand-over)", len(recs), err)
	}
	if e := recs[0].Entry; e.Outcome != audit.OutcomeDeny || e.Reasons[0] != "LEAD_KIND_NOT_ALLOWED" || e.Detail["by_operator"] != "ops.jansen" {
		t.Errorf("the denied hand-over's entry = %+v", e)
	}
	if e := recs[1].Entry; e.Outcome != audit.OutcomeOK || e.Detail["by_operator"] != "ops.jansen" || e.Detail["lead_standing"] != "offboarded" ||
		e.Case == nil || e.Case.Lead != "nl-police-rotterdam" || e.PolicyRevision == "" {
		t.Errorf("the hand-over's entry = %+v", e)
	}
	// The police lead now, and the NGO learns it in its inbox.
	if out, err := police("case", "show", "-id", id); err != nil || !strings.Contains(out, "version 6: open, led by nl-police-rotterdam") {
		t.Errorf("case show after the hand-over = %v\n%s", err, out)
	}
	conn, err := s.d.client("nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if u := lastCaseUpdate(t, conn, id); u.GetChange() != "case_operator_handover" || !u.GetByOperator() || u.GetAgency() != "nl-police-rotterdam" ||
		u.GetAuditIndex() != recs[1].Index {
		t.Errorf("the NGO's last CaseUpdate of case %s = %v; want the operator's hand-over (entry %d)", id, u, recs[1].Index)
	}
	if out, err := police("case", "remove", "-id", id, "-agency", "nl-municipality-rotterdam", "-justification", "The council was offboarded."); err != nil {
		t.Errorf("the new lead removes the former lead = %v\n%s", err, out)
	}
}

// TestCaseOpenCategoryOneSpelling checks that case open takes -category
// only in the spelling its help names, and refuses anything else before
// dialling the gateway (127.0.0.1:1 answers nothing), naming the flag.
func TestCaseOpenCategoryOneSpelling(t *testing.T) {
	for _, c := range []string{"Convicted", "CONVICTED", "unspecified", "Unspecified", "suspected", ""} {
		var out bytes.Buffer
		err := run(t.Context(), []string{"case", "open", "-gateway", "127.0.0.1:1", "-id", "case-1", "-subject", "SYN-1",
			"-category", c, "-justification", "test"}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-category") {
			t.Errorf("case open -category %q: %v, want refused naming -category", c, err)
		}
	}
}
