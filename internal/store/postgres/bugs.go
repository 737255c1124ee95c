package postgres

// BUG(store): Watch's notifications are lost while its connection is down (PostgreSQL keeps no
// backlog for a listener that left); a node learns of the appends made meanwhile when it
// listens again (Watch's first call of f), or from its own poll of Size, not before.

// BUG(store): DeleteSecretValue rewrites the kv table's files (VACUUM FULL), but the deleted
// value's bytes stay in the server's write-ahead log until its segments are recycled, and in
// any WAL archive or base backup taken meanwhile. Move a key out before the database is backed
// up, or rotate it.

// BUG(store): the IDs of audit rows and call-back requests are taken under one advisory lock
// held until commit, so every transaction that writes an audit row (each Append batch, each
// audited login) waits for the one before it to commit. This is what keeps paging by ID exact;
// it is the audit trail's throughput limit on PostgreSQL, as the single writer is on SQLite.

// BUG(store): a commit whose acknowledgement is lost (the connection cut after COMMIT was sent)
// returns an error though the transaction may have committed; as on SQLite, callers retry by
// report_id. Appends do not hold prepared transactions or retry a commit themselves.
