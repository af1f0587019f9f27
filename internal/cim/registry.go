package cim

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Registry holds every class that the schema declares.
type Registry struct {
	classes  map[string]*Class // by lower-case name
	exact    map[string]*Class // by declared name: the common, cheaper lookup
	order    []*Class          // declaration order
	children map[string][]*Class
	decls    []classDecl // as parsed, for Extend
}

// Load parses every *.mof file in fsys (in name order) and resolves the
// classes. Any error names the file and line, or the class and property.
func Load(fsys fs.FS) (*Registry, error) {
	names, err := fs.Glob(fsys, "*.mof")
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.mof files in schema")
	}
	sort.Strings(names)
	var decls []classDecl
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read schema file: %w", err)
		}
		ds, err := ParseMOF(path.Base(n), src)
		if err != nil {
			return nil, fmt.Errorf("parse schema: %w", err)
		}
		decls = append(decls, ds...)
	}
	return resolve(decls)
}

// Source is one MOF text and the name its errors give (a file path).
type Source struct {
	Name string
	Text []byte
}

// Extend returns a new registry that holds r's classes and those the
// sources declare; r does not change. The new classes may derive from r's.
// Outcomes: the registry and the classes the sources added, in declaration
// order; or an error naming the file and line: a source that does not
// parse, a class that r (or another source) already declares, an unknown
// superclass or property type.
func (r *Registry) Extend(sources ...Source) (*Registry, []*Class, error) {
	decls := append([]classDecl(nil), r.decls...)
	declared := map[string]string{} // lower-case name → position
	for _, d := range r.decls {
		declared[strings.ToLower(d.Name)] = d.Pos
	}
	var added []string
	for _, src := range sources {
		ds, err := ParseMOF(src.Name, src.Text)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			k := strings.ToLower(d.Name)
			if at, dup := declared[k]; dup {
				return nil, nil, fmt.Errorf("%s: class %s clashes with the class declared at %s", d.Pos, d.Name, at)
			}
			declared[k] = d.Pos
			added = append(added, d.Name)
		}
		decls = append(decls, ds...)
	}
	ext, err := resolve(decls)
	if err != nil {
		return nil, nil, err
	}
	classes := make([]*Class, len(added))
	for i, name := range added {
		classes[i], _ = ext.Class(name)
	}
	return ext, classes, nil
}

