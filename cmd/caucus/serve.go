package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/night"
	"caucus/internal/server"
	"caucus/internal/store/sqlite"
)

const serveHelp = `Usage: caucus serve --election DIR [--practice DIR] [--db URL] [--addr HOST:PORT]

Runs the reporting server for an election: chairs log in and report, headquarters and the
public read live results. Issue the chairs' credentials first with "caucus credentials".

Flags:
	--election DIR   the election definition folder (election.json, counties.csv, precincts.csv)
	--practice DIR   a practice election over the same precincts, served under /practice with the
	                 same credentials (optional)
	--db URL         sqlite:PATH (default sqlite:caucus.db); the practice election uses PATH with
	                 "-practice" before the extension
	--addr HOST:PORT where to listen (default 127.0.0.1:8080)
`

// HTTP server budgets (STYLE.md §6, reliability.md I3).
const (
	readHeaderTimeout = 5 * time.Second  // slowloris: headers must arrive promptly
	readTimeout       = 15 * time.Second // a report is ≤ 16 KiB: even a bad phone sends it in this
	writeTimeout      = 30 * time.Second // results are pre-rendered; SSE extends its own deadline
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
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
	if err := parseFlags(fs, args, serveHelp, stdout); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		return &usageError{err: errors.New("caucus serve needs --election DIR"), hint: `run "caucus serve --help"`}
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
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &hintError{err: err, hint: "choose another --addr"}
	}
	return serve(ctx, ln, def, practice, *dbURL, log, func(url string) {
		log.InfoContext(ctx, "serving", slog.String("url", url), slog.String("election", def.Election().ID))
	})
}

// openDB opens a --db URL: the election's store, which also serves auth. Only sqlite:PATH is
// built so far.
func openDB(ctx context.Context, url string) (*sqlite.DB, error) {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok || path == "" {
		return nil, &usageError{err: fmt.Errorf("unsupported --db %q", url), hint: "use sqlite:PATH"}
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return st, nil
}

// practiceURL is the practice election's database beside the main one.
func practiceURL(url string) string {
	path := strings.TrimPrefix(url, "sqlite:")
	ext := filepath.Ext(path)
	return "sqlite:" + strings.TrimSuffix(path, ext) + "-practice" + ext
}

// serve runs the server on ln until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, def, practice *election.Definition, dbURL string, log *slog.Logger, ready func(url string)) error {
	main, err := openDB(ctx, dbURL)
	if err != nil {
		return err
	}
	defer main.Close()
	authn, err := auth.New(auth.Config{Store: main, Now: time.Now, Log: log, SessionCache: sessionCache})
	if err != nil {
		return err
	}
	// The election's night also keeps the login throttle's tables small: the practice twin
	// shares its logins.
	mainNight, err := night.Open(ctx, night.Config{Def: def, Store: main, Log: log, Now: time.Now, Counters: authn, Sessions: authn})
	if err != nil {
		return err
	}
	nights := []*night.Night{mainNight}
	cfg := server.Config{Main: mainNight, Auth: authn, Log: log, Now: time.Now}
	if practice != nil {
		pdb, err := openDB(ctx, practiceURL(dbURL))
		if err != nil {
			return err
		}
		defer pdb.Close()
		if cfg.Practice, err = night.Open(ctx, night.Config{Def: practice, Store: pdb, Log: log, Now: time.Now}); err != nil {
			return err
		}
		nights = append(nights, cfg.Practice)
	}
	srv := server.New(cfg)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
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
	go func() { errc <- hs.Serve(ln) }()
	ready("http://" + ln.Addr().String() + "/")
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
