package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn"
)

// TrustFiles are the files that say whom the gateway trusts. WatchTrust
// reloads them when they change, without a restart; a change that does not
// load (a syntax error, a CRL with a bad signature, a stale CRL, or one
// older than the CRL of its issuer in force before, or a deny list older
// than the one in force before, in this run or, with Config.TrustMarks,
// an earlier one or another replica; or no CRL of a client CA whose CRL
// was in force before, or no deny list after one with entries)
// leaves the previous state in force and is logged.
type TrustFiles struct {
	// Registry is the agency registry file. Required.
	Registry string
	// ClientCAs are PEM files of the CAs agency certificates chain to.
	ClientCAs []string
	// CRLs are certificate revocation lists (PEM or DER) signed by those
	// CAs. Once a CRL of a CA has been in force, a load with that CA and
	// no CRL of it is refused; one without the CA needs none.
	CRLs []string
	// DenyList is a file of revoked certificates, one "sha256:<hex>" or
	// "serial:<hex>" (any issuer's serial) a line, numbered by at most one
	// "version:<decimal>" line: a numbered list is not rolled back, as a
	// CRL is not, nor dropped (DenyList empty) while the one in force
	// before has entries: it is retired by a higher version without
	// entries, after which none is needed.
	DenyList string
	// Interval is how often the files are checked (a change applies once
	// two checks in a row read it the same). If zero, 2s.
	Interval time.Duration
	// JWKSRefresh is how often JWKS URLs are fetched again, by the
	// gateway's clock (Config.Now). If zero, 5m.
	JWKSRefresh time.Duration
	// HTTPClient fetches JWKS URLs. If nil, a client with a 10s timeout.
	HTTPClient *http.Client
}

// trustLoader holds what the last load saw.
type trustLoader struct {
	tf      TrustFiles
	digest  [32]byte // of the files as applied
	pending [32]byte // of the files as last read, if not applied yet
	jwksMu  sync.Mutex
	jwks    map[string]jwksEntry // URL -> last good keys
	lastErr string
	// crls is the newest CRL of each issuer applied since the process
	// started, and kept in marks before (if set): a reload does not roll
	// one back.
	crls  *authn.CRLHistory
	deny  *authn.DenyListHistory // the same for the numbered deny list
	marks authn.MarkStore
}

type jwksEntry struct {
	keys    map[string]any
	fetched time.Time
}

// LoadTrust loads the trust files once and applies them. It returns an
// error, and changes nothing, if any file does not load.
func (s *Server) LoadTrust(ctx context.Context, tf TrustFiles) error {
	if tf.Registry == "" {
		return errors.New("gateway: TrustFiles.Registry is required")
	}
	if tf.Interval == 0 {
		tf.Interval = 2 * time.Second
	}
	if tf.JWKSRefresh == 0 {
		tf.JWKSRefresh = 5 * time.Minute
	}
	if tf.HTTPClient == nil {
		tf.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	crls, deny := &authn.CRLHistory{}, &authn.DenyListHistory{}
	if s.trust != nil {
		crls, deny = s.trust.crls, s.trust.deny // a load again does not forget the lists in force
	}
	s.trust = &trustLoader{tf: tf, jwks: map[string]jwksEntry{}, crls: crls, deny: deny, marks: s.cfg.TrustMarks}
	_, err := s.trust.reload(ctx, s, true)
	return err
}

// WatchTrust reloads the trust files when they change, and JWKS URLs every
// JWKSRefresh, until ctx is done. Call LoadTrust first.
func (s *Server) WatchTrust(ctx context.Context) {
	if s.trust == nil {
		return
	}
	t := time.NewTicker(s.trust.tf.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := s.trust.reload(ctx, s, false)
			switch {
			case err != nil && err.Error() != s.trust.lastErr:
				s.trust.lastErr = err.Error()
				s.log.ErrorContext(ctx, "trust files do not load; the ones applied last stay in force", "error", err)
			case err == nil && changed:
				s.trust.lastErr = ""
				s.log.InfoContext(ctx, "trust files reloaded", "agencies", len(s.registry.Load().Agencies))
			}
		}
	}
}

