package c2sp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its size and the root
// hash of the tree of that size. Our logs write no extension lines.
type Checkpoint struct {
	Origin string
	N      int64
	Hash   tlog.Hash
}

// Marshal is the checkpoint's text: origin, decimal size and base64 root hash, one per line.
func (c Checkpoint) Marshal() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.N, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ErrCheckpoint is wrapped by every error of ParseCheckpoint.
var ErrCheckpoint = errors.New("malformed checkpoint")

// maxCheckpoint bounds a checkpoint's text: an origin, a number, a hash and a few extensions.
const maxCheckpoint = 1 << 12

// ParseCheckpoint reads a checkpoint's text (the note's text, without signatures). It follows
// C2SP tlog-checkpoint strictly: a non-empty origin line, a decimal size with no sign or leading
// zero, a standard-base64 32-byte root hash, each ending in a newline; extension lines, which the
// spec allows, are returned but must be non-empty.
func ParseCheckpoint(text []byte) (Checkpoint, []string, error) {
	bad := func(format string, args ...any) (Checkpoint, []string, error) {
		return Checkpoint{}, nil, fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, args...)...)
	}
	if len(text) > maxCheckpoint {
		return bad("longer than %d bytes", maxCheckpoint)
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return bad("does not end with a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return bad("%d lines, want at least origin, size and root hash", len(lines))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" || strings.ContainsAny(c.Origin, "\x00\r\t") {
		return bad("empty or invalid origin line")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return bad("size %q is not a non-negative decimal number", lines[1])
	}
	c.N = n
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return bad("root hash %q is not 32 bytes of standard base64", lines[2])
	}
	copy(c.Hash[:], h)
	ext := lines[3:]
	for i, l := range ext {
		if l == "" {
			return bad("extension line %d is empty", i+1)
		}
	}
	if !bytes.Equal(text, append(c.Marshal(), extText(ext)...)) {
		return bad("not in canonical form")
	}
	return c, ext, nil
}

func extText(ext []string) []byte {
	var b []byte
	for _, l := range ext {
		b = append(b, l...)
		b = append(b, '\n')
	}
	return b
}

// EmptyHash is the RFC 6962 hash of the empty tree, SHA-256 of nothing (x/mod's TreeHash(0) is
// the zero hash instead, which no checkpoint should carry).
var EmptyHash = tlog.Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8,
	0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
	0x78, 0x52, 0xb8, 0x55}

// TreeHash is the root hash of the tree of size n: tlog.TreeHash, with RFC 6962's empty tree.
func TreeHash(n int64, r tlog.HashReader) (tlog.Hash, error) {
	if n == 0 {
		return EmptyHash, nil
	}
	return tlog.TreeHash(n, r)
}

// OriginPrefix is the first part of every election log's origin: caucus.example/<election-id>.
const OriginPrefix = "caucus.example/"

// Origin is the origin line of an election's log, which is also the name of its note key.
func Origin(electionID string) string { return OriginPrefix + electionID }
