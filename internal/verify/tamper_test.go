package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
	"caucus/internal/verify"
)

const iowaCSV = "../shareddata/testdata/data/iowa-2020/precincts.csv"

// mutationsPerKind is spec/reliability.md §B5's CI figure: 20 random mutations of each kind on
// a 2020-size log (the full figure is 100).
const mutationsPerKind = 20

// tamperSeed makes every mutation reproducible; TAMPER_SEED=n runs another set.
func tamperSeed(t testing.TB) uint64 {
	if s := os.Getenv("TAMPER_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TAMPER_SEED=%q: %v", s, err)
		}
		return n
	}
	return 2020
}

// iowaNight is a 2020-size night: the 2020 Iowa structure (1,765 precincts in 99 counties), one
// report per precinct from the published 2020 file, through the real HTTP intake (reports the
// math refuses with an error are left out, as intake would refuse them), and a conflicting
// second report for every 15th precinct.
type iowaNight struct {
	t        testing.TB
	env      *servertest.Env
	receipts []report.Receipt // first reports, in precinct order
	seconds  []report.Receipt // the conflicting second reports
	key      string
	skey     string
	bodies   [][]byte // the log's entries
	signed   []byte   // the latest signed checkpoint
}

func newIowaNight(t testing.TB) *iowaNight {
	t.Helper()
	def, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(iowaCSV)
	if err != nil {
		t.Fatal(err)
	}
	published, err := resultscsv.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, servertest.Options{Def: def})
	facts := report.Facts(def)
	type job struct {
		i      int
		r      report.Report
		second *report.Report // a conflicting second report: other numbers, not a matching double entry
	}
	var jobs []job
	for _, pp := range published {
		if _, ok := def.Precinct(pp.ID); !ok {
			continue
		}
		r := report.Report{ReportID: fmt.Sprintf("iowa-%d", len(jobs)), PrecinctID: pp.ID,
			Attendees: max(pp.First.Sum(), pp.Final.Sum()), First: pp.First, Final: pp.Final, Channel: report.ChannelApp}
		if res := rules.Calc(report.CalcInput(r, facts[pp.ID])); res.HasErrors() {
			continue
		}
		j := job{i: len(jobs), r: r}
		if j.i%15 == 0 {
			second := r
			second.ReportID += "-b"
			second.Attendees++
			if res := rules.Calc(report.CalcInput(second, facts[pp.ID])); !res.HasErrors() {
				j.second = &second
			}
		}
		jobs = append(jobs, j)
	}
	n := &iowaNight{t: t, env: env, receipts: make([]report.Receipt, len(jobs))}
	var acked servertest.Acked
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			tok := env.Login(j.r.PrecinctID)
			submit := func(r report.Report) (int, report.Receipt) {
				body, _ := json.Marshal(r)
				status, b := env.Do("POST", "/api/v1/reports", tok, body)
				var rc report.Receipt
				if status == http.StatusConflict {
					var c struct{ Receipt report.Receipt }
					json.Unmarshal(b, &c)
					return status, c.Receipt
				}
				json.Unmarshal(b, &rc)
				return status, rc
			}
			status, rc := submit(j.r)
			if status != http.StatusCreated {
				t.Errorf("report for %s: %d", j.r.PrecinctID, status)
				return
			}
			acked.Add(t, rc)
			n.receipts[j.i] = rc
			if j.second != nil {
				if status, rc := submit(*j.second); status != http.StatusConflict {
					t.Errorf("second report for %s: %d", j.r.PrecinctID, status)
				} else {
					acked.Add(t, rc)
					mu.Lock()
					n.seconds = append(n.seconds, rc)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx := context.Background()
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	env.Check(&acked)
	skey, err := env.DB.Value(ctx, tlog.KeyValue)
	if err != nil {
		t.Fatal(err)
	}
	n.skey = string(skey)
	c, _ := client.New(env.URL, nil)
	res, err := c.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n.key = res.LogPublicKey
	if n.signed, err = c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	n.bodies = readBodies(t, c, res.LogSize)
	return n
}

// readBodies reads the log's first size entries from its entry bundles.
func readBodies(t testing.TB, c *client.Client, size int64) [][]byte {
	t.Helper()
	var bodies [][]byte
	for i := int64(0); i*c2sp.TileWidth < size; i++ {
		w := int(min(c2sp.TileWidth, size-i*c2sp.TileWidth))
		b, err := c.Tile(context.Background(), c2sp.TilePath(xtlog.Tile{H: c2sp.TileHeight, L: c2sp.EntriesLevel, N: i, W: w}))
		if err != nil {
			t.Fatal(err)
		}
		es, err := c2sp.ParseEntryBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, es...)
	}
	if int64(len(bodies)) != size {
		t.Fatalf("read %d entries, want %d", len(bodies), size)
	}
	return bodies
}

