package postgres_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/store/sqlite"
)

// onlyPostgres are the tables PostgreSQL's schema has and SQLite's has not: the log's head
// (its row lock is how appends serialize across processes; SQLite has one writer).
var onlyPostgres = []string{"log_head"}

// TestSchemaMirrorsSQLite: both engines' migrations give the same tables with the same
// columns, so that a migration added to one and not the other (a new table for headquarters,
// a new column) fails here rather than on a night when the store runs on the other engine.
func TestSchemaMirrorsSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	lite, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	want := map[string][]string{}
	rows, err := raw.QueryContext(t.Context(), `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		want[table] = append(want[table], column)
	}
	rows.Close()

	url := pgtest.NewDatabase(t)
	MustOpen(t, url, postgres.Options{}).Close()
	got := map[string][]string{}
	prows, err := rawConn(t, url).Query(t.Context(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	for prows.Next() {
		var table, column string
		if err := prows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(onlyPostgres, table) {
			got[table] = append(got[table], column)
		}
	}
	if err := prows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string][]string{want, got} {
		for _, cols := range m {
			sort.Strings(cols)
		}
	}
	for table, cols := range want {
		if g, ok := got[table]; !ok {
			t.Errorf("table %s is in SQLite's schema, not in PostgreSQL's: add a PostgreSQL migration", table)
		} else if strings.Join(g, ",") != strings.Join(cols, ",") {
			t.Errorf("table %s: PostgreSQL has columns %v, SQLite %v", table, g, cols)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("table %s is in PostgreSQL's schema, not in SQLite's", table)
		}
	}
}
