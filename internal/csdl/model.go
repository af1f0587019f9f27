// Package csdl holds what the two OData roots' $metadata documents share:
// how a class of the registry becomes a CSDL structured type (entity or
// complex, base type, declared properties, keys), the checks that keep a
// document valid, the Edm names of CIM types, and the document itself as a
// tree of CSDL elements written as CSDL XML or CSDL JSON.
package csdl

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
)

// Namespace is the namespace of every type (AdminService's).
const Namespace = cim.Namespace

// Identifier matches a CSDL SimpleIdentifier.
var Identifier identifierPattern

// identifierPattern compiles its expression on first use: its Unicode
// classes take several milliseconds and 5 MB to compile, which every
// tsprov command (ts fmt as well) paid at start when it was compiled at
// package initialisation.
type identifierPattern struct{}

var identifier = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}$`)
})

// MatchString reports whether s is a SimpleIdentifier.
func (identifierPattern) MatchString(s string) bool { return identifier().MatchString(s) }

// Shapes says which classes become complex types.
type Shapes int

const (
	// Faithful shapes are AdminService's: [Embedded] classes (and marker
	// classes) are complex types; every other class is an entity type,
	// keyless or not.
	Faithful Shapes = iota
	// Strict shapes are those OData requires: a class is an entity type
	// only when it has a key (its own or inherited); every other class,
	// embedded or keyless, is a complex type.
	Strict
)

// Model classifies the classes of a registry into CSDL structured types.
type Model struct {
	reg    *cim.Registry
	shapes Shapes
	marker map[*cim.Class]bool
	keyed  map[*cim.Class]bool
}

// NewModel returns the model of reg with the given shapes.
//
// A "marker" class, a root that has subclasses but declares no property and
// no method (the SMS Provider's SMS_BaseClass), is an empty ComplexType and
// its subclasses are roots: no BaseType. A class whose superclass has the
// other kind (complex below entity) is a root too and declares everything
// it inherits.
func NewModel(reg *cim.Registry, shapes Shapes) *Model {
	m := &Model{reg: reg, shapes: shapes, marker: map[*cim.Class]bool{}, keyed: map[*cim.Class]bool{}}
	for _, c := range reg.Classes() {
		m.marker[c] = c.Superclass == "" && !c.IsEmbedded() && len(c.Properties) == 0 && len(c.Methods) == 0 &&
			len(reg.Subclasses(c.Name)) > 0
		m.keyed[c] = len(c.Keys()) > 0
	}
	return m
}

// Registry returns the registry the model describes.
func (m *Model) Registry() *cim.Registry { return m.reg }

// IsMarker reports a marker class (see NewModel).
func (m *Model) IsMarker(c *cim.Class) bool { return m.marker[c] }

// IsComplex reports whether c is written as a ComplexType.
func (m *Model) IsComplex(c *cim.Class) bool {
	if c.IsEmbedded() || m.marker[c] {
		return true
	}
	return m.shapes == Strict && !m.keyed[c]
}

// Base returns the type written as c's BaseType, or nil when c is a root.
func (m *Model) Base(c *cim.Class) *cim.Class {
	if c.Superclass == "" || m.marker[c] {
		return nil
	}
	s, ok := m.reg.Class(c.Superclass)
	if !ok || m.marker[s] || m.IsComplex(s) != m.IsComplex(c) {
		return nil
	}
	return s
}

// IsRoot reports a type written without a BaseType that is not a marker.
func (m *Model) IsRoot(c *cim.Class) bool { return m.Base(c) == nil && !m.marker[c] }

// Declared returns the properties that c's type declares itself, in
// case-insensitive name order: all of them for a root, otherwise those that
// the base type does not have (CSDL forbids redeclaring one).
func (m *Model) Declared(c *cim.Class) []*cim.Property {
	b := m.Base(c)
	var out []*cim.Property
	for _, p := range c.Properties {
		if b != nil {
			if _, inherited := b.Property(p.Name); inherited {
				continue
			}
		}
		out = append(out, p)
	}
	return SortedByName(out, func(p *cim.Property) string { return p.Name })
}

// Keys returns the key properties that c's type declares (entity types
// only).
func (m *Model) Keys(c *cim.Class) []*cim.Property {
	if m.IsComplex(c) {
		return nil
	}
	var keys []*cim.Property
	for _, p := range m.Declared(c) {
		if p.IsKey() {
			keys = append(keys, p)
		}
	}
	return keys
}

// HasKey reports whether c's entity type has a key, its own or inherited.
func (m *Model) HasKey(c *cim.Class) bool {
	for t := c; t != nil; t = m.Base(t) {
		if len(m.Keys(t)) > 0 {
			return true
		}
	}
	return false
}

// HasEntitySet reports whether c is served as an entity set: a public,
// concrete entity type with a key.
func (m *Model) HasEntitySet(c *cim.Class) bool {
	return !m.IsComplex(c) && !c.IsAbstract() && !c.IsPrivate() && m.HasKey(c)
}

// EntitySets returns the classes served as entity sets, in registry order.
func (m *Model) EntitySets() []*cim.Class {
	var sets []*cim.Class
	for _, c := range m.reg.Classes() {
		if m.HasEntitySet(c) {
			sets = append(sets, c)
		}
	}
	return sets
}

// Qualified is c's qualified type name.
func Qualified(c *cim.Class) string { return Namespace + "." + c.Name }

// Check rejects what CSDL cannot express, so that no invalid document is
// written silently: a name that is not an identifier, a key property that
// is not a single primitive value, keys declared on a class that already
// inherits keys, a method or parameter name that is not an identifier.
func (m *Model) Check() error {
	for _, c := range m.reg.Classes() {
		if !Identifier.MatchString(c.Name) {
			return fmt.Errorf("class name %q is not an OData identifier", c.Name)
		}
	}
	for _, c := range m.reg.Classes() {
		for _, p := range m.Declared(c) {
			if !Identifier.MatchString(p.Name) {
				return fmt.Errorf("%s.%s: property name is not an OData identifier", c.Name, p.Name)
			}
		}
		keys := m.Keys(c)
		if len(keys) > 0 && m.Base(c) != nil && m.HasKey(m.Base(c)) {
			return fmt.Errorf("%s declares key %s but inherits a key from %s", c.Name, keys[0].Name, m.Base(c).Name)
		}
		for _, k := range keys {
			if k.Type.Array || k.Type.Kind == cim.Object || k.Type.Kind == cim.Real32 || k.Type.Kind == cim.Real64 {
				return fmt.Errorf("%s.%s: a key of type %s cannot be an OData key", c.Name, k.Name, k.Type)
			}
		}
		for _, meth := range c.Methods {
			if meth.Origin != c.Name && !meth.IsStatic() {
				continue
			}
			if !Identifier.MatchString(meth.Name) {
				return fmt.Errorf("%s.%s: method name is not an OData identifier", c.Name, meth.Name)
			}
			for _, prm := range meth.Params {
				if !Identifier.MatchString(prm.Name) {
					return fmt.Errorf("%s.%s(%s): parameter name is not an OData identifier", c.Name, meth.Name, prm.Name)
				}
				if prm.In && prm.Name == BindingParameter {
					return fmt.Errorf("%s.%s(%s): parameter name is reserved", c.Name, meth.Name, prm.Name)
				}
			}
		}
	}
	return nil
}

// BindingParameter is the name of a bound action's first parameter.
const BindingParameter = "bindingParameter"

// StaticMethods returns the static methods of c, inherited ones included,
// in the registry's order.
func StaticMethods(c *cim.Class) []*cim.Method {
	var out []*cim.Method
	for _, meth := range c.Methods {
		if meth.IsStatic() {
			out = append(out, meth)
		}
	}
	return out
}

// InParams returns the [in] parameters of meth in case-insensitive name
// order; OutParams its [out] parameters in the same order.
func InParams(meth *cim.Method) []*cim.Parameter  { return params(meth, true) }
func OutParams(meth *cim.Method) []*cim.Parameter { return params(meth, false) }

func params(meth *cim.Method, in bool) []*cim.Parameter {
	var out []*cim.Parameter
	for _, prm := range meth.Params {
		if (in && prm.In) || (!in && prm.Out) {
			out = append(out, prm)
		}
	}
	return SortedByName(out, func(p *cim.Parameter) string { return p.Name })
}

// EdmType is t's OData type. An untyped embedded object ("object") becomes
// the abstract Edm.ComplexType.
func EdmType(t cim.Type) string {
	if t.Kind == cim.Object && t.Class == "" {
		if t.Array {
			return "Collection(Edm.ComplexType)"
		}
		return "Edm.ComplexType"
	}
	return t.EdmType(Namespace)
}

// ReturnType is the OData return type of a method; void methods have none.
func ReturnType(t cim.Type) (string, bool) {
	switch {
	case t.Kind == cim.Invalid:
		return "", false
	case t.Kind == cim.Object && strings.EqualFold(t.Class, "void"):
		return "", false
	}
	return EdmType(t), true
}

// SortedByName returns a copy of s in case-insensitive name order (ties
// keep their order), the order in which AdminService lists members.
func SortedByName[T any](s []T, name func(T) string) []T {
	out := append([]T(nil), s...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(name(out[i])) < strings.ToLower(name(out[j]))
	})
	return out
}
