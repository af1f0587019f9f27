package provider

import (
	"context"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/lock"
	"github.com/tsprov/tsprov/internal/store"
)

// The static methods of SMS_ObjectLock. Each runs in one transaction, so
// that a decision and the lock it stores commit together; the outcome of
// a request is in RequestState and LockState (ReturnValue 0), as the SDK
// describes; a malformed call is an error.

func stringsIn(in map[string]any, name string) ([]string, error) {
	raw, ok := in[name].([]any)
	if !ok {
		if in[name] == nil {
			return nil, errs.Target(errs.Invalid, name, "%s is required", name)
		}
		return nil, errs.Target(errs.Invalid, name, "%s must be an array of strings", name)
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, errs.Target(errs.Invalid, name, "%s must be an array of strings", name)
		}
		out = append(out, s)
	}
	return out, nil
}

func stringIn(in map[string]any, name string) (string, error) {
	s, _ := in[name].(string)
	if s == "" {
		return "", errs.Target(errs.Invalid, name, "%s is required", name)
	}
	return s, nil
}

// lockBatch runs one step per item in a single write transaction and
// returns the SMS_ObjectLockRequest of each.
func (p *Provider) lockBatch(ctx context.Context, items []string, step func(store.Tx, string) (lockAnswer, error)) (map[string]any, int64, error) {
	var results []any
	err := p.write(ctx, func(tx store.Tx) error {
		results = results[:0]
		for _, it := range items {
			a, err := step(tx, it)
			if err != nil {
				return err
			}
			results = append(results, p.lockResult(a))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"ObjectLockRequests": results}, 0, nil
}

func (p *Provider) lockOne(ctx context.Context, step func(store.Tx) (lockAnswer, error)) (lockAnswer, error) {
	var a lockAnswer
	err := p.write(ctx, func(tx store.Tx) error {
		var err error
		a, err = step(tx)
		return err
	})
	return a, err
}

func (p *Provider) objectLockRequestLock(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	path, err := stringIn(in, "ObjectRelPath")
	if err != nil {
		return nil, 0, err
	}
	a, err := p.lockOne(ctx, func(tx store.Tx) (lockAnswer, error) { return p.requestLock(ctx, tx, path, false) })
	if err != nil {
		return nil, 0, err
	}
	return a.out(), 0, nil
}

func (p *Provider) objectLockRequestLockAsync(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	path, err := stringIn(in, "ObjectRelPath")
	if err != nil {
		return nil, 0, err
	}
	a, err := p.lockOne(ctx, func(tx store.Tx) (lockAnswer, error) { return p.requestLock(ctx, tx, path, true) })
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"RequestID": a.requestID}, 0, nil
}

func (p *Provider) objectLockRequestLocks(param string, async bool) methodFunc {
	return func(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
		paths, err := stringsIn(in, param)
		if err != nil {
			return nil, 0, err
		}
		return p.lockBatch(ctx, paths, func(tx store.Tx, path string) (lockAnswer, error) { return p.requestLock(ctx, tx, path, async) })
	}
}

func (p *Provider) objectLockCheckLockRequest(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	id, err := stringIn(in, "RequestID")
	if err != nil {
		return nil, 0, err
	}
	a, err := p.lockOne(ctx, func(tx store.Tx) (lockAnswer, error) { return p.checkRequest(ctx, tx, id) })
	if err != nil {
		return nil, 0, err
	}
	return a.out(), 0, nil
}

func (p *Provider) objectLockCheckLockRequests(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	ids, err := stringsIn(in, "RequestIDs")
	if err != nil {
		return nil, 0, err
	}
	return p.lockBatch(ctx, ids, func(tx store.Tx, id string) (lockAnswer, error) { return p.checkRequest(ctx, tx, id) })
}

func (p *Provider) objectLockCancel(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	var ids []string
	var err error
	if m.Name == "CancelLockRequests" {
		ids, err = stringsIn(in, "RequestIDs")
	} else {
		var id string
		id, err = stringIn(in, "RequestID")
		ids = []string{id}
	}
	if err != nil {
		return nil, 0, err
	}
	return nil, 0, p.write(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if err := p.cancelRequest(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (p *Provider) objectLockGetLockInformation(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	path, err := stringIn(in, "ObjectRelPath")
	if err != nil {
		return nil, 0, err
	}
	var a lockAnswer
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		obj, err := p.lockTarget(ctx, tx, path)
		if err != nil {
			return err
		}
		cur, err := p.readLock(ctx, tx, obj.RelPath())
		a = lockAnswer{path: obj.RelPath(), lockState: lock.StateAt(cur, p.now(), p.lockTTL), holder: cur}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	out := a.out()
	delete(out, "RequestID")
	delete(out, "RequestState")
	return out, 0, nil
}

func (p *Provider) objectLockRelease(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	var paths []string
	var err error
	if m.Name == "ReleaseLocks" {
		paths, err = stringsIn(in, "ObjectRelPath")
	} else {
		var path string
		path, err = stringIn(in, "ObjectRelPath")
		paths = []string{path}
	}
	if err != nil {
		return nil, 0, err
	}
	return nil, 0, p.write(ctx, func(tx store.Tx) error {
		for _, path := range paths {
			if err := p.releaseLock(ctx, tx, path, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// objectLockReleaseAll releases every lock of the caller's session.
func (p *Provider) objectLockReleaseAll(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	who, err := p.lockOwner(ctx)
	if err != nil {
		return nil, 0, err
	}
	return nil, 0, p.write(ctx, func(tx store.Tx) error {
		recs, err := tx.List(ctx, p.locks.held, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			in := r.Instance
			if who.Same(lock.Owner{User: in.String("AssignedUser"), Context: in.String("AssignedObjectLockContext")}) {
				if err := p.dropLock(ctx, tx, in.String("ObjectRelPath")); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
