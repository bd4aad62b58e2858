package pseudonym

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// DefaultTransitionWindow is how long a key version keeps resolving after
// its successor was created, unless configured otherwise.
const DefaultTransitionWindow = 30 * 24 * time.Hour

// FileKeys is a KeySource backed by a local JSON key file. It serves the
// embedded default and tests; it is not for production, where keys belong
// in Vault, separate from the data they protect.
//
// The file holds the current version, every version's key, when each
// version was created, and the audit key:
//
//	{"current": 2,
//	 "keys": {"1": "<base64>", "2": "<base64>"},
//	 "created": {"1": "2026-01-05T10:00:00Z", "2": "2026-03-01T09:00:00Z"},
//	 "audit": "<base64>"}
//
// Those four names are the only ones, spelt exactly so, and no object in
// the file names a member twice: a file with "Current", an unknown name
// or a second "1" in "keys" is refused, not read as something else. The
// current version is the highest: a file listing a version above it is
// refused too. Each key is in standard base64 with its padding
// (RFC 4648 section 4), spelt exactly as base64.StdEncoding encodes it:
// a line break inside, missing padding, the URL alphabet or non-zero
// padding bits are refused, not read as the same key. The file must be
// readable by its owner only (mode 0600, as every writer here makes it):
// a file that group or others may read or write is refused, with the
// chmod that fixes it.
//
// Like the Vault source, FileKeys leaves out of the ring a version whose
// successor was created more than TransitionWindow ago: it is retired.
// Files written before creation times were recorded have no "created";
// their versions are treated as current-era and stay in the ring until a
// rotation gives them a successor with a known time.
type FileKeys struct {
	Path string
	// TransitionWindow is how long a version keeps resolving after its
	// successor was created. If zero, DefaultTransitionWindow.
	TransitionWindow time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
}

var _ KeySource = FileKeys{}

type keyFile struct {
	Current int               `json:"current"`
	Keys    map[string]string `json:"keys"`              // version -> base64 key
	Created map[string]string `json:"created,omitempty"` // version -> RFC 3339 creation time
	Audit   string            `json:"audit"`             // base64 audit-domain key
}

// A KeyVersionInfo describes one key version in a rotation schedule.
type KeyVersionInfo struct {
	Version int
	// Created is when the version was made; zero if unknown (a key file
	// from before creation times were recorded).
	Created time.Time
	// Retires is when the version leaves the ring: its successor's
	// creation plus the transition window. It is zero for the current
	// version, and for a version whose successor's creation is unknown.
	Retires time.Time
	// Live reports whether the version is in the ring at the time the
	// schedule was computed.
	Live bool
}

