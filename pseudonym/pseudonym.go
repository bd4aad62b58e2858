package pseudonym

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable is returned, possibly wrapped, when no usable key is held:
// the key source could not be reached for longer than the staleness bound.
// It never means the subject is unknown.
var ErrUnavailable = errors.New("pseudonym: key service unavailable")

// A SubjectID identifies a person in the holding agency's own records. It
// must never reach a log or an error message; it prints as [redacted].
// Convert it with string(id) only where it is pseudonymised or sent to the
// agency that holds it.
type SubjectID string

// String returns "[redacted]" so that %v and %s never print the identifier.
func (SubjectID) String() string { return "[redacted]" }

// GoString returns "[redacted]" so that %#v never prints the identifier.
func (SubjectID) GoString() string { return "[redacted]" }

// LogValue returns "[redacted]" so that slog never prints the identifier.
func (SubjectID) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// A KeyRing holds master keys by version. Current is the version new
// pseudonyms are made with; the others still resolve during a transition.
// Audit is the key of the audit domain: it never rotates, so that an
// auditor finds a subject's entries across the whole retention period, and
// an inbox item sealed under a key derived from it (SealInbox) opens for
// as long as the inbox keeps it. Printed or logged, a ring shows its
// versions and never its keys (see String).
type KeyRing struct {
	Current  int
	Versions map[int][]byte
	Audit    []byte
}

// String describes the ring by its versions, never its keys, so that %v,
// %+v and %s of a ring (or of a struct holding one) print no key material.
func (r KeyRing) String() string {
	vs := slices.Sorted(maps.Keys(r.Versions))
	return fmt.Sprintf("KeyRing{Current: %d, Versions: %v, keys [redacted]}", r.Current, vs)
}

// versions lists the ring's versions, ascending.
func (r *KeyRing) versions() []int { return slices.Sorted(maps.Keys(r.Versions)) }

// GoString is String, so that %#v prints no key material either.
func (r KeyRing) GoString() string { return r.String() }

// LogValue is String, so that slog prints no key material.
func (r KeyRing) LogValue() slog.Value { return slog.StringValue(r.String()) }

func (r *KeyRing) validate() error {
	if r == nil || len(r.Versions) == 0 {
		return errors.New("pseudonym: key ring is empty")
	}
	if _, ok := r.Versions[r.Current]; !ok {
		return fmt.Errorf("pseudonym: current key version %d is not in the ring", r.Current)
	}
	for v, k := range r.Versions {
		if v <= 0 || v > math.MaxInt32 {
			return fmt.Errorf("pseudonym: key version %d is out of range", v)
		}
		if len(k) < 32 {
			return fmt.Errorf("pseudonym: key version %d is %d bytes; want at least 32", v, len(k))
		}
	}
	if len(r.Audit) < 32 {
		return errors.New("pseudonym: the audit key is missing or shorter than 32 bytes")
	}
	return nil
}

// A KeySource supplies master keys. Implementations MUST return
// ErrUnavailable (wrapped) for transient failures, and MUST return the same
// key bytes for a version every time.
type KeySource interface {
	Keys(ctx context.Context) (*KeyRing, error)
}

// A KeyVersionError reports a pseudonym made under a key version that is
// retired or unknown.
type KeyVersionError struct {
	Version int
}

func (e *KeyVersionError) Error() string {
	return fmt.Sprintf("pseudonym: key version %d is retired or unknown", e.Version)
}

