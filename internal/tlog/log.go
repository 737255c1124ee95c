package tlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/store"
	"caucus/internal/tlog/c2sp"
)

// Names of the log's values in the store.
const (
	KeyValue        = store.LogKeyValue        // the note signer key, when Config.Key does not give it
	CheckpointValue = store.LogCheckpointValue // the latest signed checkpoint note
)

// CheckpointInterval is how often Run signs a new checkpoint while entries arrive: C2SP logs
// (sunlight, tessera) sign about once a second; a quarter of that keeps a chair's wait for a
// receipt that is provably in a signed tree short, at one small store write per interval.
const CheckpointInterval = 250 * time.Millisecond

// Store is what a Log keeps in the election's store: the entries it serves as entry bundles, and
// two named values that only ever change by create-once and compare-and-swap, its signing key
// (KeyValue) and its latest signed checkpoint (CheckpointValue). store/sqlite implements it.
//
// Every method is safe for concurrent use, by this process and by other nodes sharing the store;
// a method that writes returns only after its write is durably committed.
type Store interface {
	// Entries returns the entries with from <= index < to, ordered by index, byte-exact; a
	// range beyond the log's end is cut at its size.
	Entries(ctx context.Context, from, to int64) ([]store.Entry, error)

	// CreateValue stores a named value if the name is new; an existing name returns an error
	// wrapping store.ErrExists and leaves it unchanged, so that two nodes racing to create the
	// key agree on the first.
	CreateValue(ctx context.Context, name string, value []byte) error

	// Value returns a named value, or an error wrapping store.ErrNotFound.
	Value(ctx context.Context, name string) ([]byte, error)

	// SwapValue replaces a named value only if it currently equals old; a current value other
	// than old, or a missing name, returns an error wrapping store.ErrConflict and changes
	// nothing.
	SwapValue(ctx context.Context, name string, old, new []byte) error
}

// Config sets up a Log.
type Config struct {
	Store  Store
	Origin string       // the checkpoint's first line and the key's name (c2sp.Origin)
	Log    *slog.Logger // nil: discard
	// Key is the note signer key, kept outside the store (a file of its own, or the
	// environment), so that a copy of the database cannot sign checkpoints; empty: the key is
	// the store's KeyValue, created on first use.
	Key string
}

// Log is one election's transparency log: the tree's stored hashes (kept in memory, rebuilt
// from the store's leaves at start-up), its key and its latest signed checkpoint. Its methods
// are safe for concurrent use.
type Log struct {
	st     Store
	origin string
	log    *slog.Logger
	signer note.Signer
	vkey   string
	wake   chan struct{}

	mu     sync.RWMutex
	hashes []tlog.Hash // stored hashes of the tree of size n (tlog.StoredHashIndex order)
	n      int64
	signed []byte // the latest signed checkpoint note
	head   c2sp.Checkpoint
}

// Open takes the log's key from Config.Key or else the store (creating it there on first use),
// and loads the latest signed checkpoint if there is one. The tree starts empty: feed it every
// stored entry with Append, then Sign.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	skey := cfg.Key
	if skey == "" {
		var err error
		if skey, err = loadKey(ctx, cfg.Store, cfg.Origin); err != nil {
			return nil, err
		}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("read log signing key: %w", err)
	}
	if signer.Name() != cfg.Origin {
		return nil, fmt.Errorf("the log key is for %q, not %q", signer.Name(), cfg.Origin)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, err
	}
	l := &Log{st: cfg.Store, origin: cfg.Origin, log: cfg.Log, signer: signer, vkey: vkey,
		wake: make(chan struct{}, 1)}
	signed, err := cfg.Store.Value(ctx, CheckpointValue)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read signed checkpoint: %w", err)
	default:
		c, err := l.open(signed)
		if err != nil {
			return nil, fmt.Errorf("the stored checkpoint does not verify: %w", err)
		}
		l.signed, l.head = signed, c
	}
	return l, nil
}

