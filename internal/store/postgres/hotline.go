package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	selectOpenRound = `SELECT coalesce(max(round), 0) + 1 FROM hotline_rounds WHERE precinct_id = $1`
	selectCopyBy    = `SELECT id FROM hotline_copies WHERE precinct_id = $1 AND round = $2 AND operator = $3`
	insertCopy      = `INSERT INTO hotline_copies (at, precinct_id, round, operator, verified_by, channel, report, content)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`
	selectRoundCopies = `SELECT id, at, precinct_id, round, operator, verified_by, channel, report, content
	FROM hotline_copies WHERE precinct_id = $1 AND round = $2 ORDER BY id`
	selectSettlements = `SELECT precinct_id, round, outcome, copies, report_id, log_index, actor, at
	FROM hotline_rounds WHERE precinct_id = $1 ORDER BY round`
	insertSettlement = `INSERT INTO hotline_rounds (precinct_id, round, outcome, copies, report_id, log_index, actor, at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (precinct_id, round) DO NOTHING`
	// The open rounds holding two copies or more: copies whose round has no settlement.
	selectContested = `SELECT c.precinct_id, c.round FROM hotline_copies c
	WHERE NOT EXISTS (SELECT 1 FROM hotline_rounds r WHERE r.precinct_id = c.precinct_id AND r.round = c.round)
	GROUP BY c.precinct_id, c.round HAVING count(*) >= 2 ORDER BY min(c.id)`

	// The request's row is locked until commit: two transactions adding an event to one request
	// (in any process) take turns, and the second reads the first's event.
	selectCallbackForUpdate = `SELECT id, at, precinct_id, phone, note, actor FROM callbacks WHERE id = $1 FOR UPDATE`
	selectLastEvent         = `SELECT kind, operator, outcome FROM callback_events WHERE callback_id = $1 ORDER BY id DESC LIMIT 1`
	insertEvent             = `INSERT INTO callback_events (callback_id, at, kind, operator, outcome, note) VALUES ($1, $2, $3, $4, $5, $6)`
	// $1 a precinct or '' for all, $2 only the open ones, $3 the limit, $4 one request or 0 for all.
	selectCallbackSt = `SELECT c.id, c.at, c.precinct_id, c.phone, c.note, c.actor,
	coalesce(l.kind, ''), coalesce(l.outcome, ''), coalesce(l.at, 0),
	coalesce(cl.operator, ''), coalesce(cl.at, 0),
	(SELECT count(*) FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome'),
	coalesce((SELECT o.outcome FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome' ORDER BY o.id DESC LIMIT 1), ''),
	coalesce((SELECT o.note FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome' ORDER BY o.id DESC LIMIT 1), '')
	FROM callbacks c
	LEFT JOIN callback_events l ON l.id = (SELECT max(id) FROM callback_events e WHERE e.callback_id = c.id)
	LEFT JOIN callback_events cl ON cl.id = (SELECT max(id) FROM callback_events e WHERE e.callback_id = c.id AND e.kind = 'claim')
	WHERE ($1::text = '' OR c.precinct_id = $1)
	AND (NOT $2::boolean OR l.kind IS NULL OR l.kind = 'claim' OR l.outcome = 'no_answer')
	AND ($4::bigint = 0 OR c.id = $4)
	ORDER BY c.id LIMIT $3::bigint`
)

// hotlineKey is the lock a precinct's copies and settlements take (the migration's trigger
// takes the same one): they take turns, so a copy always lands in the round that is open.
func hotlineKey(precinctID string) string { return "hotline/" + precinctID }

