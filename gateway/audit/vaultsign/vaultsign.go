// Package vaultsign signs audit checkpoints with an Ed25519 key that never
// leaves HashiCorp Vault: a note.Signer backed by the Transit engine's
// sign endpoint. The gateway signs at most one checkpoint a second, never
// per request, so a Vault call per checkpoint is affordable; if Vault is
// unreachable the checkpoint waits and the log goes on appending.
package vaultsign

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// Signer is a note.Signer whose key is a Transit key of type ed25519.
type Signer struct {
	c       *api.Client
	mount   string
	key     string
	name    string
	hash    uint32
	version int
	pub     ed25519.PublicKey // of that version, as read at New
	verKey  string
	timeout time.Duration
}

var _ note.Signer = (*Signer)(nil)

// New returns a signer for the note key name (the log's origin, say)
// backed by the Transit key mount/key, which must be of type ed25519. It
// signs with the key's latest version; VerifierKey tells auditors what to
// trust.
func New(ctx context.Context, c *api.Client, mount, key, name string) (*Signer, error) {
	sec, err := c.Logical().ReadWithContext(ctx, mount+"/keys/"+key)
	if err != nil {
		return nil, fmt.Errorf("vaultsign: read key: %v", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("vaultsign: transit key %s/%s does not exist", mount, key)
	}
	if t, _ := sec.Data["type"].(string); t != "ed25519" {
		return nil, fmt.Errorf("vaultsign: transit key %s is of type %q, want ed25519", key, t)
	}
	latest, err := number(sec.Data["latest_version"])
	if err != nil {
		return nil, fmt.Errorf("vaultsign: latest_version: %v", err)
	}
	keys, _ := sec.Data["keys"].(map[string]any)
	kv, _ := keys[strconv.Itoa(latest)].(map[string]any)
	pubText, _ := kv["public_key"].(string)
	pub, err := base64.StdEncoding.DecodeString(pubText)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("vaultsign: the key has no Ed25519 public key")
	}
	vkey, err := note.NewEd25519VerifierKey(name, ed25519.PublicKey(pub))
	if err != nil {
		return nil, fmt.Errorf("vaultsign: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Signer{c: c, mount: mount, key: key, name: name, hash: v.KeyHash(), version: latest, pub: ed25519.PublicKey(pub), verKey: vkey, timeout: 10 * time.Second}, nil
}

// EnsureKey creates an ed25519 Transit key if it does not exist.
func EnsureKey(ctx context.Context, c *api.Client, mount, key string) error {
	sec, err := c.Logical().ReadWithContext(ctx, mount+"/keys/"+key)
	if err != nil {
		return fmt.Errorf("vaultsign: read key: %v", err)
	}
	if sec != nil {
		return nil
	}
	if _, err := c.Logical().WriteWithContext(ctx, mount+"/keys/"+key, map[string]any{"type": "ed25519"}); err != nil {
		return fmt.Errorf("vaultsign: create key: %v", err)
	}
	return nil
}

// Name returns the note key name.
func (s *Signer) Name() string { return s.name }

// KeyHash returns the note key hash.
func (s *Signer) KeyHash() uint32 { return s.hash }

// VerifierKey returns the note verifier key that auditors trust.
func (s *Signer) VerifierKey() string { return s.verKey }

// Sign signs msg with the Transit key, and checks the signature Vault
// returns against the public key read at New (the one VerifierKey gives
// auditors): a key deleted and made again under the same name, or a
// Vault that answers wrongly, makes Sign fail, so that no checkpoint is
// published that auditors cannot verify.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	sec, err := s.c.Logical().WriteWithContext(ctx, s.mount+"/sign/"+s.key, map[string]any{
		"input": base64.StdEncoding.EncodeToString(msg), "key_version": s.version,
	})
	if err != nil {
		return nil, fmt.Errorf("vaultsign: sign: %v", err)
	}
	if sec == nil || sec.Data == nil {
		// 204 No Content, or a body without data: not what Transit
		// answers (a mount of another engine, say).
		return nil, fmt.Errorf("vaultsign: sign: no answer from %s/sign/%s: is %s a Transit mount?", s.mount, s.key, s.mount)
	}
	sig, _ := sec.Data["signature"].(string)
	prefix := "vault:v" + strconv.Itoa(s.version) + ":"
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, prefix))
	if !strings.HasPrefix(sig, prefix) || err != nil || len(raw) != ed25519.SignatureSize {
		return nil, errors.New("vaultsign: malformed signature")
	}
	if !ed25519.Verify(s.pub, msg, raw) {
		return nil, fmt.Errorf("vaultsign: the signature of transit key %s version %d does not verify with the public key it had when the gateway started (the key was replaced?)", s.key, s.version)
	}
	return raw, nil
}

func number(v any) (int, error) {
	switch n := v.(type) {
	case float64:
		return int(n), nil
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return int(i), err
	}
	return 0, fmt.Errorf("not a number: %T", v)
}
