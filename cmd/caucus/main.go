// Command caucus takes a caucus night from the precinct to the public: the caucus math (calc),
// bulk checking of published results (check), and the reporting server. See spec/interfaces.md
// for the contract and README.md for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&Main{}).Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line; tests run it in-process.
type Main struct{}

// Exit codes of the contract (spec/interfaces.md).
const (
	exitOK       = 0 // success
	exitNotRight = 1 // what was checked is not right
	exitUsage    = 2 // usage error
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "a full server with the 2020 Iowa election, ready to use", runDemo},
		{"serve", "the reporting server for an election", runServe},
		{"credentials", "issue the chairs' PINs and QR codes", runCredentials},
		{"staff", "headquarters' staff accounts; reopen a precinct's PIN login", runStaff},
		{"calc", "the caucus math for one precinct", runCalc},
		{"check", "check published precinct results (the long results CSV)", runCheck},
		{"verify", "check a server's published results against its signed log", runVerify},
		{"simulate", "rehearse caucus night against a server, faults and crash drill included", runSimulate},
		{"export", "write the election in a database to a file, to move it to another", runExport},
		{"import", "read an election written by export into an empty database", runImport},
		{"audit", "a risk-limiting audit of the caucus from its cards: plan, draw, status", runAudit},
	}
}

const usage = `caucus takes a caucus night from the precinct to the public.

Usage:
	caucus <command> [flags]

Commands:
%s
Run "caucus <command> --help" for a command's flags.
`

// Run runs one command line and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		fmt.Fprintf(w, usage, commandList())
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		return exitCode(err, stderr)
	}
	printError(stderr, fmt.Errorf("unknown command %q", args[0]), `run "caucus --help" for the list of commands`)
	return exitUsage
}

func commandList() string {
	s := ""
	for _, c := range commands() {
		s += fmt.Sprintf("\t%-12s %s\n", c.name, c.summary)
	}
	return s
}

// usageError is a bad command line: exit 2.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }

// notRightError means the command ran and found what it checked not right: exit 1. Its message
// has already been printed when msg is empty.
type notRightError struct{ msg string }

func (e *notRightError) Error() string { return e.msg }

// hintError is a failure with advice for the user: exit 1.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var nr *notRightError
	var he *hintError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		printError(stderr, ue.err, ue.hint)
		return exitUsage
	case errors.As(err, &nr):
		if nr.msg != "" {
			printError(stderr, errors.New(nr.msg), "")
		}
		return exitNotRight
	case errors.As(err, &he):
		printError(stderr, he.err, he.hint)
		return exitNotRight
	}
	printError(stderr, err, "")
	return exitNotRight
}

// printError writes "caucus: error: …" and an optional "caucus: hint: …" line.
func printError(w io.Writer, err error, hint string) {
	fmt.Fprintf(w, "caucus: error: %v\n", err)
	if hint != "" {
		fmt.Fprintf(w, "caucus: hint: %s\n", hint)
	}
}

// newFlags makes a subcommand's flag set; its help text is hand-written (see parseFlags).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, printing the help on --help (to stdout, exit 0) and turning any other
// flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, help)
			return flag.ErrHelp
		}
		return &usageError{err: err, hint: fmt.Sprintf(`run "caucus %s --help" for its flags`, fs.Name())}
	}
	return nil
}
