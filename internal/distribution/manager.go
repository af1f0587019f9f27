package distribution

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Dispatch is what a server tells a DP agent: act on one job now.
type Dispatch struct {
	NALPath   string `json:"nalPath"`
	PackageID string `json:"packageId"`
	// Action is "install" (ContentID) or "remove".
	Action    string `json:"action"`
	ContentID string `json:"contentId,omitempty"`
	// Attempt counts the dispatches of the job: one server sends each.
	Attempt int64  `json:"attempt"`
	Driver  string `json:"driver"`
}

// Notifier tells the agent at url about a dispatch. Outcomes: nil when the
// agent took it; an error when it could not be reached or refused.
type Notifier interface {
	Notify(ctx context.Context, url string, d Dispatch) error
}

// Contents finds the content a package must have on its DPs: its id
// <PackageID>.<SourceVersion>. Outcomes: the id; errs.NotFound when the
// package has no content (yet); another error.
type Contents func(ctx context.Context, tx store.ReadTx, packageClass, packageID string) (string, error)

// Manager drives the jobs of a store for one server.
type Manager struct {
	s        *Service
	st       store.Store
	holder   string
	notify   Notifier
	contents Contents
	interval time.Duration
	log      *slog.Logger
	wake     chan struct{}
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Holder names this server process in the jobs' leases: unique among
	// the servers sharing the store.
	Holder   string
	Notifier Notifier
	// Contents (nil: CurrentBySourceVersion).
	Contents Contents
	// Interval is how often the manager looks for due jobs and packages
	// whose DPs hold an older version (0: 2s).
	Interval time.Duration
	Logger   *slog.Logger
}

