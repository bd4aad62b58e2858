package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
)

// defaultKeyFile is the local key file used when neither -keys nor Vault
// is configured.
const defaultKeyFile = "pseudonym-keys.json"

// keyOptions select and configure the pseudonym key source: HashiCorp
// Vault (production) when -vault-addr or VAULT_ADDR is set, else a local
// key file (development; not for production). `liaison serve` and
// `liaison keys` share them, so that both see the same keys.
type keyOptions struct {
	// client is the logged-in Vault client once source has run with Vault;
	// the checkpoint signer shares it.
	client *api.Client

	// File is the local key file. If empty, defaultKeyFile, unless Vault
	// is configured.
	File string

	VaultAddr     string // if empty, VAULT_ADDR
	VaultMount    string // Transit mount
	VaultKey      string // Transit key of the pseudonyms
	VaultAuditKey string // Transit key of the audit domain (never rotated)
	VaultAuth     string // token, approle or kubernetes
	RoleID        string // AppRole role id
	SecretIDFile  string // file holding the AppRole secret id
	AppRoleMount  string // AppRole auth mount
	K8sRole       string // Kubernetes auth role
	K8sMount      string // Kubernetes auth mount
	K8sTokenFile  string // service account token file

	// TransitionWindow is how long a version resolves after its successor
	// was created.
	TransitionWindow time.Duration

	// Refresh and MaxStale configure the Pseudonymizer (serve only). If
	// zero, pseudonym's defaults.
	Refresh, MaxStale time.Duration

	// Getenv reads the environment (VAULT_ADDR, VAULT_TOKEN). If nil,
	// os.Getenv.
	Getenv func(string) string
}

// flags registers the key source's flags on fs.
func (o *keyOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.File, "keys", "", "local pseudonym key `file`, NOT FOR PRODUCTION (default "+defaultKeyFile+" unless Vault is configured; mode 0600: refused if group or others may read or write it)")
	fs.StringVar(&o.VaultAddr, "vault-addr", "", "Vault `address` for the pseudonym keys (default $VAULT_ADDR; unset means the local key file)")
	fs.StringVar(&o.VaultMount, "vault-mount", "transit", "Vault Transit mount `path`")
	fs.StringVar(&o.VaultKey, "vault-key", "liaison-pseudonym", "Vault Transit `key` of the pseudonyms")
	fs.StringVar(&o.VaultAuditKey, "vault-audit-key", "liaison-audit", "Vault Transit `key` of the audit domain (never rotated)")
	fs.StringVar(&o.VaultAuth, "vault-auth", "token", "Vault auth `method`: token (from $VAULT_TOKEN), approle or kubernetes")
	fs.StringVar(&o.RoleID, "vault-role-id", "", "AppRole role `id`")
	fs.StringVar(&o.SecretIDFile, "vault-secret-id-file", "", "`file` holding the AppRole secret id")
	fs.StringVar(&o.AppRoleMount, "vault-approle-mount", "approle", "AppRole auth mount `path`")
	fs.StringVar(&o.K8sRole, "vault-k8s-role", "", "Kubernetes auth `role`")
	fs.StringVar(&o.K8sMount, "vault-k8s-mount", "kubernetes", "Kubernetes auth mount `path`")
	fs.StringVar(&o.K8sTokenFile, "vault-k8s-token-file", "/var/run/secrets/kubernetes.io/serviceaccount/token", "Kubernetes service account token `file`")
	fs.DurationVar(&o.TransitionWindow, "transition-window", pseudonym.DefaultTransitionWindow, "how long an old key version keeps resolving after a rotation (positive)")
}

// checkDurations refuses a duration flag of zero or less, naming it:
// pseudonym and its sources would read one as their default (30 days, a
// minute, 15 minutes) or, the Vault source given a negative transition
// window, as none. serve says whether -key-refresh and -key-max-stale
// were registered.
func (o *keyOptions) checkDurations(serve bool) error {
	check := func(name string, d time.Duration) error {
		if d <= 0 {
			return fmt.Errorf("keys: -%s %s: must be positive", name, d)
		}
		return nil
	}
	if err := check("transition-window", o.TransitionWindow); err != nil || !serve {
		return err
	}
	if err := check("key-refresh", o.Refresh); err != nil {
		return err
	}
	if err := check("key-max-stale", o.MaxStale); err != nil {
		return err
	}
	if o.Refresh >= o.MaxStale {
		// The keys would pass the bound between two refreshes, Vault up
		// or not, and pseudonymising calls fail KEYS_UNAVAILABLE for
		// the difference every time.
		return fmt.Errorf("keys: -key-refresh %s must be shorter than -key-max-stale %s: the keys would go stale between two refreshes", o.Refresh, o.MaxStale)
	}
	return nil
}

