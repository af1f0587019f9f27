package distribution_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/nal"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// backend opens stores of one kind; open called twice for one test gives
// two handles on the same data (two servers, on PostgreSQL).
type backend struct {
	name   string
	shared bool // two handles are two servers
	open   func(t *testing.T, name string) store.Store
}

func backends() []backend {
	return []backend{
		{"sqlite", false, func(t *testing.T, name string) store.Store {
			reg := registry(t)
			dir := filepath.Join(t.TempDir(), name)
			s, err := sqlite.Open(t.Context(), dir, reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", true, func(t *testing.T, name string) store.Store {
			reg := registry(t)
			s, err := postgres.Open(context.Background(), pgtest.URL(t, t.Name()), reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
}

func registry(t *testing.T) *cim.Registry {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// fixture is a store with a service, a package and registered DPs.
type fixture struct {
	t    *testing.T
	reg  *cim.Registry
	st   store.Store
	svc  *distribution.Service
	now  time.Time
	mu   sync.Mutex
	dps  []distribution.DP
	pkgs []*cim.Instance
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T, st store.Store, dps, pkgs int, url string) *fixture {
	f := &fixture{t: t, reg: registry(t), st: st, now: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)}
	svc, err := distribution.New(f.reg, distribution.Options{Backoff: time.Second, MaxBackoff: 8 * time.Second, MaxAttempts: 3, Lease: time.Minute, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	f.write(func(tx store.Tx) error {
		for i := range dps {
			dp, err := svc.Register(t.Context(), tx, distribution.Agent{Host: fmt.Sprintf("DP%d.CONTOSO.COM", i+1), Site: "PS1", URL: url, Version: "test"})
			if err != nil {
				return err
			}
			f.dps = append(f.dps, dp)
		}
		c, _ := f.reg.Class("SMS_Package")
		for i := range pkgs {
			in := cim.NewInstance(c)
			in.Set("PackageID", fmt.Sprintf("PS1%05d", i+1))
			in.Set("Name", fmt.Sprintf("package %d", i+1))
			in.Set("PackageType", int64(0))
			in.Set("SourceVersion", int64(1))
			in.Set("SourceSite", "PS1")
			if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
				return err
			}
			f.pkgs = append(f.pkgs, in)
		}
		return nil
	})
	return f
}

func (f *fixture) write(fn func(tx store.Tx) error) {
	f.t.Helper()
	if err := f.st.Write(f.t.Context(), fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) list(class string) []*cim.Instance {
	f.t.Helper()
	c, _ := f.reg.Class(class)
	var out []*cim.Instance
	err := f.st.Read(f.t.Context(), func(tx store.ReadTx) error {
		recs, err := tx.List(f.t.Context(), c, store.ListOptions{})
		for _, r := range recs {
			out = append(out, r.Instance)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) add(pkg *cim.Instance, dps ...distribution.DP) (int, error) {
	var sites, paths []string
	for _, dp := range dps {
		sites = append(sites, dp.Site)
		paths = append(paths, dp.NALPath)
	}
	var n int
	err := f.st.Write(f.t.Context(), func(tx store.Tx) error {
		var err error
		n, err = f.svc.AddDistributionPoints(f.t.Context(), tx, pkg, sites, paths)
		return err
	})
	return n, err
}

func (f *fixture) summary(pkgID, path string) *cim.Instance {
	for _, s := range f.list(distribution.SummaryClass) {
		if s.String("PackageID") == pkgID && strings.EqualFold(s.String("ServerNALPath"), path) {
			return s
		}
	}
	return nil
}

func (f *fixture) report(r distribution.Report) {
	f.t.Helper()
	f.write(func(tx store.Tx) error { return f.svc.Report(f.t.Context(), tx, r) })
}

func TestRegisterAndAdd(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.open(t, "a"), 3, 1, "http://127.0.0.1:1")
			if got := len(f.list(distribution.ResourceClass)); got != 3 {
				t.Fatalf("%d SMS_SystemResourceList rows, want 3", got)
			}
			for _, r := range f.list(distribution.ResourceClass) {
				if r.String("RoleName") != distribution.RoleName {
					t.Fatalf("RoleName %q", r.String("RoleName"))
				}
				if _, err := nal.Parse(r.String("NALPath")); err != nil {
					t.Fatal(err)
				}
			}
			// Registering again renews the DP; it does not add one.
			f.write(func(tx store.Tx) error {
				_, err := f.svc.Register(t.Context(), tx, distribution.Agent{Host: "dp1.contoso.com", Site: "ps1", URL: "http://127.0.0.1:2"})
				return err
			})
			infos := f.list(distribution.InfoClass)
			if len(infos) != 3 || infos[0].String("URL") != "http://127.0.0.1:2" {
				t.Fatalf("after a second registration: %d DPs, first URL %q", len(infos), infos[0].String("URL"))
			}

			n, err := f.add(f.pkgs[0], f.dps...)
			if err != nil || n != 3 {
				t.Fatalf("AddDistributionPoints = %d, %v", n, err)
			}
			// Adding again, with the NAL path written in another case, adds nothing.
			lower := strings.ToLower(f.dps[1].NALPath)
			var again int
			f.write(func(tx store.Tx) error {
				again, err = f.svc.AddDistributionPoints(t.Context(), tx, f.pkgs[0], []string{"ps1"}, []string{lower})
				return err
			})
			if again != 0 || len(f.list(distribution.AssignmentClass)) != 3 || len(f.list(distribution.JobClass)) != 3 {
				t.Fatalf("re-adding a DP added %d, rows %d", again, len(f.list(distribution.AssignmentClass)))
			}
			for _, dp := range f.dps {
				s := f.summary("PS100001", dp.NALPath)
				if s == nil || distribution.State(s.Int("State")) != distribution.InstallPending {
					t.Fatalf("summary of %s: %v", dp.NALPath, s)
				}
			}
			for _, st := range f.list(distribution.StatusInfoClass) {
				if st.Int("NumberInProgress") != 1 || st.Int("MessageState") != distribution.MessageInProgress {
					t.Fatalf("SMS_DPStatusInfo %s: in progress %d state %d", st.String("NALPath"), st.Int("NumberInProgress"), st.Int("MessageState"))
				}
			}
		})
	}
}

func TestAddRefusesBadPairsAndWritesNothing(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.open(t, "a"), 2, 1, "http://127.0.0.1:1")
			good := f.dps[0].NALPath
			unknown, _ := nal.ForServer("NOPE.CONTOSO.COM", "PS1")
			otherSite, _ := nal.ForServer("DP2.CONTOSO.COM", "PS2")
			tests := []struct {
				name       string
				sites      []string
				paths      []string
				want, prop string
			}{
				{"lengths differ", []string{"PS1", "PS1"}, []string{good}, "parallel arrays", "NALPath"},
				{"empty", nil, nil, "parallel arrays", "NALPath"},
				{"bad NAL", []string{"PS1", "PS1"}, []string{good, `\\DP2.CONTOSO.COM\`}, "does not parse", "NALPath"},
				{"site mismatch", []string{"PS1", "PS2"}, []string{good, f.dps[1].NALPath}, "does not match the site PS1", "SiteCode"},
				{"unknown DP", []string{"PS1", "PS1"}, []string{good, unknown}, "no distribution point", "NALPath"},
				{"DP at another site", []string{"PS2"}, []string{otherSite}, "no distribution point", "NALPath"},
				{"same DP twice", []string{"PS1", "PS1"}, []string{good, strings.ToLower(good)}, "same distribution point", "NALPath"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					err := f.st.Write(t.Context(), func(tx store.Tx) error {
						_, err := f.svc.AddDistributionPoints(t.Context(), tx, f.pkgs[0], tt.sites, tt.paths)
						return err
					})
					if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("err = %v, want Invalid saying %q", err, tt.want)
					}
					if errs.TargetOf(err) != tt.prop {
						t.Errorf("target %q, want %q", errs.TargetOf(err), tt.prop)
					}
					for _, c := range []string{distribution.AssignmentClass, distribution.SummaryClass, distribution.JobClass, distribution.DPStatusClass} {
						if n := len(f.list(c)); n != 0 {
							t.Fatalf("%d %s rows after a refused call", n, c)
						}
					}
				})
			}
		})
	}
}

// agent is a DP agent's notify endpoint, over real HTTP, that records
// every dispatch it is sent.
type agent struct {
	mu   sync.Mutex
	got  []distribution.Dispatch
	down bool
	srv  *httptest.Server
}

func newAgent(t *testing.T) *agent {
	a := &agent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != distribution.NotifyPath || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var d distribution.Dispatch
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.down {
			http.Error(w, "agent busy", http.StatusServiceUnavailable)
			return
		}
		a.got = append(a.got, d)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *agent) dispatches() []distribution.Dispatch {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]distribution.Dispatch(nil), a.got...)
}

func TestJobsInstallRetryAndRemove(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ag := newAgent(t)
			f := newFixture(t, b.open(t, "a"), 1, 1, ag.srv.URL)
			m := f.svc.NewManager(f.st, distribution.ManagerConfig{Holder: "server-a", Notifier: distribution.HTTPNotifier{}})
			dp, pkg := f.dps[0], f.pkgs[0]
			if _, err := f.add(pkg, dp); err != nil {
				t.Fatal(err)
			}
			step := func(want int) {
				t.Helper()
				n, err := m.Step(t.Context())
				if err != nil || n != want {
					t.Fatalf("Step = %d, %v; want %d dispatched", n, err, want)
				}
			}
			step(1)
			step(0) // in flight: not due again until its lease runs out
			d := ag.dispatches()[0]
			if d.Action != "install" || d.ContentID != "PS100001.1" || d.Attempt != 1 || d.Driver != "server-a" {
				t.Fatalf("dispatch %+v", d)
			}
			assigned := func() []distribution.Assignment {
				var out []distribution.Assignment
				err := f.st.Read(t.Context(), func(tx store.ReadTx) error {
					var err error
					out, err = f.svc.Assignments(t.Context(), tx, dp.NALPath)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			if a := assigned(); len(a) != 1 || a[0].ContentID != "PS100001.1" {
				t.Fatalf("assignments %+v", a)
			}

			// A failure: retried after the backoff, with a new attempt.
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportFailed, Error: "disk full"})
			if s := f.summary("PS100001", dp.NALPath); distribution.State(s.Int("State")) != distribution.InstallRetrying {
				t.Fatalf("after a failure: %v", distribution.State(s.Int("State")))
			}
			step(0)
			f.advance(time.Second)
			step(1)
			if d := ag.dispatches()[1]; d.Attempt != 2 {
				t.Fatalf("second dispatch %+v", d)
			}
			// An agent that cannot take the dispatch: the attempt counts.
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportFailed, Error: "hash mismatch"})
			ag.mu.Lock()
			ag.down = true
			ag.mu.Unlock()
			f.advance(2 * time.Second)
			step(1)
			// Three attempts (MaxAttempts): the job fails.
			if s := f.summary("PS100001", dp.NALPath); distribution.State(s.Int("State")) != distribution.InstallFailed {
				t.Fatalf("after three attempts: %v", distribution.State(s.Int("State")))
			}
			f.advance(time.Hour)
			step(0)
			msgs := f.list(distribution.DPStatusClass)
			if len(msgs) != 1 || msgs[0].Int("MessageState") != distribution.MessageError || !strings.Contains(msgs[0].String("InsString2"), "agent not reached") {
				t.Fatalf("status message %v", msgs)
			}

			// A new source version brings the job back.
			ag.mu.Lock()
			ag.down = false
			ag.mu.Unlock()
			f.write(func(tx store.Tx) error { return f.svc.Refresh(t.Context(), tx, "PS100001", "SMS_Package", "") })
			step(1)
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportProgress, Progress: distribution.Progress{BytesDone: 10, BytesTotal: 20, BytesPerSecond: 5}})
			if m := f.list(distribution.DPStatusClass)[0]; m.Int("BytesDone") != 10 || m.Int("MessageState") != distribution.MessageInProgress {
				t.Fatalf("progress message %v", m)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportInstalled})
			s := f.summary("PS100001", dp.NALPath)
			if distribution.State(s.Int("State")) != distribution.Installed || s.Int("SourceVersion") != 1 || len(f.list(distribution.JobClass)) != 0 {
				t.Fatalf("after installed: state %v version %d jobs %d", distribution.State(s.Int("State")), s.Int("SourceVersion"), len(f.list(distribution.JobClass)))
			}
			if st := f.list(distribution.StatusInfoClass)[0]; st.Int("NumberInstalled") != 1 || st.Int("MessageState") != distribution.MessageSuccess {
				t.Fatalf("SMS_DPStatusInfo after installed: %v", st.Values)
			}

			// The package gets a new SourceVersion: the manager notices by itself.
			c, _ := f.reg.Class("SMS_Package")
			f.write(func(tx store.Tx) error {
				in := pkg.Clone()
				in.Set("SourceVersion", int64(2))
				return tx.Update(t.Context(), &store.Record{Instance: in})
			})
			_ = c
			step(1)
			if d := ag.dispatches(); d[len(d)-1].ContentID != "PS100001.2" {
				t.Fatalf("after a refresh: %+v", d[len(d)-1])
			}
			if s := f.summary("PS100001", dp.NALPath); distribution.State(s.Int("State")) != distribution.ContentUpdating {
				t.Fatalf("while updating: %v", distribution.State(s.Int("State")))
			}
			if a := assigned(); len(a) != 1 || a[0].ContentID != "PS100001.2" {
				t.Fatalf("assignments while updating %+v", a)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.2", Kind: distribution.ReportInstalled})

			// Removing the DP from the package removes the content there.
			row := f.list(distribution.AssignmentClass)[0]
			f.write(func(tx store.Tx) error {
				if err := tx.Delete(t.Context(), row.Class, row.Key()); err != nil {
					return err
				}
				return f.svc.Detached(t.Context(), tx, row)
			})
			if s := f.summary("PS100001", dp.NALPath); distribution.State(s.Int("State")) != distribution.RemovalPending {
				t.Fatalf("after the delete: %v", distribution.State(s.Int("State")))
			}
			step(1)
			if d := ag.dispatches(); d[len(d)-1].Action != "remove" {
				t.Fatalf("removal dispatch %+v", d[len(d)-1])
			}
			if a := assigned(); len(a) != 0 {
				t.Fatalf("assignments after removal %+v", a)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", Kind: distribution.ReportRemoved})
			for _, c := range []string{distribution.SummaryClass, distribution.JobClass, distribution.DPStatusClass} {
				if n := len(f.list(c)); n != 0 {
					t.Fatalf("%d %s rows after removal", n, c)
				}
			}
		})
	}
}

// Two managers on one database (two servers): each attempt of each job is
// dispatched by exactly one of them.
func TestTwoManagersNeverDispatchOneAttemptTwice(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ag := newAgent(t)
			st1 := b.open(t, "a")
			st2 := st1
			if b.shared {
				st2 = b.open(t, "a")
			}
			f := newFixture(t, st1, 3, 8, ag.srv.URL)
			for _, p := range f.pkgs {
				if _, err := f.add(p, f.dps...); err != nil {
					t.Fatal(err)
				}
			}
			svc2, _ := distribution.New(f.reg, distribution.Options{Backoff: time.Second, MaxAttempts: 100, Lease: time.Minute, Clock: f.clock})
			managers := []*distribution.Manager{
				f.svc.NewManager(st1, distribution.ManagerConfig{Holder: "a", Notifier: distribution.HTTPNotifier{}}),
				svc2.NewManager(st2, distribution.ManagerConfig{Holder: "b", Notifier: distribution.HTTPNotifier{}}),
			}
			const rounds = 4
			for r := range rounds {
				var wg sync.WaitGroup
				for _, m := range managers {
					for range 2 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if _, err := m.Step(t.Context()); err != nil {
								t.Error(err)
							}
						}()
					}
				}
				wg.Wait()
				if r < rounds-1 {
					f.advance(2 * time.Minute) // every lease runs out: every job due again
				}
			}
			seen := map[string]string{}
			drivers := map[string]int{}
			for _, d := range ag.dispatches() {
				k := fmt.Sprintf("%s|%s|%d", d.PackageID, d.NALPath, d.Attempt)
				if prev, dup := seen[k]; dup {
					t.Fatalf("attempt %s dispatched twice (by %s and %s)", k, prev, d.Driver)
				}
				seen[k] = d.Driver
				drivers[d.Driver]++
			}
			if want := 8 * 3 * rounds; len(seen) != want {
				t.Fatalf("%d dispatches, want %d (every job every round)", len(seen), want)
			}
			t.Logf("dispatches by server: %v", drivers)
		})
	}
}

// The states the install test does not reach: a DP validating what it
// holds (CONTENT_MONITORING), and a removal the agent cannot be told of
// (REMOVAL_RETRYING, then REMOVAL_FAILED after MaxAttempts).
func TestValidatingAndRemovalStates(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ag := newAgent(t)
			f := newFixture(t, b.open(t, "a"), 1, 1, ag.srv.URL)
			m := f.svc.NewManager(f.st, distribution.ManagerConfig{Holder: "server-a", Notifier: distribution.HTTPNotifier{}})
			dp, pkg := f.dps[0], f.pkgs[0]
			if _, err := f.add(pkg, dp); err != nil {
				t.Fatal(err)
			}
			if n, err := m.Step(t.Context()); err != nil || n != 1 {
				t.Fatalf("Step = %d, %v", n, err)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportInstalled})
			state := func() distribution.State {
				t.Helper()
				s := f.summary("PS100001", dp.NALPath)
				if s == nil {
					t.Fatal("no summary")
				}
				return distribution.State(s.Int("State"))
			}

			// The agent restarted and checks its files: CONTENT_MONITORING,
			// with what it found in the status message; then INSTALLED.
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportValidating})
			if got := state(); got != distribution.ContentMonitoring {
				t.Fatalf("while the DP validates: %v", got)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportValidating, Error: "1 file(s) missing or with a wrong SHA-256"})
			msg := f.list(distribution.DPStatusClass)[0]
			if !strings.Contains(msg.String("InsString2"), "wrong SHA-256") || msg.Int("MessageState") != distribution.MessageInProgress {
				t.Fatalf("message while validating: %v", msg.Values)
			}
			if st := f.list(distribution.StatusInfoClass)[0]; st.Int("NumberInProgress") != 1 || st.Int("NumberInstalled") != 0 {
				t.Fatalf("SMS_DPStatusInfo while validating: %v", st.Values)
			}
			f.report(distribution.Report{NALPath: dp.NALPath, PackageID: "PS100001", ContentID: "PS100001.1", Kind: distribution.ReportInstalled})
			if got := state(); got != distribution.Installed {
				t.Fatalf("after the validation: %v", got)
			}
			if len(f.list(distribution.JobClass)) != 0 {
				t.Fatal("a validation left a job")
			}

			// Removed from the package while the agent cannot be reached.
			ag.mu.Lock()
			ag.down = true
			ag.mu.Unlock()
			row := f.list(distribution.AssignmentClass)[0]
			f.write(func(tx store.Tx) error {
				if err := tx.Delete(t.Context(), row.Class, row.Key()); err != nil {
					return err
				}
				return f.svc.Detached(t.Context(), tx, row)
			})
			if got := state(); got != distribution.RemovalPending {
				t.Fatalf("after the delete: %v", got)
			}
			for attempt := 1; attempt <= 3; attempt++ {
				if n, err := m.Step(t.Context()); err != nil || n != 1 {
					t.Fatalf("attempt %d: Step = %d, %v", attempt, n, err)
				}
				want := distribution.RemovalRetrying
				if attempt == 3 {
					want = distribution.RemovalFailed
				}
				if got := state(); got != want {
					t.Fatalf("after removal attempt %d: %v, want %v", attempt, got, want)
				}
				f.advance(time.Minute)
			}
			if n, _ := m.Step(t.Context()); n != 0 {
				t.Fatalf("a failed removal dispatched again: %d", n)
			}
			if st := f.list(distribution.StatusInfoClass)[0]; st.Int("NumberErrors") != 1 || st.Int("MessageState") != distribution.MessageError {
				t.Fatalf("SMS_DPStatusInfo after the failed removal: %v", st.Values)
			}
		})
	}
}
