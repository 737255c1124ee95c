package postgres

// BUG(store): one process appends to a database's log at a time (Options.LogWriter, which
// caucus serve sets): the transparency log's tree, its signer and the tally follow the log in
// that process's memory. Appends from several handles are correct in the database (the log
// head's row lock, unique report IDs), which is what a sequencer shared by several nodes will
// build on, but only the writer's results and checkpoints would follow them.

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
