// Package provider is the SMS Provider of tsprov: the class rules
// (defaults, read-only and derived properties, id allocation, versions)
// and the class methods, on top of a store. It knows nothing of HTTP.
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// Config configures a Provider.
type Config struct {
	Registry *cim.Registry
	Store    store.Store
	// SiteCode is the three-character code of the site this server is
	// (PS1 by default).
	SiteCode string
	// ServerName is the name the server reports in __SERVER and __PATH.
	ServerName string
	Logger     *slog.Logger
}

// Provider serves the classes of a registry from a store.
type Provider struct {
	reg    *cim.Registry
	st     store.Store
	site   string
	server string
	log    *slog.Logger
	codec  *taskseq.Codec
	rules  []classRules
	calls  map[string]methodFunc // "class.method" (lower case) → implementation
}

var siteCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{3}$`)

// New returns a Provider. The site code must be three letters or digits.
func New(cfg Config) (*Provider, error) {
	if cfg.Registry == nil || cfg.Store == nil {
		return nil, fmt.Errorf("provider: registry and store are required")
	}
	if !siteCodePattern.MatchString(cfg.SiteCode) {
		return nil, errs.E(errs.Invalid, "site code %q must be three letters or digits", cfg.SiteCode)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Provider{
		reg:    cfg.Registry,
		st:     cfg.Store,
		site:   strings.ToUpper(cfg.SiteCode),
		server: cfg.ServerName,
		log:    cfg.Logger,
	}
	codec, err := taskseq.NewCodec(cfg.Registry)
	if err != nil {
		return nil, err
	}
	p.codec = codec
	p.rules = []classRules{packageRules{p}, referenceRules{p}}
	p.calls = p.methodTable()
	return p, nil
}

// Registry returns the class registry.
func (p *Provider) Registry() *cim.Registry { return p.reg }

// SiteCode returns the site code (upper case).
func (p *Provider) SiteCode() string { return p.site }

// ServerName returns the server name.
func (p *Provider) ServerName() string { return p.server }

// Class returns the class named name, or errs.NotFound.
func (p *Provider) Class(name string) (*cim.Class, error) {
	c, ok := p.reg.Class(name)
	if !ok {
		return nil, errs.Target(errs.NotFound, name, "unknown class %s", name)
	}
	return c, nil
}

// storable returns errs.Invalid when c cannot have instances of its own.
func storable(c *cim.Class) error {
	switch {
	case c.IsEmbedded():
		return errs.E(errs.Invalid, "%s is an embedded class: its objects live inside other objects and have no instances of their own", c.Name)
	case c.IsAbstract():
		return errs.E(errs.Invalid, "%s is an abstract class: use one of the classes that derive from it", c.Name)
	case len(c.Keys()) == 0:
		return errs.E(errs.Invalid, "%s has no key property, so it has no stored instances", c.Name)
	}
	return nil
}

// writable returns an error when clients cannot create, change or delete
// instances of c: classes without instances of their own, and classes
// qualified read (views the server maintains, such as
// SMS_TaskSequencePackageReference).
func (p *Provider) writable(c *cim.Class) error {
	if err := storable(c); err != nil {
		return err
	}
	if c.Qualifiers.Has("read") {
		return errs.E(errs.Invalid, "%s is maintained by the server and is read-only", c.Name)
	}
	return nil
}

// Object is a stored instance and the tag that changes on every write.
type Object struct {
	Instance *cim.Instance
	ETag     string
}

func (p *Provider) object(rec *store.Record) *Object {
	return &Object{Instance: rec.Instance, ETag: etag(rec)}
}

// etag is SedoObjectVersion where the class has it (it changes on every
// write), else the store's version counter.
func etag(rec *store.Record) string {
	if s := rec.Instance.String(sedoProperty); s != "" {
		return s
	}
	return fmt.Sprint(rec.Version)
}

// Get returns the instance with its lazy properties filled.
// Outcomes: the object; errs.NotFound for an unknown class or key;
// errs.Invalid for a class without instances of its own.
func (p *Provider) Get(ctx context.Context, className, key string) (*Object, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if err := storable(c); err != nil {
		return nil, err
	}
	var rec *store.Record
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err = tx.Get(ctx, c, key, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %s(%q): %w", c.Name, key, err)
	}
	return p.object(rec), nil
}

// ListOptions shapes a List.
type ListOptions struct {
	// Filter is a parsed query (OData $filter or WQL WHERE); Provider.List
	// checks it against the class.
	Filter  query.Expr
	OrderBy []store.Order
	Skip    int
	Top     int // 0: no limit
	Count   bool
}

// ListResult is a page of instances and, when asked, the total count.
type ListResult struct {
	Objects []*Object
	Total   int64 // -1 unless Count was asked
}

// List returns instances of a class, lazy properties absent.
func (p *Provider) List(ctx context.Context, className string, opts ListOptions) (*ListResult, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if err := storable(c); err != nil {
		return nil, err
	}
	for _, o := range opts.OrderBy {
		prop, ok := c.Property(o.Property)
		if !ok {
			return nil, errs.Target(errs.Invalid, o.Property, "cannot order by %s: class %s has no such property", o.Property, c.Name)
		}
		if !store.Sortable(prop) {
			return nil, errs.Target(errs.Invalid, o.Property, "cannot order by %s: only scalar properties that are not lazy can be ordered", prop.Name)
		}
	}
	var push, rest query.Expr
	if opts.Filter != nil {
		if err := query.Check(opts.Filter, c, nil); err != nil {
			return nil, err
		}
		push, rest = query.Split(opts.Filter, store.Searchable)
	}
	res := &ListResult{Total: -1}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		if rest != nil {
			return p.listEvaluated(ctx, tx, c, push, rest, opts, res)
		}
		recs, err := tx.List(ctx, c, store.ListOptions{Filter: push, OrderBy: opts.OrderBy, Offset: opts.Skip, Limit: opts.Top})
		if err != nil {
			return err
		}
		for _, r := range recs {
			res.Objects = append(res.Objects, p.object(r))
		}
		if opts.Count {
			res.Total, err = tx.Count(ctx, c, push)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.Name, err)
	}
	return res, nil
}

// listEvaluated answers a filter that tests lazy properties: the store
// returns the candidates the searchable terms (push) select, in order; the
// rest of the filter is evaluated on each candidate with its lazy values
// loaded; then skip and top apply.
func (p *Provider) listEvaluated(ctx context.Context, tx store.ReadTx, c *cim.Class, push, rest query.Expr, opts ListOptions, res *ListResult) error {
	recs, err := tx.List(ctx, c, store.ListOptions{Filter: push, OrderBy: opts.OrderBy})
	if err != nil {
		return err
	}
	var matched int64
	for _, r := range recs {
		full, err := tx.Get(ctx, c, r.Instance.Key(), true)
		if err != nil {
			return err
		}
		ok, err := query.Eval(rest, full.Instance)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		matched++
		if matched <= int64(opts.Skip) || (opts.Top > 0 && len(res.Objects) >= opts.Top) {
			continue
		}
		res.Objects = append(res.Objects, p.object(r))
	}
	if opts.Count {
		res.Total = matched
	}
	return nil
}

// Create stores a new instance built from the class defaults, the class
// rules and the given values. Read-only properties may be given only with
// the value the server assigns (or null). Outcomes: the stored object;
// errs.Invalid naming the property for a value that breaks a rule;
// errs.Conflict when the key exists; errs.NotFound for an unknown class.
func (p *Provider) Create(ctx context.Context, in *cim.Instance) (*Object, error) {
	c := in.Class
	if err := p.writable(c); err != nil {
		return nil, err
	}
	var key string
	err := p.st.Write(ctx, func(tx store.Tx) error {
		inst, err := p.createTx(ctx, tx, in, nil)
		if err != nil {
			return err
		}
		key = inst.Key()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", c.Name, err)
	}
	return p.Get(ctx, c.Name, key)
}

// serverValues sets the properties only the server writes (Sequence,
// References, …) after the client's values are applied.
type serverValues func(inst *cim.Instance) error

// createTx builds and inserts a new instance within tx.
func (p *Provider) createTx(ctx context.Context, tx store.Tx, in *cim.Instance, server serverValues) (*cim.Instance, error) {
	c := in.Class
	inst := defaults(c)
	for _, r := range p.rulesFor(c) {
		if err := r.beforeCreate(ctx, tx, inst); err != nil {
			return nil, err
		}
	}
	if err := applyClientValues(inst, in, nil); err != nil {
		return nil, err
	}
	if server != nil {
		if err := server(inst); err != nil {
			return nil, err
		}
	}
	if err := finish(inst); err != nil {
		return nil, err
	}
	for _, k := range c.Keys() {
		if inst.Values[k.Name] == nil {
			return nil, errs.Target(errs.Invalid, k.Name, "key property %s is required", k.Name)
		}
	}
	if err := tx.Insert(ctx, &store.Record{Instance: inst}); err != nil {
		return nil, err
	}
	for _, r := range p.rulesFor(c) {
		if err := r.afterWrite(ctx, tx, nil, inst); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

// UpdateMode says how an update treats properties the client left out.
type UpdateMode int

const (
	// Replace (PUT): writable properties left out return to their defaults.
	Replace UpdateMode = iota
	// Merge (PATCH): properties left out keep their values.
	Merge
)

// Update changes a stored instance. Lazy properties left out, or given as
// null, always keep their stored values (a client that read the instance
// from a list never saw them). ifMatch, when not "" or "*", must equal the
// current ETag. Outcomes: the stored object; errs.NotFound;
// errs.PreconditionFailed; errs.Invalid naming the property.
func (p *Provider) Update(ctx context.Context, className, key string, in *cim.Instance, mode UpdateMode, ifMatch string) (*Object, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if err := p.writable(c); err != nil {
		return nil, err
	}
	if in.Class != c {
		return nil, errs.E(errs.Invalid, "the body describes a %s, not a %s", in.Class.Name, c.Name)
	}
	err = p.st.Write(ctx, func(tx store.Tx) error {
		_, err := p.updateTx(ctx, tx, c, key, in, mode, ifMatch, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update %s(%q): %w", c.Name, key, err)
	}
	return p.Get(ctx, c.Name, key)
}

// updateTx applies an update within tx and returns the stored instance.
func (p *Provider) updateTx(ctx context.Context, tx store.Tx, c *cim.Class, key string, in *cim.Instance, mode UpdateMode, ifMatch string, server serverValues) (*cim.Instance, error) {
	cur, err := tx.Get(ctx, c, key, true)
	if err != nil {
		return nil, err
	}
	if ifMatch != "" && ifMatch != "*" && ifMatch != etag(cur) {
		return nil, errs.E(errs.PreconditionFailed, "%s(%q) has changed since it was read: its version is %s, the request expected %s", c.Name, key, etag(cur), ifMatch)
	}
	next := cur.Instance.Clone()
	if mode == Replace {
		next = defaults(c)
		for _, prop := range c.Properties {
			if prop.IsKey() || prop.IsReadOnly() || prop.IsLazy() {
				next.Values[prop.Name] = cur.Instance.Values[prop.Name]
			}
		}
	}
	if err := applyClientValues(next, in, cur.Instance); err != nil {
		return nil, err
	}
	for _, r := range p.rulesFor(c) {
		if err := r.beforeUpdate(ctx, tx, cur.Instance, next, in); err != nil {
			return nil, err
		}
	}
	if server != nil {
		if err := server(next); err != nil {
			return nil, err
		}
	}
	if err := finish(next); err != nil {
		return nil, err
	}
	if err := tx.Update(ctx, &store.Record{Instance: next}); err != nil {
		return nil, err
	}
	for _, r := range p.rulesFor(c) {
		if err := r.afterWrite(ctx, tx, cur.Instance, next); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// Delete removes an instance. Outcomes: nil; errs.NotFound;
// errs.PreconditionFailed when ifMatch is stale.
func (p *Provider) Delete(ctx context.Context, className, key, ifMatch string) error {
	c, err := p.Class(className)
	if err != nil {
		return err
	}
	if err := p.writable(c); err != nil {
		return err
	}
	err = p.st.Write(ctx, func(tx store.Tx) error {
		cur, err := tx.Get(ctx, c, key, true)
		if err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != "*" && ifMatch != etag(cur) {
			return errs.E(errs.PreconditionFailed, "%s(%q) has changed since it was read", c.Name, key)
		}
		if err := tx.Delete(ctx, c, key); err != nil {
			return err
		}
		for _, r := range p.rulesFor(c) {
			if err := r.afterWrite(ctx, tx, cur.Instance, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s(%q): %w", c.Name, key, err)
	}
	return nil
}

func (p *Provider) rulesFor(c *cim.Class) []classRules {
	var rs []classRules
	for _, r := range p.rules {
		if r.appliesTo(c) {
			rs = append(rs, r)
		}
	}
	return rs
}
