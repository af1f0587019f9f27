package provider

import (
	"context"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// Mark is the store's generation (store.Generations) taken just before a
// read by GetMarked: while the store's generation is still the same,
// nothing has been written anywhere since, so what was read then is what a
// read now would give. The zero Mark is never current.
type Mark struct{ gen string }

// GetMarked is Get, and the Mark of the read: a caller that keeps what it
// made of the object may ask Unchanged before it serves it again. The
// Mark is zero when the store cannot tell its generation, or when the
// object is one whose answer depends on more than the instance (a scope,
// whose answer counts its members).
func (p *Provider) GetMarked(ctx context.Context, className, key string) (*Object, Mark, error) {
	var m Mark
	if g, ok := p.st.(store.Generations); ok {
		if c, err := p.Class(className); err == nil && p.markable(c) {
			if gen, err := g.Generation(ctx); err == nil {
				m = Mark{gen: gen}
			}
		}
	}
	obj, err := p.Get(ctx, className, key)
	if err != nil {
		return nil, Mark{}, err
	}
	return obj, m, nil
}

// Unchanged reports whether the object that GetMarked returned with m for
// className and key may be served again to the caller of ctx without
// reading the store: the caller may read it exactly as Get decides
// (permissions checked now, for this caller, and a denial recorded as Get
// records it), the caller's security scopes do not restrict what it sees
// of the class (an instance restricted by scope is always read, so that
// its scopes are checked against the store as it is now), and nothing was
// written to the store since m. Outcomes: true; false when the object must
// be read again (GetMarked); Get's errors of authorization.
func (p *Provider) Unchanged(ctx context.Context, className, key string, m Mark) (bool, error) {
	c, pr, err := p.readable(ctx, className, key)
	if err != nil {
		return false, err
	}
	if m.gen == "" || !p.markable(c) || !p.seesAll(pr, c) {
		return false, nil
	}
	g, ok := p.st.(store.Generations)
	if !ok {
		return false, nil
	}
	gen, err := g.Generation(ctx)
	return err == nil && gen == m.gen, nil
}

// markable reports whether Get's answer for an instance of c depends on
// the instance alone (not so for a scope, whose answer counts members).
func (p *Provider) markable(c *cim.Class) bool { return c != p.sec.scope }

// seesAll reports whether visible lets pr see every instance of c without
// reading anything: a caller with every scope, or a class that scopes do
// not restrict.
func (p *Provider) seesAll(pr *auth.Principal, c *cim.Class) bool {
	if pr.AllInstances() {
		return true
	}
	if c == p.sec.membership || c.Name == reverseRefClass {
		return false
	}
	_, scoped := scopedType(c)
	return !scoped
}
