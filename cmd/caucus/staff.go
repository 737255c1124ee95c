package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

const staffHelp = `Usage: caucus staff <command> --db URL [flags]

Headquarters' staff accounts, and reopening a precinct's PIN login. Every change is written to
the election's audit trail with who made it (the command line's user) and from where.

Commands:
	add            make an account: prints its one-time password and, for admin and certifier,
	               the otpauth:// URI of its second factor (TOTP), shown this once only
	list           list the accounts (no passwords, no secrets)
	disable        disable an account: its sessions end at once, in every server sharing the
	               database; nothing enables it again (make a new account)
	reset-password give an account a new one-time password (and admin and certifier a new second
	               factor: a lost phone); its sessions end
	reset-pin      reopen a precinct's PIN login closed by wrong guesses, or issue it a new PIN,
	               after calling the chair back on the number on file

Run "caucus staff <command> --help" for its flags. Roles: admin, reviewer, operator (hotline),
certifier, observer (read-only).
`

const staffAddHelp = `Usage: caucus staff add --db URL --user USER --role ROLE [--reason TEXT]

Makes a staff account and prints its one-time password and, for admin and certifier, the
otpauth:// URI to scan or type into an authenticator app (the second factor asked at login).
They are shown this once: give them to the person only. A password of their own (12 characters
or more) can then be set with POST /api/v1/staff/password.

Flags:
	--db URL      the election's database: sqlite:PATH or postgres://…
	--user USER   lower-case letters, digits, '.', '_' and '-' (at most 64)
	--role ROLE   admin, reviewer, operator, certifier or observer (another is exit 2)
	--reason TEXT why, for the audit trail (optional)
`

const staffListHelp = `Usage: caucus staff list --db URL [--json]

Lists the staff accounts: user, role, whether disabled, second factor, created.

Flags:
	--db URL   the election's database: sqlite:PATH or postgres://…
	--json     {accounts: [{user, role, disabled, second_factor, created_at}]}
`

const staffDisableHelp = `Usage: caucus staff disable --db URL --user USER [--reason TEXT]

Disables an account: it can no longer log in, and every session it holds ends at once, in every
server sharing the database. Exit 1 when there is no such account.

Flags:
	--db URL      the election's database: sqlite:PATH or postgres://…
	--user USER   the account
	--reason TEXT why, for the audit trail (optional)
`

const staffResetHelp = `Usage: caucus staff reset-password --db URL --user USER [--reason TEXT]

Gives an enabled account a new one-time password and, for admin and certifier, a new second
factor (the old phone's codes stop working), prints them once, and ends the account's sessions.
Exit 1 when there is no such enabled account.

Flags:
	--db URL      the election's database: sqlite:PATH or postgres://…
	--user USER   the account
	--reason TEXT why, for the audit trail (optional)
`

const staffPINHelp = `Usage: caucus staff reset-pin --db URL --precinct ID [--new-pin] [--reason TEXT]

Reopens a precinct's PIN login closed after too many wrong PINs: its budget of guesses and its
waits start again. Do it after calling the chair back on the number on file. With --new-pin, the
precinct gets a new PIN instead (printed once: read it to the chair); the old one stops working,
the QR login link on the packet keeps working. Exit 1 when the precinct has no credentials.

Flags:
	--db URL       the election's database: sqlite:PATH or postgres://…
	--precinct ID  the precinct
	--new-pin      issue a new PIN, not only reopen
	--reason TEXT  why, for the audit trail (default: "reset from the command line")
`

func runStaff(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, staffHelp)
		return &usageError{err: errors.New("caucus staff needs a command"), hint: `run "caucus staff --help"`}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, staffHelp)
		return nil
	case "add":
		return runStaffAdd(ctx, args[1:], stdout)
	case "list":
		return runStaffList(ctx, args[1:], stdout)
	case "disable":
		return runStaffDisable(ctx, args[1:], stdout)
	case "reset-password":
		return runStaffReset(ctx, args[1:], stdout)
	case "reset-pin":
		return runStaffPIN(ctx, args[1:], stdout)
	}
	return &usageError{err: fmt.Errorf("unknown staff command %q", args[0]), hint: `run "caucus staff --help" for the list`}
}

// staffDB opens --db and an Authenticator over it, for one command.
func staffDB(ctx context.Context, url string) (database, *auth.Authenticator, error) {
	db, err := openDB(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	a, err := auth.New(auth.Config{Store: db, Now: time.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, a, nil
}

// cliActor names the command line's user in the audit trail.
func cliActor(reason string) auth.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	from := "command line"
	if h, err := os.Hostname(); err == nil {
		from = "command line on " + h
	}
	return auth.Actor{Name: name, From: from, Reason: reason}
}

// needFlags refuses a command line without the named values, or with arguments left over.
func needFlags(cmd string, rest []string, values map[string]string) error {
	for name, v := range values {
		if v == "" {
			return &usageError{err: fmt.Errorf("caucus staff %s needs --%s", cmd, name), hint: fmt.Sprintf(`run "caucus staff %s --help"`, cmd)}
		}
	}
	if len(rest) > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", rest[0]), hint: fmt.Sprintf(`run "caucus staff %s --help"`, cmd)}
	}
	return nil
}

func runStaffAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("staff add")
	dbURL, username, role, reason := fs.String("db", "", ""), fs.String("user", "", ""), fs.String("role", "", ""), fs.String("reason", "", "")
	if err := parseFlags(fs, args, staffAddHelp, stdout); err != nil {
		return err
	}
	if err := needFlags("add", fs.Args(), map[string]string{"db": *dbURL, "user": *username, "role": *role}); err != nil {
		return err
	}
	if !auth.Role(*role).Staff() {
		return &usageError{err: fmt.Errorf("unknown role %q", *role), hint: "the roles are admin, reviewer, operator, certifier and observer"}
	}
	if err := auth.ValidUsername(*username); err != nil {
		return &usageError{err: err, hint: `run "caucus staff add --help"`}
	}
	db, a, err := staffDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := a.CreateStaff(ctx, cliActor(*reason), *username, auth.Role(*role))
	if errors.Is(err, auth.ErrAccountExists) {
		return &hintError{err: fmt.Errorf("there is already an account %q", *username), hint: "choose another name (a disabled account keeps its name)"}
	} else if err != nil {
		return err
	}
	printNewStaff(stdout, "created", n)
	return nil
}

