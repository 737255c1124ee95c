package store

import (
	"errors"
	"fmt"
)

// Sentinels callers branch on with errors.Is. Implementations wrap them with what failed.
var (
	// ErrNotFound: no such row (report ID, precinct, account, session, value, settings).
	ErrNotFound = errors.New("not found")
	// ErrExists: a create met a row that is already there.
	ErrExists = errors.New("already exists")
	// ErrConflict: a precinct already has a counted report (AppendResult.Err of a Conflict),
	// or a compare-and-swap or settings check met a different value.
	ErrConflict = errors.New("conflict")
	// ErrReportIDReused: a report ID already stored with a different body.
	ErrReportIDReused = errors.New("report id reused with a different body")
	// ErrInvalid: an argument breaks a documented rule; a caller's bug, not a user's.
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrQuota: a precinct has used up its quota of photos or call-back requests; nothing was
	// stored.
	ErrQuota = errors.New("quota exceeded")
)

// ConflictError is the AppendResult.Err of a Conflict: the entry was stored at Index, but the
// precinct already counts the entry at Counted. It wraps ErrConflict.
type ConflictError struct {
	PrecinctID string
	Index      int64 // the new, conflicting entry
	Counted    int64 // the entry that stays counted
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("precinct %q already counts log index %d; entry %d kept for review",
		e.PrecinctID, e.Counted, e.Index)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// ReportIDReusedError is the AppendResult.Err of a ReportIDReused: Original is the entry stored
// under ReportID first. It wraps ErrReportIDReused.
type ReportIDReusedError struct {
	ReportID string
	Original int64
}

func (e *ReportIDReusedError) Error() string {
	return fmt.Sprintf("report id %q already stored at log index %d with a different body",
		e.ReportID, e.Original)
}

func (e *ReportIDReusedError) Unwrap() error { return ErrReportIDReused }
