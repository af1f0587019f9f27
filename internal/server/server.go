// Package server assembles a running tsprov server: the store, the
// provider, the AdminService handler, health and metrics endpoints, request
// logging, and graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/console"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/odata"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/schema"
)

// Config is everything a server needs. Zero values take the defaults.
type Config struct {
	DataDir    string // folder that holds the SQLite database (default ./tsprov-data)
	Database   string // PostgreSQL URL (postgres://…); empty: the SQLite file in DataDir
	Listen     string // host:port (default 127.0.0.1:8080)
	SiteCode   string // default PS1
	ParentSite string // the site this one reports to in a hierarchy; "" for none
	// LockTimeout is how long a SEDO lock lives after its holder's last
	// activity (0: 30 minutes).
	LockTimeout time.Duration
	ServerName  string // default: the host name
	PageSize    int    // default adminservice.DefaultPageSize
	Logger      *slog.Logger

	// AdminToken, when set, is the API token of the first Full
	// Administrator created on first start (TSPROV_ADMIN_TOKEN), instead
	// of a random one printed once. It is stored hashed.
	AdminToken string
	// TLSCert and TLSKey are PEM files to serve HTTPS with. Without them a
	// server listening beyond loopback makes a self-signed certificate in
	// DataDir on first start, unless InsecureHTTP allows plain HTTP.
	TLSCert, TLSKey string
	InsecureHTTP    bool
	// Keytab is a Kerberos keytab file: with it, clients may also sign in
	// with HTTP Negotiate (Windows-integrated authentication). SPN, when
	// set (HTTP/host), names the one service principal of the keytab to
	// accept tickets for; empty: any principal the keytab holds.
	Keytab, SPN string
	// RateLimit is the requests per second allowed per credential (an
	// API token; a user signing in with HTTP Basic or Negotiate), with
	// bursts of as many (0: DefaultRateLimit; below 0: no limit).
	RateLimit float64
	// MethodCalls is how many class method calls (ImportSequence,
	// SetSequence, SaveToXml …) run at once; one more waits for a turn up
	// to MethodWait, then is answered 503 with Retry-After (0:
	// adminservice.DefaultMethodCalls() and DefaultMethodWait).
	MethodCalls int
	MethodWait  time.Duration
	// PageBytes bounds the bytes of instances in one collection page
	// (0: adminservice.DefaultPageBytes).
	PageBytes int
	// MemoryLimit is the server's memory budget in bytes, the Go runtime's
	// soft limit (0: DefaultMemoryLimit, or GOMEMLIMIT when set; below 0:
	// none).
	MemoryLimit int64
	// Stdout receives what the operator must see once: the first token,
	// the certificate fingerprint (default os.Stdout; never the log).
	Stdout io.Writer
	// CustomActions is a folder of custom action MOF files (*.mof) whose
	// classes join the schema (schema.WithCustomActions); empty: none.
	CustomActions string
	// PublicURL, when set, begins every absolute URL the server writes
	// (@odata.context, @odata.nextLink, Location): the address clients
	// reach it by through a proxy. Without it, those URLs name the Host a
	// request gives when it is the listen address (any loopback name for
	// a loopback one) or among AllowedHosts, and else the listen address
	// (ServerName and the port when listening on every interface).
	PublicURL    string
	AllowedHosts []string
	// EventRetention is how many of the newest change events the feed
	// keeps (0: provider.DefaultEventRetention; below 0: all); the server
	// trims it every EventTrimInterval.
	EventRetention int64
	// Webhook delivery: the first retry delay, doubled each consecutive
	// failure (0: 1s); the consecutive failures that put a webhook in the
	// dead-letter state (0: 10); how often the stored webhooks are read
	// again and their leases renewed (0: DefaultWebhookRescan; a lease
	// lasts three of them).
	WebhookBackoff     time.Duration
	WebhookMaxFailures int
	WebhookRescan      time.Duration
	// WebhookHosts are the host names or IP addresses webhooks may POST
	// to (empty: any).
	WebhookHosts []string
	// HistoryKeep is how many of the newest revisions of each task
	// sequence package the history keeps (0: all).
	HistoryKeep int64
	// ContentDir is the folder of the content library that package
	// sources are snapshotted into (default: "content" in DataDir).
	ContentDir string
	// Distribution: how often the distribution manager looks for due jobs
	// (0: DefaultDistributionInterval) and the first retry delay of a job,
	// doubled each further attempt (0: 2s).
	DistributionInterval time.Duration
	DistributionBackoff  time.Duration
}

// DefaultWebhookRescan is how often a server reads the stored webhooks
// again by default.
const DefaultWebhookRescan = 5 * time.Second

