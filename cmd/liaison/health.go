package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const healthAbout = `Asks a running gateway, over its TLS port, whether it serves
(grpc.health.v1 Check), prints the answer, and exits 0 only when it is SERVING:
the command of a Kubernetes exec probe or of any other supervisor.

The gateway answers NOT_SERVING while it would fail closed: for the whole
gateway (-service "", the default) and liaison.v1.Exchange while the audit
store does not answer, the pseudonym keys are past -key-max-stale or no policy
is active; for liaison.v1.Audit while the audit store does not answer; for
liaison.v1.Policy while the store does not answer or no policy is active.
Health needs no credentials; -cert and -key present a client certificate all
the same. With -live it exits 0 whenever the gateway answers at all, whatever
the status: for liveness probes, which must not restart a gateway that waits
for Vault or the database to come back.`

// healthServices are the services the gateway reports on besides the
// whole gateway ("").
var healthServices = []string{"liaison.v1.Exchange", "liaison.v1.Audit", "liaison.v1.Policy"}

func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: liaison health [flags]\n\n%s\n\nFlags:\n", healthAbout)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8443", "the gateway's `address`")
	caFile := fs.String("ca", "", "CA `file` (PEM) the gateway's certificate chains to; empty means the system's roots")
	serverName := fs.String("server-name", "", "`name` the gateway's certificate must carry (DNS or IP SAN); empty means the host of -addr")
	certFile := fs.String("cert", "", "client certificate `file` (PEM) to present; optional")
	keyFile := fs.String("key", "", "its private key `file` (PEM)")
	service := fs.String("service", "", "the `service` to ask about: empty for the whole gateway, or "+strings.Join(healthServices, ", "))
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `duration`")
	live := fs.Bool("live", false, "exit 0 when the gateway answers at all, whatever the status (liveness)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("health: unexpected argument %q", fs.Arg(0))
	}
	// The gateway answers any other service NotFound, which failed even a
	// -live probe: a typo in a liveness probe restarted the gateway for
	// ever. A timeout of zero or less failed every probe the same way.
	if *service != "" && !slices.Contains(healthServices, *service) {
		return fmt.Errorf("health: -service %q: want empty (the whole gateway) or one of %s", *service, strings.Join(healthServices, ", "))
	}
	if *timeout <= 0 {
		return fmt.Errorf("health: -timeout %v: must be positive", *timeout)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: *serverName}
	if tc.ServerName == "" {
		host, _, err := net.SplitHostPort(*addr)
		if err != nil {
			return fmt.Errorf("health: -addr %q: %v", *addr, err)
		}
		tc.ServerName = host
	}
	if *caFile != "" {
		b, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("health: -ca: %v", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(b) {
			return fmt.Errorf("health: -ca %s: no certificates", *caFile)
		}
	}
	switch {
	case (*certFile == "") != (*keyFile == ""):
		return errors.New("health: give -cert and -key together")
	case *certFile != "":
		warnSharedSecret(ctx, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), "-key", *keyFile)
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("health: client certificate: %v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return fmt.Errorf("health: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
	if err != nil {
		return fmt.Errorf("health: %s: %v", *addr, err)
	}
	name := *service
	if name == "" {
		name = "gateway"
	}
	fmt.Fprintf(stdout, "%s %s\n", name, resp.GetStatus())
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING && !*live {
		return fmt.Errorf("health: %s is %s", name, resp.GetStatus())
	}
	return nil
}
