package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Headers of a webhook delivery.
const (
	SignatureHeader = "X-Tsprov-Signature" // "sha256=" + hex HMAC-SHA256 of the body with the secret
	EventIDHeader   = "X-Tsprov-Event-Id"  // the event's feed position
)

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Hook is an active webhook as a deliverer sees it.
type Hook struct {
	ID, URL, Query, Secret string
	Position               int64
	// Read reads the feed after a position as the webhook's creator sees
	// it: the events of the objects it may read, and the page's position.
	Read func(ctx context.Context, after int64, wait time.Duration) ([]store.Event, int64, error)
}

// Hooks is the store side of a deliverer.
type Hooks interface {
	// Claim returns the active webhooks this deliverer holds the lease of
	// (taking or renewing it); no other deliverer holds them meanwhile.
	Claim(ctx context.Context) ([]Hook, error)
	// Delivered and Failed record progress; an error (the webhook was
	// deleted, dead-lettered, or another deliverer took it) stops its loop.
	Delivered(ctx context.Context, id string, position int64) error
	Failed(ctx context.Context, id string, failures int, lastError string, dead bool) error
}

// Delivery configures a Deliverer.
type Delivery struct {
	Backoff     time.Duration // first retry delay, doubled each failure up to MaxBackoff (default 1s)
	MaxBackoff  time.Duration // default 5m
	MaxFailures int           // consecutive failures before the dead letter (default 10)
	Rescan      time.Duration // how often the stored webhooks are read again (default 5s)
	Timeout     time.Duration // of one POST (default 10s)
	Client      *http.Client
	Allow       Destinations // checked again before each POST
	Encode      func(store.Event) ([]byte, error)
	Logger      *slog.Logger
}

// Deliverer POSTs the events each active webhook selects, in feed order,
// at least once: a webhook's position advances in the store only after
// its receiver answered 2xx.
type Deliverer struct {
	reg   *cim.Registry
	hooks Hooks
	cfg   Delivery
	mu    sync.Mutex
	run   map[string]context.CancelFunc
}

// NewDeliverer returns a deliverer over hooks; Run starts it.
func NewDeliverer(reg *cim.Registry, hooks Hooks, cfg Delivery) *Deliverer {
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{reg: reg, hooks: hooks, cfg: cfg, run: map[string]context.CancelFunc{}}
}

// Run delivers until ctx ends: it claims the active webhooks every Rescan
// and keeps one delivery loop per webhook it holds.
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(d.cfg.Rescan)
	defer tick.Stop()
	for {
		hooks, err := d.hooks.Claim(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("webhooks: read the stored webhooks", "err", err)
		}
		active := map[string]bool{}
		d.mu.Lock()
		for _, h := range hooks {
			active[h.ID] = true
			if _, ok := d.run[h.ID]; ok {
				continue
			}
			hctx, cancel := context.WithCancel(ctx)
			d.run[h.ID] = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.deliver(hctx, h)
				d.mu.Lock()
				delete(d.run, h.ID)
				d.mu.Unlock()
				cancel()
			}()
		}
		for id, cancel := range d.run {
			if !active[id] && err == nil {
				cancel() // deleted, dead-lettered, or its lease lost
			}
		}
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// deliver runs one webhook until ctx ends, it is gone or dead-lettered.
func (d *Deliverer) deliver(ctx context.Context, h Hook) {
	q, err := Parse(d.reg, h.Query)
	if err != nil {
		_ = d.hooks.Failed(ctx, h.ID, d.cfg.MaxFailures, "the query no longer parses: "+err.Error(), true)
		return
	}
	pos := h.Position
	failures := 0
	for ctx.Err() == nil {
		evs, next, err := h.Read(ctx, pos, d.cfg.Rescan)
		if err != nil {
			if ctx.Err() == nil {
				failures++
				if !d.failed(ctx, h, &failures, "read the feed: "+err.Error()) {
					return
				}
			}
			continue
		}
		for _, ev := range evs {
			ok, err := q.Match(ev)
			if err != nil || !ok {
				continue
			}
			for {
				err := d.post(ctx, h, ev)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				failures++
				if !d.failed(ctx, h, &failures, err.Error()) {
					return
				}
			}
			// the position advances only after the receiver's 2xx
			if err := d.hooks.Delivered(ctx, h.ID, ev.Seq); err != nil {
				return // deleted, or the server stops
			}
			failures, pos = 0, ev.Seq
		}
		if next != pos {
			if err := d.hooks.Delivered(ctx, h.ID, next); err != nil {
				return
			}
		}
		pos = next
	}
}

// failed records a failure and waits its backoff; false: stop (dead
// letter, or the webhook is gone).
func (d *Deliverer) failed(ctx context.Context, h Hook, failures *int, msg string) bool {
	dead := *failures >= d.cfg.MaxFailures
	d.cfg.Logger.Warn("webhook: delivery failed", "webhook", h.ID, "failures", *failures, "dead", dead, "err", msg)
	if err := d.hooks.Failed(ctx, h.ID, *failures, msg, dead); err != nil || dead {
		return false
	}
	wait := d.cfg.Backoff << min(*failures-1, 30)
	if wait <= 0 || wait > d.cfg.MaxBackoff {
		wait = d.cfg.MaxBackoff
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// post sends one event; nil only for a 2xx answer.
func (d *Deliverer) post(ctx context.Context, h Hook, ev store.Event) error {
	u, err := url.Parse(h.URL)
	if err != nil {
		return fmt.Errorf("POST %s: %w", h.URL, err)
	}
	if err := d.cfg.Allow.Allow(u); err != nil {
		return err
	}
	body, err := d.cfg.Encode(ev)
	if err != nil {
		return fmt.Errorf("encode event %d: %w", ev.Seq, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", h.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(h.Secret, body))
	req.Header.Set(EventIDHeader, strconv.FormatInt(ev.Seq, 10))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", h.URL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", h.URL, resp.Status)
	}
	return nil
}

// Destinations is the allow rule for webhook URLs: the host names or IP
// addresses (no port) a webhook may POST to, compared without regard to
// case. Empty allows every destination.
type Destinations []string

// Allow reports whether u may receive webhooks; the error, of kind
// errs.Invalid, names the hosts allowed.
func (d Destinations) Allow(u *url.URL) error {
	if len(d) == 0 {
		return nil
	}
	host := u.Hostname()
	for _, h := range d {
		if strings.EqualFold(h, host) {
			return nil
		}
	}
	return errs.Target(errs.Invalid, "URL", "webhooks: %s is not an allowed destination (allowed: %s)", host, strings.Join(d, ", "))
}