// NewManager returns a manager of the jobs in st.
func (s *Service) NewManager(st store.Store, cfg ManagerConfig) *Manager {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Manager{s: s, st: st, holder: cfg.Holder, notify: cfg.Notifier, contents: cfg.Contents,
		interval: cfg.Interval, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if m.contents == nil {
		m.contents = s.CurrentBySourceVersion
	}
	return m
}

// CurrentBySourceVersion is the content of a package as its SourceVersion
// names it: <PackageID>.<SourceVersion>.
func (s *Service) CurrentBySourceVersion(ctx context.Context, tx store.ReadTx, packageClass, packageID string) (string, error) {
	c, ok := s.reg.Class(packageClass)
	if !ok || !c.IsA(packageBase) {
		return "", errs.E(errs.NotFound, "%q is not a package class", packageClass)
	}
	rec, err := tx.Get(ctx, c, packageID, false)
	if err != nil {
		return "", err
	}
	v := rec.Instance.Int("SourceVersion")
	if v < 1 {
		return "", errs.E(errs.NotFound, "package %s has no content yet", packageID)
	}
	return fmt.Sprintf("%s.%d", rec.Instance.String("PackageID"), v), nil
}

// Wake makes the manager look for work now.
func (m *Manager) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run drives jobs until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		if _, err := m.Step(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("distribution: step failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

// Step does one round: queues the DPs whose package has a newer content
// than they hold, then claims and dispatches every due job no other
// server holds. Outcomes: how many jobs this server dispatched; the first
// error of the store.
func (m *Manager) Step(ctx context.Context) (int, error) {
	if err := m.reconcile(ctx); err != nil {
		return 0, err
	}
	var due []*cim.Instance
	err := m.st.Read(ctx, func(tx store.ReadTx) error {
		recs, err := tx.List(ctx, m.s.job, store.ListOptions{})
		now := m.s.now()
		for _, r := range recs {
			if isDue(r.Instance, now) {
				due = append(due, r.Instance)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range due {
		d, url, ok, err := m.claim(ctx, j.Key())
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		n++
		if err := m.notify.Notify(ctx, url, d); err != nil {
			m.log.Info("distribution: agent not reached", "dp", d.NALPath, "package", d.PackageID, "attempt", d.Attempt, "err", err)
			if err := m.failed(ctx, j.Key(), d.Attempt, "agent not reached: "+err.Error()); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// isDue reports whether a job needs a dispatch at now: pending and its
// next attempt come, or in progress with its lease run out (its server
// stopped or its agent fell silent).
func isDue(j *cim.Instance, now time.Time) bool {
	switch j.Int("State") {
	case jobPending:
		return !now.Before(timeOf(j, "NextAttempt"))
	case jobInProgress:
		return !now.Before(timeOf(j, "LeaseUntil"))
	}
	return false
}

// claim takes the job for this server if it is still due, in one write
// transaction: its read waits for any other writer of the row, so two
// servers never both take one attempt.
func (m *Manager) claim(ctx context.Context, key string) (d Dispatch, url string, ok bool, err error) {
	err = m.st.Write(ctx, func(tx store.Tx) error {
		ok = false
		j, err := get(ctx, tx, m.s.job, key)
		if err != nil || j == nil {
			return err
		}
		now := m.s.now()
		if !isDue(j, now) {
			return nil
		}
		dp, err := m.s.Lookup(ctx, tx, j.String("NALPath"))
		if err != nil {
			return err
		}
		d = Dispatch{NALPath: dp.NALPath, PackageID: j.String("PackageID"), Action: "install", Attempt: j.Int("Attempt") + 1, Driver: m.holder}
		if j.Int("Action") == ActionRemove {
			d.Action = "remove"
		} else {
			content, err := m.contents(ctx, tx, j.String("PackageClass"), d.PackageID)
			if errs.Is(err, errs.NotFound) {
				j.Set("Attempt", d.Attempt)
				return m.s.retry(ctx, tx, j, errs.Message(err), now)
			}
			if err != nil {
				return err
			}
			d.ContentID = content
		}
		j.Set("Attempt", d.Attempt)
		j.Set("State", int64(jobInProgress))
		j.Set("ContentID", d.ContentID)
		j.Set("Driver", m.holder)
		j.Set("LeaseUntil", dateTime(now.Add(m.s.opts.Lease)))
		if err := put(ctx, tx, j); err != nil {
			return err
		}
		url, ok = dp.URL, true
		return nil
	})
	return d, url, ok, err
}

// failed ends an attempt this server dispatched and the agent did not
// take.
func (m *Manager) failed(ctx context.Context, key string, attempt int64, why string) error {
	return m.st.Write(ctx, func(tx store.Tx) error {
		j, err := get(ctx, tx, m.s.job, key)
		if err != nil || j == nil || j.Int("Attempt") != attempt || j.String("Driver") != m.holder || j.Int("State") != jobInProgress {
			return err
		}
		if err := m.s.retry(ctx, tx, j, why, m.s.now()); err != nil {
			return err
		}
		return m.s.message(ctx, tx, j.String("PackageID"), j.String("NALPath"), j.String("SiteCode"), 0, MessageError, msgFailed, why, Progress{})
	})
}

// reconcile queues again every DP whose package has a content other than
// the one it holds (a refresh made a new SourceVersion) and that has no
// job: the content side need not call distribution.
func (m *Manager) reconcile(ctx context.Context) error {
	type stale struct{ pkg, class, path string }
	var todo []stale
	err := m.st.Read(ctx, func(tx store.ReadTx) error {
		rows, err := tx.List(ctx, m.s.assign, store.ListOptions{})
		if err != nil || len(rows) == 0 {
			return err
		}
		jobs, err := tx.List(ctx, m.s.job, store.ListOptions{})
		if err != nil {
			return err
		}
		busy := map[string]bool{}
		for _, j := range jobs {
			busy[strings.ToLower(j.Instance.String("PackageID")+"\x00"+j.Instance.String("NALPath"))] = true
		}
		sums, err := tx.List(ctx, m.s.summary, store.ListOptions{})
		if err != nil {
			return err
		}
		held := map[string]*cim.Instance{}
		for _, r := range sums {
			held[strings.ToLower(r.Instance.String("PackageID")+"\x00"+r.Instance.String("ServerNALPath"))] = r.Instance
		}
		for _, r := range rows {
			id, path := r.Instance.String("PackageID"), r.Instance.String("ServerNALPath")
			k := strings.ToLower(id + "\x00" + path)
			sum := held[k]
			if busy[k] || sum == nil || State(sum.Int("State")) != Installed {
				continue
			}
			class := m.s.classOf(r.Instance.Int("ObjectTypeID"))
			content, err := m.contents(ctx, tx, class, id)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if v, err := SourceVersion(id, content); err == nil && v != sum.Int("SourceVersion") {
				todo = append(todo, stale{id, class, path})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range todo {
		err := m.st.Write(ctx, func(tx store.Tx) error {
			j := newInstance(m.s.job)
			j.Set("PackageID", t.pkg)
			j.Set("NALPath", t.path)
			if cur, err := get(ctx, tx, m.s.job, j.Key()); err != nil || cur != nil {
				return err // another server queued it meanwhile
			}
			return m.s.Refresh(ctx, tx, t.pkg, t.class, t.path)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// classOf is the package class of a secured object type (ObjectTypeID).
func (s *Service) classOf(typeID int64) string {
	for _, c := range s.reg.Classes() {
		if t, ok := c.ObjectTypeID(); ok && t == typeID && c.IsA(packageBase) {
			return c.Name
		}
	}
	return ""
}
