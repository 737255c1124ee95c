package hotline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"caucus/internal/report"
	"caucus/internal/store"
)

// Precinct is what an operator sees of a precinct before keying (GET
// /api/v1/hotline/precincts/{precinct_id}): the report it already counts, by any channel, so
// that nobody keys a worksheet the app has sent already without knowing it, and the state of
// its open round. The numbers of another operator's copy are never in it: a second keyer types
// without seeing the first copy. Differences are there only for an operator who keyed a copy
// of the round.
type Precinct struct {
	PrecinctID  string         `json:"precinct_id"`
	Name        string         `json:"name"`
	CountyID    string         `json:"county_id"`
	Status      store.Status   `json:"status"`
	Counted     *CountedReport `json:"counted,omitempty"`
	Reports     int64          `json:"reports"`
	Round       int64          `json:"round"`
	RoundState  string         `json:"round_state"` // "open" (no copy), waiting_second, mismatch
	Copies      int            `json:"copies"`
	KeyedByYou  bool           `json:"keyed_by_you"`
	Operators   []string       `json:"operators"` // who keyed the round's copies (names, no numbers)
	Differences []Difference   `json:"differences,omitempty"`
	Settled     int            `json:"settled_rounds"`
}

// CountedReport is the report a precinct counts.
type CountedReport struct {
	LogIndex   int64          `json:"log_index"`
	Channel    string         `json:"channel"`
	Submitter  string         `json:"submitter"`
	ReceivedAt string         `json:"received_at"`
	Report     *report.Report `json:"report"`
}

// Precinct is the precinct as operator sees it before keying.
func (d *Desk) Precinct(ctx context.Context, precinctID, operator string) (Precinct, error) {
	p, ok := d.def.Precinct(precinctID)
	if !ok {
		return Precinct{}, fmt.Errorf("%w: no precinct %q in this election", ErrBadKeying, precinctID)
	}
	out := Precinct{PrecinctID: p.ID, Name: p.Name, CountyID: p.CountyID, Status: store.StatusNotReported, Operators: []string{}}
	st, err := d.store.PrecinctState(ctx, precinctID)
	switch {
	case err == nil:
		out.Status, out.Reports = st.Status, st.Reports
		if st.Counted != store.NoIndex {
			es, err := d.store.PrecinctEntries(ctx, precinctID)
			if err != nil {
				return Precinct{}, fmt.Errorf("read entries: %w", err)
			}
			for _, e := range es {
				if e.Index != st.Counted {
					continue
				}
				le, err := report.ParseEntry(e.Body)
				if err != nil {
					return Precinct{}, fmt.Errorf("entry %d: %w", e.Index, err)
				}
				out.Counted = &CountedReport{LogIndex: e.Index, Channel: le.Channel, Submitter: le.Submitter,
					ReceivedAt: le.ReceivedAt, Report: le.Report}
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return Precinct{}, fmt.Errorf("read precinct state: %w", err)
	}
	round, err := d.store.HotlineRound(ctx, precinctID)
	if err != nil {
		return Precinct{}, fmt.Errorf("read round: %w", err)
	}
	out.Round, out.Copies, out.Settled = round.Round, len(round.Copies), len(round.Settled)
	for _, c := range round.Copies {
		out.Operators = append(out.Operators, c.Operator)
	}
	out.KeyedByYou = slices.Contains(out.Operators, operator)
	switch len(round.Copies) {
	case 0:
		out.RoundState = "open"
	case 1:
		out.RoundState = StateWaitingSecond
	default:
		out.RoundState = StateMismatch
		if out.KeyedByYou {
			if out.Differences, err = Differences(round.Copies); err != nil {
				return Precinct{}, err
			}
		}
	}
	return out, nil
}

// Contest is a precinct whose hotline copies disagree: a round with two copies or more and no
// two agreeing. Nothing of it is counted; it waits for a third keying or a reviewer.
type Contest struct {
	PrecinctID  string              `json:"precinct_id"`
	Round       int64               `json:"round"`
	Copies      []store.HotlineCopy `json:"-"`
	Differences []Difference        `json:"differences"`
}

// Contested is every precinct with an unsettled hotline mismatch, oldest first: what the review
// queue lists with the reason "hotline_mismatch", each with its copies (who keyed what, when) and
// the differences field by field.
func (d *Desk) Contested(ctx context.Context) ([]Contest, error) {
	rounds, err := d.store.ContestedHotlineRounds(ctx)
	if err != nil {
		return nil, fmt.Errorf("read contested rounds: %w", err)
	}
	var out []Contest
	for _, r := range rounds {
		if _, _, ok := agreeing(r.Copies); ok {
			continue // agreeing copies whose report is being (or was not yet) submitted: not a mismatch
		}
		diffs, err := Differences(r.Copies)
		if err != nil {
			return nil, err
		}
		out = append(out, Contest{PrecinctID: r.PrecinctID, Round: r.Round, Copies: r.Copies, Differences: diffs})
	}
	return out, nil
}

// SettleByReview closes a precinct's contested round once a reviewer has decided it (a
// correction appended at logIndex with reportID, or an accept): the round leaves the review
// queue, and the precinct's next hotline keying opens a new round. Settling a round already
// settled is a no-op.
func (d *Desk) SettleByReview(ctx context.Context, precinctID string, round int64, reviewer, reportID string, logIndex int64) error {
	if _, err := d.store.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: precinctID, Round: round,
		Outcome: store.RoundReviewed, ReportID: reportID, LogIndex: logIndex, Actor: reviewer}); err != nil {
		return fmt.Errorf("settle round %d of %s: %w", round, precinctID, err)
	}
	return nil
}

