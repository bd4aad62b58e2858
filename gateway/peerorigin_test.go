package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// peerLog is a peer gateway's log, for the receipts of its pending
// entries: a real log in SQLite, its checkpoints of origin, signed with
// a key named name.
type peerLog struct {
	s    *Server
	vkey string
}

func newPeerLog(t *testing.T, name, origin string) *peerLog {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "audit.key"), name)
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: key, Origin: origin, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close(context.WithoutCancel(ctx)) })
	return &peerLog{s: &Server{cfg: Config{Audit: alog, Federation: Federation{Receipts: key}, Now: time.Now}, log: slog.New(slog.DiscardHandler)}, vkey: vkey}
}

// forward logs the pending entry of a request an officer of agency
// forwards to holder, with the assertion's digest, and returns its
// receipt.
func (p *peerLog) forward(t *testing.T, agency, officer, holder, assertion string) *liaisonv1.PeerReceipt {
	t.Helper()
	idx, err := p.s.cfg.Audit.Append(t.Context(), &audit.Entry{
		Time: time.Now().UTC(), Action: "request", Outcome: audit.OutcomePending, Reasons: []string{"FORWARDED_TO_PEER"},
		Requester:  &audit.Requester{Agency: agency, Officer: officer},
		Holder:     &audit.Party{Agency: holder},
		Recipients: []audit.Party{{Agency: agency}},
		RecordType: "risk_assessment", Purpose: "risk_management",
		Detail: map[string]string{"phase": phaseForwarded, "assertion_sha256": assertion},
	})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := p.s.receipt(t.Context(), idx, agency, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestOnePeerCannotClaimAnothersLog: this gateway claims each pending
// entry a peer forwards once, by the peer's log's origin and the entry's
// index, and names a person a peer's push names by its audit pseudonym
// under that origin too. The origin is the first line of the checkpoint
// the peer signs, and nothing tied it to the peer: a second peer gateway
// (here of France) could sign checkpoints of the Danish log's name with
// its own key, forward a call of its own as that log's entry 0, and so
// claim it: the Danish gateway's own forward of its entry 0 was then
// refused as "already acted on". Now a receipt's checkpoint must be of
// the log its key names (its origin the key's name, as serve's
// -audit-name makes both), and a registry whose two peer gateways'
// checkpoint keys share a name does not load.
func TestOnePeerCannotClaimAnothersLog(t *testing.T) {
	ctx := t.Context()
	dk := newPeerLog(t, "dk.liaison.test", "")
	fr := newPeerLog(t, "fr.liaison.test", "dk.liaison.test") // signs the Danish log's name
	s := &Server{cfg: Config{Now: time.Now}, log: slog.New(slog.DiscardHandler)}
	dkGW := &authn.Agency{ID: "dk-gateway", Kind: KindPeerGateway, Jurisdiction: "DK"}
	frGW := &authn.Agency{ID: "fr-gateway", Kind: KindPeerGateway, Jurisdiction: "FR"}
	s.registry.Store(&Registry{Agencies: map[string]*Agency{
		"dk-gateway": {Agency: dkGW, CheckpointKey: dk.vkey},
		"fr-gateway": {Agency: frGW, CheckpointKey: fr.vkey},
	}})
	call := func(peer *authn.Agency, agency, kind, jur, officer, assertion string, rc *liaisonv1.PeerReceipt) error {
		pctx := context.WithValue(ctx, peerCallKey{}, peerCall{peer: peer, assertion: assertion})
		ex := &exchange{s: s, reqID: rand.Text(), index: -1, entry: &audit.Entry{},
			caller: authn.Caller{Agency: &authn.Agency{ID: agency, Kind: kind, Jurisdiction: jur}, Officer: authn.Officer{ID: officer}}}
		_, err := s.acceptForward(pctx, ex, &liaisonv1.PeerForward{Receipt: rc}, forwardedFacts{actions: []string{"request"},
			recipient: agency, holder: "nl-prison-dji", recordType: "risk_assessment", purpose: "risk_management"})
		return err
	}
	const frAssertion = "1111111111111111111111111111111111111111111111111111111111111111"
	const dkAssertion = "2222222222222222222222222222222222222222222222222222222222222222"
	frRC := fr.forward(t, "fr-police-lyon", "op.martin", "nl-prison-dji", frAssertion)
	dkRC := dk.forward(t, "dk-police-aarhus", "pi.hansen", "nl-prison-dji", dkAssertion)

	err := call(frGW, "fr-police-lyon", "police", "FR", "op.martin", frAssertion, frRC)
	var br *badRequest
	if !errors.As(err, &br) || br.field != "forwarded.receipt" {
		t.Errorf("the French gateway's forward in the Danish log's name: %v; want INVALID_ARGUMENT on forwarded.receipt", err)
	}
	if err := call(dkGW, "dk-police-aarhus", "police", "DK", "pi.hansen", dkAssertion, dkRC); err != nil {
		t.Errorf("the Danish gateway's own forward of its entry 0: %v; want it accepted", err)
	}

	// Nor can an operator register two peers' logs under one name.
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	_, frNamedDK, err := note.GenerateKey(rand.Reader, "dk.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	peers := func(frKey string) *RegistryFile {
		return &RegistryFile{Agencies: []AgencyFile{
			{ID: "dk-gateway", Kind: KindPeerGateway, Jurisdiction: "DK", CertificateIdentity: "spiffe://dk/gateway",
				Issuer: "https://gateway.dk.example", Provider: "dk.example:8443", CheckpointKey: dk.vkey},
			{ID: "fr-gateway", Kind: KindPeerGateway, Jurisdiction: "FR", CertificateIdentity: "spiffe://fr/gateway",
				Issuer: "https://gateway.fr.example", Provider: "fr.example:8443", CheckpointKey: frKey},
		}}
	}
	if _, err := peers(fr.vkey).build("", noKeys); err != nil {
		t.Fatalf("two peer gateways with logs of their own names: %v", err)
	}
	_, err = peers(frNamedDK).build("", noKeys)
	if err == nil || !strings.Contains(err.Error(), "dk-gateway") || !strings.Contains(err.Error(), "fr-gateway") || !strings.Contains(err.Error(), "dk.liaison.test") {
		t.Errorf("two peer gateways with checkpoint keys of one name: %v; want the registry refused, naming both and the name", err)
	}
}
