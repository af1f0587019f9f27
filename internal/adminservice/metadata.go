package adminservice

// The OData v4 $metadata document (CSDL XML) of the WMI route, generated
// from the class registry alone. Its shape follows the real AdminService
// wmi/$metadata (see ../shared/reference/adminservice-metadata-extract.xml):
//
//   - One Schema "AdminService". Every class becomes a structured type of the
//     same name: [Embedded] classes are ComplexTypes, every other class is an
//     EntityType (Abstract="true" for [Abstract] classes). AdminService writes
//     no Abstract attribute on complex types (SMS_ScheduleToken is abstract in
//     WMI and is a plain ComplexType in the real document); we do the same.
//   - A "marker" class, a root that has subclasses but declares no property
//     and no method (the SMS Provider's SMS_BaseClass), is written as an
//     empty ComplexType, as AdminService does, and its subclasses are written
//     as roots: no BaseType.
//     A class whose superclass is written with the other kind (an [Embedded]
//     class below a non-embedded one) is a root too, and declares everything
//     it inherits.
//   - Every root type (entity or complex) starts with the twelve WMI system
//     properties (__GENUS … __QUALIFIER_SECURITYVERBS), which every instance
//     carries as data.
//   - A type declares only the properties that its base type does not have:
//     an override of an inherited property is not declared again (CSDL forbids
//     it). The Key sits on the type that declares the key properties.
//   - Properties and parameters are listed in case-insensitive name order,
//     as AdminService lists them (it takes WMI's order); types and the
//     container follow the registry's declaration order.
//   - Nullable="false" is written for properties with the WMI Not_Null
//     qualifier (that is what the real document shows: TsEnabled, MACAddress,
//     SupportedEnvironment …) and for key properties. The real document leaves
//     keys nullable, but CSDL requires key properties to be non-nullable, so we
//     depart from it there. Defaults do not make a property non-nullable
//     (ForcedDisconnectEnabled = false is nullable in the real document).
//   - Instance methods become bound Actions (bindingParameter of the declaring
//     class) with their [in] parameters, right after the type, as in the real
//     document. Methods return their WMI return type (sint32: Edm.Int32); the
//     [out] parameters come back as members of the __PARAMETERS response and
//     are not described.
//   - Static methods become ActionImports named "Class.Method" in the
//     EntityContainer, exactly as AdminService names them, so that the URL is
//     POST /AdminService/wmi/Class.Method. The real document leaves their
//     Action reference (AdminService.Class.Method) dangling; we make it
//     resolvable by declaring each static method as an unbound Action with its
//     [in] parameters in one extra Schema per class, Namespace
//     "AdminService.Class". A class gets an ActionImport for every static
//     method it has, inherited ones included (WMI lets a subclass be named in
//     a static call). The OASIS parser (odata-csdl, used by the tests) accepts
//     the dotted names; strictly, CSDL wants a simple identifier there.
//   - EntityContainer "Container" (the real name) with one EntitySet per
//     entity type that is not abstract and has a key (its own or inherited).
//     AdminService also lists keyless types (SMS_TaskSequence,
//     SMS_TaskSequence_Reference) as entity sets, which is invalid CSDL; we
//     do not. The class's ActionImports precede its EntitySet, as in the
//     real document.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

const (
	// csdlNamespace is the OData namespace of every type in $metadata.
	csdlNamespace = "AdminService"
	// csdlContainer is the name of the EntityContainer (as AdminService).
	csdlContainer = "Container"

	csdlEdmxNS = "http://docs.oasis-open.org/odata/ns/edmx"
	csdlEdmNS  = "http://docs.oasis-open.org/odata/ns/edm"
)

// csdlSystemProperties are the WMI system properties that AdminService
// declares on every root type.
var csdlSystemProperties = []struct{ name, typ string }{
	{"__GENUS", "Edm.Int32"},
	{"__CLASS", "Edm.String"},
	{"__SUPERCLASS", "Edm.String"},
	{"__DYNASTY", "Edm.String"},
	{"__RELPATH", "Edm.String"},
	{"__PROPERTY_COUNT", "Edm.Int32"},
	{"__DERIVATION", "Collection(Edm.String)"},
	{"__SERVER", "Edm.String"},
	{"__NAMESPACE", "Edm.String"},
	{"__PATH", "Edm.String"},
	{"__LAZYPROPERTIES", "Collection(Edm.String)"},
	{"__QUALIFIER_SECURITYVERBS", "Edm.Int32"},
}

