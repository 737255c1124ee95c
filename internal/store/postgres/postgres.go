// Package postgres is the election's store on a PostgreSQL server, for a deployment that
// outgrows one machine: the same interfaces as package sqlite (store.Store for the night,
// auth.Store for credentials, counters and sessions), the same semantics, checked by the same
// conformance suites (package storetest), over a pool of connections (pgx) that several server
// processes may share.
//
// Everything the interfaces promise across processes is enforced by the database, never by a
// lock in this process: the log's appends lock the one row of log_head (SELECT … FOR UPDATE) for
// the length of their transaction, so indices are dense in commit order across every process;
// report IDs are unique by index; counters are updated by one UPSERT … RETURNING, or under a
// transaction-level advisory lock per key when read, decided on and written (UpdateThrottles);
// quotas are counted under an advisory lock per precinct; the IDs of audit rows and call-back
// requests are taken under one advisory lock held until commit, so they grow in commit order and
// paging by the last ID seen never skips a row committed later; a precinct's hotline copies and
// settlements take turns under an advisory lock per precinct (which the schema's triggers take
// too), and a call-back request's claims and outcomes under the request's row lock. A commit
// returns once the server has flushed it (Open refuses a server with fsync or synchronous_commit
// off).
//
// Several caucus serve nodes may share one database (nodes.go): any of them appends; one at a
// time, the holder of the signer lease (Lead: a session-level advisory lock and a fencing
// token, log_head.writer_epoch, that each new leader increments), may write the values named by
// Options.LeaseValues (the transparency log's checkpoint), checked against the token in the
// write's transaction, so a deposed leader cannot sign; every append notifies its new log size
// at commit (pg_notify), which every node's Watch hears (LISTEN on a connection of its own), so
// each node's tally follows the others' commits. Every node that may lead needs the log's key.
//
// The schema is migrations/*.sql (PostgreSQL's dialect, with the meaning of package sqlite's
// migrations), embedded, applied in order at Open, one transaction each, under a session-level
// advisory lock, so that several nodes starting at once apply each migration exactly once. A
// database may hold several elections' stores, one per schema: the URL's search_path parameter
// names it (created at need), and every lock is taken per schema.
//
// Times are stored as unix milliseconds and bytes as BYTEA, so an entry's body reads back byte
// for byte and the transparency log verifies against it.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"caucus/internal/store"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open.
type Options struct {
	// Now is the clock for received_at, audit times and other times the store sets itself
	// (never for sessions and attempt counters, whose times are the caller's); nil means
	// time.Now. Tests inject a fake.
	Now func() time.Time
	// LeaseValues names the values only the holder of the log's signer lease may write (the
	// transparency log's checkpoint): CreateValue and SwapValue of them check, in their
	// transaction, that the fencing token this handle took with the lease (Lead) is still the
	// database's, and fail with ErrNotLeader otherwise, so a node that lost the lease, and
	// every node that never had it, cannot sign.
	LeaseValues []string
	// MaxConns bounds the pool; 0 means pgxpool's default (the URL's pool_max_conns, or
	// max(4, GOMAXPROCS)).
	MaxConns int32
}

// ErrNotLeader: this handle does not hold the log's signer lease (another node took it, or it
// never had it), so it may not write a value of Options.LeaseValues.
var ErrNotLeader = errors.New("this node does not hold the log's signer lease")

// DB is the election's store on a PostgreSQL database (one schema of it).
type DB struct {
	name      string // host, port, database and schema, for errors (never the password)
	now       func() time.Time
	pool      *pgxpool.Pool
	schemaKey int32 // the second key of this schema's advisory locks

	connCfg     *pgx.ConnConfig // for the connections of their own: the lease's, Watch's
	leaseValues map[string]bool // Options.LeaseValues
	lease       lease           // the log's signer lease (nodes.go)

	closed atomic.Bool
}

// Advisory lock classes (the first key of the two-key form; the second is the schema's key).
// The one-key form is used for per-key locks (lockKeys), a space of its own.
const (
	lockMigrate   int32 = 0x63610001 // held while migrations are applied (session)
	lockLogWriter int32 = 0x63610002 // the log's signer lease, held by its leader (session)
	lockAudit     int32 = 0x63610003 // held from the audit or callback ID to commit (transaction)
	lockDecisions int32 = 0x63610004 // held while a node checks and appends a staff decision (session, Serialize)
)

