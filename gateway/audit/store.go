package audit

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// A Store persists the log: leaves, the tlog stored hashes, signed
// checkpoints and the recipients' inboxes.
//
// Implementations MUST serialise appends (also across processes sharing one
// database), MUST assign consecutive indexes with no gap or duplicate, and
// MUST commit a batch's leaves, their stored hashes and their deliveries in
// one durable transaction: when Append returns nil, all of it survives a
// crash; when it returns an error, none of it is visible. The audittest
// package is the conformance suite.
type Store interface {
	// Append appends the batch at the end of the log and returns the index
	// of its first leaf.
	Append(ctx context.Context, batch []Pending) (first int64, err error)
	// Size returns the number of leaves.
	Size(ctx context.Context) (int64, error)
	// ReadHashes returns the stored hashes at the given storage indexes
	// (see tlog.StoredHashIndex).
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// ReadLeaves returns the leaves with indexes in [start, end).
	ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error)
	// Query returns the records matching f in index order.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// SaveCheckpoint stores a signed checkpoint for a tree of the given size.
	SaveCheckpoint(ctx context.Context, size int64, note []byte) error
	// LatestCheckpoint returns the signed checkpoint with the largest size,
	// or nil if there is none.
	LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error)
	// Inbox returns up to limit undelivered-or-unacknowledged items for the
	// agency with a cursor greater than after, oldest first.
	Inbox(ctx context.Context, agency string, after int64, limit int) ([]InboxItem, error)
	// Ack acknowledges the agency's items up to and including cursor.
	Ack(ctx context.Context, agency string, cursor int64) error
	// Close releases the store.
	Close() error
}

// Pending is one entry waiting to be appended.
type Pending struct {
	// Leaf is the entry's canonical encoding (Entry.Marshal).
	Leaf []byte
	// Entry is the decoded entry, from which stores take their index columns.
	Entry *Entry
	// Deliveries go into recipients' inboxes in the same transaction.
	Deliveries []Delivery
}

// A Delivery is an item for one recipient's inbox.
type Delivery struct {
	Recipient string    // agency id
	Kind      string    // what Payload holds, e.g. "liaison.v1.Delivery"
	Payload   []byte    // opaque to the store: the transformed record
	Expires   time.Time // zero means never
}

// An InboxItem is a delivery as read back from an inbox.
type InboxItem struct {
	Cursor     int64
	Recipient  string
	AuditIndex int64
	Kind       string
	Payload    []byte
	Created    time.Time
	Expires    time.Time
}

// Filter selects log records. Zero fields match everything.
type Filter struct {
	From, To   time.Time // To is exclusive
	Agency     string    // requester, holder or a recipient
	Officer    string
	Subject    string // audit-domain pseudonym
	LegalBasis string
	Outcome    string
	RecordType string
	Action     string
	Start      int64 // only indexes >= Start
	Limit      int   // 0 means 1000
}

// A Record is a leaf with its index.
type Record struct {
	Index int64
	Leaf  []byte
	Entry *Entry
}