// KeySchedule computes the rotation schedule of a key's versions at now:
// the current version is live; an older one is live until its successor
// (the next higher version listed) is older than window. A version whose
// successor has no known creation time (the zero time) stays live. Versions
// above current are left out. The result is sorted by version, ascending.
// Both key sources follow this rule.
func KeySchedule(current int, created map[int]time.Time, window time.Duration, now time.Time) []KeyVersionInfo {
	vs := make([]int, 0, len(created))
	for v := range created {
		if v <= current {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	out := make([]KeyVersionInfo, 0, len(vs))
	for i, v := range vs {
		info := KeyVersionInfo{Version: v, Created: created[v], Live: true}
		if v != current && i+1 < len(vs) {
			if succ := created[vs[i+1]]; !succ.IsZero() {
				info.Retires = succ.Add(window)
				info.Live = !now.After(info.Retires)
			}
		}
		out = append(out, info)
	}
	return out
}

func (f FileKeys) window() time.Duration {
	if f.TransitionWindow > 0 {
		return f.TransitionWindow
	}
	return DefaultTransitionWindow
}

func (f FileKeys) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Keys reads the key file and returns the ring of live versions.
func (f FileKeys) Keys(ctx context.Context) (*KeyRing, error) {
	kf, keys, created, err := readKeyFile(f.Path)
	if err != nil {
		return nil, err
	}
	audit, err := decodeFileKey(kf.Audit)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: key file: audit key: %v", err)
	}
	ring := &KeyRing{Current: kf.Current, Versions: make(map[int][]byte, len(keys)), Audit: audit}
	for _, info := range KeySchedule(kf.Current, created, f.window(), f.now()) {
		if info.Live {
			ring.Versions[info.Version] = keys[info.Version]
		}
	}
	if err := ring.validate(); err != nil {
		return nil, err
	}
	return ring, nil
}

// Schedule returns the key file's current version and the rotation
// schedule of all its versions at the source's time, retired ones
// included. It serves `liaison keys status`.
func (f FileKeys) Schedule() (current int, versions []KeyVersionInfo, err error) {
	kf, _, created, err := readKeyFile(f.Path)
	if err != nil {
		return 0, nil, err
	}
	return kf.Current, KeySchedule(kf.Current, created, f.window(), f.now()), nil
}

// readKeyFile parses a key file and decodes its versions. Every listed
// version is in created, with the zero time if the file does not say.
func readKeyFile(path string) (kf keyFile, keys map[int][]byte, created map[int]time.Time, err error) {
	b, err := readPrivateFile(path)
	if err != nil {
		return kf, nil, nil, err
	}
	if err := checkKeyFileNames(b); err != nil {
		return kf, nil, nil, fmt.Errorf("pseudonym: parse key file: %v", err)
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		return kf, nil, nil, fmt.Errorf("pseudonym: parse key file: %v", err)
	}
	keys = make(map[int][]byte, len(kf.Keys))
	created = make(map[int]time.Time, len(kf.Keys))
	for v := range kf.Created {
		if _, ok := kf.Keys[v]; !ok {
			return kf, nil, nil, fmt.Errorf("pseudonym: key file: creation time of version %q, which has no key", v)
		}
	}
	for v, k := range kf.Keys {
		// One spelling per version: "01" beside "1" would otherwise
		// replace it in an order that depends on map iteration.
		n, err := ParseKeyVersion(v)
		if err != nil {
			return kf, nil, nil, fmt.Errorf("pseudonym: key file: bad version %q: want a positive decimal integer with no leading zero", v)
		}
		key, err := decodeFileKey(k)
		if err != nil {
			return kf, nil, nil, fmt.Errorf("pseudonym: key file: version %d: %v", n, err)
		}
		keys[n] = key
		created[n] = time.Time{}
		if s, ok := kf.Created[v]; ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return kf, nil, nil, fmt.Errorf("pseudonym: key file: version %d: creation time: %v", n, err)
			}
			created[n] = t
		}
	}
	if _, ok := keys[kf.Current]; !ok {
		return kf, nil, nil, fmt.Errorf("pseudonym: key file: current version %d has no key", kf.Current)
	}
	for n := range keys {
		if n > kf.Current {
			// Every writer makes the highest version current. One above
			// it would be left out of the ring and of status, then slip
			// in below the next rotation's version, with whatever
			// creation time it has deciding when its predecessor retires.
			return kf, nil, nil, fmt.Errorf("pseudonym: key file: version %d is above the current version %d: the current version is the highest", n, kf.Current)
		}
	}
	return kf, keys, created, nil
}

// readPrivateFile reads the key file at path, refusing it, as ssh does a
// private key, if its mode lets group or others read or write it: the
// keys in it are the gateway's master keys. The mode is that of the file
// read (fstat of the open file), not of whatever the name points to later.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: read key file: %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pseudonym: read key file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("pseudonym: key file %s has mode %04o: group or others may read or write it; it must be readable by its owner only (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: read key file: %v", err)
	}
	return b, nil
}

// decodeFileKey decodes a key as the file spells it: standard base64
// (RFC 4648 section 4) with its padding, and nothing else. Whatever
// base64.StdEncoding would also take (line breaks inside, non-zero
// padding bits) is a second spelling of the same key, and refused. The
// error never holds the text: it is a key.
func decodeFileKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(key) != s {
		return nil, errors.New("not standard padded base64 (RFC 4648 section 4, no line breaks)")
	}
	return key, nil
}

// keyFileFields are a key file's only names, spelt as here.
var keyFileFields = map[string]bool{"current": true, "keys": true, "created": true, "audit": true}

