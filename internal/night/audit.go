package night

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"caucus/internal/audit"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// The risk-limiting audit on the record. Its state is the log's audit entries (store.KindAudit,
// all stored under the empty precinct id): the start names the checkpoint audited, the seed and
// the risk limit; each hand count is two operators' matching keyings (their copies are kept in
// the store's hand copies); after each, the samples drawn and the risks measured that the
// replay of the audit (internal/audit) gives and the log does not have yet are appended, in
// order, so that anyone recomputes every one of them from the log alone.

// Errors the audit's callers branch on. A refusal wraps ErrAuditRefused too.
var (
	ErrAuditRefused    = errors.New("audit refused")
	ErrAuditStarted    = errors.New("the audit has already started")
	ErrAuditNotStarted = errors.New("the audit has not started")
	ErrNotSampled      = errors.New("the precinct is not in the audit's sample")
	ErrHandCounted     = errors.New("the precinct's hand count is already entered")
	ErrSameOperator    = errors.New("an operator keys a precinct's hand count once: another operator must key it")
)

func auditRefused(err error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrAuditRefused, err, fmt.Sprintf(format, args...))
}

// auditRun is the audit as the log has it.
type auditRun struct {
	start      report.Audit
	startEntry store.Entry
	alpha      *big.Rat
	el         *audit.Election
	hand       map[string]audit.HandCounted
	handEntry  []results.AuditHandCount
	logged     map[string]bool // sample and risk entries by auditKey
	// view is the published audit, computed once per change: GET /api/v1/audit is public and
	// a replay of a large audit is not free.
	view *results.Audit
}

func auditKey(a report.Audit) string { return a.Event + "/" + a.Contest + "/" + strconv.Itoa(a.Round) }

// loadAudit reads the audit from the log the first time, and again after another node may have
// logged audit entries (auditStale), taking in those it has not; n.auditMu is held.
func (n *Night) loadAudit(ctx context.Context) (*auditRun, error) {
	if n.auditLoaded && !n.auditStale.Load() {
		return n.audit, nil
	}
	n.auditStale.Store(false)
	es, err := n.store.PrecinctEntries(ctx, "")
	if err != nil {
		n.auditStale.Store(true)
		return nil, fmt.Errorf("read audit entries: %w", err)
	}
	run := n.audit
	for _, e := range es {
		if e.Kind != store.KindAudit {
			continue
		}
		le, err := report.ParseEntry(e.Body)
		if err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", e.Index, err)
		}
		a := *le.Audit
		if a.Event == report.AuditStart {
			if run != nil && run.startEntry.Index == e.Index {
				continue
			}
			if run, err = n.newAuditRun(ctx, a, e); err != nil {
				n.auditStale.Store(true)
				return nil, err
			}
			continue
		}
		if run == nil {
			return nil, fmt.Errorf("audit entry %d comes before the audit's start", e.Index)
		}
		run.record(a, e, le)
	}
	n.audit, n.auditLoaded = run, true
	return run, nil
}

// record takes in a logged sample, risk or hand count, once (loadAudit may read it again).
func (r *auditRun) record(a report.Audit, e store.Entry, le report.Entry) {
	if a.Event != report.AuditHandCount {
		if !r.logged[auditKey(a)] {
			r.logged[auditKey(a)], r.view = true, nil
		}
		return
	}
	if _, ok := r.hand[a.PrecinctID]; ok { // a precinct's hand count is entered once (KeyHandCount)
		return
	}
	r.view = nil
	r.hand[a.PrecinctID] = audit.HandCounted{First: a.First, Final: a.Final}
	r.handEntry = append(r.handEntry, results.AuditHandCount{PrecinctID: a.PrecinctID, First: orEmpty(a.First),
		Final: orEmpty(a.Final), KeyedBy: a.KeyedBy, EnteredAt: le.ReceivedAt, LogIndex: e.Index})
}

func orEmpty(c rules.Counts) map[string]int64 {
	if c == nil {
		return map[string]int64{}
	}
	return c
}

