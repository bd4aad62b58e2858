-- token_ids remembers which token, bound to a client certificate, first
-- carried each (issuer, jti), so that every gateway process on this
-- database refuses another token with the same id (authn.ReplayStore).
-- Rows are dropped once expired.
CREATE TABLE token_ids (
	id         BYTEA  PRIMARY KEY CHECK (length(id) = 32),
	binding    BYTEA  NOT NULL CHECK (length(binding) = 32),
	expires_ns BIGINT NOT NULL
);

CREATE INDEX token_ids_expires ON token_ids (expires_ns);
