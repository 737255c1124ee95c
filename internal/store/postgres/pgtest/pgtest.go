// Package pgtest runs a throwaway PostgreSQL server for tests: initdb into a temporary
// directory, the server on a free loopback TCP port with its unix socket in that directory and
// fsync on (the store refuses less), one fresh database per test, and everything stopped and
// removed when the test binary ends. It uses the installed server binaries (Debian's
// postgresql package: /usr/lib/postgresql/15/bin, or the directory named by $CAUCUS_PG_BIN);
// when they are missing a test that asks for a database fails, saying how to install them. It
// never skips.
//
// initdb and postgres refuse to run as root; when the tests do (CI containers), the server runs
// as the unprivileged user nobody, owning its directory.
//
// A test package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and the server starts on the first call of NewDatabase, so that tests which need none start
// none.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultBin is where Debian's postgresql-15 package (bookworm's postgresql) installs the
// server binaries. Another version's /usr/lib/postgresql/N/bin is used when it is absent.
const DefaultBin = "/usr/lib/postgresql/15/bin"

// findBin is $CAUCUS_PG_BIN, else DefaultBin, else the newest /usr/lib/postgresql/N/bin.
func findBin() string {
	if bin := os.Getenv("CAUCUS_PG_BIN"); bin != "" {
		return bin
	}
	if _, err := os.Stat(filepath.Join(DefaultBin, "initdb")); err == nil {
		return DefaultBin
	}
	found, newest := DefaultBin, 0
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	for _, d := range dirs {
		bin := filepath.Dir(d)
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(bin))); err == nil && v > newest {
			found, newest = bin, v
		}
	}
	return found
}

// Install is what to do when the binaries are missing.
const Install = "install PostgreSQL's server binaries: apt-get install -y postgresql (Debian; they land in " +
	DefaultBin + "), or set CAUCUS_PG_BIN to the directory holding initdb, postgres and pgbench " +
	"(scripts/test installs the package when they are absent)"

// startTimeout bounds the wait for a new server to accept connections (initdb and the start
// itself take a few seconds with fsync on); it is a failure bound, not an assertion of speed.
const startTimeout = 2 * time.Minute

// Server is a running throwaway PostgreSQL server.
type Server struct {
	Bin  string // the directory of the server binaries
	Dir  string // the temporary directory: data/, the socket, the server's log
	Port int

	cred *syscall.Credential // who the server runs as; nil: this process's user
	cmd  *exec.Cmd
	exit chan error // the server process's exit

	mu sync.Mutex
	n  int // databases created
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs m's tests and then stops and removes the server if one was started, and exits with
// the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Shared returns the test binary's server, starting it on first use; a server that cannot
// start fails t.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// NewDatabase creates a fresh, empty database on the shared server and returns its URL. The
// database is left for the server's removal at the end.
func NewDatabase(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	url, err := s.CreateDatabase(t.Context())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return url
}

// Start initializes a new cluster in a temporary directory and starts its server.
func Start() (*Server, error) {
	bin := findBin()
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("no PostgreSQL server binaries (%v): %s", err, Install)
		}
	}
	dir, err := os.MkdirTemp("", "caucus-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Bin: bin, Dir: dir}
	if err := s.init(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var startErr error
	for range 3 { // the free port may be taken between its choice and the server's bind
		if startErr = s.start(); startErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, startErr
}

// init runs initdb, as nobody when this process is root.
func (s *Server) init() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("running as root, and initdb refuses root: no user nobody to run it as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.Dir, uid, gid); err != nil {
			return fmt.Errorf("give %s to nobody: %w", s.Dir, err)
		}
		// nobody must be able to reach the directory: every parent must be searchable.
		for p := filepath.Dir(s.Dir); p != "/"; p = filepath.Dir(p) {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("the server runs as nobody, who cannot reach %s (mode of %s); set TMPDIR to a directory everyone may search, e.g. /tmp", s.Dir, p)
			}
		}
	}
	cmd := s.command("initdb", "-D", filepath.Join(s.Dir, "data"), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// command is one of the server binaries, run in the server's directory as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.Bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// Shutdown stops the server as pg_ctl stop -m MODE would, keeping its data for Restart:
// "fast" (SIGINT: sessions cut, a checkpoint written) or "immediate" (SIGQUIT: no checkpoint,
// crash recovery at the next start).
func (s *Server) Shutdown(mode string) error {
	sig := map[string]os.Signal{"fast": syscall.SIGINT, "immediate": syscall.SIGQUIT}[mode]
	if sig == nil {
		return fmt.Errorf("shutdown mode %q: want fast or immediate", mode)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	<-s.exit
	return nil
}

// Restart starts the server again after Shutdown, on the same port, and waits until it accepts
// connections (after crash recovery, when it was stopped immediately).
func (s *Server) Restart() error { return s.listen() }

// start runs the server on a free loopback port and waits until it accepts connections.
func (s *Server) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("find a free port: %w", err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return s.listen()
}

// listen runs the server on s.Port and waits until it accepts connections.
func (s *Server) listen() error {
	logPath := filepath.Join(s.Dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Pdeathsig: if the test binary dies without Main's Stop, the server quits with it.
	s.cmd = s.command("postgres", "-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(s.Port),
		"-k", s.Dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "synchronous_commit=on",
		"-c", "max_connections=300", "-c", "unix_socket_permissions=0700")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.exit = make(chan error, 1)
	go func() { s.exit <- s.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case werr := <-s.exit:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited (%v) before accepting connections:\n%s", werr, log)
		case <-ctx.Done():
			s.cmd.Process.Kill()
			<-s.exit
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", startTimeout, err, log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL is the connection URL of database db on the server, as its superuser.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// CreateDatabase creates a new empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("test%d", s.n)
	s.mu.Unlock()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to create a database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Stop shuts the server down (immediate: nothing of it is kept, so no checkpoint is written)
// and removes its directory.
func (s *Server) Stop() error {
	var errs []error
	if s.cmd != nil && s.cmd.Process != nil {
		if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("stop postgres: %w", err))
		}
		<-s.exit
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", s.Dir, err))
	}
	return errors.Join(errs...)
}
