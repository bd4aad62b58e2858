-- inbox_sent holds, per inbox (inbox.recipient), the greatest cursor up to
-- which Subscribe has sent the inbox's items to a reader (or reported one
-- that does not open). An inbox is acknowledged up to no later cursor: an
-- agency acknowledges only what it was sent. The mark only grows.
CREATE TABLE inbox_sent (
	recipient  TEXT   PRIMARY KEY,
	cursor     BIGINT NOT NULL CHECK (cursor > 0),
	updated_ns BIGINT NOT NULL
);
