package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tsprov/tsprov/internal/content"
)

const contentUsage = "usage: tsprov content hash [--alg 32780|32772|32771] [--json] DIR"

// runContent works with content folders offline: hash prints the content
// hash of a folder and the SHA-256 of each file.
func runContent(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{contentUsage}
	}
	switch args[0] {
	case "hash":
		return contentHash(args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown content command %q; %s", args[0], contentUsage)}
}

// contentHash prints, like sha256sum, one line per file (its SHA-256 and
// path), then the content hash: what a client computes over a downloaded
// content and compares with GetPackageDefaultHash. A progress bar of the
// bytes read is drawn on a terminal.
func contentHash(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("content hash", flag.ContinueOnError)
	alg := fs.Uint("alg", uint(content.AlgSHA256), "CryptoAPI id of the content hash's digest: 32780 SHA-256, 32772 SHA-1, 32771 MD5")
	asJSON := fs.Bool("json", false, "print the manifest (folders, files, sizes, hashes) as JSON")
	rest, err := parseArgs(fs, args, 1, "content hash takes one folder, e.g. tsprov content hash ./Office")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress, finish := hashBar(ctx)
	m, err := content.HashDir(ctx, rest[0], progress)
	finish()
	if err != nil {
		return err
	}
	hash, err := m.ContentHash(uint32(*alg))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"hash": hash, "hashAlgId": *alg, "size": m.Size, "folders": m.Folders, "files": m.Files})
	}
	for _, f := range m.Files {
		fmt.Fprintf(stdout, "%s  %s\n", f.SHA256, f.Path)
	}
	fmt.Fprintf(stdout, "content hash (%d): %s\n%d files, %d folders, %s\n", *alg, hash, len(m.Files), len(m.Folders), sizeText(m.Size))
	return nil
}

// hashBar returns a content.Progress that draws the bytes read, files,
// rate and ETA on a terminal, and a function that ends it.
func hashBar(ctx context.Context) (func(content.Progress), func()) {
	if !onTerminal() {
		return nil, func() {}
	}
	p := mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	var files, total int
	bar := p.AddBar(0,
		mpb.PrependDecorators(decor.Name("hash "), decor.CountersKibiByte("% .1f / % .1f"),
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("  %d/%d files", files, total) })),
		mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	progress := func(pr content.Progress) {
		files, total = pr.Files, pr.TotalFiles
		bar.SetTotal(pr.TotalBytes, false)
		bar.SetCurrent(pr.Bytes)
	}
	return progress, func() { bar.SetTotal(-1, true); p.Wait() }
}
