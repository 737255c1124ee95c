package storetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"caucus/internal/auth"
	"caucus/internal/hotline"
	"caucus/internal/store"
	"caucus/internal/store/export"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
)

// ExportStore is what RunExport moves: a store of one engine with every interface its tables
// are written through, and the export's source and sink.
type ExportStore interface {
	store.Store
	auth.Store
	hotline.Store
	export.Source
	export.Sink
	Close() error
}

// ExportEngine opens a new, empty database of one engine each time Open is called.
type ExportEngine struct {
	Name string
	Open func(t *testing.T, now func() time.Time) ExportStore
}

// RunExport runs the export's tests as subtests of t: an election with a row in every table is
// filled on engines[0] and moved through engines[1:] in turn, every table read back byte-equal
// to the first after each move.
func RunExport(t *testing.T, engines ...ExportEngine) {
	names := make([]string, len(engines))
	for i, e := range engines {
		names[i] = e.Name
	}
	t.Run("RoundTrip/"+strings.Join(names, "-"), func(t *testing.T) { testExportRoundTrip(t, engines) })
	t.Run("Refused/"+engines[0].Name+"-"+engines[len(engines)-1].Name, func(t *testing.T) {
		testExportRefused(t, engines[0], engines[len(engines)-1])
	})
}

// dump reads every table of s, as the export reads it.
func dump(t *testing.T, s export.Source) map[string][]export.Row {
	t.Helper()
	out := map[string][]export.Row{}
	err := s.ExportTables(t.Context(), export.Tables, func(tb *export.Table, raw []any) error {
		row, err := export.Normalize(tb, raw)
		out[tb.Name] = append(out[tb.Name], row)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fillElection writes a row into every table of the export through the store's own methods, and
// signs a checkpoint of the log with a key of its own.
func fillElection(t *testing.T, s ExportStore, clock *Clock) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.InitSettings(ctx, "ia-2020")
	must(err)
	hotlineReport := report("p2", "h1", "3-3")
	hotlineReport.Channel = store.ChannelHotline
	hotlineReport.Submitter = "alice"
	counts := int64(1)
	_, err = s.Append(ctx, []store.NewEntry{
		report("p1", "r1", "10-5"),
		report("p1", "r2", "10-6"), // a conflict
		hotlineReport,
		{Kind: store.KindCorrection, PrecinctID: "p1", Submitter: "rita", Channel: store.ChannelStaff,
			Body: []byte(`{"kind":"correction","numbers":"10-7"}`), Status: store.StatusCorrected},
		{Kind: store.KindReview, PrecinctID: "p2", Submitter: "rita", Channel: store.ChannelStaff,
			Body: []byte(`{"kind":"review"}`), Status: store.StatusCertified, Counts: &counts},
		rlaEntry("a1", "start"),
	})
	must(err)
	clock.Advance(time.Second)
	_, err = s.AddAudit(ctx, store.NewAudit{Actor: "rita", Kind: "staff_action", PrecinctID: "p1",
		Detail: []byte(`{"b":1,"a":"é\u00e9"}`)})
	must(err)
	cb, err := s.AddCallback(ctx, store.NewCallback{PrecinctID: "p3", Phone: "+15155550101", Note: "call me", Actor: "p3"})
	must(err)
	_, err = s.ClaimCallback(ctx, cb.ID, "alice")
	must(err)
	_, err = s.CallbackOutcome(ctx, cb.ID, "alice", store.CallbackNoAnswer, "voicemail")
	must(err)
	_, err = s.PutPhoto(ctx, photo("p3", []byte("\x89PNG\r\n\x1a\n worksheet")))
	must(err)
	_, err = s.AddHandCopy(ctx, store.HandCopy{PrecinctID: "p1", Operator: "ann", Counts: []byte(`{"first":{"A":3}}`)})
	must(err)
	_, err = s.AddHotlineCopy(ctx, hotlineCopy("p4", "alice", "2-2"))
	must(err)
	_, err = s.AddHotlineCopy(ctx, hotlineCopy("p4", "bob", "2-3"))
	must(err)
	_, err = s.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p4", Round: 1, Outcome: store.RoundReviewed,
		Actor: "rita", LogIndex: -1})
	must(err)
	_, err = s.AddHotlineCopy(ctx, hotlineCopy("p4", "alice", "2-2")) // round 2
	must(err)
	hash := func(secret string) auth.Hash {
		h, err := auth.HashSecret(auth.TokenParams(), secret)
		must(err)
		return h
	}
	must(s.PutPrecinctCredentials(ctx, "admin", []auth.PrecinctCredential{{PrecinctID: "p1", PINHash: hash("1"), TokenHash: hash("2")}}))
	must(s.CreateStaff(ctx, auth.Actor{Name: "admin"}, auth.StaffAccount{Username: "rita", Role: auth.RoleReviewer,
		PasswordHash: hash("pw"), TOTPSecret: auth.NewTOTPSecret("JBSWY3DPEHPK3PXP")}))
	_, err = s.AddThrottle(ctx, "pin/p1", farFromClock)
	must(err)
	must(s.AddLoginFailures(ctx, []auth.FailureCount{{Minute: farFromClock, PrecinctID: "p1", Client: "10.0.0.0/24",
		Reason: "bad_credentials", Count: 3}}))
	must(s.CreateSession(ctx, auth.Session{ID: auth.SessionID{1, 2, 3}, Role: auth.RoleChair, PrecinctID: "p1",
		Created: farFromClock, Expires: farFromClock.Add(time.Hour)}))
	must(s.CreateValue(ctx, "publication/policy", []byte(`{"delay":"0s"}`)))
	signCheckpoint(t, s, "ia-2020")
}

