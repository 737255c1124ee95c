// Package verify is the independent check a campaign runs against a caucus server (caucus
// verify, spec/interfaces.md): it reads only the public contract, through internal/client —
// the signed checkpoint (C2SP signed-note, tlog-checkpoint), the log's tiles and entry bundles
// (C2SP tlog-tiles), the election definition and the published results — and checks the
// signature, rebuilds the Merkle tree from the entries and compares it with the served hash
// tiles and the checkpoint, checks consistency with the checkpoint it saved last time (refusing
// a fork or a rollback and keeping both notes as evidence), recomputes every precinct with
// internal/rules and sums counties and the state itself, and compares every published number.
//
// It shares the caucus math (internal/rules) and the wire formats (internal/report,
// internal/election, internal/resultscsv, and the log's C2SP formats in internal/tlog/c2sp) with
// the server, and nothing else: it must not import store, server, intake, tally, the night core
// or the log's integrator internal/tlog (internal/boundary_test.go checks), so a bug on the
// server's path cannot hide itself here. Its tree code is golang.org/x/mod/sumdb/tlog and note,
// not ours; what it adds to them are the rules a log must keep and a verifier must enforce (one
// signature by the log's key, no extension lines, the election's origin, a tree that only grows).
// Each finding names the check, the record and both values (spec/reliability.md §B5).
package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/tlog/c2sp"
)

// Config is one verification.
type Config struct {
	Client *client.Client
	// Key is the log's note verifier key. Empty: the key the results publish, which checks the
	// log against itself but not against an impostor; with Key the verifier trusts nothing the
	// server says.
	Key string
	// CheckpointFile keeps the last good checkpoint between runs; empty: none.
	CheckpointFile string
	// Receipt, when set, is a chair's receipt to check.
	Receipt *report.Receipt
	// Out receives one line per thing checked.
	Out io.Writer
	// StaleAfter is how long the checkpoint may stay behind the published results (V11);
	// 0: DefaultStaleAfter.
	StaleAfter time.Duration
	Now        func() time.Time
}

// DefaultStaleAfter is well beyond the server's checkpoint interval (250 ms) and the C2SP
// custom of about a second: a checkpoint this far behind the results has stopped.
const DefaultStaleAfter = 5 * time.Second

