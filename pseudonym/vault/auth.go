package vault

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/vault/api"
)

// Auth logs a Vault client in.
type Auth interface {
	Login(ctx context.Context, c *api.Client) (*api.Secret, error)
}

// TokenAuth uses a given token (development; VAULT_TOKEN). It looks the
// token up so that a renewable token is renewed.
type TokenAuth struct{ Token string }

// Login sets the token and returns its lookup as a login.
func (a TokenAuth) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	if a.Token == "" {
		return nil, errors.New("vault: empty token")
	}
	c.SetToken(a.Token)
	sec, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, err
	}
	ttl, _ := sec.TokenTTL()
	renewable, _ := sec.TokenIsRenewable()
	return &api.Secret{Auth: &api.SecretAuth{ClientToken: a.Token, Renewable: renewable, LeaseDuration: int(ttl.Seconds())}}, nil
}

// AppRoleAuth logs in with a role id and secret id.
type AppRoleAuth struct {
	Mount    string // if empty, "approle"
	RoleID   string
	SecretID string
}

// Login logs in with AppRole.
func (a AppRoleAuth) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	mount := a.Mount
	if mount == "" {
		mount = "approle"
	}
	return login(ctx, c, "auth/"+mount+"/login", map[string]any{"role_id": a.RoleID, "secret_id": a.SecretID})
}

// KubernetesAuth logs in with the pod's service account token.
type KubernetesAuth struct {
	Mount string // if empty, "kubernetes"
	Role  string
	// TokenPath is the service account token file. If empty, the default
	// /var/run/secrets/kubernetes.io/serviceaccount/token.
	TokenPath string
}

// Login logs in with the Kubernetes auth method.
func (a KubernetesAuth) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	mount, path := a.Mount, a.TokenPath
	if mount == "" {
		mount = "kubernetes"
	}
	if path == "" {
		path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	}
	jwt, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vault: kubernetes auth: %v", err)
	}
	return login(ctx, c, "auth/"+mount+"/login", map[string]any{"role": a.Role, "jwt": string(jwt)})
}

func login(ctx context.Context, c *api.Client, path string, body map[string]any) (*api.Secret, error) {
	// A login must not send a stale token along.
	lc, err := c.Clone()
	if err != nil {
		return nil, err
	}
	lc.ClearToken()
	sec, err := lc.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return nil, errors.New("vault: login returned no token")
	}
	return sec, nil
}
