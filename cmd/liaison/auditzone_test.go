package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAuditTimesInAZone: with -tz an auditor in Copenhagen reads and asks
// for the days of Copenhagen. Before, audit query and audit report knew
// UTC alone: a disclosure at 00:30 on 1 March in Copenhagen (23:30 UTC the
// day before) was reported to the data subject as made on 28 February, and
// -from 2027-03-01 left it out.
func TestAuditTimesInAZone(t *testing.T) {
	t.Parallel()
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"2027-03-01", cph, "2027-02-28T23:00:00Z"},
		{"2027-07-01", cph, "2027-06-30T22:00:00Z"},
		{"2027-03-01", time.UTC, "2027-03-01T00:00:00Z"},
		{"2027-03-01T00:30:00+01:00", time.UTC, "2027-02-28T23:30:00Z"}, // an offset of its own is kept
		{"2027-03-01T00:30:00Z", cph, "2027-03-01T00:30:00Z"},
	} {
		ts, err := parseTimeFlag("audit query", "-from", c.in, c.loc)
		if err != nil || ts.AsTime().Format(time.RFC3339) != c.want {
			t.Errorf("-from %s in %s = %v, %v; want %s", c.in, c.loc, ts.AsTime(), err, c.want)
		}
	}

	at := time.Date(2027, 2, 28, 23, 30, 0, 0, time.UTC)
	leaf, err := (&audit.Entry{Time: at, Action: "disclose", Outcome: "full"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loc        *time.Location
		head, time string
	}{
		{cph, "TIME (Europe/Copenhagen)", "2027-03-01 00:30:00"},
		{time.UTC, "TIME (UTC)", "2027-02-28 23:30:00"},
	} {
		var out strings.Builder
		if err := printEntries(&out, []*liaisonv1.AuditEntry{{Index: 1, Json: string(leaf)}}, false, c.loc); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), c.head) || !strings.Contains(out.String(), "\n1      "+c.time) {
			t.Errorf("printEntries in %s:\n%s\nwant %q and the entry at %s", c.loc, out.String(), c.head, c.time)
		}
	}

	report := &liaisonv1.AccessReportResponse{Produced: timestamppb.New(at), Disclosures: []*liaisonv1.ReportedDisclosure{{
		Time: timestamppb.New(at), Holder: "dk-prison-east", Recipients: []string{"dk-police-aarhus"}, Action: "disclose", Index: 4,
	}}}
	for _, c := range []struct {
		loc             *time.Location
		want, notWanted []string
	}{
		{cph, []string{"Produced 2027-03-01 00:30 CET", "Dates are days in the time zone Europe/Copenhagen.", "1. 2027-03-01:"}, []string{"2027-02-28"}},
		{time.UTC, []string{"Produced 2027-02-28 23:30 UTC", "1. 2027-02-28:"}, []string{"Dates are days", "2027-03-01"}},
	} {
		var b strings.Builder
		renderReport(&b, report, c.loc)
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("report in %s:\n%s\nwant %q", c.loc, b.String(), w)
			}
		}
		for _, w := range c.notWanted {
			if strings.Contains(b.String(), w) {
				t.Errorf("report in %s:\n%s\nwant no %q", c.loc, b.String(), w)
			}
		}
	}

	// The required notices' table: every time in the zone, named in the
	// header.
	var notices strings.Builder
	if err := printNotices(&notices, []*liaisonv1.TrackedNotice{{NoticeId: "n-1", Sender: "dk-prison-east", Recipient: "dk-police-aarhus",
		Sent: "2027-02-28T23:30:00Z", AcknowledgeBy: "2027-03-02T23:30:00Z", Acknowledged: "2027-03-01T06:05:00Z", AuditIndex: 4}}, nil, cph); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SENT (Europe/Copenhagen)", "2027-03-01 00:30", "2027-03-03 00:30", "2027-03-01 07:05"} {
		if !strings.Contains(notices.String(), want) {
			t.Errorf("printNotices in Copenhagen:\n%s\nwant %q", notices.String(), want)
		}
	}

	// A zone that is not one, or the machine's own, is refused before any
	// call, naming the flag.
	for _, args := range [][]string{
		{"query", "-tz", "Local"}, {"query", "-tz", ""}, {"query", "-tz", "Europe/Aarhus"},
		{"report", "-subject", "SYN-DK-0001", "-tz", "CET "},
		{"notices", "-tz", "Local"}, {"corrections", "-tz", "Europe/Aarhus"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-tz ") || !strings.Contains(err.Error(), "IANA") {
			t.Errorf("liaison audit %s: %v, want a refusal naming -tz", strings.Join(args, " "), err)
		}
	}
}

// TestAuditQueryInAZone: against a gateway, audit query -tz lists the
// entries the JSON gives, at their times in the zone.
func TestAuditQueryInAZone(t *testing.T) {
	s := startAuditStack(t, "")
	s.fillTo(t, 3)
	out, err := s.audit(t, "query", "-json")
	if err != nil {
		t.Fatalf("query -json: %v\n%s", err, out)
	}
	var want []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		e, err := audit.Unmarshal([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e.Time.UTC().Format("2006-01-02 15:04:05"))
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata") // +05:30, no summer time: every time moves
	if err != nil {
		t.Fatal(err)
	}
	table, err := s.audit(t, "query", "-tz", "Asia/Kolkata")
	if err != nil {
		t.Fatalf("query -tz: %v\n%s", err, table)
	}
	if !strings.Contains(table, "TIME (Asia/Kolkata)") {
		t.Errorf("query -tz Asia/Kolkata:\n%s\nwant the zone in the header", table)
	}
	for _, w := range want {
		utc, _ := time.Parse("2006-01-02 15:04:05", w)
		if local := utc.In(kolkata).Format("2006-01-02 15:04:05"); !strings.Contains(table, local) || strings.Contains(table, w) {
			t.Errorf("query -tz Asia/Kolkata:\n%s\nwant the entry of %s UTC at %s", table, w, local)
		}
	}
}
