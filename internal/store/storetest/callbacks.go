package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"caucus/internal/store"
)

func testCallbacks(t *testing.T, h *harness) {
	for i, c := range []store.NewCallback{
		{PrecinctID: "p1", Phone: "+1 515 555 0101", Note: "the math does not add up", Actor: "p1"},
		{PrecinctID: "p2", Phone: "515-555-0102", Actor: "p2"},
		{PrecinctID: "p1", Phone: "515 555 0101", Note: "again", Actor: "p1"},
	} {
		got, err := h.s.AddCallback(h.ctx, c)
		if err != nil || got.ID != int64(i+1) || !got.At.Equal(h.clock.Now()) || got.Phone != c.Phone || got.Note != c.Note {
			t.Fatalf("AddCallback %d = %+v, %v", i, got, err)
		}
		h.clock.Advance(time.Second)
	}
	page, err := h.s.Callbacks(h.ctx, 1, 10)
	if err != nil || len(page) != 2 || page[0].ID != 2 || page[0].PrecinctID != "p2" || page[1].Note != "again" {
		t.Fatalf("Callbacks(1, 10) = %+v, %v", page, err)
	}
	audit := h.audit()
	n := 0
	for _, a := range audit {
		if a.Kind == store.AuditCallbackRequested {
			n++
			if strings.Contains(string(a.Detail), "555") {
				t.Errorf("audit row carries the phone number: %s", a.Detail)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d callback_requested audit rows, want 3", n)
	}
	for name, c := range map[string]store.NewCallback{
		"no phone":    {PrecinctID: "p1", Actor: "p1"},
		"no precinct": {Phone: "1", Actor: "p1"},
		"no actor":    {PrecinctID: "p1", Phone: "1"},
		"long phone":  {PrecinctID: "p1", Phone: strings.Repeat("5", 41), Actor: "p1"},
		"long note":   {PrecinctID: "p1", Phone: "1", Note: strings.Repeat("x", 501), Actor: "p1"},
	} {
		if _, err := h.s.AddCallback(h.ctx, c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddCallback(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.s.Callbacks(h.ctx, 0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Callbacks(limit 0) = %v, want ErrInvalid", err)
	}
	h.s.Close()
	h.s = h.reopen()
	if all, err := h.s.Callbacks(h.ctx, 0, 10); err != nil || len(all) != 3 {
		t.Errorf("after reopen: %d callbacks, %v", len(all), err)
	}
}

func testPhotos(t *testing.T, h *harness) {
	data := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 1000)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	p := store.NewPhoto{SHA256: sha, ContentType: "image/jpeg", Data: data, PrecinctID: "p1", Actor: "p1"}
	if created, err := h.s.PutPhoto(h.ctx, p); err != nil || !created {
		t.Fatalf("PutPhoto = %v, %v; want new", created, err)
	}
	if created, err := h.s.PutPhoto(h.ctx, p); err != nil || created {
		t.Fatalf("PutPhoto again = %v, %v; want no-op", created, err)
	}
	got, err := h.s.Photo(h.ctx, sha)
	if err != nil || !bytes.Equal(got.Data, data) || got.ContentType != "image/jpeg" || !got.At.Equal(h.clock.Now()) {
		t.Fatalf("Photo = %d bytes %q %v, %v", len(got.Data), got.ContentType, got.At, err)
	}
	n := 0
	for _, a := range h.audit() {
		if a.Kind == store.AuditPhotoStored {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d photo_stored audit rows, want 1 (the second put was a no-op)", n)
	}
	if _, err := h.s.Photo(h.ctx, strings.Repeat("0", 64)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Photo(unknown) = %v, want ErrNotFound", err)
	}
	big := make([]byte, store.MaxPhotoBytes+1)
	bigSum := sha256.Sum256(big)
	for name, q := range map[string]store.NewPhoto{
		"wrong hash":   {SHA256: strings.Repeat("a", 64), ContentType: "image/jpeg", Data: data, Actor: "p1"},
		"gif":          {SHA256: sha, ContentType: "image/gif", Data: data, Actor: "p1"},
		"empty":        {SHA256: hex.EncodeToString(make([]byte, 32)), ContentType: "image/png", Actor: "p1"},
		"too large":    {SHA256: hex.EncodeToString(bigSum[:]), ContentType: "image/png", Data: big, Actor: "p1"},
		"no actor":     {SHA256: sha, ContentType: "image/jpeg", Data: data},
		"upper hex id": {SHA256: strings.ToUpper(sha), ContentType: "image/jpeg", Data: data, Actor: "p1"},
	} {
		if _, err := h.s.PutPhoto(h.ctx, q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutPhoto(%s) = %v, want ErrInvalid", name, err)
		}
	}
}

// testCallbackQuota: a precinct gets MaxCallbacksPerWindow requests per CallbackWindow; the
// next is refused with ErrQuota and stores nothing, another precinct is not affected, and the
// window slides with the store's clock, across a reopen (the count is in the store).
func testCallbackQuota(t *testing.T, h *harness) {
	req := store.NewCallback{PrecinctID: "p1", Phone: "+15155550101", Actor: "p1"}
	for i := range store.MaxCallbacksPerWindow {
		if _, err := h.s.AddCallback(h.ctx, req); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		h.clock.Advance(time.Minute)
	}
	h.s.Close()
	h.s = h.reopen()
	if _, err := h.s.AddCallback(h.ctx, req); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("request %d = %v, want ErrQuota", store.MaxCallbacksPerWindow+1, err)
	}
	if _, err := h.s.AddCallback(h.ctx, store.NewCallback{PrecinctID: "p2", Phone: "+15155550102", Actor: "p2"}); err != nil {
		t.Fatalf("another precinct: %v", err)
	}
	// The first request leaves the window an hour after it was made.
	h.clock.Advance(store.CallbackWindow - time.Duration(store.MaxCallbacksPerWindow)*time.Minute + time.Millisecond)
	if _, err := h.s.AddCallback(h.ctx, req); err != nil {
		t.Fatalf("after the first request left the window: %v", err)
	}
	if _, err := h.s.AddCallback(h.ctx, req); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("the next = %v, want ErrQuota", err)
	}
	all, err := h.s.Callbacks(h.ctx, 0, 100)
	if err != nil || len(all) != store.MaxCallbacksPerWindow+2 {
		t.Fatalf("%d callbacks stored, %v; want %d (refused ones are not stored)", len(all), err, store.MaxCallbacksPerWindow+2)
	}
}

// testPhotoQuota: a precinct stores at most MaxPhotosPerPrecinct photos and
// MaxPhotoBytesPerPrecinct bytes; past either, ErrQuota and nothing stored. Bytes already
// stored stay a no-op (no quota charged), and a staff upload (no precinct) has no quota.
func testPhotoQuota(t *testing.T, h *harness) {
	photo := func(precinct string, i, size int) store.NewPhoto {
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8), 0xd8}, size/3+1)[:size]
		sum := sha256.Sum256(data)
		return store.NewPhoto{SHA256: hex.EncodeToString(sum[:]), ContentType: "image/jpeg", Data: data,
			PrecinctID: precinct, Actor: precinct + "x"}
	}
	for i := range store.MaxPhotosPerPrecinct {
		if _, err := h.s.PutPhoto(h.ctx, photo("p1", i, 100)); err != nil {
			t.Fatalf("photo %d: %v", i+1, err)
		}
	}
	h.s.Close()
	h.s = h.reopen()
	if n, total, err := h.s.PhotoUsage(h.ctx, "p1"); err != nil || n != store.MaxPhotosPerPrecinct || total != int64(100*n) {
		t.Fatalf("PhotoUsage(p1) = %d, %d, %v", n, total, err)
	}
	if created, err := h.s.PutPhoto(h.ctx, photo("p1", 0, 100)); err != nil || created {
		t.Fatalf("the same bytes again = %v, %v; want a no-op", created, err)
	}
	over := photo("p1", 1000, 100)
	if _, err := h.s.PutPhoto(h.ctx, over); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("photo %d = %v, want ErrQuota", store.MaxPhotosPerPrecinct+1, err)
	}
	if _, err := h.s.Photo(h.ctx, over.SHA256); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused photo is stored: %v", err)
	}
	// Bytes: p2 fills its byte quota with fewer photos than the count allows.
	per := store.MaxPhotoBytesPerPrecinct / 4
	for i := range 4 {
		if _, err := h.s.PutPhoto(h.ctx, photo("p2", i, per)); err != nil {
			t.Fatalf("p2 photo %d: %v", i+1, err)
		}
	}
	if _, err := h.s.PutPhoto(h.ctx, photo("p2", 99, 1)); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("one byte past p2's byte quota = %v, want ErrQuota", err)
	}
	if created, err := h.s.PutPhoto(h.ctx, photo("", 1000, 100)); err != nil || !created {
		t.Fatalf("staff upload = %v, %v", created, err)
	}
}
