-- published_checkpoints holds each checkpoint the gateway took to its
-- witnesses (the log's signed note), and cosignatures the note signature
-- lines the witnesses returned for it (C2SP tlog-cosignature), so that
-- every replica serves the same witnessed checkpoint.
CREATE TABLE published_checkpoints (
	tree_size    BIGINT PRIMARY KEY CHECK (tree_size >= 0),
	note         BYTEA  NOT NULL,
	published_ns BIGINT NOT NULL
);

CREATE TABLE cosignatures (
	tree_size BIGINT NOT NULL REFERENCES published_checkpoints (tree_size),
	line      BYTEA  NOT NULL,
	PRIMARY KEY (tree_size, line)
);
