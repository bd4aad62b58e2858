package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// Config configures a [Witness]. Signer, State and at least one log are
// required.
type Config struct {
	// Signer makes the cosignatures. Required.
	Signer *Signer
	// State is the witness's SQLite database file (created if absent):
	// the last checkpoint cosigned per log, and the refused ones.
	State string
	// Logs maps each log origin the witness follows to the verifiers of
	// the keys that sign its checkpoints. A checkpoint is accepted if any
	// of them signed it.
	Logs map[string][]note.Verifier
	// Now returns the current time, recorded beside the state. If nil,
	// time.Now. (The cosignature's own timestamp is the signer's clock.)
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Witness cosigns the checkpoints of the logs it follows, each only if
// it extends the last one it cosigned for that log (see the package
// documentation). It is an http.Handler; its methods are safe for
// concurrent use, and processes sharing one State file take turns.
type Witness struct {
	signer *Signer
	logs   map[string]note.Verifiers
	db     *sql.DB
	now    func() time.Time
	log    *slog.Logger
	mu     sync.Mutex // serialises check-and-update within the process
	mux    *http.ServeMux
}

// maxBody caps an add-checkpoint request: 63 proof lines and a checkpoint
// with a few signatures fit in far less.
const maxBody = 64 << 10

// New opens the witness's state and returns the Witness. Close it.
func New(ctx context.Context, cfg Config) (*Witness, error) {
	switch {
	case cfg.Signer == nil:
		return nil, errors.New("witness: Config.Signer is required")
	case cfg.State == "":
		return nil, errors.New("witness: Config.State is required")
	case len(cfg.Logs) == 0:
		return nil, errors.New("witness: Config.Logs names no log")
	}
	w := &Witness{signer: cfg.Signer, logs: map[string]note.Verifiers{}, now: cfg.Now, log: cfg.Logger, mux: http.NewServeMux()}
	for origin, vs := range cfg.Logs {
		if origin == "" || strings.Contains(origin, "\n") || len(vs) == 0 {
			return nil, fmt.Errorf("witness: log %q: an origin line and at least one verifier are required", origin)
		}
		// One key given twice is one key: note.VerifierList would make it
		// ambiguous, and every checkpoint of the log a malformed note.
		var uniq []note.Verifier
		for _, v := range vs {
			if !slices.ContainsFunc(uniq, func(u note.Verifier) bool { return u.Name() == v.Name() && u.KeyHash() == v.KeyHash() }) {
				uniq = append(uniq, v)
			}
		}
		w.logs[origin] = note.VerifierList(uniq...)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	db, err := openState(ctx, cfg.State)
	if err != nil {
		return nil, err
	}
	w.db = db
	w.mux.HandleFunc("POST /add-checkpoint", w.serveAddCheckpoint)
	w.mux.HandleFunc("GET /{origin}/checkpoint", w.serveCheckpoint)
	return w, nil
}

// openState opens (creating) the SQLite state at path on one connection.
func openState(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("witness: state: want a file path, got %q", path)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("witness: state %s: %v", path, err)
	}
	return db, nil
}

// stateSchema is the witness's state: per log, the last checkpoint it
// cosigned (tree size, root hash and the note with the log's signatures
// and its own cosignature); and the validly signed checkpoints it refused
// as inconsistent, kept as evidence.
const stateSchema = `
CREATE TABLE IF NOT EXISTS logs (
	origin     TEXT    PRIMARY KEY,
	tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
	root       BLOB    NOT NULL CHECK (length(root) = 32),
	checkpoint BLOB    NOT NULL,
	updated_ns INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS refused (
	id         INTEGER PRIMARY KEY,
	origin     TEXT    NOT NULL,
	old_size   INTEGER NOT NULL,
	tree_size  INTEGER NOT NULL,
	checkpoint BLOB    NOT NULL,
	reason     TEXT    NOT NULL,
	time_ns    INTEGER NOT NULL
) STRICT;
`

// Close closes the state.
func (w *Witness) Close() error { return w.db.Close() }

// VerifierKey returns the witness's verifier key.
func (w *Witness) VerifierKey() string { return w.signer.VerifierKey() }

// ServeHTTP serves the witness's endpoints.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// An httpError is a refusal with its HTTP status.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func refuse(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// A conflictError is a 409: the old size is not the size last cosigned,
// or it is but the root hash is not the one cosigned (why says so).
type conflictError struct {
	known int64
	why   string
}

func (e *conflictError) Error() string {
	if e.why != "" {
		return fmt.Sprintf("%s (size %d)", e.why, e.known)
	}
	return fmt.Sprintf("the old size is not %d, the size of the checkpoint last cosigned", e.known)
}

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxBody))
	if err != nil {
		http.Error(rw, "request body too large or unreadable", http.StatusBadRequest)
		return
	}
	line, err := w.AddCheckpoint(r.Context(), body)
	if ce, ok := errors.AsType[*conflictError](err); ok {
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", ce.known)
		return
	}
	if he, ok := errors.AsType[*httpError](err); ok {
		http.Error(rw, he.msg, he.code)
		return
	}
	if err != nil {
		w.log.ErrorContext(r.Context(), "witness: add-checkpoint failed", "error", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(line)
}

// AddCheckpoint handles the body of an add-checkpoint request and returns
// the cosignature line, or an error that ServeHTTP turns into the status
// the protocol names.
func (w *Witness) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	old, proof, signed, err := parseRequest(body)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "%v", err)
	}
	text, _, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return nil, refuse(http.StatusBadRequest, "malformed checkpoint note")
	}
	origin, _, _ := strings.Cut(string(text), "\n")
	verifiers, ok := w.logs[origin]
	if !ok {
		return nil, refuse(http.StatusNotFound, "unknown log origin")
	}
	n, err := audit.OpenNote(signed, verifiers)
	if err != nil {
		_, unverified := errors.AsType[*note.UnverifiedNoteError](err)
		_, invalid := errors.AsType[*note.InvalidSignatureError](err)
		if unverified || invalid {
			return nil, refuse(http.StatusForbidden, "no valid signature by the log's key")
		}
		return nil, refuse(http.StatusBadRequest, "malformed checkpoint note: %v", err)
	}
	cp, err := audit.ParseCheckpoint(n.Text)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "%v", err)
	}
	if old > cp.Size {
		return nil, refuse(http.StatusBadRequest, "old size %d exceeds the checkpoint's size %d", old, cp.Size)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	tx, err := w.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: other processes wait
	if err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	defer tx.Rollback()
	var known int64
	var root []byte
	err = tx.QueryRowContext(ctx, "SELECT tree_size, root FROM logs WHERE origin = ?", origin).Scan(&known, &root)
	if errors.Is(err, sql.ErrNoRows) {
		known, root, err = 0, nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	if old != known {
		return nil, &conflictError{known: known}
	}
	if why := consistent(cp, old, root, proof); why != "" {
		w.keepRefused(ctx, tx, origin, old, cp.Size, signed, why)
		if err := tx.Commit(); err != nil {
			w.log.ErrorContext(ctx, "witness: keep a refused checkpoint", "error", err)
		}
		w.log.WarnContext(ctx, "witness refused an inconsistent checkpoint: the log may have forked",
			"origin", origin, "old_size", old, "tree_size", cp.Size, "reason", why)
		if why == whySameSizeOtherRoot {
			// C2SP tlog-witness: "If the old size matches the checkpoint
			// size, the witness MUST check that the root hashes are also
			// identical. If they don't match, the witness MUST respond
			// with a 409 Conflict", its body the size it knows.
			return nil, &conflictError{known: known, why: why}
		}
		return nil, refuse(http.StatusUnprocessableEntity, "%s", why)
	}

	sig, err := w.signer.Sign([]byte(n.Text))
	if err != nil {
		return nil, fmt.Errorf("witness: cosign: %v", err)
	}
	line := cosignatureLine(w.signer.Name(), w.signer.KeyHash(), sig)
	stored := append(bytes.Clone(signed), line...)
	if _, err := tx.ExecContext(ctx, `INSERT INTO logs (origin, tree_size, root, checkpoint, updated_ns) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET tree_size = excluded.tree_size, root = excluded.root,
			checkpoint = excluded.checkpoint, updated_ns = excluded.updated_ns`,
		origin, cp.Size, cp.Hash[:], stored, w.now().UnixNano()); err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	// Persisted before answering: a cosignature is never given for a
	// state the witness could forget.
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("witness: state: commit: %v", err)
	}
	w.log.InfoContext(ctx, "witness cosigned", "origin", origin, "old_size", old, "tree_size", cp.Size)
	return line, nil
}

