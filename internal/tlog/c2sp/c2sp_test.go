package c2sp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// The checkpoint example of C2SP tlog-checkpoint.
func TestCheckpointVector(t *testing.T) {
	text := "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	c, ext, err := ParseCheckpoint([]byte(text))
	if err != nil || c.Origin != "example.com/behind-the-sofa" || c.N != 20852163 || len(ext) != 0 {
		t.Fatalf("ParseCheckpoint = %+v, %q, %v", c, ext, err)
	}
	if string(c.Marshal()) != text {
		t.Errorf("Marshal = %q", c.Marshal())
	}
	withExt := text + "a line\n"
	if _, ext, err := ParseCheckpoint([]byte(withExt)); err != nil || len(ext) != 1 {
		t.Errorf("with an extension line: %q, %v", ext, err)
	}
	for name, bad := range map[string]string{
		"empty":           "",
		"no newline":      strings.TrimSuffix(text, "\n"),
		"two lines":       "origin\n1\n",
		"empty origin":    "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"signed size":     "o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"leading zero":    "o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"negative":        "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"short hash":      "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
		"url base64":      "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
		"empty extension": text + "\n",
	} {
		if _, _, err := ParseCheckpoint([]byte(bad)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: err = %v, want ErrCheckpoint", name, err)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ext, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		// Property: what parses is canonical: written back, it is the same bytes.
		if out := append(c.Marshal(), extText(ext)...); !bytes.Equal(out, b) {
			t.Fatalf("parse → marshal changed %q to %q", b, out)
		}
		// Property: x/mod's reader of the checkpoint's predecessor (the Go checksum database's
		// tree note, whose first line is fixed where ours names the origin) reads the same size
		// and root hash.
		_, rest, _ := bytes.Cut(b, []byte("\n"))
		x, err := tlog.ParseTree(append([]byte(xmodTreeLine), rest...))
		if err != nil || x.N != c.N || x.Hash != c.Hash {
			t.Fatalf("%q: we read size %d root %x, x/mod reads %+v, %v", b, c.N, c.Hash, x, err)
		}
	})
}

// xmodTreeLine is the first line of x/mod's tree note, the Go checksum database's fixed origin.
const xmodTreeLine = "go.sum database tree\n"

// TestCheckpointAgainstXMod checks Marshal against x/mod's FormatTree, which writes the same
// size and root hash lines under a fixed first line, for sizes around every power of two.
func TestCheckpointAgainstXMod(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 255, 256, 257, 1 << 20, 1<<62 + 1} {
		h := tlog.RecordHash(fmt.Appendf(nil, "%d", n))
		c := Checkpoint{Origin: Origin("t"), N: n, Hash: h}
		want := strings.TrimPrefix(string(tlog.FormatTree(tlog.Tree{N: n, Hash: h})), xmodTreeLine)
		if got := strings.TrimPrefix(string(c.Marshal()), Origin("t")+"\n"); got != want {
			t.Errorf("size %d: Marshal writes %q after the origin, x/mod %q", n, got, want)
		}
		back, ext, err := ParseCheckpoint(c.Marshal())
		if err != nil || back != c || len(ext) != 0 {
			t.Errorf("size %d: ParseCheckpoint(Marshal) = %+v, %q, %v", n, back, ext, err)
		}
	}
}

// TestEmptyHash checks the empty tree's root against its definition, SHA-256 of nothing.
func TestEmptyHash(t *testing.T) {
	if EmptyHash != sha256.Sum256(nil) {
		t.Errorf("EmptyHash = %x, want SHA-256(\"\") %x", EmptyHash, sha256.Sum256(nil))
	}
	if h, err := TreeHash(0, nil); err != nil || h != EmptyHash {
		t.Errorf("TreeHash(0) = %x, %v", h, err)
	}
}

