package odata

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
)

// The navigation properties of the strict root: the references between
// task sequences and the packages they use, which the provider keeps as
// SMS_TaskSequencePackageReference rows (one per task sequence and
// referenced object). They are served for $expand; AdminService has none.
const (
	referenceClass = "SMS_TaskSequencePackageReference"
	packageBase    = "SMS_PackageBaseclass"
	tsPackage      = "SMS_TaskSequencePackage"
	// refSequence and refObject are the reference row's keys: the task
	// sequence package and the object it refers to (a package ID, or an
	// application's model name, which no package has).
	refSequence = "PackageID"
	refObject   = "ObjectID"
	packageKey  = "PackageID"
)

// navigation is one navigation property.
type navigation struct {
	name   string
	on     string // the class that declares it
	target string // the class of the entities it leads to
	many   bool
	// follow returns the entities in reads from, those the caller may see.
	follow func(n nav, ctx context.Context, in *cim.Instance) ([]*provider.Object, error)
}

// navigations lists them all.
var navigations = []navigation{
	{name: "ReferencedPackages", on: tsPackage, target: packageBase, many: true,
		follow: func(n nav, ctx context.Context, in *cim.Instance) ([]*provider.Object, error) {
			ids, err := n.referenceColumn(ctx, refSequence, in.String(packageKey), refObject)
			if err != nil {
				return nil, err
			}
			return n.packages(ctx, ids)
		}},
	{name: "ReferencedBy", on: packageBase, target: tsPackage, many: true,
		follow: func(n nav, ctx context.Context, in *cim.Instance) ([]*provider.Object, error) {
			ids, err := n.referenceColumn(ctx, refObject, in.String(packageKey), refSequence)
			if err != nil {
				return nil, err
			}
			return n.byKey(ctx, tsPackage, ids)
		}},
	{name: "TaskSequencePackage", on: referenceClass, target: tsPackage,
		follow: func(n nav, ctx context.Context, in *cim.Instance) ([]*provider.Object, error) {
			return n.byKey(ctx, tsPackage, []string{in.String(refSequence)})
		}},
	{name: "ReferencedPackage", on: referenceClass, target: packageBase,
		follow: func(n nav, ctx context.Context, in *cim.Instance) ([]*provider.Object, error) {
			return n.packages(ctx, []string{in.String(refObject)})
		}},
}

// navigationsOf returns the navigation properties c's type declares, when
// the registry has every class they need.
func (m *schemaModel) navigationsOf(c *cim.Class) []navigation {
	if !m.hasNavigation() {
		return nil
	}
	var out []navigation
	for _, n := range navigations {
		if strings.EqualFold(n.on, c.Name) {
			out = append(out, n)
		}
	}
	return out
}

// hasNavigation reports whether the registry has the classes and keys the
// navigation properties read.
func (m *schemaModel) hasNavigation() bool {
	for _, need := range [][2]string{{referenceClass, refSequence}, {referenceClass, refObject}, {packageBase, packageKey}, {tsPackage, packageKey}} {
		c, ok := m.reg.Class(need[0])
		if !ok {
			return false
		}
		if _, ok := c.Property(need[1]); !ok {
			return false
		}
	}
	return true
}

// navigationOf finds the navigation property name of c (or of a class it
// derives from).
func (m *schemaModel) navigationOf(c *cim.Class, name string) (navigation, bool) {
	for t := c; t != nil; {
		for _, n := range m.navigationsOf(t) {
			if strings.EqualFold(n.name, name) {
				return n, true
			}
		}
		s, ok := m.reg.Class(t.Superclass)
		if !ok {
			break
		}
		t = s
	}
	return navigation{}, false
}

// allNavigations returns the navigation properties of c, inherited ones
// included.
func (m *schemaModel) allNavigations(c *cim.Class) []navigation {
	var out []navigation
	for t := c; t != nil; {
		out = append(out, m.navigationsOf(t)...)
		s, ok := m.reg.Class(t.Superclass)
		if !ok {
			break
		}
		t = s
	}
	return out
}

