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
// crash; when it returns an error, none of it is visible. The size a batch
// is appended at MUST be read inside that transaction, never from a counter
// cached in the process. Stores compute the stored hashes with
// [StoredHashes]. Reads MUST NOT wait for an append to commit. Methods
// MUST be safe for concurrent use. The audittest package is the conformance
// suite.
type Store interface {
	// Append appends the batch at the end of the log and returns the index
	// of its first leaf. It MUST reject an empty batch, and a batch holding
	// a Pending with an empty Leaf or a nil Entry, appending none of it.
	Append(ctx context.Context, batch []Pending) (first int64, err error)
	// Size returns the number of leaves.
	Size(ctx context.Context) (int64, error)
	// ReadHashes returns the stored hashes at the given storage indexes
	// (see tlog.StoredHashIndex), in the order asked for. It returns an
	// error if any of them is not stored.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// ReadLeaves returns the leaves with indexes in [start, end). It returns
	// an error if the range is invalid or extends past the end of the log.
	ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error)
	// Stat returns the log's size and the numbers of leaves and stored
	// hashes actually held, read in one snapshot. A whole store holds
	// Size leaves and tlog.StoredHashCount(Size) hashes.
	Stat(ctx context.Context) (Stat, error)
	// Query returns the records matching f in index order (descending
	// with f.Descending), at most f.Limit of them. Stores MUST derive the values they select on
	// from the leaf alone (see [Index]), in the database, so that they
	// cannot be changed without changing the schema; MUST compare f,
	// normalized ([Filter.Normalize]), with those values; and MUST check
	// every record they select with [Filter.Recheck], failing with an
	// error wrapping [ErrTampered] rather than return or silently drop a
	// record that the index should not have selected. Query MUST also
	// fail with ErrTampered when the schema no longer derives the index
	// from the leaves.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// CheckIndex recomputes, from the leaves with indexes in [start, end),
	// every value Query selects on, and compares them with what the store
	// holds and indexes; it also checks the schema that derives them. It
	// returns nil if everything matches, and otherwise an error wrapping
	// [ErrTampered], an [*IndexError] naming the first entry and column
	// found to disagree where it can. It reads every leaf in the range.
	CheckIndex(ctx context.Context, start, end int64) error
	// SaveCheckpoint stores a signed checkpoint for a tree of the given size.
	// If one is already stored for that size, it keeps the stored one and
	// returns nil: replicas sharing a database may race to save the same size.
	SaveCheckpoint(ctx context.Context, size int64, note []byte) error
	// LatestCheckpoint returns the signed checkpoint with the largest size,
	// or nil if there is none.
	LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error)
	// Inbox returns up to limit unacknowledged, unexpired items for the
	// agency with a cursor greater than after, oldest first. If limit <= 0,
	// it returns up to 100. Cursors increase in commit order.
	Inbox(ctx context.Context, agency string, after int64, limit int) ([]InboxItem, error)
	// Ack acknowledges the agency's items up to and including cursor; Inbox
	// never returns them again. Other agencies' items are untouched. Stores
	// SHOULD drop the payloads of acknowledged items.
	Ack(ctx context.Context, agency string, cursor int64) error
	// MarkSent records that the items of each of the inboxes up to and
	// including cursor have been sent to a reader (Subscribe returned
	// them): Sent then returns at least cursor for each. A mark never
	// moves back (a lower cursor leaves it); a cursor < 1 is an error.
	MarkSent(ctx context.Context, cursor int64, inboxes ...string) error
	// Sent returns the greatest cursor MarkSent recorded for the inbox; 0
	// if none.
	Sent(ctx context.Context, inbox string) (int64, error)
	// Close releases the store. Calling it more than once is safe.
	Close() error
}

// Stat is what [Store.Stat] reports.
type Stat struct {
	Size   int64 // the largest leaf index plus one; 0 if there is none
	Leaves int64 // the number of leaves held
	Hashes int64 // the number of stored hashes held
}

// Pending is one entry waiting to be appended.
type Pending struct {
	// Leaf is the entry's canonical encoding (Entry.Marshal).
	Leaf []byte
	// Hash is the leaf's record hash, tlog.RecordHash(Leaf). The Log
	// computes it on the appender's goroutine, so that the store's one
	// writer does not; a store computes it when it is zero
	// ([RecordHashes]).
	Hash tlog.Hash
	// Entry is the decoded entry. Stores derive their index from Leaf,
	// not from Entry.
	Entry *Entry
	// Deliveries go into recipients' inboxes in the same transaction.
	Deliveries []Delivery
	// Fingerprints of the content the entry releases are stored in the
	// same transaction, already confirmed with the entry's index (see
	// [AftercareStore]). Their After is ignored.
	Fingerprints []Fingerprint
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
	AuditIndex int64 // index of the leaf that recorded the delivery
	Kind       string
	Payload    []byte
	Created    time.Time // when the delivery was committed
	Expires    time.Time // zero means never
}

// Filter selects log records. Zero fields match everything; set fields must
// all match.
type Filter struct {
	From, To   time.Time // To is exclusive
	Agency     string    // requester, holder or a recipient
	Officer    string    // Requester.Officer
	Subject    string    // audit-domain pseudonym (Subject.Pseudonym)
	LegalBasis string    // LegalBasis.ID, or ClaimedLegalBasis when the entry has no LegalBasis
	Outcome    string
	RecordType string
	Action     string
	Start      int64 // only indexes >= Start
	Limit      int   // 0 means 1000
	// Descending returns the matches with the greatest indexes first, in
	// descending index order (at most Limit of them): {Action: a,
	// Descending: true, Limit: 1} is the latest entry of action a. Stores
	// answer it from their index of the filtered column, not by walking
	// the log back from its end.
	Descending bool
}

// A Record is a leaf with its index.
type Record struct {
	Index int64
	Leaf  []byte
	Entry *Entry
}

// Decoded returns the record's entry: Entry, or else its leaf parsed. It
// fails for a leaf that is not an entry.
func (r Record) Decoded() (*Entry, error) {
	if r.Entry != nil {
		return r.Entry, nil
	}
	return Unmarshal(r.Leaf)
}
