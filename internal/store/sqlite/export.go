package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"caucus/internal/store/export"
)

var (
	_ export.Source = (*DB)(nil)
	_ export.Sink   = (*DB)(nil)
)

// selectTable is the export's query of t.
func selectTable(t *export.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + t.Name + " ORDER BY " + t.OrderBy
}

type sqlQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readTable(ctx context.Context, q sqlQueryer, t *export.Table, emit func(raw []any) error) error {
	rows, err := q.QueryContext(ctx, selectTable(t))
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	defer rows.Close()
	raw := make([]any, len(t.Columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
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

// ExportTables reads every row of tables in one read transaction (one WAL snapshot).
func (d *DB) ExportTables(ctx context.Context, tables []export.Table, emit func(t *export.Table, raw []any) error) error {
	if err := d.checkOpen("export"); err != nil {
		return err
	}
	tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d.wrap("export", err)
	}
	defer tx.Rollback()
	for i := range tables {
		t := &tables[i]
		if err := readTable(ctx, tx, t, func(raw []any) error { return emit(t, raw) }); err != nil {
			return err
		}
	}
	return nil
}

// ImportTables runs load in one write transaction on an empty database, then checks the foreign
// keys (PRAGMA foreign_key_check) before committing.
func (d *DB) ImportTables(ctx context.Context, tables []export.Table, load func(tx export.Tx) error) error {
	if err := d.checkOpen("import"); err != nil {
		return err
	}
	err := inTx(ctx, d.writer, func(tx *sql.Tx) error {
		for _, t := range tables {
			var any bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.Name+")").Scan(&any); err != nil {
				return err
			}
			if any {
				return fmt.Errorf("%w: table %s has rows", export.ErrNotEmpty, t.Name)
			}
		}
		if err := load(importTx{tx: tx, stmts: map[string]*sql.Stmt{}}); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			return fmt.Errorf("%w: a row refers to a row that is not there (foreign_key_check)", export.ErrMismatch)
		}
		return rows.Err()
	})
	if err != nil {
		return d.wrap("import", err)
	}
	return nil
}

type importTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (x importTx) Insert(ctx context.Context, t *export.Table, row export.Row) error {
	st, ok := x.stmts[t.Name]
	if !ok {
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = c.Name
		}
		var err error
		st, err = x.tx.PrepareContext(ctx, "INSERT INTO "+t.Name+" ("+strings.Join(cols, ", ")+") VALUES (?"+
			strings.Repeat(", ?", len(cols)-1)+")")
		if err != nil {
			return fmt.Errorf("insert into %s: %w", t.Name, err)
		}
		x.stmts[t.Name] = st
	}
	args := make([]any, len(row))
	for i, v := range row {
		if b, ok := v.(bool); ok {
			v = int64(0)
			if b {
				v = int64(1)
			}
		}
		args[i] = v
	}
	if _, err := st.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("insert into %s: %w", t.Name, err)
	}
	return nil
}

func (x importTx) Read(ctx context.Context, t *export.Table, emit func(raw []any) error) error {
	return readTable(ctx, x.tx, t, emit)
}