// loadKey returns the election's signer key, creating it when the store has none; when two
// nodes race, CreateValue keeps the first and both read it back.
func loadKey(ctx context.Context, st Store, origin string) (string, error) {
	skey, err := st.Value(ctx, KeyValue)
	if err == nil {
		return string(skey), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("read log signing key: %w", err)
	}
	fresh, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("generate log signing key: %w", err)
	}
	if err := st.CreateValue(ctx, KeyValue, []byte(fresh)); err != nil && !errors.Is(err, store.ErrExists) {
		return "", fmt.Errorf("store log signing key: %w", err)
	}
	skey, err = st.Value(ctx, KeyValue)
	if err != nil {
		return "", fmt.Errorf("read log signing key: %w", err)
	}
	return string(skey), nil
}

// verifierKey derives the public note verifier key from a signer key.
func verifierKey(skey string) (string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("read log signing key: %w", err)
	}
	pub, err := ed25519Public(skey)
	if err != nil {
		return "", err
	}
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return "", fmt.Errorf("derive log verifier key: %w", err)
	}
	return vkey, nil
}

// VerifierKey is the log's public key as a note verifier key: what verify --key takes.
func (l *Log) VerifierKey() string { return l.vkey }

// Verifier is the log's note verifier.
func (l *Log) Verifier() note.Verifier {
	v, err := note.NewVerifier(l.vkey)
	if err != nil {
		panic("tlog: own verifier key: " + err.Error())
	}
	return v
}

// open verifies a signed checkpoint note with the log's own key and parses it.
func (l *Log) open(signed []byte) (c2sp.Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(l.Verifier()))
	if err != nil {
		return c2sp.Checkpoint{}, err
	}
	c, _, err := c2sp.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return c2sp.Checkpoint{}, err
	}
	if c.Origin != l.origin {
		return c2sp.Checkpoint{}, fmt.Errorf("checkpoint origin %q, want %q", c.Origin, l.origin)
	}
	return c, nil
}

// Append folds entries into the tree: their indices must follow on from the tree's size (entries
// already in the tree are checked against it and skipped), and each stored leaf hash must be the
// hash of the stored bytes (SHA-256(0x00 ‖ body)), or nothing of the call is appended.
func (l *Log) Append(entries ...store.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	hashes, n := l.hashes, l.n
	for _, e := range entries {
		if e.Index < n && e.Index >= 0 { // already in the tree: given again after a failure
			if h := tlog.RecordHash(e.Body); h != hashes[tlog.StoredHashIndex(0, e.Index)] {
				return fmt.Errorf("log entry %d: its bytes hash to %x, the tree holds %x", e.Index, h, hashes[tlog.StoredHashIndex(0, e.Index)])
			}
			continue
		}
		if e.Index != n {
			return fmt.Errorf("log entry %d given at tree size %d", e.Index, n)
		}
		h := tlog.RecordHash(e.Body)
		if h != tlog.Hash(e.LeafHash) {
			return fmt.Errorf("log entry %d: its stored leaf hash %x is not the hash of its bytes %x", e.Index, e.LeafHash, h)
		}
		more, err := tlog.StoredHashesForRecordHash(n, h, l.reader(hashes))
		if err != nil {
			return fmt.Errorf("log entry %d: %w", e.Index, err)
		}
		hashes = append(hashes, more...)
		n++
	}
	l.hashes, l.n = hashes, n
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// reader reads stored hashes from a slice.
func (l *Log) reader(hashes []tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("stored hash %d not in a tree of %d hashes", x, len(hashes))
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
}

// Size is the number of entries in the tree.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.n
}

// RootHash is the root hash of the tree of size n ≤ Size, or false when the tree is not that big.
func (l *Log) RootHash(n int64) (tlog.Hash, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if n < 0 || n > l.n {
		return tlog.Hash{}, false
	}
	h, err := c2sp.TreeHash(n, l.reader(l.hashes))
	return h, err == nil
}

// Checkpoint is the latest signed checkpoint note and its body, or nil before the first Sign.
func (l *Log) Checkpoint() ([]byte, c2sp.Checkpoint) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.signed, l.head
}

