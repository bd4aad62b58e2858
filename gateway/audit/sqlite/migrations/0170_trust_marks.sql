-- trust_marks keeps where the revocation lists the gateway put in force
-- stand (kind 'crl': the newest CRL of each issuer and scope, keyed by
-- the hex SHA-256 of the issuer's name and the CRL's scope; kind
-- 'deny-list': the version of the numbered deny list), so that a reload
-- refuses to roll one back after a restart too, and on every process
-- using this database (authn.MarkStore). A mark is JSON the
-- gateway reads; it is replaced only by a newer one.
CREATE TABLE trust_marks (
	kind       TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	mark       BLOB    NOT NULL,
	updated_ns INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