// Call-back queue limits.
const (
	// queueLimit bounds one read of the queue: more than a state's precincts waiting at once.
	queueLimit = 5000
)

// Queue is the call-back requests still to work (waiting, or being called), oldest first.
func (d *Desk) Queue(ctx context.Context) ([]store.CallbackState, error) {
	sts, err := d.store.CallbackStates(ctx, store.CallbackFilter{Open: true, Limit: queueLimit})
	if err != nil {
		return nil, fmt.Errorf("read call-back queue: %w", err)
	}
	return sts, nil
}

// Claim gives call-back request id to operator; store.ErrConflict when someone has it or it is
// done, store.ErrNotFound when there is none.
func (d *Desk) Claim(ctx context.Context, id int64, operator string) (store.CallbackState, error) {
	return d.store.ClaimCallback(ctx, id, operator)
}

// Outcome records what came of operator's call.
func (d *Desk) Outcome(ctx context.Context, id int64, operator, outcome, note string) (store.CallbackState, error) {
	return d.store.CallbackOutcome(ctx, id, operator, outcome, note)
}

// ChairCallback is what a chair's phone shows of its call-back requests.
type ChairCallback struct {
	CallbackID int64  `json:"callback_id"`
	At         string `json:"at"`
	State      string `json:"state"`              // waiting, claimed (headquarters is calling), done
	Position   int    `json:"position,omitempty"` // waiting: requests ahead in the queue, plus one
	Outcome    string `json:"outcome,omitempty"`
	Attempts   int    `json:"attempts"`
}

// Mine is a precinct's call-back requests as its chair sees them: no operator's name, no note.
func (d *Desk) Mine(ctx context.Context, precinctID string) ([]ChairCallback, error) {
	mine, err := d.store.CallbackStates(ctx, store.CallbackFilter{PrecinctID: precinctID, Limit: queueLimit})
	if err != nil {
		return nil, fmt.Errorf("read call-backs of %s: %w", precinctID, err)
	}
	var queue []store.CallbackState
	out := make([]ChairCallback, 0, len(mine))
	for _, s := range mine {
		c := ChairCallback{CallbackID: s.ID, At: s.At.UTC().Format(time.RFC3339), State: s.State, Outcome: s.Outcome, Attempts: s.Attempts}
		if s.State == store.CallbackWaiting {
			if queue == nil {
				if queue, err = d.Queue(ctx); err != nil {
					return nil, err
				}
			}
			c.Position = 1
			for _, q := range queue {
				if q.ID < s.ID && q.State == store.CallbackWaiting {
					c.Position++
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Stats is the hotline's figures for the headquarters board.
type Stats struct {
	Waiting        int   `json:"calls_waiting"`        // requests nobody is calling yet
	Calling        int   `json:"calls_in_progress"`    // requests being called
	OperatorsBusy  int   `json:"operators_busy"`       // operators holding a call
	AverageWaitSec int64 `json:"average_wait_seconds"` // mean age of the waiting requests, whole seconds
	OldestWaitSec  int64 `json:"oldest_wait_seconds"`
	Contested      int   `json:"mismatches_waiting"` // precincts whose copies disagree
}

// Stats computes the board's hotline figures now.
func (d *Desk) Stats(ctx context.Context) (Stats, error) {
	q, err := d.Queue(ctx)
	if err != nil {
		return Stats{}, err
	}
	now := d.now()
	var st Stats
	var total time.Duration
	busy := map[string]bool{}
	for _, s := range q {
		switch s.State {
		case store.CallbackWaiting:
			st.Waiting++
			w := max(0, now.Sub(s.At))
			total += w
			st.OldestWaitSec = max(st.OldestWaitSec, int64(w/time.Second))
		case store.CallbackClaimed:
			st.Calling++
			busy[s.Operator] = true
		}
	}
	st.OperatorsBusy = len(busy)
	if st.Waiting > 0 {
		st.AverageWaitSec = int64(total/time.Second) / int64(st.Waiting)
	}
	cs, err := d.Contested(ctx)
	if err != nil {
		return Stats{}, err
	}
	st.Contested = len(cs)
	return st, nil
}
