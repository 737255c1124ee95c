// Package night is the running night of one election: it claims the store for the election,
// rebuilds the tally from the log at start-up, and owns the intake, the transparency log (its
// integrator and signer), the tally and the event broadcaster, wired so that every committed
// entry reaches the log, then the tally, then the event listeners. Its methods are what every
// front end calls: Submit (a report, whatever its channel), Decide (a reviewer's decision or a
// staff correction), Snapshot (the results), Checkpoint and the log's tiles and proofs, and
// Subscribe (results as they change).
//
// On a store that several serve nodes share (store/postgres), each node's night also follows
// the log as the others append (Watcher) and signs checkpoints only while it holds the
// store's signer lease (Leader), serving the leader's otherwise (nodes.go).
//
// It is not HTTP (internal/server translates requests to it), not the caucus math
// (internal/rules), not the storage (it consumes Store, which store/sqlite implements) and not
// authentication (internal/auth).
package night

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/store"
	"caucus/internal/tally"
	"caucus/internal/tlog"
)

// Store is what the night reads and appends: the store.Store methods it calls (those of the
// intake and of the transparency log among them), named and documented as store.Store names
// and documents them, so that store/sqlite serves it directly.
type Store interface {
	intake.Store

	// Entries returns the entries with from <= index < to, ordered by index.
	Entries(ctx context.Context, from, to int64) ([]store.Entry, error)
	// InitSettings binds the database to one election (ErrConflict: another election's).
	InitSettings(ctx context.Context, electionID string) (store.Settings, error)
	// PrecinctEntries returns every entry of one precinct, ordered by index.
	PrecinctEntries(ctx context.Context, precinctID string) ([]store.Entry, error)
	// PutPhoto stores a worksheet photo by its SHA-256; created says whether it was new.
	PutPhoto(ctx context.Context, p store.NewPhoto) (created bool, err error)
	// Photo returns the photo stored under a SHA-256 (lowercase hex), or ErrNotFound.
	Photo(ctx context.Context, sha256 string) (store.Photo, error)
	// PhotoUsage is the photos and bytes charged to a precinct's quota.
	PhotoUsage(ctx context.Context, precinctID string) (photos int, bytes int64, err error)
	// Audit returns up to limit audit rows with ID > after, ordered by ID.
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error)
	// AddCallback stores a chair's call-back request.
	AddCallback(ctx context.Context, c store.NewCallback) (store.Callback, error)
	// AddHandCopy stores one operator's keying of an audited precinct's hand count.
	AddHandCopy(ctx context.Context, c store.HandCopy) (store.HandCopy, error)
	// HandCopies returns every keying of one precinct's hand count, ordered by ID.
	HandCopies(ctx context.Context, precinctID string) ([]store.HandCopy, error)

	// The transparency log's signing key and checkpoint.
	CreateValue(ctx context.Context, name string, value []byte) error
	Value(ctx context.Context, name string) ([]byte, error)
	SwapValue(ctx context.Context, name string, old, new []byte) error
	// DeleteSecretValue removes a value and scrubs its bytes from the database's files (the
	// log key moving out of a database that held it).
	DeleteSecretValue(ctx context.Context, name string) error
}

var _ Store = (store.Store)(nil)

// Config sets up a Night.
type Config struct {
	Def   *election.Definition
	Store Store
	Log   *slog.Logger     // nil: discard
	Now   func() time.Time // the clock; nil: time.Now
	// Intake tunes the group commit and its load shedding; zero values take the intake's
	// defaults.
	MaxBatch, Queue int
	MaxWait         time.Duration
	// LogKeyFile is the file that holds the transparency log's signing key (one line, a note
	// signer key), which only its owner may read. When it does not exist it is created, mode
	// 0600, with the key a database of an earlier version holds (then scrubbed from the
	// database), or a new key when the log has signed nothing yet.
	LogKeyFile string
	// LogKey is the signing key itself (from the environment); LogKeyFile is then not used.
	// With neither, the key lives in the store (tests).
	LogKey string
	// Counters, if set, has its expired per-address login counters removed every
	// maintenanceEvery while Run runs (one night per process needs it: the election's, not its
	// practice twin's, whose logins are the same).
	Counters AddressCounters
	// Sessions, if set, has its expired sessions deleted every maintenanceEvery while Run runs
	// (the election's night, like Counters: the practice twin shares its sessions).
	Sessions Sessions
}

