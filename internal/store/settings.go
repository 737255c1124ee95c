package store

import "time"

// Settings is the singleton row binding a database to one election.
type Settings struct {
	ElectionID string
	CreatedAt  time.Time
}
