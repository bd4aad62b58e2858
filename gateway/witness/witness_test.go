package witness_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/witness"
)

var quiet = slog.New(slog.DiscardHandler)

// logKey is one checkpoint key shared by the tests' logs: two gateways
// with the same origin and key, as a rewritten store would show.
type logKey struct {
	signer note.Signer
	v      note.Verifier
	vkey   string
}

func newLogKey(t *testing.T, name string) logKey {
	t.Helper()
	skey, vkey, err := audit.GenerateSignerKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return logKey{s, v, vkey}
}

// newLog opens a log on a fresh SQLite store.
func newLog(t *testing.T, k logKey) (*audit.Log, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(t.Context(), audit.Config{Store: st, Signer: k.signer, CheckpointInterval: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close(context.Background())
		st.Close()
	})
	return l, st
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// appendN appends entries first..first+n-1; the officer names the history.
func appendN(t *testing.T, l *audit.Log, first, n int, officer string) {
	t.Helper()
	for i := first; i < first+n; i++ {
		_, err := l.Append(t.Context(), &audit.Entry{
			Time: t0.Add(time.Duration(i) * time.Minute), Action: "request", Outcome: audit.OutcomeDeny,
			Requester: &audit.Requester{Agency: "nl-police", Officer: officer},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startWitness runs a witness that follows the log key, over HTTP on
// loopback.
func startWitness(t *testing.T, name string, logs ...logKey) (*witness.Witness, witness.Endpoint, string) {
	t.Helper()
	dir := t.TempDir()
	signer, err := witness.LoadOrCreateKey(filepath.Join(dir, "witness.key"), name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := witness.Config{Signer: signer, State: filepath.Join(dir, "witness.db"), Logs: map[string][]note.Verifier{}, Logger: quiet}
	for _, k := range logs {
		cfg.Logs[k.v.Name()] = append(cfg.Logs[k.v.Name()], k.v)
	}
	w, err := witness.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(func() {
		srv.Close()
		w.Close()
	})
	v, err := audit.NewCosignatureVerifier(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	return w, witness.Endpoint{URL: srv.URL, Verifier: v}, cfg.State
}

func newCosigner(t *testing.T, l *audit.Log, st audit.WitnessStore, ws ...witness.Endpoint) *witness.Cosigner {
	t.Helper()
	c, err := witness.NewCosigner(witness.CosignerConfig{Log: l, Store: st, Witnesses: ws, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends an add-checkpoint body and returns the status and body.
func post(t *testing.T, url, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

func request(old int64, proof tlog.TreeProof, signed []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(signed)
	return b.String()
}

// TestAddCheckpointProtocol drives the witness's HTTP interface through the
// answers C2SP tlog-witness names.
func TestAddCheckpointProtocol(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, _ := newLog(t, k)
	ctx := t.Context()
	w, e, state := startWitness(t, "witness.test/w1", k)

	appendN(t, l, 0, 3, "a")
	size3, cp3, _ := l.Checkpoint(ctx)
	appendN(t, l, 3, 4, "a")
	size7, cp7, _ := l.Checkpoint(ctx)
	proof, _ := l.ConsistencyProof(ctx, size3, size7)
	other := newLogKey(t, "other.test")
	foreign, _ := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "other.test", Size: 3}.String()}, other.signer)
	impostor := newLogKey(t, "log.test") // same name, another key
	forged, _ := note.Sign(&note.Note{Text: strings.SplitN(string(cp3), "\n\n", 2)[0] + "\n"}, impostor.signer)
	emptyWrong, _ := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: 0}.String()}, k.signer) // all-zero hash
	// The log's key over another tree of size 7: a fork.
	fork7, _ := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: size7, Hash: tlog.Hash{7}}.String()}, k.signer)

	steps := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"malformed body", "old x\n\n" + string(cp3), http.StatusBadRequest, ""},
		{"unknown origin", request(0, nil, foreign), http.StatusNotFound, ""},
		{"signed by another key", request(0, nil, forged), http.StatusForbidden, ""},
		{"old size above the checkpoint's", request(size7+1, nil, cp7), http.StatusBadRequest, ""},
		{"empty tree with a wrong hash", request(0, nil, emptyWrong), http.StatusUnprocessableEntity, ""},
		{"proof from the empty tree", request(0, proof, cp3), http.StatusUnprocessableEntity, ""},
		{"first checkpoint", request(0, nil, cp3), http.StatusOK, "— witness.test/w1 "},
		{"old size not the one cosigned", request(0, nil, cp7), http.StatusConflict, "3\n"},
		{"a proof that does not verify", request(size3, proof[1:], cp7), http.StatusUnprocessableEntity, ""},
		{"consistent", request(size3, proof, cp7), http.StatusOK, "— witness.test/w1 "},
		{"a smaller tree", request(size7, nil, cp3), http.StatusBadRequest, ""},
		{"the smaller tree as if new", request(size3, nil, cp3), http.StatusConflict, "7\n"},
		{"the same checkpoint with a proof", request(size7, proof, cp7), http.StatusUnprocessableEntity, ""},
		// tlog-witness: the old size is the size cosigned, but the root
		// hash differs: 409, its body the size known.
		{"another tree of the size cosigned", request(size7, nil, fork7), http.StatusConflict, "7\n"},
		{"the same checkpoint again", request(size7, nil, cp7), http.StatusOK, "— witness.test/w1 "},
	}
	for _, s := range steps {
		code, body, ctype := post(t, e.URL, s.body)
		if code != s.wantStatus || !strings.HasPrefix(body, s.wantBody) {
			t.Errorf("%s: %d %q, want %d %q...", s.name, code, body, s.wantStatus, s.wantBody)
		}
		if code == http.StatusConflict && ctype != "text/x.tlog.size" {
			t.Errorf("%s: Content-Type %q, want text/x.tlog.size", s.name, ctype)
		}
		if code == http.StatusOK {
			n, err := note.Open(append(bytes.Clone([]byte(strings.SplitN(s.body, "\n\n", 2)[1])), body...), note.VerifierList(e.Verifier))
			if err != nil || len(n.Sigs) != 1 {
				t.Errorf("%s: the answer %q is no cosignature by the witness: %v", s.name, body, err)
			}
		}
	}

	// The witness serves what it cosigned last, and keeps its state.
	sum := sha256.Sum256([]byte("log.test"))
	resp, err := http.Get(e.URL + "/" + hex.EncodeToString(sum[:]) + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cp, err := audit.OpenCheckpoint(b, k.v); err != nil || cp.Size != size7 || !bytes.HasPrefix(b, cp7) {
		t.Errorf("GET checkpoint = %q, %v; want the checkpoint of size %d with the cosignature", b, err, size7)
	}
	w.Close()
	signer, _ := witness.LoadOrCreateKey(filepath.Join(filepath.Dir(state), "witness.key"), "witness.test/w1")
	again, err := witness.New(ctx, witness.Config{Signer: signer, State: state, Logs: map[string][]note.Verifier{"log.test": {k.v}}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := again.AddCheckpoint(ctx, []byte(request(size3, proof, cp7))); err == nil || !strings.Contains(err.Error(), "7") {
		t.Errorf("after a restart, AddCheckpoint(old 3) = %v, want a conflict naming 7", err)
	}
}

// TestWitnessRefusesAFork runs two gateways' logs with one origin and key
// that share a witness; the second one's store was rewritten. The witness
// cosigns the first, refuses every checkpoint of the second (same size
// with another root, then a larger tree that does not extend the one it
// cosigned), keeps them as evidence, and an auditor's witness policy
// accepts the first gateway's published checkpoint and refuses the
// second's.
func TestWitnessRefusesAFork(t *testing.T) {
	k := newLogKey(t, "log.test")
	ctx := t.Context()
	w, e, _ := startWitness(t, "witness.test/w1", k)

	honest, honestStore := newLog(t, k)
	rewritten, rewrittenStore := newLog(t, k)
	appendN(t, honest, 0, 5, "a")
	appendN(t, rewritten, 0, 3, "a") // the same first three entries
	appendN(t, rewritten, 3, 2, "b") // then another history

	ch := newCosigner(t, honest, honestStore, e)
	cr := newCosigner(t, rewritten, rewrittenStore, e)
	if n, err := ch.Round(ctx); err != nil || n != 1 {
		t.Fatalf("honest Round() = %d, %v; want 1 cosignature", n, err)
	}
	n, err := cr.Round(ctx)
	var re *witness.RefusedError
	var ce *witness.ConflictError
	if n != 0 || !errors.As(err, &ce) || ce.Known != 5 {
		t.Fatalf("rewritten Round() at the same size = %d, %v; want 0 and a 409 naming size 5 (tlog-witness: same size, another root)", n, err)
	}
	// Both grow; the honest one stays witnessed, the rewritten one never is.
	appendN(t, honest, 5, 2, "a")
	appendN(t, rewritten, 5, 3, "b")
	if n, err := ch.Round(ctx); err != nil || n != 1 {
		t.Fatalf("honest Round() after growing = %d, %v", n, err)
	}
	if n, err := cr.Round(ctx); n != 0 || !errors.As(err, &re) || re.Status != http.StatusUnprocessableEntity {
		t.Fatalf("rewritten Round() after growing = %d, %v; want 0 and a 422 refusal", n, err)
	}
	refused, err := w.Refused(ctx, "log.test")
	if err != nil || len(refused) != 2 {
		t.Fatalf("Refused() = %d checkpoints, %v; want the rewritten log's 2", len(refused), err)
	}
	if _, err := audit.OpenCheckpoint(refused[0], k.v); err != nil {
		t.Errorf("the evidence kept is not a checkpoint signed by the log: %v", err)
	}

	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{e.Verifier}, Quorum: 1}
	_, good, err := ch.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := policy.Check(good, k.v); err != nil || len(who) != 1 {
		t.Errorf("policy.Check(honest published checkpoint) = %v, %v", who, err)
	}
	size, bad, err := cr.Checkpoint(ctx)
	if err != nil || size != 8 {
		t.Fatalf("rewritten Checkpoint() = %d, %v", size, err)
	}
	if _, err := policy.Check(bad, k.v); !errors.Is(err, audit.ErrQuorum) {
		t.Errorf("policy.Check(rewritten published checkpoint) = %v, want ErrQuorum", err)
	}
	// An auditor's Client refuses it too.
	c := audit.NewClient(staticSource(bad), audit.TrustFile(filepath.Join(t.TempDir(), "trusted")), k.v)
	if err := c.RequireWitnesses(policy); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Update(ctx); !errors.Is(err, audit.ErrQuorum) {
		t.Errorf("Client.Update(rewritten checkpoint) = %v, want ErrQuorum", err)
	}
}

// staticSource serves one checkpoint and no proofs.
type staticSource []byte

func (s staticSource) Checkpoint(context.Context) ([]byte, error) { return s, nil }
func (staticSource) ConsistencyProof(context.Context, int64, int64) (tlog.TreeProof, error) {
	return nil, errors.New("no proofs")
}
func (staticSource) Inclusion(context.Context, int64, int64) ([]byte, tlog.RecordProof, error) {
	return nil, nil, errors.New("no proofs")
}

// TestCosignerWithThreeWitnesses checks a published checkpoint against
// 2-of-3: cosigned by one witness (two are down) it fails; once the other
// two are back and the log grows, it passes, and a witness that restarted
// from nothing learns nothing wrong: the gateway learns its size from 409.
func TestCosignerWithThreeWitnesses(t *testing.T) {
	k := newLogKey(t, "log.test")
	ctx := t.Context()
	l, st := newLog(t, k)
	var es []witness.Endpoint
	var vs []note.Verifier
	for i := range 3 {
		_, e, _ := startWitness(t, fmt.Sprintf("witness.test/w%d", i+1), k)
		es, vs = append(es, e), append(vs, e.Verifier)
	}
	down := []witness.Endpoint{es[0], {URL: "http://127.0.0.1:1", Verifier: es[1].Verifier}, {URL: "http://127.0.0.1:1", Verifier: es[2].Verifier}}
	appendN(t, l, 0, 4, "a")
	if n, err := newCosigner(t, l, st, down...).Round(ctx); n != 1 || err == nil {
		t.Fatalf("Round() with two witnesses down = %d, %v; want 1 and an error", n, err)
	}
	policy := audit.WitnessPolicy{Witnesses: vs, Quorum: 2}
	c := newCosigner(t, l, st, es...)
	_, published, _ := c.Checkpoint(ctx)
	if _, err := policy.Check(published, k.v); !errors.Is(err, audit.ErrQuorum) {
		t.Errorf("2-of-3 on a checkpoint cosigned by one = %v, want ErrQuorum", err)
	}
	appendN(t, l, 4, 1, "a")
	// w1 knows size 4, the new Cosigner does not: it learns it from 409.
	if n, err := c.Round(ctx); n != 3 || err != nil {
		t.Fatalf("Round() with all three up = %d, %v; want 3", n, err)
	}
	_, published, _ = c.Checkpoint(ctx)
	if who, err := policy.Check(published, k.v); err != nil || len(who) != 3 {
		t.Errorf("2-of-3 on a checkpoint cosigned by three = %v, %v", who, err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.key")
	s1, err := witness.LoadOrCreateKey(path, "w.test")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := witness.LoadOrCreateKey(path, "w.test")
	if err != nil || s2.VerifierKey() != s1.VerifierKey() {
		t.Fatalf("reloading the key = %v, %v; want the same key %s", s2, err, s1.VerifierKey())
	}
	if _, err := audit.NewCosignatureVerifier(s1.VerifierKey()); err != nil {
		t.Errorf("the verifier key %q does not parse: %v", s1.VerifierKey(), err)
	}
	if _, err := witness.LoadOrCreateKey(path, "other.test"); err == nil {
		t.Errorf("LoadOrCreateKey under another name = nil error")
	}
	os.Chmod(path, 0o644)
	if _, err := witness.LoadOrCreateKey(path, "w.test"); err == nil {
		t.Errorf("LoadOrCreateKey on a world-readable key = nil error")
	}
}

// TestKeyFileHasOneSpelling: a witness key file with anything around its
// one line but one newline (which strings.TrimSpace used to take away) is
// refused, naming the file, never holding the key; so is one that group
// or others may read or write, with the fix (chmod 600).
func TestKeyFileHasOneSpelling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.key")
	s, err := witness.LoadOrCreateKey(path, "w.test")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	line := strings.TrimSuffix(string(b), "\n")
	// PRIVATE+KEY+name+hash+key: the key is everything after the fourth
	// "+", which standard base64 may itself hold. Cut at the last "+",
	// the secret was at times a few letters of it ("ey", "w"), which the
	// error's own words hold ("key", the file's path): the test failed
	// on a random key.
	secret := strings.SplitN(line, "+", 5)[4]
	if len(secret) < 40 {
		t.Fatalf("the key line %q has no key where one is expected", line[:strings.Index(line, "+")])
	}
	for name, content := range map[string]string{
		"leading space":   " " + line + "\n",
		"leading newline": "\n" + line + "\n",
		"two newlines":    line + "\n\n",
		"trailing space":  line + " \n",
		"CRLF":            line + "\r\n",
		"second line":     line + "\nPRIVATE+KEY+x\n",
		"empty":           "",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "w.key")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := witness.LoadOrCreateKey(p, "w.test")
			if err == nil {
				t.Fatalf("LoadOrCreateKey(%q) = nil error; want the file refused", content)
			}
			if !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), secret) {
				t.Errorf("error %q: want it to name the file and hold no key", err)
			}
		})
	}
	for _, content := range []string{line, line + "\n"} {
		p := filepath.Join(t.TempDir(), "w.key")
		os.WriteFile(p, []byte(content), 0o600)
		if got, err := witness.LoadOrCreateKey(p, "w.test"); err != nil || got.VerifierKey() != s.VerifierKey() {
			t.Errorf("LoadOrCreateKey(%q) = %v, %v; want the key", content, got, err)
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602} {
		os.Chmod(path, mode)
		_, err := witness.LoadOrCreateKey(path, "w.test")
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: error %v; want the file refused, naming it and the fix (chmod 600)", mode, err)
		}
	}
}