// rewriter is a lie a server tells: it may change a response's body and headers.
type rewriter func(path string, h http.Header, body []byte) []byte

// proxyClient keeps connections to the server open for the proxies (the default keeps 2).
var proxyClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}

// tamperProxy serves target through rewrite, headers included.
func tamperProxy(t testing.TB, target string, rewrite rewriter) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := proxyClient.Get(target + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		h := resp.Header.Clone()
		if resp.StatusCode == http.StatusOK {
			b = rewrite(r.URL.Path, h, b)
		}
		for k, v := range h {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// forgedLog is a log served from given entries, signed with the log's key: what an attacker
// holding the key serves to rewrite history consistently.
type forgedLog struct {
	bodies [][]byte
	hashes []xtlog.Hash
	signed []byte
}

func forge(t testing.TB, skey string, bodies [][]byte) *forgedLog {
	t.Helper()
	fl := &forgedLog{bodies: bodies}
	r := xtlog.HashReaderFunc(func(idx []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = fl.hashes[x]
		}
		return out, nil
	})
	for i, b := range bodies {
		more, err := xtlog.StoredHashes(int64(i), b, r)
		if err != nil {
			t.Fatal(err)
		}
		fl.hashes = append(fl.hashes, more...)
	}
	root, err := c2sp.TreeHash(int64(len(bodies)), r)
	if err != nil {
		t.Fatal(err)
	}
	cp := c2sp.Checkpoint{Origin: c2sp.Origin("iowa-2020"), N: int64(len(bodies)), Hash: root}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp.Origin = s.Name()
	fl.signed, err = note.Sign(&note.Note{Text: string(cp.Marshal())}, s)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

// rewrite serves the forged log's checkpoint and tiles in place of the real ones.
func (fl *forgedLog) rewrite(path string, h http.Header, b []byte) []byte {
	if path == "/log/checkpoint" {
		return fl.signed
	}
	rest, ok := strings.CutPrefix(path, "/log/")
	if !ok {
		return b
	}
	tile, err := c2sp.ParseTilePath(rest)
	if err != nil {
		return b
	}
	if tile.L == c2sp.EntriesLevel {
		var out []byte
		for _, e := range fl.bodies[tile.N*c2sp.TileWidth : tile.N*c2sp.TileWidth+int64(tile.W)] {
			out, _ = c2sp.AppendBundleEntry(out, e)
		}
		return out
	}
	data, err := xtlog.ReadTileData(tile, xtlog.HashReaderFunc(func(idx []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = fl.hashes[x]
		}
		return out, nil
	}))
	if err != nil {
		return b
	}
	return data
}

// entryTile says which bundle (and place in it) holds entry i.
func entryTile(i, size int64) (path string, at int) {
	n := i / c2sp.TileWidth
	w := int(min(c2sp.TileWidth, size-n*c2sp.TileWidth))
	return "/log/" + c2sp.TilePath(xtlog.Tile{H: c2sp.TileHeight, L: c2sp.EntriesLevel, N: n, W: w}), int(i % c2sp.TileWidth)
}

// splitBundle and joinBundle take an entry bundle apart and back.
func splitBundle(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		l := int(binary.BigEndian.Uint16(b))
		out = append(out, bytes.Clone(b[2:2+l]))
		b = b[2+l:]
	}
	return out
}

