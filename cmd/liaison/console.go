package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/liaison-gateway/liaison/console"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

const consoleAbout = `Serves the web console for auditors and legal officers, and prints a one-time
login link to open in your browser.

Auditors: the overview (log size, latest checkpoint, whether it is consistent
with the last one you trusted, and since when), the timeline of disclosures
and refusals with filters and charts, each entry with its inclusion proof
checked against your trusted checkpoint, the data-subject access report
(printable, with the corrections and withdrawals sent on the person's
behalf), the required notices, corrections, withdrawals and expiry notices
not yet acknowledged, and the export for a supervisory authority. Legal
officers: the policy playground, the impact of a candidate policy directory or
bundle over a period of the log, the readiness report per jurisdiction, and
the reports of the worked exercise scenarios, which the console plays on a
gateway of its own (never the one your credentials reach) with the policy
embedded in the binary.

The console acts with your credentials only: your agency's client certificate
and your officer token, as "liaison audit" takes them (the auditor role for
the log, legal_officer or auditor for the policy pages). It holds no other
authority; the gateway records every read of the log as yours. It checks the
log against the checkpoint in -state (the file "liaison audit verify" keeps)
with the verifier key the operator gave you out of band. With -token-file
the token is read again on every call, so a fresh token needs no restart.

It listens on loopback only unless -listen names another address, which
then requires -tls-cert and -tls-key. The browser gets a session cookie from
the login link (HttpOnly, SameSite=Strict); the link works once, and opening
a new one ends the previous session: press Enter in this terminal for a new
link. Your token never reaches the browser.`

