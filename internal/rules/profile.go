package rules

// Profile names a set of caucus rules (spec/caucus-rules.md §2–§4).
type Profile string

// The profiles of spec/caucus-rules.md.
const (
	IowaDem2020   Profile = "iowa-dem-2020"   // §2, the default
	NevadaDem2020 Profile = "nevada-dem-2020" // §3: early-vote preference cards, card draws
	StrawPoll     Profile = "straw-poll"      // §4: counts only
)

// DefaultProfile is used when neither the input nor the caller names one.
const DefaultProfile = IowaDem2020

// Profiles lists every known profile, the default first.
func Profiles() []Profile { return []Profile{IowaDem2020, NevadaDem2020, StrawPoll} }

// Known reports whether p is one of Profiles.
func (p Profile) Known() bool {
	switch p {
	case IowaDem2020, NevadaDem2020, StrawPoll:
		return true
	}
	return false
}

// game is the game of chance that settles a tie (R12, R32).
func (p Profile) game() string {
	if p == NevadaDem2020 {
		return "card"
	}
	return "coin"
}

// Mode says how findings are judged: live (a chair's submission: errors refuse the report) or
// bulk (already-published data: every finding is a warning), §5.
type Mode string

// The modes of §5.
const (
	Live Mode = "live"
	Bulk Mode = "bulk"
)

// MaxCount is the largest count the input accepts (R51).
const MaxCount = 1_000_000
