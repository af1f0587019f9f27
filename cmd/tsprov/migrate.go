package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/migrate"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/server"
	"github.com/tsprov/tsprov/schema"
)

// runMigrate copies a SQLite data folder into a PostgreSQL database, with
// a progress bar on stderr, then compares the two (migrate.Diff). The
// servers must be stopped: the copy reads one snapshot of the source, and
// writes made after it are not copied. The copy is one transaction: when
// it fails, the database is left as it was.
func runMigrate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	from := fs.String("from", envOr("TSPROV_DATA", server.DefaultDataDir), "data folder of the SQLite store to copy (env TSPROV_DATA)")
	to := fs.String("to", envOr("TSPROV_DATABASE", ""), "postgres:// URL of the empty database to copy into (env TSPROV_DATABASE)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseNoArgs(fs, args, "migrate takes no arguments"); err != nil {
		return err
	}
	if !server.IsPostgresURL(*to) {
		return usageError{"--to must be a postgres:// URL"}
	}
	dbFile := filepath.Join(*from, server.DatabaseFile)
	if _, err := os.Stat(dbFile); err != nil {
		return fmt.Errorf("no tsprov store in %s: %w", *from, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	reg, err := schema.Registry()
	if err != nil {
		return err
	}
	src, _, err := server.OpenStore(ctx, "", *from, reg)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, where, err := server.OpenStore(ctx, *to, "", reg)
	if err != nil {
		return err
	}
	defer dst.Close()

	progress, finish := progressBar(ctx, "copy    ", *quiet)
	counts, err := migrate.Copy(ctx, reg, src, dst, progress)
	finish()
	if err != nil {
		hint := ""
		if errs.Is(err, errs.Invalid) {
			hint = "; mend those values in the source and run migrate again (see docs/cli.md)"
		}
		return fmt.Errorf("copy %s into %s: %w; nothing was written to the destination%s", dbFile, where, err, hint)
	}
	progress, finish = progressBar(ctx, "compare ", *quiet)
	diffs, err := migrate.Compare(ctx, reg, src, dst, progress)
	finish()
	if err != nil {
		return fmt.Errorf("compare the copy: %w", err)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the copy differs from the source: %s", strings.Join(diffs, "; "))
	}
	fmt.Fprintf(stdout, "copied %d instances, %d change events, %d counters and %d revisions from %s into %s; the copy equals the source\n",
		counts.Instances, counts.Events, counts.Counters, counts.Revisions, dbFile, where)
	if _, err := os.Stat(filepath.Join(*from, secrets.KeyFile)); err == nil && os.Getenv(secrets.EnvKey) == "" {
		fmt.Fprintf(stdout, "secrets are sealed with the key in %s: give it to every server as %s\n", filepath.Join(*from, secrets.KeyFile), secrets.EnvKey)
	}
	return nil
}

// progressBar returns a migrate.Progress that draws a bar on stderr named
// name: items done of the total, percentage, rate and time left; and the
// function that ends it. With quiet, both do nothing.
func progressBar(ctx context.Context, name string, quiet bool) (migrate.Progress, func()) {
	if quiet {
		return nil, func() {}
	}
	bars := mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	bar := bars.AddBar(0,
		mpb.PrependDecorators(decor.Name(name), decor.CountersNoUnit("%d / %d")),
		mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(0, " %.0f objects/s"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
	)
	progress := func(done, total int64) {
		bar.SetTotal(total, false)
		bar.SetCurrent(done)
		if done == total {
			bar.SetTotal(total, true)
		}
	}
	finish := func() {
		bar.Abort(false) // a no-op once complete
		bars.Wait()
	}
	return progress, finish
}
