package store

import (
	"encoding/json"
	"fmt"
	"time"
)

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

// Validate is what both stores check of a hand copy before storing it: the precinct, the
// operator and counts that are a JSON object. Its errors wrap ErrInvalid.
func (c HandCopy) Validate() error {
	var obj map[string]json.RawMessage
	if c.PrecinctID == "" || c.Operator == "" || json.Unmarshal(c.Counts, &obj) != nil || obj == nil {
		return fmt.Errorf("add hand copy: %w: precinct, operator and a JSON object of counts are required", ErrInvalid)
	}
	return nil
}
