package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/witness"
	"github.com/liaison-gateway/liaison/internal/spelling"
)

const witnessUsage = `usage: liaison witness [flags]

Runs a transparency-log witness (C2SP tlog-witness): it cosigns a log's
checkpoints (C2SP tlog-cosignature, timestamped Ed25519 cosignature/v1),
each only if it extends the last one it cosigned for that log, so that a
gateway cannot show two histories. It keeps its own key and its own state
(per log: the size and root hash it cosigned last, and every validly signed
checkpoint it refused as inconsistent) in a SQLite file, and serves

	POST /add-checkpoint                     cosign a checkpoint (old size, consistency proof, checkpoint)
	GET  /<sha256 of the origin, hex>/checkpoint   the checkpoint it cosigned last

Gateways send it their checkpoints with liaison serve -witness URL=VKEY;
auditors name it in their witness policy with -witness-key VKEY. The
verifier key is printed at start, and by -print-key, which takes only
-key and -name: the flags that serve (-log, -listen, -state, -tls-cert,
-tls-key, -log-format, -log-level) are refused beside it, as they would
go unread.

Flags:
`

func runWitness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison witness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), witnessUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:8444", "listen `address`; plain HTTP only on a loopback address, else give -tls-cert and -tls-key")
	name := fs.String("name", "witness.liaison", "the witness's key `name` (printable, no spaces or '+'), e.g. witness.dpa.example/w1")
	keyFile := fs.String("key", "witness.key", "the witness's private key `file` (created if absent, mode 0600; refused if group or others may read or write it)")
	state := fs.String("state", "witness.db", "the witness's SQLite state `file` (created if absent)")
	var logs multiFlag
	fs.Var(&logs, "log", "a log's checkpoint verifier `key` (name+hash+base64); the log's origin is the key's name (repeatable)")
	tlsCert := fs.String("tls-cert", "", "certificate `file` (PEM) to serve HTTPS")
	tlsKey := fs.String("tls-key", "", "its private key `file` (PEM)")
	printKey := fs.Bool("print-key", false, "print the witness's verifier key (creating the key if absent) and exit; with -key and -name only")
	logFormat := fs.String("log-format", "json", "log `format`: json or text")
	logLevel := fs.String("log-level", "info", "log `level`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("witness", fs); err != nil {
		return err
	}
	if !validKeyName(*name) {
		// It was refused as "audit: cosignature verifier key: invalid
		// name", naming no flag.
		return fmt.Errorf("witness: -name %+q: want a key name of printable characters without spaces or '+', e.g. witness.dpa.example/w1", *name)
	}
	if *printKey {
		// -print-key reads -key and -name only: a -log given with it was
		// accepted unread (a malformed key too), and whoever gave it
		// would believe it had been checked.
		var serving []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "print-key" && f.Name != "key" && f.Name != "name" {
				serving = append(serving, "-"+f.Name)
			}
		})
		if len(serving) > 0 {
			return fmt.Errorf("witness: -print-key prints the verifier key of -key and exits; %s serve and cannot be given with it", strings.Join(serving, ", "))
		}
	}
	signer, err := witness.LoadOrCreateKey(*keyFile, *name)
	if err != nil {
		return err
	}
	if *printKey {
		fmt.Fprintln(stdout, signer.VerifierKey())
		return nil
	}
	cfg := witness.Config{Signer: signer, State: *state, Logs: map[string][]note.Verifier{}}
	for _, k := range logs {
		text, err := keyText("-log", k)
		if err != nil {
			return fmt.Errorf("witness: %v", err)
		}
		v, err := audit.NewVerifier(text)
		if err != nil {
			return fmt.Errorf("witness: -log %q: %v", k, err)
		}
		cfg.Logs[v.Name()] = append(cfg.Logs[v.Name()], v)
	}
	if len(cfg.Logs) == 0 {
		return errors.New("witness: at least one -log verifier key is required")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("witness: give both -tls-cert and -tls-key, or neither")
	}
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *tlsCert == "" && !isLoopbackAddr(lis.Addr()) {
		lis.Close()
		return fmt.Errorf("witness: plain HTTP is served only on a loopback address, not %s: give -tls-cert and -tls-key", lis.Addr())
	}
	w, err := witness.New(ctx, cfg)
	if err != nil {
		lis.Close()
		return err
	}
	defer w.Close()
	srv := &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	scheme := "http"
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			lis.Close()
			return fmt.Errorf("witness: %v", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		lis = tls.NewListener(lis, srv.TLSConfig)
		scheme = "https"
	}
	origins := make([]string, 0, len(cfg.Logs))
	for o := range cfg.Logs {
		origins = append(origins, o)
	}
	logger.InfoContext(ctx, "witness serving", "url", scheme+"://"+lis.Addr().String(), "verifier_key", w.VerifierKey(), "logs", origins)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func isLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// validKeyName reports whether name may name a key this program makes (a
// witness's -name, a gateway's -audit-name, its log's origin): not empty,
// no white space or '+' (the note format's rule), and printable as an
// identifier must be (spelling.Printable: no control or invisible
// character, such as a Hangul filler or a variation selector, which the
// note format allows and which would make a name that looks like
// another's).
func validKeyName(name string) bool {
	return name != "" && spelling.Printable(name) &&
		!strings.ContainsFunc(name, func(r rune) bool { return r == '+' || unicode.IsSpace(r) })
}
