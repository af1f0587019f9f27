package provider_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/lock"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lockServer is a provider of site PS1 on st with the test clock and the
// default 30-minute lock timeout.
func lockServer(t *testing.T, st store.Store, site string, clock *testClock) *provider.Provider {
	t.Helper()
	reg, _ := schema.Registry()
	p, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: site, ServerName: "SRV-" + site, Clock: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RegisterSite(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func session(name string) context.Context {
	return lock.WithSession(authtest.Context(), lock.Session{Context: "ctx-" + name, Machine: "MACHINE-" + name})
}

// call invokes an SMS_ObjectLock method and returns its out parameters.
func lockCall(t *testing.T, p *provider.Provider, ctx context.Context, method string, in map[string]any) map[string]any {
	t.Helper()
	res, err := p.Invoke(ctx, "SMS_ObjectLock", "", method, in)
	if err != nil {
		t.Fatalf("%s(%v): %v", method, in, err)
	}
	if res.ReturnValue != int64(0) {
		t.Fatalf("%s: ReturnValue %v", method, res.ReturnValue)
	}
	return res.Out
}

func requestLock(t *testing.T, p *provider.Provider, ctx context.Context, path string) map[string]any {
	t.Helper()
	return lockCall(t, p, ctx, "RequestLock", map[string]any{"ObjectRelPath": path})
}

func lockInfo(t *testing.T, p *provider.Provider, ctx context.Context, path string) map[string]any {
	t.Helper()
	return lockCall(t, p, ctx, "GetLockInformation", map[string]any{"ObjectRelPath": path})
}

func wantStates(t *testing.T, what string, out map[string]any, request lock.RequestState, state lock.State) {
	t.Helper()
	if request >= 0 && out["RequestState"] != int64(request) {
		t.Fatalf("%s: RequestState %v, want %d", what, out["RequestState"], request)
	}
	if out["LockState"] != int64(state) {
		t.Fatalf("%s: LockState %v, want %d", what, out["LockState"], state)
	}
}

func renameIn(ctx context.Context, p *provider.Provider, id, name string) error {
	c, _ := p.Class("SMS_TaskSequencePackage")
	in := cim.NewInstance(c)
	in.Set("Name", name)
	_, err := p.Update(ctx, c.Name, id, in, provider.Merge, "")
	return err
}

func wantLocked(t *testing.T, what string, err error, holder string) {
	t.Helper()
	if !errs.Is(err, errs.Locked) || !strings.Contains(err.Error(), "ctx-"+holder) || !strings.Contains(err.Error(), "MACHINE-"+holder) || !strings.Contains(err.Error(), "since 2026-") {
		t.Fatalf("%s: %v, want Locked naming the holder %s, its machine and since when", what, err, holder)
	}
}

func TestLockRequestsAndWritesUnderLocks(t *testing.T) {
	st := openStore(t)
	clock := &testClock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	p := lockServer(t, st, "PS1", clock)
	id := newPackage(t, p, "locked").String("PackageID")
	path := `SMS_TaskSequencePackage.PackageID="` + id + `"`
	a, b := session("A"), session("B")

	// nothing held: a write takes and releases a lock implicitly
	if err := renameIn(b, p, id, "implicit"); err != nil {
		t.Fatal(err)
	}
	wantStates(t, "after an implicit lock", lockInfo(t, p, a, path), -1, lock.Unassigned)

	out := requestLock(t, p, a, path)
	wantStates(t, "RequestLock on a free object", out, lock.Granted, lock.Assigned)
	if out["AssignedObjectLockContext"] != "ctx-A" || out["AssignedMachine"] != "MACHINE-A" || out["AssignedSiteCode"] != "PS1" || out["RequestID"] == "" {
		t.Fatalf("RequestLock: %v", out)
	}
	info := lockInfo(t, p, b, path)
	wantStates(t, "GetLockInformation", info, -1, lock.Assigned)
	if info["AssignedObjectLockContext"] != "ctx-A" {
		t.Fatalf("GetLockInformation: %v", info)
	}
	wantStates(t, "RequestLock by another session", requestLock(t, p, b, path), lock.DeniedLockAlreadyAssigned, lock.Assigned)
	wantStates(t, "RequestLock by the holder", requestLock(t, p, a, path), lock.Granted, lock.Assigned)

	wantLocked(t, "update by a non-holder", renameIn(b, p, id, "by B"), "A")
	wantLocked(t, "delete by a non-holder", p.Delete(b, "SMS_TaskSequencePackage", id, ""), "A")
	_, err := p.Invoke(b, "SMS_ObjectLock", "", "ReleaseLock", map[string]any{"ObjectRelPath": path})
	wantLocked(t, "ReleaseLock by a non-holder", err, "A")

	// the holder's activity renews its lock: 29 minutes, a write, 29 more
	clock.Advance(29 * time.Minute)
	if err := renameIn(a, p, id, "by A"); err != nil {
		t.Fatalf("update by the holder: %v", err)
	}
	clock.Advance(29 * time.Minute)
	wantStates(t, "58 minutes after the grant, 29 after the holder's write", requestLock(t, p, b, path), lock.DeniedLockAlreadyAssigned, lock.Assigned)
	// the lock survives a restart and is seen by every server of the store
	other := lockServer(t, st, "PS1", clock)
	wantLocked(t, "update through another server", renameIn(b, other, id, "by B"), "A")

	// expiry, then orphan takeover
	clock.Advance(time.Minute)
	wantStates(t, "30 minutes after the holder's last activity", lockInfo(t, p, b, path), -1, lock.TimedOut)
	out = requestLock(t, p, b, path)
	wantStates(t, "RequestLock on an expired lock", out, lock.GrantedLockWasOrphaned, lock.Assigned)
	if out["AssignedObjectLockContext"] != "ctx-B" {
		t.Fatalf("after the takeover: %v", out)
	}
	wantLocked(t, "the former holder's update", renameIn(a, p, id, "by A"), "B")

	// an asynchronous request waits, and is granted once the holder releases
	reqID := lockCall(t, p, a, "RequestLockAsync", map[string]any{"ObjectRelPath": path})["RequestID"].(string)
	check := func(ctx context.Context, id string) map[string]any {
		return lockCall(t, p, ctx, "CheckLockRequest", map[string]any{"RequestID": id})
	}
	wantStates(t, "a pending request", check(a, reqID), lock.Requested, lock.Assigned)
	wantStates(t, "another session's request", check(b, reqID), lock.ErrorRequestNotFound, lock.NotFound)
	wantStates(t, "an unknown request", check(a, "no-such-request"), lock.ErrorRequestNotFound, lock.NotFound)
	lockCall(t, p, b, "ReleaseLock", map[string]any{"ObjectRelPath": path})
	out = check(a, reqID)
	wantStates(t, "the pending request after the release", out, lock.GrantedAfterTimeout, lock.Assigned)
	if out["AssignedObjectLockContext"] != "ctx-A" {
		t.Fatalf("granted to %v", out["AssignedObjectLockContext"])
	}
	// cancelling a granted request releases its lock
	lockCall(t, p, a, "CancelLockRequest", map[string]any{"RequestID": reqID})
	wantStates(t, "a cancelled request", check(a, reqID), lock.RequestedCanceled, lock.Unassigned)
	wantStates(t, "after the cancel", lockInfo(t, p, a, path), -1, lock.Unassigned)

	// a request that waits a lock timeout while the holder stays active times out
	requestLock(t, p, b, path)
	reqID = lockCall(t, p, a, "RequestLockAsync", map[string]any{"ObjectRelPath": path})["RequestID"].(string)
	for i := 0; i < 2; i++ {
		clock.Advance(20 * time.Minute)
		if err := renameIn(b, p, id, "active"); err != nil {
			t.Fatal(err)
		}
	}
	wantStates(t, "a request that waited 40 minutes", check(a, reqID), lock.DeniedRequestTimedOut, lock.Assigned)

	// the implicit lock of a write takes over an orphaned lock and releases it
	clock.Advance(30 * time.Minute)
	if err := renameIn(a, p, id, "after the orphan"); err != nil {
		t.Fatalf("a write over an expired lock: %v", err)
	}
	wantStates(t, "after a write over an orphaned lock", lockInfo(t, p, a, path), -1, lock.Unassigned)
}

func TestLockDenialsBatchesAndRelease(t *testing.T) {
	st := openStore(t)
	clock := &testClock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	p := lockServer(t, st, "PS1", clock)
	elsewhere := lockServer(t, st, "PS2", clock)
	one := newPackage(t, p, "one").RelPath()
	two := newPackage(t, p, "two").RelPath()
	foreign := newPackage(t, elsewhere, "foreign").RelPath()
	a, b := session("A"), session("B")

	wantStates(t, "an object that does not exist", requestLock(t, p, a, `SMS_TaskSequencePackage.PackageID="PS1FFFFF"`), lock.DeniedLockNotFound, lock.NotFound)
	wantStates(t, "an object of another site", requestLock(t, p, a, foreign), lock.DeniedLockNotLocal, lock.Unassigned)
	if _, err := p.Invoke(a, "SMS_ObjectLock", "", "RequestLock", map[string]any{"ObjectRelPath": "not a path"}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("a malformed ObjectRelPath: %v, want Invalid", err)
	}

	out := lockCall(t, p, a, "RequestLocks", map[string]any{"ObjectRelPaths": []any{one, two}})
	reqs := out["ObjectLockRequests"].([]any)
	if len(reqs) != 2 {
		t.Fatalf("RequestLocks: %v", out)
	}
	for _, r := range reqs {
		in := r.(*cim.Instance)
		if in.Int("RequestState") != int64(lock.Granted) || in.Int("LockState") != int64(lock.Assigned) {
			t.Fatalf("RequestLocks: %v", in.Values)
		}
	}
	lockCall(t, p, a, "ReleaseAllLocks", nil)
	for _, path := range []string{one, two} {
		wantStates(t, "after ReleaseAllLocks", lockInfo(t, p, b, path), -1, lock.Unassigned)
	}

	requestLock(t, p, a, one)
	if err := p.ForceReleaseLock(b, one); err != nil {
		t.Fatalf("force release by an administrator: %v", err)
	}
	wantStates(t, "after a forced release", lockInfo(t, p, b, one), -1, lock.Unassigned)
	audit, err := p.ListAudit(authtest.Context(), provider.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var forced int
	for _, o := range audit.Objects {
		if o.Instance.String("Action") == "ForceReleaseLock" && strings.Contains(o.Instance.String("Detail"), "ctx-A") {
			forced++
		}
	}
	if forced != 1 {
		t.Fatalf("%d audit records of the forced release naming the former holder, want 1", forced)
	}
	locks, err := p.ListLocks(authtest.Context())
	if err != nil || len(locks) != 0 {
		t.Fatalf("ListLocks after the release: %v, %v", locks, err)
	}
}
