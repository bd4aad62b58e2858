package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A record or subject-attributes file that does not parse is refused
// naming the file and where it went wrong, never quoting what it holds
// there: protojson's own error quotes the offending value, which in a
// record is as likely as not the subject's identifier, and the error
// reaches the terminal and whatever keeps its output.
func TestCorrectFileErrorsNeverQuoteTheSubject(t *testing.T) {
	const id = "SYN-NL-PRIV-4242"
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"riskAssessment":{"subject":{"subjectId":"`+id+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"unquoted":   `{"riskAssessment":{"subject":{"subjectId":` + id + `}}}`,
		"as a key":   `{"riskAssessment":{"subject":{"` + id + `":"x"}}}`,
		"twice":      `{"riskAssessment":{"subject":{"subjectId":"` + id + `","subjectId":"` + id + `"}}}`,
		"at the top": `{"riskAssessment":{"subject":{"subjectId":"x"}},"` + id + `":1}`,
		"attributes": `{"category":` + id + `}`,
	} {
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"correct", "-record", file, "-justification", "The contact point changed."}
		if name == "attributes" {
			args = []string{"correct", "-record", good, "-subject-attributes", file, "-justification", "The contact point changed."}
		}
		var out bytes.Buffer
		err := run(t.Context(), args, &out, &out)
		if err == nil {
			t.Fatalf("%s: correct with a file that does not parse succeeded", name)
		}
		if strings.Contains(err.Error(), id) || strings.Contains(out.String(), id) {
			t.Errorf("%s: the error quotes the subject's identifier: %v\n%s", name, err, out.String())
		}
		if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "(line 1:") {
			t.Errorf("%s: error %q does not name the file and where it went wrong", name, err)
		}
	}
}
