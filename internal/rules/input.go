package rules

import (
	"math/big"
	"slices"
)

// Input is one precinct's numbers and everything the math needs (spec §1, §5b): a chair's report
// plus the fields `caucus calc` and `caucus check` add. Build it with Decode (from JSON) or
// directly; Calc validates a directly built Input the same way (C01).
type Input struct {
	Rules Profile // empty: DefaultProfile
	Mode  Mode    // empty: Live

	Attendees int64 // A: signed in when the caucus was called to order (R01)
	// DelegatesToElect is D. HasDelegatesToElect false means absent: a satellite's D then
	// follows its attendance (R14); in straw-poll it is echoed as null.
	DelegatesToElect    int64
	HasDelegatesToElect bool

	First Counts // first alignment (in person, for Nevada)
	Final Counts // final alignment; nil (absent) is allowed only in straw-poll
	// Delegates is the chair's worksheet; nil means not given (C09–C12 do not run), an empty
	// non-nil map means given and awarding nothing.
	Delegates Counts
	Tiebreaks []Tiebreak // games of chance as recorded (R12)

	SDERatio   *big.Rat            // the county's state ÷ county delegates (R13); nil: none
	SDE        map[string]*big.Rat // published SDEs (bulk checking); nil: none
	Satellite  bool
	Candidates []string // ballot order; nil: not given (an empty non-nil slice is given)
	Others     []Other  // other precincts of the same file, for C20
	Early      []Card   // Nevada early preference cards (R30)

	// Names, when set, gives candidates' display names for messages (ids are used otherwise).
	Names map[string]string

	// Duplicates, when set, answers C20 instead of scanning Others: given this precinct's
	// signature (see Signature) it returns the id of another precinct with the same one, or "".
	// caucus check uses it to avoid comparing every precinct with every other.
	Duplicates func(signature string) string
}

// Counts maps a group (candidate id) to a number of people or delegates. Missing keys count 0.
type Counts map[string]int64

// Sum adds every count.
func (c Counts) Sum() int64 {
	var s int64
	for _, n := range c {
		s += n
	}
	return s
}

// Tiebreak is one recorded game of chance: the tied set and one group that came out ahead (R12).
type Tiebreak struct {
	Kind    string   `json:"kind"` // "coin" or "card"
	Between []string `json:"between"`
	Winner  string   `json:"winner"`
}

// Other is another precinct's alignments, for the duplicate check C20.
type Other struct {
	PrecinctID string `json:"precinct_id,omitempty"`
	First      Counts `json:"first"`
	Final      Counts `json:"final"`
}

// Card is a Nevada early-vote preference card, or Count identical ones (R30).
type Card struct {
	Ranks []string `json:"ranks"`
	Count int64    `json:"count"`
}

// valid reports whether the card takes part: 3 to 5 ranks (R30).
func (c Card) valid() bool { return len(c.Ranks) >= 3 && len(c.Ranks) <= 5 }

func (in *Input) profile() Profile {
	if in.Rules == "" {
		return DefaultProfile
	}
	return in.Rules
}

// Signature is a canonical string of the non-zero entries of a precinct's first and final
// alignments: two precincts have the same signature exactly when C20 calls them duplicates.
func Signature(first, final Counts) string {
	var b []byte
	for i, c := range []Counts{first, final} {
		if i > 0 {
			b = append(b, '|')
		}
		keys := make([]string, 0, len(c))
		for k, n := range c {
			if n != 0 {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = append(b, k...)
			b = append(b, '=')
			b = appendInt(b, c[k])
			b = append(b, ',')
		}
	}
	return string(b)
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
