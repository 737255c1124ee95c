// Command pgserver runs a throwaway PostgreSQL server for bench/run, the way the tests get
// theirs (internal/store/postgres/pgtest): initdb into a temporary directory, a free loopback
// port, fsync and synchronous_commit on, as nobody when run as root. It creates the databases
// named on the command line, prints "bin DIR", then "url NAME URL" for each, then "ready", and
// keeps the server until it gets SIGINT or SIGTERM; then it stops the server and removes the
// directory. The server also quits if this process dies (pgtest sets its parent-death signal).
//
//	pgserver one three pgbench
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store/postgres/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgserver:", err)
		os.Exit(1)
	}
}

var dbName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func run() error {
	for _, name := range os.Args[1:] {
		if !dbName.MatchString(name) {
			return fmt.Errorf("database name %q: want lowercase letters, digits and _", name)
		}
	}
	// A signal during the start is kept for after it, so that the directory is still removed.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	srv, err := pgtest.Start()
	if err != nil {
		return err
	}
	served := serve(srv, os.Args[1:], stop)
	if err := srv.Stop(); err != nil {
		return err
	}
	return served
}

// serve creates the databases, announces them, and waits for the end.
func serve(srv *pgtest.Server, names []string, stop <-chan os.Signal) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	for _, name := range names {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			conn.Close(ctx)
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	conn.Close(ctx)
	fmt.Printf("bin %s\n", srv.Bin)
	for _, name := range names {
		fmt.Printf("url %s %s\n", name, srv.URL(name))
	}
	fmt.Println("ready")
	<-stop
	return nil
}