// parseExpand reads $expand (names of navigation properties, or *) and
// returns the other options without it. Nested options are not supported.
func (m *schemaModel) parseExpand(q url.Values, c *cim.Class) ([]navigation, url.Values, error) {
	rest := url.Values{}
	var expand []navigation
	for k, vs := range q {
		if !strings.EqualFold(k, "$expand") {
			rest[k] = vs
			continue
		}
		if len(vs) != 1 {
			return nil, nil, errs.Target(errs.Invalid, k, "query option %s given %d times", k, len(vs))
		}
		for _, item := range strings.Split(vs[0], ",") {
			item = strings.TrimSpace(item)
			switch {
			case strings.ContainsAny(item, "(/"):
				return nil, nil, errs.Target(errs.NotImplemented, "$expand", "$expand: options inside an expanded property and paths are not supported (%s)", item)
			case item == "*":
				expand = append(expand, m.allNavigations(c)...)
			default:
				n, ok := m.navigationOf(c, item)
				if !ok {
					return nil, nil, errs.Target(errs.Invalid, item, "$expand: %s has no navigation property %q", c.Name, item)
				}
				expand = append(expand, n)
			}
		}
	}
	return expand, rest, nil
}

// nav follows navigation properties through the provider, as the caller.
type nav struct {
	h *Handler
}

// referenceColumn returns column `want` of the reference rows whose
// column `by` is value.
func (n nav) referenceColumn(ctx context.Context, by, value, want string) ([]string, error) {
	f, err := query.ParseFilter(by + " eq " + literal(value))
	if err != nil {
		return nil, err
	}
	res, err := n.h.prov.List(ctx, referenceClass, provider.ListOptions{Filter: f})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(res.Objects))
	for _, o := range res.Objects {
		out = append(out, o.Instance.String(want))
	}
	return out, nil
}

// packages returns the packages with the given IDs, of whatever package
// class; IDs of no package (applications, dangling references) give
// nothing.
func (n nav) packages(ctx context.Context, ids []string) ([]*provider.Object, error) {
	var out []*provider.Object
	for _, c := range n.h.model.EntitySets() {
		if !c.IsA(packageBase) || len(ids) == 0 {
			continue
		}
		found, err := n.byKey(ctx, c.Name, ids)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// byKey returns the instances of class whose PackageID is one of ids, in
// the order of ids.
func (n nav) byKey(ctx context.Context, class string, ids []string) ([]*provider.Object, error) {
	const chunk = 100
	byID := map[string]*provider.Object{}
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		lits := make([]string, len(part))
		for i, id := range part {
			lits[i] = literal(id)
		}
		f, err := query.ParseFilter(fmt.Sprintf("%s in (%s)", packageKey, strings.Join(lits, ",")))
		if err != nil {
			return nil, err
		}
		res, err := n.h.prov.List(ctx, class, provider.ListOptions{Filter: f})
		if err != nil {
			return nil, err
		}
		for _, o := range res.Objects {
			byID[strings.ToUpper(o.Instance.String(packageKey))] = o
		}
	}
	var out []*provider.Object
	for _, id := range ids {
		if o, ok := byID[strings.ToUpper(id)]; ok {
			out = append(out, o)
			delete(byID, strings.ToUpper(id))
		}
	}
	return out, nil
}

// literal is s as an OData string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// expand adds the expanded navigation properties to the entity o of in.
func (h *Handler) expand(ctx context.Context, f format, o *cim.JSONObject, in *cim.Instance, expand []navigation) error {
	for _, n := range expand {
		objs, err := n.follow(nav{h}, ctx, in)
		if err != nil {
			return fmt.Errorf("$expand %s: %w", n.name, err)
		}
		target, _ := h.reg.Class(n.target)
		if !n.many {
			if len(objs) == 0 {
				o.Set(n.name, nil)
			} else {
				o.Set(n.name, encoder{f}.entity(target, objs[0], false, nil))
			}
			continue
		}
		vals := make([]any, 0, len(objs))
		for _, obj := range objs {
			vals = append(vals, encoder{f}.entity(target, obj, false, nil))
		}
		o.Set(n.name, vals)
	}
	return nil
}
