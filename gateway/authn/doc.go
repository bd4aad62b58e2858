// Package authn turns a caller's credentials into a [Caller]: the agency
// proven by its mTLS client certificate and the officer proven by a JWT that
// the agency's own identity provider signed. The two must agree: the token's
// issuer must be the issuer registered for the agency the certificate names,
// and where that issuer is registered for several agencies the token must
// name the agency in its liaison_agency_id claim (AgencyClaim).
//
// Keys are loaded when agencies are set (SetAgencies), never on the request
// path. Tokens are verified with golang-jwt/jwt/v5 under strict options: the
// algorithm must be on the agency's allow-list (never none, never HMAC),
// exp is required, aud must name the gateway, kid is looked up only among
// the agency's configured keys, and jku, x5u and embedded keys are ignored.
// A header that lists crit is refused (no extension is understood), typ if
// present must be one of the agency's token types, and the base64url of
// every segment must be canonical (no padding bits set), so that a token
// has one spelling.
package authn
