package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// warnSharedSecret logs a warning if the secret file at path (a private
// key, a Vault secret id, an officer's token), given by flag, may be read
// or written by its group or others, as ssh warns of a private key: a key
// the gateway, or an officer's client command, holds should be readable
// by its owner only. It is a warning, not a refusal
// (as it is for the pseudonym key file and the audit signer key, which
// the gateway writes itself): a Kubernetes Secret volume gives its files
// mode 0644 unless defaultMode says otherwise. The mode is that of the
// file the name points to (a Secret volume's files are symbolic links).
func warnSharedSecret(ctx context.Context, log *slog.Logger, flag, path string) {
	if path == "" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		return // reading it reports the error
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.WarnContext(ctx, "a secret file may be read or written by its group or others: make it readable by its user only, the one the command runs as (chmod 600, or defaultMode: 0400 on a Kubernetes Secret volume)",
			"flag", flag, "file", path, "mode", fmt.Sprintf("%04o", perm))
	}
}

// warnSharedSecrets warns on a's stderr, as serve logs it
// (warnSharedSecret), if the client command's -key file, or the
// -token-file its token is read from, may be read or written by its group
// or others.
func (a *auditConn) warnSharedSecrets() {
	if a.stderr == nil {
		return
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	warnSharedSecret(context.Background(), log, "-key", a.key)
	if a.token == "" {
		warnSharedSecret(context.Background(), log, "-token-file", a.tokenFile)
	}
}
