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
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
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
	// crls is the newest CRL added of each issuer and scope.
	crls map[string]crlMark
	// deny places the deny list added among its versions; nil if none was.
	deny *denyMark
}

// crlMark places a CRL among its issuer's: by cRLNumber (nil if it has
// none) and thisUpdate, with its digest to tell two of the same number
// apart.
type crlMark struct {
	number     *big.Int
	thisUpdate time.Time
	sum        [32]byte
	issuer     string // the issuer's name, for whoever reads a MarkStore
	caKey      string // the hex SHA-256 of the signer's SubjectPublicKeyInfo (caKeyOf)
}

// compare is <0 if m is older than o, >0 if newer, 0 if they are the
// same place in the sequence: by cRLNumber when both have one (RFC 5280
// section 5.2.3: it increases monotonically for an issuer and scope),
// else by thisUpdate.
func (m crlMark) compare(o crlMark) int {
	if m.number != nil && o.number != nil {
		return m.number.Cmp(o.number)
	}
	return m.thisUpdate.Compare(o.thisUpdate)
}

func (m crlMark) String() string {
	if m.number != nil {
		return "cRLNumber " + m.number.String()
	}
	return "thisUpdate " + m.thisUpdate.UTC().Format(time.RFC3339)
}

// oidIssuingDistributionPoint names a CRL's scope (RFC 5280 section
// 5.2.5): the cRLNumber sequence is per issuer and scope.
var oidIssuingDistributionPoint = []int{2, 5, 29, 28}

// crlScope is the key of a CRL's issuer and scope, as a MarkStore keeps
// it (MarkKindCRLByKey): its group (crlGroup: the signer's subject and
// the CRL's scope), "/", and the signer's key (caKeyOf). A CA is told by
// its name and its key: a re-keyed CA, of the same name and a new key,
// trusted beside the old one, has CRLs of its own, each in its own
// sequence, and neither's CRL stands for the other's.
func crlScope(signer *x509.Certificate, crl *x509.RevocationList) string {
	return crlGroup(signer, crl) + "/" + caKeyOf(signer)
}

