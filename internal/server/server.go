// Package server assembles a running tsprov server: the store, the
// provider, the AdminService handler, health and metrics endpoints, request
// logging, and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// Config is everything a server needs. Zero values take the defaults.
type Config struct {
	DataDir    string // folder that holds the SQLite database (default ./tsprov-data)
	Listen     string // host:port (default 127.0.0.1:8080)
	SiteCode   string // default PS1
	ServerName string // default: the host name
	PageSize   int    // default adminservice.DefaultPageSize
	Logger     *slog.Logger
}

// Defaults of Config.
const (
	DefaultDataDir  = "./tsprov-data"
	DefaultListen   = "127.0.0.1:8080"
	DefaultSiteCode = "PS1"
	databaseFile    = "tsprov.db"
	shutdownGrace   = 10 * time.Second
)

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
}

// Run serves until ctx is cancelled, then shuts down gracefully: requests
// in flight finish (up to a grace period) and the store is closed. ready,
// when not nil, is called with the listening address once requests are
// accepted.
func Run(ctx context.Context, cfg Config, ready func(addr string)) error {
	cfg.applyDefaults()
	log := cfg.Logger
	reg, err := schema.Registry()
	if err != nil {
		return fmt.Errorf("load schema: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, databaseFile)
	st, err := sqlite.Open(ctx, dbPath, reg)
	if err != nil {
		return fmt.Errorf("open store %s: %w", dbPath, err)
	}
	defer st.Close()

	prov, err := provider.New(provider.Config{
		Registry: reg, Store: st, SiteCode: cfg.SiteCode, ServerName: cfg.ServerName, Logger: log,
	})
	if err != nil {
		return err
	}
	api, err := adminservice.NewHandler(prov, adminservice.Options{PageSize: cfg.PageSize, Logger: log})
	if err != nil {
		return fmt.Errorf("build AdminService handler: %w", err)
	}

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/AdminService/", api)
	mux.Handle("/adminservice/", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
	mux.Handle("/", api) // other casings of /AdminService, and the OData 404 for the rest

	srv := &http.Server{
		Handler:           observe(mux, metrics, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	log.Info("tsprov serving", "url", "http://"+ln.Addr().String()+adminservice.Prefix, "site", prov.SiteCode(), "data", cfg.DataDir)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