func photo(precinct string, data []byte) store.NewPhoto {
	sum := sha256.Sum256(data)
	return store.NewPhoto{SHA256: hex.EncodeToString(sum[:]), ContentType: "image/png", Data: data, PrecinctID: precinct, Actor: precinct}
}

// signCheckpoint signs a checkpoint of the whole log into the store, as serve's log does.
func signCheckpoint(t *testing.T, s ExportStore, election string) {
	t.Helper()
	ctx := t.Context()
	skey, _, err := note.GenerateKey(nil, c2sp.Origin(election))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tlog.Open(ctx, tlog.Config{Store: s, Origin: c2sp.Origin(election), Key: skey})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Entries(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(es...); err != nil {
		t.Fatal(err)
	}
	if err := l.Sign(ctx); err != nil {
		t.Fatal(err)
	}
}

func moveTo(t *testing.T, from export.Source, to export.Sink) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := export.Write(t.Context(), from, "test", Night, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Read(t.Context(), bytes.NewReader(buf.Bytes()), to); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testExportRoundTrip(t *testing.T, engines []ExportEngine) {
	clock := NewClock()
	first := engines[0].Open(t, clock.Now)
	fillElection(t, first, clock)
	want := dump(t, first)
	for _, tb := range export.Tables {
		if len(want[tb.Name]) == 0 {
			t.Errorf("table %s: the filled election has no row in it", tb.Name)
		}
	}
	prev := ExportStore(first)
	for _, e := range engines[1:] {
		next := e.Open(t, clock.Now)
		moveTo(t, prev, next)
		got := dump(t, next)
		for _, tb := range export.Tables {
			if !reflect.DeepEqual(got[tb.Name], want[tb.Name]) {
				t.Errorf("%s: table %s after the move:\n%v\nwant\n%v", e.Name, tb.Name, got[tb.Name], want[tb.Name])
			}
		}
		prev = next
	}
	// The moved store goes on where the first left off: the next index, the next audit ID, the
	// next hotline copy in the open round, the PIN budget spent so far.
	ctx := t.Context()
	lastAudit := want["audit"][len(want["audit"])-1][0].(int64)
	a, err := prev.AddAudit(ctx, store.NewAudit{Actor: "system", Kind: "staff_action"})
	if err != nil || a.ID != lastAudit+1 {
		t.Errorf("audit row after the move: %+v, %v; want ID %d", a, err, lastAudit+1)
	}
	rs, err := prev.Append(ctx, []store.NewEntry{report("p5", "r9", "1-1")})
	if err != nil || rs[0].Entry.Index != int64(len(want["entries"])) {
		t.Errorf("append after the move: %+v, %v; want index %d", rs, err, len(want["entries"]))
	}
	r, err := prev.AddHotlineCopy(ctx, hotlineCopy("p4", "bob", "2-2"))
	if err != nil || r.Round != 2 || len(r.Copies) != 2 {
		t.Errorf("hotline copy after the move: %+v, %v", r, err)
	}
	c, err := prev.AddThrottle(ctx, "pin/p1", farFromClock)
	if err != nil || c.Count != 2 {
		t.Errorf("PIN budget after the move: %+v, %v; want the second attempt", c, err)
	}
	if ps, ok := prev.(interface{ IntegrityCheck(context.Context) error }); ok {
		if err := ps.IntegrityCheck(ctx); err != nil {
			t.Errorf("integrity check after the move: %v", err)
		}
	}
}

// rewrite decodes an export, lets f change its lines, and encodes it again.
func rewrite(t *testing.T, file []byte, f func(lines []string) []string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	lines := f(strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n"))
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	fmt.Fprintln(zw, strings.Join(lines, "\n"))
	zw.Close()
	return out.Bytes()
}

// testExportRefused: an import refuses a store that is not empty, a file cut short, and an
// election whose log does not give its checkpoint, and leaves the store as it was each time.
func testExportRefused(t *testing.T, from, to ExportEngine) {
	ctx := t.Context()
	clock := NewClock()
	src := from.Open(t, clock.Now)
	fillElection(t, src, clock)
	var buf bytes.Buffer
	h, err := export.Write(ctx, src, from.Name, Night, &buf)
	if err != nil {
		t.Fatal(err)
	}
	size, err := src.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.ElectionID != "ia-2020" || h.Checkpoint == nil || h.Checkpoint.Size != size {
		t.Fatalf("header %+v (checkpoint %+v): want election ia-2020, a checkpoint of the %d entries", h, h.Checkpoint, size)
	}
	file := buf.Bytes()
	if _, err := export.Read(ctx, bytes.NewReader(file), src); !errors.Is(err, export.ErrNotEmpty) {
		t.Errorf("import into the filled store: %v, want ErrNotEmpty", err)
	}
	dst := to.Open(t, clock.Now)
	cut := rewrite(t, file, func(l []string) []string { return l[:len(l)-1] })
	if _, err := export.Read(ctx, bytes.NewReader(cut), dst); !errors.Is(err, export.ErrFormat) {
		t.Errorf("import of a file without its trailer: %v, want ErrFormat", err)
	}
	more := rewrite(t, file, func(l []string) []string { return append(l, l[len(l)-2]) })
	if _, err := export.Read(ctx, bytes.NewReader(more), dst); !errors.Is(err, export.ErrFormat) {
		t.Errorf("import of a file with a row after its trailer: %v, want ErrFormat", err)
	}
	// One byte of an entry's body changed, its leaf hash recomputed to match: the tree no longer
	// gives the checkpoint's root.
	tampered := rewrite(t, file, func(l []string) []string {
		for i, line := range l {
			if strings.HasPrefix(line, `{"t":"entries"`) {
				l[i] = retamper(t, line)
				break
			}
		}
		return l
	})
	if _, err := export.Read(ctx, bytes.NewReader(tampered), dst); !errors.Is(err, export.ErrMismatch) {
		t.Errorf("import of a changed entry: %v, want ErrMismatch", err)
	}
	if n, err := dst.Size(ctx); err != nil || n != 0 {
		t.Errorf("after the refused imports the store has %d entries (%v), want none", n, err)
	}
	if _, err := export.Read(ctx, bytes.NewReader(file), dst); err != nil {
		t.Errorf("the good file after the refused ones: %v", err)
	}
	// A store that still holds the log's signing key is not exported: the key stays out of the file.
	if err := src.CreateValue(ctx, tlog.KeyValue, []byte("PRIVATE+KEY+caucus.example/ia-2020+00000000+AAAA")); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Write(ctx, src, from.Name, Night, io.Discard); !errors.Is(err, export.ErrKeyInStore) {
		t.Errorf("export of a store holding the signing key: %v, want ErrKeyInStore", err)
	}
}

// retamper changes one byte of the body of an entry's row line and gives it the leaf hash of
// the changed bytes.
func retamper(t *testing.T, line string) string {
	t.Helper()
	var l struct {
		T string            `json:"t"`
		R []json.RawMessage `json:"r"`
	}
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatal(err)
	}
	var b64 string
	if err := json.Unmarshal(l.R[7], &b64); err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)-2] ^= 1
	leaf := store.LeafHash(body)
	l.R[7], _ = json.Marshal(body)
	l.R[8], _ = json.Marshal(leaf[:])
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