// Night is one election's running night. Its methods are safe for concurrent use.
type Night struct {
	def    *election.Definition
	store  Store
	intake *intake.Intake
	tally  *tally.Tally
	tlog   *tlog.Log
	log    *slog.Logger
	now    func() time.Time
	events *broadcaster
	facts  map[string]report.Precinct // the math's facts per precinct, for corrections

	counters AddressCounters
	sessions Sessions
	batches  atomic.Pointer[func(int)] // ObserveBatches' observer

	mu       sync.Mutex // serialises follow
	serialMu sync.Mutex // serialises the checks and appends of decisions, certifications and the audit (exclusive)

	certified certified // the results at each certified checkpoint, computed when first asked

	auditMu     sync.Mutex // serialises the risk-limiting audit (audit.go)
	audit       *auditRun  // nil: not started (once auditLoaded)
	auditLoaded bool
	auditStale  atomic.Bool // another node may have logged audit entries this one has not read (follow)
	shared      bool        // the store is one several nodes share (Watcher)
}

// rebuildChunk is how many entries one read takes when the tally is rebuilt at start-up.
const rebuildChunk = 4096

// Open opens an election's night: it checks that the store belongs to this election (or claims
// a new store for it), opens the transparency log, rebuilds the tally from every stored entry
// and signs a checkpoint of them (on a store with a signer lease, Leader, it adopts the stored
// checkpoint instead: Run signs once it holds the lease). Run then commits what Submit queues.
func Open(ctx context.Context, cfg Config) (*Night, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	id := cfg.Def.Election().ID
	settings, err := cfg.Store.InitSettings(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("the database belongs to election %q, not %q", settings.ElectionID, id)
		}
		return nil, fmt.Errorf("claim store for election %s: %w", id, err)
	}
	lg, err := openLog(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n := &Night{def: cfg.Def, store: cfg.Store, tally: tally.NewWithLog(cfg.Def, lg.names()), tlog: lg.Log,
		log: cfg.Log, now: cfg.Now, events: newBroadcaster(), counters: cfg.Counters, sessions: cfg.Sessions,
		facts: report.Facts(cfg.Def)}
	_, n.shared = cfg.Store.(Watcher)
	n.intake = intake.New(intake.Config{Store: cfg.Store, Def: cfg.Def, Now: cfg.Now, Log: cfg.Log,
		MaxBatch: cfg.MaxBatch, Queue: cfg.Queue, MaxWait: cfg.MaxWait,
		Committed: func(size int64) {
			if err := n.follow(context.Background(), size); err != nil {
				cfg.Log.Error("tally could not follow the log", slog.Any("err", err))
			}
		},
		CommittedLeaves: func(size int64, leaves []intake.Leaf) {
			parsed := make([]tally.Leaf, len(leaves))
			for i, l := range leaves {
				parsed[i] = tally.Leaf(l)
			}
			if err := n.follow(context.Background(), size, parsed...); err != nil {
				cfg.Log.Error("tally could not follow the log", slog.Any("err", err))
			}
		},
		BatchSize: func(size int) {
			if f := n.batches.Load(); f != nil {
				(*f)(size)
			}
		}})
	if err := n.adoptStoredPolicy(ctx); err != nil {
		return nil, err
	}
	size, err := cfg.Store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("read log size: %w", err)
	}
	if err := n.follow(ctx, size); err != nil {
		return nil, fmt.Errorf("rebuild tally: %w", err)
	}
	if _, ok := cfg.Store.(Leader); ok {
		// One of several nodes: the lease's holder signs (Run's lead), the others serve its
		// checkpoint.
		if err := n.adoptCheckpoint(ctx); err != nil {
			return nil, fmt.Errorf("read the signed checkpoint at start-up: %w", err)
		}
		return n, nil
	}
	if err := n.tlog.Sign(ctx); err != nil {
		return nil, fmt.Errorf("sign checkpoint at start-up: %w", err)
	}
	return n, nil
}

// Run runs the night's committer, its log integrator and, when Config.Counters or
// Config.Sessions is set, the hourly housekeeping, until ctx is done; a commit under way is
// finished first. On a store that several nodes share (Watcher, Leader), it follows the other
// nodes' appends, and signs checkpoints only while this node holds the signer lease.
func (n *Night) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { n.intake.Run(ctx) })
	if l, ok := n.store.(Leader); ok {
		wg.Go(func() { n.lead(ctx, l) })
	} else {
		wg.Go(func() { n.tlog.Run(ctx) })
	}
	if w, ok := n.store.(Watcher); ok {
		wg.Go(func() { n.watch(ctx, w) })
	}
	if n.counters != nil || n.sessions != nil {
		wg.Go(func() { n.maintain(ctx) })
	}
	wg.Wait()
}

