package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// modernc.org/sqlite compiles every query it is handed afresh, and compiling an INSERT into
// entries (with its triggers, CHECKs and indexes) costs more than running it. The hot queries are
// therefore prepared once per pool at Open; database/sql re-prepares them on a new connection
// by itself.

// writeQueries are prepared on the writer, readQueries on the reader pool.
var (
	writeQueries = []string{insertEntry, selectPrecinctState, upsertPrecinctState, insertAudit,
		selectEntryByReportID, selectCountsTarget, selectEntryContent, addCounter, selectCounter, putCounter, deleteCounter,
		addLoginFailure}
	readQueries = []string{selectEntries, selectEntryByReportID, selectPrecinctState, selectSize,
		selectSession, selectCredential, selectSettings,
		selectPrecinctEntries, selectCounter}
)

// stmts is one pool with its prepared statements. It is a queryer: a query it has prepared runs
// as the prepared statement, any other is compiled as usual.
type stmts struct {
	db *sql.DB
	m  map[string]*sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB, queries []string) (*stmts, error) {
	s := &stmts{db: db, m: make(map[string]*sql.Stmt, len(queries))}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %.40q: %w", q, err)
		}
		s.m[q] = st
	}
	return s, nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range s.m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

func (s *stmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.m[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

func (s *stmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.m[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// txStmts is a write transaction using the writer's prepared statements; it binds each to the
// transaction once.
type txStmts struct {
	*sql.Tx
	prepared *stmts
	bound    map[string]*sql.Stmt
}

func (t *txStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.bound[query]; ok {
		return st
	}
	st, ok := t.prepared.m[query]
	if !ok {
		return nil
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	st = t.Tx.StmtContext(ctx, st)
	t.bound[query] = st
	return st
}

func (t *txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
