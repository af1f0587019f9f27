package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// tsPolicySize reports the size of the policy a task sequence makes,
// against the client's 32 MB budget, with the steps that weigh most. The
// argument is a file, or the PackageID of a package on the server (whose
// Sequence it reads; the size is computed here either way). It fails when
// the policy is over the budget.
func tsPolicySize(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts policy-size")
	top := fs.Int("top", 10, "how many of the heaviest steps to list (0: none)")
	customActions := customActionsFlag(fs)
	rest, err := parseArgs(fs, args, 1, "ts policy-size takes one file (- for standard input) or the PackageID of a task sequence package on the server")
	if err != nil {
		return err
	}
	c, err := tsCodec(*customActions)
	if err != nil {
		return err
	}
	arg := rest[0]
	var ts *cim.Instance
	var name, bootImage string
	if _, statErr := os.Stat(arg); statErr == nil || arg == "-" || !looksLikePackageID(arg) {
		var doc *taskseq.Document
		if ts, doc, err = readTS(c, arg); err != nil {
			return err
		}
		name, bootImage = arg, doc.PackageProperties["BootImageID"]
	} else {
		e, err := cf.client().Get(context.Background(), defaultClass, arg)
		if err != nil {
			return err
		}
		seq, _ := e["Sequence"].(string)
		if seq == "" {
			seq = `<sequence version="3.10"></sequence>` // a package whose sequence is not set yet
		}
		if ts, _, err = c.Parse([]byte(seq)); err != nil {
			return fmt.Errorf("%s: Sequence: %w", arg, err)
		}
		bootImage, _ = e["BootImageID"].(string)
		name = strings.ToUpper(arg)
	}
	seq, err := c.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		return err
	}
	in := policy.TaskSequence{Package: policy.Package{PackageID: "XXX00000"}, BootImageID: bootImage, Sequence: string(seq)}
	for _, r := range taskseq.References(ts) {
		in.References = append(in.References, policy.Reference{PackageID: r.Package, Program: r.Program})
	}
	size, err := policy.Size(in)
	if err != nil {
		return err
	}
	weights, err := policy.Weigh(in.Sequence)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: task sequence policy of %d bytes (UTF-16); the client's limit is %d bytes (32 MB): %.1f%% used\n",
		name, size, int64(policy.MaxPolicyBytes), 100*float64(size)/policy.MaxPolicyBytes)
	fmt.Fprintf(stdout, "the sequence XML is %d bytes; each character costs %d bytes of policy; %d steps\n", len(seq), policy.SequenceUnitBytes, len(weights))
	if *top > 0 && len(weights) > 0 {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BYTES\tSHARE\tTYPE\tSTEP")
		for i, w := range weights {
			if i == *top {
				break
			}
			fmt.Fprintf(tw, "%d\t%.1f%%\t%s\t%s\n", w.Bytes, 100*float64(w.Bytes)/float64(size), w.Type, w.Path)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if size > policy.MaxPolicyBytes {
		return errs.E(errs.TooLarge, "%s: the policy is %d bytes, over the client's limit of %d bytes: GetTsPolicies and deployments refuse it; move steps into child task sequences (each has a budget of its own)", name, size, int64(policy.MaxPolicyBytes))
	}
	return nil
}

// looksLikePackageID reports an argument that is a PackageID rather than
// a file name: eight letters and digits.
func looksLikePackageID(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') {
			return false
		}
	}
	return true
}
