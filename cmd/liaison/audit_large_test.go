package main

import (
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAuditQueryOfLargeEntries: audit query -limit 1000, which the README
// offers, lists a page of large entries. A justification may hold 2,000
// characters that JSON writes as \u00XX, 12,000 bytes in the entry, and
// any agency can have such entries recorded (here 400 refused requests of
// an NGO): a page of them is more than the 4 MiB a gRPC client receives by
// default, and the command failed ResourceExhausted, so that the auditor
// could not read them at the page size the README gives.
func TestAuditQueryOfLargeEntries(t *testing.T) {
	s := startAuditStack(t, "")
	conn, err := s.d.client("nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ec := liaisonv1.NewExchangeClient(conn)
	justification := strings.Repeat("\x01", 2000)
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range work {
				ec.Request(t.Context(), &liaisonv1.RequestRequest{
					Holder: "nl-probation", SubjectId: "SYN-NL-0001",
					RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
					Justification: justification,
				}) // denied to the NGO, and recorded with its justification
			}
		})
	}
	for range 400 {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	out, err := s.audit(t, "query", "-officer", "mentor.jansen", "-limit", "1000", "-json")
	if err != nil {
		t.Fatalf("audit query -limit 1000: %v\n%.500s", err, out)
	}
	if n := strings.Count(out, `"officer":"mentor.jansen"`); n != 400 {
		t.Errorf("audit query listed %d of the NGO's 400 entries", n)
	}

	// The console reads the timeline 1000 entries a page, on a connection
	// of its own.
	tokFile := filepath.Join(s.dir, "token.jwt")
	if err := os.WriteFile(tokFile, []byte(s.tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link, _, _ := startConsoleCmd(t, s.consoleArgs(t, tokFile, "-listen", "127.0.0.1:0"))
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	if code, _ := browse(t, hc, link); code != http.StatusOK {
		t.Fatalf("the login link = %d", code)
	}
	u := strings.SplitN(link, "/login", 2)[0]
	if code, page := browse(t, hc, u+"/timeline?officer=mentor.jansen"); code != http.StatusOK || strings.Contains(page, "ResourceExhausted") || strings.Contains(page, "larger than max") {
		t.Errorf("the console's timeline = %d:\n%.2000s", code, page)
	}
}
