package rules

import "encoding/json"

// Result is the outcome of Calc: the contract's `caucus calc --json` object (spec/interfaces.md)
// plus viable_first (R54). Pointers are null in JSON: attendees and delegates_to_elect when not
// valid (C01), threshold when there is none (straw-poll, D = 0, C01).
type Result struct {
	Rules            Profile
	DelegatesToElect *int64
	Attendees        *int64
	Threshold        *int64
	Participants     *int64 // Nevada: P = attendees + valid early cards (R30)
	EarlyExhausted   *int64 // Nevada: cards with no viable choice (R31)
	Groups           []Group
	TiebreaksNeeded  []TieNeeded
	Checks           []Check
	// TiebreaksSettled are the recorded games of chance that decided the allocation, one per
	// winner: what the results publish. Not part of `caucus calc --json`.
	TiebreaksSettled []TieSettled
}

// Group is one candidate's line of the result. First and Final are combined (in person + early
// cards) in Nevada. Viable, ViableFirst, Delegates and SDE are nil in straw-poll; SDE is nil when
// no ratio was given or while a game of chance is still needed.
type Group struct {
	CandidateID string
	First       int64
	Final       int64
	Viable      *bool
	ViableFirst *bool
	Delegates   *int64
	SDE         *string

	// In-person numbers (equal to First and Final outside Nevada); not part of the wire format.
	InPersonFirst, InPersonFinal int64
}

// TieNeeded is a game of chance the allocation cannot finish without (R12): Delegates of the
// Between groups come out ahead.
type TieNeeded struct {
	Kind      string   `json:"kind"`
	Between   []string `json:"between"`
	Delegates int64    `json:"delegates"`
}

// TieSettled is one winner of a game of chance that decided delegates (R12): Kind as recorded,
// Between the tied groups in id order, Delegates how many the tie decided (as many winners as
// that), Winner the group that came out ahead.
type TieSettled struct {
	Kind      string
	Between   []string
	Delegates int64
	Winner    string
}

// HasErrors reports whether any check has severity error: a live report with errors is refused.
func (r *Result) HasErrors() bool {
	for _, c := range r.Checks {
		if c.Severity == Error {
			return true
		}
	}
	return false
}

// Has reports whether the check with this ID fired.
func (r *Result) Has(id CheckID) bool {
	for _, c := range r.Checks {
		if c.ID == id {
			return true
		}
	}
	return false
}

// TieOpen reports whether a game of chance is still needed.
func (r *Result) TieOpen() bool { return len(r.TiebreaksNeeded) > 0 }

// DelegatesByGroup returns the computed delegates of every group (nil in straw-poll).
func (r *Result) DelegatesByGroup() Counts {
	if r.Rules == StrawPoll {
		return nil
	}
	m := make(Counts, len(r.Groups))
	for _, g := range r.Groups {
		if g.Delegates != nil {
			m[g.CandidateID] = *g.Delegates
		}
	}
	return m
}

type groupJSON struct {
	CandidateID string  `json:"candidate_id"`
	First       int64   `json:"first"`
	Final       int64   `json:"final"`
	Viable      *bool   `json:"viable"`
	ViableFirst *bool   `json:"viable_first"`
	Delegates   *int64  `json:"delegates"`
	SDE         *string `json:"sde"`
}

// MarshalJSON writes the group in the contract's field order.
func (g Group) MarshalJSON() ([]byte, error) {
	return json.Marshal(groupJSON{g.CandidateID, g.First, g.Final, g.Viable, g.ViableFirst, g.Delegates, g.SDE})
}

// MarshalJSON writes the result in the contract's shape; participants and early_exhausted appear
// only for nevada-dem-2020 (R54); lists are never null.
func (r Result) MarshalJSON() ([]byte, error) {
	groups, ties, checks := r.Groups, r.TiebreaksNeeded, r.Checks
	if groups == nil {
		groups = []Group{}
	}
	if ties == nil {
		ties = []TieNeeded{}
	}
	if checks == nil {
		checks = []Check{}
	}
	if r.Rules == NevadaDem2020 {
		return json.Marshal(struct {
			Rules            Profile     `json:"rules"`
			DelegatesToElect *int64      `json:"delegates_to_elect"`
			Attendees        *int64      `json:"attendees"`
			Threshold        *int64      `json:"threshold"`
			Participants     *int64      `json:"participants"`
			EarlyExhausted   *int64      `json:"early_exhausted"`
			Groups           []Group     `json:"groups"`
			TiebreaksNeeded  []TieNeeded `json:"tiebreaks_needed"`
			Checks           []Check     `json:"checks"`
		}{r.Rules, r.DelegatesToElect, r.Attendees, r.Threshold, r.Participants, r.EarlyExhausted, groups, ties, checks})
	}
	return json.Marshal(struct {
		Rules            Profile     `json:"rules"`
		DelegatesToElect *int64      `json:"delegates_to_elect"`
		Attendees        *int64      `json:"attendees"`
		Threshold        *int64      `json:"threshold"`
		Groups           []Group     `json:"groups"`
		TiebreaksNeeded  []TieNeeded `json:"tiebreaks_needed"`
		Checks           []Check     `json:"checks"`
	}{r.Rules, r.DelegatesToElect, r.Attendees, r.Threshold, groups, ties, checks})
}
