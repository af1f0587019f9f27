// Command tsprov is the tsprov server and its command line client.
//
//	tsprov serve                 run the server (SQLite in ./tsprov-data)
//	tsprov list|get|create|set|delete   work with instances over HTTP
//	tsprov help [COMMAND]        the commands, or one command's flags
//	tsprov version               the build's version and commit
//	tsprov completion SHELL      a completion script for bash, zsh or fish
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"serve":   {"run the server", runServe},
	"list":    {"list the instances of a class", runList},
	"get":     {"show one instance by key, lazy properties filled", runGet},
	"create":  {"create an instance from Prop=Value pairs or a JSON file", runCreate},
	"set":     {"change properties of an instance (PATCH)", runSet},
	"delete":  {"delete instances by key", runDelete},
	"ts":      {"work with task sequences: show, validate, fmt, refs, policy-size (files); diff, log, restore, purge-history (history)", runTS},
	"query":   {"run a WQL query on the server (table, JSON or CSV)", runQuery},
	"watch":   {"print the changes a WQL event query selects as they happen", runWatch},
	"admin":   {"manage administrative users and API tokens (user …, token …)", runAdmin},
	"audit":   {"show the server's audit trail", runAudit},
	"lock":    {"list SEDO locks (ls) or release one whoever holds it (release)", runLock},
	"migrate": {"copy a SQLite data folder into a PostgreSQL database, then compare them", runMigrate},
	"export":  {"write task sequences (and what they use) to a ConfigMgr export zip", runExport},
	"import":  {"import a ConfigMgr export zip, mapping its references to this site (--dry-run: the plan)", runImport},
	"pkg":     {"work with packages of any class: refresh (a new snapshot of the package source)", runPkg},
	"content": {"work with content folders offline: hash (the content hash and each file's SHA-256)", runContent},
	"dp":      {"run a distribution point agent (serve), assign packages to DPs (add), show distribution (status)", runDP},
	"media":   {"write stand-alone media content for a task sequence (create) and check it (verify)", runMedia},

	// the binary itself
	"version":    {"print the version and the commit this binary was built from", runVersion},
	"completion": {"print a shell completion script: bash, zsh or fish", runCompletion},
}

// usageError is a mistake in how the command was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ts" {
		collectGarbageLate()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// tsHeapLimit is the heap a ts command grows to before the garbage
// collector runs (see collectGarbageLate).
const tsHeapLimit = 256 << 20

// collectGarbageLate lets the garbage collector wait until the heap nears
// tsHeapLimit, unless GOGC or GOMEMLIMIT say otherwise. A ts command is a
// short process that reads one file of at most 32 MB: on a 2 MB sequence
// the collector's work was about a quarter of the command's CPU, for memory
// that the process's end frees anyway. A larger file still runs within
// the limit, collected as it nears it.
func collectGarbageLate() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(tsHeapLimit)
	debug.SetGCPercent(-1)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return 0
		}
		// tsprov help admin user add: the flags of that command
		args = append(args[1:], "-h")
	case "-version", "--version":
		args = []string{"version"}
	case completeCommand:
		for _, c := range complete(args[1:]) {
			fmt.Fprintln(stdout, c)
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tsprov: unknown command %q (run 'tsprov help')\n", args[0])
		return 2
	}
	err := cmd.run(args[1:], stdout)
	var help helpRequest
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		if status.msg != "" {
			fmt.Fprintf(stderr, "tsprov %s: %s\n", args[0], status.msg)
		}
		return status.code
	case errors.As(err, &help):
		help.print(stdout)
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "tsprov %s: %s\n", args[0], oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func usage(w io.Writer) {
	fmt.Fprintln(w, "tsprov: a task sequence SMS Provider with an AdminService REST surface")
	fmt.Fprintln(w, "\nusage: tsprov <command> [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'tsprov help <command>' (or 'tsprov <command> -h') for a command's flags.")
}

// helpRequest is a command called with -h: run prints its flags on
// standard output and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h helpRequest) Error() string { return "help requested" }
func (h helpRequest) Unwrap() error { return flag.ErrHelp }

func (h helpRequest) print(w io.Writer) {
	fmt.Fprintf(w, "usage: tsprov %s [flags]\n", h.fs.Name())
	n := 0
	h.fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		h.fs.SetOutput(w)
		h.fs.PrintDefaults()
	}
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequest{fs}
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseArgs parses args and checks that exactly n positional arguments
// came; usage says what the command takes.
func parseArgs(fs *flag.FlagSet, args []string, n int, usage string) ([]string, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) != n {
		return nil, usageError{usage}
	}
	return rest, nil
}

// parseNoArgs parses args of a command that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string, usage string) error {
	_, err := parseArgs(fs, args, 0, usage)
	return err
}

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
