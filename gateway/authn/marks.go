package authn

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
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
	// SwapMark sets the mark of kind and key to mark if the one kept is
	// old (nil: if none is kept), and reports whether it did.
	SwapMark(ctx context.Context, kind, key string, old, mark []byte) (bool, error)
}

// markKindCRL is the kind of the marks of CRLs in a MarkStore, keyed by
// crlScope.
const markKindCRL = "crl"

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

// Novel reports whether r holds a CRL that is not the one h has in
// force for its issuer: only then need h be compared with a MarkStore's.
func (h *CRLHistory) Novel(r *Revocation) bool {
	if r == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, m := range r.crls {
		if old, ok := h.newest[k]; !ok || old.sum != m.sum {
			return true
		}
	}
	return false
}

// Load adds to h the CRLs s keeps, where newer than those h has: the
// newest CRL of each issuer that any process sharing s put in force, in
// this run or an earlier one. A mark s keeps that does not read is an
// error: the rule could not be applied to its issuer's CRLs.
func (h *CRLHistory) Load(ctx context.Context, s MarkStore) error {
	kept, err := s.Marks(ctx, markKindCRL)
	if err != nil {
		return fmt.Errorf("authn: read the CRLs in force before: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, b := range kept {
		m, err := unmarshalCRLMark(b)
		if err != nil {
			return fmt.Errorf("authn: the kept mark of the CRLs of issuer %s does not read: %v", k, err)
		}
		h.note(k, m)
	}
	return nil
}

// Save keeps in s each CRL of r that is newer than the one s keeps of its
// issuer (and scope), replacing it only if it is still the one read
// (another replica may save at the same time); what s keeps newer is
// added to h.
func (h *CRLHistory) Save(ctx context.Context, s MarkStore, r *Revocation) error {
	if r == nil || len(r.crls) == 0 {
		return nil
	}
	kept, err := s.Marks(ctx, markKindCRL)
	if err != nil {
		return fmt.Errorf("authn: read the CRLs in force before: %v", err)
	}
	for k, m := range r.crls {
		for try := 0; ; try++ {
			old, ok := kept[k]
			if ok {
				o, err := unmarshalCRLMark(old)
				if err != nil {
					return fmt.Errorf("authn: the kept mark of the CRLs of issuer %s does not read: %v", k, err)
				}
				if m.compare(o) <= 0 { // s keeps this CRL, or a newer one
					h.mu.Lock()
					h.note(k, o)
					h.mu.Unlock()
					break
				}
			}
			done, err := s.SwapMark(ctx, markKindCRL, k, old, m.marshal())
			if err != nil {
				return fmt.Errorf("authn: keep the CRL in force: %v", err)
			}
			if done {
				break
			}
			if try == 4 {
				return fmt.Errorf("authn: keep the CRL in force: the kept mark of its issuer keeps changing")
			}
			if kept, err = s.Marks(ctx, markKindCRL); err != nil {
				return fmt.Errorf("authn: read the CRLs in force before: %v", err)
			}
		}
	}
	return nil
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
