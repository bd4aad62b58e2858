package vaultsign

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// Anchor is an [audit.Anchor] in a secret of Vault's KV version 2 engine,
// beside the Transit key that signs: gateway replicas that share the
// signer share what was signed last, outside the database they share.
// The secret holds the latest signed checkpoint ("checkpoint") and the
// tree size it covers ("size"). Advance writes with check-and-set on the
// version it read, so that replicas racing to record their checkpoints
// only ever move the secret forward.
//
// The gateway's Vault policy needs read and create/update on
// <mount>/data/<path>.
type Anchor struct {
	kv      *api.KVv2
	mount   string
	path    string
	timeout time.Duration
}

var _ audit.Anchor = (*Anchor)(nil)

// NewAnchor returns the anchor in the secret path of the KV version 2
// engine mounted at mount. The secret need not exist.
func NewAnchor(c *api.Client, mount, path string) *Anchor {
	return &Anchor{kv: c.KVv2(mount), mount: mount, path: path, timeout: 10 * time.Second}
}

// String names the secret, for messages.
func (a *Anchor) String() string { return "Vault " + a.mount + "/" + a.path }

// read returns the recorded checkpoint, its size and the secret's version
// (0 if there is no secret).
func (a *Anchor) read(ctx context.Context) (signed []byte, size int64, version int, err error) {
	sec, err := a.kv.Get(ctx, a.path)
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("vaultsign: read anchor %s/%s: %v", a.mount, a.path, err)
	}
	if sec.VersionMetadata == nil {
		return nil, 0, 0, fmt.Errorf("vaultsign: read anchor %s/%s: no version metadata: is the mount KV version 2?", a.mount, a.path)
	}
	version = sec.VersionMetadata.Version
	if sec.Data == nil {
		// Deleting the anchor would let a rolled-back database pass:
		// only destroying the secret with its metadata resets it.
		return nil, 0, 0, fmt.Errorf("vaultsign: anchor %s/%s: its latest version (%d) was deleted; undelete it, or remove the secret's metadata to start over", a.mount, a.path, version)
	}
	text, _ := sec.Data["checkpoint"].(string)
	sizeText, _ := sec.Data["size"].(string)
	size, err = strconv.ParseInt(sizeText, 10, 64)
	if text == "" || err != nil || size < 0 {
		return nil, 0, 0, fmt.Errorf("vaultsign: anchor %s/%s: version %d is not a checkpoint", a.mount, a.path, version)
	}
	return []byte(text), size, version, nil
}

// Latest returns the recorded checkpoint, or nil if there is no secret.
func (a *Anchor) Latest(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	signed, _, _, err := a.read(ctx)
	return signed, err
}

// Advance records signed unless the secret covers size entries or more,
// retrying when another writer got there first.
func (a *Anchor) Advance(ctx context.Context, size int64, signed []byte) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	for {
		_, cur, version, err := a.read(ctx)
		if err != nil {
			return err
		}
		if version > 0 && cur >= size {
			return nil
		}
		_, err = a.kv.Put(ctx, a.path, map[string]any{"checkpoint": string(signed), "size": strconv.FormatInt(size, 10)},
			api.WithCheckAndSet(version))
		if err == nil {
			return nil
		}
		if !casMismatch(err) {
			return fmt.Errorf("vaultsign: advance anchor %s/%s: %v", a.mount, a.path, err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("vaultsign: advance anchor %s/%s: %v", a.mount, a.path, err)
		}
	}
}

// casMismatch reports whether err is Vault's refusal of a write whose
// check-and-set version is not the secret's current one.
func casMismatch(err error) bool {
	re, ok := errors.AsType[*api.ResponseError](err)
	if !ok || re.StatusCode != 400 {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "check-and-set") {
			return true
		}
	}
	return false
}
