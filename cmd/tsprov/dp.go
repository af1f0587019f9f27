package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/dp"
	"github.com/tsprov/tsprov/internal/nal"
	"github.com/tsprov/tsprov/internal/server"
)

const dpUsage = "usage: tsprov dp serve|add|status (tsprov help dp)"

func runDP(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{dpUsage}
	}
	switch args[0] {
	case "serve":
		return dpServe(args[1:], stdout)
	case "add":
		return dpAdd(args[1:], stdout)
	case "status":
		return dpStatus(args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown dp command %q; %s", args[0], dpUsage)}
}

// dpServe runs a distribution point agent.
func dpServe(args []string, stdout io.Writer) error {
	var cfg dp.Config
	fs, cf := connectionFlags("dp serve")
	fs.StringVar(&cfg.Listen, "listen", envOr("TSPROV_DP_LISTEN", "127.0.0.1:8090"), "address to serve clients on")
	fs.StringVar(&cfg.Store, "store", envOr("TSPROV_DP_STORE", "./tsprov-dp"), "folder of the distribution point's content library")
	provider := fs.String("provider", envOr("TSPROV_PROVIDER", ""), "the site server's URL (default: --server)")
	fs.StringVar(&cfg.Host, "host", "", "the DP's server name in its NAL path (default: the host of --listen)")
	fs.StringVar(&cfg.Site, "site", "", "site code (default: the server's)")
	fs.StringVar(&cfg.URL, "url", "", "URL clients and the site reach this DP by (default: http://<listen address>)")
	fs.DurationVar(&cfg.Poll, "poll", 30*time.Second, "how often to ask the site what to hold when no dispatch comes")
	fs.IntVar(&cfg.Parallel, "parallel", 4, "files fetched at once")
	quiet := fs.Bool("quiet", false, "no progress bars or progress lines")
	level := fs.String("log-level", envOr("TSPROV_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := parseNoArgs(fs, args, "dp serve takes no arguments"); err != nil {
		return err
	}
	cfg.Provider = *provider
	if cfg.Provider == "" {
		cfg.Provider = cf.server
	}
	cfg.Token = cf.client().Token
	if cfg.Token == "" {
		return usageError{"dp serve: --token (or TSPROV_TOKEN) is required: an API token with Distribute on packages"}
	}
	if cf.cacert != "" {
		cfg.Client = cf.client().HTTP
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	logger, err := server.NewLogger(os.Stderr, defaultLogFormat(os.Stderr), lvl)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	info, _ := debug.ReadBuildInfo()
	cfg.Version = versionLine(info)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*quiet {
		var finish func()
		cfg.Progress, finish = fetchProgress(ctx, stdout)
		defer finish()
	}
	return dp.Run(ctx, cfg, func(addr string) {
		fmt.Fprintf(stdout, "tsprov dp: serving on %s\n", addr)
	})
}

// fetchProgress shows how the agent's fetches go: one bar per content on
// a terminal (files, bytes, rate, time left), a plain line every few
// seconds and at the end otherwise.
func fetchProgress(ctx context.Context, stdout io.Writer) (func(dp.Progress), func()) {
	if !onTerminal() {
		var mu sync.Mutex
		last := map[string]time.Time{}
		return func(p dp.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if !p.Done && time.Since(last[p.ContentID]) < 5*time.Second {
				return
			}
			last[p.ContentID] = time.Now()
			state := "fetching"
			switch {
			case p.Err != nil:
				state = "failed: " + p.Err.Error()
			case p.Done:
				state = "installed"
			}
			fmt.Fprintf(stdout, "%s: %d/%d files, %s of %s, %s/s, %s\n", p.ContentID, p.Files, p.FilesTotal,
				sizeText(p.BytesDone), sizeText(p.BytesTotal), sizeText(p.BytesPerSecond), state)
		}, func() {}
	}
	bars := mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	var mu sync.Mutex
	open := map[string]*mpb.Bar{}
	return func(p dp.Progress) {
			mu.Lock()
			defer mu.Unlock()
			bar := open[p.ContentID]
			if bar == nil {
				if p.Done && p.BytesTotal == 0 {
					return
				}
				files := p.FilesTotal
				bar = bars.AddBar(p.BytesTotal,
					mpb.PrependDecorators(decor.Name(p.ContentID+" "), decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d files ", files) }), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
					mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
				open[p.ContentID] = bar
			}
			bar.SetTotal(p.BytesTotal, false)
			bar.SetCurrent(p.BytesDone)
			if p.Done {
				if p.Err != nil {
					bar.Abort(false)
				} else {
					bar.SetTotal(p.BytesTotal, true)
				}
				delete(open, p.ContentID)
			}
		}, func() {
			mu.Lock()
			for _, b := range open {
				b.Abort(false)
			}
			mu.Unlock()
			bars.Wait()
		}
}

// dpAdd: tsprov dp add ID NAL… assigns a package to distribution points
// (AddDistributionPoints). A DP may be named by its NAL path or by its
// server name as SMS_DistributionPointInfo lists it. --watch then follows
// the distribution as dp status --watch does.
func dpAdd(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("dp add")
	watch := fs.Bool("watch", false, "then follow the distribution until every DP has the package or failed (progress bars on a terminal)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		return usageError{"dp add takes a PackageID and one or more distribution points (NAL paths or server names)"}
	}
	ctx := context.Background()
	c := cf.client()
	id := strings.ToUpper(rest[0])
	var sites, paths []string
	for _, arg := range rest[1:] {
		path := arg
		if !strings.Contains(arg, "MSWNET") && !strings.Contains(strings.ToUpper(arg), "MSWNET") {
			rows, err := c.Collection(ctx, "/AdminService/wmi/"+distribution.InfoClass+"?$filter="+url.QueryEscape("ServerName eq '"+strings.ReplaceAll(arg, "'", "''")+"'"))
			if err != nil {
				return err
			}
			if len(rows) != 1 {
				return fmt.Errorf("no distribution point named %s is registered (tsprov list --class SMS_DistributionPointInfo)", arg)
			}
			path, _ = rows[0]["NALPath"].(string)
		}
		p, err := nal.Parse(path)
		if err != nil {
			return err
		}
		sites = append(sites, p.SiteCode)
		paths = append(paths, path)
	}
	class, _, err := findPackage(ctx, c, id)
	if err != nil {
		return err
	}
	var out map[string]any
	call := class + "('" + id + "')/AdminService.AddDistributionPoints"
	if err := c.Call(ctx, "POST", "/AdminService/wmi/"+call, map[string]any{"SiteCode": sites, "NALPath": paths}, &out); err != nil {
		return err
	}
	if *watch {
		fmt.Fprintf(stdout, "%s assigned to %d distribution point(s)\n", id, len(paths))
		sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return watchStatus(sctx, c, id, 0, stdout)
	}
	fmt.Fprintf(stdout, "%s assigned to %d distribution point(s); tsprov dp status %s shows how it goes\n", id, len(paths), id)
	return nil
}

// dpStatus: tsprov dp status [ID]: without an id, one line per DP (its
// packages installed, in progress, failed); with one, one line per DP that
// holds or gets the package: state, version, bytes, rate. --watch follows
// the package until every DP has it, with progress bars on a terminal.
func dpStatus(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("dp status")
	watch := fs.Bool("watch", false, "with a PackageID: follow until every DP has installed it or failed")
	output := fs.String("output", "table", "table or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usageError{"dp status takes at most one PackageID"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := cf.client()
	if len(rest) == 0 {
		rows, err := c.List(ctx, distribution.StatusInfoClass, client.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range rows {
			r["DP"] = r["Name"]
			r["State"] = messageState(r["MessageState"])
		}
		return writeRows(stdout, *output, rows, []string{"DP", "State", "NumberInstalled", "NumberInProgress", "NumberErrors", "LastStatusTime", "NALPath"})
	}
	id := strings.ToUpper(rest[0])
	if !*watch {
		rows, err := packageStatus(ctx, c, id)
		if err != nil {
			return err
		}
		if *output == "json" {
			return writeRows(stdout, *output, rows, nil)
		}
		return writeStatusTable(stdout, rows)
	}
	return watchStatus(ctx, c, id, 0, stdout)
}

// packageStatus joins, per DP, the package's summary (state, version)
// and its latest status message (bytes, rate, text).
func packageStatus(ctx context.Context, c *client.Client, id string) ([]client.Entity, error) {
	filter := "?$filter=" + url.QueryEscape("PackageID eq '"+strings.ReplaceAll(id, "'", "''")+"'")
	sums, err := c.Collection(ctx, "/AdminService/wmi/"+distribution.SummaryClass+filter)
	if err != nil {
		return nil, err
	}
	msgs, err := c.Collection(ctx, "/AdminService/wmi/"+distribution.DPStatusClass+filter)
	if err != nil {
		return nil, err
	}
	byDP := map[string]client.Entity{}
	for _, m := range msgs {
		k, _ := m["NalPath"].(string)
		byDP[strings.ToLower(k)] = m
	}
	var rows []client.Entity
	for _, s := range sums {
		path, _ := s["ServerNALPath"].(string)
		row := client.Entity{"DP": path, "State": stateName(s["State"]), "Version": s["SourceVersion"], "NALPath": path}
		if p, err := nal.Parse(path); err == nil {
			row["DP"] = p.Host
		}
		if m := byDP[strings.ToLower(path)]; m != nil {
			row["BytesDone"], row["BytesTotal"], row["BytesPerSecond"] = num(m["BytesDone"]), num(m["BytesTotal"]), num(m["BytesPerSecond"])
			row["Message"] = m["InsString2"]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func writeStatusTable(w io.Writer, rows []client.Entity) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DP\tSTATE\tVERSION\tBYTES\tRATE\tMESSAGE")
	for _, r := range rows {
		bytes := fmt.Sprintf("%s / %s", sizeText(num(r["BytesDone"])), sizeText(num(r["BytesTotal"])))
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\t%s/s\t%v\n", r["DP"], r["State"], r["Version"], bytes, sizeText(num(r["BytesPerSecond"])), orEmpty(r["Message"]))
	}
	return tw.Flush()
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// watchStatus follows a package until no DP is pending (and, with
// version > 0, each has installed that SourceVersion or a later one):
// bars on a terminal, a table every few seconds otherwise. It fails when a
// DP failed.
func watchStatus(ctx context.Context, c *client.Client, id string, version int64, stdout io.Writer) error {
	term := onTerminal()
	var bars *mpb.Progress
	open := map[string]*mpb.Bar{}
	if term {
		bars = mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	}
	finish := func() {
		if bars != nil {
			for _, b := range open {
				b.Abort(false)
			}
			bars.Wait()
		}
	}
	defer finish()
	for {
		rows, err := packageStatus(ctx, c, id)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("%s is not assigned to any distribution point (tsprov dp add %s NAL…)", id, id)
		}
		busy, failed := 0, 0
		for _, r := range rows {
			st, _ := r["State"].(string)
			if st == "INSTALLED" && num(r["Version"]) < version {
				st = "CONTENT_UPDATING" // the site has not queued the new version yet
			}
			switch st {
			case "INSTALLED":
			case "INSTALL_FAILED", "REMOVAL_FAILED":
				failed++
			default:
				busy++
			}
			if term {
				name := fmt.Sprint(r["DP"])
				bar := open[name]
				if bar == nil {
					bar = bars.AddBar(0, mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-24s", name)), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
						mpb.AppendDecorators(decor.Percentage(), decor.Any(func(decor.Statistics) string { return " " + st })))
					open[name] = bar
				}
				total := max(num(r["BytesTotal"]), 1)
				bar.SetTotal(total, false)
				bar.SetCurrent(num(r["BytesDone"]))
				if st == "INSTALLED" {
					bar.SetTotal(num(r["BytesDone"]), true)
					delete(open, name)
				}
			}
		}
		if !term {
			if err := writeStatusTable(stdout, rows); err != nil {
				return err
			}
		}
		if busy == 0 {
			if failed > 0 {
				return fmt.Errorf("%s failed on %d distribution point(s) (tsprov dp status %s)", id, failed, id)
			}
			if term {
				finish()
				bars = nil
				return writeStatusTable(stdout, rows)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return n
	}
	return 0
}

func stateName(v any) string {
	return distribution.State(num(v)).String()
}

func messageState(v any) string {
	switch num(v) {
	case distribution.MessageSuccess:
		return "Success"
	case distribution.MessageInProgress:
		return "InProgress"
	case distribution.MessageError:
		return "Error"
	}
	return fmt.Sprint(v)
}
