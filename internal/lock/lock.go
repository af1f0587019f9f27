// Package lock holds the rules of SEDO (Serialized Editing of Distributed
// Objects) locks: who holds a lock, the documented RequestState and
// LockState codes, expiry and orphan takeover. It decides; it does not
// store: the provider keeps locks in the store (schema/lock.mof) and asks
// this package what a request or a write leads to.
package lock

import (
	"context"
	"strings"
	"time"
)

// RequestState is SMS_ObjectLockRequest.RequestState (the SDK's codes;
// there is no 1 or 51).
type RequestState int

const (
	Unknown                    RequestState = 0
	Requested                  RequestState = 2
	RequestedCanceled          RequestState = 3
	ResponseReceived           RequestState = 4
	Granted                    RequestState = 10
	GrantedAfterTimeout        RequestState = 11
	GrantedLockWasOrphaned     RequestState = 12
	DeniedLockAlreadyAssigned  RequestState = 20
	DeniedInvalidObjectVersion RequestState = 21
	DeniedLockNotFound         RequestState = 22
	DeniedLockNotLocal         RequestState = 23
	DeniedRequestTimedOut      RequestState = 24
	Error                      RequestState = 50
	ErrorRequestNotFound       RequestState = 52
	ErrorRequestTimedOut       RequestState = 53
)

// IsGranted reports whether s is one of the three success states.
func (s RequestState) IsGranted() bool {
	return s == Granted || s == GrantedAfterTimeout || s == GrantedLockWasOrphaned
}

// State is SMS_ObjectLockRequest.LockState.
type State int

const (
	Unassigned        State = 0
	Assigned          State = 1
	StateRequested    State = 2
	PendingAssignment State = 3
	TimedOut          State = 4
	NotFound          State = 5
)

// DefaultTTL is how long a lock lives after its holder's last activity.
const DefaultTTL = 30 * time.Minute

// Owner is who holds or asks for a lock: an authenticated user in a lock
// context (a console session), on a machine, at a site.
type Owner struct {
	User    string
	Context string // ObjectLockContext
	Machine string // MachineName
	Site    string
}

// Same reports whether o and other are the same holder: the same user in
// the same lock context (the machine and site only describe it).
func (o Owner) Same(other Owner) bool {
	return strings.EqualFold(o.User, other.User) && strings.EqualFold(o.Context, other.Context)
}

// Lock is a lock on one object.
type Lock struct {
	Object   string // the object's relative path, as cim.Instance.RelPath forms it
	ID       string // the lock's own GUID
	Holder   Owner
	Assigned time.Time // when it was granted
	Touched  time.Time // the holder's last activity on it
}

// Expired reports whether l has outlived ttl since its holder's last
// activity at now.
func (l *Lock) Expired(now time.Time, ttl time.Duration) bool {
	return !now.Before(l.Touched.Add(ttl))
}

// StateAt is l's LockState at now (Unassigned for no lock).
func StateAt(l *Lock, now time.Time, ttl time.Duration) State {
	switch {
	case l == nil:
		return Unassigned
	case l.Expired(now, ttl):
		return TimedOut
	}
	return Assigned
}

// Decision is what a request for a lock leads to.
type Decision struct {
	State RequestState
	// Lock is the lock to store when the request is granted (nil when
	// it is not): the current one renewed for its holder, or a new one.
	Lock *Lock
}

// Request decides a request by who for the object whose current lock is
// cur (nil for none) at now: the holder's own request renews its lock
// (Granted); a free object is granted; an expired lock of another holder
// is taken over (GrantedLockWasOrphaned); a live lock of another holder
// refuses (DeniedLockAlreadyAssigned). newID gives a new lock's ID.
func Request(cur *Lock, object string, who Owner, now time.Time, ttl time.Duration, newID func() string) Decision {
	switch {
	case cur != nil && cur.Holder.Same(who):
		renewed := *cur
		renewed.Touched = now
		renewed.Holder.Machine = who.Machine
		return Decision{State: Granted, Lock: &renewed}
	case cur != nil && !cur.Expired(now, ttl):
		return Decision{State: DeniedLockAlreadyAssigned}
	}
	state := Granted
	if cur != nil {
		state = GrantedLockWasOrphaned
	}
	return Decision{State: state, Lock: &Lock{Object: object, ID: newID(), Holder: who, Assigned: now, Touched: now}}
}

// Session is the lock context a request comes from, taken from the
// request (headers) by the HTTP layer.
type Session struct {
	Context string // ObjectLockContext
	Machine string // MachineName
}

type sessionKey struct{}

// WithSession returns ctx carrying s.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session ctx carries (the zero Session for none).
func SessionFrom(ctx context.Context) Session {
	s, _ := ctx.Value(sessionKey{}).(Session)
	return s
}