// TestLoadOrCreateKeyConcurrently: witnesses (or liaison witness
// -print-key beside a starting witness) creating the key file at once all
// get the one key that was written. The file was created empty and then
// written, so another process could read it empty or half written and fail
// to start, and a creator that lost the race failed with "file exists".
func TestLoadOrCreateKeyConcurrently(t *testing.T) {
	dir := t.TempDir()
	for i := range 100 {
		path := filepath.Join(dir, fmt.Sprintf("w%d.key", i))
		keys := make([]string, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for j := range keys {
			wg.Go(func() {
				s, err := witness.LoadOrCreateKey(path, "w.test")
				errs[j] = err
				if err == nil {
					keys[j] = s.VerifierKey()
				}
			})
		}
		wg.Wait()
		for j := range keys {
			if errs[j] != nil || keys[j] != keys[0] {
				t.Fatalf("round %d: LoadOrCreateKey #%d = %q, %v; want the one key %q", i, j, keys[j], errs[j], keys[0])
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestAddCheckpointVerifiesEverySignatureLine checks tlog-witness's 403
// for "a signature line's key name and ID match a trusted key but the
// signature itself fails to verify", also when that line follows a valid
// one by the same key (note.Open alone checks only the first): the
// witness neither cosigns nor records such a checkpoint.
func TestAddCheckpointVerifiesEverySignatureLine(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, _ := newLog(t, k)
	ctx := t.Context()
	w, e, _ := startWitness(t, "witness.test/w1", k)
	appendN(t, l, 0, 3, "a")
	_, cp3, _ := l.Checkpoint(ctx)

	text, sig, _ := strings.Cut(string(cp3), "\n\n")
	name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sig, "— "), "\n"), " ")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	raw[len(raw)-1] ^= 1
	bad := text + "\n\n" + sig + "— " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n"
	if code, body, _ := post(t, e.URL, request(0, nil, []byte(bad))); code != http.StatusForbidden {
		t.Errorf("a second log signature line that does not verify: %d %q, want 403", code, body)
	}
	if b, err := w.Latest(ctx, "log.test"); err != nil || b != nil {
		t.Errorf("after the refusal, Latest = %q, %v; want nothing cosigned", b, err)
	}
	// The same valid line twice is no invalid signature.
	if code, body, _ := post(t, e.URL, request(0, nil, append(bytes.Clone(cp3), sig...))); code != http.StatusOK {
		t.Errorf("the log's line twice: %d %q, want 200", code, body)
	}
}

// tickingWitness is a witness for one log that cosigns whatever it is sent
// (it checks nothing) with a timestamp one second later at each call, as a
// real witness's clock moves between two calls, and counts the calls.
type tickingWitness struct {
	priv  ed25519.PrivateKey
	id    uint32
	ts    atomic.Uint64
	calls atomic.Int64
}

func (w *tickingWitness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.calls.Add(1)
	b, _ := io.ReadAll(r.Body)
	_, signed, _ := strings.Cut(string(b), "\n\n")
	text, _, _ := strings.Cut(signed, "\n\n")
	ts := w.ts.Add(1)
	sig := binary.BigEndian.AppendUint32(nil, w.id)
	sig = binary.BigEndian.AppendUint64(sig, ts)
	sig = append(sig, ed25519.Sign(w.priv, audit.CosignatureMessage(ts, []byte(text+"\n")))...)
	fmt.Fprintf(rw, "— witness.test/tick %s\n", base64.StdEncoding.EncodeToString(sig))
}

// TestCosignerRestartKeepsOneCosignature restarts the gateway's Cosigner
// (a new one on the same log and store, as after a restart or when another
// replica takes the lease) while the log does not grow: the witness's
// cosignature of that checkpoint is published already, so the new Cosigner
// does not ask again, and the published checkpoint keeps one line per
// witness instead of gaining one at each restart (note.Open refuses a note
// of more than 100 signature lines).
func TestCosignerRestartKeepsOneCosignature(t *testing.T) {
	k := newLogKey(t, "log.test")
	ctx := t.Context()
	l, st := newLog(t, k)
	_, priv, _ := ed25519.GenerateKey(nil)
	vkey, _ := audit.CosignatureVerifierKey("witness.test/tick", priv.Public().(ed25519.PublicKey))
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	tw := &tickingWitness{priv: priv, id: v.KeyHash()}
	tw.ts.Store(uint64(time.Now().Unix())) // a witness on the real clock
	srv := httptest.NewServer(tw)
	defer srv.Close()
	e := witness.Endpoint{URL: srv.URL, Verifier: v}

	appendN(t, l, 0, 3, "a")
	for restart := range 3 {
		if n, err := newCosigner(t, l, st, e).Round(ctx); n != 1 || err != nil {
			t.Fatalf("Round() after %d restarts = %d, %v; want 1", restart, n, err)
		}
	}
	_, published, err := st.PublishedCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(published), "— witness.test/tick "); lines != 1 || tw.calls.Load() != 1 {
		t.Errorf("after 3 starts at one size: %d cosignature lines of the witness published, %d calls; want 1 and 1\n%s", lines, tw.calls.Load(), published)
	}
	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{v}, Quorum: 1}
	if _, err := policy.Check(published, k.v); err != nil {
		t.Errorf("policy.Check(published) = %v", err)
	}
	// The log grows: the witness is asked again.
	appendN(t, l, 3, 1, "a")
	if n, err := newCosigner(t, l, st, e).Round(ctx); n != 1 || err != nil || tw.calls.Load() != 2 {
		t.Errorf("Round() after the log grew = %d, %v, %d calls; want 1 and a second call", n, err, tw.calls.Load())
	}
}

