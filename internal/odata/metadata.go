package odata

// The $metadata document of the strict root, generated from the class
// registry through the same model as AdminService's (internal/csdl), with
// the shapes OData requires:
//
//   - A class is an EntityType only when it has a key (its own or
//     inherited); every other class, [Embedded] or keyless (SMS_TaskSequence,
//     its steps, SMS_TaskSequence_Reference, SMS_ExtendedStatus …), is a
//     ComplexType, with BaseType along the class hierarchy, so a step's
//     "@odata.type" names its subclass.
//   - No WMI system properties (__CLASS, __PATH …): an entity carries its
//     declared properties and the standard annotations only.
//   - Key and [Not_Null] properties are Nullable="false"; a collection
//     always states Nullable, as CSDL 4.01 requires (the facet speaks of its
//     elements: the collection itself is never null, an absent one is
//     written []); DateTimeOffset has Precision="6" (microseconds).
//   - [read] properties carry Core.Computed (clients leave them out when
//     they create or change an instance); [lazy] properties carry a
//     Core.Description saying that collections leave them out; a ValueMap
//     is a Validation.AllowedValues annotation; a [TaskSequencePackage]
//     property (a PackageID a step refers to) carries the term
//     AdminService.PackageReference, declared in the schema.
//   - The references between task sequences and packages are navigation
//     properties, for $expand: SMS_TaskSequencePackage.ReferencedPackages,
//     SMS_PackageBaseclass.ReferencedBy (the task sequences that use the
//     package), SMS_TaskSequencePackageReference.TaskSequencePackage and
//     .ReferencedPackage. They bind to no one entity set: a package may be
//     of any package class.
//   - Every method is an Action with its own simple name: a static method is
//     bound to the collection of its class (Collection(AdminService.Class)),
//     an instance method to the entity; static methods of a complex type
//     (SMS_TaskSequence.LoadFromXml …) are unbound actions with an
//     ActionImport of the same name. A method with [out] parameters returns
//     the ComplexType <Class>_<Method>Result: ReturnValue (the method's
//     WMI result) and the [out] parameters; one without returns its WMI
//     result type.

import (
	"errors"
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/csdl"
)

const (
	// containerName is the name of the EntityContainer.
	containerName = "Container"
	// coreVocabulary is the OData Core vocabulary, referenced as "Core".
	coreVocabulary = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"
	// validationVocabulary is the OData Validation vocabulary, referenced
	// as "Validation": AllowedValues lists a ValueMap.
	validationVocabulary = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Validation.V1.xml"
	// packageReferenceTerm tags the properties that hold a PackageID (the
	// TaskSequencePackage qualifier), for clients that offer a picker.
	packageReferenceTerm = "PackageReference"
	packageReferenceNote = "The property holds the PackageID of a package (a reference the task sequence's References list)."
	// lazyNote is the Core.Description of a lazy property.
	lazyNote = "Lazy: left out of collection responses; a GET by key returns it."
)

// schemaModel is the strict model of a registry plus the names the
// document gives to methods.
type schemaModel struct {
	*csdl.Model
	reg *cim.Registry
}

func newSchemaModel(reg *cim.Registry) (*schemaModel, error) {
	if reg == nil {
		return nil, errors.New("odata metadata: no class registry")
	}
	m := &schemaModel{Model: csdl.NewModel(reg, csdl.Strict), reg: reg}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("odata metadata: %w", err)
	}
	return m, nil
}

// served reports a class the document declares.
func (m *schemaModel) served(c *cim.Class) bool { return !c.IsPrivate() }

// resultType is the name of the complex type that meth of c returns, or ""
// when meth has no [out] parameter.
func resultType(c *cim.Class, meth *cim.Method) string {
	if len(csdl.OutParams(meth)) == 0 {
		return ""
	}
	return c.Name + "_" + meth.Name + "Result"
}

// unbound reports a static method that cannot bind to an entity set (its
// class is a complex type): it is an unbound action with an ActionImport.
func (m *schemaModel) unbound(c *cim.Class, meth *cim.Method) bool {
	return meth.IsStatic() && m.IsComplex(c)
}

