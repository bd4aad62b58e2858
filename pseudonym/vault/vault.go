// Package vault is the production key source of package pseudonym: master
// keys derived from a HashiCorp Vault Transit key, held in memory only.
//
// # Design: derived keys
//
// The Transit key (aes256-gcm96, not exportable) never leaves Vault. For
// each of its versions v the gateway asks Vault once for
//
//	master_v = HMAC-SHA256 under Transit key version v of "liaison/pseudonym/master/v1"
//
// (transit/hmac/<key> with key_version=v). That 256-bit value is a secret
// only the holders of the Vault policy can compute; it lives in the
// gateway's memory, is never written anywhere, and seeds package
// pseudonym's per-domain keys. Rotating the Transit key in Vault (or with
// `liaison keys rotate`) makes a new version, which the gateway picks up on
// its next refresh and uses for new pseudonyms; older versions keep
// resolving for a transition window after their successor was created, and
// are then retired (dropped from the ring). Versions below Vault's
// min_decryption_version or min_encryption_version are never used: Transit
// computes no HMAC under a version below min_encryption_version, so no
// replica could derive its master key, and raising it retires them at once;
// lowering it again brings back those still in their transition window.
//
// Keys are fetched at start and by the background refresh, never per
// request. If Vault is unreachable, pseudonym serves from the cached ring
// for its staleness bound.
package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// masterLabel is the input whose Transit HMAC is a version's master key.
const masterLabel = "liaison/pseudonym/master/v1"

// Config configures a Source.
type Config struct {
	// Client talks to Vault. Required; its address and TLS come from the
	// usual VAULT_* environment or the caller.
	Client *api.Client
	// Auth logs the client in. If nil, the client's token is used as is.
	Auth Auth
	// Mount is the Transit mount path. If empty, "transit".
	Mount string
	// Key is the Transit key's name. If empty, "liaison-pseudonym".
	Key string
	// AuditKey is the Transit key of the audit domain, never rotated (its
	// version 1 is used); inbox items are sealed under keys derived from
	// it, so it must outlive them. If empty, "liaison-audit".
	AuditKey string
	// TransitionWindow is how long a version keeps resolving after its
	// successor was created. If zero, 30 days.
	TransitionWindow time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Source is a pseudonym.KeySource backed by Vault Transit.
type Source struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	masters map[int][]byte // derived master keys by version
	audit   []byte         // the derived audit-domain key
	auth    *api.Secret    // the login, for renewal
}

var _ pseudonym.KeySource = (*Source)(nil)

