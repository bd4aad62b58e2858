package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/sample"
)

// `liaison dev token` names the agency in the liaison_agency_id claim,
// which tokens of an issuer serving several agencies need, unless told not
// to.
func TestDevTokenNamesTheAgency(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sample.WritePKI(dir, nil); err != nil {
		t.Fatal(err)
	}
	claims := func(extra ...string) map[string]any {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"token", "-pki", dir, "-agency", "nl-police-amsterdam", "-officer", "insp.bakker"}, extra...)
		if err := runDev(t.Context(), args, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(strings.TrimSpace(out.String()), ".")
		if len(parts) != 3 {
			t.Fatalf("dev token printed %d parts, want a JWT", len(parts))
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := claims()["liaison_agency_id"]; got != "nl-police-amsterdam" {
		t.Errorf("liaison_agency_id = %v, want nl-police-amsterdam", got)
	}
	if got, ok := claims("-agency-claim=false")["liaison_agency_id"]; ok {
		t.Errorf("-agency-claim=false: liaison_agency_id = %v, want no claim", got)
	}
}
