// Package tlog is the server side of caucus's transparency log: every entry of the store (a
// report, a correction, a review decision) is a leaf of an RFC 6962 Merkle tree over its exact
// stored bytes; the integrator (Log) folds new entries into the tree's stored hashes, serves hash
// tiles and entry bundles as C2SP tlog-tiles says, and signs checkpoints (C2SP tlog-checkpoint)
// as C2SP signed notes with the election's Ed25519 log key.
//
// The tree arithmetic, proofs and tiles are golang.org/x/mod/sumdb/tlog and the signed notes are
// golang.org/x/mod/sumdb/note: the Go checksum database's code, also used by sunlight. What this
// package adds is the C2SP spelling that x/mod predates (checkpoint text with an origin line,
// "tile/<L>/<N>" paths without the height, "tile/entries/" bundles of uint16-length-prefixed
// entries) and the rule that a log never signs a checkpoint inconsistent with the last one: the
// latest signed note is kept in the store and replaced only by compare-and-swap
// (store.SwapValue), after checking that the new tree extends the old one.
//
// The signing key is created with the election (CreateValue, so two nodes agree on the first)
// and lives only in the store: it is never returned by an exported method, written to a log line
// or served. VerifierKey is the public half.
//
// It is not the independent verifier (internal/verify), which parses what this package writes
// with its own code.
package tlog
