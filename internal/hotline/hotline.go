// Package hotline is headquarters' side of a chair who cannot use the app: the hotline's double
// entry (two operators key the same worksheet independently; copies that agree become one
// report through the intake, copies that differ are never counted and go to a third keying or
// to review, spec/reliability.md C5), paper worksheets keyed the same way, and the call-back
// queue (chairs' "call me" requests, claimed by one operator at a time, their outcomes).
//
// It is not HTTP (internal/server translates the routes of spec/interfaces.md to a Desk), not
// the intake (a matched report takes the one path every report takes, night.Night.Submit, so
// that the app's report and the hotline's with the same numbers count once, C4, and different
// numbers are a conflict for review, C3) and not authentication (the caller's PIN is checked
// by package auth against the precinct's budget).
package hotline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Store is what a Desk keeps and reads; store/sqlite and store/postgres implement it, and
// storetest.RunHotline is its conformance suite. Every write is one durable transaction with its audit row.
type Store interface {
	// AddHotlineCopy stores a copy in its precinct's open round and returns the round with
	// every copy it holds; an operator's second copy of a round wraps store.ErrExists.
	AddHotlineCopy(ctx context.Context, c store.NewHotlineCopy) (store.HotlineRound, error)
	// HotlineRound is a precinct's open round and its settled ones.
	HotlineRound(ctx context.Context, precinctID string) (store.HotlineRound, error)
	// ContestedHotlineRounds is every open round holding two copies or more.
	ContestedHotlineRounds(ctx context.Context) ([]store.HotlineRound, error)
	// SettleHotlineRound closes a round; a second settlement of it is a no-op (created false).
	SettleHotlineRound(ctx context.Context, s store.HotlineSettlement) (created bool, err error)
	// ClaimCallback gives a waiting request to one operator, atomically (store.ErrConflict
	// when someone has it or it is done).
	ClaimCallback(ctx context.Context, id int64, operator string) (store.CallbackState, error)
	// CallbackOutcome records what came of a claimed call (store.ErrConflict unless the
	// operator holds it).
	CallbackOutcome(ctx context.Context, id int64, operator, outcome, note string) (store.CallbackState, error)
	// CallbackStates is the requests a filter selects, oldest first.
	CallbackStates(ctx context.Context, f store.CallbackFilter) ([]store.CallbackState, error)
	// PrecinctState and PrecinctEntries are store.Store's: what is counted for a precinct.
	PrecinctState(ctx context.Context, precinctID string) (store.PrecinctState, error)
	PrecinctEntries(ctx context.Context, precinctID string) ([]store.Entry, error)
}

// Submitter is the one path a report takes (night.Night.Submit).
type Submitter interface {
	Submit(ctx context.Context, r report.Report, who intake.Submitter) (intake.Outcome, error)
}

// PINChecker checks a precinct's PIN as a login does, counted against the precinct's budget
// (auth.Authenticator.CheckPIN): a caller guessing PINs through an operator is throttled as
// one guessing at the login page.
type PINChecker interface {
	CheckPIN(ctx context.Context, precinctID, pin string, client netip.Addr) error
}

// Config sets up a Desk.
type Config struct {
	Def    *election.Definition
	Store  Store
	Submit Submitter
	PINs   PINChecker
	Now    func() time.Time // nil: time.Now
}

// Desk is the hotline of one election. Its methods are safe for concurrent use.
type Desk struct {
	def    *election.Definition
	store  Store
	submit Submitter
	pins   PINChecker
	now    func() time.Time
	facts  map[string]report.Precinct
}

// New makes a Desk.
func New(cfg Config) *Desk {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Desk{def: cfg.Def, store: cfg.Store, submit: cfg.Submit, pins: cfg.PINs, now: cfg.Now, facts: report.Facts(cfg.Def)}
}

// Sentinels the server maps to statuses; each is wrapped with words an operator understands.
var (
	// ErrSameOperator: this operator already keyed a copy of the precinct's open round (403).
	ErrSameOperator = errors.New("the same operator cannot key two copies of one precinct")
	// ErrNotVerified: the caller is not verified the way the keying says (403).
	ErrNotVerified = errors.New("the caller is not verified")
	// ErrBadKeying: the keying itself is wrong: an unknown precinct, a report for another
	// precinct, an unknown verification (400).
	ErrBadKeying = errors.New("bad keying")
)

