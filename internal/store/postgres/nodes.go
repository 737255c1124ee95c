package postgres

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several caucus serve nodes share one database. Any of them appends (the log head's row lock
// orders the appends of every node); one of them, the leader, signs the transparency log's
// checkpoints: it holds the signer lease, the session-level advisory lock lockLogWriter on a
// connection of its own, and took a fencing token with it (log_head.writer_epoch, incremented
// by every new leader). The values of Options.LeaseValues (the checkpoint) are written only
// under the current token, so a leader that lost its connection, and with it the lock, cannot
// sign once another node has taken over. Every node learns of the others' appends from
// Watch, a LISTEN on the schema's channel, which Append's transaction notifies at commit.

// lease is this handle's hold on the signer lease.
type lease struct {
	mu    sync.Mutex
	conn  *pgx.Conn    // tries, then holds, the advisory lock; nil: none yet, or lost
	epoch atomic.Int64 // the fencing token taken with it; 0: not held
}

const (
	takeLease    = `SELECT pg_try_advisory_lock($1, $2)`
	releaseLease = `SELECT pg_advisory_unlock($1, $2)`
	takeToken    = `UPDATE log_head SET writer_epoch = writer_epoch + 1 WHERE id = 1 RETURNING writer_epoch`
	selectToken  = `SELECT writer_epoch FROM log_head WHERE id = 1`
	sharedToken  = `SELECT writer_epoch FROM log_head WHERE id = 1 FOR SHARE`
	listenPrefix = "caucus_log_"
	// The application_name of the connections of their own, as pg_stat_activity shows them.
	leaseApp = "caucus signer lease"
	watchApp = "caucus watch"
	// unlockTimeout bounds Close's release of the lease on a server that does not answer.
	unlockTimeout = 2 * time.Second
)

// ownConfig is the configuration of a connection of its own, named app.
func (d *DB) ownConfig(app string) *pgx.ConnConfig {
	cfg := d.connCfg.Copy()
	cfg.RuntimeParams["application_name"] = app
	return cfg
}

// Lead tries to hold the log's signer lease and reports whether this handle holds it now. A
// handle that holds it checks that its connection is alive and its token still current (a
// connection the server lost has lost the lock: the handle lets it go, and a later call may
// take the lease again, with a new token). A handle that does not hold it tries the lock once,
// without waiting, on a connection it keeps for the next try. Nodes call it every few moments:
// whichever gets the lock leads until it dies or loses its connection.
func (d *DB) Lead(ctx context.Context) (bool, error) {
	if err := d.checkOpen("lead"); err != nil {
		return false, err
	}
	l := &d.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	// reset lets the connection go, and with it the lock if it was held.
	reset := func(op string, err error) (bool, error) {
		l.conn.Close(context.WithoutCancel(ctx))
		l.conn = nil
		l.epoch.Store(0)
		if err != nil {
			return false, d.wrap(op, err)
		}
		return false, nil
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, d.ownConfig(leaseApp))
		if err != nil {
			return false, d.wrap("lead: connect", err)
		}
		l.conn = conn
	}
	if mine := l.epoch.Load(); mine != 0 {
		var current int64
		if err := l.conn.QueryRow(ctx, selectToken).Scan(&current); err != nil || current != mine {
			return reset("lead: the lease's connection", err)
		}
		return true, nil
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, takeLease, lockLogWriter, d.schemaKey).Scan(&ok); err != nil {
		return reset("lead: take the lock", err)
	}
	if !ok {
		return false, nil
	}
	var epoch int64
	if err := l.conn.QueryRow(ctx, takeToken).Scan(&epoch); err != nil {
		return reset("lead: take the fencing token", err)
	}
	l.epoch.Store(epoch)
	return true, nil
}

// drop lets the lease and its connection go (Close).
func (l *lease) drop(d *DB) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	held := l.epoch.Swap(0) != 0
	if l.conn == nil {
		return nil
	}
	if held {
		// Unlock before closing, so another node may take the lease at once rather than
		// once the server has noticed the closed connection. Closing releases it anyway.
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		l.conn.Exec(ctx, releaseLease, lockLogWriter, d.schemaKey)
		cancel()
	}
	err := l.conn.Close(context.Background())
	l.conn = nil
	return err
}

// checkLease, in a transaction writing the named value, fails with ErrNotLeader when the name
// is one of Options.LeaseValues and this handle's token is not the database's. The share lock
// on log_head makes a new leader's token wait for this transaction, or this one read it.
func (d *DB) checkLease(ctx context.Context, tx pgx.Tx, name string) error {
	if !d.leaseValues[name] {
		return nil
	}
	mine := d.lease.epoch.Load()
	if mine == 0 {
		return fmt.Errorf("%w: %s is the leader's to write", ErrNotLeader, name)
	}
	var current int64
	if err := tx.QueryRow(ctx, sharedToken).Scan(&current); err != nil {
		return fmt.Errorf("read the lease's token: %w", err)
	}
	if current != mine {
		return fmt.Errorf("%w: another node took the lease (token %d, this node's %d)", ErrNotLeader, current, mine)
	}
	return nil
}

// channel is the schema's notification channel, on which Append's transactions announce the
// log's new size.
func (d *DB) channel() string { return fmt.Sprintf("%s%08x", listenPrefix, uint32(d.schemaKey)) }

// Watch follows the log's size as every node appends: on a connection of its own it LISTENs on
// the schema's channel, then calls f with the log's current size (what was committed before the
// LISTEN), then with the size each committed Append announces, in commit order, until ctx is
// done (nil) or the connection fails (its error: notifications sent meanwhile are lost, so the
// caller waits a moment and calls Watch again, which catches up with its first call of f).
func (d *DB) Watch(ctx context.Context, f func(size int64)) error {
	if err := d.checkOpen("watch"); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, d.ownConfig(watchApp))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return d.wrap("watch: connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{d.channel()}.Sanitize()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return d.wrap("watch: listen", err)
	}
	var size int64
	if err := conn.QueryRow(ctx, selectSize).Scan(&size); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return d.wrap("watch: log size", err)
	}
	f(size)
	for {
		n, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return d.wrap("watch: wait for a notification", err)
		}
		size, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return d.wrap("watch", fmt.Errorf("notification %q: %w", n.Payload, err))
		}
		f(size)
	}
}

// Serialize runs f while this handle holds the schema's decision lock (lockDecisions, a
// session-level advisory lock on a connection taken from the pool for the while), waiting for
// it as long as ctx allows: headquarters' decisions, certifications and the audit's steps,
// which check the log before they append to it, run one at a time across every node. The lock
// is the server's: a node that dies or loses its connection while f runs loses it too, and if
// its release fails the connection is closed, which releases it. A caller holds one at a time
// (f's own queries take other connections of the pool).
func (d *DB) Serialize(ctx context.Context, f func(context.Context) error) error {
	if err := d.checkOpen("serialize"); err != nil {
		return err
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return d.wrap("serialize", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, lockDecisions, d.schemaKey); err != nil {
		conn.Conn().Close(context.WithoutCancel(ctx)) // a wait cut short may still have taken it
		return d.wrap("serialize: take the decision lock", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		var released bool
		if err := conn.QueryRow(uctx, `SELECT pg_advisory_unlock($1, $2)`, lockDecisions, d.schemaKey).Scan(&released); err != nil || !released {
			conn.Conn().Close(uctx)
		}
	}()
	return f(ctx)
}
