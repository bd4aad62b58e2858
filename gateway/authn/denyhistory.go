package authn

import (
	"crypto/sha256"
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

// emptyDenySum is the digest of the entries of a deny list without any.
var emptyDenySum = sha256.Sum256(nil)

// revokes reports whether the deny list m places has entries.
func (m denyMark) revokes() bool { return m.sum != emptyDenySum }

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

// markKeyDenyList is the key of the deny list's mark in a MarkStore, of
// kind MarkKindDenyList: the gateway has one deny list.
const markKeyDenyList = "deny-list"

// markKeyUnnumbered is the key, of kind MarkKindDenyList, of the mark of
// the last deny list without a version line put in force (its digest),
// while no numbered one has been: dropping it is refused while it has
// entries. A key of its own, which a gateway of an earlier version does
// not read: it would take the mark for a numbered list's.
const markKeyUnnumbered = "unnumbered"

// storedDenyMark is a denyMark as a MarkStore keeps it: a versioned deny
// list's (markKeyDenyList), or, without its version, the last unnumbered
// one's (markKeyUnnumbered).
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
// a lower version, another of the same version, one without a version
// after a numbered one, or none at all after a numbered one with entries,
// any of which could un-revoke what the newer one revoked. A deny list
// without a version is not protected against a rollback until a numbered
// one has been in force (any list loads), but it is not dropped either
// while it has entries: none at all after it is refused, as after a
// numbered one. It is in memory; Kept shares it with a
// MarkStore, which keeps it across restarts. The zero value is
// ready to use.
type DenyListHistory struct {
	mu     sync.Mutex
	newest *denyMark // nil until a numbered deny list is in force
	// last is the last deny list without a version line in force; it
	// counts only while no numbered one has been (newest is nil).
	last *denyMark
}

// DenyListVersioned reports whether r has a deny list with a version line. A
// Revocation without a deny list has none.
func (r *Revocation) DenyListVersioned() bool {
	return r != nil && r.deny != nil && r.deny.versioned
}

// Check returns an error if the deny list of r is older than the one h
// has seen (a lower version, or none after a numbered one), or has the
// same version with other entries. A Revocation without a deny list
// passes unless the one h has seen has entries: dropping it would
// un-revoke them all. A list is retired by putting in force a higher
// version without entries, after which none is needed.
func (h *DenyListHistory) Check(r *Revocation) error {
	if h == nil || r == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.newest
	switch {
	case old == nil && r.deny == nil && h.last != nil && h.last.revokes():
		return fmt.Errorf("authn: there is no deny list, and the one in force before (%s) has entries: a deny list is not dropped while it revokes; to retire it, put in force a deny list with no entries (an empty file, or version:1 alone), after which it can be removed", h.last)
	case old == nil:
		return nil
	case r.deny == nil && old.revokes():
		return fmt.Errorf("authn: there is no deny list, and the one in force before (%s) has entries: a deny list is not dropped while it revokes; to retire it, put in force a deny list numbered above %d with no entries (version:%d alone), after which it can be removed", old, old.version, old.version+1)
	case r.deny == nil:
		return nil // the one in force before revoked nothing
	}
	m := *r.deny
	switch {
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
// newer than the one seen, or as the last unnumbered one if it is not.
func (h *DenyListHistory) Record(r *Revocation) {
	if r == nil || r.deny == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.note(*r.deny)
}

// note makes m the newest deny list if it is numbered and newer than the
// one h has, or the last unnumbered one if it is not. h.mu is held.
func (h *DenyListHistory) note(m denyMark) {
	if !m.versioned {
		h.last = &m
	}
	if m.versioned && (h.newest == nil || m.version > h.newest.version) {
		h.newest = &m
	}
}

// Kept adds to h the numbered deny list a MarkStore keeps (kept: its
// marks of MarkKindDenyList), if newer than the one h has: the newest any
// process sharing the store put in force, in this run or an earlier one;
// and the last unnumbered one it keeps, which any process put in force
// last. It then checks r against h (Check), and returns the mark of the
// deny list of r, by key, if it is numbered and newer than the one kept,
// or unnumbered and other than the last one kept: what the store is to
// keep (MarkStore.SwapMarks, over kept) before r goes in force.
func (h *DenyListHistory) Kept(r *Revocation, kept map[string][]byte) (map[string][]byte, error) {
	var o, last *denyMark
	if b, ok := kept[markKeyDenyList]; ok {
		m, err := unmarshalDenyMark(b)
		if err != nil {
			return nil, fmt.Errorf("authn: the kept mark of the deny list does not read: %v", err)
		}
		o = &m
		h.mu.Lock()
		h.note(m)
		h.mu.Unlock()
	}
	if b, ok := kept[markKeyUnnumbered]; ok {
		m, err := unmarshalDenyMark(b)
		if err != nil {
			return nil, fmt.Errorf("authn: the kept mark of the deny list without a version does not read: %v", err)
		}
		m.version, m.versioned = 0, false
		last = &m
		h.mu.Lock()
		h.note(m)
		h.mu.Unlock()
	}
	if err := h.Check(r); err != nil {
		return nil, err
	}
	switch {
	case r == nil || r.deny == nil:
		return nil, nil
	case !r.deny.versioned:
		if last != nil && last.sum == r.deny.sum {
			return nil, nil
		}
		return map[string][]byte{markKeyUnnumbered: r.deny.marshal()}, nil
	case o != nil && o.version >= r.deny.version:
		return nil, nil
	}
	return map[string][]byte{markKeyDenyList: r.deny.marshal()}, nil
}