// schemaName is what search_path may name: one plain identifier.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the PostgreSQL database at url (a postgres:// URL or a key=value string, as
// libpq reads them), checks that its commits are durable, and applies pending migrations.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w: %w", store.ErrInvalid, err)
	}
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	if schema != "" && !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("open store: %w: search_path %q: want one schema, a lower-case identifier", store.ErrInvalid, schema)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	h := fnv.New32a()
	h.Write([]byte(schema))
	d := &DB{now: opts.Now, schemaKey: int32(h.Sum32()),
		name: fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	if schema != "" {
		d.name += " schema " + schema
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open store %s: %w", d.name, err)
	}
	if err := d.checkDurability(ctx); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("open store %s: %w", d.name, err)
	}
	if err := d.migrate(ctx, cfg.ConnConfig, schema); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("open store %s: %w", d.name, err)
	}
	d.connCfg = cfg.ConnConfig.Copy()
	d.leaseValues = map[string]bool{}
	for _, name := range opts.LeaseValues {
		d.leaseValues[name] = true
	}
	return d, nil
}

// checkDurability refuses a server that would acknowledge a commit before it is on disk.
func (d *DB) checkDurability(ctx context.Context) error {
	var fsync, syncCommit string
	if err := d.pool.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").
		Scan(&fsync, &syncCommit); err != nil {
		return fmt.Errorf("read durability settings: %w", err)
	}
	if fsync != "on" || syncCommit == "off" {
		return fmt.Errorf("unsafe durability settings: fsync=%s synchronous_commit=%s, want fsync on and synchronous_commit not off",
			fsync, syncCommit)
	}
	return nil
}

const (
	createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY CHECK (version > 0),
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`
	selectMigrations = `SELECT version FROM schema_migrations ORDER BY version`
	insertMigration  = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`
)

// migrate applies the embedded migrations the schema lacks, each in one transaction with its
// version recorded, and refuses a schema that has versions this binary does not know. It runs on
// a connection of its own holding the schema's migration lock, so that of several processes
// starting at once one applies them and the others, waiting for the lock, find them applied;
// closing the connection releases the lock whatever happened.
func (d *DB) migrate(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", lockMigrate, d.schemaKey); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	if schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	if _, err := conn.Exec(ctx, createMigrations); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, selectMigrations)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
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
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(text)); err != nil { // no arguments: the simple protocol, several statements
				return err
			}
			_, err := tx.Exec(ctx, insertMigration, v, base, d.now().UnixMilli())
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

// retryable reports whether err is a serialization failure or a deadlock, after which
// PostgreSQL has rolled the whole transaction back and it may run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// maxAttempts bounds the runs of one transaction that meets serialization failures or
// deadlocks (which the locks' fixed order should make rare).
const maxAttempts = 5

// write runs f in one read-committed transaction and commits it. op names the method for the
// error. f may run more than once (a transaction PostgreSQL rolled back on a deadlock), so it
// must reset what it collects. A failed commit is not retried: it may have happened.
func (d *DB) write(ctx context.Context, op string, f func(tx pgx.Tx) error) error {
	if err := d.checkOpen(op); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		tx, err := d.pool.Begin(ctx)
		if err != nil {
			return d.wrap(op, err)
		}
		if err := f(tx); err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			if retryable(err) && attempt < maxAttempts {
				continue
			}
			return d.wrap(op, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return d.wrap(op, err)
		}
		return nil
	}
}

// lockSQL takes one of the schema's transaction-level advisory locks: class, schema key.
const lockSQL = "SELECT pg_advisory_xact_lock($1, $2)"

// lock takes one of the schema's transaction-level advisory locks in tx.
func (d *DB) lock(ctx context.Context, tx pgx.Tx, class int32) error {
	if _, err := tx.Exec(ctx, lockSQL, class, d.schemaKey); err != nil {
		return fmt.Errorf("take lock %#x: %w", class, err)
	}
	return nil
}

// lockKeys takes a transaction-level advisory lock per key (by its 64-bit hash), in sorted
// order so that two transactions locking overlapping sets cannot deadlock.
func lockKeys(ctx context.Context, tx pgx.Tx, keys ...string) error {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for i, k := range sorted {
		if i > 0 && k == sorted[i-1] {
			continue
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", k); err != nil {
			return fmt.Errorf("lock %q: %w", k, err)
		}
	}
	return nil
}

// wrap adds op to err once, turning the pool's closed error into ErrClosed.
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

// Close waits for in-flight calls to return their connections, closes the pool and releases
// the signer lease, if this handle holds it. A second Close returns nil.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.pool.Close()
	if err := d.lease.drop(d); err != nil {
		return fmt.Errorf("close store %s: %w", d.name, err)
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
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Migrations is the embedded schema, migrations/*.sql, for tests and tools that read it.
func Migrations() fs.FS { return migrations }
