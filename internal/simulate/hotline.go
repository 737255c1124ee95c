package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"

	"caucus/internal/client"
	"caucus/internal/report"
)

// Hotline sends a share of the chairs' reports by phone (`caucus simulate --hotline-share`):
// each such chair reads the worksheet to a first operator, a second operator keys it again
// independently, sometimes with a keying slip, and a third keys it when the two copies differ.
// Every slip must be caught (a mismatch naming the field, nothing counted), and the published
// numbers must still equal the truth.
type Hotline struct {
	// Share is the part of the precincts that report by phone, 0 to 1.
	Share float64
	// Operators are the operators' accounts, at least three: two key each worksheet, a third
	// settles a mismatch (an operator never keys two copies of one precinct).
	Operators []Staff
	// SlipPercent is how many second copies in a hundred carry a keying slip; 0: 30.
	SlipPercent int
}

// defaultSlipPercent: a tired operator at 2 a.m. mishears a number now and then; a third of
// second copies makes every path of the double entry frequent in a small rehearsal.
const defaultSlipPercent = 30

// phones reports whether chair i reports by phone, chosen from the seed.
func (h *Hotline) phones(seed uint64, i int) bool {
	if h == nil || h.Share <= 0 {
		return false
	}
	return rand.New(rand.NewPCG(seed^0x686f746c696e65, uint64(i))).Float64() < h.Share
}

// phone reports the chair's precinct through the hotline: the first report the math accepts
// (a worksheet with errors is read back and corrected on the phone, as the console's live math
// shows them), keyed by two operators, a third when their copies differ.
func (c *chair) phone(ctx context.Context, cfg Config, sum *Summary, ops []string) {
	id := c.plan.Precinct.ID
	h := cfg.Hotline
	var r report.Report
	found := false
	for _, p := range c.plan.Reports {
		if res := cfg.Truth.Calc(p); !res.HasErrors() {
			r, found = p, true
			break
		}
	}
	if !found {
		sum.event("hotline: no worksheet without errors (not phoned)")
		return
	}
	r.Channel = report.ChannelHotline
	want := cfg.Truth.Calc(r)
	order := c.rng.Perm(len(ops))
	pin := cfg.PINs[id]
	retry := client.Retry{Attempts: attempts, MaxWait: cfg.RetryWait}
	key := func(op int, copy report.Report) (client.Keyed, bool) {
		k, err := c.cl.KeyHotline(ctx, ops[order[op]], pin, copy, retry)
		if err != nil {
			sum.problem("precinct %s: hotline copy by operator %d: %v", id, op+1, err)
			return k, false
		}
		return k, true
	}
	first, ok := key(0, r)
	if !ok {
		return
	}
	if first.State != "waiting_second" {
		sum.problem("precinct %s: first hotline copy answered %d %s; want waiting_second", id, first.Status, first.State)
		return
	}
	second := r
	var field string
	slipPct := h.SlipPercent
	if slipPct == 0 {
		slipPct = defaultSlipPercent
	}
	if c.rng.IntN(100) < slipPct {
		if s, f, ok := keyingSlip(cfg, r, c.rng); ok {
			second, field = s, f
			sum.mu.Lock()
			sum.Slips++
			sum.mu.Unlock()
		}
	}
	last, ok := key(1, second)
	if !ok {
		return
	}
	if field != "" {
		var fields []string
		for _, d := range last.Differences {
			f := d.Field
			if d.CandidateID != "" {
				f += "." + d.CandidateID
			}
			fields = append(fields, f)
		}
		if last.State != "mismatch" || !slices.Contains(fields, field) {
			sum.problem("precinct %s: a slip in %s was not caught: %s, differences %v", id, field, last.State, fields)
			return
		}
		sum.mu.Lock()
		sum.SlipsCaught++
		sum.mu.Unlock()
		sum.event("hotline: slip caught (third copy keyed)")
		if last, ok = key(2, r); !ok {
			return
		}
	}
	if last.State != "matched" || last.Receipt == nil {
		sum.problem("precinct %s: agreeing hotline copies answered %d %s; want matched", id, last.Status, last.State)
		return
	}
	sum.event(fmt.Sprintf("hotline: matched (%s)", last.Counted))
	r.ReportID = last.Receipt.ReportID // the round's report
	c.expectStored(cfg, sum, r, want, client.Submitted{Status: http.StatusCreated, Receipt: last.Receipt, Checks: last.Checks, Tries: 1}, false, false)
}

// keyingSlip is r as a second operator mis-keys it: one number off by one to three (the
// attendees, or one group's count in both alignments, as a misheard number is typed twice),
// among the slips the math lets through (a slip it refuses never reaches the double entry).
func keyingSlip(cfg Config, r report.Report, rng *rand.Rand) (report.Report, string, bool) {
	groups := slices.Sorted(keys(r.First))
	for range 50 {
		s := r
		s.First, s.Final = maps(r.First), maps(r.Final)
		d := int64(1 + rng.IntN(3))
		field := "attendees"
		if k := rng.IntN(len(groups) + 1); k == len(groups) {
			s.Attendees += d
		} else {
			g := groups[k]
			s.First[g] += d
			if _, ok := s.Final[g]; ok {
				s.Final[g] += d
			}
			s.Attendees += d
			field = "first." + g
		}
		if res := cfg.Truth.Calc(s); !res.HasErrors() {
			return s, field, true
		}
	}
	return r, "", false
}
