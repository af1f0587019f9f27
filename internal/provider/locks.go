package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/lock"
	"github.com/tsprov/tsprov/internal/store"
)

// The classes of SEDO locks (schema/lock.mof).
const (
	lockClass        = "TSP_ObjectLock"
	lockRequestClass = "TSP_ObjectLockRequest"
	lockResultClass  = "SMS_ObjectLockRequest"
)

// lockClasses are the lock classes, looked up once.
type lockClasses struct {
	held, request, result *cim.Class
}

func lookupLockClasses(reg *cim.Registry) (lockClasses, error) {
	var l lockClasses
	for _, x := range []struct {
		dst  **cim.Class
		name string
	}{{&l.held, lockClass}, {&l.request, lockRequestClass}, {&l.result, lockResultClass}} {
		c, ok := reg.Class(x.name)
		if !ok {
			return l, fmt.Errorf("provider: the schema lacks class %s", x.name)
		}
		*x.dst = c
	}
	return l, nil
}

// sedoEnabled reports whether instances of c are edited under SEDO locks:
// the classes that carry SedoObjectVersion (the schema decides).
func sedoEnabled(c *cim.Class) bool {
	_, ok := c.Property(sedoProperty)
	return ok
}

// lockOwner is the caller as a lock holder: its user, the lock context and
// machine of its session (lock.SessionFrom; by default one context per
// user and the client's address), and this site.
func (p *Provider) lockOwner(ctx context.Context) (lock.Owner, error) {
	pr, err := caller(ctx)
	if err != nil {
		return lock.Owner{}, err
	}
	s := lock.SessionFrom(ctx)
	o := lock.Owner{User: pr.User, Context: s.Context, Machine: s.Machine, Site: p.site}
	if o.Context == "" {
		o.Context = "user:" + pr.User
	}
	if o.Machine == "" {
		o.Machine = pr.Addr
	}
	return o, nil
}

// readLock returns the lock held on the object at path, nil for none.
func (p *Provider) readLock(ctx context.Context, tx store.ReadTx, path string) (*lock.Lock, error) {
	rec, err := tx.Get(ctx, p.locks.held, path, false)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	in := rec.Instance
	return &lock.Lock{
		Object: path,
		ID:     in.String("LockID"),
		Holder: lock.Owner{User: in.String("AssignedUser"), Context: in.String("AssignedObjectLockContext"),
			Machine: in.String("AssignedMachine"), Site: in.String("AssignedSiteCode")},
		Assigned: timeOf(in, "AssignedTimeUTC"),
		Touched:  timeOf(in, "LastActivityUTC"),
	}, nil
}

func timeOf(in *cim.Instance, name string) time.Time {
	d, _ := in.Values[name].(cim.DateTimeValue)
	return d.Time
}

func dateTime(t time.Time) cim.DateTimeValue {
	return cim.DateTimeValue{Time: t.UTC().Truncate(time.Microsecond)}
}

// storeLock writes l (inserting or replacing the object's lock).
func (p *Provider) storeLock(ctx context.Context, tx store.Tx, l *lock.Lock) error {
	in := cim.NewInstance(p.locks.held)
	in.Set("ObjectRelPath", l.Object)
	in.Set("LockID", l.ID)
	in.Set("AssignedUser", l.Holder.User)
	in.Set("AssignedObjectLockContext", l.Holder.Context)
	in.Set("AssignedMachine", l.Holder.Machine)
	in.Set("AssignedSiteCode", l.Holder.Site)
	in.Set("AssignedTimeUTC", dateTime(l.Assigned))
	in.Set("LastActivityUTC", dateTime(l.Touched))
	rec := &store.Record{Instance: in}
	err := tx.Update(ctx, rec)
	if errs.Is(err, errs.NotFound) {
		err = tx.Insert(ctx, rec)
	}
	return err
}

// dropLock removes the object's lock, if any.
func (p *Provider) dropLock(ctx context.Context, tx store.Tx, path string) error {
	err := tx.Delete(ctx, p.locks.held, path)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}

// lockedError is the refusal of a write or release by someone who does not
// hold the object's live lock (errs.Locked: 423).
func lockedError(l *lock.Lock) error {
	return errs.E(errs.Locked, "%s is locked by %s (lock context %s) on machine %s at site %s since %s: wait until it is released or expires, or ask an administrator to release it",
		l.Object, l.Holder.User, l.Holder.Context, l.Holder.Machine, l.Holder.Site, l.Assigned.UTC().Format(time.RFC3339))
}

