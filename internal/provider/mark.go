package provider

import (
	"context"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// Mark is the store's generation (store.Generations) taken just before a
// read by GetMarked, and, for an instance that security scopes restrict,
// the scopes it was in at that read: while the store's generation is still
// the same, nothing has been written anywhere since, so what was read then
// (the instance and its scopes) is what a read now would give. The zero
// Mark is never current.
type Mark struct {
	gen    string
	scoped bool     // scopes were read
	scopes []string // the instance's security scopes (objectScopes)
}

// Zero reports whether m is the zero Mark, which is never current.
func (m Mark) Zero() bool { return m.gen == "" }

// GetMarked is Get, and the Mark of the read: a caller that keeps what it
// made of the object may ask Unchanged before it serves it again. The
// Mark is zero when the store cannot tell its generation, or when the
// object is one whose answer depends on more than the instance (a scope,
// whose answer counts its members).
func (p *Provider) GetMarked(ctx context.Context, className, key string) (*Object, Mark, error) {
	return p.get(ctx, className, key, true)
}

// mark is the Mark to take before a read of an instance of c: the
// store's generation, when it tells one and c is markable.
func (p *Provider) mark(ctx context.Context, c *cim.Class) Mark {
	g, ok := p.st.(store.Generations)
	if !ok || !p.markable(c) {
		return Mark{}
	}
	gen, err := g.Generation(ctx)
	if err != nil {
		return Mark{}
	}
	return Mark{gen: gen}
}

// markScopes notes in m the security scopes of in, read in tx, when
// scopes restrict its class as they do in visible. When they cannot be
// read, m says so and Unchanged will send a restricted caller to the
// store.
func (p *Provider) markScopes(ctx context.Context, tx store.ReadTx, m *Mark, in *cim.Instance) {
	c := in.Class
	if c == p.sec.membership || c.Name == reverseRefClass {
		return
	}
	t, ok := scopedType(c)
	if !ok {
		return
	}
	scopes, err := p.objectScopes(ctx, tx, t, in.Key())
	if err != nil {
		return
	}
	m.scoped, m.scopes = true, scopes
}

// Unchanged reports whether the object that GetMarked returned with m for
// className and key may be served again to the caller of ctx without
// reading the store: the caller may read it exactly as Get decides
// (permissions checked now, for this caller, and a denial recorded as Get
// records it), the caller may see it as visible decides, from the scopes
// the instance had at the read, and nothing was written to the store
// since m (so neither the instance nor its scopes changed). Outcomes:
// true; false when the object must be read again (GetMarked), also when
// the caller may not see it (the read then answers as Get does); Get's
// errors of authorization.
func (p *Provider) Unchanged(ctx context.Context, className, key string, m Mark) (bool, error) {
	c, pr, err := p.readable(ctx, className, key)
	if err != nil {
		return false, err
	}
	if m.gen == "" || !p.markable(c) || !p.seesMarked(pr, c, m) {
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

// seesMarked reports whether visible lets pr see the instance of c that
// was read with m, deciding as visible does from the scopes m holds; false
// also when visible would read more than m holds.
func (p *Provider) seesMarked(pr *auth.Principal, c *cim.Class, m Mark) bool {
	if pr.AllInstances() {
		return true
	}
	if c == p.sec.membership || c.Name == reverseRefClass {
		return false
	}
	if _, scoped := scopedType(c); !scoped {
		return true
	}
	return m.scoped && pr.InScope(m.scopes)
}
