package hotline_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
)

// desk is a Desk on a real SQLite file and a running night.
func desk(t *testing.T, submit func(n *night.Night) hotline.Submitter) (*hotline.Desk, *sqlite.DB, *election.Definition) {
	t.Helper()
	def := servertest.Definition(t, 4)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := night.Open(t.Context(), night.Config{Def: def, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return hotline.New(hotline.Config{Def: def, Store: db, Submit: submit(n)}), db, def
}

// paperReport is a valid worksheet of p brought on paper, with its scan.
func paperReport(p string, adams int64) report.Report {
	return report.Report{PrecinctID: p, Attendees: adams + 40, Channel: report.ChannelPaper,
		First: rules.Counts{"adams": adams, "baker": 25, "clark": 15}, Final: rules.Counts{"adams": adams, "baker": 25, "clark": 15},
		PhotoSHA256: strings.Repeat("ab", 32)}
}

// lossy submits through the night but fails the first submission, before it reaches the night
// (persisted false) or after it is stored (persisted true): the answer lost on the way.
type lossy struct {
	n         *night.Night
	persisted bool
	calls     atomic.Int64
}

func (l *lossy) Submit(ctx context.Context, r report.Report, who intake.Submitter) (intake.Outcome, error) {
	if l.calls.Add(1) > 1 {
		return l.n.Submit(ctx, r, who)
	}
	if l.persisted {
		if _, err := l.n.Submit(ctx, r, who); err != nil {
			return intake.Outcome{}, err
		}
	}
	return intake.Outcome{}, errors.New("the answer was lost")
}

// TestRetryFinishesRound: when the report of two agreeing copies is not acknowledged, the second
// operator's retry (the same copy again) finishes the round instead of being refused as a
// second copy, and the report is stored once, whether or not the lost attempt stored it.
func TestRetryFinishesRound(t *testing.T) {
	for _, persisted := range []bool{false, true} {
		t.Run(map[bool]string{false: "not persisted", true: "persisted"}[persisted], func(t *testing.T) {
			d, db, _ := desk(t, func(n *night.Night) hotline.Submitter { return &lossy{n: n, persisted: persisted} })
			r := paperReport("p0001", 60)
			key := func(op string) (hotline.Result, error) {
				return d.Key(t.Context(), hotline.Keying{PrecinctID: "p0001", Operator: op, VerifiedBy: store.VerifiedPaper, Report: r})
			}
			if res, err := key("olga"); err != nil || res.State != hotline.StateWaitingSecond {
				t.Fatalf("first copy: %+v, %v", res, err)
			}
			if _, err := key("oscar"); err == nil {
				t.Fatal("second copy: no error from the lossy submission")
			}
			res, err := key("oscar")
			if err != nil || res.State != hotline.StateMatched {
				t.Fatalf("retry: %+v, %v", res, err)
			}
			if want := map[bool]string{false: hotline.CountedNew, true: hotline.CountedAgain}[persisted]; res.Counted != want {
				t.Errorf("retry counted %q, want %q", res.Counted, want)
			}
			es, err := db.PrecinctEntries(t.Context(), "p0001")
			if err != nil || len(es) != 1 || es[0].ReportID != hotline.RoundReportID("p0001", 1) || es[0].Channel != store.ChannelPaper {
				t.Fatalf("entries: %+v, %v", es, err)
			}
			// The round is closed: olga keying again starts round 2.
			if res, err := key("olga"); err != nil || res.Round != 2 {
				t.Errorf("after the round: %+v, %v", res, err)
			}
			// A copy that differs from the operator's own is still a second copy.
			r.Attendees++
			if _, err := key("olga"); !errors.Is(err, hotline.ErrSameOperator) {
				t.Errorf("olga's second, different copy of round 2: %v", err)
			}
		})
	}
}

// TestVerification: paper needs channel paper and its scan; a call-back needs a claim by the
// operator; an unknown way is refused; a worksheet with errors stores nothing.
func TestVerification(t *testing.T) {
	d, db, _ := desk(t, func(n *night.Night) hotline.Submitter { return n })
	r := paperReport("p0002", 60)
	noScan := r
	noScan.PhotoSHA256 = ""
	phoned := r
	phoned.Channel = report.ChannelHotline
	bad := r
	bad.Attendees = 10 // fewer signed in than in the groups
	for _, tc := range []struct {
		name string
		k    hotline.Keying
		want error
	}{
		{"paper without scan", hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: store.VerifiedPaper, Report: noScan}, hotline.ErrNotVerified},
		{"paper by phone", hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: store.VerifiedPaper, Report: phoned}, hotline.ErrNotVerified},
		{"call-back not claimed", hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: store.VerifiedCallback, Report: phoned}, hotline.ErrNotVerified},
		{"unknown way", hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: "sms", Report: phoned}, hotline.ErrBadKeying},
		{"unknown precinct", hotline.Keying{PrecinctID: "nowhere", Operator: "olga", VerifiedBy: store.VerifiedPaper, Report: r}, hotline.ErrBadKeying},
		{"another precinct's sheet", hotline.Keying{PrecinctID: "p0003", Operator: "olga", VerifiedBy: store.VerifiedPaper, Report: r}, hotline.ErrBadKeying},
	} {
		if _, err := d.Key(t.Context(), tc.k); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	res, err := d.Key(t.Context(), hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: store.VerifiedPaper, Report: bad})
	if err != nil || res.State != hotline.StateRefused || len(res.Checks) == 0 {
		t.Errorf("worksheet with errors: %+v, %v", res, err)
	}
	cb, err := db.AddCallback(t.Context(), store.NewCallback{PrecinctID: "p0002", Phone: "+15155550102", Actor: "p0002"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(t.Context(), cb.ID, "olga"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Key(t.Context(), hotline.Keying{PrecinctID: "p0002", Operator: "oscar", VerifiedBy: store.VerifiedCallback, Report: phoned}); !errors.Is(err, hotline.ErrNotVerified) {
		t.Errorf("call-back claimed by another operator: %v", err)
	}
	if res, err := d.Key(t.Context(), hotline.Keying{PrecinctID: "p0002", Operator: "olga", VerifiedBy: store.VerifiedCallback, Report: phoned}); err != nil || res.State != hotline.StateWaitingSecond {
		t.Errorf("call-back claimed by the operator: %+v, %v", res, err)
	}
	if r, _ := db.HotlineRound(t.Context(), "p0002"); len(r.Copies) != 1 {
		t.Errorf("copies stored: %d, want only the verified one", len(r.Copies))
	}
}

// TestDifferences names every field the copies disagree on, a third copy's values too.
func TestDifferences(t *testing.T) {
	d, _, _ := desk(t, func(n *night.Night) hotline.Submitter { return n })
	a := paperReport("p0003", 60)
	b := a
	b.First, b.Final = rules.Counts{"adams": 60, "baker": 25, "clark": 15}, rules.Counts{"adams": 60, "baker": 25, "clark": 15, "davis": 0}
	b.Attendees = 101
	c := a
	c.Attendees = 102
	var res hotline.Result
	for i, k := range []struct {
		op string
		r  report.Report
	}{{"olga", a}, {"oscar", b}, {"otto", c}} {
		var err error
		res, err = d.Key(t.Context(), hotline.Keying{PrecinctID: "p0003", Operator: k.op, VerifiedBy: store.VerifiedPaper, Report: k.r})
		if err != nil {
			t.Fatalf("copy %d: %v", i, err)
		}
	}
	if res.State != hotline.StateMismatch || len(res.Differences) != 2 {
		t.Fatalf("three copies: %+v", res)
	}
	att, davis := res.Differences[0], res.Differences[1]
	if att.Field != "attendees" || att.FirstCopy != int64(100) || att.SecondCopy != int64(101) || len(att.Copies) != 3 || att.Copies[2] != int64(102) {
		t.Errorf("attendees: %+v", att)
	}
	if davis.Field != "final" || davis.CandidateID != "davis" || davis.FirstCopy != nil || davis.SecondCopy != int64(0) {
		t.Errorf("davis: %+v", davis)
	}
	cs, err := d.Contested(t.Context())
	if err != nil || len(cs) != 1 || cs[0].PrecinctID != "p0003" || len(cs[0].Copies) != 3 {
		t.Fatalf("contested: %+v, %v", cs, err)
	}
	if err := d.SettleByReview(t.Context(), "p0003", cs[0].Round, "rita", "", store.NoIndex); err != nil {
		t.Fatal(err)
	}
	if cs, _ := d.Contested(t.Context()); len(cs) != 0 {
		t.Errorf("contested after review: %+v", cs)
	}
}