// printNewStaff shows an account's new credentials, once.
func printNewStaff(w io.Writer, what string, n auth.NewStaff) {
	fmt.Fprintf(w, "%s staff account %s (%s)\n", what, n.Username, n.Role)
	fmt.Fprintf(w, "  one-time password  %s\n", n.Password.Reveal())
	if uri := n.OTPURI(); uri != "" {
		fmt.Fprintf(w, "  second factor      %s\n", uri)
		fmt.Fprintf(w, "                     (scan it or type the secret into an authenticator app)\n")
	}
	fmt.Fprintf(w, "Give these to %s only: they are not shown again.\n", n.Username)
}

func runStaffList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("staff list")
	dbURL, asJSON := fs.String("db", "", ""), fs.Bool("json", false, "")
	if err := parseFlags(fs, args, staffListHelp, stdout); err != nil {
		return err
	}
	if err := needFlags("list", fs.Args(), map[string]string{"db": *dbURL}); err != nil {
		return err
	}
	db, a, err := staffDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := a.StaffAccounts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]map[string]any, len(l))
		for i, s := range l {
			out[i] = map[string]any{"user": s.Username, "role": s.Role, "disabled": s.Disabled,
				"second_factor": s.Role.NeedsOTP(), "created_at": s.Created.UTC().Format(time.RFC3339)}
		}
		b, _ := json.MarshalIndent(map[string]any{"accounts": out}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tSTATUS\tSECOND FACTOR\tCREATED")
	for _, s := range l {
		status, factor := "enabled", "-"
		if s.Disabled {
			status = "disabled"
		}
		if s.Role.NeedsOTP() {
			factor = "TOTP"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Username, s.Role, status, factor, s.Created.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func runStaffDisable(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("staff disable")
	dbURL, username, reason := fs.String("db", "", ""), fs.String("user", "", ""), fs.String("reason", "", "")
	if err := parseFlags(fs, args, staffDisableHelp, stdout); err != nil {
		return err
	}
	if err := needFlags("disable", fs.Args(), map[string]string{"db": *dbURL, "user": *username}); err != nil {
		return err
	}
	db, a, err := staffDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := a.DisableStaff(ctx, cliActor(*reason), *username)
	if errors.Is(err, auth.ErrNotFound) {
		return &hintError{err: fmt.Errorf("no staff account %q", *username), hint: `"caucus staff list" shows the accounts`}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "disabled %s; %d session(s) ended\n", *username, n)
	return nil
}

func runStaffReset(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("staff reset-password")
	dbURL, username, reason := fs.String("db", "", ""), fs.String("user", "", ""), fs.String("reason", "", "")
	if err := parseFlags(fs, args, staffResetHelp, stdout); err != nil {
		return err
	}
	if err := needFlags("reset-password", fs.Args(), map[string]string{"db": *dbURL, "user": *username}); err != nil {
		return err
	}
	db, a, err := staffDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := a.ResetStaff(ctx, cliActor(*reason), *username)
	if errors.Is(err, auth.ErrNotFound) {
		return &hintError{err: fmt.Errorf("no enabled staff account %q", *username), hint: `"caucus staff list" shows the accounts`}
	} else if err != nil {
		return err
	}
	printNewStaff(stdout, "reset", n)
	return nil
}

func runStaffPIN(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("staff reset-pin")
	dbURL, precinct := fs.String("db", "", ""), fs.String("precinct", "", "")
	newPIN := fs.Bool("new-pin", false, "")
	reason := fs.String("reason", "reset from the command line", "")
	if err := parseFlags(fs, args, staffPINHelp, stdout); err != nil {
		return err
	}
	if err := needFlags("reset-pin", fs.Args(), map[string]string{"db": *dbURL, "precinct": *precinct}); err != nil {
		return err
	}
	db, a, err := staffDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	by := cliActor(*reason)
	var before int
	var pin auth.PIN
	if *newPIN {
		pin, before, err = a.NewPIN(ctx, by.Name, *precinct)
	} else {
		before, err = a.ReopenPIN(ctx, *precinct)
	}
	if errors.Is(err, auth.ErrNotFound) {
		return &hintError{err: fmt.Errorf("precinct %q has no credentials in this database", *precinct), hint: "check the precinct ID (as in precincts.csv)"}
	} else if err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"reason": by.Reason, "wrong_pins": before, "new_pin": *newPIN, "addr": by.From})
	if _, err := db.AddAudit(ctx, store.NewAudit{Actor: by.Name, Kind: store.AuditThrottleReset, PrecinctID: *precinct, Detail: detail}); err != nil {
		return fmt.Errorf("audit the reset: %w", err)
	}
	fmt.Fprintf(stdout, "PIN login of %s reopened (%d wrong PINs had been counted)\n", *precinct, before)
	if *newPIN {
		fmt.Fprintf(stdout, "  new PIN  %s   (read it to the chair; the old PIN no longer works, the QR link still does)\n", pin.Grouped())
	}
	return nil
}