func (o *keyOptions) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

// vaultAddr returns the Vault address to use, or "" for the local file.
// An explicit -keys wins over VAULT_ADDR from the environment.
func (o *keyOptions) vaultAddr() (string, error) {
	if o.VaultAddr != "" {
		if o.File != "" {
			return "", errors.New("keys: -keys and -vault-addr both given; choose one key source")
		}
		return o.VaultAddr, nil
	}
	if o.File != "" {
		// Vault's login flags beside a key file were dropped unread:
		// the operator meant one source and got the other.
		if o.VaultAuth != "" && o.VaultAuth != "token" || o.RoleID != "" || o.K8sRole != "" {
			return "", errors.New("keys: -keys names a key file; -vault-auth, -vault-role-id and -vault-k8s-role are for Vault: choose one key source")
		}
		return "", nil
	}
	addr := o.getenv("VAULT_ADDR")
	if addr == "" && (o.VaultAuth != "" && o.VaultAuth != "token" || o.RoleID != "" || o.K8sRole != "") {
		return "", errors.New("keys: Vault auth flags given but no -vault-addr or VAULT_ADDR")
	}
	return addr, nil
}

func (o *keyOptions) keyFile() string {
	if o.File != "" {
		return o.File
	}
	return defaultKeyFile
}

func (o *keyOptions) fileKeys() pseudonym.FileKeys {
	return pseudonym.FileKeys{Path: o.keyFile(), TransitionWindow: o.TransitionWindow}
}

// vaultAuthMethod builds the configured Vault login.
func (o *keyOptions) vaultAuthMethod() (vault.Auth, error) {
	switch o.VaultAuth {
	case "", "token":
		tok := o.getenv("VAULT_TOKEN")
		if tok == "" {
			return nil, errors.New("keys: -vault-auth token needs VAULT_TOKEN in the environment")
		}
		return vault.TokenAuth{Token: tok}, nil
	case "approle":
		if o.RoleID == "" || o.SecretIDFile == "" {
			return nil, errors.New("keys: -vault-auth approle needs -vault-role-id and -vault-secret-id-file")
		}
		b, err := os.ReadFile(o.SecretIDFile)
		if err != nil {
			return nil, fmt.Errorf("keys: AppRole secret id: %v", err)
		}
		return vault.AppRoleAuth{Mount: o.AppRoleMount, RoleID: o.RoleID, SecretID: strings.TrimSpace(string(b))}, nil
	case "kubernetes":
		if o.K8sRole == "" {
			return nil, errors.New("keys: -vault-auth kubernetes needs -vault-k8s-role")
		}
		return vault.KubernetesAuth{Mount: o.K8sMount, Role: o.K8sRole, TokenPath: o.K8sTokenFile}, nil
	}
	return nil, fmt.Errorf("keys: -vault-auth %q: want token, approle or kubernetes", o.VaultAuth)
}

