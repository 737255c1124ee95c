package store

import "time"

// Settings is the singleton row binding a database to one election.
type Settings struct {
	ElectionID string
	CreatedAt  time.Time
}

// Names of the transparency log's stored values (internal/tlog keeps them; the export carries
// the checkpoint and refuses a database still holding the key). Their bytes are tlog's.
const (
	LogKeyValue        = "tlog/signing-key" // the note signer key, when the server is given none
	LogCheckpointValue = "tlog/checkpoint"  // the latest signed checkpoint note
)
