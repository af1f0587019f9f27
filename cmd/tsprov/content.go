package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

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
// content and compares with GetPackageDefaultHash. Progress: a bar of
// the bytes read on a terminal, plain lines on stderr otherwise.
func contentHash(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("content hash", flag.ContinueOnError)
	alg := fs.Uint("alg", uint(content.AlgSHA256), "CryptoAPI id of the content hash's digest: 32780 SHA-256, 32772 SHA-1, 32771 MD5")
	asJSON := fs.Bool("json", false, "print the manifest (folders, files, sizes, hashes) as JSON")
	every := fs.Duration("progress-every", 5*time.Second, "off a terminal, a progress line on stderr this often (0: none)")
	rest, err := parseArgs(fs, args, 1, "content hash takes one folder, e.g. tsprov content hash ./Office")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	meter := newWorkMeter(ctx, "hash "+rest[0], *every, os.Stderr)
	m, err := content.HashDir(ctx, rest[0], func(p content.Progress) { meter.update(p.Files, p.TotalFiles, p.Bytes, p.TotalBytes) })
	meter.done(err)
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

// workMeter shows how long work on files goes: on a terminal a bar of the
// bytes with the files, the rate and the time left; otherwise a plain
// line to w every `every` (0: none) and a last one when the work ends, if
// it lasted that long.
type workMeter struct {
	name  string
	every time.Duration
	w     io.Writer
	start time.Time

	mu                sync.Mutex
	bars              *mpb.Progress
	bar               *mpb.Bar
	files, totalFiles int
	bytes, totalBytes int64
	lastLine          time.Time
	lines             int
}

func newWorkMeter(ctx context.Context, name string, every time.Duration, w io.Writer) *workMeter {
	m := &workMeter{name: name, every: every, w: w, start: time.Now()}
	if onTerminal() {
		m.bars = mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
		m.bar = m.bars.AddBar(0,
			mpb.PrependDecorators(decor.Name(name+" "), decor.CountersKibiByte("% .1f / % .1f"),
				decor.Any(func(decor.Statistics) string {
					m.mu.Lock()
					defer m.mu.Unlock()
					return fmt.Sprintf("  %d/%d files", m.files, m.totalFiles)
				})),
			mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	}
	m.lastLine = m.start
	return m
}

// update tells the meter how far the work has come.
func (m *workMeter) update(files, totalFiles int, bytes, totalBytes int64) {
	m.mu.Lock()
	m.files, m.totalFiles, m.bytes, m.totalBytes = files, totalFiles, bytes, totalBytes
	bar := m.bar
	due := bar == nil && m.every > 0 && time.Since(m.lastLine) >= m.every
	if due {
		m.lastLine = time.Now()
		m.lines++
		m.writeLine("")
	}
	m.mu.Unlock()
	if bar != nil {
		bar.SetTotal(totalBytes, false)
		bar.SetCurrent(bytes)
	}
}

// writeLine prints the plain line, with m.mu held.
func (m *workMeter) writeLine(end string) {
	secs := time.Since(m.start).Seconds()
	rate := int64(0)
	if secs > 0 {
		rate = int64(float64(m.bytes) / secs)
	}
	left := "time left unknown"
	if end != "" {
		left = end
	} else if rate > 0 {
		left = fmt.Sprintf("about %s left", time.Duration(float64(m.totalBytes-m.bytes)/float64(rate)*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(m.w, "%s: %d/%d files, %s of %s, %s/s, %s\n", m.name, m.files, m.totalFiles, sizeText(m.bytes), sizeText(m.totalBytes), sizeText(rate), left)
}

// done ends the meter (err: the work failed).
func (m *workMeter) done(err error) {
	if m.bar != nil {
		if err != nil {
			m.bar.Abort(false)
		} else {
			m.bar.SetTotal(-1, true)
		}
		m.bars.Wait()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.every <= 0 || m.lines == 0 && time.Since(m.start) < m.every {
		return
	}
	end := fmt.Sprintf("done in %s", time.Since(m.start).Round(time.Millisecond))
	if err != nil {
		end = "failed"
	}
	m.writeLine(end)
}