// vaultSource logs in to Vault and returns the key source and its client.
func (o *keyOptions) vaultSource(ctx context.Context, addr string, logger *slog.Logger) (*vault.Source, *api.Client, error) {
	auth, err := o.vaultAuthMethod()
	if err != nil {
		return nil, nil, err
	}
	cfg := api.DefaultConfig() // TLS settings from VAULT_CACERT and the like
	if cfg.Error != nil {
		return nil, nil, fmt.Errorf("keys: vault client: %v", cfg.Error)
	}
	cfg.Address = addr
	cfg.Timeout = 10 * time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: vault client: %v", err)
	}
	c.ClearToken() // the login sets the token it chose
	src, err := vault.New(ctx, vault.Config{
		Client: c, Auth: auth, Mount: o.VaultMount, Key: o.VaultKey, AuditKey: o.VaultAuditKey,
		TransitionWindow: o.TransitionWindow, Logger: logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return src, c, nil
}

// source returns the configured key source, and for Vault a function that
// keeps the login renewed until its context ends (nil for a file). A local
// key file is created if absent, and announced as not for production.
func (o *keyOptions) source(ctx context.Context, logger *slog.Logger) (pseudonym.KeySource, func(context.Context), error) {
	addr, err := o.vaultAddr()
	if err != nil {
		return nil, nil, err
	}
	if addr != "" {
		src, c, err := o.vaultSource(ctx, addr, logger)
		if err != nil {
			return nil, nil, err
		}
		o.client = c
		logger.InfoContext(ctx, "pseudonym keys come from Vault", "vault_addr", addr, "mount", o.VaultMount,
			"key", o.VaultKey, "audit_key", o.VaultAuditKey, "auth", o.VaultAuth)
		return src, src.Run, nil
	}
	fk := o.fileKeys()
	if created, err := pseudonym.CreateKeyFile(fk.Path); err != nil {
		return nil, nil, err
	} else if created {
		logger.WarnContext(ctx, "created a local pseudonym key file", "path", fk.Path)
	}
	logger.WarnContext(ctx, "pseudonym keys come from a local key file: NOT FOR PRODUCTION; use Vault", "path", fk.Path)
	return fk, nil, nil
}

const keysUsage = `usage: liaison keys init|rotate|status [flags]

	init     create the keys: the Vault Transit keys, or a local key file
	rotate   make a new key version; gateways use it from their next key
	         refresh, and the old version resolves for -transition-window
	         (on a key file, rotations wait for one another: a lock on
	         the file's name plus .lock)
	status   the current version, live versions and when each retires

Retiring a version does not touch inboxes: their items are sealed under
keys derived from the audit-domain key, which never rotates.

Keys live in Vault when -vault-addr or VAULT_ADDR is set (token from
VAULT_TOKEN, or -vault-auth approle|kubernetes); otherwise in a local key
file, which is NOT FOR PRODUCTION.
`

// runKeys is `liaison keys`.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, keysUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errors.New("keys: no subcommand")
	}
	cmd := args[0]
	switch cmd {
	case "init", "rotate", "status":
	default:
		fmt.Fprint(stderr, keysUsage)
		return fmt.Errorf("keys: unknown subcommand %q", cmd)
	}
	fs := flag.NewFlagSet("liaison keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o keyOptions
	o.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys %s: unexpected arguments %q", cmd, fs.Args())
	}
	if err := o.checkDurations(false); err != nil {
		return err
	}
	addr, err := o.vaultAddr()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if addr == "" {
		return o.fileCommand(cmd, stdout, stderr)
	}
	src, c, err := o.vaultSource(ctx, addr, logger)
	if err != nil {
		return err
	}
	return o.vaultCommand(ctx, cmd, addr, src, c, stdout)
}

func (o *keyOptions) fileCommand(cmd string, stdout, stderr io.Writer) error {
	path := o.keyFile()
	fmt.Fprintf(stderr, "liaison keys: local key file %s: NOT FOR PRODUCTION; keep production keys in Vault\n", path)
	switch cmd {
	case "init":
		created, err := pseudonym.CreateKeyFile(path)
		if err != nil {
			return err
		}
		if !created {
			fmt.Fprintf(stdout, "key file %s exists; left unchanged\n", path)
		} else {
			fmt.Fprintf(stdout, "created key file %s: key version 1 and the audit key\n", path)
		}
	case "rotate":
		v, err := pseudonym.RotateKeyFile(path, time.Now())
		if err != nil {
			return err
		}
		printRotated(stdout, v, o.TransitionWindow)
		return nil
	}
	cur, sched, err := o.fileKeys().Schedule()
	if err != nil {
		return err
	}
	printStatus(stdout, "file "+path+" (NOT FOR PRODUCTION)", cur, sched, o.TransitionWindow, "")
	return nil
}

func (o *keyOptions) vaultCommand(ctx context.Context, cmd, addr string, src *vault.Source, c *api.Client, stdout io.Writer) error {
	switch cmd {
	case "init":
		if err := vault.EnsureKeys(ctx, c, o.VaultMount, o.VaultKey, o.VaultAuditKey); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Vault Transit keys ready at %s: %s/%s (pseudonyms), %s/%s (audit domain, never rotated)\n",
			addr, o.VaultMount, o.VaultKey, o.VaultMount, o.VaultAuditKey)
	case "rotate":
		v, err := src.Rotate(ctx)
		if err != nil {
			return err
		}
		printRotated(stdout, v, o.TransitionWindow)
		return nil
	}
	cur, sched, minVersion, which, err := o.vaultSchedule(ctx, c)
	if err != nil {
		return err
	}
	note := ""
	if minVersion > 1 {
		note = fmt.Sprintf("versions below %d are disabled in Vault (%s)", minVersion, which)
	}
	printStatus(stdout, fmt.Sprintf("vault %s %s/%s", addr, o.VaultMount, o.VaultKey), cur, sched, o.TransitionWindow, note)
	return nil
}