// ErrInconsistent means the tree does not extend the checkpoint signed before: the log refuses to
// sign (a fork, or entries lost or altered in the store).
var ErrInconsistent = errors.New("the log is not consistent with its last signed checkpoint")

// Sign signs a checkpoint of the whole tree, unless the latest signed one already covers it.
// The store's checkpoint is replaced by compare-and-swap from the one this Log last read: if
// another node signed meanwhile, Sign reads its checkpoint, checks it is consistent with this
// tree, and adopts it when it is at least as large, or tries once more. It never signs a tree
// that does not extend the stored checkpoint (ErrInconsistent), nor a smaller one.
func (l *Log) Sign(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := l.signOnce(ctx)
		if !errors.Is(err, store.ErrConflict) || attempt == 2 {
			return err
		}
		stored, rerr := l.st.Value(ctx, CheckpointValue)
		if rerr != nil {
			return fmt.Errorf("couldn't sign checkpoint: %w (and re-reading it failed: %w)", err, rerr)
		}
		c, oerr := l.open(stored)
		if oerr != nil {
			return fmt.Errorf("couldn't sign checkpoint: the stored one does not verify: %w", oerr)
		}
		if err := l.checkExtends(c); err != nil {
			return err
		}
		l.mu.Lock()
		if c.N >= l.head.N {
			l.signed, l.head = stored, c
		}
		l.mu.Unlock()
	}
}

// checkExtends reports whether the tree extends c.
func (l *Log) checkExtends(c c2sp.Checkpoint) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if c.N > l.n {
		return nil // ahead of us: another node has more; Append will catch up
	}
	h, err := c2sp.TreeHash(c.N, l.reader(l.hashes))
	if err != nil {
		return fmt.Errorf("couldn't sign checkpoint: %w", err)
	}
	if h != c.Hash {
		return fmt.Errorf("%w: checkpoint of size %d has root %x, the log's root at that size is %x",
			ErrInconsistent, c.N, c.Hash, h)
	}
	return nil
}

func (l *Log) signOnce(ctx context.Context) error {
	l.mu.RLock()
	n, old, head := l.n, l.signed, l.head
	var root tlog.Hash
	var rerr error
	if old == nil || n > head.N {
		root, rerr = c2sp.TreeHash(n, l.reader(l.hashes))
	}
	l.mu.RUnlock()
	if old != nil && n <= head.N {
		return l.checkExtends(head) // nothing new to sign; still refuse a diverged tree
	}
	if rerr != nil {
		return fmt.Errorf("couldn't sign checkpoint: %w", rerr)
	}
	if old != nil {
		if err := l.checkExtends(head); err != nil {
			return err
		}
	}
	c := c2sp.Checkpoint{Origin: l.origin, N: n, Hash: root}
	signed, err := note.Sign(&note.Note{Text: string(c.Marshal())}, l.signer)
	if err != nil {
		return fmt.Errorf("couldn't sign checkpoint: %w", err)
	}
	if old == nil {
		err = l.st.CreateValue(ctx, CheckpointValue, signed)
		if errors.Is(err, store.ErrExists) {
			err = fmt.Errorf("%w: another node signed the first checkpoint", store.ErrConflict)
		}
	} else {
		err = l.st.SwapValue(ctx, CheckpointValue, old, signed)
	}
	if err != nil {
		return fmt.Errorf("couldn't store checkpoint of size %d: %w", n, err)
	}
	l.mu.Lock()
	if bytes.Equal(l.signed, old) {
		l.signed, l.head = signed, c
	}
	l.mu.Unlock()
	return nil
}

