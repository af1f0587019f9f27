package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/lint"
)

// exitStatus is a command's outcome that is not a failure to run but sets
// the exit status (lint findings): run prints msg, when there is one, and
// exits with code.
type exitStatus struct {
	code int
	msg  string
}

func (e exitStatus) Error() string { return e.msg }

// lintExit maps the worst finding to the exit status: 3 for a note, 4 for
// a warning, 5 for an error, when it is at or above failOn; 0 otherwise.
func lintExit(worst, failOn lint.Severity) int {
	if worst == lint.Off || worst < failOn {
		return 0
	}
	return map[lint.Severity]int{lint.Note: 3, lint.Warning: 4, lint.Error: 5}[worst]
}

// isPackageID reports an argument that names a stored package: it looks
// like a PackageID and no file has that name.
func isPackageID(arg string) bool {
	if arg == "-" || !looksLikePackageID(arg) {
		return false
	}
	_, err := os.Stat(arg)
	return errors.Is(err, os.ErrNotExist)
}

// tsLint checks task sequence files, or stored packages on a server, for
// mistakes (internal/taskseq/lint) and prints the findings.
func tsLint(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts lint")
	customActions := customActionsFlag(fs)
	format := fs.String("format", "text", "output: text, json or sarif")
	configPath := fs.String("config", envOr("TSPROV_LINT_CONFIG", ""), "lint configuration file (JSON: rules to turn off or re-grade, known variables; env TSPROV_LINT_CONFIG)")
	failOnText := fs.String("fail-on", "warning", "lowest severity that makes the exit status non-zero: note, warning or error")
	listRules := fs.Bool("rules", false, "list the rules and exit")
	targets, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *listRules {
		return printRules(stdout)
	}
	if len(targets) == 0 {
		return usageError{"ts lint takes one or more task sequence files (- for standard input) or PackageIDs"}
	}
	if *format != "text" && *format != "json" && *format != "sarif" {
		return usageError{fmt.Sprintf("--format is text, json or sarif, not %q", *format)}
	}
	failOn, err := lint.ParseSeverity(*failOnText)
	if err != nil || failOn == lint.Off {
		return usageError{fmt.Sprintf("--fail-on is note, warning or error, not %q", *failOnText)}
	}
	var cfg *lint.Config
	var rawConfig []byte
	if *configPath != "" {
		if rawConfig, err = os.ReadFile(*configPath); err != nil {
			return fmt.Errorf("read the lint configuration: %w", err)
		}
		if cfg, err = lint.ParseConfig(rawConfig); err != nil {
			return fmt.Errorf("%s: %w", *configPath, err)
		}
	}
	var codec *taskseq.Codec
	reports := make([]lint.Report, 0, len(targets))
	for _, target := range targets {
		var res *lint.Result
		if isPackageID(target) {
			res, err = lintOnServer(cf, target, rawConfig)
		} else {
			if codec == nil {
				if codec, err = tsCodec(*customActions); err != nil {
					return err
				}
			}
			res, err = lintFile(codec, target, cfg)
		}
		if err != nil {
			return err
		}
		reports = append(reports, lint.Report{Artifact: target, Result: res})
	}
	switch *format {
	case "json":
		err = lint.WriteJSON(stdout, reports)
	case "sarif":
		err = lint.WriteSARIF(stdout, lint.Tool{Name: "tsprov"}, cfg, reports)
	default:
		err = lint.WriteText(stdout, reports)
	}
	if err != nil {
		return err
	}
	worst := lint.Off
	for _, r := range reports {
		worst = max(worst, r.Result.Worst())
	}
	if code := lintExit(worst, failOn); code != 0 {
		return exitStatus{code: code}
	}
	return nil
}

// lintFile lints a file as it is: its size as ConfigMgr would store it
// (the compact XML the codec writes), no facts about packages.
func lintFile(c *taskseq.Codec, path string, cfg *lint.Config) (*lint.Result, error) {
	data, err := readInput(path)
	if err != nil {
		return nil, err
	}
	ts, doc, err := c.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	xml, err := c.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lint.Run(lint.Input{
		Sequence: ts, Source: data, SequenceXML: xml,
		BootImageID: doc.PackageProperties["BootImageID"],
	}, cfg)
}

// lintOnServer asks the server to lint a stored package (it knows which
// packages exist).
func lintOnServer(cf *clientFlags, id string, rawConfig []byte) (*lint.Result, error) {
	body := map[string]any{"PackageID": id}
	if rawConfig != nil {
		body["Config"] = rawJSON(rawConfig)
	}
	var rep lint.Report
	if err := cf.client().Call(context.Background(), "POST", "/tsprov/v1/lint", body, &rep); err != nil {
		return nil, fmt.Errorf("lint %s: %w", id, err)
	}
	if rep.Result == nil {
		return nil, fmt.Errorf("lint %s: the server sent no result", id)
	}
	return rep.Result, nil
}

// rawJSON is JSON text sent as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// printRules lists the rules: id, default severity, summary.
func printRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tWHAT IT FINDS")
	for _, r := range lint.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, strings.SplitN(r.Summary, ": ", 2)[0])
	}
	return tw.Flush()
}
