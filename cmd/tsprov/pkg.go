package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

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
// it left: its id, SourceVersion, files, size and hash.
func pkgRefresh(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("pkg refresh")
	rest, err := parseArgs(fs, args, 1, "pkg refresh takes one package ID, e.g. tsprov pkg refresh PS100004")
	if err != nil {
		return err
	}
	id := rest[0]
	ctx := context.Background()
	c := cf.client()
	class, pkg, err := findPackage(ctx, c, id)
	if err != nil {
		return err
	}
	done := spinner(fmt.Sprintf("refreshing %s from %v ", id, pkg["PkgSourcePath"]))
	var res map[string]any
	err = c.Call(ctx, http.MethodPost, "/AdminService/wmi/"+client.KeyPath(class, id)+"/AdminService.RefreshPkgSource", map[string]any{}, &res)
	done()
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
	return nil
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

// spinner shows name and the time spent on a terminal until done is
// called.
func spinner(name string) (done func()) {
	if !onTerminal() {
		return func() {}
	}
	p := mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(20))
	bar := p.New(0, mpb.SpinnerStyle(), mpb.PrependDecorators(decor.Name(name)), mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO)), mpb.BarRemoveOnComplete())
	return func() { bar.SetTotal(-1, true); p.Wait() }
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