// AddHotlineCopy stores one operator's copy of a precinct's worksheet in the precinct's open
// round (the round after its last settled one) with its AuditHotlineCopy row, the numbers in
// it, in one transaction, and returns the open round with every copy it holds, this one last.
// An operator who already keyed a copy of the round gets an error wrapping store.ErrExists and
// nothing is stored; a missing field or an unknown VerifiedBy or Channel, store.ErrInvalid.
// The precinct's hotline lock is held from the read of the open round to commit.
func (d *DB) AddHotlineCopy(ctx context.Context, c store.NewHotlineCopy) (store.HotlineRound, error) {
	if err := c.Validate(); err != nil {
		return store.HotlineRound{}, err
	}
	now := ms(d.now())
	var round store.HotlineRound
	err := d.write(ctx, "add hotline copy", func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, hotlineKey(c.PrecinctID)); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, selectOpenRound, c.PrecinctID).Scan(&n); err != nil {
			return fmt.Errorf("read open round: %w", err)
		}
		var id int64
		switch err := tx.QueryRow(ctx, selectCopyBy, c.PrecinctID, n, c.Operator).Scan(&id); {
		case err == nil:
			return fmt.Errorf("%w: %s already keyed copy %d of precinct %s, round %d", store.ErrExists, c.Operator, id, c.PrecinctID, n)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up copy: %w", err)
		}
		if err := d.lock(ctx, tx, lockAudit); err != nil { // the copy's ID too, in commit order
			return err
		}
		if err := tx.QueryRow(ctx, insertCopy, now, c.PrecinctID, n, c.Operator, c.VerifiedBy, c.Channel,
			c.Report, c.Content).Scan(&id); err != nil {
			return fmt.Errorf("insert copy: %w", err)
		}
		detail, _ := json.Marshal(map[string]any{"copy_id": id, "round": n, "verified_by": c.VerifiedBy,
			"channel": c.Channel, "content": hex.EncodeToString(c.Content), "report": json.RawMessage(c.Report)})
		if _, err := addAudit(ctx, tx, now, store.NewAudit{Actor: c.Operator, Kind: store.AuditHotlineCopy,
			PrecinctID: c.PrecinctID, Detail: detail}); err != nil {
			return err
		}
		var err error
		round, err = readRound(ctx, tx, c.PrecinctID, n)
		return err
	})
	if err != nil {
		return store.HotlineRound{}, err
	}
	return round, nil
}

// readOnly runs f in one repeatable-read, read-only transaction: one snapshot.
func (d *DB) readOnly(ctx context.Context, op string, f func(tx pgx.Tx) error) error {
	if err := d.checkOpen(op); err != nil {
		return err
	}
	if err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, f); err != nil {
		return d.wrap(op, err)
	}
	return nil
}

// HotlineRound returns a precinct's open round (with no copies when none is keyed yet) and its
// settled rounds, from one snapshot.
func (d *DB) HotlineRound(ctx context.Context, precinctID string) (store.HotlineRound, error) {
	var r store.HotlineRound
	err := d.readOnly(ctx, "read hotline round", func(tx pgx.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, selectOpenRound, precinctID).Scan(&n); err != nil {
			return err
		}
		var err error
		r, err = readRound(ctx, tx, precinctID, n)
		return err
	})
	if err != nil {
		return store.HotlineRound{}, err
	}
	return r, nil
}

