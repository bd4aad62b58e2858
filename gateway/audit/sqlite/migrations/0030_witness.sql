-- published_checkpoints holds each checkpoint the gateway took to its
-- witnesses (the log's signed note), and cosignatures the note signature
-- lines the witnesses returned for it (C2SP tlog-cosignature), so that
-- every replica serves the same witnessed checkpoint.
CREATE TABLE published_checkpoints (
	tree_size    INTEGER PRIMARY KEY CHECK (tree_size >= 0),
	note         BLOB    NOT NULL,
	published_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE cosignatures (
	tree_size INTEGER NOT NULL REFERENCES published_checkpoints (tree_size),
	line      BLOB    NOT NULL,
	PRIMARY KEY (tree_size, line)
) STRICT, WITHOUT ROWID;