// TestTilePath checks our C2SP paths against x/mod's sumdb paths, which differ only in the height
// element and in naming entry bundles "data".
func TestTilePath(t *testing.T) {
	for _, n := range []int64{0, 1, 999, 1000, 1234067, 1e9, 123456789012} {
		for _, w := range []int{1, 17, 255, 256} {
			for _, l := range []int{EntriesLevel, 0, 1, 3} {
				tile := tlog.Tile{H: TileHeight, L: l, N: n, W: w}
				want := strings.Replace(strings.Replace(tile.Path(), "tile/8/", "tile/", 1), "tile/data/", "tile/entries/", 1)
				got := TilePath(tile)
				if got != want {
					t.Errorf("TilePath(%+v) = %q, x/mod says %q", tile, got, want)
				}
				back, err := ParseTilePath(got)
				if err != nil || back != tile {
					t.Errorf("ParseTilePath(%q) = %+v, %v", got, back, err)
				}
			}
		}
	}
	for _, bad := range []string{"tile/0/1", "tile/0/0001", "tile/0/x001", "tile/0/001/002", "tile/00/001",
		"tile/0/001.p/0", "tile/0/001.p/256", "tile/0/001.p/01", "tile/data/001", "tile/-1/001", "tile/0/x1000/001",
		"tiles/0/001", "tile/0/", "tile/entries/001.p/", "tile/0/x000/001"} {
		if _, err := ParseTilePath(bad); !errors.Is(err, ErrTilePath) {
			t.Errorf("ParseTilePath(%q) err = %v, want ErrTilePath", bad, err)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/x234/067.p/8", "tile/3/x999/999", "tile/0/001.p/255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tile, err := ParseTilePath(s)
		if err != nil {
			return
		}
		// Property: one path per tile, and x/mod agrees on what it names.
		if TilePath(tile) != s {
			t.Fatalf("%q parses to %+v, which is written %q", s, tile, TilePath(tile))
		}
		if tile.L >= 0 {
			x, err := tlog.ParseTilePath(strings.Replace(s, "tile/", "tile/8/", 1))
			if err != nil || x != tile {
				t.Fatalf("x/mod reads %q as %+v, %v; we read %+v", s, x, err, tile)
			}
		}
	})
}

// TestEntryBundle writes bundles of entries of every length class and reads them back, and
// checks that a bundle cut anywhere names the first entry it cuts.
func TestEntryBundle(t *testing.T) {
	entries := [][]byte{{}, []byte("a"), bytes.Repeat([]byte("b"), 255), bytes.Repeat([]byte("c"), 256), bytes.Repeat([]byte("d"), MaxEntry)}
	var bundle []byte
	var ends []int // where each entry's bytes end in bundle
	for _, e := range entries {
		var err error
		if bundle, err = AppendBundleEntry(bundle, e); err != nil {
			t.Fatalf("AppendBundleEntry(%d bytes): %v", len(e), err)
		}
		ends = append(ends, len(bundle))
	}
	got, err := ParseEntryBundle(bundle)
	if err != nil || len(got) != len(entries) {
		t.Fatalf("ParseEntryBundle = %d entries, %v; want %d", len(got), err, len(entries))
	}
	for i := range entries {
		if !bytes.Equal(got[i], entries[i]) {
			t.Errorf("entry %d: %d bytes back, want %d", i, len(got[i]), len(entries[i]))
		}
	}
	if _, err := AppendBundleEntry(nil, make([]byte, MaxEntry+1)); !errors.Is(err, ErrEntryBundle) {
		t.Errorf("an entry over MaxEntry: %v, want ErrEntryBundle", err)
	}
	for cut := 0; cut < len(bundle); cut++ {
		whole := 0 // entries wholly before the cut
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		got, err := ParseEntryBundle(bundle[:cut])
		if whole > 0 && cut == ends[whole-1] || cut == 0 {
			if err != nil || len(got) != whole {
				t.Fatalf("cut at %d, an entry boundary: %d entries, %v; want %d", cut, len(got), err, whole)
			}
			continue
		}
		if !errors.Is(err, ErrEntryBundle) || len(got) != whole || !strings.Contains(err.Error(), fmt.Sprintf("entry %d:", whole)) {
			t.Fatalf("cut at %d, inside entry %d: %d entries, %v", cut, whole, len(got), err)
		}
	}
}

func FuzzParseEntryBundle(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add([]byte{0, 3, 'a', 'b', 'c', 0, 1, 'd'})
	f.Add([]byte{0, 3, 'a', 'b'})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, perr := ParseEntryBundle(b)
		// Property: the entries read, written back, are the bundle: all of it without an error,
		// a strict prefix (the part before the cut entry) with one.
		var out []byte
		for _, e := range entries {
			var err error
			if out, err = AppendBundleEntry(out, e); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case !bytes.HasPrefix(b, out):
			t.Fatalf("%x: the entries read write %x, not a prefix", b, out)
		case perr == nil && len(out) != len(b):
			t.Fatalf("%x read without error, written back %x", b, out)
		case perr != nil && (len(out) == len(b) || !errors.Is(perr, ErrEntryBundle)):
			t.Fatalf("%x: error %v, yet the entries read write %x", b, perr, out)
		}
	})
}