// ContestedHotlineRounds returns every open round that holds two copies or more, oldest first:
// the rounds whose copies have not (yet) been found to agree, which the caller compares.
func (d *DB) ContestedHotlineRounds(ctx context.Context) ([]store.HotlineRound, error) {
	var out []store.HotlineRound
	err := d.readOnly(ctx, "read contested rounds", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectContested)
		if err != nil {
			return err
		}
		type key struct {
			p string
			n int64
		}
		keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (key, error) {
			var k key
			err := row.Scan(&k.p, &k.n)
			return k, err
		})
		if err != nil {
			return err
		}
		out = make([]store.HotlineRound, 0, len(keys))
		for _, k := range keys {
			r, err := readRound(ctx, tx, k.p, k.n)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SettleHotlineRound closes a precinct's round with its AuditHotlineSettled row, in one
// transaction holding the precinct's hotline lock. Settling a round again is a no-op that
// returns created false (the first settlement stands: two racing operators who both found the
// match settle it once). A round that is not the precinct's open one, or an unknown Outcome, is
// store.ErrInvalid.
func (d *DB) SettleHotlineRound(ctx context.Context, s store.HotlineSettlement) (created bool, err error) {
	if err := s.Validate(); err != nil {
		return false, err
	}
	copies := s.Copies
	if copies == nil {
		copies = []int64{}
	}
	cj, _ := json.Marshal(copies)
	now := ms(d.now())
	err = d.write(ctx, "settle hotline round", func(tx pgx.Tx) error {
		created = false
		if err := lockKeys(ctx, tx, hotlineKey(s.PrecinctID)); err != nil {
			return err
		}
		var open int64
		if err := tx.QueryRow(ctx, selectOpenRound, s.PrecinctID).Scan(&open); err != nil {
			return fmt.Errorf("read open round: %w", err)
		}
		if s.Round < open {
			return nil // settled already
		}
		if s.Round > open {
			return fmt.Errorf("%w: round %d of precinct %s is not open (round %d is)", store.ErrInvalid, s.Round, s.PrecinctID, open)
		}
		tag, err := tx.Exec(ctx, insertSettlement, s.PrecinctID, s.Round, s.Outcome, string(cj), s.ReportID, s.LogIndex, s.Actor, now)
		if err != nil {
			return fmt.Errorf("insert settlement: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		created = true
		if err := d.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"round": s.Round, "outcome": s.Outcome, "copies": copies,
			"report_id": s.ReportID, "log_index": s.LogIndex})
		_, err = addAudit(ctx, tx, now, store.NewAudit{Actor: s.Actor, Kind: store.AuditHotlineSettled,
			PrecinctID: s.PrecinctID, Detail: detail})
		return err
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

func readRound(ctx context.Context, q queryer, precinctID string, n int64) (store.HotlineRound, error) {
	r := store.HotlineRound{PrecinctID: precinctID, Round: n}
	rows, err := q.Query(ctx, selectRoundCopies, precinctID, n)
	if err != nil {
		return r, fmt.Errorf("read copies: %w", err)
	}
	r.Copies, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HotlineCopy, error) {
		var c store.HotlineCopy
		var at int64
		err := row.Scan(&c.ID, &at, &c.PrecinctID, &c.Round, &c.Operator, &c.VerifiedBy, &c.Channel, &c.Report, &c.Content)
		c.At = fromMS(at)
		return c, err
	})
	if err != nil {
		return r, fmt.Errorf("read copies: %w", err)
	}
	if len(r.Copies) == 0 {
		r.Copies = nil // as SQLite's: no copies is nil
	}
	rows, err = q.Query(ctx, selectSettlements, precinctID)
	if err != nil {
		return r, fmt.Errorf("read settlements: %w", err)
	}
	r.Settled, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HotlineSettlement, error) {
		var s store.HotlineSettlement
		var cj string
		var at int64
		if err := row.Scan(&s.PrecinctID, &s.Round, &s.Outcome, &cj, &s.ReportID, &s.LogIndex, &s.Actor, &at); err != nil {
			return s, err
		}
		if err := json.Unmarshal([]byte(cj), &s.Copies); err != nil {
			return s, fmt.Errorf("copies %q: %w", cj, err)
		}
		s.At = fromMS(at)
		return s, nil
	})
	if err != nil {
		return r, fmt.Errorf("read settlements: %w", err)
	}
	if len(r.Settled) == 0 {
		r.Settled = nil
	}
	return r, nil
}

// ClaimCallback gives call-back request id to operator, with its AuditCallbackClaimed row, in
// one transaction: the request's row is locked before its state is read, so two operators
// (in any process) never both have it. A request claimed by someone (the same operator
// included) or done is store.ErrConflict; an unknown one store.ErrNotFound.
func (d *DB) ClaimCallback(ctx context.Context, id int64, operator string) (store.CallbackState, error) {
	if operator == "" {
		return store.CallbackState{}, fmt.Errorf("claim call-back: %w: no operator", store.ErrInvalid)
	}
	return d.callbackEvent(ctx, "claim call-back", id, operator, "claim", "", "", store.AuditCallbackClaimed,
		func(kind, who, outcome string) error {
			switch {
			case kind == "claim":
				return fmt.Errorf("%w: call-back %d is being called by %s", store.ErrConflict, id, who)
			case kind == "outcome" && outcome != store.CallbackNoAnswer:
				return fmt.Errorf("%w: call-back %d is done (%s)", store.ErrConflict, id, outcome)
			}
			return nil
		})
}

// CallbackOutcome records what came of operator's call for request id (store.CallbackReported,
// CallbackNoAnswer, which puts it back in the queue, or CallbackWrongNumber) with its
// AuditCallbackOutcome row, in one transaction. A request that operator does not hold claimed
// is store.ErrConflict; an unknown one store.ErrNotFound; an unknown outcome or a note over
// 500 characters store.ErrInvalid.
func (d *DB) CallbackOutcome(ctx context.Context, id int64, operator, outcome, note string) (store.CallbackState, error) {
	if err := store.ValidateOutcome(operator, outcome, note); err != nil {
		return store.CallbackState{}, err
	}
	return d.callbackEvent(ctx, "call-back outcome", id, operator, "outcome", outcome, note, store.AuditCallbackOutcome,
		func(kind, who, _ string) error {
			if kind != "claim" || who != operator {
				return fmt.Errorf("%w: call-back %d is not claimed by %s", store.ErrConflict, id, operator)
			}
			return nil
		})
}