// reload reads every file; if their bytes (and the JWKS fetched) are what
// was applied last, it does nothing, and a change applies (unless force)
// only when a second reload reads it again unchanged.
func (l *trustLoader) reload(ctx context.Context, s *Server, force bool) (bool, error) {
	h := sha256.New()
	read := func(path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return b, nil
	}
	regBytes, err := read(l.tf.Registry)
	if err != nil {
		return false, fmt.Errorf("gateway: registry: %v", err)
	}
	var roots []*x509.Certificate
	pool := x509.NewCertPool()
	for _, f := range l.tf.ClientCAs {
		b, err := read(f)
		if err != nil {
			return false, fmt.Errorf("gateway: client CA: %v", err)
		}
		certs, err := parseCerts(b)
		if err != nil || len(certs) == 0 {
			return false, fmt.Errorf("gateway: client CA %s: no certificates", f)
		}
		for _, c := range certs {
			pool.AddCert(c)
			roots = append(roots, c)
		}
	}
	rev := &authn.Revocation{}
	for _, f := range l.tf.CRLs {
		b, err := read(f)
		if err != nil {
			return false, fmt.Errorf("gateway: CRL: %v", err)
		}
		// On the clock the Verifier checks the CRL's staleness on.
		if err := rev.AddCRL(b, roots, s.cfg.Verifier.Now()); err != nil {
			return false, fmt.Errorf("gateway: CRL %s: %v", f, err)
		}
		// Nor older than one of its issuer's in force before: that
		// would un-revoke what the newer one revoked.
		if err := l.crls.Check(rev); err != nil {
			return false, fmt.Errorf("gateway: CRL %s: %v", f, err)
		}
	}
	// Nor a CRL of a CA still trusted dropped: that would un-revoke
	// what it revoked.
	if err := l.crls.CheckDropped(rev, roots); err != nil {
		return false, fmt.Errorf("gateway: CRL (-crl): %v", err)
	}
	if l.tf.DenyList != "" {
		b, err := read(l.tf.DenyList)
		if err != nil {
			return false, fmt.Errorf("gateway: deny list: %v", err)
		}
		if err := rev.AddDenyList(b); err != nil {
			return false, err
		}
	}
	// Nor an older deny list than the one in force before, nor none
	// after one with entries, numbered or not. Whether none may follow is the
	// store's to say, if there is one (keepMarks): a list without entries
	// another replica put in force since may have retired the one this
	// process saw.
	if l.tf.DenyList != "" || l.marks == nil {
		if err := l.deny.Check(rev); err != nil {
			return false, l.denyErr(err)
		}
	}
	reg, err := parseRegistry(regBytes, l.tf.Registry)
	if err != nil {
		return false, err
	}
	r, err := reg.build(dirOf(l.tf.Registry), func(a AgencyFile, dir string) (map[string]any, error) {
		if a.JWKSURL == "" {
			return readJWKS(a, dir, read)
		}
		keys, err := l.fetchJWKS(ctx, a.JWKSURL, s.now())
		if err == nil {
			fmt.Fprintf(h, "jwks\x00%s\x00%p", a.JWKSURL, keys)
		}
		return keys, err
	})
	if err != nil {
		return false, err
	}
	var digest [32]byte
	copy(digest[:], h.Sum(nil))
	if !force && digest == l.digest {
		l.pending = [32]byte{}
		return false, nil
	}
	// A change applies once it reads the same on two reloads in a row:
	// a file caught half written (an editor's truncate-then-write) may
	// well parse, as an empty registry does, and would take every agency
	// out of the registry until the next reload.
	if !force && digest != l.pending {
		l.pending = digest
		return false, nil
	}
	// All or nothing: a registry that does not apply leaves the CAs and
	// revocations loaded with it out of force too. A CRL not in force yet
	// is compared with the newest of its issuer the store keeps, which an
	// earlier run of the gateway, or another replica, put in force; so is
	// a numbered deny list (or one without a number, which is refused once
	// a numbered one was in force, or none, refused once a deny list
	// with entries, numbered or not, was); and a CA of the pool is checked to have a CRL if
	// the store keeps the mark of one of its. Their marks are kept in the store only
	// once everything else of the load is checked, just before it applies
	// (keepMarks): a mark kept for lists that then did not apply would
	// refuse the ones in force.
	if err := s.setTrust(r, pool, rev, func() error { return l.keepMarks(ctx, rev, roots) }); err != nil {
		return false, err
	}
	l.crls.Record(rev)
	l.deny.Record(rev)
	if l.tf.DenyList != "" && !rev.DenyListVersioned() {
		s.log.WarnContext(ctx, "the deny list has no version line: putting back an older one is not refused", "deny_list", l.tf.DenyList)
	}
	l.digest = digest
	return true, nil
}

