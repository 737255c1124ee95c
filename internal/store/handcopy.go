package store

import "time"

// HandCopy is one operator's keying of a sampled precinct's hand count in a risk-limiting
// audit: two operators key the cards' counts independently, and matching copies become one
// audit entry of the log. Copies are kept whether or not they matched; never updated.
type HandCopy struct {
	ID         int64
	PrecinctID string
	Operator   string
	At         time.Time
	Counts     []byte // a JSON object: the first and final alignment as keyed
}
