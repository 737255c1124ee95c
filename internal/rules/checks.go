package rules

import (
	"fmt"
	"slices"
	"strings"
)

// CheckID names a consistency check of spec §5.
type CheckID string

// The consistency checks of spec/caucus-rules.md §5.
const (
	C01 CheckID = "C01" // the input is not valid
	C02 CheckID = "C02" // a candidate that is not in this election
	C03 CheckID = "C03" // more people in the first alignment than signed in
	C04 CheckID = "C04" // more people in the final alignment than in the first
	C05 CheckID = "C05" // fewer people in the first alignment than signed in
	C06 CheckID = "C06" // a viable group lost people
	C07 CheckID = "C07" // groups gained more people than non-viable groups released
	C08 CheckID = "C08" // people in a non-viable group in the final alignment
	C09 CheckID = "C09" // worksheet gives a delegate to a non-viable group
	C10 CheckID = "C10" // worksheet gives no delegate to a viable group
	C11 CheckID = "C11" // worksheet's delegates do not add up
	C12 CheckID = "C12" // worksheet differs from the computed delegates
	C13 CheckID = "C13" // a game of chance is needed and not recorded
	C14 CheckID = "C14" // a recorded game of chance was not needed
	C15 CheckID = "C15" // more viable groups than delegates
	C16 CheckID = "C16" // no viable group
	C17 CheckID = "C17" // published SDEs out of order with the final alignment
	C18 CheckID = "C18" // published SDEs do not add up to the allotment
	C19 CheckID = "C19" // published SDE differs from the computed one
	C20 CheckID = "C20" // identical to another precinct
	C21 CheckID = "C21" // a loss and an equal gain on adjacent lines
	C22 CheckID = "C22" // satellite delegates do not match its attendance
	C23 CheckID = "C23" // Nevada early cards with too few or too many choices
)

// Title is a short description of the check, for summaries.
func (id CheckID) Title() string {
	switch id {
	case C01:
		return "the input is not valid"
	case C02:
		return "a candidate that is not in this election"
	case C03:
		return "more people in the first alignment than signed in"
	case C04:
		return "more people in the final alignment than in the first"
	case C05:
		return "fewer people in the first alignment than signed in"
	case C06:
		return "a viable group lost people"
	case C07:
		return "groups gained more people than non-viable groups released"
	case C08:
		return "people in a non-viable group in the final alignment"
	case C09:
		return "the worksheet gives a delegate to a non-viable group"
	case C10:
		return "the worksheet gives no delegate to a viable group"
	case C11:
		return "the worksheet's delegates do not add up"
	case C12:
		return "the worksheet differs from the computed delegates"
	case C13:
		return "a game of chance is needed"
	case C14:
		return "a recorded game of chance was not needed"
	case C15:
		return "more viable groups than delegates"
	case C16:
		return "no viable group"
	case C17:
		return "published SDEs out of order with the final alignment"
	case C18:
		return "published SDEs do not add up to the precinct's allotment"
	case C19:
		return "published SDE differs from the computed one"
	case C20:
		return "identical to another precinct"
	case C21:
		return "a loss and an equal gain on adjacent lines"
	case C22:
		return "satellite delegates do not match its attendance"
	case C23:
		return "early cards with too few or too many choices"
	}
	return string(id)
}

// liveSeverity is each check's severity for a live submission (§5 table).
func (id CheckID) liveSeverity() Severity {
	switch id {
	case C01, C02, C03, C04, C07, C13:
		return Error
	}
	return Warning
}

// checks collects findings, at most one per ID, and sorts them by ID.
type checks struct {
	mode  Mode
	items []Check
}

func (c *checks) add(id CheckID, format string, args ...any) {
	for _, it := range c.items {
		if it.ID == id {
			return
		}
	}
	sev := id.liveSeverity()
	if c.mode == Bulk {
		sev = Warning
	}
	c.items = append(c.items, Check{ID: id, Severity: sev, Message: string(id) + ": " + fmt.Sprintf(format, args...)})
}

func (c *checks) sorted() []Check {
	slices.SortFunc(c.items, func(a, b Check) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return c.items
}

// and joins names for a message: "a", "a and b", "a, b and c".
func and(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
