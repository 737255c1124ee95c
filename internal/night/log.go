package night

import (
	"context"
	"encoding/base64"
	"fmt"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/tally"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
)

// nightLog is a night's transparency log.
type nightLog struct{ *tlog.Log }

// openLog opens the election's log, creating its key with the election (logKey).
func openLog(ctx context.Context, cfg Config) (nightLog, error) {
	origin := c2sp.Origin(cfg.Def.Election().ID)
	key, err := logKey(ctx, cfg, origin)
	if err != nil {
		return nightLog{}, err
	}
	lg, err := tlog.Open(ctx, tlog.Config{Store: cfg.Store, Origin: origin, Log: cfg.Log, Key: key})
	if err != nil {
		return nightLog{}, fmt.Errorf("open transparency log: %w", err)
	}
	return nightLog{lg}, nil
}

// names is what the results say of the log: its key and the root hash of each size.
func (lg nightLog) names() tally.Log {
	return tally.Log{PublicKey: lg.VerifierKey(), RootHash: func(size int64) string {
		h, ok := lg.RootHash(size)
		if !ok {
			return ""
		}
		return base64.StdEncoding.EncodeToString(h[:])
	}}
}

// SignCheckpoint brings the log and the tally up to every entry stored so far and signs a
// checkpoint of them now (tests, and anyone who needs a checkpoint without waiting for the
// integrator's next interval).
func (n *Night) SignCheckpoint(ctx context.Context) error {
	size, err := n.store.Size(ctx)
	if err != nil {
		return fmt.Errorf("read log size: %w", err)
	}
	if err := n.follow(ctx, size); err != nil {
		return err
	}
	if err := n.tlog.Sign(ctx); err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	return nil
}

// Checkpoint is the latest signed checkpoint note and its body; the note is nil before the
// first signature.
func (n *Night) Checkpoint() ([]byte, c2sp.Checkpoint) { return n.tlog.Checkpoint() }

// HashTile is a tile of the log's hashes (C2SP tlog-tiles), and whether the log has it yet.
func (n *Night) HashTile(t xtlog.Tile) ([]byte, bool) { return n.tlog.HashTile(t) }

// EntryBundle is a tile of the log's entries (C2SP tlog-tiles), and whether the log has it yet.
func (n *Night) EntryBundle(ctx context.Context, t xtlog.Tile) ([]byte, bool, error) {
	return n.tlog.EntryBundle(ctx, t)
}

// Prove is the inclusion proof of entry index in the tree of size size, and its leaf hash.
func (n *Night) Prove(index, size int64) (xtlog.RecordProof, xtlog.Hash, error) {
	return n.tlog.Prove(index, size)
}

// VerifierKey is the log's public key, as a note verifier key.
func (n *Night) VerifierKey() string { return n.tlog.VerifierKey() }
