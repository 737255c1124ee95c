// Package c2sp is the public spelling of caucus's transparency log: what the server writes and
// what a verifier reads, as the C2SP specifications say. It holds the checkpoint body (C2SP
// tlog-checkpoint: origin, size, root hash), the tile paths and entry bundles (C2SP tlog-tiles:
// "tile/<L>/<N>", "tile/entries/<N>", each entry prefixed by its uint16 length), the root hash
// of the empty tree, and the origin line an election's log carries.
//
// The tree arithmetic, proofs and tile contents are golang.org/x/mod/sumdb/tlog, and signed notes
// are golang.org/x/mod/sumdb/note: this package adds only what x/mod predates (x/mod writes the
// Go checksum database's "go.sum database tree" text, a height element in tile paths, and
// "data" tiles of newline-separated records). Its tests hold it to x/mod where the two overlap.
//
// It is pure: no I/O, clock, store or server, so that internal/tlog (the integrator and signer)
// and internal/verify (the independent checker) share one definition of the formats and nothing
// of each other. Every parser is strict: one spelling per value, so that what parses, written
// back, is the same bytes.
package c2sp
