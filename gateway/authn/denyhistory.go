package authn

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// denyMark places a deny list among its versions: its version line, if
// it has one, and the digest of its entries (their kind and value, in
// order, whatever the comments, spelling and order of the file).
type denyMark struct {
	version   uint64
	versioned bool
	sum       [32]byte
}

func (m denyMark) String() string {
	if !m.versioned {
		return "no version"
	}
	return "version " + strconv.FormatUint(m.version, 10)
}

// parseDenyVersion reads the value of a deny list's version line: a
// decimal number, digits only.
func parseDenyVersion(s string) (uint64, error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// markKindDenyList is the kind of the deny list's mark in a MarkStore,
// under the key markKeyDenyList: the gateway has one deny list.
const (
	markKindDenyList = "deny-list"
	markKeyDenyList  = "deny-list"
)

// storedDenyMark is a denyMark as a MarkStore keeps it; only a versioned
// deny list is kept.
type storedDenyMark struct {
	Version uint64 `json:"version"`
	SHA256  string `json:"sha256"` // of the entries
}

func (m denyMark) marshal() []byte {
	b, _ := json.Marshal(storedDenyMark{Version: m.version, SHA256: hex.EncodeToString(m.sum[:])})
	return b
}

func unmarshalDenyMark(b []byte) (denyMark, error) {
	var s storedDenyMark
	if err := json.Unmarshal(b, &s); err != nil {
		return denyMark{}, err
	}
	m := denyMark{version: s.Version, versioned: true}
	sum, err := hex.DecodeString(s.SHA256)
	if err != nil || len(sum) != len(m.sum) {
		return denyMark{}, fmt.Errorf("sha256 %q is not 64 hex digits", s.SHA256)
	}
	copy(m.sum[:], sum)
	return m, nil
}

// DenyListHistory is the newest numbered deny list (one with a version
// line) a process has had in force, to refuse a rollback: a deny list of
// a lower version, another of the same version, or one without a version
// after a numbered one, any of which could un-revoke what the newer one
// revoked. A deny list without a version is not protected until a
// numbered one has been in force. It is in memory; Load and Save share it
// with a MarkStore, which keeps it across restarts. The zero value is
// ready to use.
type DenyListHistory struct {
	mu     sync.Mutex
	newest *denyMark // nil until a numbered deny list is in force
}

// DenyListVersioned reports whether r has a deny list with a version line. A
// Revocation without a deny list has none.
func (r *Revocation) DenyListVersioned() bool {
	return r != nil && r.deny != nil && r.deny.versioned
}

// Check returns an error if the deny list of r is older than the one h
// has seen (a lower version, or none after a numbered one), or has the
// same version with other entries. A Revocation without a deny list
// passes.
func (h *DenyListHistory) Check(r *Revocation) error {
	if h == nil || r == nil || r.deny == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m, old := *r.deny, h.newest
	switch {
	case old == nil:
		return nil
	case !m.versioned:
		return fmt.Errorf("authn: the deny list has no version line, and the one in force before has %s: a deny list is not rolled back; number it above %d (version:<decimal>)", old, old.version)
	case m.version < old.version:
		return fmt.Errorf("authn: the deny list (%s) is older than the one in force before (%s): a deny list is not rolled back; install the current one", m, old)
	case m.version == old.version && m.sum != old.sum:
		return fmt.Errorf("authn: the deny list (%s) differs from the one in force before, of the same version: number a changed deny list above %d", m, old.version)
	}
	return nil
}

// Record notes the deny list of r, now in force, if it is numbered and
// newer than the one seen.
func (h *DenyListHistory) Record(r *Revocation) {
	if r == nil || r.deny == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.note(*r.deny)
}

// note makes m the newest deny list if it is numbered and newer than the
// one h has. h.mu is held.
func (h *DenyListHistory) note(m denyMark) {
	if m.versioned && (h.newest == nil || m.version > h.newest.version) {
		h.newest = &m
	}
}

// Novel reports whether r has a numbered deny list that is not the one h
// has in force: only then need h be compared with a MarkStore's.
func (h *DenyListHistory) Novel(r *Revocation) bool {
	if r == nil || r.deny == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.deny.versioned {
		return h.newest == nil || *h.newest != *r.deny
	}
	return h.newest == nil // an unnumbered list is refused once one was in force: is one kept?
}

// Load adds to h the numbered deny list s keeps, if newer than the one h
// has: the newest any process sharing s put in force, in this run or an
// earlier one.
func (h *DenyListHistory) Load(ctx context.Context, s MarkStore) error {
	kept, err := s.Marks(ctx, markKindDenyList)
	if err != nil {
		return fmt.Errorf("authn: read the deny list in force before: %v", err)
	}
	b, ok := kept[markKeyDenyList]
	if !ok {
		return nil
	}
	m, err := unmarshalDenyMark(b)
	if err != nil {
		return fmt.Errorf("authn: the kept mark of the deny list does not read: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.note(m)
	return nil
}

// Save keeps in s the deny list of r if it is numbered and newer than the
// one s keeps, replacing it only if it is still the one read; what s
// keeps newer is added to h.
func (h *DenyListHistory) Save(ctx context.Context, s MarkStore, r *Revocation) error {
	if r == nil || r.deny == nil || !r.deny.versioned {
		return nil
	}
	m := *r.deny
	for try := 0; ; try++ {
		kept, err := s.Marks(ctx, markKindDenyList)
		if err != nil {
			return fmt.Errorf("authn: read the deny list in force before: %v", err)
		}
		old, ok := kept[markKeyDenyList]
		if ok {
			o, err := unmarshalDenyMark(old)
			if err != nil {
				return fmt.Errorf("authn: the kept mark of the deny list does not read: %v", err)
			}
			if o.version >= m.version { // s keeps this version, or a newer one
				h.mu.Lock()
				h.note(o)
				h.mu.Unlock()
				return nil
			}
		}
		done, err := s.SwapMark(ctx, markKindDenyList, markKeyDenyList, old, m.marshal())
		switch {
		case err != nil:
			return fmt.Errorf("authn: keep the deny list in force: %v", err)
		case done:
			return nil
		case try == 4:
			return fmt.Errorf("authn: keep the deny list in force: its kept mark keeps changing")
		}
	}
}
