package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// An Endpoint is a witness as a log knows it: where it listens and the key
// its cosignatures must verify under.
type Endpoint struct {
	// URL is the witness's submission prefix, e.g. https://witness.example;
	// requests go to URL + "/add-checkpoint".
	URL string
	// Verifier checks its cosignatures (audit.NewCosignatureVerifier).
	Verifier note.Verifier
}

// A ConflictError is a witness's 409 answer: it last cosigned a tree of
// Known entries, not of the old size the request named.
type ConflictError struct{ Known int64 }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: the witness last cosigned a tree of size %d", e.Known)
}

// A RefusedError is any other refusal by a witness, with its HTTP status:
// 422 means it found the checkpoint inconsistent with what it cosigned
// before.
type RefusedError struct {
	Status  int
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("witness: refused (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// AddCheckpoint asks the witness at e to cosign signed, the checkpoint of
// a log, with the consistency proof from oldSize, the size the witness
// last cosigned. It returns the cosignature line after checking it against
// e.Verifier, or a *ConflictError, a *RefusedError or a transport error.
// The cosignature's time must be the time of the call, within
// MaxCosignatureSkew either way: a witness that dates its statement to
// 1970, or to next year, says something false about when it saw the
// checkpoint, and an auditor reads that time.
func AddCheckpoint(ctx context.Context, hc *http.Client, e Endpoint, oldSize int64, proof tlog.TreeProof, signed []byte) ([]byte, error) {
	asked := time.Now()
	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", oldSize)
	for _, h := range proof {
		body.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	body.WriteString("\n")
	body.Write(signed)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(e.URL, "/")+"/add-checkpoint", &body)
	if err != nil {
		return nil, fmt.Errorf("witness: %v", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", e.Verifier.Name(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("witness %s: read the answer: %w", e.Verifier.Name(), err)
	}
	switch {
	case resp.StatusCode == http.StatusConflict:
		text, ok := strings.CutSuffix(string(b), "\n")
		known, err := strconv.ParseInt(text, 10, 64)
		// One spelling: decimal, no sign, no leading zero (tlog-witness).
		if !ok || err != nil || known < 0 || strconv.FormatInt(known, 10) != text || resp.Header.Get("Content-Type") != "text/x.tlog.size" {
			return nil, fmt.Errorf("witness %s: malformed 409 answer %q: want the size in decimal and a newline, Content-Type text/x.tlog.size", e.Verifier.Name(), b)
		}
		return nil, &ConflictError{Known: known}
	case resp.StatusCode != http.StatusOK:
		return nil, &RefusedError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	}
	line, err := checkCosignature(e.Verifier, signed, b)
	if err != nil {
		return nil, err
	}
	if err := checkCosignatureTime(e.Verifier.Name(), line, asked, time.Now()); err != nil {
		return nil, err
	}
	return line, nil
}

// MaxCosignatureSkew is how far a witness's clock may be from this
// gateway's: a cosignature dated further from the call is refused.
const MaxCosignatureSkew = 10 * time.Minute

// checkCosignatureTime checks that the cosignature line was made between
// asked and answered, give or take MaxCosignatureSkew.
func checkCosignatureTime(name string, line []byte, asked, answered time.Time) error {
	_, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(string(line), "— "), "\n"), " ")
	at, err := audit.CosignatureTime(note.Signature{Base64: b64})
	if err != nil {
		return fmt.Errorf("witness %s: %v", name, err)
	}
	if at.Before(asked.Add(-MaxCosignatureSkew)) || at.After(answered.Add(MaxCosignatureSkew)) {
		return fmt.Errorf("witness %s: the cosignature is dated %s, not the time it was asked for (%s): the witness's clock is wrong, or it answers with an old statement",
			name, at.UTC().Format(time.RFC3339), asked.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkCosignature returns the line of answer that is a valid cosignature
// of signed by v; the answer may hold other lines, which are ignored.
func checkCosignature(v note.Verifier, signed, answer []byte) ([]byte, error) {
	n, err := audit.OpenNote(append(bytes.Clone(signed), answer...), note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("witness %s: the answer is no valid cosignature: %v", v.Name(), err)
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return []byte("— " + s.Name + " " + s.Base64 + "\n"), nil
		}
	}
	return nil, errors.New("witness " + v.Name() + ": the answer holds no cosignature")
}
