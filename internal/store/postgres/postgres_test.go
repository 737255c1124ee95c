package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"caucus/internal/auth"
	"caucus/internal/hotline"
	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/store/storetest"
	"caucus/internal/tlog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// MustOpen opens the database at url with the given clock, closing it at the end.
func MustOpen(tb testing.TB, url string, opts postgres.Options) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(tb.Context(), url, opts)
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// databases gives each name its own database, created on first use: the suites' Openers open
// a name again to get the same data back, or a second handle as a second process would.
type databases struct {
	mu   sync.Mutex
	urls map[string]string
}

func (d *databases) url(t *testing.T, name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.urls == nil {
		d.urls = map[string]string{}
	}
	if u, ok := d.urls[name]; ok {
		return u
	}
	u := pgtest.NewDatabase(t)
	d.urls[name] = u
	return u
}

func TestConformance(t *testing.T) {
	var dbs databases
	storetest.Run(t, func(t *testing.T, name string, now func() time.Time) store.Store {
		return MustOpen(t, dbs.url(t, name), postgres.Options{Now: now})
	})
}

func TestHotlineConformance(t *testing.T) {
	var dbs databases
	storetest.RunHotline(t, func(t *testing.T, name string, now func() time.Time) storetest.HotlineStore {
		return MustOpen(t, dbs.url(t, name), postgres.Options{Now: now})
	})
}

func TestAuthConformance(t *testing.T) {
	var dbs databases
	storetest.RunAuth(t, func(t *testing.T, name string, now func() time.Time) storetest.AuthStore {
		return MustOpen(t, dbs.url(t, name), postgres.Options{Now: now})
	})
}

// rawConn is a plain connection to url, closed at the end of the test.
func rawConn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// The store serves every consumer's interface, as *sqlite.DB does.
var (
	_ night.Store   = (*postgres.DB)(nil)
	_ intake.Store  = (*postgres.DB)(nil)
	_ tlog.Store    = (*postgres.DB)(nil)
	_ auth.Store    = (*postgres.DB)(nil)
	_ hotline.Store = (*postgres.DB)(nil)
)