// csdlIdentifier is a CSDL SimpleIdentifier.
var csdlIdentifier = regexp.MustCompile(`^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}$`)

// Metadata returns the OData v4 CSDL XML document ($metadata) that describes
// every class of reg. The output depends only on reg and is deterministic.
// It fails when the registry holds something that CSDL cannot express: a
// name that is not an identifier, a key property that is not a single
// primitive value, keys declared on a class that already inherits keys, or
// an instance method whose name is also a type name.
func Metadata(reg *cim.Registry) ([]byte, error) {
	if reg == nil {
		return nil, errors.New("metadata: no class registry")
	}
	m := newCSDLModel(reg)
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	w := &csdlWriter{}
	w.b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	w.open("edmx:Edmx", "Version", "4.0", "xmlns:edmx", csdlEdmxNS)
	w.open("edmx:DataServices")

	w.open("Schema", "Namespace", csdlNamespace, "xmlns", csdlEdmNS)
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			continue
		}
		m.writeType(w, c)
		for _, meth := range c.Methods {
			if !meth.IsStatic() && meth.Origin == c.Name {
				m.writeAction(w, c, meth, true)
			}
		}
	}
	w.open("EntityContainer", "Name", csdlContainer)
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			continue
		}
		for _, meth := range staticMethods(c) {
			name := c.Name + "." + meth.Name
			w.empty("ActionImport", "Name", name, "Action", csdlNamespace+"."+name)
		}
		if m.hasEntitySet(c) {
			w.empty("EntitySet", "Name", c.Name, "EntityType", m.qualified(c))
		}
	}
	w.close("EntityContainer")
	w.close("Schema")

	for _, c := range reg.Classes() {
		statics := staticMethods(c)
		if len(statics) == 0 || c.IsPrivate() {
			continue
		}
		w.open("Schema", "Namespace", csdlNamespace+"."+c.Name, "xmlns", csdlEdmNS)
		for _, meth := range statics {
			m.writeAction(w, c, meth, false)
		}
		w.close("Schema")
	}

	w.close("edmx:DataServices")
	w.close("edmx:Edmx")
	return w.b.Bytes(), nil
}

type csdlModel struct {
	reg    *cim.Registry
	marker map[*cim.Class]bool
}

// isMarkerClass reports a root class that declares nothing but has
// subclasses: it is written as an empty ComplexType and its subclasses are
// written as roots.
func newCSDLModel(reg *cim.Registry) *csdlModel {
	m := &csdlModel{reg: reg, marker: map[*cim.Class]bool{}}
	for _, c := range reg.Classes() {
		m.marker[c] = isMarkerClass(reg, c)
	}
	return m
}

// EntitySets returns the classes served as entity sets, in registry order:
// the one rule shared by $metadata and the service document.
func EntitySets(reg *cim.Registry) []*cim.Class {
	m := newCSDLModel(reg)
	var sets []*cim.Class
	for _, c := range reg.Classes() {
		if m.hasEntitySet(c) && !c.IsPrivate() {
			sets = append(sets, c)
		}
	}
	return sets
}

func isMarkerClass(reg *cim.Registry, c *cim.Class) bool {
	return c.Superclass == "" && !c.IsEmbedded() && len(c.Properties) == 0 && len(c.Methods) == 0 &&
		len(reg.Subclasses(c.Name)) > 0
}

func (m *csdlModel) isComplex(c *cim.Class) bool { return c.IsEmbedded() || m.marker[c] }

// base returns the type written as c's BaseType, or nil when c is a root.
func (m *csdlModel) base(c *cim.Class) *cim.Class {
	if c.Superclass == "" || m.marker[c] {
		return nil
	}
	s, ok := m.reg.Class(c.Superclass)
	if !ok || m.marker[s] || m.isComplex(s) != m.isComplex(c) {
		return nil
	}
	return s
}

