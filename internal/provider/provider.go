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
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/events"
	"github.com/tsprov/tsprov/internal/lock"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/secrets"
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
	// ParentSite is the code of the site this one reports to in a
	// hierarchy ("" for none); it must be registered (RegisterSite).
	ParentSite string
	// ServerName is the name the server reports in __SERVER and __PATH.
	ServerName string
	Logger     *slog.Logger
	// Secrets seals the Secret and QuasiSecret values of task sequences
	// before they are stored. Nil: a key that lives as long as the
	// process (values sealed with it cannot be opened after a restart).
	Secrets *secrets.Box
	// EventRetention is how many of the newest change events TrimEvents
	// keeps in the feed (0: DefaultEventRetention; below 0: all).
	EventRetention int64
	// WebhookHosts are the destinations webhooks may POST to (empty: any).
	WebhookHosts events.Destinations
	// LockTimeout is how long a SEDO lock lives after its holder's last
	// activity (0: lock.DefaultTTL, 30 minutes).
	LockTimeout time.Duration
	// Clock tells the time for lock expiry (nil: time.Now).
	Clock func() time.Time
	// Listeners are the components AddChangeNotification wakes.
	Listeners []ChangeListener
	// HistoryKeep is how many of the newest revisions of each instance
	// the history keeps (0: all).
	HistoryKeep int64
	// Content is the content library package sources are snapshotted
	// into (nil: none; the content methods then answer Unavailable).
	Content *content.Library
	// Distribution tunes the distribution jobs' retries and leases.
	Distribution distribution.Options
}

// DefaultEventRetention is the number of change events the feed keeps
// when Config.EventRetention is 0.
const DefaultEventRetention = 100_000