// TestWitnessLogKeyGivenTwice: a log's verifier key given twice (the same
// -log flag repeated) is one key, not an ambiguous pair that makes every
// checkpoint of that log a malformed request.
func TestWitnessLogKeyGivenTwice(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, _ := newLog(t, k)
	_, e, _ := startWitness(t, "witness.test/w1", k, k)
	appendN(t, l, 0, 3, "a")
	_, cp3, _ := l.Checkpoint(t.Context())
	if code, body, _ := post(t, e.URL, request(0, nil, cp3)); code != http.StatusOK {
		t.Errorf("add-checkpoint to a witness given the log's key twice: %d %q, want 200", code, body)
	}
}

// TestCosignatureDatedOtherThanNowIsRefused: a witness's cosignature, valid
// under its key, dated 1970 (timestamp 0) or a year ahead says something
// false about when the witness saw the checkpoint; AddCheckpoint refuses
// it, and takes one dated now.
func TestCosignatureDatedOtherThanNowIsRefused(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, _ := newLog(t, k)
	appendN(t, l, 0, 3, "a")
	_, cp, _ := l.Checkpoint(t.Context())
	_, priv, _ := ed25519.GenerateKey(nil)
	vkey, _ := audit.CosignatureVerifierKey("witness.test/tick", priv.Public().(ed25519.PublicKey))
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	tw := &tickingWitness{priv: priv, id: v.KeyHash()}
	srv := httptest.NewServer(tw)
	defer srv.Close()
	e := witness.Endpoint{URL: srv.URL, Verifier: v}
	for _, c := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"timestamp 0", time.Unix(0, 0), false},
		{"a year ahead", time.Now().AddDate(1, 0, 0), false},
		{"an hour ago", time.Now().Add(-time.Hour), false},
		{"now", time.Now(), true},
	} {
		tw.ts.Store(uint64(c.at.Unix()) - 1) // ServeHTTP adds one
		line, err := witness.AddCheckpoint(t.Context(), srv.Client(), e, 0, nil, cp)
		if (err == nil) != c.ok {
			t.Errorf("a cosignature dated %s (%s): %q, %v; want accepted %v", c.name, c.at.UTC().Format(time.RFC3339), line, err, c.ok)
		}
	}
}