// writeUnderLock is the SEDO rule of every write to a SEDO-enabled object
// (update, delete, state-changing method): the holder of its live lock
// writes and its lock is renewed; anyone else is refused (423); without a
// live lock, the write takes one implicitly and releases it when it
// commits, which leaves no lock behind (an orphaned lock is taken over and
// released the same way). gone: the write deletes the object, and its lock
// goes with it.
func (p *Provider) writeUnderLock(ctx context.Context, tx store.Tx, obj *cim.Instance, gone bool) error {
	who, err := p.lockOwner(ctx)
	if err != nil {
		return err
	}
	path := obj.RelPath()
	cur, err := p.readLock(ctx, tx, path)
	if err != nil || cur == nil {
		return err
	}
	now := p.now()
	d := lock.Request(cur, path, who, now, p.lockTTL, newLockID)
	if !d.State.IsGranted() {
		return lockedError(cur)
	}
	if gone || d.State == lock.GrantedLockWasOrphaned {
		return p.dropLock(ctx, tx, path)
	}
	return p.storeLock(ctx, tx, d.Lock)
}

// lockRules apply writeUnderLock to the writes of SEDO-enabled classes.
type lockRules struct{ p *Provider }

func (lockRules) appliesTo(c *cim.Class) bool { return sedoEnabled(c) }
func (lockRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	return nil
}
func (r lockRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	return r.p.writeUnderLock(ctx, tx, cur, false)
}
func (lockRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error { return nil }
func (r lockRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	if old != nil && next == nil {
		return r.p.writeUnderLock(ctx, tx, old, true)
	}
	return nil
}

// newLockID returns a new lock or request GUID.
func newLockID() string { return newObjectVersion() }

// now is the provider's clock (Config.Clock).
func (p *Provider) now() time.Time { return p.clock().UTC() }

// lockTarget resolves an ObjectRelPath to a SEDO-enabled object the caller
// may see. Outcomes: the instance; errs.NotFound (an unknown class or
// object, or one outside the caller's scopes); errs.Invalid for a path that
// is not Class.Key="value" or names a class without SEDO locks.
func (p *Provider) lockTarget(ctx context.Context, tx store.ReadTx, path string) (*cim.Instance, error) {
	className, key, err := parseRelPath(path)
	if err != nil {
		return nil, err
	}
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if err := notServed(c); err != nil {
		return nil, err
	}
	if !sedoEnabled(c) || storable(c) != nil {
		return nil, errs.Target(errs.Invalid, "ObjectRelPath", "%s objects are not edited under SEDO locks", c.Name)
	}
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rec, err := p.getVisible(ctx, tx, pr, c, key, false)
	if err != nil {
		return nil, err
	}
	return rec.Instance, nil
}

// parseRelPath splits a WMI relative path with one key,
// Class.Key="value" or Class.Key=123, into the class and the key value.
func parseRelPath(path string) (className, key string, err error) {
	bad := errs.Target(errs.Invalid, "ObjectRelPath", "ObjectRelPath %q is not a relative path such as SMS_TaskSequencePackage.PackageID=\"PS100001\"", path)
	className, rest, ok := strings.Cut(strings.TrimSpace(path), ".")
	if !ok || className == "" {
		return "", "", bad
	}
	_, value, ok := strings.Cut(rest, "=")
	if !ok || value == "" {
		return "", "", bad
	}
	if value[0] != '"' {
		return className, value, nil
	}
	if len(value) < 2 || value[len(value)-1] != '"' {
		return "", "", bad
	}
	value = value[1 : len(value)-1]
	value = strings.ReplaceAll(strings.ReplaceAll(value, `\"`, `"`), `\\`, `\`)
	return className, value, nil
}

// lockAnswer is the outcome of one request, as SMS_ObjectLockRequest and
// the out parameters of RequestLock show it.
type lockAnswer struct {
	requestID, path string
	state           lock.RequestState
	lockState       lock.State
	holder          *lock.Lock
}

func (a lockAnswer) out() map[string]any {
	m := map[string]any{
		"RequestID": a.requestID, "RequestState": int64(a.state), "LockState": int64(a.lockState),
		"AssignedUser": "", "AssignedObjectLockContext": "", "AssignedMachine": "", "AssignedSiteCode": "",
	}
	if l := a.holder; l != nil {
		m["AssignedUser"], m["AssignedObjectLockContext"], m["AssignedMachine"], m["AssignedSiteCode"] =
			l.Holder.User, l.Holder.Context, l.Holder.Machine, l.Holder.Site
		m["AssignedTimeUTC"] = dateTime(l.Assigned)
	}
	return m
}

func (p *Provider) lockResult(a lockAnswer) *cim.Instance {
	in := cim.NewInstance(p.locks.result)
	for k, v := range a.out() {
		in.Set(k, v)
	}
	in.Set("ObjectRelPath", a.path)
	return in
}

// requestLock decides one request for the caller within tx and records
// it (so CheckLockRequest finds it). async: a request refused because
// another holder's lock is live stays pending (Requested) instead of
// being denied.
func (p *Provider) requestLock(ctx context.Context, tx store.Tx, path string, async bool) (lockAnswer, error) {
	who, err := p.lockOwner(ctx)
	if err != nil {
		return lockAnswer{}, err
	}
	a := lockAnswer{requestID: newLockID(), path: path}
	obj, err := p.lockTarget(ctx, tx, path)
	switch {
	case errs.Is(err, errs.NotFound):
		a.state, a.lockState = lock.DeniedLockNotFound, lock.NotFound
		return a, p.recordRequest(ctx, tx, a, who)
	case err != nil:
		return a, err
	}
	path = obj.RelPath()
	a.path = path
	cur, err := p.readLock(ctx, tx, path)
	if err != nil {
		return a, err
	}
	now := p.now()
	if src := obj.String(sourceSiteProperty); src != "" && !strings.EqualFold(src, p.site) {
		a.state, a.lockState, a.holder = lock.DeniedLockNotLocal, lock.StateAt(cur, now, p.lockTTL), cur
		return a, p.recordRequest(ctx, tx, a, who)
	}
	a, err = p.decide(ctx, tx, a, cur, who, now)
	if err != nil {
		return a, err
	}
	if async && a.state == lock.DeniedLockAlreadyAssigned {
		a.state, a.lockState = lock.Requested, lock.Assigned
	}
	return a, p.recordRequest(ctx, tx, a, who)
}

// decide applies lock.Request and stores a granted lock.
func (p *Provider) decide(ctx context.Context, tx store.Tx, a lockAnswer, cur *lock.Lock, who lock.Owner, now time.Time) (lockAnswer, error) {
	d := lock.Request(cur, a.path, who, now, p.lockTTL, newLockID)
	a.state = d.State
	if !d.State.IsGranted() {
		a.lockState, a.holder = lock.Assigned, cur
		return a, nil
	}
	a.lockState, a.holder = lock.Assigned, d.Lock
	return a, p.storeLock(ctx, tx, d.Lock)
}

// recordRequest stores a request's outcome under its RequestID.
func (p *Provider) recordRequest(ctx context.Context, tx store.Tx, a lockAnswer, who lock.Owner) error {
	in := cim.NewInstance(p.locks.request)
	in.Set("RequestID", a.requestID)
	in.Set("ObjectRelPath", a.path)
	in.Set("RequestState", int64(a.state))
	in.Set("RequestedUser", who.User)
	in.Set("RequestedObjectLockContext", who.Context)
	in.Set("RequestedMachine", who.Machine)
	in.Set("RequestedTimeUTC", dateTime(p.now()))
	rec := &store.Record{Instance: in}
	err := tx.Update(ctx, rec)
	if errs.Is(err, errs.NotFound) {
		err = tx.Insert(ctx, rec)
	}
	return err
}

// checkRequest answers CheckLockRequest for one RequestID: a pending
// request is decided again (granted as GrantedAfterTimeout when the holder
// released the lock, GrantedLockWasOrphaned when its lock expired, denied
// with DeniedRequestTimedOut once it has waited a lock timeout); a decided
// one is reported with the object's current lock. Only the session that
// made a request may check it (another gets ErrorRequestNotFound).
func (p *Provider) checkRequest(ctx context.Context, tx store.Tx, id string) (lockAnswer, error) {
	who, err := p.lockOwner(ctx)
	if err != nil {
		return lockAnswer{}, err
	}
	a := lockAnswer{requestID: id, state: lock.ErrorRequestNotFound, lockState: lock.NotFound}
	rec, err := tx.Get(ctx, p.locks.request, id, false)
	if errs.Is(err, errs.NotFound) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	req := rec.Instance
	if !who.Same(lock.Owner{User: req.String("RequestedUser"), Context: req.String("RequestedObjectLockContext")}) {
		return a, nil
	}
	a.path, a.state = req.String("ObjectRelPath"), lock.RequestState(req.Int("RequestState"))
	cur, err := p.readLock(ctx, tx, a.path)
	if err != nil {
		return a, err
	}
	now := p.now()
	a.lockState, a.holder = lock.StateAt(cur, now, p.lockTTL), cur
	if a.state != lock.Requested {
		return a, nil
	}
	switch {
	case cur != nil && !cur.Expired(now, p.lockTTL) && !cur.Holder.Same(who):
		if now.Sub(timeOf(req, "RequestedTimeUTC")) >= p.lockTTL {
			a.state = lock.DeniedRequestTimedOut
		}
	default:
		if a, err = p.decide(ctx, tx, a, cur, who, now); err != nil {
			return a, err
		}
		if a.state == lock.Granted {
			a.state = lock.GrantedAfterTimeout
		}
	}
	return a, p.recordRequest(ctx, tx, a, who)
}

// cancelRequest cancels one of the caller's requests: it becomes
// RequestedCanceled, and a lock it was granted is released.
func (p *Provider) cancelRequest(ctx context.Context, tx store.Tx, id string) error {
	a, err := p.checkRequest(ctx, tx, id)
	if err != nil {
		return err
	}
	if a.state == lock.ErrorRequestNotFound {
		return errs.Target(errs.NotFound, "RequestID", "no lock request %s of this session", id)
	}
	who, _ := p.lockOwner(ctx)
	if a.state.IsGranted() && a.holder != nil && a.holder.Holder.Same(who) {
		if err := p.dropLock(ctx, tx, a.path); err != nil {
			return err
		}
	}
	a.state = lock.RequestedCanceled
	return p.recordRequest(ctx, tx, a, who)
}

// releaseLock releases the caller's lock on the object at path. An object
// without a lock (or with an expired one) is released already; another
// session's live lock is refused (errs.Locked) unless force, which an
// administrator with Modify on the object may use and which is audited.
func (p *Provider) releaseLock(ctx context.Context, tx store.Tx, path string, force bool) error {
	who, err := p.lockOwner(ctx)
	if err != nil {
		return err
	}
	obj, err := p.lockTarget(ctx, tx, path)
	if err != nil {
		return err
	}
	path = obj.RelPath()
	cur, err := p.readLock(ctx, tx, path)
	if err != nil || cur == nil {
		return err
	}
	if !cur.Holder.Same(who) && !cur.Expired(p.now(), p.lockTTL) {
		if !force {
			return lockedError(cur)
		}
		pr, err := p.authorize(ctx, obj.Class, obj.Key(), auth.Modify)
		if err != nil {
			return err
		}
		if err := p.audit(ctx, tx, auditEntry{pr: pr, action: "ForceReleaseLock", class: obj.Class.Name, key: obj.Key(),
			detail: fmt.Sprintf("lock of %s (lock context %s, machine %s) since %s", cur.Holder.User, cur.Holder.Context, cur.Holder.Machine, cur.Assigned.UTC().Format(time.RFC3339))}); err != nil {
			return err
		}
	}
	return p.dropLock(ctx, tx, path)
}

// LockInfo is a held lock, for the lock listing (tsprov lock ls).
type LockInfo struct {
	ObjectRelPath string     `json:"ObjectRelPath"`
	LockID        string     `json:"LockID"`
	User          string     `json:"AssignedUser"`
	Context       string     `json:"AssignedObjectLockContext"`
	Machine       string     `json:"AssignedMachine"`
	SiteCode      string     `json:"AssignedSiteCode"`
	Assigned      time.Time  `json:"AssignedTimeUTC"`
	LastActivity  time.Time  `json:"LastActivityUTC"`
	State         lock.State `json:"LockState"` // 1 Assigned, 4 TimedOut
}

// ListLocks returns the locks held on objects the caller may see, with
// their state now (Assigned or TimedOut).
func (p *Provider) ListLocks(ctx context.Context) ([]LockInfo, error) {
	var out []LockInfo
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		recs, err := tx.List(ctx, p.locks.held, store.ListOptions{})
		if err != nil {
			return err
		}
		now := p.now()
		for _, r := range recs {
			path := r.Instance.String("ObjectRelPath")
			if _, err := p.lockTarget(ctx, tx, path); errs.Is(err, errs.NotFound) {
				continue
			} else if err != nil {
				return err
			}
			l, err := p.readLock(ctx, tx, path)
			if err != nil || l == nil {
				return err
			}
			out = append(out, LockInfo{ObjectRelPath: path, LockID: l.ID, User: l.Holder.User, Context: l.Holder.Context,
				Machine: l.Holder.Machine, SiteCode: l.Holder.Site, Assigned: l.Assigned, LastActivity: l.Touched,
				State: lock.StateAt(l, now, p.lockTTL)})
		}
		return nil
	})
	return out, err
}

// ForceReleaseLock releases the lock on the object at path whoever holds
// it: an administrator's recovery, audited. Outcomes: nil (also when the
// object has no lock); errs.NotFound; errs.Forbidden without Modify.
func (p *Provider) ForceReleaseLock(ctx context.Context, path string) error {
	err := p.write(ctx, func(tx store.Tx) error { return p.releaseLock(ctx, tx, path, true) })
	return p.audited(ctx, err)
}