// whySameSizeOtherRoot is why a checkpoint of the size cosigned last with
// another root hash is refused: answered 409, as C2SP tlog-witness says,
// not 422.
const whySameSizeOtherRoot = "a tree of the same size with another root hash: the log forked"

// consistent says why cp, submitted with the old size and proof, does not
// extend the tree of that size whose root the witness knows ("" if it
// does).
func consistent(cp audit.Checkpoint, old int64, root []byte, proof tlog.TreeProof) string {
	if cp.Size == 0 && cp.Hash != tlog.Hash(sha256.Sum256(nil)) {
		return "an empty tree must have the hash of the empty string"
	}
	switch {
	case old == 0:
		if len(proof) > 0 {
			return "a consistency proof from the empty tree must be empty"
		}
	case old == cp.Size:
		if !bytes.Equal(root, cp.Hash[:]) {
			return whySameSizeOtherRoot
		}
		if len(proof) > 0 {
			// RFC 6962's proof from a tree to itself is empty; tlog.CheckTree
			// refuses any other.
			return "a consistency proof from a tree to itself must be empty"
		}
	default:
		var oldHash tlog.Hash
		copy(oldHash[:], root)
		if err := tlog.CheckTree(proof, cp.Size, cp.Hash, old, oldHash); err != nil {
			return "the consistency proof does not verify: the tree does not extend the one cosigned before"
		}
	}
	return ""
}