func joinBundle(es [][]byte) []byte {
	var out []byte
	for _, e := range es {
		out, _ = c2sp.AppendBundleEntry(out, e)
	}
	return out
}

// mutation is one tamper and the words its findings must contain.
type mutation struct {
	desc    string
	rewrite rewriter
	cfg     verify.Config
	saved   []byte // the checkpoint the verifier saved before; nil: the night's latest
	want    []string
	later   func() []string // more wanted words, known only once the rewrite ran
}

// TestTamper is spec/reliability.md §B5 (CI version): on a 2020-size log, mutationsPerKind
// seeded random mutations of each kind V1–V9 and V11, each detected with a finding naming the
// check, the record and both values; and clean runs with no finding at all.
func TestTamper(t *testing.T) {
	start := time.Now()
	n := newIowaNight(t)
	size := int64(len(n.bodies))
	t.Logf("2020-size night: %d entries (%d first reports, %d conflicting second reports), built in %s", size, len(n.receipts), len(n.seconds), time.Since(start).Round(time.Millisecond))
	dir := t.TempDir()
	seed := tamperSeed(t)

	// 0 false alarms: direct, through an honest proxy, with a receipt, and again with the
	// checkpoint saved by the run before.
	cpFile := filepath.Join(dir, "clean-checkpoint")
	for i, url := range []string{n.env.URL, tamperProxy(t, n.env.URL, func(_ string, _ http.Header, b []byte) []byte { return b })} {
		for j := range 2 {
			r := n.receipts[(i*2+j)*97%len(n.receipts)]
			res, findings := verifyAt(t, url, verify.Config{Key: n.key, CheckpointFile: cpFile, Receipt: &r})
			if !res.OK() || res.Precincts != 1765 || res.TreeSize != size {
				t.Fatalf("clean run %d: %d precincts of a tree of %d:\n%s", i*2+j, res.Precincts, res.TreeSize, findings)
			}
		}
	}

	kinds := []struct {
		id  string
		gen func(rng *rand.Rand) mutation
	}{
		{"V1", n.altered}, {"V2", n.removed}, {"V3", n.reordered}, {"V4", n.forked}, {"V5", n.rolledBack},
		{"V6", n.totalChanged}, {"V7", n.badNote}, {"V8", n.badTile}, {"V9", n.badReceipt}, {"V11", n.stale},
	}
	for ki, k := range kinds {
		t.Run(k.id, func(t *testing.T) {
			kstart := time.Now()
			for i := range mutationsPerKind {
				rng := rand.New(rand.NewPCG(seed, uint64(ki*1000+i)))
				m := k.gen(rng)
				saved := m.saved
				if saved == nil {
					saved = n.signed
				}
				cp := filepath.Join(t.TempDir(), "checkpoint")
				if err := os.WriteFile(cp, saved, 0o644); err != nil {
					t.Fatal(err)
				}
				cfg := m.cfg
				cfg.Key, cfg.CheckpointFile = n.key, cp
				rw := m.rewrite
				if rw == nil {
					rw = func(_ string, _ http.Header, b []byte) []byte { return b }
				}
				res, findings := verifyAt(t, tamperProxy(t, n.env.URL, rw), cfg)
				if res.OK() {
					t.Errorf("%s #%d (seed %d) %s: not detected", k.id, i, seed, m.desc)
					continue
				}
				want := m.want
				if m.later != nil {
					want = append(want, m.later()...)
				}
				for _, w := range want {
					if !strings.Contains(findings, w) {
						t.Errorf("%s #%d (seed %d) %s: findings do not name %q:\n%s", k.id, i, seed, m.desc, w, findings)
					}
				}
				if i == 0 || testing.Verbose() {
					t.Logf("#%d %s:\n%s", i, m.desc, firstLines(findings, 3))
				}
			}
			t.Logf("%s: %d mutations in %s", k.id, mutationsPerKind, time.Since(kstart).Round(time.Millisecond))
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		return strings.Join(lines[:n], "") + fmt.Sprintf("… (%d findings)\n", len(lines)-1)
	}
	return s
}

// onBundle rewrites the entries of the bundle holding entry i.
func (n *iowaNight) onBundle(i int64, edit func(es [][]byte, at int) [][]byte) rewriter {
	path, at := entryTile(i, int64(len(n.bodies)))
	return func(p string, _ http.Header, b []byte) []byte {
		if p != path {
			return b
		}
		return joinBundle(edit(splitBundle(b), at))
	}
}

// V1: any byte of any leaf.
func (n *iowaNight) altered(rng *rand.Rand) mutation {
	i := rng.Int64N(int64(len(n.bodies)))
	pos := rng.IntN(len(n.bodies[i]))
	delta := byte(1 + rng.IntN(255))
	return mutation{
		desc: fmt.Sprintf("entry %d byte %d ^= %#x", i, pos, delta),
		rewrite: n.onBundle(i, func(es [][]byte, at int) [][]byte {
			es[at][pos] ^= delta
			return es
		}),
		want: []string{fmt.Sprintf("inconsistent tile: entry %d: leaf hash in hash tile", i), "published ", "recomputed ",
			fmt.Sprintf("root: tree of size %d: published ", len(n.bodies))},
	}
}

// V2: an entry removed from its bundle.
func (n *iowaNight) removed(rng *rand.Rand) mutation {
	i := rng.Int64N(int64(len(n.bodies)))
	path, _ := entryTile(i, int64(len(n.bodies)))
	w := min(c2sp.TileWidth, int64(len(n.bodies))-i/c2sp.TileWidth*c2sp.TileWidth)
	return mutation{
		desc:    fmt.Sprintf("entry %d removed", i),
		rewrite: n.onBundle(i, func(es [][]byte, at int) [][]byte { return append(es[:at], es[at+1:]...) }),
		want: []string{"missing entry: entry bundle " + strings.TrimPrefix(path, "/log/"),
			fmt.Sprintf("published %d entries, recomputed %d entries", w-1, w), fmt.Sprintf("entry %d is the first missing", i)},
	}
}

// V3: an entry inserted (a copy of another) or two entries swapped.
func (n *iowaNight) reordered(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	i := rng.Int64N(size - 1)
	if i%c2sp.TileWidth == c2sp.TileWidth-1 {
		i-- // swap within one bundle
	}
	if rng.IntN(2) == 0 {
		src := rng.Int64N(size)
		if src == i {
			src = (i + 1) % size
		}
		body := n.bodies[src]
		return mutation{
			desc: fmt.Sprintf("a copy of entry %d inserted before entry %d", src, i),
			rewrite: n.onBundle(i, func(es [][]byte, at int) [][]byte {
				return append(es[:at], append([][]byte{body}, es[at:]...)...)
			}),
			want: []string{"missing entry: entry bundle", fmt.Sprintf("entry %d is the first missing or extra", i), "hash tile", "the bundle's entry hashes to"},
		}
	}
	return mutation{
		desc: fmt.Sprintf("entries %d and %d swapped", i, i+1),
		rewrite: n.onBundle(i, func(es [][]byte, at int) [][]byte {
			es[at], es[at+1] = es[at+1], es[at]
			return es
		}),
		want: []string{fmt.Sprintf("inconsistent tile: entry %d: leaf hash in hash tile", i), "published ", "recomputed "},
	}
}

// checkpointAt is the log's genuine signed checkpoint of the tree of size s.
func (n *iowaNight) checkpointAt(s int64) []byte {
	return forge(n.t, n.skey, n.bodies[:s]).signed
}

// V4: a fork: the verifier saved a checkpoint of size s; the server now serves a tree (signed
// with the log's key, every tile consistent) in which entry i < s was rewritten.
func (n *iowaNight) forked(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	s := size // two signed checkpoints of the same size, different roots
	if rng.IntN(2) == 0 {
		s = 1 + rng.Int64N(size-1) // a new checkpoint not consistent with an older cached one
	}
	i := rng.Int64N(s)
	forged := make([][]byte, size)
	copy(forged, n.bodies)
	forged[i] = bytes.Clone(n.bodies[i])
	forged[i][rng.IntN(len(forged[i]))] ^= byte(1 + rng.IntN(255))
	fl := forge(n.t, n.skey, forged)
	return mutation{
		desc:    fmt.Sprintf("saved checkpoint of size %d; entry %d rewritten in a re-signed tree of size %d", s, i, size),
		rewrite: fl.rewrite,
		saved:   n.checkpointAt(s),
		want: []string{"SECURITY ERROR: fork", fmt.Sprintf("root of the tree at size %d: published ", s),
			fmt.Sprintf("(served checkpoint of size %d), recomputed ", size), "(saved checkpoint)", "both signed notes kept in"},
	}
}

// V5: a checkpoint smaller than the one seen before (a genuine older one).
func (n *iowaNight) rolledBack(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	s := rng.Int64N(size)
	old := n.checkpointAt(s)
	return mutation{
		desc: fmt.Sprintf("checkpoint of size %d after %d", s, size),
		rewrite: func(p string, _ http.Header, b []byte) []byte {
			if p == "/log/checkpoint" {
				return old
			}
			return b
		},
		want: []string{fmt.Sprintf("rollback: checkpoint tree size: published %d, recomputed %d seen before", s, size)},
	}
}

// editJSON decodes a JSON document, edits it and encodes it again.
func editJSON(b []byte, edit func(doc map[string]any)) []byte {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return b
	}
	edit(doc)
	out, _ := json.Marshal(doc)
	return out
}

// bump adds delta to a JSON number field and returns the old and new values.
func bump(m map[string]any, field string, delta int64) (int64, int64) {
	old := int64(m[field].(float64))
	m[field] = float64(old + delta)
	return old, old + delta
}

// V6: a published number changed: the state, a county (list or its page), a precinct page, or
// a results.csv cell.
func (n *iowaNight) totalChanged(rng *rand.Rand) mutation {
	def := n.env.Def
	cands := def.Candidates()
	cand := cands[rng.IntN(len(cands))].ID
	delta := 1 + rng.Int64N(50)
	field := []string{"first", "final"}[rng.IntN(2)]
	r := n.receipts[rng.IntN(len(n.receipts))]
	counties := def.Counties()
	cty := counties[rng.IntN(len(counties))].ID
	var (
		old, pub int64
		m        mutation
	)
	candidate := func(list any) map[string]any {
		for _, c := range list.([]any) {
			if c := c.(map[string]any); c["candidate_id"] == cand {
				return c
			}
		}
		panic("no candidate " + cand)
	}
	switch kind := rng.IntN(5); kind {
	case 0:
		m.desc = fmt.Sprintf("state %s %s +%d", cand, field, delta)
		m.rewrite = func(p string, _ http.Header, b []byte) []byte {
			if p != "/api/v1/results" {
				return b
			}
			return editJSON(b, func(d map[string]any) { old, pub = bump(candidate(d["candidates"]), field, delta) })
		}
		m.want = []string{fmt.Sprintf("total: state candidate %s %s: published ", cand, field)}
	case 1:
		m.desc = fmt.Sprintf("county %s %s %s +%d in the counties list", cty, cand, field, delta)
		m.rewrite = func(p string, _ http.Header, b []byte) []byte {
			if p != "/api/v1/results/counties" {
				return b
			}
			return editJSON(b, func(d map[string]any) {
				for _, c := range d["counties"].([]any) {
					if c := c.(map[string]any); c["county_id"] == cty {
						old, pub = bump(candidate(c["candidates"]), field, delta)
					}
				}
			})
		}
		m.want = []string{fmt.Sprintf("total: county %s candidate %s %s: published ", cty, cand, field)}
	case 2:
		m.desc = fmt.Sprintf("county %s page %s %s +%d", cty, cand, field, delta)
		m.rewrite = func(p string, _ http.Header, b []byte) []byte {
			if p != "/api/v1/results/counties/"+cty {
				return b
			}
			return editJSON(b, func(d map[string]any) { old, pub = bump(candidate(d["candidates"]), field, delta) })
		}
		m.want = []string{fmt.Sprintf("total: county %s (its page) candidate %s %s: published ", cty, cand, field)}
	case 3:
		if rng.IntN(2) == 0 {
			field = "delegates"
		}
		m.desc = fmt.Sprintf("precinct %s page %s %s +%d", r.PrecinctID, cand, field, delta)
		m.rewrite = func(p string, _ http.Header, b []byte) []byte {
			if p != "/api/v1/results/precincts/"+r.PrecinctID {
				return b
			}
			return editJSON(b, func(d map[string]any) {
				for _, g := range d["groups"].([]any) {
					if g := g.(map[string]any); g["candidate_id"] == cand {
						if g[field] == nil {
							g[field] = float64(0)
						}
						old, pub = bump(g, field, delta)
						return
					}
				}
				// No group for the candidate: a group appears.
				d["groups"] = append(d["groups"].([]any), map[string]any{"candidate_id": cand, field: float64(delta)})
				old, pub = 0, delta
			})
		}
		check := "precinct"
		if field == "delegates" {
			check = "delegates"
		}
		m.want = []string{fmt.Sprintf("%s: precinct %s candidate %s %s: published ", check, r.PrecinctID, cand, field)}
	case 4:
		m.desc = fmt.Sprintf("results.csv precinct %s %s %s +%d", r.PrecinctID, cand, field, delta)
		m.rewrite = func(p string, _ http.Header, b []byte) []byte {
			if p != "/api/v1/results.csv" {
				return b
			}
			rows, err := resultscsv.Read(bytes.NewReader(b))
			if err != nil {
				return b
			}
			for i := range rows {
				if rows[i].ID == r.PrecinctID {
					counts := rows[i].First
					if field == "final" {
						counts = rows[i].Final
					}
					old = counts[cand]
					pub = old + delta
					counts[cand] = pub
				}
			}
			var out bytes.Buffer
			if err := resultscsv.Write(&out, rows); err != nil {
				return b
			}
			return out.Bytes()
		}
		m.want = []string{fmt.Sprintf("total: results.csv precinct %s candidate %s %s: published ", r.PrecinctID, cand, field)}
	}
	// Both values: the published one is known once the proxy has rewritten the document.
	base := m.want[0]
	m.later = func() []string { return []string{fmt.Sprintf("%s%d, recomputed %d", base, pub, old)} }
	return m
}

// V7: every signed-note rule.
func (n *iowaNight) badNote(rng *rand.Rand) mutation {
	onCheckpoint := func(f func(b []byte) []byte) rewriter {
		return func(p string, _ http.Header, b []byte) []byte {
			if p == "/log/checkpoint" {
				return f(b)
			}
			return b
		}
	}
	text := checkpointText(n.signed)
	t := n.t
	switch k := rng.IntN(6); k {
	case 0:
		at := 4 + rng.IntN(60) // past the key hash, inside the Ed25519 signature
		bit := byte(1) << rng.IntN(8)
		return mutation{desc: fmt.Sprintf("signature byte %d ^= %#x", at, bit), rewrite: onCheckpoint(func(b []byte) []byte {
			i := bytes.LastIndexByte(b, ' ') + 1
			sig, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b[i:])))
			sig[at] ^= bit
			return append(bytes.Clone(b[:i]), base64.StdEncoding.EncodeToString(sig)+"\n"...)
		}), want: []string{"signed note: bad signature", "does not verify"}}
	case 1:
		other, _, _ := note.GenerateKey(nil, c2sp.Origin("iowa-2020"))
		return mutation{desc: "signed by another key of the same name", rewrite: onCheckpoint(func([]byte) []byte { return sign(t, other, text) }),
			want: []string{"signed note: no signature by the log's key", "signed only by caucus.example/iowa-2020"}}
	case 2:
		origin := fmt.Sprintf("caucus.example/other-%d", rng.IntN(1000))
		return mutation{desc: "origin " + origin, rewrite: onCheckpoint(func([]byte) []byte {
			return sign(t, n.skey, strings.Replace(text, "caucus.example/iowa-2020", origin, 1))
		}), want: []string{"origin: checkpoint origin line: published \"" + origin + "\", recomputed \"caucus.example/iowa-2020\""}}
	case 3:
		ext := fmt.Sprintf("extension %d", rng.IntN(1000))
		return mutation{desc: "extension line " + ext, rewrite: onCheckpoint(func([]byte) []byte { return sign(t, n.skey, text+ext+"\n") }),
			want: []string{"signed note: extension lines", "1 lines after its root hash"}}
	case 4:
		cuts := []struct {
			desc string
			f    func(b []byte) []byte
		}{
			{"no blank line before the signatures", func(b []byte) []byte { return bytes.Replace(b, []byte("\n\n"), []byte("\n"), 1) }},
			{"no final newline", func(b []byte) []byte { return b[:len(b)-1] }},
			{"signature line without the em dash", func(b []byte) []byte { return bytes.Replace(b, []byte("\n— "), []byte("\n- "), 1) }},
			{"truncated signature", func(b []byte) []byte { return append(bytes.Clone(b[:len(b)-10]), '\n') }},
		}
		c := cuts[rng.IntN(len(cuts))]
		return mutation{desc: "malformed: " + c.desc, rewrite: onCheckpoint(c.f), want: []string{"signed note: malformed note"}}
	default:
		return mutation{desc: "the signature line twice", rewrite: onCheckpoint(func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("\n\n"))
			return append(bytes.Clone(b), b[i+2:]...)
		}), want: []string{"signed note: duplicated signature lines", "signs twice"}}
	}
}

