// Package results declares the published results documents of spec/interfaces.md, once: the
// JSON of /api/v1/results, /api/v1/results/counties, /api/v1/results/counties/{id} and
// /api/v1/results/precincts/{id}, and the precinct status those documents name. internal/tally
// writes them; internal/client, internal/verify, internal/simulate and the server's results
// pages read them. (results.csv is internal/resultscsv.)
//
// The field order of each type is the order of the fields on the wire, and changing it changes
// the published bytes, which outsiders hash and compare: add fields, never rename or reorder
// them. Nullable numbers are pointers (null on the wire); lists the writer fills are never null.
//
// It is data only: it imports the caucus math's ID and check types (internal/rules) and
// nothing of the server, the store or the tally.
package results

import "caucus/internal/rules"

// Status is a precinct's status on the wire (spec/interfaces.md; spec/reliability.md C3 says
// how a precinct moves between them).
type Status string

// The precinct statuses, spelled as on the wire.
const (
	NotReported Status = "not_reported" // no report has arrived
	Accepted    Status = "accepted"     // the first report counts
	UnderReview Status = "under_review" // a conflicting report or a check awaits a reviewer
	Corrected   Status = "corrected"    // a staff correction counts
	Certified   Status = "certified"    // settled, in a certified county (or a reviewer's certifying decision)
)

// Statuses are every precinct status, in the order a precinct usually goes through them.
var Statuses = []Status{NotReported, Accepted, UnderReview, Corrected, Certified}

// Valid reports whether s is one of the statuses of spec/interfaces.md.
func (s Status) Valid() bool {
	switch s {
	case NotReported, Accepted, UnderReview, Corrected, Certified:
		return true
	}
	return false
}

// Policy is the publication policy an admin sets before the night: how a precinct under review
// is published. Marked: its counted numbers (the first accepted report's, until a reviewer
// decides) are in every total and its status says under_review. Withheld: it is in no total
// and its page shows no numbers, only its status and that it is withheld. Either way the
// precinct is listed, never silently dropped nor silently included.
type Policy struct {
	UnderReview string `json:"under_review"` // PolicyMarked or PolicyWithheld
}

// The ways a precinct under review is published (Policy.UnderReview).
const (
	PolicyMarked   = "marked"
	PolicyWithheld = "withheld"
)

// DefaultPolicy is the policy of an election whose admin set none: marked.
var DefaultPolicy = Policy{UnderReview: PolicyMarked}

// Valid reports whether p is one of the policies.
func (p Policy) Valid() bool { return p.UnderReview == PolicyMarked || p.UnderReview == PolicyWithheld }

// Withholds reports whether p keeps the numbers of precincts under review out of the results.
func (p Policy) Withholds() bool { return p.UnderReview == PolicyWithheld }

// Candidate is one candidate's totals in Results and in each county. CountyDelegates and SDE are
// null in a straw poll; SDE is null for a county whose SDE ratio is not known. SDE is the exact
// total rounded half-up to 4 places (spec/caucus-rules.md R13).
type Candidate struct {
	CandidateID     string  `json:"candidate_id"`
	Name            string  `json:"name"`
	First           int64   `json:"first"`
	Final           int64   `json:"final"`
	CountyDelegates *int64  `json:"county_delegates"`
	SDE             *string `json:"sde"`
}

// Results is GET /api/v1/results: the state's totals, candidates in ballot order.
// LogRootHash and LogPublicKey name the transparency log the results were computed from (the
// root hash of its tree of LogSize entries, standard base64, and its note verifier key); both
// are left out when the results name no log.
type Results struct {
	ElectionID         string      `json:"election_id"`
	UpdatedAt          *string     `json:"updated_at"` // received_at of the last entry; null before the first
	LogSize            int64       `json:"log_size"`
	LogRootHash        string      `json:"log_root_hash,omitempty"`
	LogPublicKey       string      `json:"log_public_key,omitempty"`
	PrecinctsTotal     int         `json:"precincts_total"`
	PrecinctsReporting int         `json:"precincts_reporting"`
	Practice           bool        `json:"practice"`
	Candidates         []Candidate `json:"candidates"`
	// PublicationPolicy is the policy the results follow (left out by a server that has none:
	// read that as marked); PrecinctsWithheld counts the precincts under review it keeps out of
	// the totals, left out when none is.
	PublicationPolicy *Policy `json:"publication_policy,omitempty"`
	PrecinctsWithheld int     `json:"precincts_withheld,omitempty"`
}

