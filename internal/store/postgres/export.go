package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store/export"
)

var (
	_ export.Source = (*DB)(nil)
	_ export.Sink   = (*DB)(nil)
)

func selectTable(t *export.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + t.Name + " ORDER BY " + t.OrderBy
}

func readTable(ctx context.Context, tx pgx.Tx, t *export.Table, emit func(raw []any) error) error {
	rows, err := tx.Query(ctx, selectTable(t))
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		raw, err := rows.Values()
		if err != nil {
			return fmt.Errorf("read %s: %w", t.Name, err)
		}
		if err := emit(raw); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	return nil
}

// ExportTables reads every row of tables in one read-only, repeatable-read transaction (one
// snapshot), while the election goes on.
func (d *DB) ExportTables(ctx context.Context, tables []export.Table, emit func(t *export.Table, raw []any) error) error {
	if err := d.checkOpen("export"); err != nil {
		return err
	}
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			for i := range tables {
				t := &tables[i]
				if err := readTable(ctx, tx, t, func(raw []any) error { return emit(t, raw) }); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return d.wrap("export", err)
	}
	return nil
}

// ImportTables runs load in one transaction on an empty schema, writing the exported IDs of
// identity columns (OVERRIDING SYSTEM VALUE) and then moving each identity past the largest,
// and checks that the log's head counts the entries before committing. The schema's triggers
// check every row as they do for the store's own writes (dense indices, hotline rounds in
// order, call-back events following their request's last).
func (d *DB) ImportTables(ctx context.Context, tables []export.Table, load func(tx export.Tx) error) error {
	if err := d.checkOpen("import"); err != nil {
		return err
	}
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		for _, t := range tables {
			var any bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+")").Scan(&any); err != nil {
				return err
			}
			if any {
				return fmt.Errorf("%w: table %s has rows", export.ErrNotEmpty, t.Name)
			}
		}
		x := &importTx{tx: tx, batch: &pgx.Batch{}, sql: map[string]string{}}
		if err := load(x); err != nil {
			return err
		}
		if err := x.flush(ctx); err != nil {
			return err
		}
		for _, t := range tables {
			if !t.Identity {
				continue
			}
			if _, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence($1, 'id'), max(id)) FROM "+t.Name+
				" HAVING max(id) IS NOT NULL", t.Name); err != nil {
				return fmt.Errorf("move %s's identity past its IDs: %w", t.Name, err)
			}
		}
		var size, count int64
		if err := tx.QueryRow(ctx, "SELECT (SELECT size FROM log_head WHERE id = 1), (SELECT count(*) FROM entries)").
			Scan(&size, &count); err != nil {
			return err
		}
		if size != count {
			return fmt.Errorf("%w: log_head says %d entries, the log has %d", export.ErrMismatch, size, count)
		}
		return nil
	})
	if err != nil {
		return d.wrap("import", err)
	}
	return nil
}

// importBatch is how many inserts an import sends to the server at once (one round trip).
const importBatch = 1000

// importTx queues inserts and sends them in batches, in order; a failed insert fails the batch
// that carries it, and the transaction with it.
type importTx struct {
	tx    pgx.Tx
	batch *pgx.Batch
	sql   map[string]string
}

func (x *importTx) Insert(ctx context.Context, t *export.Table, row export.Row) error {
	q, ok := x.sql[t.Name]
	if !ok {
		cols := make([]string, len(t.Columns))
		params := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = c.Name
			params[i] = "$" + strconv.Itoa(i+1)
		}
		q = "INSERT INTO " + t.Name + " (" + strings.Join(cols, ", ") + ")"
		if t.Identity {
			q += " OVERRIDING SYSTEM VALUE"
		}
		q += " VALUES (" + strings.Join(params, ", ") + ")"
		x.sql[t.Name] = q
	}
	name := t.Name
	x.batch.Queue(q, row...)
	if x.batch.Len() >= importBatch {
		if err := x.flush(ctx); err != nil {
			return fmt.Errorf("insert into %s: %w", name, err)
		}
	}
	return nil
}

// flush sends the queued inserts.
func (x *importTx) flush(ctx context.Context) error {
	if x.batch.Len() == 0 {
		return nil
	}
	b := x.batch
	x.batch = &pgx.Batch{}
	return x.tx.SendBatch(ctx, b).Close()
}

func (x *importTx) Read(ctx context.Context, t *export.Table, emit func(raw []any) error) error {
	if err := x.flush(ctx); err != nil {
		return err
	}
	return readTable(ctx, x.tx, t, emit)
}