// declared returns the properties that c's type declares itself: all of
// them for a root, otherwise those that the base type does not have.
func (m *csdlModel) declared(c *cim.Class) []*cim.Property {
	b := m.base(c)
	var out []*cim.Property
	for _, p := range c.Properties {
		if b != nil {
			if _, inherited := b.Property(p.Name); inherited {
				continue
			}
		}
		out = append(out, p)
	}
	return sortedByName(out, func(p *cim.Property) string { return p.Name })
}

// keys returns the key properties that c's type declares (entity types only).
func (m *csdlModel) keys(c *cim.Class) []*cim.Property {
	if m.isComplex(c) {
		return nil
	}
	var keys []*cim.Property
	for _, p := range m.declared(c) {
		if p.IsKey() {
			keys = append(keys, p)
		}
	}
	return keys
}

// hasKey reports whether c's entity type has a key, its own or inherited.
func (m *csdlModel) hasKey(c *cim.Class) bool {
	for t := c; t != nil; t = m.base(t) {
		if len(m.keys(t)) > 0 {
			return true
		}
	}
	return false
}

func (m *csdlModel) hasEntitySet(c *cim.Class) bool {
	return !m.isComplex(c) && !c.IsAbstract() && m.hasKey(c)
}

func (m *csdlModel) qualified(c *cim.Class) string { return csdlNamespace + "." + c.Name }

// check rejects what CSDL cannot express, so that Metadata never writes an
// invalid document silently.
func (m *csdlModel) check() error {
	types := map[string]bool{}
	for _, c := range m.reg.Classes() {
		if !csdlIdentifier.MatchString(c.Name) {
			return fmt.Errorf("class name %q is not an OData identifier", c.Name)
		}
		types[c.Name] = true
	}
	for _, c := range m.reg.Classes() {
		for _, p := range m.declared(c) {
			if !csdlIdentifier.MatchString(p.Name) {
				return fmt.Errorf("%s.%s: property name is not an OData identifier", c.Name, p.Name)
			}
			if m.base(c) == nil && !m.marker[c] {
				for _, sp := range csdlSystemProperties {
					if strings.EqualFold(sp.name, p.Name) {
						return fmt.Errorf("%s.%s: name of a WMI system property", c.Name, p.Name)
					}
				}
			}
		}
		keys := m.keys(c)
		if len(keys) > 0 && m.base(c) != nil && m.hasKey(m.base(c)) {
			return fmt.Errorf("%s declares key %s but inherits a key from %s", c.Name, keys[0].Name, m.base(c).Name)
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
			if !csdlIdentifier.MatchString(meth.Name) {
				return fmt.Errorf("%s.%s: method name is not an OData identifier", c.Name, meth.Name)
			}
			if !meth.IsStatic() && types[meth.Name] {
				return fmt.Errorf("%s.%s: instance method named like a class", c.Name, meth.Name)
			}
			for _, prm := range meth.Params {
				if prm.In && !csdlIdentifier.MatchString(prm.Name) {
					return fmt.Errorf("%s.%s(%s): parameter name is not an OData identifier", c.Name, meth.Name, prm.Name)
				}
				if prm.In && !meth.IsStatic() && prm.Name == "bindingParameter" {
					return fmt.Errorf("%s.%s(%s): parameter name is reserved", c.Name, meth.Name, prm.Name)
				}
			}
		}
	}
	return nil
}

