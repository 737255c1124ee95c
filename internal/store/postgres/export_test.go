package postgres_test

import (
	"path/filepath"
	"testing"
	"time"

	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/store/sqlite"
	"caucus/internal/store/storetest"
)

var (
	pgEngine = storetest.ExportEngine{Name: "postgres", Open: func(t *testing.T, now func() time.Time) storetest.ExportStore {
		return MustOpen(t, pgtest.NewDatabase(t), postgres.Options{Now: now})
	}}
	liteEngine = storetest.ExportEngine{Name: "sqlite", Open: func(t *testing.T, now func() time.Time) storetest.ExportStore {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}
)

// TestExport moves an election SQLite → PostgreSQL → SQLite and PostgreSQL → SQLite →
// PostgreSQL, every table byte-equal after each move.
func TestExport(t *testing.T) {
	storetest.RunExport(t, liteEngine, pgEngine, liteEngine)
	storetest.RunExport(t, pgEngine, liteEngine, pgEngine)
}