// EventTrimInterval is how often a server trims the change feed to its
// retention.
const EventTrimInterval = time.Minute

// ContentCollectInterval is how often a server removes from the content
// library the files no content holds.
const ContentCollectInterval = time.Hour

// Defaults of Config.
const (
	DefaultDataDir  = "./tsprov-data"
	DefaultListen   = "127.0.0.1:8080"
	DefaultSiteCode = "PS1"
	databaseFile    = "tsprov.db"
	shutdownGrace   = 10 * time.Second
)

// origin is how the absolute URLs of answers begin (Config.PublicURL):
// the public URL, or a Host among AllowedHosts and the names of the
// listening address addr, or else that address.
func origin(cfg Config, addr net.Addr) adminservice.Origin {
	o := adminservice.Origin{PublicURL: cfg.PublicURL, Hosts: cfg.AllowedHosts, Fallback: addr.String()}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return o
	}
	port := strconv.Itoa(tcp.Port)
	switch {
	case tcp.IP.IsUnspecified():
		o.Fallback = net.JoinHostPort(cfg.ServerName, port)
	case tcp.IP.IsLoopback():
		for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
			o.Hosts = append(o.Hosts, net.JoinHostPort(name, port))
		}
	}
	o.Hosts = append(o.Hosts, o.Fallback)
	return o
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.SiteCode == "" {
		c.SiteCode = DefaultSiteCode
	}
	if c.ServerName == "" {
		c.ServerName, _ = os.Hostname()
		if c.ServerName == "" {
			c.ServerName = "localhost"
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
}

// registry is the class registry the server runs on: the embedded schema
// and the custom actions of cfg.CustomActions.
func (c *Config) registry() (*cim.Registry, error) {
	reg, err := schema.WithCustomActions(c.CustomActions)
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return reg, nil
}

// Run serves until ctx is cancelled, then shuts down gracefully: requests
// in flight finish (up to a grace period) and the store is closed. ready,
// when not nil, is called with the listening address once requests are
// accepted.
//
// The first start is all or nothing: the address is bound before anything
// is created, the store is made ready (built-in roles, the first
// administrator) in one transaction once everything else is in place, and
// the first administrator's token is printed only then. A start that
// fails leaves no token spent: the next one prints it.
func Run(ctx context.Context, cfg Config, ready func(addr string)) (err error) {
	cfg.applyDefaults()
	log := cfg.Logger
	memLimit := applyMemoryLimit(cfg.MemoryLimit, log)
	reg, err := cfg.registry()
	if err != nil {
		return err
	}
	kerb, err := negotiator(cfg)
	if err != nil {
		return err
	}
	ln, err := listen(cfg.Listen)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	links := origin(cfg, ln.Addr())
	if err := links.Check(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	st, where, err := openStore(ctx, cfg, reg)
	if err != nil {
		return err
	}
	defer st.Close()

	box, created, err := secrets.Load(cfg.DataDir)
	if err != nil {
		return err
	}
	if created {
		log.Info("created the key that encrypts task sequence secrets; back it up with the database", "file", filepath.Join(cfg.DataDir, secrets.KeyFile))
	}
	contentDir := cfg.ContentDir
	if contentDir == "" {
		contentDir = filepath.Join(cfg.DataDir, "content")
	}
	lib, err := content.Open(contentDir)
	if err != nil {
		return err
	}
	if err := lib.Protect(cfg.DataDir); err != nil { // the database and the secret key are no package source
		return err
	}
	prov, err := provider.New(provider.Config{
		Registry: reg, Store: st, SiteCode: cfg.SiteCode, ParentSite: cfg.ParentSite, LockTimeout: cfg.LockTimeout, ServerName: cfg.ServerName, Logger: log, Secrets: box,
		EventRetention: cfg.EventRetention, WebhookHosts: cfg.WebhookHosts, HistoryKeep: cfg.HistoryKeep, Content: lib,
		Distribution: distribution.Options{Backoff: cfg.DistributionBackoff},
	})
	if err != nil {
		return err
	}
	if err := prov.RegisterSite(ctx); err != nil {
		return err
	}
	tlsConf, selfSigned, fingerprint, err := transport(&cfg)
	if err != nil {
		return err
	}
	turns := adminservice.NewTurns(cfg.MethodCalls, cfg.MethodWait) // one bound for the method calls of both roots
	api, err := adminservice.NewHandler(prov, adminservice.Options{
		PageSize: cfg.PageSize, PageBytes: cfg.PageBytes, Turns: turns,
		Logger: log, Origin: links,
	})
	if err != nil {
		return fmt.Errorf("build AdminService handler: %w", err)
	}
	strict, err := odata.NewHandler(prov, odata.Options{
		PageSize: cfg.PageSize, PageBytes: cfg.PageBytes, Turns: turns, Logger: log, Origin: links,
	})
	if err != nil {
		return fmt.Errorf("build OData handler: %w", err)
	}
	if err := bootstrap(ctx, prov, cfg); err != nil {
		return err
	}

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle(odata.Prefix, strict)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
	mux.Handle("/", api) // /AdminService/ in any casing, /tsprov/v1/, and the OData 404 for the rest

	commented := adminservice.Comments(mux, func(w http.ResponseWriter, r *http.Request, err error) { adminservice.WriteError(w, r, log, err) })
	signedIn := authenticate(adminservice.RefuseUncleanPaths(commented, log), prov, kerb, auth.NewThrottle(failedSignIns, failureWindow), limiter(cfg.RateLimit), log)
	ui, err := console.Load()
	if err != nil {
		return fmt.Errorf("the web console's assets: %w", err)
	}
	// the console's pages and assets need no credentials (they hold no
	// data); everything else is signed in
	sameOrigin, err := refuseCrossOrigin(ui.Handler(signedIn), cfg.PublicURL, log)
	if err != nil {
		return err
	}
	srv := newHTTPServer(observe(sameOrigin, metrics, log), log)
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		// HTTP/1.1 only: net/http sees each connection through
		// envelopeConn (rawerrors.go), not as a *tls.Conn, so it must not
		// be offered HTTP/2; the handlers learn of TLS from the context.
		tlsConf.NextProtos = []string{"http/1.1"}
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return adminservice.WithHTTPS(ctx) }
		ln = tls.NewListener(ln, tlsConf)
		if selfSigned != "" {
			fmt.Fprintf(cfg.Stdout, "tsprov: serving HTTPS with the self-signed certificate %s\n  SHA-256 fingerprint %s\n  (clients: curl --cacert %s, tsprov --cacert %s)\n", selfSigned, fingerprint, selfSigned, selfSigned)
		}
		log.Info("TLS", "certificate", cmpOr(selfSigned, cfg.TLSCert), "sha256", fingerprint)
	} else if !isLoopback(cfg.Listen) {
		log.Warn("serving plain HTTP beyond loopback (--insecure-http): credentials cross the network in clear text")
	}
	ln = envelopeListener{ln}
	log.Info("tsprov serving", "url", scheme+"://"+ln.Addr().String()+adminservice.Prefix, "site", prov.SiteCode(), "data", cfg.DataDir, "store", where, "memory_limit", memLimit)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	trimCtx, stopTrim := context.WithCancel(ctx)
	trimmed := make(chan struct{})
	go func() { defer close(trimmed); trimEvents(trimCtx, prov, log) }()
	defer func() { stopTrim(); <-trimmed }()
	delivered := make(chan struct{})
	go func() { defer close(delivered); newDeliverer(prov, cfg, log).Run(trimCtx) }()
	defer func() { stopTrim(); <-delivered }()
	distributed := make(chan struct{})
	go func() { defer close(distributed); newDistributor(prov, st, cfg, log).Run(trimCtx) }()
	defer func() { stopTrim(); <-distributed }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// trimEvents trims the change feed to its retention at once and every
// EventTrimInterval until ctx ends; every ContentCollectInterval it also
// removes from the content library what no content holds.
func trimEvents(ctx context.Context, prov *provider.Provider, log *slog.Logger) {
	var lastCollect time.Time
	tick := time.NewTicker(EventTrimInterval)
	defer tick.Stop()
	for {
		if n, err := prov.TrimEvents(ctx); err != nil && ctx.Err() == nil {
			log.Warn("trimming the change feed failed", "err", err)
		} else if n > 0 {
			log.Info("trimmed the change feed to its retention", "removed", n)
		}
		if time.Since(lastCollect) >= ContentCollectInterval {
			lastCollect = time.Now()
			if st, err := prov.CollectContent(ctx); err != nil && ctx.Err() == nil {
				log.Warn("collecting the content library failed", "err", err)
			} else if st.Blobs+st.Manifests+st.Temporary > 0 {
				log.Info("removed from the content library what no content holds", "manifests", st.Manifests, "files", st.Blobs, "bytes", st.Bytes, "temporary", st.Temporary)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// listen binds the server's address. A taken address is refused in one
// line that says what to do.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("listen on %s: the address is already in use (another tsprov serve?); choose another with --listen", addr)
	case err != nil:
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