// Finding is one thing not right: the check that failed, the record, and both values.
type Finding struct {
	Check      string // e.g. "signature", "leaf", "fork", "total"
	Record     string // e.g. "entry 12", "precinct p0003 candidate adams delegates"
	Published  string
	Recomputed string
	Detail     string // anything else worth saying
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s", f.Check, f.Record)
	if f.Published != "" || f.Recomputed != "" {
		s += fmt.Sprintf(": published %s, recomputed %s", f.Published, f.Recomputed)
	}
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

// Result is what a verification found.
type Result struct {
	Findings  []Finding
	TreeSize  int64
	Entries   int64 // entries recomputed (the results' log_size)
	Precincts int   // precincts compared
	Counties  int
	Evidence  string // where a fork's evidence was written, if any
}

// OK reports whether nothing was found.
func (r *Result) OK() bool { return len(r.Findings) == 0 }

type run struct {
	cfg  Config
	res  *Result
	out  io.Writer
	hash []tlog.Hash
	n    int64
	// policy is the publication policy the results say they follow (results.Policy): whether a
	// precinct under review is in the totals.
	policy results.Policy
}

func (v *run) find(f Finding) { v.res.Findings = append(v.res.Findings, f) }

func (v *run) say(format string, args ...any) { fmt.Fprintf(v.out, "  ok  "+format+"\n", args...) }

// Attempts bounds how often Run tries to read the server before giving up: a server under a
// caucus-night peak may answer 503 or 429 with Retry-After, or drop a connection; a verifier
// that fails at once would fail exactly when it matters. Consistency needs no retry: every
// results document names the log size it was computed from, and each is checked against the
// tree of that size.
const Attempts = 4

// retryBackoff is the pause before the first retry, doubled at each further one (0.5+1+2 s):
// longer than the server's checkpoint interval and shorter than a chair's patience.
const retryBackoff = 500 * time.Millisecond

// Run verifies once. Its error means the verification could not be done (the server did not
// answer, a document is missing): nothing is known. Findings are in the Result. A read the
// server refuses for now (429, 502–504, a dropped connection) is tried again from the start,
// up to Attempts times.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	wait := retryBackoff
	for attempt := 1; ; attempt++ {
		v := &run{cfg: cfg, res: &Result{}, out: cfg.Out}
		res, err := v.run(ctx)
		if err == nil || !temporary(err) || attempt == Attempts || ctx.Err() != nil {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return res, err
		}
		fmt.Fprintf(cfg.Out, "  ..  %v: trying again in %s (attempt %d of %d)\n", err, wait, attempt+1, Attempts)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// temporary reports whether a failed read is worth trying again.
func temporary(err error) bool {
	var se *client.StatusError
	if errors.As(err, &se) {
		switch se.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// run is one attempt. It reads the published results first, each document with the log size it
// names, then a checkpoint at least that large (V11: waiting at most StaleAfter for it), rebuilds
// the tree, and checks every document against the entries below its own log size: reports that
// arrive while verify reads are no reason to stop.
func (v *run) run(ctx context.Context) (*Result, error) {
	cfg := v.cfg
	c := cfg.Client
	docs, err := fetchDocs(ctx, c)
	if err != nil {
		return nil, err
	}
	results := docs.results
	key := cfg.Key
	if key == "" {
		key = results.LogPublicKey
		if key == "" {
			return nil, errors.New("the results publish no log_public_key: give the log's key with --key")
		}
	} else if results.LogPublicKey != "" && results.LogPublicKey != key {
		v.find(Finding{Check: "key", Record: "log_public_key in /api/v1/results", Published: results.LogPublicKey, Recomputed: key, Detail: "the results name another key than --key"})
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("the log key %q is not a note verifier key: %w", key, err)
	}
	signed, cp, ok, err := v.checkpoint(ctx, verifier, results.ElectionID)
	if err != nil || !ok {
		return v.res, err
	}
	saved, err := v.loadSaved(verifier)
	if err != nil {
		return nil, err
	}
	if saved != nil && saved.cp.N > cp.N {
		v.find(Finding{Check: "rollback", Record: "checkpoint tree size", Published: strconv.FormatInt(cp.N, 10),
			Recomputed: fmt.Sprintf("%d seen before (%s)", saved.cp.N, cfg.CheckpointFile), Detail: "a log never shrinks"})
		return v.res, nil
	}
	// V11: the checkpoint must catch up with the results within StaleAfter.
	need, what := docs.maxSize()
	if signed, cp, ok, err = v.catchUp(ctx, verifier, docs, signed, cp, need, what); err != nil || !ok {
		return v.res, err
	}
	v.res.TreeSize = cp.N
	v.say("checkpoint signed by %s: tree size %d, root %s", verifier.Name(), cp.N, b64(cp.Hash))
	bodies, err := v.tree(ctx, cp)
	if err != nil {
		return nil, err
	}
	if !v.res.OK() {
		return v.res, nil
	}
	if saved != nil {
		if !v.consistent(saved, signed, cp) {
			return v.res, nil
		}
		v.say("consistent with the checkpoint saved in %s (size %d)", cfg.CheckpointFile, saved.cp.N)
	}
	if cfg.CheckpointFile != "" {
		if err := writeFile(cfg.CheckpointFile, signed); err != nil {
			return nil, fmt.Errorf("save checkpoint: %w", err)
		}
	}
	// The pages, read after the log so that a tampered log fails fast; reports that arrived
	// meanwhile need a newer checkpoint, which must extend the one just checked.
	if err := docs.fetchPages(ctx, c); err != nil {
		return nil, err
	}
	if need, what := docs.maxSize(); need > cp.N {
		first := &savedCheckpoint{note: signed, cp: cp}
		if signed, cp, ok, err = v.catchUp(ctx, verifier, docs, signed, cp, need, what); err != nil || !ok {
			return v.res, err
		}
		v.hash, v.n = nil, 0
		if bodies, err = v.tree(ctx, cp); err != nil || !v.res.OK() {
			return v.res, err
		}
		v.res.TreeSize = cp.N
		if !v.consistent(first, signed, cp) {
			return v.res, nil
		}
		v.say("reports arrived while verify read: checkpoint of size %d, consistent with the one of size %d", cp.N, first.cp.N)
		if cfg.CheckpointFile != "" {
			if err := writeFile(cfg.CheckpointFile, signed); err != nil {
				return nil, fmt.Errorf("save checkpoint: %w", err)
			}
		}
	}
	if root, _ := c2sp.TreeHash(results.LogSize, v.reader()); b64(root) != results.LogRootHash {
		v.find(Finding{Check: "results root", Record: fmt.Sprintf("/api/v1/results log_root_hash of log_size %d", results.LogSize),
			Published: results.LogRootHash, Recomputed: b64(root)})
	} else {
		v.say("results computed from the first %d entries, root %s", results.LogSize, results.LogRootHash)
	}
	if cfg.Receipt != nil {
		v.receipt(cfg.Receipt, cp, bodies)
	}
	v.recount(docs, bodies)
	return v.res, nil
}

// catchUp fetches checkpoints until one covers the log size need the documents name, for at
// most StaleAfter (V11: a checkpoint that stops advancing while the results keep changing).
// ok is false when a finding was recorded.
func (v *run) catchUp(ctx context.Context, verifier note.Verifier, d *docs, signed []byte, cp c2sp.Checkpoint, need int64, what string) ([]byte, c2sp.Checkpoint, bool, error) {
	fetched := v.cfg.Now()
	for cp.N < need {
		if v.cfg.Now().Sub(fetched) > v.cfg.StaleAfter {
			upd := "never"
			if d.results.UpdatedAt != nil {
				upd = *d.results.UpdatedAt
			}
			v.find(Finding{Check: "stale checkpoint", Record: "checkpoint size vs results log_size",
				Published:  fmt.Sprintf("log_size %d in %s (results updated_at %s)", need, what, upd),
				Recomputed: fmt.Sprintf("checkpoint size %d, not advancing since %s (%s)", cp.N, fetched.UTC().Format(time.RFC3339), v.cfg.StaleAfter)})
			return signed, cp, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, cp, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		var ok bool
		var err error
		if signed, cp, ok, err = v.checkpoint(ctx, verifier, d.results.ElectionID); err != nil || !ok {
			return signed, cp, false, err
		}
	}
	return signed, cp, true, nil
}

// checkpoint fetches and opens the signed checkpoint. ok is false when a finding was recorded.
func (v *run) checkpoint(ctx context.Context, verifier note.Verifier, electionID string) ([]byte, c2sp.Checkpoint, bool, error) {
	signed, err := v.cfg.Client.Checkpoint(ctx)
	if err != nil {
		return nil, c2sp.Checkpoint{}, false, err
	}
	cp, f := openCheckpoint(signed, verifier)
	if f == nil && electionID != "" && cp.Origin != c2sp.Origin(electionID) {
		f = &Finding{Check: "origin", Record: "checkpoint origin line", Published: strconv.Quote(cp.Origin), Recomputed: strconv.Quote(c2sp.Origin(electionID))}
	}
	if f != nil {
		v.find(*f)
		return signed, cp, false, nil
	}
	return signed, cp, true, nil
}

// openCheckpoint verifies a signed note (C2SP signed-note) with the log's key, then reads the
// checkpoint (C2SP tlog-checkpoint) and returns the rule that failed, if one did. Beyond what
// note.Open and c2sp.ParseCheckpoint check, it refuses a note that repeats a signature line or
// a key, a checkpoint with extension lines (this log writes none), and an origin other than
// the key's name.
func openCheckpoint(signed []byte, verifier note.Verifier) (c2sp.Checkpoint, *Finding) {
	bad := func(rule, detail string) (c2sp.Checkpoint, *Finding) {
		return c2sp.Checkpoint{}, &Finding{Check: "signed note", Record: rule, Detail: detail}
	}
	if i := bytes.LastIndex(signed, []byte("\n\n")); i >= 0 {
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(string(signed[i+2:]), "\n"), "\n") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
			if seen[line] || seen[name] && name == verifier.Name() {
				return bad("duplicated signature lines", fmt.Sprintf("key %s signs twice", name))
			}
			seen[line], seen[name] = true, true
		}
	}
	n, err := note.Open(signed, note.VerifierList(verifier))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		var names []string
		for _, s := range unverified.Note.UnverifiedSigs {
			names = append(names, s.Name)
		}
		return bad("no signature by the log's key", fmt.Sprintf("want %s, signed only by %s", verifier.Name(), strings.Join(names, ", ")))
	case errors.As(err, &invalid):
		return bad("bad signature", fmt.Sprintf("the signature by %s does not verify", invalid.Name))
	case err != nil:
		return bad("malformed note", err.Error())
	}
	cp, ext, err := c2sp.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return bad("malformed checkpoint", err.Error())
	}
	if len(ext) > 0 {
		return bad("extension lines", fmt.Sprintf("the checkpoint has %d lines after its root hash; this log writes none", len(ext)))
	}
	if cp.Origin != verifier.Name() {
		return cp, &Finding{Check: "origin", Record: "checkpoint origin line", Published: strconv.Quote(cp.Origin), Recomputed: strconv.Quote(verifier.Name()), Detail: "the origin must be the key's name"}
	}
	return cp, nil
}

type savedCheckpoint struct {
	note []byte
	cp   c2sp.Checkpoint
}

// loadSaved reads the checkpoint saved by an earlier run; none is not an error.
func (v *run) loadSaved(verifier note.Verifier) (*savedCheckpoint, error) {
	if v.cfg.CheckpointFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(v.cfg.CheckpointFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read saved checkpoint: %w", err)
	}
	cp, f := openCheckpoint(b, verifier)
	if f != nil {
		return nil, fmt.Errorf("the checkpoint saved in %s does not verify with this key: %s", v.cfg.CheckpointFile, f)
	}
	return &savedCheckpoint{note: b, cp: cp}, nil
}

// consistent checks that the tree extends the saved checkpoint (the tree was rebuilt from the
// entries, so the root at the saved size is recomputed, not taken from a proof the server
// chose); on a fork it writes both signed notes to CheckpointFile + ".fork" as evidence.
func (v *run) consistent(saved *savedCheckpoint, signed []byte, cp c2sp.Checkpoint) bool {
	root, err := c2sp.TreeHash(saved.cp.N, v.reader())
	if err == nil && root == saved.cp.Hash {
		// The consistency proof a witness would check, from our own tree.
		if p, err := tlog.ProveTree(cp.N, saved.cp.N, v.reader()); err == nil && saved.cp.N > 0 {
			if err := tlog.CheckTree(p, cp.N, cp.Hash, saved.cp.N, saved.cp.Hash); err != nil {
				v.find(Finding{Check: "consistency proof", Record: fmt.Sprintf("tree %d → %d", saved.cp.N, cp.N), Detail: err.Error()})
				return false
			}
		}
		return true
	}
	evidence := v.cfg.CheckpointFile + ".fork"
	var b bytes.Buffer
	fmt.Fprintf(&b, "SECURITY ERROR: the log forks from a checkpoint seen before.\n\n# saved (size %d)\n%s\n# served (size %d), whose tree has root %s at size %d\n%s",
		saved.cp.N, saved.note, cp.N, b64(root), saved.cp.N, signed)
	if v.cfg.CheckpointFile == "" {
		evidence = "not written: no checkpoint file; the notes follow\n" + b.String()
	} else if err := writeFile(evidence, b.Bytes()); err != nil {
		evidence = "not written: " + err.Error()
	}
	v.res.Evidence = evidence
	v.find(Finding{Check: "SECURITY ERROR: fork", Record: fmt.Sprintf("root of the tree at size %d", saved.cp.N),
		Published:  fmt.Sprintf("%s (served checkpoint of size %d)", b64(root), cp.N),
		Recomputed: fmt.Sprintf("%s (saved checkpoint)", b64(saved.cp.Hash)), Detail: "both signed notes kept in " + evidence})
	return false
}

// writeFile replaces a file atomically.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tilePath is the C2SP tlog-tiles path of tile n of level (c2sp.EntriesLevel for an entry
// bundle), w wide.
func tilePath(level int, n int64, w int) string {
	return c2sp.TilePath(tlog.Tile{H: c2sp.TileHeight, L: level, N: n, W: w})
}

// tree fetches every entry bundle of the checkpoint's tree, rebuilds the stored hashes from the
// entries, compares every served hash tile with them and the root with the checkpoint's.
func (v *run) tree(ctx context.Context, cp c2sp.Checkpoint) ([][]byte, error) {
	bodies := make([][]byte, 0, cp.N)
	for n := int64(0); n*c2sp.TileWidth < cp.N; n++ {
		w := int(min(c2sp.TileWidth, cp.N-n*c2sp.TileWidth))
		path := tilePath(c2sp.EntriesLevel, n, w)
		b, err := v.cfg.Client.Tile(ctx, path)
		if err != nil {
			return nil, err
		}
		es, err := c2sp.ParseEntryBundle(b)
		if err != nil {
			v.find(Finding{Check: "inconsistent tile", Record: "entry bundle " + path, Detail: fmt.Sprintf("truncated entry %d", n*c2sp.TileWidth+int64(len(es)))})
		}
		bodies = append(bodies, es...)
		if got := len(es); got != w {
			detail, err := v.firstDiffering(ctx, n, w, bodies[int(n)*c2sp.TileWidth:])
			if err != nil {
				return nil, err
			}
			v.find(Finding{Check: "missing entry", Record: fmt.Sprintf("entry bundle %s (entries %d to %d)", path, n*c2sp.TileWidth, n*c2sp.TileWidth+int64(w)-1),
				Published: fmt.Sprintf("%d entries", got), Recomputed: fmt.Sprintf("%d entries", w), Detail: detail})
			return nil, nil
		}
	}
	for i, body := range bodies {
		more, err := tlog.StoredHashes(int64(i), body, v.reader())
		if err != nil {
			return nil, err
		}
		v.hash = append(v.hash, more...)
		v.n++
	}
	// Every hash tile the server serves must be the one the entries make.
	for _, t := range tlog.NewTiles(c2sp.TileHeight, 0, cp.N) {
		path := c2sp.TilePath(t)
		served, err := v.cfg.Client.Tile(ctx, path)
		if err != nil {
			return nil, err
		}
		want, err := tlog.ReadTileData(t, v.reader())
		if err != nil {
			return nil, err
		}
		if bytes.Equal(served, want) {
			continue
		}
		if len(served) != len(want) {
			v.find(Finding{Check: "inconsistent tile", Record: fmt.Sprintf("level %d index %d (%s) width", t.L, t.N, path),
				Published: fmt.Sprintf("%d bytes", len(served)), Recomputed: fmt.Sprintf("%d bytes", len(want))})
			continue
		}
		for i := 0; i < len(want); i += tlog.HashSize {
			if !bytes.Equal(served[i:i+tlog.HashSize], want[i:i+tlog.HashSize]) {
				pos := t.N*c2sp.TileWidth + int64(i/tlog.HashSize)
				rec := fmt.Sprintf("level %d index %d (%s) hash %d", t.L, t.N, path, pos)
				if t.L == 0 {
					rec = fmt.Sprintf("entry %d: leaf hash in hash tile %s", pos, path)
				}
				v.find(Finding{Check: "inconsistent tile", Record: rec,
					Published: hexHash(served[i : i+tlog.HashSize]), Recomputed: hexHash(want[i:i+tlog.HashSize]) + " from the entry bundle"})
				break
			}
		}
	}
	root, err := c2sp.TreeHash(cp.N, v.reader())
	if err != nil {
		return nil, err
	}
	if root != cp.Hash {
		v.find(Finding{Check: "root", Record: fmt.Sprintf("tree of size %d", cp.N), Published: b64(cp.Hash) + " (signed checkpoint)", Recomputed: b64(root) + " (from the entries)"})
		return nil, nil
	}
	v.say("rebuilt the tree from %d entries in %d entry bundles: root matches the checkpoint; every hash tile matches", cp.N, (cp.N+c2sp.TileWidth-1)/c2sp.TileWidth)
	return bodies, nil
}

// firstDiffering names the first entry of a bundle that was removed, inserted or moved: the
// first whose leaf hash is not the one the served hash tile of level 0 has at its place.
func (v *run) firstDiffering(ctx context.Context, n int64, w int, got [][]byte) (string, error) {
	path := tilePath(0, n, w)
	leaves, err := v.cfg.Client.Tile(ctx, path)
	if err != nil {
		return "", err
	}
	for j := 0; j < w; j++ {
		idx := n*c2sp.TileWidth + int64(j)
		if (j+1)*tlog.HashSize > len(leaves) {
			return fmt.Sprintf("entry %d is the first missing or extra: hash tile %s is short too", idx, path), nil
		}
		want := leaves[j*tlog.HashSize : (j+1)*tlog.HashSize]
		if j >= len(got) {
			return fmt.Sprintf("entry %d is the first missing: hash tile %s has leaf %s there, the bundle nothing", idx, path, hexHash(want)), nil
		}
		if h := tlog.RecordHash(got[j]); !bytes.Equal(h[:], want) {
			return fmt.Sprintf("entry %d is the first missing or extra: hash tile %s has leaf %s there, the bundle's entry hashes to %s", idx, path, hexHash(want), hexHash(h[:])), nil
		}
	}
	return fmt.Sprintf("entry %d is the first extra", n*c2sp.TileWidth+int64(w)), nil
}

func (v *run) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(v.hash)) {
				return nil, fmt.Errorf("hash %d not in the tree", x)
			}
			out[i] = v.hash[x]
		}
		return out, nil
	})
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func hexHash(b []byte) string { return fmt.Sprintf("%x", b) }