// checkKeyFileNames refuses a key file whose top level holds a name other
// than keyFileFields (a misspelling such as "Current" or "audit_key", which
// encoding/json would match case-insensitively or drop, and a rotation would
// then rewrite away), or any object that names one member twice (encoding/json
// keeps the last, so a second "1" in "keys" would silently replace a key).
// Errors name the member, never a value: values are keys.
func checkKeyFileNames(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(path string, top bool) error
	walk = func(path string, top bool) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				t, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := t.(string)
				if top && !keyFileFields[name] {
					return fmt.Errorf("unknown field %q: want current, keys, created and audit", name)
				}
				if seen[name] {
					return fmt.Errorf("%s%q is given twice", path, name)
				}
				seen[name] = true
				if err := walk(path+name+".", false); err != nil {
					return err
				}
			}
			_, err = dec.Token() // '}'
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(path, false); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ']'
			return err
		}
		return nil
	}
	return walk("", true)
}

// newKey returns a random 256-bit key in the file's encoding.
func newKey() string {
	k := make([]byte, 32)
	rand.Read(k) // never fails; see crypto/rand
	return base64.StdEncoding.EncodeToString(k)
}

// CreateKeyFile writes a new key file with one random 256-bit key (version
// 1, created now) and a random audit key unless the file exists. It
// reports whether it created the file. The file appears whole or not at
// all (see writeFileAtomic): a crash while writing it leaves none, so the
// next start creates it afresh instead of refusing a half-written one.
func CreateKeyFile(path string) (bool, error) {
	b, err := json.MarshalIndent(keyFile{
		Current: 1,
		Keys:    map[string]string{"1": newKey()},
		Created: map[string]string{"1": time.Now().UTC().Format(time.RFC3339)},
		Audit:   newKey(),
	}, "", "  ")
	if err != nil {
		return false, err
	}
	created, err := writeFileAtomic(path, append(b, '\n'), false)
	if err != nil {
		return false, fmt.Errorf("pseudonym: create key file: %v", err)
	}
	return created, nil
}

// RotateKeyFile adds a new random 256-bit key version, created at now, to
// the key file at path and makes it current; it returns the new version.
// Older versions stay in the file and resolve until their transition
// window ends. The audit key never rotates. The file is replaced
// atomically (a temporary file in the same directory, written with mode
// 0600, synced and renamed over it), so a reader sees the old file or the
// new one, never a mix. Rotations of one file run one at a time, across
// processes (on Unix: an exclusive flock on a lock file, path + ".lock",
// taken before the file is read and released, the lock file removed, once
// the new one is in place), so that two at once make two versions and
// neither is lost.
func RotateKeyFile(path string, now time.Time) (newVersion int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("pseudonym: read key file: %v", err) // and no lock file beside nothing
	}
	unlock, err := lockKeyFile(path)
	if err != nil {
		return 0, err
	}
	defer unlock()
	kf, keys, _, err := readKeyFile(path)
	if err != nil {
		return 0, err
	}
	for v := range keys {
		newVersion = max(newVersion, v)
	}
	newVersion++
	v := strconv.Itoa(newVersion)
	kf.Keys[v] = newKey()
	if kf.Created == nil {
		kf.Created = map[string]string{}
	}
	kf.Created[v] = now.UTC().Format(time.RFC3339)
	kf.Current = newVersion
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return 0, err
	}
	if _, err := writeFileAtomic(path, append(b, '\n'), true); err != nil {
		return 0, fmt.Errorf("pseudonym: rotate key file: %v", err)
	}
	return newVersion, nil
}

// writeFileAtomic puts data at path (see internal/atomicfile): it writes a
// temporary file in the same directory with mode 0600, syncs it, then
// renames it over path (replace) or links it there unless path exists
// (not replace: it reports false then), and syncs the directory, best
// effort (not every platform syncs directories), so that the change
// survives a crash. Either way path is never seen, nor left by a crash,
// half written.
func writeFileAtomic(path string, data []byte, replace bool) (installed bool, err error) {
	installed, err = atomicfile.Write(path, 0o600, replace, func(fh *os.File) error { return writeKeyData(fh, data) })
	if errors.Is(err, atomicfile.ErrDirNotSynced) {
		err = nil
	}
	return installed, err
}

// writeKeyData writes a key file's bytes (a variable for the test of a
// write that fails half way).
var writeKeyData = writeAll

func writeAll(fh *os.File, data []byte) error {
	_, err := fh.Write(data)
	return err
}