// lockedBuffer is a log sink safe for the Cosigner's parallel asks.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWitnessConflictThatIsAForkIsAnError: a witness's 409 names the size
// of the latest tree it cosigned for the log's origin (C2SP tlog-witness).
// A tree larger than the log holds (the witness cosigned size 5, and the
// log, restored from an older copy under the same key, holds 3), or a
// tree of this very size that is not this one (a witness that answers a
// root mismatch at the same size with 409, as the spec says), is a second
// history of the log: the gateway logs it as an error, not as a routine
// skip (Info) or a mere failure (Warn).
func TestWitnessConflictThatIsAForkIsAnError(t *testing.T) {
	k := newLogKey(t, "log.test")
	cosigner := func(l *audit.Log, st audit.WitnessStore, e witness.Endpoint) (*witness.Cosigner, *lockedBuffer) {
		var logs lockedBuffer
		c, err := witness.NewCosigner(witness.CosignerConfig{Log: l, Store: st, Witnesses: []witness.Endpoint{e},
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		return c, &logs
	}
	t.Run("LargerTreeThanTheLogHolds", func(t *testing.T) {
		_, e, _ := startWitness(t, "witness.test/w1", k)
		la, sta := newLog(t, k)
		appendN(t, la, 0, 5, "a")
		ca, _ := cosigner(la, sta, e)
		if n, err := ca.Round(t.Context()); n != 1 || err != nil {
			t.Fatalf("Round() on the log of size 5 = %d, %v; want cosigned", n, err)
		}
		lb, stb := newLog(t, k) // the same log, restored from a copy of size 3
		appendN(t, lb, 0, 3, "a")
		cb, logs := cosigner(lb, stb, e)
		if n, err := cb.Round(t.Context()); n != 0 || err == nil {
			t.Fatalf("Round() on the restored log = %d, %v; want the witness's 409", n, err)
		}
		if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "larger tree of this log than the log holds") {
			t.Errorf("logs %q; want an error naming a larger tree than the log holds", out)
		}
	})
	t.Run("AnotherTreeOfThisSize", func(t *testing.T) {
		l, st := newLog(t, k)
		appendN(t, l, 0, 3, "b")
		v, err := audit.NewCosignatureVerifier(func() string {
			_, priv, _ := ed25519.GenerateKey(nil)
			vkey, _ := audit.CosignatureVerifierKey("witness.test/spec", priv.Public().(ed25519.PublicKey))
			return vkey
		}())
		if err != nil {
			t.Fatal(err)
		}
		// A witness that cosigned another tree of size 3 answers every
		// request for this one as tlog-witness says: 409, size 3.
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/x.tlog.size")
			rw.WriteHeader(http.StatusConflict)
			fmt.Fprint(rw, "3\n")
		}))
		defer srv.Close()
		c, logs := cosigner(l, st, witness.Endpoint{URL: srv.URL, Verifier: v})
		if n, err := c.Round(t.Context()); n != 0 || err == nil {
			t.Fatalf("Round() = %d, %v; want the witness's 409", n, err)
		}
		if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "another tree of this size") {
			t.Errorf("logs %q; want an error naming another tree of this size", out)
		}
	})
}

