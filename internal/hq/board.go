package hq

import (
	"cmp"
	"slices"
	"time"

	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/tally"
)

// Board is GET /api/v1/hq/board and the data of the `board` event of GET /api/v1/hq/events:
// headquarters' progress board, computed from the night's snapshot (the same tally the public
// results come from), the practice election's, the audit trail's logins and the login failure
// counts. The fields of spec/interfaces.md come first; the others are added.
type Board struct {
	PrecinctsTotal     int            `json:"precincts_total"`
	PrecinctsReporting int            `json:"precincts_reporting"` // a report counts, whatever its status
	ByStatus           map[string]int `json:"by_status"`           // every status of results.Statuses, zeros too
	ByChannel          Channels       `json:"by_channel"`          // of the counted reports
	Counties           []County       `json:"counties"`            // the definition's order
	// Missing are the precincts with no report, the chair heard from least recently first
	// (never logged in, then the oldest last login), then in the definition's order.
	Missing       []Missing `json:"missing"`
	ReviewWaiting int       `json:"review_waiting"` // precincts under review, conflicts among them
	// LoginAttacks are the precincts with wrong PINs or login links since AttackWindow before
	// the server started (at most MaxAttacks), the most of the PIN budget spent first.
	LoginAttacks []Attack `json:"login_attacks"`

	ElectionID        string         `json:"election_id"`
	LogSize           int64          `json:"log_size"`
	UpdatedAt         *string        `json:"updated_at"` // of the last entry; null before the first
	Conflicts         int            `json:"conflicts"`  // under review because a second report differs
	Flagged           int            `json:"flagged"`    // a check fired on the counted report
	PrecinctsWithheld int            `json:"precincts_withheld"`
	Policy            results.Policy `json:"publication_policy"`
	Readiness         Readiness      `json:"readiness"`
	ContactsLoaded    bool           `json:"contacts_loaded"` // a contacts.csv was read
	// Hotline is the hotline's figures (calls waiting, in progress, operators busy, average
	// and oldest wait, mismatches waiting); absent on a server without the hotline.
	Hotline *hotline.Stats `json:"hotline,omitempty"`
}

// Channels count precincts by the channel of their counted report.
type Channels struct {
	App     int `json:"app"`
	Hotline int `json:"hotline"`
	Paper   int `json:"paper"`
}

// County is one county's line on the board.
type County struct {
	CountyID    string `json:"county_id"`
	Name        string `json:"name"`
	Reporting   int    `json:"reporting"`
	Total       int    `json:"total"`
	Flagged     int    `json:"flagged"`      // a check fired on the counted report
	UnderReview int    `json:"under_review"` // conflicts among them
}

// Missing is a precinct with no report, and whom to call.
type Missing struct {
	PrecinctID   string   `json:"precinct_id"`
	CountyID     string   `json:"county_id"`
	Name         string   `json:"name"`
	ChairContact *Contact `json:"chair_contact"` // null when contacts.csv has no line for it
	// LastSeen is the chair's latest login (live or practice), null when never.
	LastSeen         *time.Time `json:"last_seen"`
	PracticeReported bool       `json:"practice_reported"`
}

// Attack is a precinct whose PIN budget is being spent: an attacker guessing, or a chair who
// lost the card.
type Attack struct {
	PrecinctID   string    `json:"precinct_id"`
	CountyID     string    `json:"county_id"`
	Failures     int       `json:"failures"`      // wrong or refused logins counted (see Board.LoginAttacks)
	BudgetSpent  int       `json:"budget_spent"`  // of the live PIN budget, now
	Budget       int       `json:"budget"`        // auth.PrecinctBudget
	Closed       bool      `json:"closed"`        // the budget is spent: PIN login closed until reopened
	LastFailure  time.Time `json:"last_failure"`  // the minute of the latest
	ChairContact *Contact  `json:"chair_contact"` // to call the chair back before reopening
}

// Readiness is before the night: which chairs have logged in and sent a practice report.
type Readiness struct {
	LoggedIn         int `json:"logged_in"`         // chairs who have logged in (live or practice)
	PracticeReported int `json:"practice_reported"` // precincts with a report in the practice election
	Total            int `json:"total"`
}