// States of a keying's answer (spec/interfaces.md POST /api/v1/hotline/entries).
const (
	StateWaitingSecond = "waiting_second"
	StateMatched       = "matched"
	StateMismatch      = "mismatch"
	StateRefused       = "refused" // hard errors in the numbers: nothing stored, fix and key again
)

// Keying is one operator's copy of a precinct's worksheet.
type Keying struct {
	PrecinctID string
	Operator   string
	VerifiedBy string     // store.VerifiedPIN, VerifiedCallback or VerifiedPaper
	PIN        string     // the caller's PIN, for VerifiedPIN
	Client     netip.Addr // the operator's address, for the PIN's throttle
	Report     report.Report
}

// Difference is one field on which a round's copies disagree. FirstCopy and SecondCopy are the
// first two copies' values; Copies is every copy's, in keying order (a third keying's too). A
// count not given is nil.
type Difference struct {
	Field       string `json:"field"`
	CandidateID string `json:"candidate_id,omitempty"`
	FirstCopy   any    `json:"first_copy"`
	SecondCopy  any    `json:"second_copy"`
	Copies      []any  `json:"copies"`
}

// Result is the answer to a keying.
type Result struct {
	State       string          `json:"state"`
	PrecinctID  string          `json:"precinct_id"`
	Round       int64           `json:"round,omitempty"`
	Copies      int             `json:"copies,omitempty"` // copies in the round, this one included
	Receipt     *report.Receipt `json:"receipt,omitempty"`
	Operators   []string        `json:"operators,omitempty"` // matched: the two who agreed
	Counted     string          `json:"counted,omitempty"`   // matched: how the intake took it (see below)
	Differences []Difference    `json:"differences,omitempty"`
	Checks      []rules.Check   `json:"checks,omitempty"`
	Message     string          `json:"message,omitempty"`
}

// What the intake made of a matched report (Result.Counted).
const (
	CountedNew      = "counted"      // the precinct's report
	CountedSame     = "same_numbers" // the precinct already counts these numbers (the app's): counted once
	CountedConflict = "conflict"     // the precinct counts other numbers: kept, both go to review
	CountedAgain    = "already_in"   // this round's report was appended before (a retry)
)

// Key stores one operator's copy and answers what the round now is: waiting for a second copy,
// matched (one report appended through the intake, both operators named as its submitter) or
// a mismatch (nothing counted; a third keying or review settles it). The caller is verified
// first: the PIN through auth, or a call-back to the number on file claimed by this operator,
// or (paper) a photo of the worksheet attached.
func (d *Desk) Key(ctx context.Context, k Keying) (Result, error) {
	if _, ok := d.def.Precinct(k.PrecinctID); !ok {
		return Result{}, fmt.Errorf("%w: no precinct %q in this election", ErrBadKeying, k.PrecinctID)
	}
	r := k.Report
	if r.PrecinctID != k.PrecinctID {
		return Result{}, fmt.Errorf("%w: the worksheet is for precinct %q, the keying for %q", ErrBadKeying, r.PrecinctID, k.PrecinctID)
	}
	if r.Channel != report.ChannelPaper {
		r.Channel = report.ChannelHotline
	}
	if err := d.verify(ctx, k, r); err != nil {
		return Result{}, err
	}
	res := rules.Calc(report.CalcInput(r, d.facts[r.PrecinctID]))
	if res.HasErrors() {
		return Result{State: StateRefused, PrecinctID: k.PrecinctID, Checks: res.Checks,
			Message: "The worksheet has errors: nothing was stored. Check the numbers with the caller and key it again."}, nil
	}
	r.ReportID = "" // the round's report gets its own id when copies agree
	if len(r.Tiebreaks) == 0 {
		r.Tiebreaks = nil
	}
	round, err := d.store.AddHotlineCopy(ctx, store.NewHotlineCopy{PrecinctID: k.PrecinctID, Operator: k.Operator,
		VerifiedBy: k.VerifiedBy, Channel: r.Channel, Report: r.Canonical(), Content: Content(r)})
	if errors.Is(err, store.ErrExists) {
		// The same copy again is a retry after an answer lost on the way (a timeout, a crash
		// between the copy's commit and the report's): it gets the round's answer, and
		// finishes a round whose copies agree, idempotently. A different copy by the same
		// operator is refused.
		round, rerr := d.store.HotlineRound(ctx, k.PrecinctID)
		if rerr != nil {
			return Result{}, fmt.Errorf("read round: %w", rerr)
		}
		if keyedBy(round.Copies, k.Operator, Content(r)) {
			return d.settle(ctx, round, k.Operator)
		}
		return Result{}, fmt.Errorf("%w: you already keyed this precinct's worksheet; another operator must key the second copy", ErrSameOperator)
	} else if err != nil {
		return Result{}, fmt.Errorf("store copy: %w", err)
	}
	return d.settle(ctx, round, k.Operator)
}

