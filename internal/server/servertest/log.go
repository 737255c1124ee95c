package servertest

import (
	"context"
	"encoding/base64"

	"net/http"
	"testing"

	"golang.org/x/mod/sumdb/note"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/election"
	"caucus/internal/store"
	"caucus/internal/tally"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
)

// checkLog is B0.2: every stored entry is a leaf of the log, the latest signed checkpoint's root
// is the root recomputed here from all leaves, and each checkpoint this Env saw is consistent
// with it. It returns what the results must say of the log, for the recount of B0.3.
func (env *Env) checkLog(entries []store.Entry) tally.Log {
	t := env.t
	t.Helper()
	ctx := context.Background()
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Errorf("B0.2: sign checkpoint: %v", err)
	}
	lg, root := logOf(t, env.DB, env.Def, entries)
	status, signed := env.Do("GET", "/log/checkpoint", "", nil)
	if status != http.StatusOK {
		t.Errorf("B0.2: GET /log/checkpoint: %d %s", status, signed)
		return tally.Log{}
	}
	n, err := note.Open(signed, note.VerifierList(lg.Verifier()))
	if err != nil {
		t.Errorf("B0.2: the checkpoint does not verify with the election's key: %v", err)
		return tally.Log{}
	}
	c, _, err := c2sp.ParseCheckpoint([]byte(n.Text))
	switch {
	case err != nil:
		t.Errorf("B0.2: %v", err)
	case c.N != int64(len(entries)):
		t.Errorf("B0.2: checkpoint of size %d, the log holds %d entries", c.N, len(entries))
	case c.Hash != root(c.N):
		t.Errorf("B0.2: checkpoint root %x, recomputed %x", c.Hash, root(c.N))
	}
	for _, old := range env.checkpoints {
		if old.N > int64(len(entries)) || old.Hash != root(old.N) {
			t.Errorf("B0.2: an earlier checkpoint (size %d, root %x) is not consistent with the log", old.N, old.Hash)
		}
	}
	env.checkpoints = append(env.checkpoints, c)
	return names(lg, root)
}

// LogNames is what published results must say of the log of st (its key, and the root hash of
// each size, recomputed here from the entries' bytes with x/mod's tlog), for tests that compare
// the published results with tally.RecountWithLog. key is the log's signer key when it is kept
// outside the store (caucus serve's key file); "" reads it from the store, as servertest keeps it.
func LogNames(t testing.TB, st store.Store, def *election.Definition, entries []store.Entry, key string) tally.Log {
	t.Helper()
	return names(logOfKey(t, st, def, entries, key))
}

func names(lg *tlog.Log, root func(int64) xtlog.Hash) tally.Log {
	return tally.Log{PublicKey: lg.VerifierKey(), RootHash: func(n int64) string {
		h := root(n)
		return base64.StdEncoding.EncodeToString(h[:])
	}}
}

// logOf opens the election's log in st (for its key) and recomputes the tree of the entries.
func logOf(t testing.TB, st store.Store, def *election.Definition, entries []store.Entry) (*tlog.Log, func(int64) xtlog.Hash) {
	t.Helper()
	return logOfKey(t, st, def, entries, "")
}

// logOfKey is logOf with the signer key given ("": the store's).
func logOfKey(t testing.TB, st store.Store, def *election.Definition, entries []store.Entry, key string) (*tlog.Log, func(int64) xtlog.Hash) {
	t.Helper()
	lg, err := tlog.Open(context.Background(), tlog.Config{Store: st, Origin: c2sp.Origin(def.Election().ID), Key: key})
	if err != nil {
		t.Fatalf("B0.2: open the log: %v", err)
	}
	var hashes []xtlog.Hash
	reader := xtlog.HashReaderFunc(func(idx []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		more, err := xtlog.StoredHashes(int64(i), e.Body, reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, more...)
	}
	return lg, func(n int64) xtlog.Hash {
		h, err := c2sp.TreeHash(n, reader)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}
