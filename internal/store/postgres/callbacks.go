package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	insertCallback = `INSERT INTO callbacks (at, precinct_id, phone, note, actor) VALUES ($1, $2, $3, $4, $5)
	RETURNING id`
	selectCallbacks = `SELECT id, at, precinct_id, phone, note, actor FROM callbacks
	WHERE id > $1 ORDER BY id LIMIT $2`
	countCallbacks = `SELECT count(*) FROM callbacks WHERE precinct_id = $1 AND at > $2`
	insertPhoto    = `INSERT INTO photos (sha256, content_type, data, at, precinct_id) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (sha256) DO NOTHING`
	photoExists = `SELECT 1 FROM photos WHERE sha256 = $1`
	countPhotos = `SELECT count(*), coalesce(sum(length(data)), 0) FROM photos WHERE precinct_id = $1`
	selectPhoto = `SELECT content_type, data, at FROM photos WHERE sha256 = $1`
)

// AddCallback implements store.Store. The quota's count and the insert hold the precinct's
// callback lock, so two processes cannot both take the last request of a window.
func (d *DB) AddCallback(ctx context.Context, c store.NewCallback) (store.Callback, error) {
	switch {
	case c.PrecinctID == "" || c.Phone == "" || c.Actor == "":
		return store.Callback{}, fmt.Errorf("add callback: %w: precinct, phone and actor are required", store.ErrInvalid)
	case utf8.RuneCountInString(c.Phone) > 40 || utf8.RuneCountInString(c.Note) > 500:
		return store.Callback{}, fmt.Errorf("add callback: %w: phone over 40 or note over 500 characters", store.ErrInvalid)
	}
	now := fromMS(ms(d.now()))
	var id int64
	err := d.write(ctx, "add callback", func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, "callback-quota/"+c.PrecinctID); err != nil {
			return err
		}
		var n int
		since := ms(now.Add(-store.CallbackWindow))
		if err := tx.QueryRow(ctx, countCallbacks, c.PrecinctID, since).Scan(&n); err != nil {
			return fmt.Errorf("count callbacks: %w", err)
		}
		if n >= store.MaxCallbacksPerWindow {
			return fmt.Errorf("%w: precinct %s has %d call-back requests in the last %v",
				store.ErrQuota, c.PrecinctID, n, store.CallbackWindow)
		}
		if err := d.lock(ctx, tx, lockAudit); err != nil { // the callback's ID too, in commit order
			return err
		}
		if err := tx.QueryRow(ctx, insertCallback, ms(now), c.PrecinctID, c.Phone, c.Note, c.Actor).Scan(&id); err != nil {
			return fmt.Errorf("insert callback: %w", err)
		}
		// The phone number stays in its table; the audit row names the request, not the number.
		detail, _ := json.Marshal(map[string]any{"callback_id": id})
		_, err := addAudit(ctx, tx, ms(now), store.NewAudit{Actor: c.Actor, Kind: store.AuditCallbackRequested,
			PrecinctID: c.PrecinctID, Detail: detail})
		return err
	})
	if err != nil {
		return store.Callback{}, err
	}
	return store.Callback{ID: id, At: now, PrecinctID: c.PrecinctID, Phone: c.Phone, Note: c.Note, Actor: c.Actor}, nil
}

