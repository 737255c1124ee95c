package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

// checkChunk is how many entries IntegrityCheck reads at a time.
const checkChunk = 4096

// IntegrityCheck checks, in one snapshot, what the schema's constraints cannot: that the log's
// indices are dense and log_head's size is their count, that every entry's leaf hash is the hash
// of its bytes, and that the precinct states are what replaying the log through store.Next gives
// (every field but UpdatedAt, which is the time of the append, not of an entry). It is the
// PostgreSQL counterpart of SQLite's integrity_check, for after a crash or a restore.
func (d *DB) IntegrityCheck(ctx context.Context) error {
	if err := d.checkOpen("integrity check"); err != nil {
		return err
	}
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var size int64
			if err := tx.QueryRow(ctx, selectSize).Scan(&size); err != nil {
				return err
			}
			states := map[string]store.PrecinctState{}
			var next int64
			for next < size {
				es, err := queryEntries(ctx, tx, selectEntries, next, next+checkChunk)
				if err != nil {
					return err
				}
				if len(es) == 0 {
					break
				}
				for _, e := range es {
					if e.Index != next {
						return fmt.Errorf("entry %d where %d was due: the log is not dense", e.Index, next)
					}
					if e.LeafHash != store.LeafHash(e.Body) {
						return fmt.Errorf("entry %d: leaf hash %x is not the hash of its bytes", e.Index, e.LeafHash)
					}
					prev, ok := states[e.PrecinctID]
					if !ok {
						prev = store.EmptyState(e.PrecinctID)
					}
					ne := store.NewEntry{Kind: e.Kind, PrecinctID: e.PrecinctID, Status: e.Status}
					if e.Counts != store.NoIndex {
						ne.Counts = &e.Counts
					}
					st, status, _, err := store.Next(prev, &ne, e.Index, prev.UpdatedAt)
					if err != nil {
						return fmt.Errorf("replay entry %d: %w", e.Index, err)
					}
					if status != e.Status {
						return fmt.Errorf("entry %d: stored status %s, the replay gives %s", e.Index, e.Status, status)
					}
					// An audit's entry is no precinct's and a certification's is a scope's: Next
					// leaves every state alone.
					if e.Kind != store.KindAudit && e.Kind != store.KindCertification {
						states[e.PrecinctID] = st
					}
					next++
				}
			}
			if next != size {
				return fmt.Errorf("log_head says %d entries, the log has %d", size, next)
			}
			rows, err := tx.Query(ctx, selectPrecinctStates)
			if err != nil {
				return err
			}
			defer rows.Close()
			seen := 0
			for rows.Next() {
				var got store.PrecinctState
				if err := scanState(rows, &got, true); err != nil {
					return err
				}
				want, ok := states[got.PrecinctID]
				want.UpdatedAt = got.UpdatedAt
				if !ok || got != want {
					return fmt.Errorf("precinct %q: stored state %+v, the replay gives %+v", got.PrecinctID, got, want)
				}
				seen++
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if seen != len(states) {
				return fmt.Errorf("%d precincts have entries, %d have a stored state", len(states), seen)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	return nil
}