// V8: a hash tile, a partial tile's width or an entry bundle tampered.
func (n *iowaNight) badTile(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	tiles := xtlog.NewTiles(c2sp.TileHeight, 0, size)
	switch rng.IntN(3) {
	case 0:
		tl := tiles[rng.IntN(len(tiles))]
		path := "/log/" + c2sp.TilePath(tl)
		j := rng.IntN(tl.W)
		bit := byte(1) << rng.IntN(8)
		at := j*32 + rng.IntN(32)
		rec := fmt.Sprintf("level %d index %d (%s) hash %d", tl.L, tl.N, c2sp.TilePath(tl), tl.N*c2sp.TileWidth+int64(j))
		if tl.L == 0 {
			rec = fmt.Sprintf("entry %d: leaf hash in hash tile %s", tl.N*c2sp.TileWidth+int64(j), c2sp.TilePath(tl))
		}
		return mutation{desc: fmt.Sprintf("%s hash %d ^= %#x", path, j, bit), rewrite: func(p string, _ http.Header, b []byte) []byte {
			if p == path {
				b = bytes.Clone(b)
				b[at] ^= bit
			}
			return b
		}, want: []string{"inconsistent tile: " + rec + ": published ", "recomputed "}}
	case 1:
		var partial []xtlog.Tile
		for _, tl := range tiles {
			if tl.W < c2sp.TileWidth {
				partial = append(partial, tl)
			}
		}
		tl := partial[rng.IntN(len(partial))]
		path := "/log/" + c2sp.TilePath(tl)
		drop := 1 + rng.IntN(tl.W)
		return mutation{desc: fmt.Sprintf("%s short by %d hashes", path, drop), rewrite: func(p string, _ http.Header, b []byte) []byte {
			if p == path {
				return b[:len(b)-32*drop]
			}
			return b
		}, want: []string{fmt.Sprintf("inconsistent tile: level %d index %d (%s) width: published %d bytes, recomputed %d bytes", tl.L, tl.N, c2sp.TilePath(tl), 32*(tl.W-drop), 32*tl.W)}}
	default:
		i := rng.Int64N(size)
		path, _ := entryTile(i, size)
		last := min(i/c2sp.TileWidth*c2sp.TileWidth+c2sp.TileWidth, size) - 1
		cut := 1 + rng.IntN(len(n.bodies[last])) // inside the bundle's last entry
		return mutation{desc: fmt.Sprintf("%s: the last %d bytes cut", path, cut), rewrite: func(p string, _ http.Header, b []byte) []byte {
			if p == path {
				return b[:len(b)-cut]
			}
			return b
		}, want: []string{"inconsistent tile: entry bundle " + strings.TrimPrefix(path, "/log/"), "truncated entry"}}
	}
}