// vaultSchedule reads the Transit key's versions and their creation times
// and applies the rotation rule the gateway applies. Versions below
// min_decryption_version or min_encryption_version (Transit computes no
// HMAC under them) are left out, as the gateway leaves them out; which
// names the setting that sets that bound.
func (o *keyOptions) vaultSchedule(ctx context.Context, c *api.Client) (current int, sched []pseudonym.KeyVersionInfo, minVersion int, which string, err error) {
	sec, err := c.Logical().ReadWithContext(ctx, o.VaultMount+"/keys/"+o.VaultKey)
	if err != nil {
		return 0, nil, 0, "", fmt.Errorf("keys: read Vault key: %v", err)
	}
	if sec == nil || sec.Data == nil {
		return 0, nil, 0, "", fmt.Errorf("keys: Vault key %s/%s does not exist; run liaison keys init", o.VaultMount, o.VaultKey)
	}
	num := func(v any) (int64, bool) {
		switch n := v.(type) {
		case json.Number:
			i, err := n.Int64()
			return i, err == nil
		case float64:
			return int64(n), true
		}
		return 0, false
	}
	latest, ok1 := num(sec.Data["latest_version"])
	minD, ok2 := num(sec.Data["min_decryption_version"])
	if !ok1 || !ok2 {
		return 0, nil, 0, "", errors.New("keys: Vault key: malformed versions")
	}
	which = "min_decryption_version"
	if minE, ok := num(sec.Data["min_encryption_version"]); ok && minE > minD {
		minD, which = minE, "min_encryption_version"
	}
	created := map[int]time.Time{}
	keys, _ := sec.Data["keys"].(map[string]any)
	for k, ts := range keys {
		v, err := pseudonym.ParseKeyVersion(k)
		if err != nil {
			return 0, nil, 0, "", fmt.Errorf("keys: Vault key: %v", err)
		}
		if v < int(minD) {
			continue
		}
		created[v] = time.Time{}
		if s, ok := num(ts); ok {
			created[v] = time.Unix(s, 0).UTC()
		}
	}
	window := o.TransitionWindow
	if window <= 0 {
		window = pseudonym.DefaultTransitionWindow
	}
	return int(latest), pseudonym.KeySchedule(int(latest), created, window, time.Now()), int(minD), which, nil
}

func printRotated(w io.Writer, v int, window time.Duration) {
	if window <= 0 {
		window = pseudonym.DefaultTransitionWindow
	}
	fmt.Fprintf(w, "new key version %d\n", v)
	fmt.Fprintf(w, "gateways use it from their next key refresh; version %d resolves until %s\n",
		v-1, time.Now().Add(window).UTC().Format(time.RFC3339))
}

func printStatus(w io.Writer, backend string, current int, sched []pseudonym.KeyVersionInfo, window time.Duration, note string) {
	if window <= 0 {
		window = pseudonym.DefaultTransitionWindow
	}
	fmt.Fprintf(w, "keys:              %s\n", backend)
	fmt.Fprintf(w, "current version:   %d\n", current)
	fmt.Fprintf(w, "transition window: %s\n", window)
	if note != "" {
		fmt.Fprintf(w, "note:              %s\n", note)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tSTATUS")
	for i := len(sched) - 1; i >= 0; i-- {
		v := sched[i]
		created := "unknown"
		if !v.Created.IsZero() {
			created = v.Created.UTC().Format(time.RFC3339)
		}
		var status string
		switch {
		case v.Version == current:
			status = "current"
		case !v.Live:
			status = "retired " + v.Retires.UTC().Format(time.RFC3339)
		case v.Retires.IsZero():
			status = "live (no retirement: its successor's creation time is unknown)"
		default:
			status = "live, retires " + v.Retires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", v.Version, created, status)
	}
	tw.Flush()
}