// Config configures a Pseudonymizer. Source is required.
type Config struct {
	Source KeySource
	// Refresh is how often keys are reloaded. If zero, one minute.
	Refresh time.Duration
	// MaxStale bounds how long keys are used after the source stopped
	// answering. If zero, 15 minutes.
	MaxStale time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
	// OnRotate, if not nil, is called by Reload when the current key
	// version changes (not on the first load), with the versions before
	// and after, so that the gateway can record the rotation in its audit
	// log. It runs on the goroutine that called Reload and SHOULD return
	// quickly. Each hook also gets, as ring, the versions the ring loaded
	// holds, ascending (never a key), so that what the gateway records
	// says the whole ring and a later start can compare with it.
	OnRotate func(ctx context.Context, oldVersion, newVersion int, ring []int)
	// OnRetire, if not nil, is called by Reload when versions the ring
	// held are no longer in it (not on the first load): their transition
	// window ended, or Vault's minimum versions were raised. It gets the
	// versions that left, ascending, and the current version, so that the
	// gateway can record the retirement in its audit log: pseudonyms of
	// those versions no longer resolve. It is called after OnRotate when
	// one reload sees both, on the goroutine that called Reload, and
	// SHOULD return quickly.
	OnRetire func(ctx context.Context, retired []int, current int, ring []int)
	// OnRestore, if not nil, is called by Reload when versions below the
	// current version of the previous load, which that load's ring did
	// not hold, are in the ring again (not on the first load): Vault's
	// minimum versions were lowered, or a key source gives back a version
	// it had left out. It gets those versions, ascending, and the current
	// version, so that the gateway can record in its audit log that
	// pseudonyms of them resolve again. A version above the previous
	// current one is new, not restored: OnRotate reports it. OnRestore is
	// called after OnRotate and OnRetire when one reload sees them too, on
	// the goroutine that called Reload, and SHOULD return quickly.
	OnRestore func(ctx context.Context, restored []int, current int, ring []int)
}

// A Pseudonymizer computes pseudonyms from cached keys. It is safe for
// concurrent use.
type Pseudonymizer struct {
	cfg     Config
	log     *slog.Logger
	ring    atomic.Pointer[KeyRing]
	fetched atomic.Int64 // unix nanoseconds of the last successful load
	derived atomic.Pointer[ringKeys]

	mu      sync.Mutex
	domains map[domainKeyID]domainKeys // derived domain keys
}

type domainKeyID struct {
	version int
	domain  string
}

// maxDomainKeys bounds the derived-key cache; it is cleared when full.
const maxDomainKeys = 4096