// V9: a chair's receipt whose report is not in the log, or not the one counted.
func (n *iowaNight) badReceipt(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	r := n.receipts[rng.IntN(len(n.receipts))]
	var bad report.Receipt
	var want []string
	switch rng.IntN(4) {
	case 0:
		bad = report.Receipt{ReportID: fmt.Sprintf("made-up-%d", rng.IntN(1e6)), PrecinctID: r.PrecinctID, LogIndex: size + rng.Int64N(1000), LeafHash: fmt.Sprintf("%064x", rng.Uint64())}
		want = []string{fmt.Sprintf("receipt: receipt for report %s (log_index %d, checkpoint size %d)", bad.ReportID, bad.LogIndex, size), "not in the log"}
	case 1:
		bad = r
		bad.LeafHash = fmt.Sprintf("%064x", rng.Uint64())
		want = []string{fmt.Sprintf("receipt: receipt for report %s (log_index %d, checkpoint size %d)", r.ReportID, r.LogIndex, size), "leaf_hash " + bad.LeafHash, "not in the log"}
	case 2: // the receipt of another entry's report
		other := n.receipts[rng.IntN(len(n.receipts))]
		if other.ReportID == r.ReportID {
			other = n.receipts[(rng.IntN(len(n.receipts)-1)+1+indexOf(n.receipts, r))%len(n.receipts)]
		}
		bad = r
		bad.LogIndex, bad.LeafHash = other.LogIndex, other.LeafHash
		want = []string{fmt.Sprintf("receipt: receipt for report %s (log_index %d, checkpoint size %d)", r.ReportID, other.LogIndex, size),
			fmt.Sprintf("published entry for report %q precinct %q", other.ReportID, other.PrecinctID)}
	default: // a real receipt, in the log, whose numbers are not the published ones
		bad = n.seconds[rng.IntN(len(n.seconds))]
		want = []string{fmt.Sprintf("receipt: precinct %s counted entry at log size %d (receipt for report %s)", bad.PrecinctID, size, bad.ReportID),
			fmt.Sprintf("recomputed entry %d, the receipt's", bad.LogIndex), "not the ones of this receipt"}
	}
	return mutation{desc: fmt.Sprintf("receipt %+v", bad), cfg: verify.Config{Receipt: &bad}, want: want}
}

