package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/tsprov/tsprov/internal/server"
)

// envInt reads a whole number from the environment variable name (0 when
// unset or not a number).
func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// runServe runs the server until SIGINT or SIGTERM. Settings come from the
// environment (TSPROV_DATA, TSPROV_DATABASE, TSPROV_LISTEN,
// TSPROV_SITE_CODE, TSPROV_PARENT_SITE, TSPROV_LOCK_TIMEOUT, TSPROV_PAGE_SIZE, TSPROV_PAGE_BYTES, TSPROV_METHOD_CALLS,
// TSPROV_MEMORY_LIMIT, TSPROV_PUBLIC_URL, TSPROV_ALLOWED_HOSTS,
// TSPROV_LOG_LEVEL, TSPROV_LOG_FORMAT, TSPROV_CUSTOM_ACTIONS, TSPROV_KEYTAB,
// TSPROV_SPN, TSPROV_EVENT_RETENTION, TSPROV_CONTENT), then from flags.
func runServe(args []string, stdout io.Writer) error {
	var cfg server.Config
	pageSize, _ := strconv.Atoi(envOr("TSPROV_PAGE_SIZE", "0"))
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", envOr("TSPROV_DATA", server.DefaultDataDir), "data folder (holds the SQLite database)")
	fs.StringVar(&cfg.ContentDir, "content", envOr("TSPROV_CONTENT", ""), "folder of the content library package sources are snapshotted into (default: content in the data folder)")
	fs.StringVar(&cfg.Database, "database", envOr("TSPROV_DATABASE", ""), "PostgreSQL URL (postgres://…) to keep the data in; empty: the SQLite file in the data folder")
	fs.StringVar(&cfg.Listen, "listen", envOr("TSPROV_LISTEN", server.DefaultListen), "address to listen on")
	fs.StringVar(&cfg.SiteCode, "site-code", envOr("TSPROV_SITE_CODE", server.DefaultSiteCode), "three-character site code")
	fs.StringVar(&cfg.ParentSite, "parent-site", envOr("TSPROV_PARENT_SITE", ""), "site code of the parent site in a hierarchy on one database (its server must have started once)")
	lockTimeout, err := time.ParseDuration(envOr("TSPROV_LOCK_TIMEOUT", "30m"))
	if err != nil {
		return fmt.Errorf("TSPROV_LOCK_TIMEOUT: %w", err)
	}
	fs.DurationVar(&cfg.LockTimeout, "lock-timeout", lockTimeout, "how long a SEDO lock lives after its holder's last activity")
	fs.IntVar(&cfg.PageSize, "page-size", pageSize, "instances per collection page before @odata.nextLink (0: 1000)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", envOr("TSPROV_TLS_CERT", ""), "PEM certificate to serve HTTPS with (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", envOr("TSPROV_TLS_KEY", ""), "PEM private key of --tls-cert")
	fs.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "serve plain HTTP beyond loopback (credentials cross the network in clear text)")
	fs.StringVar(&cfg.CustomActions, "custom-actions", envOr("TSPROV_CUSTOM_ACTIONS", ""), "folder of custom action MOF files (*.mof) whose step classes join the schema")
	fs.StringVar(&cfg.Keytab, "keytab", envOr("TSPROV_KEYTAB", ""), "Kerberos keytab: also accept Windows-integrated sign-in (HTTP Negotiate)")
	fs.StringVar(&cfg.SPN, "spn", envOr("TSPROV_SPN", ""), "service principal of --keytab to accept tickets for, e.g. HTTP/tsprov.contoso.com (default: any in the keytab)")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 0, "requests per second allowed per credential (API token or user), bursts of as many (0: 2000; -1: no limit)")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr("TSPROV_PUBLIC_URL", ""), "URL clients reach the server by (https://name[:port][/prefix]); it begins every URL in answers")
	allowedHosts := fs.String("allowed-hosts", envOr("TSPROV_ALLOWED_HOSTS", ""), "comma-separated Host header values (name or name:port) that answers may repeat in their URLs; any other gets the listen address")
	fs.IntVar(&cfg.MethodCalls, "method-calls", envInt("TSPROV_METHOD_CALLS"), "class method calls (ImportSequence, SetSequence …) that run at once; more wait up to 10 s, then 503 (0: one per CPU, at least 2)")
	fs.IntVar(&cfg.PageBytes, "page-bytes", envInt("TSPROV_PAGE_BYTES"), "bytes of instances per collection page before @odata.nextLink (0: 4 MiB)")
	fs.Int64Var(&cfg.EventRetention, "event-retention", int64(envInt("TSPROV_EVENT_RETENTION")), "change events the feed keeps, the newest (0: 100000; -1: all); a reader behind them gets 410")
	fs.Int64Var(&cfg.HistoryKeep, "history-keep", int64(envInt("TSPROV_HISTORY_KEEP")), "revisions kept per task sequence package, the newest (0: all); see docs/history-diff-lint-plan.md")
	fs.StringVar(&cfg.ServerName, "server-name", envOr("TSPROV_SERVER_NAME", ""), "the name this server reports (__SERVER, __PATH) and records in the history (default: the host name)")
	fs.DurationVar(&cfg.WebhookBackoff, "webhook-backoff", 0, "wait before a webhook's first retry, doubled each consecutive failure up to 5m (0: 1s)")
	webhookHosts := fs.String("webhook-hosts", envOr("TSPROV_WEBHOOK_HOSTS", ""), "comma-separated host names or IP addresses webhooks may POST to (default: any)")
	fs.IntVar(&cfg.WebhookMaxFailures, "webhook-max-failures", 0, "consecutive failed deliveries that dead-letter a webhook (0: 10)")
	fs.DurationVar(&cfg.DistributionBackoff, "distribution-backoff", 0, "wait before a distribution job's second attempt, doubled each further attempt up to 5m (0: 2s)")
	fs.DurationVar(&cfg.DistributionInterval, "distribution-interval", 0, "how often the distribution manager looks for due jobs when nothing wakes it (0: 2s)")
	memLimit := fs.String("memory-limit", envOr("TSPROV_MEMORY_LIMIT", ""), "memory budget, the Go runtime's soft limit, e.g. 512MiB or 1GiB; off for none (default 512MiB, or GOMEMLIMIT when set)")
	cfg.AdminToken = os.Getenv("TSPROV_ADMIN_TOKEN")
	cfg.Stdout = stdout
	level := fs.String("log-level", envOr("TSPROV_LOG_LEVEL", "info"), "debug, info, warn or error")
	format := fs.String("log-format", envOr("TSPROV_LOG_FORMAT", defaultLogFormat(os.Stderr)), "text or json (default: text when standard error is a terminal, else json)")
	if err := parseNoArgs(fs, args, "serve takes no arguments"); err != nil {
		return err
	}
	for _, h := range strings.Split(*allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.AllowedHosts = append(cfg.AllowedHosts, h)
		}
	}
	for _, h := range strings.Split(*webhookHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.WebhookHosts = append(cfg.WebhookHosts, h)
		}
	}
	if *memLimit != "" {
		n, err := server.ParseByteSize(*memLimit)
		if err != nil {
			return usageError{"--memory-limit: " + err.Error()}
		}
		cfg.MemoryLimit = n
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	logger, err := server.NewLogger(os.Stderr, *format, lvl)
	if err != nil {
		return usageError{"--log-format: " + err.Error()}
	}
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, cfg, nil)
}

// defaultLogFormat is text for a person watching a terminal, JSON for
// anything else (a file, a pipe, a log collector).
func defaultLogFormat(f *os.File) string {
	if isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) {
		return server.LogText
	}
	return server.LogJSON
}
