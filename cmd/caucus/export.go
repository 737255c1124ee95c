package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"caucus/internal/store/export"
)

const exportHelp = `Usage: caucus export --db URL --out FILE

Writes the election in the database to FILE, to move it to another database (SQLite to
PostgreSQL or back) with caucus import: every table the election needs, the log's entries byte
for byte (so the log and every checkpoint already published still verify after the move), the
audit trail with its IDs, call-backs, photos, the hotline's copies and rounds, the audit's hand
copies, named values (the checkpoint, the publication policy), precinct credentials (hashes),
staff accounts, the PIN budgets and login failures, and sessions (chairs and staff stay signed
in). The format is a gzip'd stream of JSON lines, versioned (README: "Moving an election").

The file holds secrets (staff TOTP secrets, password and PIN hashes): keep it like the database,
readable by you only (it is written with mode 0600). The log's signing key is NOT in it: it is
the key file beside the database (sqlite:PATH's PATH.log-key, or serve's --log-key FILE); give
that file to the serve on the new database (--log-key FILE). A database that still holds the
key (made by an earlier caucus and not served since) is refused: serve it once first.

A practice election is a database of its own (beside sqlite:PATH, the file with "-practice"
before its extension; on PostgreSQL, the schema "practice" of the same database): export and import it the same way, into
postgres://…?search_path=practice for serve to find it there.

The export reads one consistent snapshot and may run beside a serving server, but reports that
arrive after it are not in the file: stop serve before a move.

Flags:
	--db URL     the election's database: sqlite:PATH or postgres://…
	--out FILE   the file to write (refused if it exists)

Exit status: 0 when the file is written, 1 when it could not be (nothing is left at FILE),
2 on a usage error.
`

const importHelp = `Usage: caucus import --db URL --in FILE

Reads an election written by caucus export into an empty database (sqlite:PATH, made if
missing, or postgres://…), in one transaction, keeping every log index and every ID. Before it
commits, it rebuilds the log's tree from the imported entries and checks it against the
exported checkpoint's size and root hash, and replays the log to check every precinct's state;
if anything does not match, nothing is written.

Then start caucus serve on the new database with the old one's log key file (--log-key FILE):
the key is not in the export.

Flags:
	--db URL    the database to fill: it must hold no election (no row in any table)
	--in FILE   the file caucus export wrote

Exit status: 0 when the election is imported, 1 when it is not (a database not empty, a file
cut short or changed, an election that does not verify: nothing is written), 2 on a usage error.
`

func runExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("export")
	dbURL := fs.String("db", "", "")
	out := fs.String("out", "", "")
	if err := parseFlags(fs, args, exportHelp, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), hint: `run "caucus export --help"`}
	case *dbURL == "" || *out == "":
		return &usageError{err: errors.New("--db and --out are required"), hint: `run "caucus export --help"`}
	}
	if _, err := os.Lstat(*out); err == nil {
		return &hintError{err: fmt.Errorf("%s exists", *out), hint: "name a new file: an export is never written over another"}
	}
	if path, ok := sqlitePath(*dbURL); ok {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	src, ok := db.(export.Source)
	if !ok {
		return fmt.Errorf("export: the %s store cannot be exported", engineName(*dbURL))
	}
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	h, err := export.Write(ctx, src, engineName(*dbURL), time.Now(), tmp)
	if errors.Is(err, export.ErrKeyInStore) {
		tmp.Close()
		return &hintError{err: err, hint: "run caucus serve on it once with --log-key FILE: the key moves to FILE and out of the database; then export"}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), *out) // fails if FILE appeared meanwhile, never overwrites
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	info, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "exported election %s from %s to %s (%d bytes) in %s\n", h.ElectionID, engineName(*dbURL),
		*out, info.Size(), time.Since(start).Round(time.Millisecond))
	if h.Checkpoint != nil {
		fmt.Fprintf(stdout, "log checkpoint: %d entries\n", h.Checkpoint.Size)
	}
	fmt.Fprintln(stdout, "the log's signing key is not in the file: move the key file with it")
	return nil
}

func runImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("import")
	dbURL := fs.String("db", "", "")
	in := fs.String("in", "", "")
	if err := parseFlags(fs, args, importHelp, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), hint: `run "caucus import --help"`}
	case *dbURL == "" || *in == "":
		return &usageError{err: errors.New("--db and --in are required"), hint: `run "caucus import --help"`}
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	if _, err := export.ReadHeader(f); err != nil { // before a database is made for nothing
		return fmt.Errorf("import %s: %w", *in, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	sink, ok := db.(export.Sink)
	if !ok {
		return fmt.Errorf("import: the %s store cannot be imported into", engineName(*dbURL))
	}
	start := time.Now()
	h, err := export.Read(ctx, f, sink)
	if errors.Is(err, export.ErrNotEmpty) {
		return &hintError{err: err, hint: "import into a new database (or schema: postgres://…?search_path=NAME)"}
	} else if err != nil {
		return err
	}
	size := "no signed checkpoint"
	if h.Checkpoint != nil {
		size = fmt.Sprintf("the checkpoint of %d entries verified", h.Checkpoint.Size)
	}
	fmt.Fprintf(stdout, "imported election %s (exported from %s at %s) into %s in %s: %s\n", h.ElectionID, h.Engine,
		h.ExportedAt.Format(time.RFC3339), engineName(*dbURL), time.Since(start).Round(time.Millisecond), size)
	fmt.Fprintln(stdout, "start caucus serve on it with the election's log key file (--log-key FILE)")
	return nil
}

// sqlitePath is the file of a sqlite:PATH URL.
func sqlitePath(url string) (string, bool) {
	if isPostgres(url) {
		return "", false
	}
	return strings.CutPrefix(url, "sqlite:")
}

// engineName names a --db URL's engine.
func engineName(url string) string {
	if isPostgres(url) {
		return "postgres"
	}
	return "sqlite"
}
