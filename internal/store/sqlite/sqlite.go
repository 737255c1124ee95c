// Package sqlite is the embedded implementation of the election's store: one SQLite file,
// opened with the pure-Go driver modernc.org/sqlite (no C toolchain), in WAL mode with
// synchronous=FULL so that a commit is on disk before any method returns (spec/reliability.md
// D1, D5). DB implements each consumer's interface directly (store.Store for the night, auth.Store
// for credentials, counters and sessions) and is the concrete type cmd/caucus passes around.
//
// One writer connection serializes every write (SQLite allows one writer anyway; holding one
// connection turns lock contention into an orderly queue and makes group commit explicit), and a
// separate pool of read-only connections serves reads concurrently from WAL snapshots. The schema
// is migrations/*.sql, embedded, applied in order, one transaction each, the version recorded in
// schema_migrations. It is not a server: processes on one host that open the same file share
// every committed write, attempt counters and sessions included, because each write transaction
// takes SQLite's file lock at BEGIN (IMMEDIATE), waiting up to busyTimeout for another
// process's, so AddThrottle stays atomic across them; server nodes on several hosts cannot share
// it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"caucus/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ store.Store = (*DB)(nil)

// busyTimeout is how long a connection waits for a lock held by another process (a second
// `caucus` on the same file, a backup) before failing; within this process the single writer
// connection queues writes without touching SQLite's lock.
const busyTimeout = 10 * time.Second

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open.
type Options struct {
	// Now is the clock for received_at, audit times and other times the store sets itself
	// (never for sessions and attempt counters, whose times are the caller's); nil means
	// time.Now. Tests inject a fake.
	Now func() time.Time
	// Readers is the size of the read-only connection pool; 0 means max(4, GOMAXPROCS).
	Readers int
}

// DB is the election's store on one SQLite file.
type DB struct {
	path   string
	now    func() time.Time
	writer *sql.DB // exactly one connection: every write goes through it, in order
	reader *sql.DB // read-only (query_only) connections
	ws, rs *stmts  // the writer's and the readers' prepared statements
	closed atomic.Bool
}

// Open opens (creating if needed) the database at path, applies pending migrations and checks
// that the file is in WAL mode with synchronous=FULL and foreign keys on, refusing to open
// otherwise (spec/reliability.md D5).
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store: %w: path %q", store.ErrInvalid, path)
	}
	d := &DB{path: path, now: opts.Now}
	if d.now == nil {
		d.now = time.Now
	}
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	var err error
	d.writer, err = sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	d.writer.SetMaxOpenConns(1)
	d.writer.SetMaxIdleConns(1)
	d.writer.SetConnMaxLifetime(0)
	d.writer.SetConnMaxIdleTime(0)
	if err := d.checkDurability(ctx); err != nil {
		d.writer.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(ctx, d.writer, d.now); err != nil {
		d.writer.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	d.reader, err = sql.Open("sqlite", dsn(path, true))
	if err != nil {
		d.writer.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	n := opts.Readers
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	d.reader.SetMaxOpenConns(n)
	d.reader.SetMaxIdleConns(n)
	if d.ws, err = prepare(ctx, d.writer, writeQueries); err != nil {
		d.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if d.rs, err = prepare(ctx, d.reader, readQueries); err != nil {
		d.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return d, nil
}

// makePrivate creates the database file with mode 0600 when it does not exist (an empty file
// is an empty SQLite database), so that SQLite, which gives the -wal and -shm files it creates
// the database file's mode, makes those 0600 too: the file holds the chairs' credential
// hashes, sessions and phone numbers. An existing database, -wal or -shm file that others may
// read or write is made 0600 (its owner's bits kept), which is how a database created before
// this rule is brought under it.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create database file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("read mode of %s: %w", p, err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&0o700); err != nil {
				return fmt.Errorf("make %s private (mode %04o): %w", p, perm, err)
			}
		}
	}
	return nil
}

// dsn is the modernc.org/sqlite data source name. The pragmas run on every new connection.
func dsn(file string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Set("_txlock", "deferred")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	}
	return "file:" + (&url.URL{Path: file}).EscapedPath() + "?" + q.Encode()
}

// checkDurability reads back what the pragmas set: a file that cannot be put in WAL mode
// (e.g. on a filesystem without shared memory) must not silently run with less.
func (d *DB) checkDurability(ctx context.Context) error {
	var mode string
	var sync, fk int
	if err := d.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if err := d.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if err := d.writer.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if !strings.EqualFold(mode, "wal") || sync < 2 || fk != 1 {
		return fmt.Errorf("unsafe durability settings: journal_mode=%s synchronous=%d foreign_keys=%d, want wal, 2 (FULL), 1",
			mode, sync, fk)
	}
	return nil
}

const (
	createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY CHECK (version > 0),
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`
	selectMigrations = `SELECT version FROM schema_migrations ORDER BY version`
	insertMigration  = `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
)

// migrate applies the embedded migrations the database lacks, each in one transaction with its
// version recorded, and refuses a database that has versions this binary does not know.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	if _, err := db.ExecContext(ctx, createMigrations); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := db.QueryContext(ctx, selectMigrations)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	known := map[int]bool{}
	for i, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			return fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		known[v] = true
		if applied[v] {
			continue
		}
		text, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(text)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, insertMigration, v, base, now().UnixMilli())
			return err
		}); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("database has schema version %d, newer than this binary knows (%d)", v, len(names))
		}
	}
	return nil
}

// inTx runs f in a transaction on db and commits it; any error rolls back.
func inTx(ctx context.Context, db *sql.DB, f func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// write runs f in one write transaction. op names the method for the error.
func (d *DB) write(ctx context.Context, op string, f func(tx *txStmts) error) error {
	if d.closed.Load() {
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	}
	if err := inTx(ctx, d.writer, func(tx *sql.Tx) error {
		return f(&txStmts{Tx: tx, prepared: d.ws})
	}); err != nil {
		return d.wrap(op, err)
	}
	return nil
}

// wrap adds op to err once, turning the driver's closed-database error into ErrClosed.
func (d *DB) wrap(op string, err error) error {
	if d.closed.Load() && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("%s: %w (%w)", op, store.ErrClosed, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (d *DB) checkOpen(op string) error {
	if d.closed.Load() {
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	}
	return nil
}

// Close waits for in-flight calls, checkpoints nothing extra (WAL is already durable) and
// closes both pools. A second Close returns nil.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, s := range []*stmts{d.ws, d.rs} {
		if s != nil {
			errs = append(errs, s.close())
		}
	}
	if d.reader != nil {
		errs = append(errs, d.reader.Close())
	}
	errs = append(errs, d.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", d.path, err)
	}
	return nil
}

// ms and fromMS convert between time.Time and the unix milliseconds stored.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error unless SQLite answers "ok"
// (spec/reliability.md B0.4).
func (d *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := d.writer.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(lines) != 1 || lines[0] != "ok" {
		return fmt.Errorf("integrity check: %s", strings.Join(lines, "; "))
	}
	return nil
}
