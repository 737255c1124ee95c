package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"caucus/internal/store"
)

const (
	selectOpenRound = `SELECT coalesce(max(round), 0) + 1 FROM hotline_rounds WHERE precinct_id = ?`
	selectCopyBy    = `SELECT id FROM hotline_copies WHERE precinct_id = ? AND round = ? AND operator = ?`
	insertCopy      = `INSERT INTO hotline_copies (at, precinct_id, round, operator, verified_by, channel, report, content)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	selectRoundCopies = `SELECT id, at, precinct_id, round, operator, verified_by, channel, report, content
	FROM hotline_copies WHERE precinct_id = ? AND round = ? ORDER BY id`
	selectSettlements = `SELECT precinct_id, round, outcome, copies, report_id, log_index, actor, at
	FROM hotline_rounds WHERE precinct_id = ? ORDER BY round`
	insertSettlement = `INSERT INTO hotline_rounds (precinct_id, round, outcome, copies, report_id, log_index, actor, at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (precinct_id, round) DO NOTHING`
	// The open rounds holding two copies or more: copies whose round has no settlement.
	selectContested = `SELECT c.precinct_id, c.round FROM hotline_copies c
	WHERE NOT EXISTS (SELECT 1 FROM hotline_rounds r WHERE r.precinct_id = c.precinct_id AND r.round = c.round)
	GROUP BY c.precinct_id, c.round HAVING count(*) >= 2 ORDER BY min(c.id)`

	selectCallback   = `SELECT id, at, precinct_id, phone, note, actor FROM callbacks WHERE id = ?`
	selectLastEvent  = `SELECT kind, operator, outcome FROM callback_events WHERE callback_id = ? ORDER BY id DESC LIMIT 1`
	insertEvent      = `INSERT INTO callback_events (callback_id, at, kind, operator, outcome, note) VALUES (?, ?, ?, ?, ?, ?)`
	selectCallbackSt = `SELECT c.id, c.at, c.precinct_id, c.phone, c.note, c.actor,
	coalesce(l.kind, ''), coalesce(l.outcome, ''), coalesce(l.at, 0),
	coalesce(cl.operator, ''), coalesce(cl.at, 0),
	(SELECT count(*) FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome'),
	coalesce((SELECT o.outcome FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome' ORDER BY o.id DESC LIMIT 1), ''),
	coalesce((SELECT o.note FROM callback_events o WHERE o.callback_id = c.id AND o.kind = 'outcome' ORDER BY o.id DESC LIMIT 1), '')
	FROM callbacks c
	LEFT JOIN callback_events l ON l.id = (SELECT max(id) FROM callback_events e WHERE e.callback_id = c.id)
	LEFT JOIN callback_events cl ON cl.id = (SELECT max(id) FROM callback_events e WHERE e.callback_id = c.id AND e.kind = 'claim')
	WHERE (?1 = '' OR c.precinct_id = ?1)
	AND (?2 = 0 OR l.kind IS NULL OR l.kind = 'claim' OR l.outcome = 'no_answer')
	ORDER BY c.id LIMIT ?3`
)

// AddHotlineCopy stores one operator's copy of a precinct's worksheet in the precinct's open
// round (the round after its last settled one) with its AuditHotlineCopy row, the numbers in
// it, in one transaction, and returns the open round with every copy it holds, this one last.
// An operator who already keyed a copy of the round gets an error wrapping store.ErrExists and
// nothing is stored; a missing field or an unknown VerifiedBy or Channel, store.ErrInvalid.
func (d *DB) AddHotlineCopy(ctx context.Context, c store.NewHotlineCopy) (store.HotlineRound, error) {
	if err := c.Validate(); err != nil {
		return store.HotlineRound{}, err
	}
	now := ms(d.now())
	var round store.HotlineRound
	err := d.write(ctx, "add hotline copy", func(tx *txStmts) error {
		var n int64
		if err := tx.QueryRowContext(ctx, selectOpenRound, c.PrecinctID).Scan(&n); err != nil {
			return fmt.Errorf("read open round: %w", err)
		}
		var id int64
		switch err := tx.QueryRowContext(ctx, selectCopyBy, c.PrecinctID, n, c.Operator).Scan(&id); {
		case err == nil:
			return fmt.Errorf("%w: %s already keyed copy %d of precinct %s, round %d", store.ErrExists, c.Operator, id, c.PrecinctID, n)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up copy: %w", err)
		}
		res, err := tx.ExecContext(ctx, insertCopy, now, c.PrecinctID, n, c.Operator, c.VerifiedBy, c.Channel, c.Report, c.Content)
		if err != nil {
			return fmt.Errorf("insert copy: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"copy_id": id, "round": n, "verified_by": c.VerifiedBy,
			"channel": c.Channel, "content": hex.EncodeToString(c.Content), "report": json.RawMessage(c.Report)})
		if _, err := addAudit(ctx, tx, now, store.NewAudit{Actor: c.Operator, Kind: store.AuditHotlineCopy,
			PrecinctID: c.PrecinctID, Detail: detail}); err != nil {
			return err
		}
		round, err = readRound(ctx, tx, c.PrecinctID, n)
		return err
	})
	if err != nil {
		return store.HotlineRound{}, err
	}
	return round, nil
}

// HotlineRound returns a precinct's open round (with no copies when none is keyed yet) and its
// settled rounds.
func (d *DB) HotlineRound(ctx context.Context, precinctID string) (store.HotlineRound, error) {
	if err := d.checkOpen("read hotline round"); err != nil {
		return store.HotlineRound{}, err
	}
	var n int64
	if err := d.rs.QueryRowContext(ctx, selectOpenRound, precinctID).Scan(&n); err != nil {
		return store.HotlineRound{}, d.wrap("read hotline round", err)
	}
	r, err := readRound(ctx, d.rs, precinctID, n)
	if err != nil {
		return store.HotlineRound{}, d.wrap("read hotline round", err)
	}
	return r, nil
}

// ContestedHotlineRounds returns every open round that holds two copies or more, oldest first:
// the rounds whose copies have not (yet) been found to agree, which the caller compares.
func (d *DB) ContestedHotlineRounds(ctx context.Context) ([]store.HotlineRound, error) {
	if err := d.checkOpen("read contested rounds"); err != nil {
		return nil, err
	}
	rows, err := d.rs.QueryContext(ctx, selectContested)
	if err != nil {
		return nil, d.wrap("read contested rounds", err)
	}
	type key struct {
		p string
		n int64
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.p, &k.n); err != nil {
			rows.Close()
			return nil, d.wrap("read contested rounds", err)
		}
		keys = append(keys, k)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, d.wrap("read contested rounds", err)
	}
	out := make([]store.HotlineRound, 0, len(keys))
	for _, k := range keys {
		r, err := readRound(ctx, d.rs, k.p, k.n)
		if err != nil {
			return nil, d.wrap("read contested rounds", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// SettleHotlineRound closes a precinct's round with its AuditHotlineSettled row, in one
// transaction. Settling a round again is a no-op that returns created false (the first
// settlement stands: two racing operators who both found the match settle it once). A round
// that is not the precinct's open one, or an unknown Outcome, is store.ErrInvalid.
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
	err = d.write(ctx, "settle hotline round", func(tx *txStmts) error {
		var open int64
		if err := tx.QueryRowContext(ctx, selectOpenRound, s.PrecinctID).Scan(&open); err != nil {
			return fmt.Errorf("read open round: %w", err)
		}
		if s.Round < open {
			return nil // settled already
		}
		if s.Round > open {
			return fmt.Errorf("%w: round %d of precinct %s is not open (round %d is)", store.ErrInvalid, s.Round, s.PrecinctID, open)
		}
		if _, err := tx.ExecContext(ctx, insertSettlement, s.PrecinctID, s.Round, s.Outcome, string(cj), s.ReportID, s.LogIndex, s.Actor, now); err != nil {
			return fmt.Errorf("insert settlement: %w", err)
		}
		created = true
		detail, _ := json.Marshal(map[string]any{"round": s.Round, "outcome": s.Outcome, "copies": copies,
			"report_id": s.ReportID, "log_index": s.LogIndex})
		_, err := addAudit(ctx, tx, now, store.NewAudit{Actor: s.Actor, Kind: store.AuditHotlineSettled,
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
	rows, err := q.QueryContext(ctx, selectRoundCopies, precinctID, n)
	if err != nil {
		return r, fmt.Errorf("read copies: %w", err)
	}
	for rows.Next() {
		var c store.HotlineCopy
		var at int64
		if err := rows.Scan(&c.ID, &at, &c.PrecinctID, &c.Round, &c.Operator, &c.VerifiedBy, &c.Channel, &c.Report, &c.Content); err != nil {
			rows.Close()
			return r, fmt.Errorf("read copies: %w", err)
		}
		c.At = fromMS(at)
		r.Copies = append(r.Copies, c)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return r, fmt.Errorf("read copies: %w", err)
	}
	rows, err = q.QueryContext(ctx, selectSettlements, precinctID)
	if err != nil {
		return r, fmt.Errorf("read settlements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s store.HotlineSettlement
		var cj string
		var at int64
		if err := rows.Scan(&s.PrecinctID, &s.Round, &s.Outcome, &cj, &s.ReportID, &s.LogIndex, &s.Actor, &at); err != nil {
			return r, fmt.Errorf("read settlements: %w", err)
		}
		if err := json.Unmarshal([]byte(cj), &s.Copies); err != nil {
			return r, fmt.Errorf("read settlements: copies %q: %w", cj, err)
		}
		s.At = fromMS(at)
		r.Settled = append(r.Settled, s)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("read settlements: %w", err)
	}
	return r, nil
}

// ClaimCallback gives call-back request id to operator, with its AuditCallbackClaimed row, in
// one transaction: the read of the request's state and the claim are one atomic step, so two
// operators never both have it. A request claimed by someone (the same operator included) or
// done is store.ErrConflict; an unknown one store.ErrNotFound.
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

// callbackEvent appends one event to request id once allowed says the request's last event
// (kind "" for none) permits it, and returns the request's state after it.
func (d *DB) callbackEvent(ctx context.Context, op string, id int64, operator, kind, outcome, note string,
	audit store.AuditKind, allowed func(kind, who, outcome string) error) (store.CallbackState, error) {
	now := ms(d.now())
	var st store.CallbackState
	err := d.write(ctx, op, func(tx *txStmts) error {
		var c store.Callback
		var at int64
		err := tx.QueryRowContext(ctx, selectCallback, id).Scan(&c.ID, &at, &c.PrecinctID, &c.Phone, &c.Note, &c.Actor)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("call-back %d: %w", id, store.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("read call-back: %w", err)
		}
		var lastKind, lastWho, lastOutcome string
		err = tx.QueryRowContext(ctx, selectLastEvent, id).Scan(&lastKind, &lastWho, &lastOutcome)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read call-back events: %w", err)
		}
		if err := allowed(lastKind, lastWho, lastOutcome); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertEvent, id, now, kind, operator, outcome, note); err != nil {
			return fmt.Errorf("insert call-back event: %w", err)
		}
		// The number stays in its table; the audit row names the request.
		detail, _ := json.Marshal(map[string]any{"callback_id": id, "outcome": outcome, "note": note})
		if _, err := addAudit(ctx, tx, now, store.NewAudit{Actor: operator, Kind: audit, PrecinctID: c.PrecinctID, Detail: detail}); err != nil {
			return err
		}
		sts, err := readCallbackStates(ctx, tx, store.CallbackFilter{PrecinctID: c.PrecinctID, Limit: 1 << 20})
		if err != nil {
			return err
		}
		for _, s := range sts {
			if s.ID == id {
				st = s
			}
		}
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
	sts, err := readCallbackStates(ctx, d.rs, f)
	if err != nil {
		return nil, d.wrap("read call-backs", err)
	}
	return sts, nil
}

func readCallbackStates(ctx context.Context, q queryer, f store.CallbackFilter) ([]store.CallbackState, error) {
	open := 0
	if f.Open {
		open = 1
	}
	rows, err := q.QueryContext(ctx, selectCallbackSt, f.PrecinctID, open, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read call-backs: %w", err)
	}
	defer rows.Close()
	var out []store.CallbackState
	for rows.Next() {
		var s store.CallbackState
		var at, lastAt, claimedAt int64
		var lastKind, lastOutcome string
		if err := rows.Scan(&s.ID, &at, &s.PrecinctID, &s.Phone, &s.Callback.Note, &s.Actor,
			&lastKind, &lastOutcome, &lastAt, &s.Operator, &claimedAt,
			&s.Attempts, &s.Outcome, &s.OutcomeNote); err != nil {
			return nil, fmt.Errorf("read call-backs: %w", err)
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
		out = append(out, s)
	}
	return out, rows.Err()
}