// verify checks the caller the way the keying says.
func (d *Desk) verify(ctx context.Context, k Keying, r report.Report) error {
	switch k.VerifiedBy {
	case store.VerifiedPIN:
		if k.PIN == "" {
			return fmt.Errorf("%w: ask the caller for the precinct's PIN", ErrNotVerified)
		}
		return d.pins.CheckPIN(ctx, k.PrecinctID, k.PIN, k.Client)
	case store.VerifiedCallback:
		sts, err := d.store.CallbackStates(ctx, store.CallbackFilter{PrecinctID: k.PrecinctID, Limit: store.MaxCallbacksPerWindow * 100})
		if err != nil {
			return fmt.Errorf("read call-backs: %w", err)
		}
		for _, s := range sts {
			if s.Operator == k.Operator && (s.State == store.CallbackClaimed || s.Outcome == store.CallbackReported) {
				return nil
			}
		}
		return fmt.Errorf("%w: claim this precinct's call-back and call the number on file first", ErrNotVerified)
	case store.VerifiedPaper:
		if r.Channel != report.ChannelPaper || r.PhotoSHA256 == "" {
			return fmt.Errorf("%w: a paper worksheet is keyed with channel \"paper\" and its photo or scan attached", ErrNotVerified)
		}
		return nil
	}
	return fmt.Errorf("%w: verified_by must be \"pin\" or \"callback\" (or \"paper\" for a worksheet in hand)", ErrBadKeying)
}

// settle answers a round as it stands after a copy by operator: when two copies agree, their
// report is submitted (idempotent: the round's report_id is fixed) and the round closed.
func (d *Desk) settle(ctx context.Context, round store.HotlineRound, operator string) (Result, error) {
	out := Result{PrecinctID: round.PrecinctID, Round: round.Round, Copies: len(round.Copies)}
	a, b, ok := agreeing(round.Copies)
	switch {
	case len(round.Copies) < 2:
		out.State = StateWaitingSecond
		return out, nil
	case !ok:
		out.State = StateMismatch
		diffs, err := Differences(round.Copies)
		if err != nil {
			return Result{}, err
		}
		out.Differences = diffs
		out.Message = "The copies differ: nothing is counted. A third operator keys the worksheet again (the copy that matches one of these settles it), or a reviewer decides."
		return out, nil
	}
	r, err := copyReport(a)
	if err != nil {
		return Result{}, err
	}
	if r.PhotoSHA256 == "" {
		rb, err := copyReport(b)
		if err != nil {
			return Result{}, err
		}
		r.PhotoSHA256 = rb.PhotoSHA256
	}
	r.ReportID = RoundReportID(round.PrecinctID, round.Round)
	ops := []string{a.Operator, b.Operator}
	o, err := d.submit.Submit(ctx, r, intake.Submitter{ID: strings.Join(ops, SubmitterSep)})
	if err != nil {
		return Result{}, fmt.Errorf("submit matched report: %w", err)
	}
	out.State, out.Operators, out.Receipt = StateMatched, ops, o.Receipt
	switch {
	case o.Kind == intake.Stored:
		out.Counted = CountedNew
	case o.Kind == intake.Conflict:
		out.Counted = CountedConflict
		out.Message = "The precinct already counts a different report: both are kept and go to review."
	case o.Kind == intake.Same && o.SameNumbers:
		out.Counted = CountedSame
		out.Message = "The precinct already counts these numbers (reported by the app): counted once."
	case o.Kind == intake.Same:
		out.Counted = CountedAgain
	default:
		// Refused by the intake though the copies passed the math: the election changed under
		// it, or the report_id is taken. Nothing counted; the round stays open for review.
		return Result{}, fmt.Errorf("the intake refused the matched report of precinct %s (outcome %d): %s", round.PrecinctID, o.Kind, o.Message)
	}
	idx := store.NoIndex
	if o.Receipt != nil {
		idx = o.Receipt.LogIndex
	}
	if _, err := d.store.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: round.PrecinctID, Round: round.Round,
		Outcome: store.RoundMatched, Copies: []int64{a.ID, b.ID}, ReportID: r.ReportID, LogIndex: idx, Actor: operator}); err != nil {
		return Result{}, fmt.Errorf("close round: %w", err)
	}
	out.Checks = o.Checks
	return out, nil
}

