package rules

import (
	"slices"
	"strings"
)

// checks collects findings, at most one per ID, and sorts them by ID.
type checks struct {
	mode  Mode
	items []Check
}

func (c *checks) add(id CheckID, args Args) {
	for _, it := range c.items {
		if it.ID == id {
			return
		}
	}
	sev := id.liveSeverity()
	if c.mode == Bulk {
		sev = Warning
	}
	c.items = append(c.items, NewCheck(id, sev, args))
}

func (c *checks) sorted() []Check {
	slices.SortFunc(c.items, func(a, b Check) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return c.items
}

// cand is a group as a message argument: its id and display name.
func (in *Input) cand(id string) Arg { return Cand(id, in.Names[id]) }
