-- peer_checkpoints holds, per peer gateway (its registry id), the largest
-- checkpoint of the peer's log this gateway verified in one of its
-- receipts: tree size, root hash and the signed note as received. Every
-- later checkpoint of that peer must be consistent with it, so that a peer
-- showing two histories of its log is caught across restarts.
CREATE TABLE peer_checkpoints (
	peer       TEXT   PRIMARY KEY,
	tree_size  BIGINT NOT NULL CHECK (tree_size > 0),
	root       BYTEA  NOT NULL CHECK (length(root) = 32),
	note       BYTEA  NOT NULL,
	updated_ns BIGINT NOT NULL
);