// keepRefused records a validly signed checkpoint that the witness refused.
func (w *Witness) keepRefused(ctx context.Context, tx *sql.Tx, origin string, old, size int64, signed []byte, why string) {
	if _, err := tx.ExecContext(ctx, "INSERT INTO refused (origin, old_size, tree_size, checkpoint, reason, time_ns) VALUES (?, ?, ?, ?, ?, ?)",
		origin, old, size, signed, why, w.now().UnixNano()); err != nil {
		w.log.ErrorContext(ctx, "witness: keep a refused checkpoint", "error", err)
	}
}

// Refused returns the signed checkpoints the witness refused as
// inconsistent with what it cosigned before, oldest first.
func (w *Witness) Refused(ctx context.Context, origin string) ([][]byte, error) {
	rows, err := w.db.QueryContext(ctx, "SELECT checkpoint FROM refused WHERE origin = ? ORDER BY id", origin)
	if err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("witness: state: %v", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Latest returns the last checkpoint the witness cosigned for origin, with
// the log's signatures and its cosignature, or nil.
func (w *Witness) Latest(ctx context.Context, origin string) ([]byte, error) {
	var b []byte
	err := w.db.QueryRowContext(ctx, "SELECT checkpoint FROM logs WHERE origin = ?", origin).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: state: %v", err)
	}
	return b, nil
}

// serveCheckpoint serves the last checkpoint cosigned for the log whose
// origin hashes (SHA-256, lowercase hex) to the path's first element.
func (w *Witness) serveCheckpoint(rw http.ResponseWriter, r *http.Request) {
	want := r.PathValue("origin")
	for origin := range w.logs {
		sum := sha256.Sum256([]byte(origin))
		if hex.EncodeToString(sum[:]) != want {
			continue
		}
		b, err := w.Latest(r.Context(), origin)
		if err != nil {
			w.log.ErrorContext(r.Context(), "witness: read state", "error", err)
			http.Error(rw, "internal error", http.StatusInternalServerError)
			return
		}
		if b != nil {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(b)
			return
		}
	}
	http.Error(rw, "no checkpoint cosigned for this log", http.StatusNotFound)
}

// parseRequest splits an add-checkpoint body into the old size, the
// consistency proof and the signed checkpoint.
func parseRequest(body []byte) (old int64, proof tlog.TreeProof, signed []byte, err error) {
	rest := body
	next := func() (string, bool) {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return "", false
		}
		rest = after
		return string(line), true
	}
	first, ok := next()
	sizeText, isOld := strings.CutPrefix(first, "old ")
	if !ok || !isOld {
		return 0, nil, nil, errors.New(`the body must begin with "old <size>"`)
	}
	old, err = strconv.ParseInt(sizeText, 10, 64)
	if err != nil || old < 0 || strconv.FormatInt(old, 10) != sizeText {
		return 0, nil, nil, fmt.Errorf("malformed old size %q", sizeText)
	}
	for {
		line, ok := next()
		if !ok {
			return 0, nil, nil, errors.New("no empty line before the checkpoint")
		}
		if line == "" {
			break
		}
		if len(proof) == 63 {
			return 0, nil, nil, errors.New("more than 63 consistency proof lines")
		}
		h, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != line {
			return 0, nil, nil, errors.New("malformed consistency proof line")
		}
		proof = append(proof, tlog.Hash(h))
	}
	return old, proof, rest, nil
}

// cosignatureLine formats a note signature line: "— name base64(key ID || sig)\n".
func cosignatureLine(name string, hash uint32, sig []byte) []byte {
	b := []byte{byte(hash >> 24), byte(hash >> 16), byte(hash >> 8), byte(hash)}
	return fmt.Appendf(nil, "— %s %s\n", name, base64.StdEncoding.EncodeToString(append(b, sig...)))
}
