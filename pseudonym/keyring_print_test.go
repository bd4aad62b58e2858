package pseudonym_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestKeyRingPrintsNoKeys prints and logs a key ring every way fmt and
// slog allow: a ring printed the fields' bytes (%v of a *KeyRing gave
// "&{2 map[1:[171 171 ...]] [205 ...]}"), so one in an error or a debug log
// put the master and audit keys there. It now shows its versions only.
func TestKeyRingPrintsNoKeys(t *testing.T) {
	k1, k2, audit := bytes.Repeat([]byte{0xab}, 32), bytes.Repeat([]byte{0xbc}, 32), bytes.Repeat([]byte{0xcd}, 32)
	ring := &pseudonym.KeyRing{Current: 2, Versions: map[int][]byte{1: k1, 2: k2}, Audit: audit}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out = append(out, fmt.Sprintf(verb, ring), fmt.Sprintf(verb, *ring))
	}
	out = append(out, fmt.Sprintf("%+v", struct{ Ring pseudonym.KeyRing }{*ring}), fmt.Sprint(ring))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("keys", "ring", ring, "value", *ring)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("keys", "ring", ring, "value", *ring)
	out = append(out, logs.String())
	for _, s := range out {
		for _, k := range [][]byte{k1, k2, audit} {
			for _, spelling := range []string{
				strings.Trim(fmt.Sprint(k[:4]), "[]"), hex.EncodeToString(k[:4]),
				base64.StdEncoding.EncodeToString(k)[:8], string(k[:4]),
			} {
				if strings.Contains(s, spelling) {
					t.Fatalf("printed ring %q holds key bytes (%q)", s, spelling)
				}
			}
		}
		if !strings.Contains(s, "[redacted]") {
			t.Errorf("printed ring %q does not say its keys are redacted", s)
		}
	}
}
