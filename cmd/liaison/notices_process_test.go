package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// fastNotice is a Dutch required notice with a deadline short enough to
// wait for: acknowledge within 40 seconds, escalated after 20.
const fastNotice = `required_notices := {
	"nl.notice.fast.police": {
		"citation": "Test rule",
		"events": ["probation_ended"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "40s",
		"escalate_after": "20s",
		"assumption": "A rule for the test only.",
	},`

// TestEscalationExactlyOnceAcrossServeProcesses runs two `liaison serve`
// processes on one PostgreSQL database, both running their notice timers
// every second: each unacknowledged required notice is escalated exactly
// once, before its deadline.
func TestEscalationExactlyOnceAcrossServeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two gateway processes and waits for an escalation; run without -short")
	}
	dsn := pgtest.NewDatabase(t)
	bin := buildLiaison(t)
	dir := t.TempDir()
	d := &demo{out: io.Discard}
	_, stop, err := d.startHolders(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	// The embedded policy, with the fast rule added to the Dutch pack.
	pol := filepath.Join(dir, "policies")
	err = fs.WalkDir(policies.Embedded(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if p == "nl/cases.rego" {
			b = []byte(strings.Replace(string(b), "required_notices := {", fastNotice, 1))
		}
		if err := os.MkdirAll(filepath.Join(pol, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(pol, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var procs []*serveProcess
	for range 2 {
		procs = append(procs, startServe(t, bin, d.pki, dir, dsn, "-policies", pol, "-timer-interval", "1s"))
	}
	d.gw = &runningGateway{Addr: procs[0].addr}
	conn, err := d.client("nl-prison-dji", "dji.visser", []string{"release_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const notices = 3
	deadlines := map[string]time.Time{}
	for i := range notices {
		subject := "SYN-NL-06" + string(rune('0'+i)) + "0"
		nr, err := liaisonv1.NewExchangeClient(conn).Notify(t.Context(), &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_PROBATION_ENDED,
			Record: &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{
				Subject: &liaisonv1.Person{SubjectId: subject}, ReleaseDate: "2026-01-01", ProbationUntil: "2026-11-30"}}},
			Subject: &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, ReleaseDate: "2026-01-01",
				ProbationUntil: "2026-11-30", Municipality: "Amsterdam"},
			RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
			Purpose:        liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Probation ended.",
		})
		if err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" {
			t.Fatalf("Notify = %v, %v; want one required notice", nr, err)
		}
		by, err := time.Parse(time.RFC3339, nr.GetResults()[0].GetAcknowledgeBy())
		if err != nil {
			t.Fatal(err)
		}
		deadlines[nr.GetResults()[0].GetNoticeId()] = by
	}
	store, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	escalations := func() map[string][]*audit.Entry {
		t.Helper()
		recs, err := store.Query(t.Context(), audit.Filter{Action: "notice_escalate"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]*audit.Entry{}
		for _, r := range recs {
			out[r.Entry.Detail["notice_id"]] = append(out[r.Entry.Detail["notice_id"]], r.Entry)
		}
		return out
	}
	for end := time.Now().Add(2 * time.Minute); len(escalations()) < notices; time.Sleep(time.Second) {
		if time.Now().After(end) {
			t.Fatalf("escalations after 2 minutes: %d of %d", len(escalations()), notices)
		}
	}
	time.Sleep(5 * time.Second) // five more ticks of each process
	got := escalations()
	for id, by := range deadlines {
		if len(got[id]) != 1 {
			t.Errorf("notice %s escalated %d times, want exactly once", id, len(got[id]))
			continue
		}
		if e := got[id][0]; !e.Time.Before(by) {
			t.Errorf("notice %s escalated at %v, not before its deadline %v", id, e.Time, by)
		}
	}
	if len(got) != notices {
		t.Errorf("escalations of %d notices, want %d", len(got), notices)
	}
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}
}
