package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/hq"
	"caucus/internal/night"
	"caucus/internal/server"
	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/sqlite"
	"caucus/internal/tlog"
)

const serveHelp = `Usage: caucus serve --election DIR [--practice DIR] [--db URL] [--addr HOST:PORT]
	[--contacts FILE] [--live-window START,END] [--trusted-proxy CIDR]...
	[--log-key FILE] [--metrics-addr HOST:PORT]
	[--tls-cert FILE --tls-key FILE | --acme-host NAME [--acme-cache DIR]]

Runs the reporting server for an election: chairs log in and report, headquarters and the
public read live results. Issue the chairs' credentials first with "caucus credentials".

Flags:
	--election DIR   the election definition folder (election.json, counties.csv, precincts.csv)
	--practice DIR   a practice election over the same precincts, served under /practice with the
	                 same credentials (optional)
	--db URL         sqlite:PATH (default sqlite:caucus.db); the practice election uses PATH with
	                 "-practice" before the extension. Or postgres://USER@HOST:PORT/DB (a
	                 PostgreSQL database, created by its owner; the tables are made at start-up);
	                 the practice election uses the schema "practice" of the same database (or
	                 the URL's search_path with "_practice" after it). Several serve nodes may
	                 share the database: any of them takes reports, one at a time signs the
	                 log's checkpoints (another takes over when it stops), and every node needs
	                 the same --log-key. --log-key or CAUCUS_LOG_KEY is required with it
	--addr HOST:PORT where to listen (default 127.0.0.1:8080)
	--contacts FILE  the chairs' contacts for headquarters' board, a CSV precinct_id,chair_name,phone
	                 (phones in E.164, e.g. +15155550101); default: contacts.csv beside the
	                 election folder (DIR/../contacts.csv), when it exists. Shown to staff only,
	                 never published nor logged
	--live-window START,END
	                 when chairs may log in to the election with their typed PIN: two RFC 3339
	                 times, e.g. 2020-02-03T12:00:00-06:00,2020-02-04T04:00:00-06:00. Outside it
	                 a PIN is refused without counting against the precinct ("reporting opens at
	                 …"), so nobody can spend a chair's guessing budget before the night. The QR
	                 login link, the practice election and staff logins work at any time. Without
	                 it, PINs are accepted at any time.
	--trusted-proxy CIDR
	                 a reverse proxy in front of this server (repeatable): from these peers only,
	                 X-Forwarded-For is read, right to left, to find the client's address for the
	                 login throttles; from any other peer the header is ignored
	--log-key FILE   the transparency log's signing key, readable by its owner only (default,
	                 for sqlite:PATH: PATH with ".log-key" for its extension; the practice
	                 election's with "-practice" before it). Created, mode 0600, with the
	                 election; a database from an earlier version that holds its key hands it to
	                 this file on the first start and no longer keeps it. Keep the file out of
	                 the database's backups: with it anyone can sign a forged log. The
	                 environment variable CAUCUS_LOG_KEY, when set, is the election's key itself
	                 (no file is read or written for it).
	--metrics-addr HOST:PORT
	                 serve the Prometheus metrics at http://HOST:PORT/metrics, a listener of
	                 their own for the operators (default: not served; /metrics on --addr is
	                 404, since the series describe the server to whoever reads them)
` + tlsHelp

// HTTP server budgets (STYLE.md §6, reliability.md I3).
const (
	readHeaderTimeout = 5 * time.Second  // slowloris: headers must arrive promptly
	readTimeout       = 15 * time.Second // a report is ≤ 16 KiB: even a bad phone sends it in this
	writeTimeout      = 30 * time.Second // results are pre-rendered; SSE extends its own deadline
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 20 * time.Second // finish in-flight commits and responses
	// sessionCache: a session read from the database serves its requests for this long without
	// another read. A logout through this server ends the session at once; a session ended
	// another way (another process, an account disabled) keeps working for up to this long.
	sessionCache = 5 * time.Second
)

func runServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("serve")
	dir := fs.String("election", "", "")
	practiceDir := fs.String("practice", "", "")
	dbURL := fs.String("db", "sqlite:caucus.db", "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	window := fs.String("live-window", "", "")
	var opts serveOptions
	var tf tlsFlags
	tf.register(fs)
	fs.Func("trusted-proxy", "", func(v string) error {
		p, err := parseProxy(v)
		if err != nil {
			return err
		}
		opts.trustedProxies = append(opts.trustedProxies, p)
		return nil
	})
	contactsFile := fs.String("contacts", "", "")
	logKey := fs.String("log-key", "", "")
	metricsAddr := fs.String("metrics-addr", "", "")
	if err := parseFlags(fs, args, serveHelp, stdout); err != nil {
		return err
	}
	if *window != "" {
		var err error
		if opts.liveOpens, opts.liveCloses, err = parseWindow(*window); err != nil {
			return &usageError{err: err, hint: "give --live-window START,END as two RFC 3339 times, START before END"}
		}
	}
	if *dir == "" || fs.NArg() > 0 {
		return &usageError{err: errors.New("caucus serve needs --election DIR"), hint: `run "caucus serve --help"`}
	}
	var err error
	if opts.tls, err = tf.config(); err != nil {
		return err
	}
	def, err := election.LoadDir(*dir)
	if err != nil {
		return &hintError{err: err, hint: "fix the election folder and run again"}
	}
	var practice *election.Definition
	if *practiceDir != "" {
		if practice, err = election.LoadDir(*practiceDir); err != nil {
			return &hintError{err: err, hint: "fix the practice election folder and run again"}
		}
	}
	if opts.contacts, err = loadContacts(*contactsFile, *dir, def); err != nil {
		return &hintError{err: err, hint: "fix the contacts file (precinct_id,chair_name,phone) and run again"}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	opts.logKeyFile, opts.logKey = *logKey, os.Getenv("CAUCUS_LOG_KEY")
	if *metricsAddr != "" {
		if opts.metrics, err = net.Listen("tcp", *metricsAddr); err != nil {
			return &hintError{err: err, hint: "choose another --metrics-addr"}
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if opts.metrics != nil {
			opts.metrics.Close()
		}
		return &hintError{err: err, hint: "choose another --addr"}
	}
	return serve(ctx, ln, def, practice, *dbURL, log, opts, func(url string) {
		log.InfoContext(ctx, "serving", slog.String("url", url), slog.String("election", def.Election().ID))
		if opts.metrics != nil {
			log.InfoContext(ctx, "serving metrics", slog.String("url", "http://"+opts.metrics.Addr().String()+"/metrics"))
		}
	})
}

// serveOptions are serve's settings beyond the election and its database.
type serveOptions struct {
	liveOpens, liveCloses time.Time      // --live-window; both zero: PINs at any time
	trustedProxies        []netip.Prefix // --trusted-proxy
	logKeyFile            string         // the log key's file; "": beside the database (logKeyPath)
	logKey                string         // the election's log key itself (CAUCUS_LOG_KEY); "": from the file
	metrics               net.Listener   // where to serve /metrics; nil: nowhere
	tls                   *tls.Config    // --tls-cert/--tls-key or --acme-host; nil: plain HTTP
	contacts              hq.Contacts    // --contacts; nil: none
}

// contactsName is the chairs' contacts file that caucus serve reads beside the election folder.
const contactsName = "contacts.csv"

// loadContacts reads the contacts file: file when given (it must exist), else contacts.csv
// beside the election folder when there is one (nil when not).
func loadContacts(file, electionDir string, def *election.Definition) (hq.Contacts, error) {
	if file == "" {
		file = filepath.Join(filepath.Dir(filepath.Clean(electionDir)), contactsName)
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return hq.LoadContacts(file, def)
}

// logKeyPath is the log key file beside a sqlite:PATH database: PATH with ".log-key" for its
// extension. A PostgreSQL database has no file to put it beside: "".
func logKeyPath(dbURL string) string {
	if isPostgres(dbURL) {
		return ""
	}
	path := strings.TrimPrefix(dbURL, "sqlite:")
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".log-key"
}

// practiceKeyPath is the practice election's log key file beside the election's.
func practiceKeyPath(file string) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "-practice" + ext
}

// database is what a --db URL opens: the election's store, which also serves auth and the
// hotline.
type database interface {
	store.Store
	auth.Store
	hotline.Store
}

// isPostgres reports whether a --db URL names a PostgreSQL database.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openDB opens a --db URL: sqlite:PATH or postgres://…, for a command that writes no entry to
// the log (credentials, the demo's set-up).
func openDB(ctx context.Context, url string) (database, error) {
	return openStore(ctx, url, false)
}

// openStore opens a --db URL. node is for serve: on PostgreSQL several serve nodes share the
// database, any of them appending, and only the holder of the signer lease (the night takes
// it) may write the transparency log's checkpoint (a SQLite file is one host's, opened by one
// serve).
func openStore(ctx context.Context, url string, node bool) (database, error) {
	if isPostgres(url) {
		var opts postgres.Options
		if node {
			opts.LeaseValues = []string{tlog.CheckpointValue}
		}
		st, err := postgres.Open(ctx, url, opts)
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		return st, nil
	}
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok || path == "" {
		return nil, &usageError{err: fmt.Errorf("unsupported --db %q", url), hint: "use sqlite:PATH or postgres://USER@HOST:PORT/DB"}
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return st, nil
}

// practiceURL is the practice election's database beside the main one: for SQLite a file
// beside it, for PostgreSQL a schema of the same database ("practice", or the URL's
// search_path with "_practice" after it).
func practiceURL(dbURL string) string {
	if isPostgres(dbURL) {
		u, err := url.Parse(dbURL)
		if err != nil {
			return dbURL // openStore reports the URL's error
		}
		q := u.Query()
		schema := "practice"
		if sp := q.Get("search_path"); sp != "" {
			schema = sp + "_practice"
		}
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	path := strings.TrimPrefix(dbURL, "sqlite:")
	ext := filepath.Ext(path)
	return "sqlite:" + strings.TrimSuffix(path, ext) + "-practice" + ext
}

// parseWindow reads --live-window START,END.
func parseWindow(v string) (opens, closes time.Time, err error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return opens, closes, fmt.Errorf("--live-window %q: want START,END", v)
	}
	if opens, err = time.Parse(time.RFC3339, strings.TrimSpace(a)); err != nil {
		return opens, closes, fmt.Errorf("--live-window start: %w", err)
	}
	if closes, err = time.Parse(time.RFC3339, strings.TrimSpace(b)); err != nil {
		return opens, closes, fmt.Errorf("--live-window end: %w", err)
	}
	if !closes.After(opens) {
		return opens, closes, fmt.Errorf("--live-window %q ends before it starts", v)
	}
	return opens, closes, nil
}

// parseProxy reads one --trusted-proxy: a CIDR prefix, or a single address.
func parseProxy(v string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("--trusted-proxy %q: not a CIDR prefix or an address", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// serve runs the server on ln (and the metrics on opts.metrics) until ctx is done, then shuts
// down gracefully.
func serve(ctx context.Context, ln net.Listener, def, practice *election.Definition, dbURL string, log *slog.Logger,
	opts serveOptions, ready func(url string)) error {
	if opts.metrics != nil {
		defer opts.metrics.Close()
	}
	if opts.logKeyFile == "" {
		opts.logKeyFile = logKeyPath(dbURL)
	}
	if opts.logKeyFile == "" && (opts.logKey == "" || practice != nil) { // the practice key's file goes beside it
		return &usageError{err: errors.New("--db postgres://… needs --log-key FILE (or CAUCUS_LOG_KEY, without --practice)"),
			hint: "keep the log's key in a file of its own on the server (never in the database): --log-key /etc/caucus/iowa.log-key"}
	}
	main, err := openStore(ctx, dbURL, true)
	if err != nil {
		return err
	}
	defer main.Close()
	pinDigits, err := auth.PINDigitsFor(len(def.Precincts()))
	if err != nil {
		return &hintError{err: err, hint: "split the election: one election's PINs are sized for at most this many precincts"}
	}
	authn, err := auth.New(auth.Config{Store: main, Now: time.Now, Log: log, SessionCache: sessionCache,
		LiveOpens: opts.liveOpens, LiveCloses: opts.liveCloses, PINDigits: pinDigits})
	if err != nil {
		return err
	}
	defer authn.FlushFailures(context.WithoutCancel(ctx)) // before the store closes (deferred earlier)
	// The election's night also keeps the login throttle's tables small: the practice twin
	// shares its logins.
	mainNight, err := night.Open(ctx, night.Config{Def: def, Store: main, Log: log, Now: time.Now, Counters: authn, Sessions: authn,
		LogKeyFile: opts.logKeyFile, LogKey: opts.logKey})
	if err != nil {
		return err
	}
	nights := []*night.Night{mainNight}
	desk := hotline.New(hotline.Config{Def: def, Store: main, Submit: mainNight, PINs: authn, Now: time.Now})
	cfg := server.Config{Main: mainNight, Auth: authn, Hotline: desk, Log: log, Now: time.Now, TrustedProxies: opts.trustedProxies}
	if practice != nil {
		pdb, err := openStore(ctx, practiceURL(dbURL), true)
		if err != nil {
			return err
		}
		defer pdb.Close()
		if cfg.Practice, err = night.Open(ctx, night.Config{Def: practice, Store: pdb, Log: log, Now: time.Now,
			LogKeyFile: practiceKeyPath(opts.logKeyFile)}); err != nil {
			return err
		}
		nights = append(nights, cfg.Practice)
	}
	hc := hq.Config{Main: mainNight, Store: main, Contacts: opts.contacts, FlushFailures: authn.FlushFailures, Now: time.Now, Log: log}
	if cfg.Practice != nil {
		hc.Practice = cfg.Practice
	}
	if desk != nil {
		hc.Hotline = desk.Stats
	}
	if cfg.HQ, err = hq.New(hc); err != nil {
		return err
	}
	srv := server.New(cfg)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: server.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	var ms *http.Server
	if opts.metrics != nil {
		ms = &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
			WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: server.MaxHeaderBytes,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go ms.Serve(opts.metrics)
		defer ms.Close()
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	committed := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, n := range nights {
			wg.Go(func() { n.Run(runCtx) })
		}
		wg.Wait()
		close(committed)
	}()
	errc := make(chan error, 1)
	// Listener: net/http's own 431 and 400 answers carry the security headers too. Under TLS it
	// wraps the TLS connections, so it sees the plaintext; net/http then serves HTTP/1.1 only
	// (it speaks HTTP/2 only on a *tls.Conn it holds itself), which the TLS config says.
	scheme, tl := "http://", ln
	if opts.tls != nil {
		scheme, tl = "https://", tls.NewListener(ln, opts.tls)
	}
	go func() { errc <- hs.Serve(server.Listener(tl)) }()
	ready(scheme + ln.Addr().String() + "/")
	select {
	case <-ctx.Done():
	case err := <-errc:
		stopRun()
		<-committed
		return err
	}
	// Shut down: stop taking connections, let handlers finish (their commits complete), then
	// stop the committers, then close the stores (deferred).
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopRun()
	<-committed
	log.Info("stopped")
	return err
}
