// Package tlog is the server side of caucus's transparency log: every entry of the store (a
// report, a correction, a review decision) is a leaf of an RFC 6962 Merkle tree over its exact
// stored bytes; the integrator (Log) folds new entries into the tree's stored hashes, serves hash
// tiles and entry bundles, and signs checkpoints as C2SP signed notes with the election's Ed25519
// log key.
//
// The tree arithmetic, proofs and tiles are golang.org/x/mod/sumdb/tlog and the signed notes are
// golang.org/x/mod/sumdb/note: the Go checksum database's code, also used by sunlight. The C2SP
// spelling of what the log publishes (checkpoint text, tile paths, entry bundles) is the pure
// subpackage c2sp, which the independent verifier (internal/verify) reads the log with too. What
// this package adds is the rule that a log never signs a checkpoint inconsistent with the last
// one: the latest signed note is kept in the store and replaced only by compare-and-swap
// (Store.SwapValue), after checking that the new tree extends the old one.
//
// It asks of the store only the four methods of Store (entries, and named values created once
// or swapped), which store/sqlite implements directly.
//
// The signing key is created with the election (CreateValue, so two nodes agree on the first)
// and lives only in the store: it is never returned by an exported method, written to a log line
// or served. VerifierKey is the public half.
package tlog