// Counties is GET /api/v1/results/counties: every county, in the definition's order.
// Counties is its last field: the writer renders each county once and splices them in.
type Counties struct {
	ElectionID string          `json:"election_id"`
	UpdatedAt  *string         `json:"updated_at"`
	LogSize    int64           `json:"log_size"`
	Practice   bool            `json:"practice"`
	Counties   []CountySummary `json:"counties"`
}

// CountySummary is one county of Counties.
type CountySummary struct {
	CountyID           string      `json:"county_id"`
	Name               string      `json:"name"`
	PrecinctsTotal     int         `json:"precincts_total"`
	PrecinctsReporting int         `json:"precincts_reporting"`
	Candidates         []Candidate `json:"candidates"`
}

// County is GET /api/v1/results/counties/{id}: the county's totals and a line per precinct, in
// the definition's order. UpdatedAt is the received_at of the latest entry for one of its
// precincts, so the document keeps its bytes while other counties report. Precincts is its
// last field: the writer renders each line once and splices them in.
type County struct {
	ElectionID         string        `json:"election_id"`
	Practice           bool          `json:"practice"`
	CountyID           string        `json:"county_id"`
	Name               string        `json:"name"`
	UpdatedAt          *string       `json:"updated_at"`
	PrecinctsTotal     int           `json:"precincts_total"`
	PrecinctsReporting int           `json:"precincts_reporting"`
	Candidates         []Candidate   `json:"candidates"`
	Precincts          []PrecinctRow `json:"precincts"`
}

// PrecinctRow is one precinct of County. DelegatesToElect is the definition's, null when the
// precinct's delegates follow attendance (a satellite, R14).
type PrecinctRow struct {
	PrecinctID       string          `json:"precinct_id"`
	Name             string          `json:"name"`
	DelegatesToElect *int64          `json:"delegates_to_elect"`
	Satellite        bool            `json:"satellite"`
	Status           Status          `json:"status"`
	Flags            []rules.CheckID `json:"flags"`
	Reports          int64           `json:"reports"`
	Withheld         bool            `json:"withheld,omitempty"` // under review, its numbers withheld (Policy)
}

// Precinct is GET /api/v1/results/precincts/{id}: the counted entry's numbers as the server
// computed them, the chair's worksheet delegates when given, and every check that fired.
// Attendees, DelegatesToElect (the number used: R14 for a satellite) and Threshold are those of
// the computation, null before a report counts or when not valid (C01).
type Precinct struct {
	ElectionID       string          `json:"election_id"`
	Practice         bool            `json:"practice"`
	PrecinctID       string          `json:"precinct_id"`
	Name             string          `json:"name"`
	CountyID         string          `json:"county_id"`
	Satellite        bool            `json:"satellite"`
	Status           Status          `json:"status"`
	UpdatedAt        *string         `json:"updated_at"`    // its latest entry's received_at
	CountedEntry     *int64          `json:"counted_entry"` // log index; null when nothing counts
	Entries          []int64         `json:"entries"`       // every log index of the precinct
	Reports          int64           `json:"reports"`       // reports received, conflicting ones too
	Attendees        *int64          `json:"attendees"`
	DelegatesToElect *int64          `json:"delegates_to_elect"`
	Threshold        *int64          `json:"threshold"`
	Groups           []Group         `json:"groups"`
	ChairDelegates   rules.Counts    `json:"chair_delegates"` // the worksheet's; null when not given
	Flags            []rules.CheckID `json:"flags"`
	Checks           []rules.Check   `json:"checks"`
	Tiebreaks        []Tiebreak      `json:"tiebreaks"` // the games of chance that decided delegates
	// History is every entry of the precinct in log order: the reports (conflicting ones
	// too), headquarters' corrections and review decisions, so that a corrected precinct shows
	// its original beside the correction and who decided what, and why.
	History []HistoryEntry `json:"history"`
	// Withheld says the precinct is under review and the publication policy withholds its
	// numbers: attendees, threshold, chair_delegates, groups, checks and tiebreaks are then
	// empty, its history's reports null, and it is in no total. Its status, entries, counted entry and flags are shown.
	Withheld bool `json:"withheld,omitempty"`
}