// Callbacks implements store.Store.
func (d *DB) Callbacks(ctx context.Context, after int64, limit int) ([]store.Callback, error) {
	if err := d.checkOpen("read callbacks"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read callbacks: %w: limit %d", store.ErrInvalid, limit)
	}
	rows, err := d.pool.Query(ctx, selectCallbacks, after, limit)
	if err != nil {
		return nil, d.wrap("read callbacks", err)
	}
	defer rows.Close()
	var out []store.Callback
	for rows.Next() {
		var c store.Callback
		var at int64
		if err := rows.Scan(&c.ID, &at, &c.PrecinctID, &c.Phone, &c.Note, &c.Actor); err != nil {
			return nil, d.wrap("read callbacks", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("read callbacks", err)
	}
	return out, nil
}

// PutPhoto implements store.Store. The quota's count and the insert hold the precinct's photo
// lock; the same bytes sent twice at once are one insert and one ON CONFLICT DO NOTHING.
func (d *DB) PutPhoto(ctx context.Context, p store.NewPhoto) (bool, error) {
	sum := sha256.Sum256(p.Data)
	switch {
	case len(p.Data) == 0 || len(p.Data) > store.MaxPhotoBytes:
		return false, fmt.Errorf("put photo: %w: %d bytes", store.ErrInvalid, len(p.Data))
	case p.ContentType != "image/jpeg" && p.ContentType != "image/png":
		return false, fmt.Errorf("put photo: %w: content type %q", store.ErrInvalid, p.ContentType)
	case p.SHA256 != hex.EncodeToString(sum[:]):
		return false, fmt.Errorf("put photo: %w: sha256 does not match the bytes", store.ErrInvalid)
	case p.Actor == "":
		return false, fmt.Errorf("put photo: %w: no actor", store.ErrInvalid)
	}
	now := ms(d.now())
	var created bool
	err := d.write(ctx, "put photo", func(tx pgx.Tx) error {
		created = false
		if p.PrecinctID != "" {
			if err := lockKeys(ctx, tx, "photo-quota/"+p.PrecinctID); err != nil {
				return err
			}
		}
		var one int
		switch err := tx.QueryRow(ctx, photoExists, p.SHA256).Scan(&one); {
		case err == nil:
			return nil // the same bytes are stored: a no-op, whoever sends them
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up photo: %w", err)
		}
		if p.PrecinctID != "" {
			if err := photoQuota(ctx, tx, p.PrecinctID, len(p.Data)); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, insertPhoto, p.SHA256, p.ContentType, p.Data, now, p.PrecinctID)
		if err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		created = true
		if err := d.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"sha256": p.SHA256, "bytes": len(p.Data), "content_type": p.ContentType})
		_, err = addAudit(ctx, tx, now, store.NewAudit{Actor: p.Actor, Kind: store.AuditPhotoStored,
			PrecinctID: p.PrecinctID, Detail: detail})
		return err
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// photoQuota refuses a new photo of size bytes that would take precinct past its quota.
func photoQuota(ctx context.Context, tx pgx.Tx, precinct string, size int) error {
	var n, total int64
	if err := tx.QueryRow(ctx, countPhotos, precinct).Scan(&n, &total); err != nil {
		return fmt.Errorf("count photos: %w", err)
	}
	if n >= store.MaxPhotosPerPrecinct || total+int64(size) > store.MaxPhotoBytesPerPrecinct {
		return fmt.Errorf("%w: precinct %s has %d photos of %d bytes stored", store.ErrQuota, precinct, n, total)
	}
	return nil
}

// PhotoUsage implements store.Store.
func (d *DB) PhotoUsage(ctx context.Context, precinctID string) (int, int64, error) {
	if err := d.checkOpen("read photo usage"); err != nil {
		return 0, 0, err
	}
	var n int
	var total int64
	if err := d.pool.QueryRow(ctx, countPhotos, precinctID).Scan(&n, &total); err != nil {
		return 0, 0, d.wrap("read photo usage", err)
	}
	return n, total, nil
}

// Photo implements store.Store.
func (d *DB) Photo(ctx context.Context, sha string) (store.Photo, error) {
	if err := d.checkOpen("read photo"); err != nil {
		return store.Photo{}, err
	}
	p := store.Photo{SHA256: sha}
	var at int64
	err := d.pool.QueryRow(ctx, selectPhoto, sha).Scan(&p.ContentType, &p.Data, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Photo{}, fmt.Errorf("read photo %s: %w", sha, store.ErrNotFound)
	}
	if err != nil {
		return store.Photo{}, d.wrap("read photo", err)
	}
	p.At = fromMS(at)
	return p, nil
}