func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: liaison console -cert FILE -key FILE -ca FILE (-token-file FILE | -token TOKEN | $LIAISON_TOKEN) -verifier-key KEY [flags]\n\n%s\n\nFlags:\n", consoleAbout)
		fs.PrintDefaults()
	}
	conn := auditConn{stderr: stderr}
	conn.flags(fs)
	vkey := fs.String("verifier-key", "", "the log's checkpoint verifier `key` (name+hash+base64), or @file; get it from the operator out of band")
	state := fs.String("state", "liaison-audit.trusted", "`file` keeping the last checkpoint you trusted (shared with liaison audit verify)")
	listen := fs.String("listen", "127.0.0.1:8480", "`address` to serve the console on: loopback over plain HTTP, or any other with -tls-cert and -tls-key")
	tlsCert := fs.String("tls-cert", "", "certificate `file` (PEM) to serve the console over HTTPS; required off loopback")
	tlsKey := fs.String("tls-key", "", "its private key `file` (PEM)")
	var hosts multiFlag
	fs.Var(&hosts, "host", "a host `name` the browser uses to reach the console off loopback (repeatable; the certificate's names are added)")
	zone := zoneFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("console: unexpected argument %q", fs.Arg(0))
	}
	loc, err := zone("console")
	if err != nil {
		return err
	}
	if *vkey == "" {
		return errors.New("console: -verifier-key is required: the operator gives it to you out of band")
	}
	v, err := loadVerifier(*vkey, "", stderr)
	if err != nil {
		return err
	}
	vkeyText, err := keyText("-verifier-key", *vkey)
	if err != nil {
		return fmt.Errorf("console: %v", err)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("console: -tls-cert and -tls-key go together")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("console: -listen %q: %v", *listen, err)
	}
	loopback := isLoopback(host)
	if !loopback && *tlsCert == "" {
		return fmt.Errorf("console: -listen %s is not a loopback address: serving the console elsewhere needs TLS (-tls-cert and -tls-key)", *listen)
	}

	tok, err := conn.tokenSource()
	if err != nil {
		return err
	}
	tc, err := conn.tlsConfig()
	if err != nil {
		return fmt.Errorf("console: %v", err)
	}
	cc, err := grpc.NewClient(conn.gateway, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(tok),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAuditMessage))) // it reads 1000 entries a page
	if err != nil {
		return err
	}
	defer cc.Close()

	var srvTLS *tls.Config
	var certNames []string
	if *tlsCert != "" {
		warnSharedSecret(ctx, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), "-tls-key", *tlsKey)
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("console: %v", err)
		}
		srvTLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if leaf := cert.Leaf; leaf != nil {
			certNames = append(certNames, leaf.DNSNames...)
			for _, ip := range leaf.IPAddresses {
				certNames = append(certNames, ip.String())
			}
		}
	}
	for _, h := range hosts {
		if h == "" || (strings.ContainsAny(h, ":/[]@ ") && net.ParseIP(h) == nil) {
			return fmt.Errorf("console: -host %q: give a host name or IP address alone, without port or scheme (the port is the one -listen binds)", h)
		}
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("console: %v", err)
	}
	port := strconv.Itoa(lis.Addr().(*net.TCPAddr).Port)
	names := append(append([]string{}, hosts...), certNames...)
	if loopback {
		// The address listened on first: the login link is for it (on
		// 127.0.0.2 or ::1, 127.0.0.1 does not reach the console).
		if ip := net.ParseIP(host); ip != nil && !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			names = append(names, ip.String())
		}
		names = append(names, "127.0.0.1", "localhost", "::1")
	} else if host != "" && !net.ParseIP(host).IsUnspecified() {
		names = append(names, host)
	}
	var allowed []string
	for _, n := range names {
		allowed = append(allowed, strings.ToLower(net.JoinHostPort(n, port)))
	}
	if len(allowed) == 0 {
		lis.Close()
		return errors.New("console: name the host the browser will use with -host (the certificate names none)")
	}
	scheme := "http"
	if srvTLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + allowed[0]

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := console.New(console.Config{
		Audit: liaisonv1.NewAuditClient(cc), Policy: liaisonv1.NewPolicyClient(cc),
		Notices: liaisonv1.NewNoticesClient(cc), Aftercare: liaisonv1.NewAftercareClient(cc),
		Verifier: v, VerifierKey: vkeyText, State: *state, Hosts: allowed, Secure: srvTLS != nil,
		Officer: officerName(tok, tc), Gateway: conn.gateway, Logger: logger, Location: loc,
	})
	if err != nil {
		lis.Close()
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: srvTLS, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if srvTLS != nil {
			errc <- hs.ServeTLS(lis, "", "")
		} else {
			errc <- hs.Serve(lis)
		}
	}()

	fmt.Fprintf(stdout, "Liaison console for %s, gateway %s, at %s/\n", officerName(tok, tc), conn.gateway, base)
	fmt.Fprintf(stdout, "Open this one-time login link in your browser:\n\n  %s%s\n\n", base, srv.NewLogin())
	fmt.Fprintln(stdout, "Press Enter for a new link (opening it ends the previous session); Ctrl+C to stop.")
	if _, err := liaisonv1.NewAuditClient(cc).GetCheckpoint(ctx, &liaisonv1.GetCheckpointRequest{}); err != nil {
		fmt.Fprintf(stderr, "warning: the gateway did not answer as you yet: %v\n", err)
	}
	if stdin != nil {
		go func() {
			sc := bufio.NewScanner(stdin)
			for sc.Scan() {
				fmt.Fprintf(stdout, "New one-time login link:\n\n  %s%s\n\n", base, srv.NewLogin())
			}
		}()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("console: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// isLoopback reports whether a listen host is a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenSource returns the officer's token as per-call credentials: read
// again from -token-file on every call (so that a fresh token needs no
// restart), or fixed from -token or $LIAISON_TOKEN.
func (a *auditConn) tokenSource() (credentials.PerRPCCredentials, error) {
	if a.cert == "" || a.key == "" || a.ca == "" {
		return nil, errors.New("console: -cert, -key and -ca are required to reach the gateway")
	}
	if a.token == "" && a.tokenFile != "" {
		t := fileToken(a.tokenFile)
		if _, err := t.read(); err != nil {
			return nil, fmt.Errorf("console: -token-file: %v", err)
		}
		return t, nil
	}
	tok := a.token
	if tok == "" {
		tok = os.Getenv("LIAISON_TOKEN")
	}
	if tok == "" {
		return nil, errors.New("console: a token is required (-token-file, -token or $LIAISON_TOKEN)")
	}
	return bearerToken(tok), nil
}

// fileToken sends the token in a file, read on every call.
type fileToken string

func (f fileToken) read() (string, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%s is empty", string(f))
	}
	return t, nil
}

func (f fileToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	t, err := f.read()
	if err != nil {
		return nil, fmt.Errorf("console: token file: %v", err)
	}
	return map[string]string{"authorization": "Bearer " + t}, nil
}

func (fileToken) RequireTransportSecurity() bool { return true }

// officerName describes, for the page header, who the console acts as:
// the token's subject and roles (read, not verified: the gateway verifies
// it) and the agency in the client certificate. Never the token.
func officerName(tok credentials.PerRPCCredentials, tc *tls.Config) string {
	who := "an officer"
	if md, err := tok.GetRequestMetadata(context.Background()); err == nil {
		parts := strings.Split(strings.TrimPrefix(md["authorization"], "Bearer "), ".")
		if len(parts) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				var c struct {
					Sub   string   `json:"sub"`
					Roles []string `json:"roles"`
				}
				if json.Unmarshal(b, &c) == nil && c.Sub != "" {
					who = c.Sub
					if len(c.Roles) > 0 {
						who += " (" + strings.Join(c.Roles, ", ") + ")"
					}
				}
			}
		}
	}
	if len(tc.Certificates) == 1 {
		if leaf := tc.Certificates[0].Leaf; leaf != nil {
			for _, u := range leaf.URIs {
				if _, id, ok := strings.Cut(u.Path, "/agency/"); ok {
					return who + " of " + id
				}
			}
		}
	}
	return who
}