func (m *csdlModel) writeType(w *csdlWriter, c *cim.Class) {
	elem := "EntityType"
	if m.isComplex(c) {
		elem = "ComplexType"
	}
	attrs := []string{"Name", c.Name}
	if b := m.base(c); b != nil {
		attrs = append(attrs, "BaseType", m.qualified(b))
	}
	if elem == "EntityType" && c.IsAbstract() {
		attrs = append(attrs, "Abstract", "true")
	}
	root := m.base(c) == nil && !m.marker[c]
	props := m.declared(c)
	if m.marker[c] || (!root && len(props) == 0) {
		w.empty(elem, attrs...)
		return
	}
	w.open(elem, attrs...)
	keys := m.keys(c)
	if len(keys) > 0 {
		w.open("Key")
		for _, k := range keys {
			w.empty("PropertyRef", "Name", k.Name)
		}
		w.close("Key")
	}
	if root {
		for _, sp := range csdlSystemProperties {
			w.empty("Property", "Name", sp.name, "Type", sp.typ)
		}
	}
	for _, p := range props {
		a := []string{"Name", p.Name, "Type", edmType(p.Type)}
		if p.Qualifiers.Has("Not_Null") || (elem == "EntityType" && p.IsKey()) {
			a = append(a, "Nullable", "false")
		}
		w.empty("Property", a...)
	}
	w.close(elem)
}

// writeAction writes meth as a bound action of c, or as an unbound action
// (static methods, in the namespace AdminService.<Class>).
func (m *csdlModel) writeAction(w *csdlWriter, c *cim.Class, meth *cim.Method, bound bool) {
	attrs := []string{"Name", meth.Name}
	if bound {
		attrs = append(attrs, "IsBound", "true")
	}
	w.open("Action", attrs...)
	if bound {
		w.empty("Parameter", "Name", "bindingParameter", "Type", m.qualified(c))
	}
	var in []*cim.Parameter
	for _, prm := range meth.Params {
		if prm.In {
			in = append(in, prm)
		}
	}
	for _, prm := range sortedByName(in, func(p *cim.Parameter) string { return p.Name }) {
		a := []string{"Name", prm.Name, "Type", edmType(prm.Type)}
		if prm.Qualifiers.Has("Not_Null") {
			a = append(a, "Nullable", "false")
		}
		w.empty("Parameter", a...)
	}
	if rt, ok := returnType(meth.Return); ok {
		w.empty("ReturnType", "Type", rt)
	}
	w.close("Action")
}

// staticMethods returns the static methods of c, inherited ones included,
// in the registry's order.
func staticMethods(c *cim.Class) []*cim.Method {
	var out []*cim.Method
	for _, meth := range c.Methods {
		if meth.IsStatic() {
			out = append(out, meth)
		}
	}
	return out
}

// edmType is t's OData type. An untyped embedded object ("object") becomes
// the abstract Edm.ComplexType.
func edmType(t cim.Type) string {
	if t.Kind == cim.Object && t.Class == "" {
		if t.Array {
			return "Collection(Edm.ComplexType)"
		}
		return "Edm.ComplexType"
	}
	return t.EdmType(csdlNamespace)
}

// returnType is the OData return type of a method; void methods have none.
func returnType(t cim.Type) (string, bool) {
	switch {
	case t.Kind == cim.Invalid:
		return "", false
	case t.Kind == cim.Object && strings.EqualFold(t.Class, "void"):
		return "", false
	}
	return edmType(t), true
}

// sortedByName returns a copy of s in case-insensitive name order (ties keep
// their order), the order in which AdminService lists members.
func sortedByName[T any](s []T, name func(T) string) []T {
	out := append([]T(nil), s...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(name(out[i])) < strings.ToLower(name(out[j]))
	})
	return out
}

// csdlWriter writes indented XML elements with escaped attribute values.
type csdlWriter struct {
	b     bytes.Buffer
	depth int
}

func (w *csdlWriter) start(name string, attrs []string) {
	w.b.WriteString(strings.Repeat("  ", w.depth))
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteByte(' ')
		w.b.WriteString(attrs[i])
		w.b.WriteString(`="`)
		_ = xml.EscapeText(&w.b, []byte(attrs[i+1])) // writes to a bytes.Buffer: cannot fail
		w.b.WriteByte('"')
	}
}

func (w *csdlWriter) open(name string, attrs ...string) {
	w.start(name, attrs)
	w.b.WriteString(">\n")
	w.depth++
}

func (w *csdlWriter) empty(name string, attrs ...string) {
	w.start(name, attrs)
	w.b.WriteString(" />\n")
}

func (w *csdlWriter) close(name string) {
	w.depth--
	w.b.WriteString(strings.Repeat("  ", w.depth))
	w.b.WriteString("</" + name + ">\n")
}