// inputs are what a board is computed from.
type inputs struct {
	def      *election.Definition
	snap     *tally.Snapshot
	practice *tally.Snapshot // nil without a practice election
	lastSeen map[string]time.Time
	attacks  []Attack // without county or contact
	contacts Contacts
}

// compute builds the board. Its work is one pass over the precincts.
func compute(in inputs) *Board {
	def, snap := in.def, in.snap
	b := &Board{ByStatus: map[string]int{}, Counties: []County{}, Missing: []Missing{}, LoginAttacks: []Attack{},
		ElectionID: def.Election().ID, LogSize: snap.LogSize(), Policy: snap.Policy(), ContactsLoaded: in.contacts != nil}
	if u := snap.UpdatedAt(); u != "" {
		b.UpdatedAt = &u
	}
	for _, s := range results.Statuses {
		b.ByStatus[string(s)] = 0
	}
	practiced := map[string]bool{}
	if in.practice != nil {
		for l := range in.practice.Lines {
			if l.Status != results.NotReported {
				practiced[l.PrecinctID] = true
			}
		}
	}
	county := map[string]int{}
	for i, c := range def.Counties() {
		county[c.ID] = i
		b.Counties = append(b.Counties, County{CountyID: c.ID, Name: c.Name})
	}
	for l := range snap.Lines {
		c := &b.Counties[county[l.CountyID]]
		b.PrecinctsTotal++
		c.Total++
		b.ByStatus[string(l.Status)]++
		if practiced[l.PrecinctID] {
			b.Readiness.PracticeReported++
		}
		if _, ok := in.lastSeen[l.PrecinctID]; ok {
			b.Readiness.LoggedIn++
		}
		if l.Status == results.NotReported {
			m := Missing{PrecinctID: l.PrecinctID, CountyID: l.CountyID, PracticeReported: practiced[l.PrecinctID],
				ChairContact: in.contacts.of(l.PrecinctID)}
			if p, ok := def.Precinct(l.PrecinctID); ok {
				m.Name = p.Name
			}
			if t, ok := in.lastSeen[l.PrecinctID]; ok {
				m.LastSeen = &t
			}
			b.Missing = append(b.Missing, m)
			continue
		}
		b.PrecinctsReporting++
		c.Reporting++
		switch l.Channel {
		case report.ChannelApp:
			b.ByChannel.App++
		case report.ChannelHotline:
			b.ByChannel.Hotline++
		case report.ChannelPaper:
			b.ByChannel.Paper++
		}
		if l.Flags > 0 {
			b.Flagged++
			c.Flagged++
		}
		if l.Status == results.UnderReview {
			b.ReviewWaiting++
			c.UnderReview++
		}
		if l.Conflict {
			b.Conflicts++
		}
		if l.Withheld {
			b.PrecinctsWithheld++
		}
	}
	b.Readiness.Total = b.PrecinctsTotal
	// Never seen first, then the longest since; a stable sort keeps the definition's order.
	slices.SortStableFunc(b.Missing, func(x, y Missing) int {
		switch {
		case x.LastSeen == nil && y.LastSeen == nil:
			return 0
		case x.LastSeen == nil:
			return -1
		case y.LastSeen == nil:
			return 1
		}
		return x.LastSeen.Compare(*y.LastSeen)
	})
	for _, a := range in.attacks {
		if p, ok := def.Precinct(a.PrecinctID); ok {
			a.CountyID = p.CountyID
			a.ChairContact = in.contacts.of(a.PrecinctID)
			b.LoginAttacks = append(b.LoginAttacks, a)
		}
	}
	slices.SortStableFunc(b.LoginAttacks, func(x, y Attack) int {
		if c := cmp.Compare(y.BudgetSpent, x.BudgetSpent); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Failures, x.Failures); c != 0 {
			return c
		}
		return cmp.Compare(x.PrecinctID, y.PrecinctID)
	})
	return b
}

// of is the contact of a precinct, or nil.
func (cs Contacts) of(id string) *Contact {
	if c, ok := cs[id]; ok {
		return &c
	}
	return nil
}