// receipt checks a chair's receipt: its entry is in the checkpoint's tree (an inclusion proof
// from our own tree, checked against the signed root), says what the receipt says, and is the
// entry the precinct's published numbers come from (checked in recount).
func (v *run) receipt(r *report.Receipt, cp c2sp.Checkpoint, bodies [][]byte) {
	rec := fmt.Sprintf("receipt for report %s (log_index %d, checkpoint size %d)", r.ReportID, r.LogIndex, cp.N)
	if r.LogIndex < 0 || r.LogIndex >= cp.N {
		v.find(Finding{Check: "receipt", Record: rec, Published: fmt.Sprintf("checkpoint size %d", cp.N), Recomputed: fmt.Sprintf("log_index %d", r.LogIndex), Detail: "the report is not in the log"})
		return
	}
	leaf := tlog.RecordHash(bodies[r.LogIndex])
	p, err := tlog.ProveRecord(cp.N, r.LogIndex, v.reader())
	if err == nil {
		err = tlog.CheckRecord(p, cp.N, cp.Hash, r.LogIndex, leaf)
	}
	if err != nil || fmt.Sprintf("%x", leaf[:]) != r.LeafHash {
		v.find(Finding{Check: "receipt", Record: rec, Published: fmt.Sprintf("leaf %x in checkpoint size %d", leaf[:], cp.N), Recomputed: "leaf_hash " + r.LeafHash, Detail: "the receipt's report is not in the log"})
		return
	}
	e, err := report.ParseEntry(bodies[r.LogIndex])
	if err != nil || e.ReportID != r.ReportID || e.PrecinctID != r.PrecinctID {
		v.find(Finding{Check: "receipt", Record: rec, Published: fmt.Sprintf("entry for report %q precinct %q", e.ReportID, e.PrecinctID), Recomputed: fmt.Sprintf("report %q precinct %q", r.ReportID, r.PrecinctID)})
		return
	}
	v.say("receipt: report %s is entry %d, included in the checkpoint of size %d (inclusion proof of %d hashes)", r.ReportID, r.LogIndex, cp.N, len(p))
}
