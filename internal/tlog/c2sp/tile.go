package c2sp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Tiles are 256 hashes (or entries) wide: C2SP tlog-tiles' fixed height 8.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
)

// EntriesLevel is the Tile.L of an entry bundle ("tile/entries/…"), as x/mod's data tiles.
const EntriesLevel = -1

// ErrTilePath is wrapped by every error of ParseTilePath.
var ErrTilePath = errors.New("malformed tile path")

// TilePath is a tile's path under the log's prefix, C2SP tlog-tiles: "tile/<L>/<N>" for a hash
// tile, "tile/entries/<N>" for an entry bundle, and ".p/<W>" after a partial one, where <N> is
// written in groups of three digits, every group but the last prefixed by x
// ("x001/x234/067"). t.H must be TileHeight.
func TilePath(t tlog.Tile) string {
	level := "entries"
	if t.L != EntriesLevel {
		level = strconv.Itoa(t.L)
	}
	n := fmt.Sprintf("%03d", t.N%1000)
	for rest := t.N / 1000; rest > 0; rest /= 1000 {
		n = fmt.Sprintf("x%03d/", rest%1000) + n
	}
	p := "tile/" + level + "/" + n
	if t.W != TileWidth {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

// ParseTilePath reads a path TilePath writes, and only those: one path per tile.
func ParseTilePath(path string) (tlog.Tile, error) {
	bad := func(why string) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("%w %q: %s", ErrTilePath, path, why)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad("does not start with tile/")
	}
	level, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("no tile index")
	}
	t := tlog.Tile{H: TileHeight, W: TileWidth}
	if level == "entries" {
		t.L = EntriesLevel
	} else {
		l, err := strconv.Atoi(level)
		if err != nil || l < 0 || l > 63 || strconv.Itoa(l) != level {
			return bad("level is not a number from 0 to 63")
		}
		t.L = l
	}
	if i := strings.Index(rest, ".p/"); i >= 0 {
		w, err := strconv.Atoi(rest[i+3:])
		if err != nil || w < 1 || w >= TileWidth || strconv.Itoa(w) != rest[i+3:] {
			return bad("partial width is not a number from 1 to 255")
		}
		t.W, rest = w, rest[:i]
	}
	groups := strings.Split(rest, "/")
	if len(groups) > 7 {
		return bad("tile index too large")
	}
	for i, g := range groups {
		if i < len(groups)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad("an index group other than the last lacks its x")
			}
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return bad("an index group is not three digits")
		}
		d, _ := strconv.Atoi(g)
		t.N = t.N*1000 + int64(d)
	}
	if TilePath(t) != path {
		return bad("not in canonical form")
	}
	return t, nil
}

// MaxEntry bounds one entry of an entry bundle: its length is a uint16.
const MaxEntry = 1<<16 - 1

// ErrEntryBundle is wrapped by every error of AppendBundleEntry and ParseEntryBundle.
var ErrEntryBundle = errors.New("malformed entry bundle")

// AppendBundleEntry appends one entry to an entry bundle (C2SP tlog-tiles): its length as a
// big-endian uint16, then its bytes.
func AppendBundleEntry(bundle, entry []byte) ([]byte, error) {
	if len(entry) > MaxEntry {
		return nil, fmt.Errorf("%w: an entry of %d bytes does not fit", ErrEntryBundle, len(entry))
	}
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(entry)))
	return append(bundle, entry...), nil
}

// ParseEntryBundle splits an entry bundle into its entries, which alias bundle. When the bundle
// ends inside an entry (in its length or its bytes), it returns the entries before that one and
// an error wrapping ErrEntryBundle, so that a verifier can say which entry is cut. How many
// entries a bundle must hold is its tile's width, which the bundle does not say: the caller
// compares.
func ParseEntryBundle(bundle []byte) ([][]byte, error) {
	var entries [][]byte
	for rest := bundle; len(rest) > 0; {
		if len(rest) < 2 {
			return entries, fmt.Errorf("%w: entry %d: 1 byte of its 2-byte length", ErrEntryBundle, len(entries))
		}
		l := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+l {
			return entries, fmt.Errorf("%w: entry %d: %d of its %d bytes", ErrEntryBundle, len(entries), len(rest)-2, l)
		}
		entries = append(entries, rest[2:2+l:2+l])
		rest = rest[2+l:]
	}
	return entries, nil
}
