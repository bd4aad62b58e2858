package authn

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Revocation is the set of revoked client certificates: by issuer and serial
// number (from CRLs), or by SHA-256 fingerprint or serial number alone
// (from a deny list). The zero value revokes nothing.
type Revocation struct {
	serials      map[string]bool // issuer DN (raw) + serial
	denySerials  map[string]bool // serial, whichever CA issued it
	fingerprints map[[32]byte]bool
	// nextUpdate is the earliest NextUpdate of the CRLs added (zero if
	// none): from then on a CA may have revoked certificates that no CRL
	// in force lists.
	nextUpdate time.Time
}

// NextUpdate returns the earliest next update of the CRLs added, or the
// zero time if none was: from then on the revocations are Stale.
func (r *Revocation) NextUpdate() time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.nextUpdate
}

// Stale reports whether, at now, a CRL added is past its next update: its
// CA may have revoked certificates since that it does not list, so no
// certificate of that CA's can be told not revoked (RFC 5280 section
// 5.1.2.5). A deny list never goes stale.
func (r *Revocation) Stale(now time.Time) bool {
	return r != nil && !r.nextUpdate.IsZero() && !now.Before(r.nextUpdate)
}

// CRLClockSkew is how far in the future a CRL's thisUpdate may be, by the
// clock AddCRL is given (the Verifier's), for the CRL to load: the CA's clock may run a little
// ahead. A CRL's nextUpdate has no such allowance.
const CRLClockSkew = 30 * time.Second

// Revoked reports whether c is revoked.
func (r *Revocation) Revoked(c *x509.Certificate) bool {
	if r == nil {
		return false
	}
	if r.fingerprints[sha256.Sum256(c.Raw)] || r.denySerials[c.SerialNumber.String()] {
		return true
	}
	return r.serials[serialKey(c.RawIssuer, c.SerialNumber)]
}

// Len returns the number of revoked entries.
func (r *Revocation) Len() int { return len(r.serials) + len(r.denySerials) + len(r.fingerprints) }

func serialKey(rawIssuer []byte, serial *big.Int) string {
	return string(rawIssuer) + "\x00" + serial.String()
}

// AddDenyList adds a deny list: one entry a line, "sha256:<hex fingerprint>"
// of a certificate, or "serial:<hex>", which revokes every certificate with
// that serial number whichever CA issued it (a client certificate, or an
// intermediate CA of its chain, issued by any trusted CA: serial numbers
// are unique per issuer only, so this may revoke more than one, never
// less); blank lines and lines starting with # are ignored.
func (r *Revocation) AddDenyList(data []byte) error {
	r.init()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, val, ok := strings.Cut(line, ":")
		b, err := hex.DecodeString(strings.ReplaceAll(val, ":", ""))
		switch {
		case !ok || err != nil:
			return fmt.Errorf("authn: deny list line %d: want sha256:<hex> or serial:<hex>", n)
		case kind == "sha256" && len(b) == 32:
			r.fingerprints[[32]byte(b)] = true
		case kind == "serial" && len(b) > 0:
			r.denySerials[new(big.Int).SetBytes(b).String()] = true
		default:
			return fmt.Errorf("authn: deny list line %d: want sha256:<64 hex digits> or serial:<hex>", n)
		}
	}
	return sc.Err()
}

// AddCRL adds the entries of a CRL (PEM or DER) after checking that one of
// cas signed it and that it is current at now: its thisUpdate not later
// than now (give or take CRLClockSkew), and its nextUpdate, which it must
// have (RFC 5280 section 5.1.2.5), later than now. A stale CRL would let
// a certificate its CA revoked after it through.
func (r *Revocation) AddCRL(data []byte, cas []*x509.Certificate, now time.Time) error {
	r.init()
	if blk, _ := pem.Decode(data); blk != nil {
		data = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return fmt.Errorf("authn: parse CRL: %v", err)
	}
	var signer *x509.Certificate
	for _, ca := range cas {
		if crl.CheckSignatureFrom(ca) == nil {
			signer = ca
			break
		}
	}
	if signer == nil {
		return errors.New("authn: the CRL is not signed by a trusted CA")
	}
	const stamp = time.RFC3339
	switch {
	case crl.NextUpdate.IsZero():
		return errors.New("authn: the CRL has no nextUpdate (RFC 5280 requires one): the gateway could not tell when it goes stale")
	case crl.ThisUpdate.After(now.Add(CRLClockSkew)):
		return fmt.Errorf("authn: the CRL's thisUpdate %s is in the future (now %s): check the CA's and the gateway's clocks",
			crl.ThisUpdate.UTC().Format(stamp), now.UTC().Format(stamp))
	case !now.Before(crl.NextUpdate):
		return fmt.Errorf("authn: the CRL is stale: its nextUpdate %s has passed (now %s); install the CA's current CRL",
			crl.NextUpdate.UTC().Format(stamp), now.UTC().Format(stamp))
	}
	if r.nextUpdate.IsZero() || crl.NextUpdate.Before(r.nextUpdate) {
		r.nextUpdate = crl.NextUpdate
	}
	for _, e := range crl.RevokedCertificateEntries {
		r.serials[serialKey(signer.RawSubject, e.SerialNumber)] = true
	}
	return nil
}

func (r *Revocation) init() {
	if r.serials == nil {
		r.serials = map[string]bool{}
	}
	if r.denySerials == nil {
		r.denySerials = map[string]bool{}
	}
	if r.fingerprints == nil {
		r.fingerprints = map[[32]byte]bool{}
	}
}