func resolve(decls []classDecl) (*Registry, error) {
	byName := map[string]*classDecl{}
	for i := range decls {
		k := strings.ToLower(decls[i].Name)
		if _, dup := byName[k]; dup {
			return nil, fmt.Errorf("%s: class %s declared twice", decls[i].Pos, decls[i].Name)
		}
		byName[k] = &decls[i]
	}
	r := &Registry{classes: map[string]*Class{}, exact: map[string]*Class{}, children: map[string][]*Class{}, decls: decls}
	var build func(d *classDecl, seen map[string]bool) (*Class, error)
	build = func(d *classDecl, seen map[string]bool) (*Class, error) {
		k := strings.ToLower(d.Name)
		if c, ok := r.classes[k]; ok {
			return c, nil
		}
		if seen[k] {
			return nil, fmt.Errorf("%s: class %s derives from itself", d.Pos, d.Name)
		}
		seen[k] = true
		c := &Class{Name: d.Name, Pos: d.Pos, props: map[string]*Property{}, methods: map[string]*Method{}}
		if d.Superclass != "" {
			sd, ok := byName[strings.ToLower(d.Superclass)]
			if !ok {
				return nil, fmt.Errorf("%s: class %s: unknown superclass %s", d.Pos, d.Name, d.Superclass)
			}
			base, err := build(sd, seen)
			if err != nil {
				return nil, err
			}
			c.Superclass = base.Name
			c.Derivation = append([]string{base.Name}, base.Derivation...)
			for _, q := range base.Qualifiers {
				if inheritableClassQualifier(q.Name) {
					c.Qualifiers = c.Qualifiers.set(q)
				}
			}
			for _, p := range base.Properties {
				c.Properties = append(c.Properties, p)
				c.props[strings.ToLower(p.Name)] = p
			}
			for _, m := range base.Methods {
				c.Methods = append(c.Methods, m)
				c.methods[strings.ToLower(m.Name)] = m
			}
		}
		for _, q := range d.Qualifiers {
			c.Qualifiers = c.Qualifiers.set(q)
		}
		for _, pd := range d.Properties {
			p, err := newProperty(d.Name, pd)
			if err != nil {
				return nil, err
			}
			k := strings.ToLower(p.Name)
			if old, ok := c.props[k]; ok {
				if old.Type != p.Type {
					return nil, fmt.Errorf("%s: %s.%s overrides %s.%s with another type", pd.Pos, d.Name, p.Name, old.Origin, old.Name)
				}
				for i := range c.Properties {
					if c.Properties[i] == old {
						c.Properties[i] = p
					}
				}
			} else {
				c.Properties = append(c.Properties, p)
			}
			c.props[k] = p
		}
		for _, m := range d.Methods {
			k := strings.ToLower(m.Name)
			if old, ok := c.methods[k]; ok {
				for i := range c.Methods {
					if c.Methods[i] == old {
						c.Methods[i] = m
					}
				}
			} else {
				c.Methods = append(c.Methods, m)
			}
			c.methods[k] = m
		}
		c.exact = make(map[string]*Property, len(c.Properties))
		for _, p := range c.Properties {
			c.exact[p.Name] = p
		}
		c.asciiLineage = c.lineageIsASCII()
		c.keys, c.keysKnown = c.findKeys(), true
		r.classes[k] = c
		r.exact[c.Name] = c
		return c, nil
	}
	for i := range decls {
		if _, err := build(&decls[i], map[string]bool{}); err != nil {
			return nil, err
		}
	}
	for i := range decls {
		c := r.classes[strings.ToLower(decls[i].Name)]
		r.order = append(r.order, c)
		if c.Superclass != "" {
			k := strings.ToLower(c.Superclass)
			r.children[k] = append(r.children[k], c)
		}
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// inheritableClassQualifier: Abstract applies to the class that says it
// only; the rest (Secured, Embedded, …) pass to subclasses.
func inheritableClassQualifier(name string) bool {
	return !strings.EqualFold(name, "Abstract")
}

func newProperty(class string, pd propDecl) (*Property, error) {
	p := &Property{Name: pd.Name, Type: pd.Type, Qualifiers: pd.Qualifiers, Origin: class}
	where := fmt.Sprintf("%s: %s.%s", pd.Pos, class, pd.Name)
	if vals, ok := p.Qualifiers.Strings("bits"); ok {
		if _, isBool := mustQual(p.Qualifiers, "bits").Value.(bool); !isBool {
			bits, err := parseBits(vals)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			p.bits = bits
		}
	}
	p.openBits = p.Qualifiers.Has("OpenBits")
	if s := p.Qualifiers.String("Range"); s != "" {
		lo, hi, err := parseRange(s)
		if err != nil {
			return nil, fmt.Errorf("%s: Range: %w", where, err)
		}
		p.rangeLo, p.rangeHi, p.hasRange = lo, hi, true
	}
	if vals, ok := p.Qualifiers.Strings("ValueMap"); ok {
		p.valueMap, p.hasValues = vals, true
	}
	if pd.HasDefault && pd.Default != nil {
		v, err := fromLiteral(p.Type, pd.Default)
		if err != nil {
			return nil, fmt.Errorf("%s: default: %w", where, err)
		}
		p.Default = v
	}
	return p, nil
}

func mustQual(qs Qualifiers, name string) Qualifier {
	q, _ := qs.Get(name)
	return q
}

// check verifies that every embedded type names a known class and that
// every default obeys its own property's rules.
func (r *Registry) check() error {
	for _, c := range r.order {
		for _, p := range c.Properties {
			if p.Origin != c.Name {
				continue
			}
			if p.Type.Kind == Object && p.Type.Class != "" {
				if _, ok := r.Class(p.Type.Class); !ok {
					return fmt.Errorf("%s: %s.%s: unknown class %s", c.Pos, c.Name, p.Name, p.Type.Class)
				}
			}
			if p.Default != nil {
				if err := p.Check(p.Default); err != nil {
					return fmt.Errorf("%s: %s.%s: default breaks its own rule: %w", c.Pos, c.Name, p.Name, err)
				}
			}
		}
		for _, m := range c.Methods {
			if m.Origin != c.Name {
				continue
			}
			for _, prm := range m.Params {
				if prm.Type.Kind == Object && prm.Type.Class != "" {
					if _, ok := r.Class(prm.Type.Class); !ok {
						return fmt.Errorf("%s: %s.%s(%s): unknown class %s", c.Pos, c.Name, m.Name, prm.Name, prm.Type.Class)
					}
				}
			}
		}
	}
	return nil
}

// Class returns the class named name (case-insensitive).
func (r *Registry) Class(name string) (*Class, bool) {
	if c, ok := r.exact[name]; ok {
		return c, true
	}
	c, ok := r.classes[strings.ToLower(name)]
	return c, ok
}

// Classes returns every class in declaration order.
func (r *Registry) Classes() []*Class { return r.order }

// Subclasses returns the direct subclasses of name.
func (r *Registry) Subclasses(name string) []*Class { return r.children[strings.ToLower(name)] }

// IsStorable reports whether instances of c can be created and stored on
// their own: concrete, not embedded, and keyed.
func (c *Class) IsStorable() bool {
	return !c.IsAbstract() && !c.IsEmbedded() && len(c.Keys()) > 0
}