// denyErr says which deny list err refuses: the file's, or none.
func (l *trustLoader) denyErr(err error) error {
	if l.tf.DenyList == "" {
		return fmt.Errorf("gateway: deny list (-deny-list): %v", err)
	}
	return fmt.Errorf("gateway: deny list %s: %v", l.tf.DenyList, err)
}

// keepMarks compares the CRLs and the deny list of rev with the marks the
// store keeps (and checks that rev drops no CRL of a CA of roots, and no
// deny list with entries, numbered or not, the store keeps the mark of: one
// another replica, or an earlier run, put in force), then keeps theirs there, all
// in one compare-and-swap over every mark read, so that no mark moves
// back and the marks of one load move together or not at all. It is the
// last step of a load, run once everything else is checked: the lists
// then apply, which cannot fail. It returns an error, and rev must not
// apply, if the store keeps a newer list: one put in force before, or by
// another replica since the read (the swap then fails, and the marks read
// again refuse it). A mark is never moved back to undo one: another
// replica may have read it and put its list in force. So only a crash
// between the swap and the apply leaves the marks of lists not in force:
// those in the files, which a start applies.
func (l *trustLoader) keepMarks(ctx context.Context, rev *authn.Revocation, roots []*x509.Certificate) error {
	if l.marks == nil {
		return nil
	}
	// Every kind is read on every load that applies, even with the lists
	// in force: a list dropped from the files has no mark of its own to
	// tell it was ever in force.
	// The CRLs' marks kept before the CA's key counted (MarkKindCRL) are
	// read too, and swapped over, never written.
	kinds := []string{authn.MarkKindCRLByKey, authn.MarkKindCRL, authn.MarkKindDenyList}
	for try := 0; ; try++ {
		// Every list is checked against the marks read before any
		// mark moves.
		kept, next := map[string]map[string][]byte{}, map[string]map[string][]byte{}
		for _, kind := range kinds {
			m, err := l.marks.Marks(ctx, kind)
			if err != nil {
				return fmt.Errorf("gateway: read the revocation lists in force before: %v", err)
			}
			if m == nil {
				m = map[string][]byte{}
			}
			kept[kind] = m
			var newer map[string][]byte
			switch kind {
			case authn.MarkKindCRL: // read after MarkKindCRLByKey: both are the CRLs'
				if newer, err = l.crls.Kept(rev, kept[authn.MarkKindCRLByKey], m); err != nil {
					return fmt.Errorf("gateway: CRL: %v", err)
				}
				if err := l.crls.CheckDropped(rev, roots); err != nil {
					return fmt.Errorf("gateway: CRL (-crl): %v", err)
				}
				kind = authn.MarkKindCRLByKey // where their marks are kept
			case authn.MarkKindDenyList:
				if newer, err = l.deny.Kept(rev, m); err != nil {
					return l.denyErr(err)
				}
			}
			if len(newer) > 0 {
				next[kind] = newer
			}
		}
		if len(next) == 0 {
			return nil // the store keeps these lists already
		}
		done, err := l.marks.SwapMarks(ctx, kept, next)
		switch {
		case err != nil:
			return fmt.Errorf("gateway: keep the revocation lists in force: %v", err)
		case done:
			return nil
		case try == 4:
			return errors.New("gateway: keep the revocation lists in force: the marks kept keep changing")
		}
		// Another replica moved a mark since the read: read them
		// again; a newer list it put in force refuses this load.
	}
}

// fetchJWKS returns the keys at url, fetching them when the last fetch is
// older than JWKSRefresh at now (the gateway's clock, Config.Now). On a
// failed fetch the last good keys stay in use.
func (l *trustLoader) fetchJWKS(ctx context.Context, url string, now time.Time) (map[string]any, error) {
	l.jwksMu.Lock()
	e, ok := l.jwks[url]
	l.jwksMu.Unlock()
	if ok && now.Sub(e.fetched) < l.tf.JWKSRefresh {
		return e.keys, nil
	}
	keys, err := l.getJWKS(ctx, url)
	if err != nil {
		if ok {
			return e.keys, nil // keep serving the last good keys
		}
		return nil, err
	}
	l.jwksMu.Lock()
	l.jwks[url] = jwksEntry{keys: keys, fetched: now}
	l.jwksMu.Unlock()
	return keys, nil
}

func (l *trustLoader) getJWKS(ctx context.Context, url string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := l.tf.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: fetch JWKS: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway: fetch JWKS %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return authn.ParseJWKS(b)
}

func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 && len(bytes.TrimSpace(b)) > 0 {
		return x509.ParseCertificates(b)
	}
	return out, nil
}