func indexOf(rs []report.Receipt, r report.Receipt) int {
	for i := range rs {
		if rs[i].ReportID == r.ReportID {
			return i
		}
	}
	return 0
}

// V11: the results (or one precinct's page) name a log size the checkpoint never reaches.
func (n *iowaNight) stale(rng *rand.Rand) mutation {
	size := int64(len(n.bodies))
	ahead := size + 1 + rng.Int64N(100)
	cfg := verify.Config{StaleAfter: 150 * time.Millisecond}
	if rng.IntN(2) == 0 {
		return mutation{desc: fmt.Sprintf("results log_size %d", ahead), cfg: cfg, rewrite: func(p string, _ http.Header, b []byte) []byte {
			if p == "/api/v1/results" {
				return bytes.Replace(b, fmt.Appendf(nil, `"log_size":%d`, size), fmt.Appendf(nil, `"log_size":%d`, ahead), 1)
			}
			return b
		}, want: []string{"stale checkpoint: checkpoint size vs results log_size", fmt.Sprintf("published log_size %d in /api/v1/results (results updated_at ", ahead),
			fmt.Sprintf("recomputed checkpoint size %d, not advancing since ", size)}}
	}
	p := n.receipts[rng.IntN(len(n.receipts))].PrecinctID
	return mutation{desc: fmt.Sprintf("precinct %s page at log size %d", p, ahead), cfg: cfg, rewrite: func(path string, h http.Header, b []byte) []byte {
		if path == "/api/v1/results/precincts/"+p {
			h.Set(client.LogSizeHeader, strconv.FormatInt(ahead, 10))
		}
		return b
	}, want: []string{fmt.Sprintf("published log_size %d in precinct %s", ahead, p), fmt.Sprintf("checkpoint size %d, not advancing since ", size)}}
}