// crlGroup is the hex SHA-256 of a CRL's signer's subject and of its
// scope: the key of a CRL's marks before the CA's key counted
// (MarkKindCRL), which the CAs of one name share.
func crlGroup(signer *x509.Certificate, crl *x509.RevocationList) string {
	k := string(signer.RawSubject)
	for _, e := range crl.Extensions {
		if e.Id.Equal(oidIssuingDistributionPoint) {
			k += "\x00" + string(e.Value)
		}
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// caKeyOf is the hex SHA-256 of a CA's SubjectPublicKeyInfo.
func caKeyOf(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// groupOf is the group (crlGroup) of the CRL scope k (crlScope).
func groupOf(k string) string {
	g, _, _ := strings.Cut(k, "/")
	return g
}

// CRLHistory is the newest CRL of each issuer (and scope) a process has
// had in force, to refuse a rollback: a CRL older than one already in
// force, which would un-revoke what the newer one revoked. It is in
// memory; Kept shares it with a MarkStore, which keeps it across
// restarts. The zero value is ready to use.
type CRLHistory struct {
	mu     sync.Mutex
	newest map[string]crlMark // by crlScope: the CA's name and key, and the scope
	// legacy are the marks a MarkStore kept before the CA's key counted
	// (MarkKindCRL), by crlGroup: the newest CRL of any CA of the name.
	// One counts, as it did, for the CRLs of its group until a mark by
	// key of the group is kept (superseded), which the first load that
	// applies with a CRL of the group keeps.
	legacy map[string]crlMark
}

// superseded reports whether h has a mark by key of the group g, which
// then stands for it rather than its legacy mark. h.mu is held.
func (h *CRLHistory) superseded(g string) bool {
	for k := range h.newest {
		if groupOf(k) == g {
			return true
		}
	}
	return false
}

// checkAgainst refuses m, a CRL of the issuer and scope of old, if it is
// older than old or at its place with other content.
func checkAgainst(m, old crlMark) error {
	switch c := m.compare(old); {
	case c < 0:
		return fmt.Errorf("authn: the CRL (%s) is older than the one of its issuer in force before (%s): a CRL is not rolled back; install the CA's current CRL", m, old)
	case c == 0 && m.sum != old.sum:
		return fmt.Errorf("authn: the CRL (%s) differs from the one of its issuer in force before, of the same %s: install the CA's current CRL", m, old)
	}
	return nil
}

// Check returns an error if a CRL of r is older than the one of the same
// issuer and scope h has seen (a lower cRLNumber or, without numbers, an
// earlier thisUpdate), or is at the same place with different content.
func (h *CRLHistory) Check(r *Revocation) error {
	if h == nil || r == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, m := range r.crls {
		old, ok := h.newest[k]
		if !ok {
			continue
		}
		if err := checkAgainst(m, old); err != nil {
			return err
		}
	}
	// A legacy mark, as it was checked: against the newest CRL of r of
	// its group, whichever CA of the name signed it.
	for _, g := range slices.Sorted(maps.Keys(h.legacy)) {
		if h.superseded(g) {
			continue
		}
		var newest *crlMark
		for k, m := range r.crls {
			if groupOf(k) == g && (newest == nil || m.compare(*newest) > 0 || m.compare(*newest) == 0 && m.sum == h.legacy[g].sum) {
				newest = &m
			}
		}
		if newest != nil {
			if err := checkAgainst(*newest, h.legacy[g]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckDropped returns an error if one of cas (the CAs client
// certificates chain to) issued a CRL h has seen, in force before, and r
// has no CRL of that issuer and scope: dropping it would un-revoke what
// it revoked. A CA no longer among cas needs no CRL.
func (h *CRLHistory) CheckDropped(r *Revocation, cas []*x509.Certificate) error {
	if h == nil {
		return nil
	}
	trusted := map[string]bool{} // by name and key
	byName := map[string]bool{}  // by name, for a legacy mark
	for _, ca := range cas {
		trusted[ca.Subject.String()+"\x00"+caKeyOf(ca)] = true
		byName[ca.Subject.String()] = true
		sum := sha256.Sum256(ca.RawSubject) // the group of its CRLs without a scope
		byName[hex.EncodeToString(sum[:])] = true
	}
	dropped := func(m crlMark) error {
		return fmt.Errorf("authn: the client CA %q is trusted, and its CRL (%s) was in force before, but no CRL of it is now: a CRL is not dropped while its CA is trusted; install the CA's current CRL, or take the CA out of the client CAs with it", m.issuer, m)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(h.newest)) {
		m := h.newest[k]
		if _, ok := r.crlOf(k); ok || !trusted[m.issuer+"\x00"+m.caKey] {
			continue
		}
		return dropped(m)
	}
	for _, g := range slices.Sorted(maps.Keys(h.legacy)) {
		m := h.legacy[g]
		if h.superseded(g) || r.hasGroup(g) || !byName[m.issuer] && !byName[g] {
			continue
		}
		return dropped(m)
	}
	return nil
}

// hasGroup reports whether r has a CRL of the group g (crlGroup).
func (r *Revocation) hasGroup(g string) bool {
	if r == nil {
		return false
	}
	for k := range r.crls {
		if groupOf(k) == g {
			return true
		}
	}
	return false
}

// crlOf returns the CRL of r of the issuer and scope k, if r has one.
func (r *Revocation) crlOf(k string) (crlMark, bool) {
	if r == nil {
		return crlMark{}, false
	}
	m, ok := r.crls[k]
	return m, ok
}

// Record notes the CRLs of r, now in force, where newer than those seen.
func (h *CRLHistory) Record(r *Revocation) {
	if r == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, m := range r.crls {
		h.note(k, m)
	}
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
// less); blank lines and lines starting with # are ignored. At most one
// line "version:<decimal>" numbers the list, for DenyListHistory to
// refuse putting back an older one.
func (r *Revocation) AddDenyList(data []byte) error {
	r.init()
	dm := &denyMark{}
	entries := sha256.New() // of the entries, in order of their kind and value
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, val, ok := strings.Cut(line, ":")
		if kind == "version" {
			v, err := parseDenyVersion(val)
			switch {
			case dm.versioned:
				return fmt.Errorf("authn: deny list line %d: a second version line", n)
			case err != nil:
				return fmt.Errorf("authn: deny list line %d: want version:<decimal number>", n)
			}
			dm.version, dm.versioned = v, true
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(val, ":", ""))
		switch {
		case !ok || err != nil:
			return fmt.Errorf("authn: deny list line %d: want sha256:<hex> or serial:<hex>", n)
		case kind == "sha256" && len(b) == 32:
			r.fingerprints[[32]byte(b)] = true
			lines = append(lines, "sha256:"+hex.EncodeToString(b))
		case kind == "serial" && len(b) > 0:
			serial := new(big.Int).SetBytes(b)
			r.denySerials[serial.String()] = true
			lines = append(lines, "serial:"+serial.Text(16))
		default:
			return fmt.Errorf("authn: deny list line %d: want sha256:<64 hex digits> or serial:<hex>", n)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.Sort(lines)
	for _, l := range slices.Compact(lines) {
		fmt.Fprintln(entries, l)
	}
	copy(dm.sum[:], entries.Sum(nil))
	r.deny = dm
	return nil
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
	m := crlMark{number: crl.Number, thisUpdate: crl.ThisUpdate, sum: sha256.Sum256(crl.Raw), issuer: signer.Subject.String(), caKey: caKeyOf(signer)}
	k := crlScope(signer, crl)
	if old, ok := r.crls[k]; !ok || m.compare(old) > 0 {
		r.crls[k] = m // the newest (the first of equals) stands for the issuer
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
	if r.crls == nil {
		r.crls = map[string]crlMark{}
	}
}
