package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// runTS runs the offline task sequence commands: show, validate, fmt, refs.
// They read any shape of task sequence file and need no server.
func runTS(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"ts takes a command: show, validate, fmt, refs, policy-size, diff, log, restore, purge-history, lint or plan"}
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, "usage: tsprov ts show|validate|fmt|refs|policy-size FILE (- for standard input)")
		fmt.Fprintln(stdout, "       tsprov ts diff A B (each a FILE, ID or ID@REV) · ts log ID · ts restore ID REV · ts purge-history ID")
		fmt.Fprintln(stdout, "       tsprov ts lint FILE|PackageID… [--format text|json|sarif] [--config FILE] [--fail-on SEVERITY]")
		fmt.Fprintln(stdout, "       tsprov ts plan FILE|PackageID [--vars FILE] [--machine FILE] [--json]")
		return nil
	}
	fn, ok := tsCommands[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown ts command %q (show, validate, fmt, refs, policy-size, diff, log, restore, purge-history, lint, plan)", args[0])}
	}
	return fn(args[1:], stdout)
}

// tsCommands are the ts subcommands by name (completion reads them too).
var tsCommands = map[string]func([]string, io.Writer) error{
	"show":     tsShow,
	"validate": tsValidate,
	"fmt":      tsFmt,
	"refs":     tsRefs,
	// policy-size reads a file offline, or a package's Sequence from the server.
	"policy-size": tsPolicySize,
	// the history of a package on the server, and diffs of files, packages
	// and revisions
	"log":           tsLog,
	"restore":       tsRestore,
	"diff":          tsDiff,
	"purge-history": tsPurge,
	// lint and offline simulation: files, or packages through the server
	"lint": tsLint,
	"plan": tsPlan,
}

// customActionsFlag declares --custom-actions on a ts command's flags.
func customActionsFlag(fs *flag.FlagSet) *string {
	return fs.String("custom-actions", envOr("TSPROV_CUSTOM_ACTIONS", ""), "folder of custom action MOF files (*.mof) whose step classes join the schema")
}

// tsCodec is the codec of the embedded schema and the custom actions of
// the folder customActions (none when it is empty).
func tsCodec(customActions string) (*taskseq.Codec, error) {
	reg, err := schema.WithCustomActions(customActions)
	if err != nil {
		return nil, err
	}
	return taskseq.NewCodec(reg)
}

// readInput reads a file, or standard input when path is "-".
func readInput(path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// readTS parses a task sequence file ("-" for standard input).
func readTS(c *taskseq.Codec, path string) (*cim.Instance, *taskseq.Document, error) {
	data, err := readInput(path)
	if err != nil {
		return nil, nil, err
	}
	ts, doc, err := c.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, doc, nil
}

// oneFile parses the flags of a command that takes one file.
func oneFile(name string, args []string, fs *flag.FlagSet) (string, error) {
	rest, err := parseArgs(fs, args, 1, fmt.Sprintf("ts %s takes one file (- for standard input)", name))
	if err != nil {
		return "", err
	}
	return rest[0], nil
}

// loadOne parses the flags of a command that takes one file and reads it.
// It declares --custom-actions on fs.
func loadOne(name string, args []string, fs *flag.FlagSet) (*taskseq.Codec, *cim.Instance, *taskseq.Document, error) {
	customActions := customActionsFlag(fs)
	path, err := oneFile(name, args, fs)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := tsCodec(*customActions)
	if err != nil {
		return nil, nil, nil, err
	}
	ts, doc, err := readTS(c, path)
	return c, ts, doc, err
}

// tsShow prints the sequence as an indented tree.
func tsShow(args []string, stdout io.Writer) error {
	_, ts, _, err := loadOne("show", args, flag.NewFlagSet("ts show", flag.ContinueOnError))
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, taskseq.Tree(ts))
	return err
}

// tsValidate checks each file and prints its problems; it fails when any
// file breaks a rule that SetSequence would refuse (warnings do not fail).
func tsValidate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ts validate", flag.ContinueOnError)
	customActions := customActionsFlag(fs)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"ts validate takes one or more files"}
	}
	c, err := tsCodec(*customActions)
	if err != nil {
		return err
	}
	bad := 0
	for _, f := range files {
		ts, _, err := readTS(c, f)
		if err != nil {
			fmt.Fprintf(stdout, "%s\n", oneLine(err.Error()))
			bad++
			continue
		}
		problems := taskseq.Validate(ts)
		for _, p := range problems {
			if p.Warning {
				fmt.Fprintf(stdout, "%s: warning: %s\n", f, p)
			} else {
				fmt.Fprintf(stdout, "%s: %s\n", f, p)
			}
		}
		switch errors := len(taskseq.Errors(problems)); {
		case errors > 0:
			bad++
		case len(problems) > 0:
			fmt.Fprintf(stdout, "%s: ok, with %d warning(s)\n", f, len(problems))
		default:
			fmt.Fprintf(stdout, "%s: ok\n", f)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have problems", bad, len(files))
	}
	return nil
}

// tsFmt prints the sequence as ConfigMgr stores it (compact), or indented.
func tsFmt(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ts fmt", flag.ContinueOnError)
	indent := fs.Bool("indent", false, "indent the XML for reading")
	c, ts, _, err := loadOne("fmt", args, fs)
	if err != nil {
		return err
	}
	if !*indent {
		if err := c.WriteXML(stdout, ts, taskseq.WriteOptions{}); err != nil {
			return err
		}
		_, err = io.WriteString(stdout, "\n")
		return err
	}
	el, err := c.Encode(ts, taskseq.WriteOptions{})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	taskseq.WriteIndented(&b, el)
	_, err = stdout.Write(b.Bytes())
	return err
}

// tsRefs prints the references the sequence makes.
func tsRefs(args []string, stdout io.Writer) error {
	_, ts, doc, err := loadOne("refs", args, flag.NewFlagSet("ts refs", flag.ContinueOnError))
	if err != nil {
		return err
	}
	refs := taskseq.WithBootImage(taskseq.References(ts), doc.PackageProperties["BootImageID"])
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tPACKAGE\tPROGRAM")
	for _, r := range refs {
		kind := "package"
		if r.Type == 1 {
			kind = "application"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", kind, r.Package, r.ListedProgram())
	}
	return tw.Flush()
}
