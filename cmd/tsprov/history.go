package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/diff"
)

// tsLog prints the history of a package, newest revision first.
func tsLog(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts log")
	asJSON := fs.Bool("json", false, "print the revisions as JSON, oldest first")
	rest, err := parseArgs(fs, args, 1, "ts log takes the PackageID of a task sequence package")
	if err != nil {
		return err
	}
	revs, err := cf.client().Collection(context.Background(), adminservice.HistoryPath+"/"+url.PathEscape(rest[0]))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, revs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REV\tTIME\tUSER\tSERVER\tCHANGE\tCOMMENT")
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		change := text(r["Operation"])
		if m := text(r["Method"]); m != "" {
			change += " (" + m + ")"
		}
		if from := text(r["RestoredFrom"]); from != "" {
			change = "restore of " + from
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", text(r["Revision"]), text(r["Time"]), text(r["User"]), text(r["Server"]), change, oneLine(text(r["Comment"])))
	}
	return tw.Flush()
}

// text renders a JSON member for a table ("" for null).
func text(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// tsRestore makes a package what one of its revisions held, as a new
// revision.
func tsRestore(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts restore")
	cf.registerMessage(fs)
	rest, err := parseArgs(fs, args, 2, "ts restore takes a PackageID and a revision number, e.g. tsprov ts restore PS100012 3")
	if err != nil {
		return err
	}
	id, rev := rest[0], rest[1]
	if _, _, err := adminservice.ParseVersion(id + "@" + rev); err != nil {
		return usageError{oneLine(err.Error())}
	}
	path := adminservice.HistoryPath + "/" + url.PathEscape(id) + "/" + url.PathEscape(rev) + "/restore"
	if err := cf.client().Call(context.Background(), "POST", path, nil, nil); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: revision %s restored as a new revision (see tsprov ts log %s)\n", id, rev, id)
	return err
}

// tsPurge removes the history of a deleted package.
func tsPurge(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts purge-history")
	rest, err := parseArgs(fs, args, 1, "ts purge-history takes the PackageID of a deleted task sequence package")
	if err != nil {
		return err
	}
	var out struct{ Purged json.Number }
	if err := cf.client().Call(context.Background(), "DELETE", adminservice.HistoryPath+"/"+url.PathEscape(rest[0]), nil, &out); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %s revisions purged\n", rest[0], out.Purged)
	return err
}

// tsDiff prints the semantic diff of two task sequences, each a file, a
// package on the server (ID: as it is) or a revision (ID@REV).
func tsDiff(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts diff")
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	colour := fs.String("color", "auto", "colour the text: auto (on a terminal), always or never")
	customActions := customActionsFlag(fs)
	rest, err := parseArgs(fs, args, 2, "ts diff takes two task sequences, each a file, a PackageID or PackageID@revision")
	if err != nil {
		return err
	}
	paint, err := wantColour(*colour, stdout)
	if err != nil {
		return err
	}
	c, err := tsCodec(*customActions)
	if err != nil {
		return err
	}
	for _, arg := range rest {
		if id, _, err := adminservice.ParseVersion(arg); !isFile(arg) && (err != nil || !looksLikePackageID(id)) {
			return usageError{fmt.Sprintf("%s is neither a file nor PackageID[@revision]", arg)}
		}
	}
	ctx := context.Background()
	var res *diff.Result
	if !isFile(rest[0]) && !isFile(rest[1]) {
		q := url.Values{"from": {rest[0]}, "to": {rest[1]}}
		res = &diff.Result{}
		if err := cf.client().Call(ctx, "GET", adminservice.DiffPath+"?"+q.Encode(), nil, res); err != nil {
			return err
		}
	} else {
		var sides [2]diff.Input
		for i, arg := range rest {
			if sides[i], err = diffSide(ctx, c, cf.client(), arg); err != nil {
				return err
			}
		}
		res = diff.Compare(sides[0], sides[1])
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	return res.WriteText(stdout, paint)
}

// isFile reports whether a diff argument names a file (or standard input).
func isFile(arg string) bool {
	if arg == "-" {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// diffSide reads one side of a diff: a file, or a package or revision from
// the server.
func diffSide(ctx context.Context, c *taskseq.Codec, cl *client.Client, arg string) (diff.Input, error) {
	if isFile(arg) {
		ts, _, err := readTS(c, arg)
		return diff.Input{Sequence: ts, Label: arg}, err
	}
	id, rev, err := adminservice.ParseVersion(arg)
	if err != nil {
		return diff.Input{}, usageError{fmt.Sprintf("%s is neither a file nor PackageID[@revision]", arg)}
	}
	var seq string
	if rev == 0 {
		e, err := cl.Get(ctx, defaultClass, id)
		if err != nil {
			return diff.Input{}, err
		}
		seq, _ = e["Sequence"].(string)
	} else {
		var out struct{ Package map[string]any }
		if err := cl.Call(ctx, "GET", fmt.Sprintf("%s/%s/%d", adminservice.HistoryPath, url.PathEscape(id), rev), nil, &out); err != nil {
			return diff.Input{}, err
		}
		seq, _ = out.Package["Sequence"].(string)
	}
	if strings.TrimSpace(seq) == "" {
		seq = `<sequence version="3.10"></sequence>` // a package whose sequence is not set
	}
	ts, _, err := c.Parse([]byte(seq))
	if err != nil {
		return diff.Input{}, fmt.Errorf("%s: Sequence: %w", arg, err)
	}
	return diff.Input{Sequence: ts, Label: arg}, nil
}

// wantColour decides whether text output is coloured.
func wantColour(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" {
			return false, nil
		}
		f, ok := w.(*os.File)
		if !ok {
			return false, nil
		}
		st, err := f.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, usageError{fmt.Sprintf("--color is auto, always or never, not %q", mode)}
}