// ObserveBatches sets f to observe the size of every group commit (metrics); nil stops it.
func (n *Night) ObserveBatches(f func(entries int)) {
	if f == nil {
		n.batches.Store(nil)
		return
	}
	n.batches.Store(&f)
}

// follow folds the log's entries up to size into the transparency log and the tally and tells
// the event listeners; leaves are ones the intake already parsed.
func (n *Night) follow(ctx context.Context, size int64, leaves ...tally.Leaf) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	from := n.tally.Snapshot().LogSize()
	if size <= from {
		return nil
	}
	if from == 0 { // the night's first entries: publish them under the policy set before it
		if err := n.adoptStoredPolicy(ctx); err != nil {
			return err
		}
	}
	for from < size {
		to := min(size, from+rebuildChunk)
		es, err := n.store.Entries(ctx, from, to)
		if err != nil {
			return fmt.Errorf("read entries %d to %d: %w", from, to, err)
		}
		if len(es) == 0 {
			break
		}
		if err := n.tlog.Append(es...); err != nil {
			return err
		}
		if err := n.tally.ApplyParsed(leaves, es...); err != nil {
			return err
		}
		if n.shared && slices.ContainsFunc(es, func(e store.Entry) bool { return e.Kind == store.KindAudit }) {
			n.auditStale.Store(true)
		}
		from += int64(len(es))
	}
	n.events.publish(n.tally.Snapshot())
	return nil
}

// Definition is the night's election.
func (n *Night) Definition() *election.Definition { return n.def }

// Snapshot is the current results: immutable, as of the log size it names.
func (n *Night) Snapshot() *tally.Snapshot { return n.tally.Snapshot() }

// Submit validates a report, stores it durably and returns the outcome: the results include it
// by the time Submit returns. Errors are intake.ErrBusy, intake.ErrClosed, the context's error
// (the report may or may not be stored: retrying with the same report_id is always safe) or a
// store failure.
func (n *Night) Submit(ctx context.Context, r report.Report, who intake.Submitter) (intake.Outcome, error) {
	return n.intake.Submit(ctx, r, who)
}

// Busy reports whether a report submitted now would be refused with intake.ErrBusy for the
// load (intake.Intake.Busy): a front end answers at once, before any work of its own.
func (n *Night) Busy() bool { return n.intake.Busy() }

// PrecinctEntries returns every entry of one precinct (reports, corrections, reviews), ordered
// by index.
func (n *Night) PrecinctEntries(ctx context.Context, precinctID string) ([]store.Entry, error) {
	es, err := n.store.PrecinctEntries(ctx, precinctID)
	if err != nil {
		return nil, fmt.Errorf("read entries of precinct %s: %w", precinctID, err)
	}
	return es, nil
}

// PutPhoto stores a worksheet photo under the SHA-256 of its bytes and reports whether it was
// new (store.Store.PutPhoto).
func (n *Night) PutPhoto(ctx context.Context, p store.NewPhoto) (created bool, err error) {
	created, err = n.store.PutPhoto(ctx, p)
	if err != nil {
		return false, fmt.Errorf("store photo: %w", err)
	}
	return created, nil
}

// PhotoUsage is how many photos, and bytes of them, a precinct has stored
// (store.Store.PhotoUsage).
func (n *Night) PhotoUsage(ctx context.Context, precinctID string) (photos int, bytes int64, err error) {
	photos, bytes, err = n.store.PhotoUsage(ctx, precinctID)
	if err != nil {
		return 0, 0, fmt.Errorf("read photo usage of %s: %w", precinctID, err)
	}
	return photos, bytes, nil
}

// AddCallback puts a precinct in headquarters' call-back queue (store.Store.AddCallback).
func (n *Night) AddCallback(ctx context.Context, c store.NewCallback) (store.Callback, error) {
	cb, err := n.store.AddCallback(ctx, c)
	if err != nil {
		return store.Callback{}, fmt.Errorf("store call-back: %w", err)
	}
	return cb, nil
}

// Audit writes one row of the audit trail (store.Store.AddAudit).
func (n *Night) Audit(ctx context.Context, a store.NewAudit) error {
	if _, err := n.store.AddAudit(ctx, a); err != nil {
		return fmt.Errorf("write audit row %s: %w", a.Kind, err)
	}
	return nil
}
