// Package dp is the distribution point agent (tsprov dp serve): a process
// of its own that registers with its site server, pulls the contents the
// site assigns it (only the files whose hash it lacks, each verified,
// resuming a download cut short), reports its state, and serves clients
// with the ConfigMgr URL forms (/SMS_DP_SMSPKG$/…).
package dp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
)

// Config configures an agent.
type Config struct {
	Listen   string // host:port to serve clients on
	Store    string // folder of the DP's library
	Provider string // the site server's base URL (http(s)://host:port)
	Token    string // an API token with Distribute on packages
	// Host is the DP's server name in its NAL path (default: the host of
	// Listen, or the machine's name when Listen is every interface).
	Host string
	// Site is the site code (default: the server's).
	Site string
	// URL is where clients and the site reach the agent (default:
	// http://Listen, with the address it listens on).
	URL string
	// Poll is how often the agent asks the site what to hold when no
	// dispatch wakes it (0: 30s).
	Poll time.Duration
	// ReportEvery is how often progress is reported while a content is
	// fetched (0: 1s).
	ReportEvery time.Duration
	// Parallel is how many blobs are fetched at once (0: 4).
	Parallel int
	Version  string
	Client   *http.Client
	Logger   *slog.Logger
	// Progress, when not nil, is told how a fetch goes (progress bars).
	Progress func(Progress)
}

// Agent is a running DP agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	lib     *library
	site    *site
	nalPath string
	wake    chan struct{}
	buffers sync.Pool

	received   atomic.Int64 // content bytes received from the site
	mu         sync.Mutex
	dispatches []distribution.Dispatch
	confirmed  map[string]bool // contents held and reported installed in this run
}

// Status is what GET /tsprov-dp/v1/status answers.
type Status struct {
	NALPath       string                  `json:"nalPath"`
	BytesReceived int64                   `json:"bytesReceived"`
	Packages      map[string]string       `json:"packages"`
	Dispatches    []distribution.Dispatch `json:"dispatches"`
}

// StatusPath is the agent's own status route.
const StatusPath = "/tsprov-dp/v1/status"

// Run starts the agent and serves until ctx ends. ready, when not nil, is
// called with the address served once the agent is registered.
func Run(ctx context.Context, cfg Config, ready func(addr string)) error {
	if cfg.Store == "" || cfg.Provider == "" || cfg.Token == "" {
		return errors.New("dp serve: --store, --provider and --token are required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16, ResponseHeaderTimeout: time.Minute}}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	lib, err := openLibrary(cfg.Store)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("dp serve: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	if cfg.URL == "" {
		cfg.URL = "http://" + ln.Addr().String()
	}
	if cfg.Host == "" {
		cfg.Host = addr.IP.String()
		if addr.IP.IsUnspecified() {
			cfg.Host, _ = os.Hostname()
		}
		cfg.Host = strings.ReplaceAll(cfg.Host, ":", "-") // an IPv6 address is no NAL host
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, lib: lib, wake: make(chan struct{}, 1), confirmed: map[string]bool{},
		site: &site{base: strings.TrimSuffix(cfg.Provider, "/"), token: cfg.Token, client: cfg.Client}}

	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	defer srv.Close()

	if err := a.register(ctx); err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	a.log.Info("DP agent serving", "url", cfg.URL, "nal", a.nalPath, "store", cfg.Store)
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); a.loop(ctx) }()
	select {
	case err := <-errc:
		return fmt.Errorf("dp serve: %w", err)
	case <-ctx.Done():
	}
	<-loopDone
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// register announces the agent to the site, again and again until the
// site answers (it may start later than the agent); a refusal (a bad
// token, a bad name) ends the agent.
func (a *Agent) register(ctx context.Context) error {
	wait := 250 * time.Millisecond
	for {
		r, err := a.site.register(ctx, a.cfg.Host, a.cfg.Site, a.cfg.URL, a.cfg.Version)
		if err == nil {
			a.nalPath = r.NALPath
			return nil
		}
		var se *siteError
		if errors.As(err, &se) && se.Status/100 == 4 {
			return fmt.Errorf("dp serve: the site refused the registration: %s", se.Message)
		}
		a.log.Warn("DP: site not reached, retrying", "provider", a.cfg.Provider, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// loop syncs at start, on each dispatch, and every Poll.
func (a *Agent) loop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Poll)
	defer t.Stop()
	for {
		if err := a.sync(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("DP: sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-t.C:
		}
	}
}

// sync asks the site what the DP must hold, installs what it lacks and
// removes what it must no longer hold, reporting each.
func (a *Agent) sync(ctx context.Context) error {
	list, err := a.site.assignments(ctx, a.nalPath)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	pending := map[string]bool{}
	for _, as := range list {
		want[strings.ToUpper(as.PackageID)] = true
		pending[strings.ToUpper(as.ContentID)] = true
	}
	if err := a.lib.unpend(pending); err != nil {
		return err
	}
	for _, as := range list {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = a.install(ctx, as) // reported; the next dispatch retries
	}
	held := a.lib.packages()
	for _, pkg := range sortedKeys(held) {
		if want[pkg] {
			continue
		}
		if err := a.lib.remove(pkg); err != nil {
			return err
		}
		a.log.Info("DP: package removed", "package", pkg, "content", held[pkg])
		if err := a.report(ctx, report{PackageID: pkg, Kind: "removed"}); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) report(ctx context.Context, r report) error {
	r.NALPath = a.nalPath
	err := a.site.report(ctx, r)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("DP: report not delivered", "kind", r.Kind, "content", r.ContentID, "err", err)
	}
	return err
}

func (a *Agent) showProgress(p Progress) {
	if a.cfg.Progress != nil {
		a.cfg.Progress(p)
	}
}

// notify serves POST /tsprov-dp/v1/notify: a dispatch from the site,
// which makes the agent sync now.
func (a *Agent) notify(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		a.writeError(w, r, errs.E(errs.MethodNotAllowed, "%s: a dispatch is POSTed", r.Method))
		return
	}
	var d distribution.Dispatch
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&d); err != nil {
		a.writeError(w, r, errs.Wrap(errs.Invalid, err, "a dispatch is a JSON object"))
		return
	}
	a.mu.Lock()
	a.dispatches = append(a.dispatches, d)
	delete(a.confirmed, strings.ToUpper(d.ContentID)) // a dispatch wants an answer, even about content held
	a.mu.Unlock()
	if m, ok := a.lib.current(d.PackageID); ok && d.Action == "install" && strings.EqualFold(m.ContentID, d.ContentID) {
		// The content held is sent again (RefreshNow, a redistribution):
		// every file of it is checked again, the damaged ones fetched.
		a.lib.unverify(m)
	}
	a.wakeUp()
	w.WriteHeader(http.StatusAccepted)
}

// buffer returns a 256 KiB buffer of the pool (put it back).
func (a *Agent) buffer() *[]byte {
	if b, ok := a.buffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 256<<10)
	return &b
}

// wakeUp makes the agent sync now.
func (a *Agent) wakeUp() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// status serves GET /tsprov-dp/v1/status.
func (a *Agent) status(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	st := Status{NALPath: a.nalPath, BytesReceived: a.received.Load(), Packages: a.lib.packages(),
		Dispatches: append([]distribution.Dispatch{}, a.dispatches...)}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}