// declaredMethods returns the methods c's type declares actions for: those
// whose origin is c.
func declaredMethods(c *cim.Class) []*cim.Method {
	var out []*cim.Method
	for _, meth := range c.Methods {
		if meth.Origin == c.Name {
			out = append(out, meth)
		}
	}
	return out
}

// check adds the rules of one namespace holding types, actions and result
// types: no two of them share a name, except bound action overloads with
// different bindings; ActionImports and EntitySets do not share names.
func (m *schemaModel) check() error {
	if err := m.Check(); err != nil {
		return err
	}
	kinds := map[string]string{}
	claim := func(name, kind string) error {
		if k, ok := kinds[name]; ok && (k != kind || kind != "bound action") {
			return fmt.Errorf("%s is the name of a %s and of a %s", name, k, kind)
		}
		kinds[name] = kind
		return nil
	}
	for _, c := range m.reg.Classes() {
		if m.served(c) {
			if err := claim(c.Name, "type"); err != nil {
				return err
			}
		}
	}
	for _, c := range m.reg.Classes() {
		if !m.served(c) {
			continue
		}
		for _, n := range m.allNavigations(c) {
			if _, clash := c.Property(n.name); clash {
				return fmt.Errorf("%s.%s: a property and a navigation property", c.Name, n.name)
			}
		}
		for _, meth := range declaredMethods(c) {
			kind := "bound action"
			if m.unbound(c, meth) {
				kind = "unbound action"
			}
			if err := claim(meth.Name, kind); err != nil {
				return err
			}
			if rt := resultType(c, meth); rt != "" {
				if err := claim(rt, "result type"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// document builds the strict $metadata document.
func (m *schemaModel) document() *csdl.Element {
	schema := csdl.E("Schema", "Namespace", csdl.Namespace, "xmlns", csdl.EdmNS)
	container := csdl.E("EntityContainer", "Name", containerName)
	for _, c := range m.reg.Classes() {
		if !m.served(c) {
			continue
		}
		schema.Add(m.structuredType(c))
		for _, meth := range declaredMethods(c) {
			a := m.action(c, meth)
			if rt := resultType(c, meth); rt != "" {
				schema.Add(m.result(c, meth, rt))
			}
			schema.Add(a)
			if m.unbound(c, meth) {
				container.Add(csdl.E("ActionImport", "Name", meth.Name, "Action", csdl.Namespace+"."+meth.Name))
			}
		}
	}
	for _, c := range m.EntitySets() {
		container.Add(csdl.E("EntitySet", "Name", c.Name, "EntityType", csdl.Qualified(c)))
	}
	schema.Add(container)
	schema.Add(csdl.E("Term", "Name", packageReferenceTerm, "Type", "Core.Tag", "AppliesTo", "Property").Add(
		csdl.E("Annotation", "Term", "Core.Description", "String", packageReferenceNote)))
	core := csdl.E("edmx:Reference", "Uri", coreVocabulary).Add(
		csdl.E("edmx:Include", "Namespace", "Org.OData.Core.V1", "Alias", "Core"))
	validation := csdl.E("edmx:Reference", "Uri", validationVocabulary).Add(
		csdl.E("edmx:Include", "Namespace", "Org.OData.Validation.V1", "Alias", "Validation"))
	return csdl.E("edmx:Edmx", "Version", "4.01", "xmlns:edmx", csdl.EdmxNS).Add(core, validation, csdl.E("edmx:DataServices").Add(schema))
}

// structuredType is c's EntityType or ComplexType.
func (m *schemaModel) structuredType(c *cim.Class) *csdl.Element {
	elem := "EntityType"
	if m.IsComplex(c) {
		elem = "ComplexType"
	}
	t := csdl.E(elem, "Name", c.Name)
	if b := m.Base(c); b != nil {
		t.Attrs = append(t.Attrs, "BaseType", csdl.Qualified(b))
	}
	if c.IsAbstract() {
		t.Attrs = append(t.Attrs, "Abstract", "true")
	}
	if keys := m.Keys(c); len(keys) > 0 {
		key := csdl.E("Key")
		for _, k := range keys {
			key.Add(csdl.E("PropertyRef", "Name", k.Name))
		}
		t.Add(key)
	}
	for _, p := range m.Declared(c) {
		prop := typed("Property", p.Name, p.Type, p.Qualifiers.Has("Not_Null") || (elem == "EntityType" && p.IsKey()))
		if p.IsReadOnly() {
			prop.Add(csdl.E("Annotation", "Term", "Core.Computed", "Bool", "true"))
		}
		if p.IsLazy() {
			prop.Add(csdl.E("Annotation", "Term", "Core.Description", "String", lazyNote))
		}
		if vals, ok := p.ValueMap(); ok && !p.Type.Array {
			prop.Add(allowedValues(p.Type, vals))
		}
		if p.Qualifiers.Has("TaskSequencePackage") {
			prop.Add(csdl.E("Annotation", "Term", csdl.Namespace+"."+packageReferenceTerm))
		}
		t.Add(prop)
	}
	for _, n := range m.navigationsOf(c) {
		typ := csdl.Namespace + "." + n.target
		if n.many {
			t.Add(csdl.E("NavigationProperty", "Name", n.name, "Type", "Collection("+typ+")"))
		} else {
			t.Add(csdl.E("NavigationProperty", "Name", n.name, "Type", typ, "Nullable", "true"))
		}
	}
	return t
}

// allowedValues is the Validation.AllowedValues annotation of a property
// whose ValueMap lists its values.
func allowedValues(t cim.Type, vals []string) *csdl.Element {
	kind := "String"
	if t.Kind != cim.String {
		kind = "Int"
	}
	coll := csdl.E("Collection")
	for _, v := range vals {
		coll.Add(csdl.E("Record").Add(csdl.E("PropertyValue", "Property", "Value", kind, v)))
	}
	return csdl.E("Annotation", "Term", "Validation.AllowedValues").Add(coll)
}

// typed is a Property, Parameter or ReturnType element of type t.
func typed(elem, name string, t cim.Type, notNull bool) *csdl.Element {
	var e *csdl.Element
	if name == "" {
		e = csdl.E(elem, "Type", csdl.EdmType(t))
	} else {
		e = csdl.E(elem, "Name", name, "Type", csdl.EdmType(t))
	}
	switch {
	case notNull:
		e.Attrs = append(e.Attrs, "Nullable", "false")
	case t.Array && !t.IsBytes():
		e.Attrs = append(e.Attrs, "Nullable", "true") // CSDL 4.01 wants it written on collections
	}
	if t.Kind == cim.DateTime {
		e.Attrs = append(e.Attrs, "Precision", "6")
	}
	return e
}

// action is meth as an Action.
func (m *schemaModel) action(c *cim.Class, meth *cim.Method) *csdl.Element {
	a := csdl.E("Action", "Name", meth.Name)
	switch {
	case m.unbound(c, meth):
	case meth.IsStatic():
		a.Attrs = append(a.Attrs, "IsBound", "true")
		a.Add(csdl.E("Parameter", "Name", csdl.BindingParameter, "Type", "Collection("+csdl.Qualified(c)+")", "Nullable", "false"))
	default:
		a.Attrs = append(a.Attrs, "IsBound", "true")
		a.Add(csdl.E("Parameter", "Name", csdl.BindingParameter, "Type", csdl.Qualified(c), "Nullable", "false"))
	}
	for _, prm := range csdl.InParams(meth) {
		a.Add(typed("Parameter", prm.Name, prm.Type, prm.Qualifiers.Has("Not_Null")))
	}
	if rt := resultType(c, meth); rt != "" {
		a.Add(csdl.E("ReturnType", "Type", csdl.Namespace+"."+rt, "Nullable", "false"))
	} else if _, ok := csdl.ReturnType(meth.Return); ok {
		a.Add(typed("ReturnType", "", meth.Return, false))
	}
	return a
}

// result is the ComplexType that meth returns: ReturnValue, then the [out]
// parameters.
func (m *schemaModel) result(c *cim.Class, meth *cim.Method, name string) *csdl.Element {
	t := csdl.E("ComplexType", "Name", name)
	if _, ok := csdl.ReturnType(meth.Return); ok {
		t.Add(typed("Property", returnValue, meth.Return, false))
	}
	for _, prm := range csdl.OutParams(meth) {
		t.Add(typed("Property", prm.Name, prm.Type, false))
	}
	return t
}

// returnValue is the member of a method result that holds the method's own
// result.
const returnValue = "ReturnValue"