// Provider serves the classes of a registry from a store.
type Provider struct {
	reg            *cim.Registry
	st             store.Store
	site           string
	parent         string
	server         string
	log            *slog.Logger
	codec          *taskseq.Codec
	rules          []classRules
	calls          map[string]methodFunc // "class.method" (lower case) → implementation
	sec            securityClasses
	opClass        *cim.Class
	typeClass      map[int64]*cim.Class // secured object type → its class
	box            *secrets.Box
	tokens         *principalCache
	retention      int64 // Config.EventRetention, defaults applied
	hookHosts      events.Destinations
	locks          lockClasses
	lockTTL        time.Duration
	clock          func() time.Time
	listeners      []ChangeListener
	historyKeep    int64 // Config.HistoryKeep
	lib            *content.Library
	contentClasses contentClasses
	snapshots      snapshotTracker // the snapshots under way, by package
	dist           *distribution.Service
	// dpContent tells which packages have content on no distribution
	// point (nil: the schema has no distribution state).
	dpContent contentLocator
	distWake  func()
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
	if cfg.ParentSite != "" && !siteCodePattern.MatchString(cfg.ParentSite) {
		return nil, errs.E(errs.Invalid, "parent site code %q must be three letters or digits", cfg.ParentSite)
	}
	if strings.EqualFold(cfg.ParentSite, cfg.SiteCode) {
		return nil, errs.E(errs.Invalid, "site %s cannot be its own parent site", strings.ToUpper(cfg.SiteCode))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Provider{
		reg:    cfg.Registry,
		st:     cfg.Store,
		site:   strings.ToUpper(cfg.SiteCode),
		parent: strings.ToUpper(cfg.ParentSite),
		server: cfg.ServerName,
		log:    cfg.Logger,
	}
	p.retention = cfg.EventRetention
	p.hookHosts = cfg.WebhookHosts
	if p.retention == 0 {
		p.retention = DefaultEventRetention
	}
	codec, err := taskseq.NewCodec(cfg.Registry)
	if err != nil {
		return nil, err
	}
	p.codec = codec
	if p.sec, err = lookupSecurityClasses(cfg.Registry); err != nil {
		return nil, err
	}
	p.box = cfg.Secrets
	if p.box == nil {
		p.box = secrets.Ephemeral()
	}
	p.tokens = newPrincipalCache()
	if p.locks, err = lookupLockClasses(cfg.Registry); err != nil {
		return nil, err
	}
	p.lockTTL, p.clock = cfg.LockTimeout, cfg.Clock
	if p.lockTTL <= 0 {
		p.lockTTL = lock.DefaultTTL
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	p.listeners = cfg.Listeners
	p.lib = cfg.Content
	if p.contentClasses, err = lookupContentClasses(cfg.Registry); err != nil {
		return nil, err
	}
	p.opClass, _ = cfg.Registry.Class("SMS_ARoleOperation")
	p.typeClass = map[int64]*cim.Class{}
	for _, c := range cfg.Registry.Classes() {
		if t, ok := scopedType(c); ok && storable(c) == nil {
			p.typeClass[t] = c
		}
	}
	if cfg.HistoryKeep < 0 {
		return nil, errs.E(errs.Invalid, "history retention %d is negative (0 keeps every revision)", cfg.HistoryKeep)
	}
	p.historyKeep = cfg.HistoryKeep
	if p.dist, err = distribution.New(cfg.Registry, cfg.Distribution); err != nil {
		return nil, err
	}
	if c, ok := cfg.Registry.Class(summaryClass); ok {
		p.dpContent = dpStatus{summary: c}
	}
	p.rules = []classRules{packageRules{p}, lockRules{p}, referenceRules{p}, securityRules{p}, historyRules{p}, deploymentRules{p}, deployedPackageRules{p}, clientSettingsRules{p}, distributionRules{p}}
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
	case !c.HasKey():
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
	stripSealed(rec.Instance)
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

// Get returns the instance with its lazy properties filled, secrets
// emptied.
// Outcomes: the object; errs.NotFound for an unknown or Private class, an
// unknown key, or an instance outside the caller's security scopes (the
// same answer); errs.Invalid for a class without instances of its own;
// errs.Unauthenticated when ctx carries no principal; errs.Forbidden when
// the caller's roles do not grant Read.
//
// Every public method of the Provider authorizes the principal that ctx
// carries (auth.WithPrincipal) in the same way, and records a permission
// denial in the audit trail.
func (p *Provider) Get(ctx context.Context, className, key string) (*Object, error) {
	obj, _, err := p.get(ctx, className, key, false)
	return obj, err
}

// get is Get, and with marked the Mark of its read (GetMarked).
func (p *Provider) get(ctx context.Context, className, key string, marked bool) (*Object, Mark, error) {
	c, pr, err := p.readable(ctx, className, key)
	if err != nil {
		return nil, Mark{}, err
	}
	var m Mark
	if marked {
		m = p.mark(ctx, c)
	}
	var rec *store.Record
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err = p.getVisible(ctx, tx, pr, c, key, true)
		if err == nil && c == p.sec.scope {
			err = p.countScope(ctx, tx, rec.Instance)
		}
		if err == nil && m.gen != "" {
			p.markScopes(ctx, tx, &m, rec.Instance)
		}
		return err
	})
	if err != nil {
		return nil, Mark{}, fmt.Errorf("get %s(%q): %w", c.Name, key, err)
	}
	return p.object(rec), m, nil
}

// getVisible reads an instance the caller may see; one it may not see is
// reported exactly as one that does not exist.
func (p *Provider) getVisible(ctx context.Context, tx store.ReadTx, pr *auth.Principal, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	rec, err := tx.Get(ctx, c, key, lazy)
	if errs.Is(err, errs.NotFound) {
		return nil, absent(c, key)
	}
	if err != nil {
		return nil, err
	}
	if err := p.visible(ctx, tx, pr, rec.Instance, key); err != nil {
		return nil, err
	}
	return rec, nil
}

// ListOptions shapes a List.
type ListOptions struct {
	// Filter is a parsed query (OData $filter or WQL WHERE); Provider.List
	// checks it against the class.
	Filter  query.Expr
	OrderBy []store.Order
	// After, when not nil, starts the list right after the instance at
	// this place of the order (keyset paging; Position); Skip counts from
	// there.
	After *Position
	Skip  int
	Top   int // 0: no limit
	Count bool

	countOnly bool // Count: the total alone, no instances
}

// Position is the place of an instance in a list's order: the values of
// its properties that OrderBy names, in that order (nil for null), and
// its key (cim.Instance.Key). A page that ends at an instance lets the
// next start after it (ListOptions.After) at the cost of the first page,
// however far into the list.
type Position = store.Position

// PositionOf is the position of instance in in the order orders.
func PositionOf(in *cim.Instance, orders []store.Order) *Position {
	pos := &Position{Key: in.Key(), Values: make([]any, len(orders))}
	for i, o := range orders {
		pos.Values[i], _ = in.Get(o.Property)
	}
	return pos
}

// ListResult is a page of instances and, when asked, the total count.
type ListResult struct {
	Objects []*Object
	Total   int64 // -1 unless Count was asked
}

// List returns the instances of a class the caller may see (its security
// scopes), lazy properties absent.
func (p *Provider) List(ctx context.Context, className string, opts ListOptions) (*ListResult, error) {
	c, _, err := p.readable(ctx, className, "")
	if err != nil {
		return nil, err
	}
	return p.list(ctx, c, opts)
}

// Count returns how many instances of a class the caller may see (its
// security scopes) match filter (nil: all). It costs what counting costs:
// no instance is read, except where List would evaluate the filter or
// the caller's scopes on each instance.
func (p *Provider) Count(ctx context.Context, className string, filter query.Expr) (int64, error) {
	c, _, err := p.readable(ctx, className, "")
	if err != nil {
		return 0, err
	}
	res, err := p.list(ctx, c, ListOptions{Filter: filter, Count: true, countOnly: true})
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// readable returns the class named className, served and with instances
// of its own, when the caller may read it (key "" for the collection);
// a denial is recorded in the audit trail.
func (p *Provider) readable(ctx context.Context, className, key string) (*cim.Class, *auth.Principal, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, nil, err
	}
	if err := notServed(c); err != nil {
		return nil, nil, err
	}
	if err := storable(c); err != nil {
		return nil, nil, err
	}
	pr, err := p.authorize(ctx, c, key, auth.Read)
	if err != nil {
		return nil, nil, p.audited(ctx, err)
	}
	return c, pr, nil
}

// changeable returns the class named className when clients may create,
// change and delete its instances through the public entry points.
func (p *Provider) changeable(className string) (*cim.Class, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if err := notServed(c); err != nil {
		return nil, err
	}
	if err := p.writable(c); err != nil {
		return nil, err
	}
	return c, nil
}

// list lists the instances of c the caller sees (authorization done).
func (p *Provider) list(ctx context.Context, c *cim.Class, opts ListOptions) (*ListResult, error) {
	pr, err := caller(ctx)
	if err != nil {
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
		keep, err := p.visibility(ctx, tx, pr, c)
		if err != nil {
			return err
		}
		if rest != nil || keep != nil {
			return p.listEvaluated(ctx, tx, c, push, rest, keep, opts, res)
		}
		if !opts.countOnly {
			recs, err := tx.List(ctx, c, store.ListOptions{Filter: push, OrderBy: opts.OrderBy, After: opts.After, Offset: opts.Skip, Limit: opts.Top})
			if err != nil {
				return err
			}
			for _, r := range recs {
				res.Objects = append(res.Objects, p.object(r))
			}
		}
		if opts.Count {
			res.Total, err = tx.Count(ctx, c, push)
		}
		return err
	})
	if err == nil && c == p.sec.scope && len(res.Objects) > 0 {
		err = p.st.Read(ctx, func(tx store.ReadTx) error {
			for _, o := range res.Objects {
				if err := p.countScope(ctx, tx, o.Instance); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.Name, err)
	}
	return res, nil
}

// listEvaluated answers a filter that tests lazy properties, or a caller
// limited to some security scopes: the store returns the candidates the
// searchable terms (push) select, in order; those the caller may not see
// (keep) are dropped; the rest of the filter is evaluated on each
// candidate with its lazy values loaded; then skip and top apply.
func (p *Provider) listEvaluated(ctx context.Context, tx store.ReadTx, c *cim.Class, push, rest query.Expr, keep func(*cim.Instance) bool, opts ListOptions, res *ListResult) error {
	recs, err := tx.List(ctx, c, store.ListOptions{Filter: push, OrderBy: opts.OrderBy, After: opts.After})
	if err != nil {
		return err
	}
	var matched int64
	for _, r := range recs {
		if keep != nil && !keep(r.Instance) {
			continue
		}
		if rest != nil {
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
		}
		matched++
		if opts.countOnly || matched <= int64(opts.Skip) || (opts.Top > 0 && len(res.Objects) >= opts.Top) {
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
// errs.Conflict when the key exists; errs.NotFound for an unknown class;
// errs.Forbidden without Create. A secured object lands in the caller's
// scopes. The change and its audit record commit together.
func (p *Provider) Create(ctx context.Context, in *cim.Instance) (*Object, error) {
	c, err := p.changeable(in.Class.Name)
	if err != nil {
		return nil, err
	}
	snap, err := p.snapshotForWrite(ctx, c, nil, in)
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("create %s: %w", c.Name, err))
	}
	var stored *store.Record
	err = p.write(ctx, func(tx store.Tx) error {
		inst, err := p.createTx(ctx, tx, in, snap.publish(ctx, tx))
		if err != nil {
			return err
		}
		stored, err = p.readBack(ctx, tx, c, inst.Key())
		return err
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("create %s: %w", c.Name, err))
	}
	return p.object(stored), nil
}

// readBack reads, in the transaction that wrote it, the instance a write
// left, as Get shows it: the answer to a write is the state that write
// made, never a later one another writer committed in between.
func (p *Provider) readBack(ctx context.Context, tx store.Tx, c *cim.Class, key string) (*store.Record, error) {
	rec, err := tx.Get(ctx, c, key, true)
	if err == nil && c == p.sec.scope {
		err = p.countScope(ctx, tx, rec.Instance)
	}
	return rec, err
}

// serverValues sets the properties only the server writes (Sequence,
// References, …) after the client's values are applied.
type serverValues func(inst *cim.Instance) error

// createTx builds and inserts a new instance within tx.
func (p *Provider) createTx(ctx context.Context, tx store.Tx, in *cim.Instance, server serverValues) (*cim.Instance, error) {
	c := in.Class
	pr, err := p.authorize(ctx, c, "", auth.Create)
	if err != nil {
		return nil, err
	}
	inst := defaults(c)
	for _, r := range p.rulesFor(c) {
		if err := r.beforeCreate(ctx, tx, inst); err != nil {
			return nil, err
		}
	}
	if err := applyClientValues(inst, in, nil); err != nil {
		return nil, err
	}
	inst.Annotations = in.Annotations // the rules may read them (@tsprov.force); never stored
	for _, r := range p.rulesFor(c) {
		if err := r.settle(ctx, tx, nil, inst); err != nil {
			return nil, err
		}
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
	if err := p.checkSecurity(ctx, tx, pr, nil, inst); err != nil {
		return nil, err
	}
	scopes, err := p.placeInScopes(ctx, tx, pr, inst)
	if err != nil {
		return nil, err
	}
	inst.Annotations = nil
	if err := tx.Insert(ctx, &store.Record{Instance: inst}); err != nil {
		return nil, err
	}
	if err := p.addMemberships(ctx, tx, inst, scopes); err != nil {
		return nil, err
	}
	for _, r := range p.rulesFor(c) {
		if err := r.afterWrite(ctx, tx, nil, inst); err != nil {
			return nil, err
		}
	}
	if err := p.audit(ctx, tx, auditEntry{pr: pr, action: "Create", class: c.Name, key: inst.Key(), properties: changedProperties(nil, inst)}); err != nil {
		return nil, err
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
// errs.PreconditionFailed; errs.Invalid naming the property; errs.Forbidden
// without Modify (an instance outside the caller's scopes is NotFound).
func (p *Provider) Update(ctx context.Context, className, key string, in *cim.Instance, mode UpdateMode, ifMatch string) (*Object, error) {
	c, err := p.changeable(className)
	if err != nil {
		return nil, err
	}
	if in.Class != c {
		return nil, errs.E(errs.Invalid, "the body describes a %s, not a %s", in.Class.Name, c.Name)
	}
	var snap *pendingSnapshot
	if c.IsA(packageBase) {
		cur, err := p.Get(ctx, c.Name, key)
		if err != nil {
			return nil, err
		}
		if snap, err = p.snapshotForWrite(ctx, c, cur.Instance, in); err != nil {
			return nil, p.audited(ctx, fmt.Errorf("update %s(%q): %w", c.Name, key, err))
		}
	}
	var stored *store.Record
	err = p.write(ctx, func(tx store.Tx) error {
		inst, err := p.updateTx(ctx, tx, c, key, in, mode, ifMatch, snap.publish(ctx, tx))
		if err != nil {
			return err
		}
		stored, err = p.readBack(ctx, tx, c, inst.Key())
		return err
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("update %s(%q): %w", c.Name, key, err))
	}
	return p.object(stored), nil
}

// updateTx applies an update within tx and returns the stored instance.
func (p *Provider) updateTx(ctx context.Context, tx store.Tx, c *cim.Class, key string, in *cim.Instance, mode UpdateMode, ifMatch string, server serverValues) (*cim.Instance, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// an object the caller may not see is absent, whatever the roles say
	cur, err := p.getVisible(ctx, tx, pr, c, key, true)
	if err != nil {
		return nil, err
	}
	if _, err := p.authorize(ctx, c, key, auth.Modify); err != nil {
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
	for _, r := range p.rulesFor(c) {
		if err := r.settle(ctx, tx, cur.Instance, next); err != nil {
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
	if err := p.checkSecurity(ctx, tx, pr, cur.Instance, next); err != nil {
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
	if err := p.audit(ctx, tx, auditEntry{pr: pr, action: "Update", class: c.Name, key: next.Key(), properties: changedProperties(cur.Instance, next)}); err != nil {
		return nil, err
	}
	return next, nil
}

// Delete removes an instance and its scope memberships. Outcomes: nil;
// errs.NotFound (also outside the caller's scopes); errs.Forbidden without
// Delete; errs.PreconditionFailed when ifMatch is stale.
func (p *Provider) Delete(ctx context.Context, className, key, ifMatch string) error {
	c, err := p.changeable(className)
	if err != nil {
		return err
	}
	pr, err := caller(ctx)
	if err != nil {
		return err
	}
	err = p.write(ctx, func(tx store.Tx) error {
		cur, err := p.getVisible(ctx, tx, pr, c, key, true)
		if err != nil {
			return err
		}
		if _, err := p.authorize(ctx, c, key, auth.Delete); err != nil {
			return err
		}
		if err := p.checkSecurity(ctx, tx, pr, cur.Instance, nil); err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != "*" && ifMatch != etag(cur) {
			return errs.E(errs.PreconditionFailed, "%s(%q) has changed since it was read", c.Name, key)
		}
		if err := tx.Delete(ctx, c, key); err != nil {
			return err
		}
		if err := p.dropMemberships(ctx, tx, cur.Instance); err != nil {
			return err
		}
		for _, r := range p.rulesFor(c) {
			if err := r.afterWrite(ctx, tx, cur.Instance, nil); err != nil {
				return err
			}
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "Delete", class: c.Name, key: cur.Instance.Key()})
	})
	if err != nil {
		return p.audited(ctx, fmt.Errorf("delete %s(%q): %w", c.Name, key, err))
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