// New logs in (if cfg.Auth is set) and returns a Source. It does not fetch
// keys; pseudonym.New does, through Keys.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.Client == nil {
		return nil, errors.New("vault: Config.Client is required")
	}
	if cfg.Mount == "" {
		cfg.Mount = "transit"
	}
	if cfg.Key == "" {
		cfg.Key = "liaison-pseudonym"
	}
	if cfg.AuditKey == "" {
		cfg.AuditKey = "liaison-audit"
	}
	if cfg.TransitionWindow == 0 {
		cfg.TransitionWindow = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Source{cfg: cfg, log: cfg.Logger, masters: map[int][]byte{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.login(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) login(ctx context.Context) error {
	if s.cfg.Auth == nil {
		return nil
	}
	secret, err := s.cfg.Auth.Login(ctx, s.cfg.Client)
	if err != nil {
		return fmt.Errorf("%w: vault login: %v", pseudonym.ErrUnavailable, err)
	}
	if secret == nil || secret.Auth == nil {
		return errors.New("vault: login returned no token")
	}
	s.cfg.Client.SetToken(secret.Auth.ClientToken)
	s.mu.Lock()
	s.auth = secret
	s.mu.Unlock()
	return nil
}

// Keys returns the ring: the latest Transit version as current, and the
// older versions still inside their transition window.
func (s *Source) Keys(ctx context.Context) (*pseudonym.KeyRing, error) {
	info, err := s.keyInfo(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	audit := s.audit
	s.mu.Unlock()
	if audit == nil {
		if audit, err = s.derive(ctx, s.cfg.AuditKey, 1); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.audit = audit
		s.mu.Unlock()
	}
	ring := &pseudonym.KeyRing{Current: info.latest, Versions: map[int][]byte{}, Audit: audit}
	for _, v := range info.live(now, s.cfg.TransitionWindow) {
		m, err := s.master(ctx, v)
		if err != nil {
			return nil, err
		}
		ring.Versions[v] = m
	}
	s.mu.Lock()
	for v := range s.masters {
		if _, ok := ring.Versions[v]; !ok {
			// Retired: forget it. Not zeroed in place: the rings handed
			// out before hold the same bytes, and a Pseudonymizer still
			// uses one (until its swap; a second one on this source until
			// its own reload), which would then derive from a key of
			// zeros, one anyone knows. The bytes go with the last ring.
			delete(s.masters, v)
		}
	}
	s.mu.Unlock()
	return ring, nil
}

type keyInfo struct {
	latest, minDecrypt, minEncrypt int
	created                        map[int]time.Time
}

// minVersion returns the lowest version of the Transit key that Vault lets
// the gateway use: versions below min_decryption_version are disabled, and
// Transit computes no HMAC (hence no master key) under a version below
// min_encryption_version. 0 or 1 means every version.
func (k keyInfo) minVersion() int { return max(k.minDecrypt, k.minEncrypt) }

// live returns the versions in use at now, newest first.
func (k keyInfo) live(now time.Time, window time.Duration) []int {
	var vs []int
	for v := range k.created {
		vs = append(vs, v)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(vs)))
	var out []int
	for _, v := range vs {
		if v > k.latest || v < k.minVersion() {
			continue
		}
		if v == k.latest {
			out = append(out, v)
			continue
		}
		succ, ok := k.created[v+1]
		if ok && now.Sub(succ) <= window {
			out = append(out, v)
		}
	}
	return out
}

func (s *Source) keyInfo(ctx context.Context) (keyInfo, error) {
	sec, err := s.cfg.Client.Logical().ReadWithContext(ctx, s.cfg.Mount+"/keys/"+s.cfg.Key)
	if err != nil {
		return keyInfo{}, unavailable("read key", err)
	}
	if sec == nil || sec.Data == nil {
		return keyInfo{}, fmt.Errorf("vault: transit key %s/%s does not exist", s.cfg.Mount, s.cfg.Key)
	}
	info := keyInfo{created: map[int]time.Time{}}
	if info.latest, err = intField(sec.Data["latest_version"]); err != nil {
		return keyInfo{}, fmt.Errorf("vault: key %s: latest_version: %v", s.cfg.Key, err)
	}
	if info.minDecrypt, err = intField(sec.Data["min_decryption_version"]); err != nil {
		return keyInfo{}, fmt.Errorf("vault: key %s: min_decryption_version: %v", s.cfg.Key, err)
	}
	if v, ok := sec.Data["min_encryption_version"]; ok {
		if info.minEncrypt, err = intField(v); err != nil {
			return keyInfo{}, fmt.Errorf("vault: key %s: min_encryption_version: %v", s.cfg.Key, err)
		}
	}
	keys, _ := sec.Data["keys"].(map[string]any)
	for k, ts := range keys {
		v, err := pseudonym.ParseKeyVersion(k)
		if err != nil {
			return keyInfo{}, fmt.Errorf("vault: key %s: %v", s.cfg.Key, err)
		}
		sec, err := intField(ts)
		if err != nil {
			return keyInfo{}, fmt.Errorf("vault: key %s version %d: creation time: %v", s.cfg.Key, v, err)
		}
		info.created[v] = time.Unix(int64(sec), 0)
	}
	if _, ok := info.created[info.latest]; !ok {
		return keyInfo{}, fmt.Errorf("vault: key %s: latest version %d not listed", s.cfg.Key, info.latest)
	}
	return info, nil
}

// master returns (deriving once) the master key of a version.
func (s *Source) master(ctx context.Context, v int) ([]byte, error) {
	s.mu.Lock()
	m, ok := s.masters[v]
	s.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := s.derive(ctx, s.cfg.Key, v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.masters[v] = m
	s.mu.Unlock()
	return m, nil
}

// derive asks Transit for the HMAC of the master label under a key version.
func (s *Source) derive(ctx context.Context, key string, v int) ([]byte, error) {
	sec, err := s.cfg.Client.Logical().WriteWithContext(ctx, s.cfg.Mount+"/hmac/"+key+"/sha2-256", map[string]any{
		"input":       base64.StdEncoding.EncodeToString([]byte(masterLabel)),
		"key_version": v,
	})
	if err != nil {
		return nil, unavailable(fmt.Sprintf("derive version %d", v), err)
	}
	if sec == nil || sec.Data == nil {
		// 204 No Content, or a body without data: not what Transit
		// answers (a mount of another engine, say).
		return nil, fmt.Errorf("vault: derive version %d: no answer from %s/hmac/%s: is %s a Transit mount?", v, s.cfg.Mount, key, s.cfg.Mount)
	}
	h, _ := sec.Data["hmac"].(string)
	prefix := "vault:v" + strconv.Itoa(v) + ":"
	if !strings.HasPrefix(h, prefix) {
		return nil, fmt.Errorf("vault: derive version %d: unexpected answer", v)
	}
	m, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, prefix))
	if err != nil || len(m) != 32 {
		return nil, fmt.Errorf("vault: derive version %d: malformed HMAC", v)
	}
	return m, nil
}

// Rotate makes a new version of the Transit key and returns it.
func (s *Source) Rotate(ctx context.Context) (int, error) {
	if _, err := s.cfg.Client.Logical().WriteWithContext(ctx, s.cfg.Mount+"/keys/"+s.cfg.Key+"/rotate", nil); err != nil {
		return 0, unavailable("rotate", err)
	}
	info, err := s.keyInfo(ctx)
	if err != nil {
		return 0, err
	}
	return info.latest, nil
}

// Run keeps the login alive until ctx is done: it renews a renewable token
// and logs in again when renewal ends.
func (s *Source) Run(ctx context.Context) {
	for ctx.Err() == nil {
		s.mu.Lock()
		secret := s.auth
		s.mu.Unlock()
		if secret == nil || secret.Auth == nil || !secret.Auth.Renewable {
			if s.cfg.Auth == nil {
				return // a static token: nothing to renew
			}
			if secret != nil && secret.Auth != nil && secret.Auth.LeaseDuration > 0 {
				sleep(ctx, time.Duration(secret.Auth.LeaseDuration)*time.Second*2/3)
			} else {
				sleep(ctx, time.Minute)
			}
			if err := s.login(ctx); err != nil {
				s.log.WarnContext(ctx, "vault login failed; will retry", "error", err)
				sleep(ctx, 10*time.Second)
			}
			continue
		}
		w, err := s.cfg.Client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: secret})
		if err != nil {
			s.log.WarnContext(ctx, "vault token renewal could not start", "error", err)
			sleep(ctx, 10*time.Second)
			continue
		}
		go w.Start()
		func() {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case err := <-w.DoneCh():
					if err != nil {
						s.log.WarnContext(ctx, "vault token renewal ended", "error", err)
					}
					return
				case r := <-w.RenewCh():
					s.log.DebugContext(ctx, "vault token renewed", "lease_seconds", r.Secret.Auth.LeaseDuration)
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		if s.cfg.Auth == nil {
			return
		}
		if err := s.login(ctx); err != nil {
			s.log.WarnContext(ctx, "vault login failed; will retry", "error", err)
			sleep(ctx, 10*time.Second)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func unavailable(op string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode < 500 && re.StatusCode != 429 {
		return fmt.Errorf("vault: %s: status %d", op, re.StatusCode) // a refusal, not an outage
	}
	return fmt.Errorf("%w: vault: %s: %v", pseudonym.ErrUnavailable, op, err)
}

func intField(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	case int:
		return n, nil
	}
	return 0, fmt.Errorf("not a number: %T", v)
}

// EnsureKeys mounts Transit at mount if needed and creates the pseudonym
// and audit keys if they do not exist. Operators run it once (liaison keys
// init); tests too.
func EnsureKeys(ctx context.Context, c *api.Client, mount string, keys ...string) error {
	for _, k := range keys {
		if err := EnsureKey(ctx, c, mount, k); err != nil {
			return err
		}
	}
	return nil
}

// EnsureKey mounts Transit at mount if needed and creates the key if it
// does not exist.
func EnsureKey(ctx context.Context, c *api.Client, mount, key string) error {
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return unavailable("list mounts", err)
	}
	if _, ok := mounts[mount+"/"]; !ok {
		if err := c.Sys().MountWithContext(ctx, mount, &api.MountInput{Type: "transit"}); err != nil {
			return fmt.Errorf("vault: mount transit: %v", err)
		}
	}
	sec, err := c.Logical().ReadWithContext(ctx, mount+"/keys/"+key)
	if err != nil {
		return unavailable("read key", err)
	}
	if sec != nil {
		return nil
	}
	if _, err := c.Logical().WriteWithContext(ctx, mount+"/keys/"+key, map[string]any{"type": "aes256-gcm96", "exportable": false}); err != nil {
		return fmt.Errorf("vault: create key: %v", err)
	}
	return nil
}
