package tlog

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/store"
	"caucus/internal/store/sqlite"
	"caucus/internal/tlog/c2sp"
)

// store/sqlite is the store a Log runs on.
var _ Store = (*sqlite.DB)(nil)

// The signed-note example of C2SP signed-note (also x/mod's note example): our key handling
// must read it, so other tools' notes and ours are the same format.
const (
	vectorSigner   = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
	vectorVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	vectorNote     = "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n" +
		"\n" +
		"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

func TestSignedNoteVector(t *testing.T) {
	vkey, err := verifierKey(vectorSigner)
	if err != nil || vkey != vectorVerifier {
		t.Fatalf("verifierKey = %q, %v; want %q", vkey, err, vectorVerifier)
	}
	s, _ := note.NewSigner(vectorSigner)
	text := strings.SplitN(vectorNote, "\n\n", 2)[0] + "\n"
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil || string(signed) != vectorNote {
		t.Fatalf("signed:\n%s\nwant:\n%s", signed, vectorNote)
	}
}

// openStore opens a fresh SQLite store for a log test.
func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func entries(from, to int64) []store.Entry {
	var out []store.Entry
	for i := from; i < to; i++ {
		body := []byte(strings.Repeat("x", int(i%7)) + string(rune('a'+i%26)))
		out = append(out, store.Entry{Index: i, Body: body, LeafHash: store.LeafHash(body)})
	}
	return out
}

// TestTreeAgainstXMod folds entries one at a time and checks every size's root, tiles and
// proofs against x/mod's tlog computed from scratch (as its TestTree does).
func TestTreeAgainstXMod(t *testing.T) {
	ctx := context.Background()
	lg, err := Open(ctx, Config{Store: openStore(t, filepath.Join(t.TempDir(), "db")), Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	const max = 1000
	var ref []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = ref[x]
		}
		return out, nil
	})
	for _, e := range entries(0, max) {
		if err := lg.Append(e); err != nil {
			t.Fatal(err)
		}
		more, _ := tlog.StoredHashes(e.Index, e.Body, r)
		ref = append(ref, more...)
		n := e.Index + 1
		want, _ := tlog.TreeHash(n, r)
		if got, ok := lg.RootHash(n); !ok || got != want {
			t.Fatalf("size %d: root %x, x/mod %x", n, got, want)
		}
		for _, old := range []int64{1, n / 2, n - 1} {
			if old < 1 {
				continue
			}
			p, leaf, err := lg.Prove(old-1, n)
			if err != nil || leaf != tlog.RecordHash(entries(old-1, old)[0].Body) {
				t.Fatalf("prove %d in %d: %v", old-1, n, err)
			}
			if err := tlog.CheckRecord(p, n, want, old-1, leaf); err != nil {
				t.Fatalf("size %d: proof of %d: %v", n, old-1, err)
			}
		}
	}
	for _, tile := range tlog.NewTiles(c2sp.TileHeight, 0, max) {
		got, ok := lg.HashTile(tile)
		want, _ := tlog.ReadTileData(tile, r)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("tile %s differs from x/mod's", c2sp.TilePath(tile))
		}
	}
	if _, ok := lg.HashTile(tlog.Tile{H: c2sp.TileHeight, L: 0, N: 3, W: 233}); ok {
		t.Errorf("a tile beyond the tree was served")
	}
	if err := lg.Append(entries(max+1, max+2)...); err == nil {
		t.Errorf("a gap was accepted")
	}
	bad := entries(max, max+1)
	bad[0].Body = []byte("altered")
	if err := lg.Append(bad...); err == nil {
		t.Errorf("an entry whose bytes do not match its leaf hash was accepted")
	}
}

