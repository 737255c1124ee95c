package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"caucus/internal/store/export"
	"caucus/internal/store/sqlite"
	"caucus/internal/store/storetest"
)

// TestExport moves an election from one SQLite file to another and on to a third, every table
// byte-equal after each move (package postgres moves it between the two engines).
func TestExport(t *testing.T) {
	lite := storetest.ExportEngine{Name: "sqlite", Open: func(t *testing.T, now func() time.Time) storetest.ExportStore {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}
	storetest.RunExport(t, lite, lite, lite)
}

// TestExportTablesAreTheSchema: the export names every table of the schema but its migrations'
// record, with every column, so that a table or column added by a migration and not to the
// export fails here rather than being left behind by a move.
func TestExportTablesAreTheSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(t.Context(), `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	schema := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		schema[table] = append(schema[table], column)
	}
	exported := map[string][]string{}
	for _, tb := range export.Tables {
		for _, c := range tb.Columns {
			exported[tb.Name] = append(exported[tb.Name], c.Name)
		}
		slices.Sort(exported[tb.Name])
	}
	for table, cols := range schema {
		slices.Sort(cols)
		if !slices.Equal(exported[table], cols) {
			t.Errorf("table %s: the schema has columns %v, the export %v", table, cols, exported[table])
		}
	}
	for table := range exported {
		if _, ok := schema[table]; !ok {
			t.Errorf("the export names table %s, which the schema has not", table)
		}
	}
}