// HistoryEntry is one log entry of a Precinct's History: what the leaf says, and whether it is
// the counted entry. Report is the numbers of a report or correction (null for a review).
type HistoryEntry struct {
	LogIndex   int64          `json:"log_index"`
	Kind       string         `json:"kind"` // report, correction or review
	ReceivedAt string         `json:"received_at"`
	Channel    string         `json:"channel"`
	Submitter  string         `json:"submitter"` // the precinct for a chair, the username for staff
	Reason     string         `json:"reason,omitempty"`
	Decision   string         `json:"decision,omitempty"` // a review's: accepted, under_review, certified
	Counts     *int64         `json:"counts,omitempty"`   // the entry a review made counted
	Counted    bool           `json:"counted"`
	Report     *HistoryReport `json:"report"`
}

// HistoryReport is the numbers a report or correction of a History says, as typed.
type HistoryReport struct {
	Attendees int64        `json:"attendees"`
	First     rules.Counts `json:"first"`
	Final     rules.Counts `json:"final"`
	Delegates rules.Counts `json:"delegates"` // the worksheet's; null when not given
}

// Tiebreak is one recorded game of chance of a Precinct's counted report that decided delegates
// (R12), one per winner: Kind "coin" or "card", Between the tied groups' ids in id order,
// Delegates how many delegates the tie decided (a tie for two has two winners, so two
// tiebreaks), Winner the group that came out ahead. A game the allocation did not need is not
// listed (C14 names it).
type Tiebreak struct {
	Kind      string   `json:"kind"`
	Between   []string `json:"between"`
	Delegates int64    `json:"delegates"`
	Winner    string   `json:"winner"`
}

// Tiebreaks are the published tiebreaks of a computed report; never nil.
func Tiebreaks(res *rules.Result) []Tiebreak {
	out := make([]Tiebreak, 0, len(res.TiebreaksSettled))
	for _, t := range res.TiebreaksSettled {
		out = append(out, Tiebreak{Kind: t.Kind, Between: append([]string{}, t.Between...), Delegates: t.Delegates, Winner: t.Winner})
	}
	return out
}

// Group is one group of a Precinct: every candidate of the election in ballot order, then any
// other group the report names (C02). Viable is viability at the final alignment and
// ViableFirst viability at the first (its first-alignment count reaches the viability
// threshold), both as rules.Calc decides them; a group the report does not name is neither.
// Viable, ViableFirst and Delegates are null in a straw poll; SDE is null when the county has
// no ratio, a game of chance is open or an error check fired.
type Group struct {
	CandidateID string  `json:"candidate_id"`
	Name        string  `json:"name"`
	First       int64   `json:"first"`
	Final       int64   `json:"final"`
	Viable      *bool   `json:"viable"`
	ViableFirst *bool   `json:"viable_first"`
	Delegates   *int64  `json:"delegates"`
	SDE         *string `json:"sde"`
}

// Certification is one certification entry of the log as GET /api/v1/certifications lists it:
// a certifier's certification of a scope ("county:ID" or "state") at the checkpoint it names
// (the tree of the log's first LogSize entries, whose root hash is RootHash, standard base64),
// or the withdrawal of one (Decision "withdrawn", no checkpoint). InForce says whether it is
// the scope's certification now: a certification not withdrawn since.
type Certification struct {
	LogIndex  int64   `json:"log_index"`
	Scope     string  `json:"scope"`
	Decision  string  `json:"decision"` // certified or withdrawn
	LogSize   *int64  `json:"log_size"`
	RootHash  *string `json:"root_hash"`
	Certifier string  `json:"certifier"`
	Reason    string  `json:"reason"`
	At        string  `json:"at"` // the entry's received_at
	InForce   bool    `json:"in_force"`
}

// Certifications is GET /api/v1/certifications: every certification entry in log order, and
// the scopes certified now.
type Certifications struct {
	ElectionID     string          `json:"election_id"`
	LogSize        int64           `json:"log_size"`
	Certified      []string        `json:"certified"`
	Certifications []Certification `json:"certifications"`
}