// Adopt reads the checkpoint stored by the node that signs (on a store several nodes share,
// one signs and the others serve its checkpoints) and makes it this Log's latest when it is
// larger. A checkpoint beyond the tree is not adopted: Adopt returns its size, for the caller
// to feed the tree that far and call again (0 otherwise). A stored checkpoint that does not
// verify, or that the tree does not extend, is an error (ErrInconsistent: a fork).
func (l *Log) Adopt(ctx context.Context) (need int64, err error) {
	stored, err := l.st.Value(ctx, CheckpointValue)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read signed checkpoint: %w", err)
	}
	c, err := l.open(stored)
	if err != nil {
		return 0, fmt.Errorf("the stored checkpoint does not verify: %w", err)
	}
	if c.N > l.Size() {
		return c.N, nil
	}
	if err := l.checkExtends(c); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signed == nil || c.N > l.head.N {
		l.signed, l.head = stored, c
	}
	return 0, nil
}

// Run signs a checkpoint whenever entries were appended, at most once per CheckpointInterval,
// until ctx is done. A failure is logged and tried again at the next interval.
func (l *Log) Run(ctx context.Context) {
	t := time.NewTicker(CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		if err := l.Sign(ctx); err != nil && ctx.Err() == nil {
			l.log.ErrorContext(ctx, "couldn't sign checkpoint", slog.String("origin", l.origin), slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// HashTile is the data of a hash tile (t.L ≥ 0) of the tree, or false when the tree does not
// hold that much of the tile yet.
func (l *Log) HashTile(t tlog.Tile) ([]byte, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if t.L < 0 || t.H != c2sp.TileHeight || tileEnd(t) > l.n {
		return nil, false
	}
	data, err := tlog.ReadTileData(t, l.reader(l.hashes))
	if err != nil {
		return nil, false
	}
	return data, true
}

// tileEnd is the tree size a tile needs: the leaves under its last hash.
func tileEnd(t tlog.Tile) int64 {
	if t.L >= 8 {
		return 1 << 62 // beyond any caucus log
	}
	return (t.N<<c2sp.TileHeight + int64(t.W)) << (c2sp.TileHeight * t.L)
}

// EntryBundle is the entry bundle of tile t (t.L == c2sp.EntriesLevel): its entries' stored bytes,
// read from the store, each prefixed with its length; false when the tree does not hold them.
func (l *Log) EntryBundle(ctx context.Context, t tlog.Tile) ([]byte, bool, error) {
	from, to := t.N*c2sp.TileWidth, t.N*c2sp.TileWidth+int64(t.W)
	if t.L != c2sp.EntriesLevel || to > l.Size() {
		return nil, false, nil
	}
	es, err := l.st.Entries(ctx, from, to)
	if err != nil {
		return nil, false, fmt.Errorf("read entries %d to %d: %w", from, to, err)
	}
	var b []byte
	for _, e := range es {
		if b, err = c2sp.AppendBundleEntry(b, e.Body); err != nil {
			return nil, false, fmt.Errorf("entry %d: %w", e.Index, err)
		}
	}
	return b, true, nil
}

// ed25519Public reads the public key out of a note signer key, which x/mod does not expose: the
// key is "PRIVATE+KEY+<name>+<hash>+<base64(alg ‖ seed)>" with alg 1 for Ed25519.
func ed25519Public(skey string) (ed25519.PublicKey, error) {
	parts := strings.SplitN(skey, "+", 5) // the base64 key may hold a +
	if len(parts) != 5 {
		return nil, errors.New("read log signing key: malformed")
	}
	b, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(b) != 1+ed25519.SeedSize || b[0] != 1 {
		return nil, errors.New("read log signing key: not an Ed25519 key")
	}
	return ed25519.NewKeyFromSeed(b[1:]).Public().(ed25519.PublicKey), nil
}

// Prove is the inclusion proof of entry index in the tree of size n ≤ Size, and its leaf hash.
func (l *Log) Prove(index, n int64) (tlog.RecordProof, tlog.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if n > l.n || index < 0 || index >= n {
		return nil, tlog.Hash{}, fmt.Errorf("entry %d is not in a tree of size %d", index, n)
	}
	r := l.reader(l.hashes)
	p, err := tlog.ProveRecord(n, index, r)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("prove entry %d in tree of size %d: %w", index, n, err)
	}
	leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return nil, tlog.Hash{}, err
	}
	return p, leaf[0], nil
}