// TestTwoNodesOneStore is the server-side twin of reliability.md §B5: two logs on one store;
// each checkpoint update is a compare-and-swap, so a node with a stale view must refuse, and a
// node whose tree does not extend the stored checkpoint never signs.
func TestTwoNodesOneStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st1, st2 := openStore(t, path), openStore(t, path)
	a, err := Open(ctx, Config{Store: st1, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, Config{Store: st2, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	if a.VerifierKey() != b.VerifierKey() {
		t.Fatalf("two nodes made two keys: %s, %s", a.VerifierKey(), b.VerifierKey())
	}
	a.Append(entries(0, 10)...)
	b.Append(entries(0, 10)...)
	if err := a.Sign(ctx); err != nil {
		t.Fatal(err)
	}
	// b read no checkpoint yet: its create must lose to a's, and it adopts a's.
	if err := b.signOnce(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale node's first signature: %v, want ErrConflict", err)
	}
	if err := b.Sign(ctx); err != nil {
		t.Fatalf("b adopting a's checkpoint: %v", err)
	}
	a.Append(entries(10, 20)...)
	b.Append(entries(10, 15)...)
	if err := a.Sign(ctx); err != nil {
		t.Fatal(err)
	}
	// b's view (size 10) is stale: its swap from the size-10 note must be refused.
	if err := b.signOnce(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale swap: %v, want ErrConflict", err)
	}
	stored, _ := st1.Value(ctx, CheckpointValue)
	if signed, c := a.Checkpoint(); !bytes.Equal(stored, signed) || c.N != 20 {
		t.Errorf("stored checkpoint is not a's of size 20")
	}
	// A forked node: same key, different entries. It must refuse to sign over a's checkpoint.
	fork, err := Open(ctx, Config{Store: st2, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	forked := entries(0, 25)
	forked[3].Body = []byte("rewritten")
	forked[3].LeafHash = store.LeafHash(forked[3].Body)
	fork.Append(forked...)
	if err := fork.Sign(ctx); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("forked node signed: %v, want ErrInconsistent", err)
	}
	if now, _ := st1.Value(ctx, CheckpointValue); !bytes.Equal(now, stored) {
		t.Errorf("the forked node replaced the checkpoint")
	}
	// The key never appears in what the log hands out.
	skey, _ := st1.Value(ctx, KeyValue)
	priv := strings.Split(string(skey), "+")[4]
	if signed, _ := a.Checkpoint(); strings.Contains(string(signed), priv) || strings.Contains(a.VerifierKey(), priv) {
		t.Errorf("the private key leaks into a checkpoint or the verifier key")
	}
}

// TestAdopt: a Log that does not sign serves the checkpoint another Log of the same store
// signed: Adopt asks for the tree to reach it first, then takes it; a
// stored checkpoint the tree does not extend is refused.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "db"))
	leader, err := Open(ctx, Config{Store: st, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	follower, err := Open(ctx, Config{Store: st, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	if need, err := follower.Adopt(ctx); need != 0 || err != nil {
		t.Fatalf("Adopt before any checkpoint: %d, %v; want 0, nil", need, err)
	}
	if err := leader.Append(entries(0, 10)...); err != nil {
		t.Fatal(err)
	}
	if err := leader.Sign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := follower.Append(entries(0, 4)...); err != nil {
		t.Fatal(err)
	}
	if need, err := follower.Adopt(ctx); need != 10 || err != nil {
		t.Fatalf("Adopt behind the checkpoint: %d, %v; want 10, nil", need, err)
	}
	if signed, _ := follower.Checkpoint(); signed != nil {
		t.Fatalf("a checkpoint beyond the tree was adopted")
	}
	if err := follower.Append(entries(4, 12)...); err != nil {
		t.Fatal(err)
	}
	if need, err := follower.Adopt(ctx); need != 0 || err != nil {
		t.Fatalf("Adopt: %d, %v; want 0, nil", need, err)
	}
	signed, c := follower.Checkpoint()
	want, _ := leader.Checkpoint()
	if !bytes.Equal(signed, want) || c.N != 10 {
		t.Fatalf("adopted checkpoint of size %d:\n%s\nwant the leader's:\n%s", c.N, signed, want)
	}

	// A store whose checkpoint the tree does not extend: a fork.
	forked := entries(0, 10)
	forked[3].Body = []byte("forged")
	forked[3].LeafHash = store.LeafHash(forked[3].Body)
	other, err := Open(ctx, Config{Store: st, Origin: "caucus.example/t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Append(forked...); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Adopt(ctx); !errors.Is(err, ErrInconsistent) {
		t.Errorf("Adopt on a forked tree: %v, want ErrInconsistent", err)
	}
}