// New loads the keys once and returns a Pseudonymizer. Call Run to keep
// them fresh.
func New(ctx context.Context, cfg Config) (*Pseudonymizer, error) {
	if cfg.Source == nil {
		return nil, errors.New("pseudonym: Config.Source is required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Minute
	}
	if cfg.MaxStale <= 0 {
		cfg.MaxStale = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pseudonymizer{cfg: cfg, log: cfg.Logger, domains: make(map[domainKeyID]domainKeys)}
	if p.log == nil {
		p.log = slog.Default()
	}
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload fetches the keys from the source now.
func (p *Pseudonymizer) Reload(ctx context.Context) error {
	ring, err := p.cfg.Source.Keys(ctx)
	if err != nil {
		return fmt.Errorf("pseudonym: load keys: %w", err)
	}
	if err := ring.validate(); err != nil {
		return err
	}
	old := p.ring.Swap(ring)
	p.fetched.Store(p.cfg.Now().UnixNano())
	if old == nil || old.Current != ring.Current || !sameVersions(old, ring) {
		// The keys derived from versions the ring no longer holds go;
		// those of the versions it keeps stay (they do not change).
		p.mu.Lock()
		maps.DeleteFunc(p.domains, func(id domainKeyID, _ domainKeys) bool { return ring.Versions[id.version] == nil })
		p.mu.Unlock()
		p.log.InfoContext(ctx, "pseudonym keys loaded", "current_version", ring.Current, "versions", len(ring.Versions))
	}
	if old != nil && old.Current != ring.Current && p.cfg.OnRotate != nil {
		p.cfg.OnRotate(ctx, old.Current, ring.Current, ring.versions())
	}
	if old != nil && p.cfg.OnRetire != nil {
		// Each left version is seen leaving by one Reload only: the
		// swap above hands every ring to one caller as its successor.
		if retired := versionsNotIn(old.Versions, ring.Versions, math.MaxInt); len(retired) > 0 {
			p.cfg.OnRetire(ctx, retired, ring.Current, ring.versions())
		}
	}
	if old != nil && p.cfg.OnRestore != nil {
		// A version below the previous current one was made before that
		// load: if that ring did not hold it, it had been left out, and
		// it is back. One above is new (a rotation).
		if restored := versionsNotIn(ring.Versions, old.Versions, old.Current); len(restored) > 0 {
			p.cfg.OnRestore(ctx, restored, ring.Current, ring.versions())
		}
	}
	return nil
}

// versionsNotIn lists, ascending, the versions of a below limit that b
// does not hold.
func versionsNotIn(a, b map[int][]byte, limit int) []int {
	var out []int
	for v := range a {
		if _, ok := b[v]; !ok && v < limit {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// sameVersions reports whether two rings hold the same key versions.
func sameVersions(a, b *KeyRing) bool {
	if len(a.Versions) != len(b.Versions) {
		return false
	}
	for v := range a.Versions {
		if _, ok := b.Versions[v]; !ok {
			return false
		}
	}
	return true
}

// Run refreshes the keys every Config.Refresh until ctx is done. Failures
// are logged; the cached keys stay in use for Config.MaxStale.
func (p *Pseudonymizer) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Reload(ctx); err != nil {
				p.log.WarnContext(ctx, "pseudonym key refresh failed; serving from cache", "error", err)
			}
		}
	}
}

// CurrentVersion returns the key version new pseudonyms are made with.
func (p *Pseudonymizer) CurrentVersion() int { return p.ring.Load().Current }

// Versions returns the current version and every version of the ring last
// loaded, ascending: what the ring holds, never a key. The gateway
// compares them at start with the key state its audit log last recorded.
func (p *Pseudonymizer) Versions() (current int, versions []int) {
	ring := p.ring.Load()
	return ring.Current, ring.versions()
}

// Freshness reports how long ago the keys were last loaded from their
// source, and the bound past which pseudonyms in recipient domains are
// refused (Config.MaxStale), for operators' metrics.
func (p *Pseudonymizer) Freshness() (age, maxStale time.Duration) {
	return p.cfg.Now().Sub(time.Unix(0, p.fetched.Load())), p.cfg.MaxStale
}

// AuditPseudonym returns id's pseudonym in the audit domain, written
// apsn:<26 characters>. It uses the audit key, which does not rotate, and it
// keeps working from the cached key when the key service is unreachable
// beyond the staleness bound: the audit log must go on recording refusals
// and disclosures that need no recipient pseudonym.
func (p *Pseudonymizer) AuditPseudonym(id SubjectID) (string, error) {
	ring := p.ring.Load()
	if ring == nil {
		return "", ErrUnavailable
	}
	var buf [sha256.Size]byte
	mac := p.auditMAC(ring).sum(buf[:0], []byte("liaison/pseudonym/v1/audit\x00"), []byte(id))
	return "apsn:" + b32.EncodeToString(mac[:16]), nil
}

// Pseudonym returns id's pseudonym in domain under the current key.
func (p *Pseudonymizer) Pseudonym(domain string, id SubjectID) (string, error) {
	ring, err := p.usableRing()
	if err != nil {
		return "", err
	}
	return p.pseudonym(ring, ring.Current, domain, string(id))
}

// PseudonymAt returns id's pseudonym in domain under a given key version, as
// long as the ring still holds it.
func (p *Pseudonymizer) PseudonymAt(version int, domain string, id SubjectID) (string, error) {
	ring, err := p.usableRing()
	if err != nil {
		return "", err
	}
	return p.pseudonym(ring, version, domain, string(id))
}

// Available reports whether pseudonyms can be made now: nil, or an error
// wrapping [ErrUnavailable] when the keys have not been refreshed within
// Config.MaxStale. The gateway's health check asks it.
func (p *Pseudonymizer) Available() error {
	_, err := p.usableRing()
	return err
}

func (p *Pseudonymizer) usableRing() (*KeyRing, error) {
	ring := p.ring.Load()
	age := p.cfg.Now().Sub(time.Unix(0, p.fetched.Load()))
	if ring == nil || age > p.cfg.MaxStale {
		return nil, fmt.Errorf("%w: keys not refreshed for %s", ErrUnavailable, age.Round(time.Second))
	}
	return ring, nil
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (p *Pseudonymizer) pseudonym(ring *KeyRing, version int, domain, id string) (string, error) {
	if domain == "" {
		return "", errors.New("pseudonym: empty domain")
	}
	dk, err := p.domainKey(ring, version, domain)
	if err != nil {
		return "", err
	}
	plain, err := pad(id)
	if err != nil {
		return "", err
	}
	// Deterministic authenticated encryption (SIV): the IV is a keyed MAC
	// of the padded identifier, and doubles as its tag.
	out := make([]byte, sivSize+len(plain))
	var buf [sha256.Size]byte
	copy(out, dk.mac.sum(buf[:0], plain)[:sivSize])
	cipher.NewCTR(dk.enc, out[:sivSize]).XORKeyStream(out[sivSize:], plain)
	var b strings.Builder
	b.Grow(8 + b32.EncodedLen(len(out)))
	b.WriteString("psn:")
	b.WriteString(strconv.Itoa(version))
	b.WriteByte(':')
	b.WriteString(b32.EncodeToString(out))
	return b.String(), nil
}

// Resolve returns the identifier behind a pseudonym of domain. Only the
// gateway can do it, with the key; it serves Translate and the
// dual-controlled re-identification, and nothing else. A pseudonym of
// another domain, or altered, does not resolve.
//
// Every pseudonym has exactly one spelling: the one Pseudonym returns.
// Resolve refuses any other string with ErrNotAPseudonym (or a
// *KeyVersionError for a version the ring does not hold), so that two
// different strings never name the same person and recipients may compare
// pseudonyms as strings.
func (p *Pseudonymizer) Resolve(domain, pseudonym string) (SubjectID, error) {
	ring, err := p.usableRing()
	if err != nil {
		return "", err
	}
	version, raw, err := parse(pseudonym)
	if err != nil {
		return "", err
	}
	dk, err := p.domainKey(ring, version, domain)
	if err != nil {
		return "", err
	}
	plain := make([]byte, len(raw)-sivSize)
	cipher.NewCTR(dk.enc, raw[:sivSize]).XORKeyStream(plain, raw[sivSize:])
	var buf [sha256.Size]byte
	if !hmac.Equal(dk.mac.sum(buf[:0], plain)[:sivSize], raw[:sivSize]) {
		return "", ErrNotAPseudonym
	}
	id, err := unpad(plain)
	if err != nil {
		return "", ErrNotAPseudonym
	}
	return SubjectID(id), nil
}

// ErrNotAPseudonym is returned by Resolve for a string that is not a
// pseudonym of the domain under a known key version.
var ErrNotAPseudonym = errors.New("pseudonym: not a pseudonym of this domain")

const (
	sivSize  = 16
	padBlock = 32
)

// pad prefixes the identifier with its length and pads it with zeros to a
// multiple of 32 bytes, so that pseudonyms of short identifiers all have
// the same length.
func pad(id string) ([]byte, error) {
	if len(id) == 0 || len(id) > 255 {
		return nil, errors.New("pseudonym: identifier must be 1 to 255 bytes")
	}
	b := make([]byte, paddedLen(len(id)))
	b[0] = byte(len(id))
	copy(b[1:], id)
	return b, nil
}

// paddedLen is the length pad gives an identifier of n bytes.
func paddedLen(n int) int { return (1 + n + padBlock - 1) / padBlock * padBlock }

// unpad undoes pad. It refuses anything pad would not have written,
// including a longer padding than the identifier needs.
func unpad(b []byte) (string, error) {
	if len(b) == 0 || b[0] == 0 || len(b) != paddedLen(int(b[0])) {
		return "", errors.New("bad padding")
	}
	for _, c := range b[1+int(b[0]):] {
		if c != 0 {
			return "", errors.New("bad padding")
		}
	}
	return string(b[1 : 1+int(b[0])]), nil
}

// domainKeys are the two keys of a domain under one master key version.
type domainKeys struct {
	mac *macPool     // HMAC-SHA256 for the synthetic IV
	enc cipher.Block // AES-256 for the CTR keystream
}

// domainKey derives (and caches) the domain's keys: HMAC-SHA256 of the
// master key over a label and the domain, split into a MAC and an
// encryption key.
//
// The ring decides, not the cache: a version the caller's ring does not
// hold is refused even if its keys are cached. A call that began before a
// reload retired a version (its ring still holding it) may derive that
// version's keys after the reload cleared the cache; they are then not
// kept, so that no later call finds them there.
func (p *Pseudonymizer) domainKey(ring *KeyRing, version int, domain string) (domainKeys, error) {
	master, ok := ring.Versions[version]
	if !ok {
		return domainKeys{}, &KeyVersionError{Version: version}
	}
	id := domainKeyID{version, domain}
	p.mu.Lock()
	dk, ok := p.domains[id]
	p.mu.Unlock()
	if ok {
		return dk, nil
	}
	derive := func(label string) []byte {
		mac := hmac.New(sha256.New, master)
		mac.Write([]byte("liaison/pseudonym/v2/" + label + "\x00"))
		mac.Write([]byte(domain))
		return mac.Sum(nil)
	}
	block, err := aes.NewCipher(derive("enc"))
	if err != nil {
		return domainKeys{}, err
	}
	dk = domainKeys{mac: newMACPool(derive("mac")), enc: block}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ring.Load() != ring {
		return dk, nil // a reload happened meanwhile: used once, not kept
	}
	if len(p.domains) >= maxDomainKeys {
		clear(p.domains)
	}
	p.domains[id] = dk
	return dk, nil
}

// ParseVersion returns the key version a pseudonym was made with. It
// refuses a string that is not spelled as Pseudonym spells, but it cannot
// tell an altered pseudonym from a real one: only Resolve, with the key,
// can.
func ParseVersion(pseudonym string) (int, error) {
	v, _, err := parse(pseudonym)
	return v, err
}

// maxPseudonymLen bounds the text form: the padding of a 255-byte
// identifier (256 bytes) and the IV, in base32, and the prefix.
var maxPseudonymLen = len("psn:") + 10 + 1 + b32.EncodedLen(sivSize+paddedLen(255))

// parse decodes the text form of a pseudonym. It accepts exactly the
// spelling pseudonym writes and nothing else: the version in canonical
// decimal (no sign, no leading zero, no space), and the body in the
// lower-case alphabet, of a length pad can give, with the unused bits of
// the last character zero. The base32 decoder alone is not enough: it
// ignores those bits and skips line breaks, so "...a" and "...b" would
// decode alike.
func parse(pseudonym string) (version int, raw []byte, err error) {
	if len(pseudonym) > maxPseudonymLen {
		return 0, nil, ErrNotAPseudonym
	}
	rest, ok := strings.CutPrefix(pseudonym, "psn:")
	if !ok {
		return 0, nil, ErrNotAPseudonym
	}
	v, body, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, nil, ErrNotAPseudonym
	}
	if version, err = ParseKeyVersion(v); err != nil {
		return 0, nil, ErrNotAPseudonym
	}
	raw, err = b32.DecodeString(body)
	if err != nil || len(raw) < sivSize+padBlock || (len(raw)-sivSize)%padBlock != 0 || b32.EncodeToString(raw) != body {
		return 0, nil, ErrNotAPseudonym
	}
	return version, raw, nil
}

// ParseKeyVersion parses a key version as the key file, Vault and the text
// form of a pseudonym write it: a positive decimal integer with no sign, no
// leading zero and no space, below 2^31. "1" is version 1; "01", "+1" and
// " 1" are not versions, so that a version has one spelling.
func ParseKeyVersion(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("pseudonym: %q is not a key version: want a positive decimal integer in canonical form", s)
	}
	return int(n), nil
}
