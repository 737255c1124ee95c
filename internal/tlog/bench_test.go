package tlog

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/store/sqlite"
	"caucus/internal/tlog/c2sp"
)

// benchLog is a log of n entries in a real SQLite store, its tree folded in.
func benchLog(b *testing.B, n int64) *Log {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	lg, err := Open(ctx, Config{Store: db, Origin: "caucus.example/bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := lg.Append(entries(0, n)...); err != nil {
		b.Fatal(err)
	}
	if err := lg.Sign(ctx); err != nil {
		b.Fatal(err)
	}
	return lg
}

// BenchmarkSign is one checkpoint of a 2020-size log: the root hash, the Ed25519 signature and
// the compare-and-swap of the stored note (a durable SQLite write), as Run does at most once
// per CheckpointInterval.
func BenchmarkSign(b *testing.B) {
	lg := benchLog(b, 2000)
	ctx := context.Background()
	next := int64(2000)
	b.ReportAllocs()
	for b.Loop() {
		if err := lg.Append(entries(next, next+1)...); err != nil {
			b.Fatal(err)
		}
		next++
		if err := lg.Sign(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashTile is serving one full hash tile (level 0) of a national-size log from memory.
func BenchmarkHashTile(b *testing.B) {
	lg := benchLog(b, 175_000)
	tiles := tlog.NewTiles(c2sp.TileHeight, 0, 175_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t := tiles[i%len(tiles)]
		i++
		if _, ok := lg.HashTile(t); !ok {
			b.Fatalf("no tile %v", t)
		}
	}
}