// TestConflictAnswerOneSpelling: a witness's 409 names a size in decimal
// with no sign or leading zero (C2SP tlog-witness); the client refused
// other bodies but took "+5" or "05" for 5.
func TestConflictAnswerOneSpelling(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, _ := newLog(t, k)
	appendN(t, l, 0, 3, "a")
	_, signed, err := l.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	vkey, _ := audit.CosignatureVerifierKey("witness.test/w1", priv.Public().(ed25519.PublicKey))
	v, _ := audit.NewCosignatureVerifier(vkey)
	for body, want := range map[string]int64{"5\n": 5, "05\n": -1, "+5\n": -1, "5\r\n": -1, "-0\n": -1} {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/x.tlog.size")
			rw.WriteHeader(http.StatusConflict)
			fmt.Fprint(rw, body)
		}))
		_, err := witness.AddCheckpoint(t.Context(), srv.Client(), witness.Endpoint{URL: srv.URL, Verifier: v}, 0, nil, signed)
		srv.Close()
		var ce *witness.ConflictError
		switch {
		case want >= 0 && (!errors.As(err, &ce) || ce.Known != want):
			t.Errorf("409 %q: %v; want a conflict naming %d", body, err, want)
		case want < 0 && (err == nil || errors.As(err, &ce)):
			t.Errorf("409 %q: %v; want it refused as malformed", body, err)
		}
	}
}
