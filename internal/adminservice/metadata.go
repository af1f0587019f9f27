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
	"errors"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/csdl"
)

// csdlContainer is the name of the EntityContainer (as AdminService).
const csdlContainer = "Container"

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

// Metadata returns the OData v4 CSDL XML document ($metadata) that describes
// every class of reg. The output depends only on reg and is deterministic.
// It fails when the registry holds something that CSDL cannot express
// (csdl.Model.Check), a property named like a WMI system property, or an
// instance method whose name is also a type name.
func Metadata(reg *cim.Registry) ([]byte, error) {
	if reg == nil {
		return nil, errors.New("metadata: no class registry")
	}
	m := csdl.NewModel(reg, csdl.Faithful)
	if err := check(m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	schema := csdl.E("Schema", "Namespace", csdl.Namespace, "xmlns", csdl.EdmNS)
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			continue
		}
		schema.Add(structuredType(m, c))
		for _, meth := range c.Methods {
			if !meth.IsStatic() && !m.IsComplex(c) && boundHere(reg, c, meth) {
				schema.Add(action(c, meth, true))
			}
		}
	}
	container := csdl.E("EntityContainer", "Name", csdlContainer)
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			continue
		}
		for _, meth := range csdl.StaticMethods(c) {
			name := c.Name + "." + meth.Name
			container.Add(csdl.E("ActionImport", "Name", name, "Action", csdl.Namespace+"."+name))
		}
		if m.HasEntitySet(c) {
			container.Add(csdl.E("EntitySet", "Name", c.Name, "EntityType", csdl.Qualified(c)))
		}
	}
	schema.Add(container)
	services := csdl.E("edmx:DataServices").Add(schema)
	for _, c := range reg.Classes() {
		statics := csdl.StaticMethods(c)
		if len(statics) == 0 || c.IsPrivate() {
			continue
		}
		s := csdl.E("Schema", "Namespace", csdl.Namespace+"."+c.Name, "xmlns", csdl.EdmNS)
		for _, meth := range statics {
			s.Add(action(c, meth, false))
		}
		services.Add(s)
	}
	return csdl.E("edmx:Edmx", "Version", "4.0", "xmlns:edmx", csdl.EdmxNS).Add(services).XML(), nil
}

// boundHere reports whether the instance method meth is a bound action of
// c in $metadata: a method binds to the class that declares it, except
// that one an abstract class declares binds to each concrete class that
// inherits it instead (never to an abstract class), as the product's
// document binds RefreshPkgSource and AddDistributionPoints to each
// package class.
func boundHere(reg *cim.Registry, c *cim.Class, meth *cim.Method) bool {
	if c.IsAbstract() {
		return false
	}
	if meth.Origin == c.Name {
		return true
	}
	origin, ok := reg.Class(meth.Origin)
	return ok && origin.IsAbstract()
}

// EntitySets returns the classes served as entity sets, in registry order:
// the one rule shared by $metadata and the service document.
func EntitySets(reg *cim.Registry) []*cim.Class {
	return csdl.NewModel(reg, csdl.Faithful).EntitySets()
}

// check adds AdminService's own rules to the model's checks: a root's
// properties must not take the names of the system properties every root
// declares, and an instance method (a bound action in the schema that holds
// the types) must not be named like a type.
func check(m *csdl.Model) error {
	if err := m.Check(); err != nil {
		return err
	}
	types := map[string]bool{}
	for _, c := range m.Registry().Classes() {
		types[c.Name] = true
	}
	for _, c := range m.Registry().Classes() {
		if m.IsRoot(c) {
			for _, p := range m.Declared(c) {
				for _, sp := range csdlSystemProperties {
					if strings.EqualFold(sp.name, p.Name) {
						return fmt.Errorf("%s.%s: name of a WMI system property", c.Name, p.Name)
					}
				}
			}
		}
		for _, meth := range c.Methods {
			if meth.Origin == c.Name && !meth.IsStatic() && types[meth.Name] {
				return fmt.Errorf("%s.%s: instance method named like a class", c.Name, meth.Name)
			}
		}
	}
	return nil
}

// structuredType is c's EntityType or ComplexType element.
func structuredType(m *csdl.Model, c *cim.Class) *csdl.Element {
	elem := "EntityType"
	if m.IsComplex(c) {
		elem = "ComplexType"
	}
	t := csdl.E(elem, "Name", c.Name)
	if b := m.Base(c); b != nil {
		t.Attrs = append(t.Attrs, "BaseType", csdl.Qualified(b))
	}
	if elem == "EntityType" && c.IsAbstract() {
		t.Attrs = append(t.Attrs, "Abstract", "true")
	}
	if m.IsMarker(c) {
		return t
	}
	if keys := m.Keys(c); len(keys) > 0 {
		key := csdl.E("Key")
		for _, k := range keys {
			key.Add(csdl.E("PropertyRef", "Name", k.Name))
		}
		t.Add(key)
	}
	if m.IsRoot(c) {
		for _, sp := range csdlSystemProperties {
			t.Add(csdl.E("Property", "Name", sp.name, "Type", sp.typ))
		}
	}
	for _, p := range m.Declared(c) {
		a := []string{"Name", p.Name, "Type", csdl.EdmType(p.Type)}
		if p.Qualifiers.Has("Not_Null") || (elem == "EntityType" && p.IsKey()) {
			a = append(a, "Nullable", "false")
		}
		t.Add(csdl.E("Property", a...))
	}
	return t
}

// action is meth as a bound action of c, or as an unbound action (static
// methods, in the namespace AdminService.<Class>).
func action(c *cim.Class, meth *cim.Method, bound bool) *csdl.Element {
	a := csdl.E("Action", "Name", meth.Name)
	if bound {
		a.Attrs = append(a.Attrs, "IsBound", "true")
		a.Add(csdl.E("Parameter", "Name", csdl.BindingParameter, "Type", csdl.Qualified(c)))
	}
	for _, prm := range csdl.InParams(meth) {
		p := []string{"Name", prm.Name, "Type", csdl.EdmType(prm.Type)}
		if prm.Qualifiers.Has("Not_Null") {
			p = append(p, "Nullable", "false")
		}
		a.Add(csdl.E("Parameter", p...))
	}
	if rt, ok := csdl.ReturnType(meth.Return); ok {
		a.Add(csdl.E("ReturnType", "Type", rt))
	}
	return a
}