// newAuditRun builds the audit of a start entry: the contests of the results at the checkpoint
// it names, recomputed from the log's first entries as results.csv publishes them.
func (n *Night) newAuditRun(ctx context.Context, a report.Audit, e store.Entry) (*auditRun, error) {
	alpha, err := audit.ParseRiskLimit(a.RiskLimit)
	if err != nil {
		return nil, err
	}
	el, err := n.auditedElection(ctx, a.LogSize)
	if err != nil {
		return nil, err
	}
	return &auditRun{start: a, startEntry: e, alpha: alpha, el: el, hand: map[string]audit.HandCounted{}, logged: map[string]bool{}}, nil
}

// auditedElection is the audit's contests over the results at log size size.
func (n *Night) auditedElection(ctx context.Context, size int64) (*audit.Election, error) {
	var es []store.Entry
	for from := int64(0); from < size; {
		chunk, err := n.store.Entries(ctx, from, min(size, from+rebuildChunk))
		if err != nil {
			return nil, fmt.Errorf("read entries: %w", err)
		}
		if len(chunk) == 0 {
			return nil, fmt.Errorf("the log has fewer than %d entries", size)
		}
		es = append(es, chunk...)
		from += int64(len(chunk))
	}
	snap, err := tally.Recount(n.def, es)
	if err != nil {
		return nil, fmt.Errorf("results at log size %d: %w", size, err)
	}
	body, _ := snap.CSV()
	ps, err := resultscsv.Read(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("results at log size %d: %w", size, err)
	}
	ratios := map[string]*big.Rat{}
	for _, c := range n.def.Counties() {
		if r, ok := c.SDERatio(); ok {
			ratios[c.ID] = r
		}
	}
	el, err := audit.FromPublished(ps, func(id string) *big.Rat { return ratios[id] }, n.def.Election().Rules)
	if err != nil {
		return nil, fmt.Errorf("the audit's contests at log size %d: %w", size, err)
	}
	return el, nil
}

// StartAudit starts the risk-limiting audit of the current checkpoint with a seed of dice digits
// and a risk limit in percent, and logs the first round's samples. It is refused once the audit
// has started.
func (n *Night) StartAudit(ctx context.Context, author, seed, riskLimit string) (results.Audit, error) {
	n.auditMu.Lock()
	defer n.auditMu.Unlock()
	var out results.Audit
	err := n.exclusive(ctx, func(ctx context.Context) (err error) {
		out, err = n.startAudit(ctx, author, seed, riskLimit)
		return err
	})
	return out, err
}

func (n *Night) startAudit(ctx context.Context, author, seed, riskLimit string) (results.Audit, error) {
	run, err := n.loadAudit(ctx)
	if err != nil {
		return results.Audit{}, err
	}
	if run != nil {
		return results.Audit{}, auditRefused(ErrAuditStarted, "started by %s at %s (log entry %d)",
			run.startEntry.Submitter, run.startEntry.ReceivedAt.UTC().Format(report.TimeFormat), run.startEntry.Index)
	}
	if err := audit.ValidSeed(seed); err != nil {
		return results.Audit{}, fmt.Errorf("%w: %w", ErrAuditRefused, err)
	}
	alpha, err := audit.ParseRiskLimit(riskLimit)
	if err != nil {
		return results.Audit{}, fmt.Errorf("%w: %w", ErrAuditRefused, err)
	}
	// The state's certification in force names the checkpoint audited: the certified results
	// are what the audit confirms. Before a certification, the latest signed checkpoint: what
	// the public can verify.
	_, cp := n.Checkpoint()
	size, root, certified := cp.N, hex.EncodeToString(cp.Hash[:]), false
	for _, c := range n.Snapshot().Certifications().Certifications {
		if c.Scope == report.StateScope && c.InForce && c.LogSize != nil && c.RootHash != nil {
			h, err := base64.StdEncoding.DecodeString(*c.RootHash) // a checkpoint's encoding; the audit's is hex
			if err != nil {
				return results.Audit{}, fmt.Errorf("certification %d: root hash %q: %w", c.LogIndex, *c.RootHash, err)
			}
			size, root, certified = *c.LogSize, hex.EncodeToString(h), true
		}
	}
	if size == 0 {
		return results.Audit{}, fmt.Errorf("%w: the log is empty: nothing to audit", ErrAuditRefused)
	}
	el, err := n.auditedElection(ctx, size)
	if err != nil {
		return results.Audit{}, fmt.Errorf("%w: %w", ErrAuditRefused, err)
	}
	start := report.Audit{Event: report.AuditStart, LogSize: size, RootHash: root, Certified: certified,
		Seed: seed, RiskLimit: exactPercent(alpha)}
	es, err := n.appendAudit(ctx, author, []report.Audit{start})
	if err != nil {
		return results.Audit{}, err
	}
	run = &auditRun{start: start, startEntry: es[0], alpha: alpha, el: el, hand: map[string]audit.HandCounted{}, logged: map[string]bool{}}
	n.audit = run
	if err := n.syncAudit(ctx, run, author); err != nil {
		return results.Audit{}, err
	}
	return n.auditView(run)
}

