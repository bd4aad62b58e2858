package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"
)

// warnSharedSecret logs a warning if the secret file at path (a private
// key, a Vault secret id, an officer's token), given by flag, may be read
// or written by its group or others, as ssh warns of a private key: a key
// the gateway, or an officer's client command, holds should be readable
// by its owner only, or by the group the process runs as, when another
// user owns it (sharedSecretMode). It is a warning, not a refusal
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
	uid, gid := -1, -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, gid = int(st.Uid), int(st.Gid)
	}
	if perm := fi.Mode().Perm(); sharedSecretMode(perm, uid, gid, os.Getuid(), os.Getgid()) {
		log.WarnContext(ctx, "a secret file may be read or written by its group or others: make it readable by its user only, the one the command runs as (chmod 600; on a Kubernetes Secret volume, defaultMode: 0440 with the pod's fsGroup its runAsGroup)",
			"flag", flag, "file", path, "mode", fmt.Sprintf("%04o", perm))
	}
}

// sharedSecretMode reports whether a secret file of mode perm, owned by
// uid:gid, is open beyond the process that runs as procUID:procGID: any
// bit for others or of the group but read, or the group's read unless
// another user owns the file and its group is the process's. That is how
// a process reads a file it does not own, given to its group alone: a
// Kubernetes Secret volume's files belong to root and, with the pod's
// fsGroup, to that group, and the kubelet adds the group's read to
// defaultMode (0400 becomes 0440); with fsGroup the pod's runAsGroup, the
// group is the gateway's own. A file the process owns needs no group.
func sharedSecretMode(perm os.FileMode, uid, gid, procUID, procGID int) bool {
	switch {
	case perm&0o037 != 0:
		return true
	case perm&0o040 == 0:
		return false
	}
	return uid < 0 || uid == procUID || gid != procGID
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