// callbackEvent appends one event to request id, holding its row locked, once allowed says the
// request's last event (kind "" for none) permits it, and returns the request's state after it.
func (d *DB) callbackEvent(ctx context.Context, op string, id int64, operator, kind, outcome, note string,
	audit store.AuditKind, allowed func(kind, who, outcome string) error) (store.CallbackState, error) {
	now := ms(d.now())
	var st store.CallbackState
	err := d.write(ctx, op, func(tx pgx.Tx) error {
		var c store.Callback
		var at int64
		err := tx.QueryRow(ctx, selectCallbackForUpdate, id).Scan(&c.ID, &at, &c.PrecinctID, &c.Phone, &c.Note, &c.Actor)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("call-back %d: %w", id, store.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("read call-back: %w", err)
		}
		var lastKind, lastWho, lastOutcome string
		err = tx.QueryRow(ctx, selectLastEvent, id).Scan(&lastKind, &lastWho, &lastOutcome)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read call-back events: %w", err)
		}
		if err := allowed(lastKind, lastWho, lastOutcome); err != nil {
			return err
		}
		if err := d.lock(ctx, tx, lockAudit); err != nil { // the event's ID too, in commit order
			return err
		}
		if _, err := tx.Exec(ctx, insertEvent, id, now, kind, operator, outcome, note); err != nil {
			return fmt.Errorf("insert call-back event: %w", err)
		}
		// The number stays in its table; the audit row names the request.
		detail, _ := json.Marshal(map[string]any{"callback_id": id, "outcome": outcome, "note": note})
		if _, err := addAudit(ctx, tx, now, store.NewAudit{Actor: operator, Kind: audit, PrecinctID: c.PrecinctID, Detail: detail}); err != nil {
			return err
		}
		sts, err := readCallbackStates(ctx, tx, store.CallbackFilter{PrecinctID: c.PrecinctID, Limit: 1}, id)
		if err != nil {
			return err
		}
		if len(sts) != 1 {
			return fmt.Errorf("call-back %d: not found after the event", id)
		}
		st = sts[0]
		return nil
	})
	if err != nil {
		return store.CallbackState{}, err
	}
	return st, nil
}

// CallbackStates returns the call-back requests f selects with their state, oldest first.
func (d *DB) CallbackStates(ctx context.Context, f store.CallbackFilter) ([]store.CallbackState, error) {
	if err := d.checkOpen("read call-backs"); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		return nil, fmt.Errorf("read call-backs: %w: limit %d", store.ErrInvalid, f.Limit)
	}
	sts, err := readCallbackStates(ctx, d.pool, f, 0)
	if err != nil {
		return nil, d.wrap("read call-backs", err)
	}
	return sts, nil
}

// readCallbackStates reads the requests f selects, or only request id when id is not 0.
func readCallbackStates(ctx context.Context, q queryer, f store.CallbackFilter, id int64) ([]store.CallbackState, error) {
	rows, err := q.Query(ctx, selectCallbackSt, f.PrecinctID, f.Open, f.Limit, id)
	if err != nil {
		return nil, fmt.Errorf("read call-backs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CallbackState, error) {
		var s store.CallbackState
		var at, lastAt, claimedAt int64
		var lastKind, lastOutcome string
		if err := row.Scan(&s.ID, &at, &s.PrecinctID, &s.Phone, &s.Callback.Note, &s.Actor,
			&lastKind, &lastOutcome, &lastAt, &s.Operator, &claimedAt,
			&s.Attempts, &s.Outcome, &s.OutcomeNote); err != nil {
			return s, err
		}
		s.At, s.ClaimedAt, s.UpdatedAt = fromMS(at), fromMS(claimedAt), fromMS(at)
		if lastAt != 0 {
			s.UpdatedAt = fromMS(lastAt)
		}
		switch {
		case lastKind == "claim":
			s.State = store.CallbackClaimed
		case lastKind == "outcome" && lastOutcome != store.CallbackNoAnswer:
			s.State = store.CallbackDone
		default:
			s.State = store.CallbackWaiting
		}
		return s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read call-backs: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