// exactPercent writes α as a percent with the fewest decimals.
func exactPercent(alpha *big.Rat) string {
	return exactDecimal(new(big.Rat).Mul(alpha, big.NewRat(100, 1)))
}

func mustRat(s string) *big.Rat {
	r, _ := new(big.Rat).SetString(s)
	return r
}

// syncAudit appends the samples and risks the replay gives that the log does not have yet.
func (n *Night) syncAudit(ctx context.Context, run *auditRun, author string) error {
	replays, err := run.el.Status(run.start.Seed, run.alpha, run.hand)
	if err != nil {
		return fmt.Errorf("replay the audit: %w", err)
	}
	var todo []report.Audit
	for _, rec := range AuditRecords(run.el, replays) {
		if !run.logged[auditKey(rec)] {
			todo = append(todo, rec)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if _, err := n.appendAudit(ctx, author, todo); err != nil {
		return err
	}
	for _, rec := range todo {
		run.logged[auditKey(rec)] = true
	}
	run.view = nil
	return nil
}

// AuditRecords is every sample and risk entry an audit's replay gives, in log order: per
// contest, each round's sample, then its risk once the round is counted.
func AuditRecords(el *audit.Election, replays []*audit.Replay) []report.Audit {
	var out []report.Audit
	for i, r := range replays {
		c := el.Contests[i]
		for k, ts := range r.RoundTickets() {
			s := report.Audit{Event: report.AuditSample, Contest: string(c.Kind), Round: k + 1}
			for _, t := range ts {
				s.Tickets = append(s.Tickets, report.AuditTicket{Draw: t.Draw, Hash: t.HashHex(), PrecinctID: t.PrecinctID})
			}
			out = append(out, s)
			if k < len(r.Progress.Rounds) {
				rd := r.Progress.Rounds[k]
				status := audit.InProgress
				if k == len(r.Progress.Rounds)-1 {
					status = r.Progress.Status
				}
				ra := report.Audit{Event: report.AuditRisk, Contest: string(c.Kind), Round: k + 1,
					Draws: rd.Draws, Risk: rd.Risk.String(), Status: string(status)}
				for _, o := range r.RoundOverstatements(ts) {
					ra.Overstatements = append(ra.Overstatements, report.AuditOverstatement{PrecinctID: o.PrecinctID, E: o.E.String()})
				}
				out = append(out, ra)
			}
		}
	}
	return out
}

// appendAudit appends audit entries in one batch and brings the log and the tally up to them.
func (n *Night) appendAudit(ctx context.Context, author string, recs []report.Audit) ([]store.Entry, error) {
	now := n.now().UTC().Truncate(time.Millisecond)
	batch := make([]store.NewEntry, len(recs))
	for i := range recs {
		leaf := report.Entry{Kind: report.KindAudit, ElectionID: n.def.Election().ID, ReceivedAt: report.FormatTime(now),
			Submitter: author, Channel: string(store.ChannelStaff), Audit: &recs[i]}
		batch[i] = store.NewEntry{Kind: store.KindAudit, Submitter: author, Channel: store.ChannelStaff,
			ReceivedAt: now, Body: leaf.Marshal()}
	}
	res, err := n.store.Append(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("append audit entries: %w", err)
	}
	out := make([]store.Entry, len(res))
	for i, r := range res {
		if r.Outcome != store.Appended {
			return nil, fmt.Errorf("append audit entry: outcome %s: %w", r.Outcome, r.Err)
		}
		out[i] = r.Entry
	}
	if err := n.follow(context.WithoutCancel(ctx), out[len(out)-1].Index+1); err != nil {
		return nil, fmt.Errorf("follow audit entries: %w", err)
	}
	return out, nil
}

// HandCountKeyed is the outcome of one operator's keying of a hand count.
type HandCountKeyed struct {
	State       string           `json:"state"` // waiting_second, matched or mismatch
	LogIndex    *int64           `json:"log_index,omitempty"`
	LeafHash    string           `json:"leaf_hash,omitempty"`
	Differences []HandDifference `json:"differences,omitempty"`
}

// HandDifference is a field where this keying differs from another operator's: only this
// keying's value is shown, so that the next keying is a count of the cards, not a copy.
type HandDifference struct {
	Field       string `json:"field"` // first or final
	CandidateID string `json:"candidate_id"`
	Yours       int64  `json:"yours"`
}

type handCopy struct {
	First rules.Counts `json:"first"`
	Final rules.Counts `json:"final"`
}

// KeyHandCount keys one operator's copy of a sampled precinct's hand count. The first copy
// waits for a second operator's; matching copies of two operators become the precinct's
// hand_count entry, and the audit's next samples and risks follow; copies that differ are a
// mismatch, shown field by field, and a third operator keys the cards again.
func (n *Night) KeyHandCount(ctx context.Context, operator, precinctID string, first, final rules.Counts) (HandCountKeyed, error) {
	n.auditMu.Lock()
	defer n.auditMu.Unlock()
	var out HandCountKeyed
	err := n.exclusive(ctx, func(ctx context.Context) (err error) {
		out, err = n.keyHandCount(ctx, operator, precinctID, first, final)
		return err
	})
	return out, err
}

func (n *Night) keyHandCount(ctx context.Context, operator, precinctID string, first, final rules.Counts) (HandCountKeyed, error) {
	run, err := n.loadAudit(ctx)
	if err != nil {
		return HandCountKeyed{}, err
	}
	if run == nil {
		return HandCountKeyed{}, auditRefused(ErrAuditNotStarted, "an admin starts it with the seed")
	}
	if _, ok := run.hand[precinctID]; ok {
		return HandCountKeyed{}, auditRefused(ErrHandCounted, "precinct %s", precinctID)
	}
	replays, err := run.el.Status(run.start.Seed, run.alpha, run.hand)
	if err != nil {
		return HandCountKeyed{}, fmt.Errorf("replay the audit: %w", err)
	}
	sampled := false
	for _, r := range replays {
		sampled = sampled || slices.Contains(r.Waiting, precinctID)
	}
	if !sampled {
		return HandCountKeyed{}, auditRefused(ErrNotSampled, "precinct %s is not waiting for a hand count", precinctID)
	}
	hc, err := n.checkHandCount(run, precinctID, first, final)
	if err != nil {
		return HandCountKeyed{}, err
	}
	copies, err := n.store.HandCopies(ctx, precinctID)
	if err != nil {
		return HandCountKeyed{}, fmt.Errorf("read hand copies: %w", err)
	}
	if slices.ContainsFunc(copies, func(c store.HandCopy) bool { return c.Operator == operator }) {
		return HandCountKeyed{}, auditRefused(ErrSameOperator, "%s has keyed precinct %s already", operator, precinctID)
	}
	body, err := json.Marshal(hc)
	if err != nil {
		return HandCountKeyed{}, err
	}
	if _, err := n.store.AddHandCopy(ctx, store.HandCopy{PrecinctID: precinctID, Operator: operator, Counts: body}); err != nil {
		return HandCountKeyed{}, fmt.Errorf("store hand copy: %w", err)
	}
	if len(copies) == 0 {
		return HandCountKeyed{State: "waiting_second"}, nil
	}
	var diffs []HandDifference
	for i := len(copies) - 1; i >= 0; i-- {
		var other handCopy
		if err := json.Unmarshal(copies[i].Counts, &other); err != nil {
			return HandCountKeyed{}, fmt.Errorf("hand copy %d: %w", copies[i].ID, err)
		}
		d := handDiff(hc, other)
		if len(d) > 0 {
			if diffs == nil {
				diffs = d
			}
			continue
		}
		a := report.Audit{Event: report.AuditHandCount, PrecinctID: precinctID, First: hc.First, Final: hc.Final,
			KeyedBy: []string{copies[i].Operator, operator}}
		es, err := n.appendAudit(ctx, operator, []report.Audit{a})
		if err != nil {
			return HandCountKeyed{}, err
		}
		le, err := report.ParseEntry(es[0].Body)
		if err != nil {
			return HandCountKeyed{}, fmt.Errorf("hand count entry %d: %w", es[0].Index, err)
		}
		run.record(a, es[0], le)
		if err := n.syncAudit(ctx, run, operator); err != nil {
			return HandCountKeyed{}, err
		}
		idx := es[0].Index
		return HandCountKeyed{State: "matched", LogIndex: &idx, LeafHash: report.HexHash(es[0].LeafHash)}, nil
	}
	return HandCountKeyed{State: "mismatch", Differences: diffs}, nil
}

// checkHandCount checks a keyed hand count: every candidate of the election, each with a count
// (a candidate left out counts 0), and a precinct the rules can compute.
func (n *Night) checkHandCount(run *auditRun, precinctID string, first, final rules.Counts) (handCopy, error) {
	hc := handCopy{First: rules.Counts{}, Final: rules.Counts{}}
	known := map[string]bool{}
	for _, c := range n.def.Candidates() {
		known[c.ID] = true
		hc.First[c.ID], hc.Final[c.ID] = first[c.ID], final[c.ID]
	}
	for _, cs := range []rules.Counts{first, final} {
		for id, v := range cs {
			if !known[id] {
				return handCopy{}, fmt.Errorf("%w: %q is not a candidate of this election", ErrAuditRefused, id)
			}
			if v < 0 || v > rules.MaxCount {
				return handCopy{}, fmt.Errorf("%w: the count of %s must be from 0 to %d", ErrAuditRefused, id, rules.MaxCount)
			}
		}
	}
	if _, err := run.el.HandCount(precinctID, hc.First, hc.Final); err != nil {
		return handCopy{}, fmt.Errorf("%w: %w", ErrAuditRefused, err)
	}
	return hc, nil
}

func handDiff(mine, other handCopy) []HandDifference {
	var out []HandDifference
	for _, f := range []struct {
		name      string
		mine, oth rules.Counts
	}{{"first", mine.First, other.First}, {"final", mine.Final, other.Final}} {
		for _, id := range slices.Sorted(maps.Keys(f.mine)) {
			if f.mine[id] != f.oth[id] {
				out = append(out, HandDifference{Field: f.name, CandidateID: id, Yours: f.mine[id]})
			}
		}
	}
	return out
}

// AuditStatus is the audit as GET /api/v1/audit publishes it.
func (n *Night) AuditStatus(ctx context.Context) (results.Audit, error) {
	n.auditMu.Lock()
	defer n.auditMu.Unlock()
	run, err := n.loadAudit(ctx)
	if err != nil {
		return results.Audit{}, err
	}
	if run == nil {
		return results.Audit{Status: "not_started", PrecinctsToCount: []string{}, Contests: []results.AuditContest{},
			HandCounts: []results.AuditHandCount{}}, nil
	}
	return n.auditView(run)
}

func (n *Night) auditView(run *auditRun) (results.Audit, error) {
	if run.view != nil {
		return *run.view, nil
	}
	replays, err := run.el.Status(run.start.Seed, run.alpha, run.hand)
	if err != nil {
		return results.Audit{}, fmt.Errorf("replay the audit: %w", err)
	}
	idx := run.startEntry.Index
	out := results.Audit{Seed: run.start.Seed, RiskLimit: json.Number(run.start.RiskLimit), LogSize: run.start.LogSize,
		RootHash: run.start.RootHash, Certified: run.start.Certified, StartedBy: run.startEntry.Submitter,
		StartedAt: report.FormatTime(run.startEntry.ReceivedAt), LogIndex: &idx, PrecinctsToCount: []string{},
		HandCounts: append([]results.AuditHandCount{}, run.handEntry...)}
	statuses := map[audit.Status]int{}
	for i, r := range replays {
		cv := ContestView(run.el.Contests[i], r, run.alpha)
		statuses[r.Progress.Status]++
		for _, id := range r.Waiting {
			if !slices.Contains(out.PrecinctsToCount, id) {
				out.PrecinctsToCount = append(out.PrecinctsToCount, id)
			}
		}
		out.Contests = append(out.Contests, cv)
	}
	slices.Sort(out.PrecinctsToCount)
	switch {
	case statuses[audit.InProgress] > 0:
		out.Status = string(audit.InProgress)
	case statuses[audit.FullHandCount] > 0:
		out.Status = string(audit.FullHandCount)
	default:
		out.Status = string(audit.Confirmed)
	}
	run.view = &out
	return out, nil
}

// ContestView is one contest's audit for the public.
func ContestView(c *audit.Contest, r *audit.Replay, alpha *big.Rat) results.AuditContest {
	p := r.Progress
	pl := c.Plan(alpha)
	cv := results.AuditContest{Contest: string(c.Kind), Winner: c.Winner, RunnerUp: c.RunnerUp, Margin: exactDecimal(c.Margin()),
		ExpectedSample: pl.ExpectedSample, Status: string(p.Status), Draws: len(p.Draws), Risk: p.Risk.String(),
		Rounds: []results.AuditRound{}, Sample: []results.AuditTicket{}, Waiting: append([]string{}, r.Waiting...),
		Discrepancies: []results.AuditDiscrepancy{}}
	if c.U != nil {
		cv.UTotal = c.U.FloatString(6)
	}
	for k, rd := range p.Rounds {
		cv.Rounds = append(cv.Rounds, results.AuditRound{Round: k + 1, Draws: rd.Draws, Risk: rd.Risk.String()})
	}
	for k, ts := range r.RoundTickets() {
		for _, t := range ts {
			cv.Sample = append(cv.Sample, results.AuditTicket{Round: k + 1, Draw: t.Draw, Hash: t.HashHex(), PrecinctID: t.PrecinctID})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Overstatements)) {
		if e := r.Overstatements[id]; e.Sign() != 0 {
			cv.Discrepancies = append(cv.Discrepancies, results.AuditDiscrepancy{PrecinctID: id, Overstatement: e.FloatString(6)})
		}
	}
	pct := exactPercent(alpha)
	switch p.Status {
	case audit.Confirmed:
		cv.Conclusion = fmt.Sprintf("Confirmed: the measured risk %s is at most the risk limit of %s %%; %s won.", cv.Risk, pct, c.Winner)
	case audit.FullHandCount:
		// A full hand count is the recanvass of every precinct from its preference cards
		// (POST /api/v1/hq/recanvass/{id} with source "cards"): each difference corrects the
		// counted report, so the published outcome becomes the hand count's.
		cv.Conclusion = "Only a full hand count can confirm this outcome: recanvass every precinct from its preference cards; the recanvassed counts then become the published ones."
		if pl.Reason != "" && len(p.Rounds) == 0 {
			cv.Conclusion += " " + strings.ToUpper(pl.Reason[:1]) + pl.Reason[1:] + "."
		}
	default:
		cv.Conclusion = fmt.Sprintf("In progress: %d precincts to hand count in round %d.", len(r.Waiting), len(p.Rounds)+1)
	}
	return cv
}

// exactDecimal writes a rational with a terminating decimal expansion exactly, with the fewest
// decimals; any other as "p/q".
func exactDecimal(r *big.Rat) string {
	if r == nil {
		return ""
	}
	for places := 0; places <= 30; places++ {
		if s := r.FloatString(places); mustRat(s).Cmp(r) == 0 {
			return s
		}
	}
	return r.String()
}
