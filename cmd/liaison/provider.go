package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/liaison-gateway/liaison/gateway/sample"
)

func runProvider(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison provider", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixtures := fs.String("fixtures", "", "fixtures `file` (JSON); empty means the embedded sample, its dates moved by the days from 4 December 2026 to today")
	agency := fs.String("agency", "", "the holder agency `id` to serve")
	listen := fs.String("listen", "127.0.0.1:9443", "listen `address`")
	cert := fs.String("tls-cert", "", "the agency's certificate `file` (PEM)")
	key := fs.String("tls-key", "", "the agency's private key `file` (PEM)")
	ca := fs.String("ca", "", "CA certificate `file` the gateway's certificate chains to")
	gw := fs.String("gateway-identity", "spiffe://"+sample.TrustDomain+"/gateway", "the gateway certificate's URI `SAN`")
	logFormat := fs.String("log-format", "text", "log `format`: json or text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noStrayArgs("provider", fs); err != nil {
		return err
	}
	if *agency == "" || *cert == "" || *key == "" || *ca == "" {
		return errors.New("provider: -agency, -tls-cert, -tls-key and -ca are required")
	}
	logger, err := newLogger(stderr, *logFormat, "info")
	if err != nil {
		return err
	}
	var fx *sample.Fixtures
	if *fixtures == "" {
		fx, err = sample.ParseFixtures(sample.SampleOn(time.Now()))
	} else {
		fx, err = sample.ReadFixtures(*fixtures)
	}
	if err != nil {
		return err
	}
	srv, err := fx.NewServer(*agency, *gw)
	if err != nil {
		return err
	}
	tc, err := mtlsServerConfig(*cert, *key, *ca)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	gs := srv.Register(credentials.NewTLS(tc))
	logger.InfoContext(ctx, "record provider serving synthetic subjects", "agency", *agency, "address", lis.Addr().String())
	go func() { <-ctx.Done(); gs.GracefulStop() }()
	return gs.Serve(lis)
}

// mtlsServerConfig is a TLS 1.3 server configuration that requires client
// certificates from ca.
func mtlsServerConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificates", caFile)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}
