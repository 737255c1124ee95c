package sqlite

// BUG(store): the triggers refuse UPDATE and DELETE on entries and audit through SQL, but anyone
// who can write the file can DROP a trigger or rewrite pages. The append-only promise against
// the file's owner is the transparency log's (package tlog), not this package's.

// BUG(store): a failed commit whose error is ambiguous (fsync failed after the WAL frames were
// written, spec/reliability.md D3/D4) is returned as an error like any other; the caller must
// treat the store as failed-closed and let clients retry by report_id. The store does not
// restart itself or re-open the file after an fsync error.

// BUG(store): Append is serialized on one connection for the whole process, so one slow batch
// (a big one, or a disk stall) delays every other write, logins' throttle updates included.
