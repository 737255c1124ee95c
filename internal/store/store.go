// Package store is the durable state of one election's caucus night: the append-only log of
// entries (reports, corrections, review decisions) with their log indices and RFC 6962 leaf
// hashes, the per-precinct state derived from it, the audit trail, named values (the log's key
// and checkpoint), call-back requests and worksheet photos. Its types and sentinels are shared
// by the consumers that keep these, each of which owns the small interface it needs (package
// auth's Store, for instance, for credentials, counters and sessions).
//
// It is not the caucus math (package rules), not the tally (package tally) and not the Merkle
// tree (package tlog): it stores bytes it is given and never parses a report body. It follows
// spec/interfaces.md ("A leaf of the log is the exact bytes of one entry … its hash is RFC 6962's
// SHA-256(0x00 ‖ entry)") and spec/reliability.md B1–B2 (acknowledge only after a durable commit;
// idempotent retries; conflicts kept, never replacing).
//
// The implementation is the subpackage sqlite; storetest holds the conformance suites an
// implementation passes, one per consumer's interface. All times are stored with millisecond
// precision and come from the implementation's injected clock unless a method takes them as
// arguments.
package store

import "context"

// Store is one election's night as the server, intake and tlog still take it whole; each of them
// is to own the smaller interface it needs instead, as package auth does. What an
// implementation must guarantee: every method is safe for concurrent use by many goroutines
// and, when several processes open the same database, by all of them together; the per-method
// notes say what is atomic. A method that writes returns only after its transaction is durably
// committed (for SQLite: WAL, synchronous=FULL); when it returns an error other than the ones it
// documents, the write may or may not have been committed (an ambiguous commit), so callers retry
// with the same idempotency key rather than assume either way. After Close every method returns
// an error wrapping ErrClosed. A canceled ctx aborts the call with ctx.Err() wrapped.
type Store interface {
	// Append stores a batch of entries in ONE transaction and returns one result per entry, in
	// order. It is how group commit works: the intake layer gathers concurrent submissions and
	// calls Append once per batch, so a batch shares one fsync.
	//
	// Each entry is resolved in order, seeing the effects of the entries before it in the same
	// batch (so the same report_id twice in one batch is one Appended and one Duplicate):
	//   - Appended: stored at the next log index; the precinct state moves per Transition.
	//   - Duplicate: an entry with this ReportID and byte-identical Body is already stored;
	//     nothing is stored and Result.Entry is the original (its index, hash and status).
	//   - ReportIDReused: an entry with this ReportID but a different Body is stored; nothing is
	//     appended and Result.Entry is the original; the rejected body is kept as evidence in
	//     the audit row (AuditReportIDReused).
	//   - Conflict: a report for a precinct that already has a counted entry. It IS appended
	//     (append-only: kept as evidence), its stored status is under_review, the precinct goes
	//     under_review with its conflict flag set, and the counted entry stays the first one.
	//   - SameContent: a report with a Content under a new ReportID, for a precinct whose counted
	//     entry has the same Content (the same numbers sent twice). Nothing is stored, the
	//     precinct state is unchanged and Result.Entry is the counted entry; the audit row
	//     (AuditReportDup) names both. Decided inside the transaction, so two such reports in
	//     one batch or in two racing batches are one Appended and one SameContent, never a
	//     Conflict.
	//   - Invalid: the NewEntry breaks a rule of its own (Validate, or a review naming an entry
	//     that is not a counted candidate); nothing is stored for it; Result.Err says why.
	// Exactly one audit row is written per entry, whatever its outcome, in the same transaction,
	// and the precinct state of every touched precinct is updated in it too.
	//
	// Durability: when Append returns a nil error, every Appended/Conflict entry is durable and
	// its index will never be reused or reassigned. When it returns an error nothing of the batch
	// is visible, unless the error is ambiguous (the commit may have happened); a retry of the
	// same batch then yields Duplicate for what was stored, so retrying is always safe.
	// Idempotence: by ReportID, as above; entries without a ReportID are not idempotent.
	// Concurrency: concurrent Append calls are serialized; indices are dense (0, 1, 2, …) in
	// commit order across all callers and processes. An empty batch returns (nil, nil).
	Append(ctx context.Context, batch []NewEntry) ([]AppendResult, error)

	// Size returns the number of entries in the log, which is also the next log index. It
	// reflects every Append that returned before Size was called.
	Size(ctx context.Context) (int64, error)

	// Entries returns the entries with from <= index < to, ordered by index, byte-exact. A range
	// beyond the log's end is cut at Size (so it may return fewer, or none). A negative from or
	// to < from returns an error wrapping ErrInvalid.
	Entries(ctx context.Context, from, to int64) ([]Entry, error)

	// EntryByReportID returns the entry stored under reportID, or an error wrapping ErrNotFound.
	EntryByReportID(ctx context.Context, reportID string) (Entry, error)

	// PrecinctEntries returns every entry of one precinct (reports, corrections, reviews),
	// ordered by index; none is not an error.
	PrecinctEntries(ctx context.Context, precinctID string) ([]Entry, error)

	// PrecinctState returns the derived state of one precinct, or an error wrapping ErrNotFound
	// when the log has no entry for it (the precinct is then not_reported).
	PrecinctState(ctx context.Context, precinctID string) (PrecinctState, error)

	// PrecinctStates returns the state of every precinct that has at least one entry, ordered
	// by precinct ID. It is one consistent snapshot, as of some log size it also returns.
	PrecinctStates(ctx context.Context) (states []PrecinctState, size int64, err error)

	// AddAudit appends one audit row (login attempts, log key creation …) and
	// returns it with its ID and time. Append writes its own rows; this is for everything else.
	// Not idempotent: each call is one row. Rows are never updated or deleted. A Kind outside
	// the closed list or a Detail that is not a JSON object returns an error wrapping ErrInvalid.
	AddAudit(ctx context.Context, a NewAudit) (AuditRecord, error)

	// Audit returns up to limit audit rows with ID > after, ordered by ID (IDs start at 1 and
	// only grow, so paging with the last ID seen never skips or repeats a row).
	Audit(ctx context.Context, after int64, limit int) ([]AuditRecord, error)

	// InitSettings creates the singleton settings row binding this database to one election.
	// Calling it again with the same ElectionID is a no-op returning the stored row (resume);
	// with another ElectionID it returns an error wrapping ErrConflict and the stored row, so a
	// database can never silently serve two elections.
	InitSettings(ctx context.Context, electionID string) (Settings, error)

	// Settings returns the singleton row, or an error wrapping ErrNotFound before InitSettings.
	Settings(ctx context.Context) (Settings, error)

	// CreateValue stores a named opaque value (e.g. the transparency log's signing key) if the name
	// is new; an existing name returns an error wrapping ErrExists and leaves it unchanged, so
	// that two processes racing to create a key agree on the first. Values never appear in audit
	// rows; callers must not log them.
	CreateValue(ctx context.Context, name string, value []byte) error

	// Value returns a named value, or an error wrapping ErrNotFound.
	Value(ctx context.Context, name string) ([]byte, error)

	// SwapValue replaces a named value only if it currently equals old (compare-and-swap: the
	// checkpoint rule that a log never signs two inconsistent heads). A current value other than
	// old, or a missing name, returns an error wrapping ErrConflict and changes nothing.
	SwapValue(ctx context.Context, name string, old, new []byte) error

	// DeleteSecretValue removes a named value and scrubs its bytes from the database's files:
	// once it returns, a copy of the files made afterwards holds none of them (for SQLite: the
	// row deleted, the file rebuilt by VACUUM, the WAL checkpointed and truncated). It is how a
	// secret that once lived in the store (the log's signing key) is moved out of it. A missing
	// name is not an error. It takes the database's write lock for as long as the rebuild
	// takes: for start-up and maintenance, not the night's hot path.
	DeleteSecretValue(ctx context.Context, name string) error

	// AddCallback stores a chair's call-back request and its AuditCallbackRequested row in one
	// transaction, and returns it with its ID and time. Not idempotent: each call is one request.
	// An empty PrecinctID, Phone or Actor, a Phone over 40 or a Note over 500 characters returns
	// an error wrapping ErrInvalid. A precinct that already has MaxCallbacksPerWindow requests
	// in the last CallbackWindow (by the store's clock) gets an error wrapping ErrQuota and
	// nothing is stored; the count and the insert are one transaction, across processes too.
	// Rows are never updated or deleted.
	AddCallback(ctx context.Context, c NewCallback) (Callback, error)

	// Callbacks returns up to limit call-back requests with ID > after, ordered by ID.
	Callbacks(ctx context.Context, after int64, limit int) ([]Callback, error)

	// PutPhoto stores a worksheet photo under the SHA-256 of its bytes (content-addressed) and
	// reports whether it was new. Storing the same bytes again is a no-op returning false
	// (idempotent); the AuditPhotoStored row is written, in the same transaction, only when new.
	// A hash that does not match Data, a content type other than image/jpeg or image/png, or a
	// size outside 1..MaxPhotoBytes returns an error wrapping ErrInvalid. A new photo that would
	// take its PrecinctID past MaxPhotosPerPrecinct photos or MaxPhotoBytesPerPrecinct bytes
	// returns an error wrapping ErrQuota and stores nothing (an empty PrecinctID, a staff
	// upload, has no quota); the check and the insert are one transaction.
	PutPhoto(ctx context.Context, p NewPhoto) (created bool, err error)

	// PhotoUsage returns how many photos, and how many bytes of them, are charged to a precinct
	// (what PutPhoto's quota counts), so that an upload past the quota can be refused before it
	// is read.
	PhotoUsage(ctx context.Context, precinctID string) (photos int, bytes int64, err error)

	// Photo returns the photo stored under sha256 (lowercase hex), or an error wrapping
	// ErrNotFound.
	Photo(ctx context.Context, sha256 string) (Photo, error)

	// AddHandCopy stores one operator's keying of an audited precinct's hand count and returns
	// it with its ID and time. An empty PrecinctID or Operator, or Counts that is not a JSON
	// object, returns an error wrapping ErrInvalid.
	AddHandCopy(ctx context.Context, c HandCopy) (HandCopy, error)

	// HandCopies returns every keying of one precinct's hand count, ordered by ID.
	HandCopies(ctx context.Context, precinctID string) ([]HandCopy, error)

	// Close waits for in-flight calls to finish, releases the database and makes every later
	// call fail with ErrClosed. Calling it again returns nil.
	Close() error
}
