package tally

// Log names the transparency log (internal/tlog) that results are computed from, so that
// /api/v1/results says which checkpoint to check them against: log_root_hash is the root hash
// of the tree of log_size entries and log_public_key the log's note verifier key. Both depend
// only on the entries and the election's key, so results stay byte-identical across restarts.
type Log struct {
	PublicKey string
	// RootHash returns the standard-base64 root hash of the log's first size entries. The
	// tally calls it after Apply, so the log must already hold those entries.
	RootHash func(size int64) string
}
