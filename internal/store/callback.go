package store

import "time"

// MaxPhotoBytes bounds a stored worksheet photo. The chair app resizes the photo in the page
// (about 1600 px on the long side, JPEG), which gives 150–600 KiB; 2 MiB leaves room for a
// phone that cannot resize and refuses anything that is not a worksheet photo.
const MaxPhotoBytes = 2 << 20

// Per-precinct quotas, counted by the store in the transaction that would exceed them, so that
// one chair's session (or a stolen one) cannot fill the disk or headquarters' call-back queue.
// The chair app sends one resized photo per report (150–600 KiB) and a chair may retake it or
// send a correction; a call-back request is a "please call me", which a chair repeats a few
// times at most while waiting.
const (
	MaxPhotosPerPrecinct     = 10      // photos stored for one precinct, ever
	MaxPhotoBytesPerPrecinct = 8 << 20 // their bytes together
	MaxCallbacksPerWindow    = 5       // call-back requests for one precinct …
	CallbackWindow           = time.Hour
)

// NewCallback is a chair's "call me back" request: headquarters calls the precinct's chair on
// Phone instead of the chair dialling a hotline, which drowned in 2020.
type NewCallback struct {
	PrecinctID string // required
	Phone      string // required: at most 40 characters (the server stores E.164: "+15155550101")
	Note       string // optional, at most 500 characters
	Actor      string // who asked: the precinct ID for a chair, a username for staff
}

// Callback is a stored call-back request.
type Callback struct {
	ID         int64 // 1, 2, 3 … in commit order
	At         time.Time
	PrecinctID string
	Phone      string
	Note       string
	Actor      string
}

// NewPhoto is a worksheet photo to store by its content.
type NewPhoto struct {
	SHA256      string // lowercase hex of SHA-256(Data); the store checks it
	ContentType string // image/jpeg or image/png
	Data        []byte // 1..MaxPhotoBytes bytes
	PrecinctID  string // who uploaded it first (kept in the audit row; its quota is charged)
	Actor       string
}

// Photo is a stored worksheet photo.
type Photo struct {
	SHA256      string
	ContentType string
	Data        []byte
	At          time.Time // when it was first stored
}
