package authn

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// A MarkStore keeps, beyond a process, where the revocation lists a
// gateway put in force stand (the newest CRL of each issuer and scope,
// the version of the numbered deny list), so that the rule against
// rolling one back holds across restarts, and across the replicas
// sharing the store. The
// audit stores implement it; a mark is opaque to them.
type MarkStore interface {
	// Marks returns the marks kept of kind, by key.
	Marks(ctx context.Context, kind string) (map[string][]byte, error)
	// SwapMarks sets the marks of marks (by kind, then key) if the marks
	// kept of each kind of old and of marks are exactly those of old (as
	// Marks returned them: none more, none fewer, none other; none, for
	// a kind old lacks), and reports whether it did. It is one
	// transaction: every mark of marks is set, or none is, so that the
	// marks of the lists of one load move together or not at all.
	SwapMarks(ctx context.Context, old, marks map[string]map[string][]byte) (bool, error)
}

// The kinds of marks in a MarkStore: of CRLs, keyed by their issuer's
// name and key and their scope (crlScope); of the deny list, under one
// key. MarkKindCRL are the marks of CRLs kept before the issuer's key
// counted, keyed by its name and the scope alone (crlGroup), which the
// CAs of one name shared: they are read, and count for a name until a
// mark by key of it is kept (CRLHistory.legacy), and no longer written.
const (
	MarkKindCRLByKey = "crl-by-key"
	MarkKindCRL      = "crl"
	MarkKindDenyList = "deny-list"
)

// storedCRLMark is a crlMark as a MarkStore keeps it.
type storedCRLMark struct {
	Issuer     string    `json:"issuer"`
	Number     string    `json:"crl_number,omitempty"` // decimal; empty if the CRL has none
	ThisUpdate time.Time `json:"this_update"`
	SHA256     string    `json:"sha256"` // of the CRL's DER
}

func (m crlMark) marshal() []byte {
	s := storedCRLMark{Issuer: m.issuer, ThisUpdate: m.thisUpdate.UTC(), SHA256: hex.EncodeToString(m.sum[:])}
	if m.number != nil {
		s.Number = m.number.String()
	}
	b, _ := json.Marshal(s) // of strings and a time: cannot fail
	return b
}

func unmarshalCRLMark(b []byte) (crlMark, error) {
	var s storedCRLMark
	if err := json.Unmarshal(b, &s); err != nil {
		return crlMark{}, err
	}
	m := crlMark{thisUpdate: s.ThisUpdate, issuer: s.Issuer}
	if s.Number != "" {
		n, ok := new(big.Int).SetString(s.Number, 10)
		if !ok {
			return crlMark{}, fmt.Errorf("crl_number %q is not a decimal number", s.Number)
		}
		m.number = n
	}
	sum, err := hex.DecodeString(s.SHA256)
	if err != nil || len(sum) != len(m.sum) {
		return crlMark{}, fmt.Errorf("sha256 %q is not 64 hex digits", s.SHA256)
	}
	copy(m.sum[:], sum)
	return m, nil
}

// Kept adds to h the CRLs a MarkStore keeps (kept: its marks of
// MarkKindCRLByKey, by key; legacy: those of MarkKindCRL) where newer
// than those h has: the newest CRL of each issuer that any process
// sharing the store put in force, in this run or an earlier one. It then
// checks r against h (Check), and returns the marks of the CRLs of r
// newer than those kept, by key: what the store is to keep, of
// MarkKindCRLByKey (MarkStore.SwapMarks, over kept) before r goes in
// force. A kept mark that does not read is an error: the rule could not
// be applied to its issuer's CRLs.
func (h *CRLHistory) Kept(r *Revocation, kept, legacy map[string][]byte) (map[string][]byte, error) {
	read := make(map[string]crlMark, len(kept))
	for k, b := range kept {
		m, err := unmarshalCRLMark(b)
		g, key, ok := strings.Cut(k, "/")
		if err == nil && (!ok || len(g) != 64 || len(key) != 64) {
			err = errors.New("its key is not <64 hex digits>/<64 hex digits>")
		}
		if err != nil {
			return nil, fmt.Errorf("authn: the kept mark of the CRLs of issuer %s does not read: %v", k, err)
		}
		m.caKey = key
		read[k] = m
	}
	old := make(map[string]crlMark, len(legacy))
	for g, b := range legacy {
		m, err := unmarshalCRLMark(b)
		if err != nil {
			return nil, fmt.Errorf("authn: the kept mark of the CRLs of issuer %s does not read: %v", g, err)
		}
		old[g] = m
	}
	h.mu.Lock()
	for k, m := range read {
		h.note(k, m)
	}
	if h.legacy == nil && len(old) > 0 {
		h.legacy = map[string]crlMark{}
	}
	for g, m := range old {
		if o, ok := h.legacy[g]; !ok || m.compare(o) > 0 {
			h.legacy[g] = m
		}
	}
	h.mu.Unlock()
	if err := h.Check(r); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	if r != nil {
		for k, m := range r.crls {
			if o, ok := read[k]; !ok || m.compare(o) > 0 {
				out[k] = m.marshal()
			}
		}
	}
	return out, nil
}

// note makes m the newest CRL of scope k if it is newer than the one h
// has. h.mu is held.
func (h *CRLHistory) note(k string, m crlMark) {
	if h.newest == nil {
		h.newest = map[string]crlMark{}
	}
	if old, ok := h.newest[k]; !ok || m.compare(old) > 0 {
		h.newest[k] = m
	}
}
