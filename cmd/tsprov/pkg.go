package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tsprov/tsprov/internal/client"
)

const pkgUsage = "usage: tsprov pkg refresh PACKAGEID"

// packageClasses are the classes a package ID may belong to, most common
// first.
var packageClasses = []string{"SMS_Package", "SMS_DriverPackage", "SMS_ImagePackage", "SMS_BootImagePackage",
	"SMS_OperatingSystemInstallPackage", "SMS_SoftwareUpdatesPackage", "SMS_TaskSequencePackage"}

// runPkg works with packages of any class: refresh takes a new snapshot
// of a package's source (RefreshPkgSource).
func runPkg(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{pkgUsage}
	}
	switch args[0] {
	case "refresh":
		return pkgRefresh(args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown pkg command %q; %s", args[0], pkgUsage)}
}

// pkgRefresh calls RefreshPkgSource on the package and prints the content
// it left: its id, SourceVersion, files, size and hash. While the server
// reads the source it shows how far it has come (a bar on a terminal,
// plain lines on stderr otherwise); --watch then follows the
// distribution of the content to the package's DPs.
func pkgRefresh(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("pkg refresh")
	every := fs.Duration("progress-every", 5*time.Second, "off a terminal, a progress line on stderr this often (0: none)")
	watch := fs.Bool("watch", false, "then follow the distribution to the package's distribution points until each has it or failed")
	rest, err := parseArgs(fs, args, 1, "pkg refresh takes one package ID, e.g. tsprov pkg refresh PS100004")
	if err != nil {
		return err
	}
	id := strings.ToUpper(rest[0])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := cf.client()
	class, _, err := findPackage(ctx, c, id)
	if err != nil {
		return err
	}
	meter := newWorkMeter(ctx, "refresh "+id, *every, os.Stderr)
	polled := make(chan struct{})
	pollCtx, endPoll := context.WithCancel(ctx)
	go func() {
		defer close(polled)
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			followSnapshot(pollCtx, c, id, meter, false)
		}
	}()
	var res map[string]any
	err = c.Call(ctx, http.MethodPost, "/AdminService/wmi/"+client.KeyPath(class, id)+"/AdminService.RefreshPkgSource", map[string]any{}, &res)
	endPoll()
	<-polled
	if err == nil {
		followSnapshot(ctx, c, id, meter, true) // the totals of the snapshot just taken
	}
	meter.done(err)
	if err != nil {
		return err
	}
	var cur struct {
		Current       string `json:"current"`
		SourceVersion int64  `json:"sourceVersion"`
		Hash          string `json:"hash"`
	}
	if err := c.Call(ctx, http.MethodGet, "/tsprov/v1/content/packages/"+url.PathEscape(id), nil, &cur); err != nil {
		return err
	}
	var m struct {
		Files []struct{} `json:"files"`
		Size  int64      `json:"size"`
	}
	if err := c.Call(ctx, http.MethodGet, "/tsprov/v1/content/"+url.PathEscape(cur.Current)+"/manifest", nil, &m); err != nil {
		return err
	}
	what := "new content"
	if w, _ := res["@tsprov.warnings"].([]any); len(w) > 0 {
		what = "source unchanged, content"
	}
	fmt.Fprintf(stdout, "%s: %s %s (SourceVersion %d): %d files, %s, hash %s\n", id, what, cur.Current, cur.SourceVersion, len(m.Files), sizeText(m.Size), cur.Hash)
	if *watch {
		rows, err := packageStatus(ctx, c, id)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			fmt.Fprintf(stdout, "%s is on no distribution point\n", id)
			return nil
		}
		return watchStatus(ctx, c, id, cur.SourceVersion, stdout)
	}
	return nil
}

// followSnapshot reads how far the server's snapshot of package id has
// come (GET /tsprov/v1/content/packages/{id}/snapshot) into meter; no
// snapshot under way yet, or an error, changes nothing. Until the refresh
// has answered (ended false) a finished snapshot is an earlier one's.
func followSnapshot(ctx context.Context, c *client.Client, id string, meter *workMeter, ended bool) {
	var sp struct {
		Done       bool  `json:"done"`
		Files      int   `json:"files"`
		TotalFiles int   `json:"totalFiles"`
		Bytes      int64 `json:"bytes"`
		TotalBytes int64 `json:"totalBytes"`
	}
	if c.Call(ctx, http.MethodGet, "/tsprov/v1/content/packages/"+url.PathEscape(id)+"/snapshot", nil, &sp) == nil && (ended || !sp.Done) {
		meter.update(sp.Files, sp.TotalFiles, sp.Bytes, sp.TotalBytes)
	}
}

// findPackage reads package id from whichever package class holds it.
func findPackage(ctx context.Context, c *client.Client, id string) (string, client.Entity, error) {
	for _, class := range packageClasses {
		e, err := c.Get(ctx, class, id)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return class, e, nil
	}
	return "", nil, fmt.Errorf("there is no package %s", id)
}

// sizeText is a byte count for people: 56.7 MiB.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