// SubmitterSep joins the two operators of a matched report in its entry's submitter
// ("alice+bob"): staff usernames hold no '+'.
const SubmitterSep = "+"

// RoundReportID is the report_id of a precinct's round: fixed, so that submitting the round's
// report again (a retry, two operators settling it at once) stores it once.
func RoundReportID(precinctID string, round int64) string {
	sum := sha256.Sum256([]byte(precinctID))
	return "hotline-" + hex.EncodeToString(sum[:8]) + "-r" + strconv.FormatInt(round, 10)
}

// keyedBy reports whether operator keyed a copy with content among copies.
func keyedBy(copies []store.HotlineCopy, operator string, content []byte) bool {
	for _, c := range copies {
		if c.Operator == operator && string(c.Content) == string(content) {
			return true
		}
	}
	return false
}

// agreeing finds the first pair of copies (in keying order) whose numbers agree.
func agreeing(copies []store.HotlineCopy) (a, b store.HotlineCopy, ok bool) {
	for j := 1; j < len(copies); j++ {
		for i := 0; i < j; i++ {
			if string(copies[i].Content) == string(copies[j].Content) {
				return copies[i], copies[j], true
			}
		}
	}
	return a, b, false
}

// Content is the digest of what the math reads of a report, as the intake computes it: the same
// for the same numbers whatever the report_id, channel or photo.
func Content(r report.Report) []byte {
	r.ReportID, r.Channel, r.PhotoSHA256 = "", "", ""
	if len(r.Tiebreaks) == 0 {
		r.Tiebreaks = nil
	}
	sum := sha256.Sum256(r.Canonical())
	return sum[:]
}

func copyReport(c store.HotlineCopy) (report.Report, error) {
	// A copy is stored without its report_id; Decode needs one.
	r, err := report.Decode(withID(c.Report))
	if err != nil {
		return report.Report{}, fmt.Errorf("copy %d does not decode: %w", c.ID, err)
	}
	r.ReportID = ""
	return r, nil
}

// withID puts a placeholder report_id into a stored copy's JSON for decoding.
func withID(b []byte) []byte {
	const key = `"report_id":"",`
	s := string(b)
	if strings.HasPrefix(s, "{"+key) {
		return []byte(`{"report_id":"copy",` + s[1+len(key):])
	}
	return b
}

// Differences lists, field by field, where the copies disagree: attendees, each candidate's
// first and final alignment and delegates, and the tiebreaks.
func Differences(copies []store.HotlineCopy) ([]Difference, error) {
	reps := make([]report.Report, len(copies))
	for i, c := range copies {
		r, err := copyReport(c)
		if err != nil {
			return nil, err
		}
		reps[i] = r
	}
	var out []Difference
	add := func(field, cand string, get func(r report.Report) any) {
		vals := make([]any, len(reps))
		same := true
		for i, r := range reps {
			vals[i] = get(r)
			if fmt.Sprint(vals[i]) != fmt.Sprint(vals[0]) {
				same = false
			}
		}
		if !same {
			d := Difference{Field: field, CandidateID: cand, Copies: vals, FirstCopy: vals[0]}
			if len(vals) > 1 {
				d.SecondCopy = vals[1]
			}
			out = append(out, d)
		}
	}
	add("attendees", "", func(r report.Report) any { return r.Attendees })
	var cands []string
	for _, r := range reps {
		for _, m := range []rules.Counts{r.First, r.Final, r.Delegates} {
			for id := range m {
				if !slices.Contains(cands, id) {
					cands = append(cands, id)
				}
			}
		}
	}
	slices.Sort(cands)
	count := func(m rules.Counts, id string) any {
		if v, ok := m[id]; ok {
			return v
		}
		return nil
	}
	for _, f := range []struct {
		name string
		get  func(r report.Report) rules.Counts
	}{
		{"first", func(r report.Report) rules.Counts { return r.First }},
		{"final", func(r report.Report) rules.Counts { return r.Final }},
		{"delegates", func(r report.Report) rules.Counts { return r.Delegates }},
	} {
		for _, id := range cands {
			add(f.name, id, func(r report.Report) any { return count(f.get(r), id) })
		}
	}
	add("tiebreaks", "", func(r report.Report) any {
		if len(r.Tiebreaks) == 0 {
			return nil
		}
		return r.Tiebreaks
	})
	return out, nil
}
