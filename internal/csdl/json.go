package csdl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// JSON writes the document rooted at e (an edmx:Edmx element) as CSDL JSON
// (OData CSDL JSON Format 4.01): the same document as XML, member for
// member. It knows the elements this package's documents use and fails on
// any other.
func (e *Element) JSON() ([]byte, error) {
	doc := cim.NewObject()
	doc.Set("$Version", e.Attr("Version"))
	var schemas []*Element
	var refs *cim.JSONObject
	for _, c := range e.Children {
		switch c.Name {
		case "edmx:Reference":
			if refs == nil {
				refs = cim.NewObject()
			}
			var incs []any
			for _, inc := range c.Children {
				o := cim.NewObject()
				o.Set("$Namespace", inc.Attr("Namespace"))
				if a := inc.Attr("Alias"); a != "" {
					o.Set("$Alias", a)
				}
				incs = append(incs, o)
			}
			r := cim.NewObject()
			r.Set("$Include", incs)
			// A referenced document is named in the format of the one
			// that references it (the OASIS vocabularies come in both).
			uri := c.Attr("Uri")
			if strings.HasSuffix(uri, ".xml") {
				uri = strings.TrimSuffix(uri, ".xml") + ".json"
			}
			refs.Set(uri, r)
		case "edmx:DataServices":
			schemas = append(schemas, c.Children...)
		default:
			return nil, fmt.Errorf("csdl json: unexpected %s in edmx:Edmx", c.Name)
		}
	}
	for _, s := range schemas {
		for _, c := range s.Children {
			if c.Name == "EntityContainer" {
				doc.Set("$EntityContainer", s.Attr("Namespace")+"."+c.Attr("Name"))
			}
		}
	}
	if refs != nil {
		doc.Set("$Reference", refs)
	}
	for _, s := range schemas {
		o, err := schemaJSON(s)
		if err != nil {
			return nil, err
		}
		doc.Set(s.Attr("Namespace"), o)
	}
	return doc.MarshalJSON()
}

func schemaJSON(s *Element) (*cim.JSONObject, error) {
	o := cim.NewObject()
	if a := s.Attr("Alias"); a != "" {
		o.Set("$Alias", a)
	}
	overloads := map[string][]any{}
	for _, c := range s.Children {
		name := c.Attr("Name")
		switch c.Name {
		case "EntityType", "ComplexType":
			t, err := structuredJSON(c)
			if err != nil {
				return nil, err
			}
			o.Set(name, t)
		case "Action", "Function":
			a, err := operationJSON(c)
			if err != nil {
				return nil, err
			}
			if _, seen := overloads[name]; !seen {
				o.Set(name, nil) // keeps the place of the first overload
			}
			overloads[name] = append(overloads[name], a)
		case "EntityContainer":
			ct, err := containerJSON(c)
			if err != nil {
				return nil, err
			}
			o.Set(name, ct)
		case "Term":
			t := cim.NewObject()
			t.Set("$Kind", "Term")
			if typ := c.Attr("Type"); typ != "Edm.String" {
				t.Set("$Type", typ)
			}
			if c.Attr("Nullable") != "false" {
				t.Set("$Nullable", true)
			}
			if a := c.Attr("AppliesTo"); a != "" {
				var to []any
				for _, f := range strings.Fields(a) {
					to = append(to, f)
				}
				t.Set("$AppliesTo", to)
			}
			for _, a := range c.Children {
				if a.Name != "Annotation" {
					return nil, fmt.Errorf("csdl json: unexpected %s in Term", a.Name)
				}
				if err := annotate(t, a); err != nil {
					return nil, err
				}
			}
			o.Set(name, t)
		default:
			return nil, fmt.Errorf("csdl json: unexpected %s in Schema", c.Name)
		}
	}
	for name, ov := range overloads {
		o.Set(name, ov)
	}
	return o, nil
}

func structuredJSON(t *Element) (*cim.JSONObject, error) {
	o := cim.NewObject()
	o.Set("$Kind", t.Name)
	if b := t.Attr("BaseType"); b != "" {
		o.Set("$BaseType", b)
	}
	if t.Attr("Abstract") == "true" {
		o.Set("$Abstract", true)
	}
	for _, c := range t.Children {
		switch c.Name {
		case "Key":
			var keys []any
			for _, ref := range c.Children {
				keys = append(keys, ref.Attr("Name"))
			}
			o.Set("$Key", keys)
		case "Property":
			p, err := typedJSON(c, "")
			if err != nil {
				return nil, err
			}
			o.Set(c.Attr("Name"), p)
		case "NavigationProperty":
			p, err := typedJSON(c, "NavigationProperty")
			if err != nil {
				return nil, err
			}
			o.Set(c.Attr("Name"), p)
		case "Annotation":
			if err := annotate(o, c); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("csdl json: unexpected %s in %s", c.Name, t.Name)
		}
	}
	return o, nil
}

// typedJSON is a property, navigation property, parameter or return type:
// "$Collection", "$Type" (left out for Edm.String, except on navigation
// properties), "$Nullable" (written when true: the XML default is true, the
// JSON default false), the facets and the annotations.
func typedJSON(e *Element, kind string) (*cim.JSONObject, error) {
	o := cim.NewObject()
	if kind != "" {
		o.Set("$Kind", kind)
	}
	if n := e.Attr("Name"); n != "" && e.Name == "Parameter" {
		o.Set("$Name", n)
	}
	typ := e.Attr("Type")
	collection := strings.HasPrefix(typ, "Collection(") && strings.HasSuffix(typ, ")")
	if collection {
		typ = typ[len("Collection(") : len(typ)-1]
		o.Set("$Collection", true)
	}
	if typ != "Edm.String" || kind == "NavigationProperty" {
		o.Set("$Type", typ)
	}
	if e.Attr("Nullable") != "false" && !(kind == "NavigationProperty" && collection) {
		o.Set("$Nullable", true)
	}
	for _, facet := range []string{"MaxLength", "Precision", "Scale"} {
		if v := e.Attr(facet); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("csdl json: %s %s=%q", e.Attr("Name"), facet, v)
			}
			o.Set("$"+facet, n)
		}
	}
	if p := e.Attr("Partner"); p != "" {
		o.Set("$Partner", p)
	}
	for _, c := range e.Children {
		if c.Name != "Annotation" {
			return nil, fmt.Errorf("csdl json: unexpected %s in %s", c.Name, e.Name)
		}
		if err := annotate(o, c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// annotate adds the annotation element a (a constant String, Bool or Int,
// or a Collection of Records of such PropertyValues) to o as "@Term".
func annotate(o *cim.JSONObject, a *Element) error {
	term := "@" + a.Attr("Term")
	if len(a.Children) == 1 && a.Children[0].Name == "Collection" {
		var items []any
		for _, rec := range a.Children[0].Children {
			if rec.Name != "Record" {
				return fmt.Errorf("csdl json: unexpected %s in the Collection of %s", rec.Name, term)
			}
			r := cim.NewObject()
			for _, pv := range rec.Children {
				if pv.Name != "PropertyValue" {
					return fmt.Errorf("csdl json: unexpected %s in a Record of %s", pv.Name, term)
				}
				if err := constant(r, pv.Attr("Property"), pv); err != nil {
					return err
				}
			}
			items = append(items, r)
		}
		o.Set(term, items)
		return nil
	}
	if len(a.Children) > 0 {
		return fmt.Errorf("csdl json: unexpected %s in annotation %s", a.Children[0].Name, term)
	}
	return constant(o, term, a)
}

// constant sets o's member name to the constant expression of e: its
// String, Bool or Int attribute (a Bool without a value is true).
func constant(o *cim.JSONObject, term string, a *Element) error {
	switch {
	case a.HasAttr("String"):
		o.Set(term, a.Attr("String"))
	case a.Attr("Bool") != "":
		o.Set(term, a.Attr("Bool") == "true")
	case a.Attr("Int") != "":
		n, err := strconv.ParseInt(a.Attr("Int"), 10, 64)
		if err != nil {
			return fmt.Errorf("csdl json: annotation %s Int=%q", term, a.Attr("Int"))
		}
		o.Set(term, n)
	default:
		o.Set(term, true) // a Bool annotation without a value means true
	}
	return nil
}

func operationJSON(a *Element) (*cim.JSONObject, error) {
	o := cim.NewObject()
	o.Set("$Kind", a.Name)
	if a.Attr("IsBound") == "true" {
		o.Set("$IsBound", true)
	}
	var params []any
	var ret *cim.JSONObject
	for _, c := range a.Children {
		t, err := typedJSON(c, "")
		if err != nil {
			return nil, err
		}
		switch c.Name {
		case "Parameter":
			params = append(params, t)
		case "ReturnType":
			ret = t
		default:
			return nil, fmt.Errorf("csdl json: unexpected %s in %s", c.Name, a.Name)
		}
	}
	if params != nil {
		o.Set("$Parameter", params)
	}
	if ret != nil {
		o.Set("$ReturnType", ret)
	}
	return o, nil
}

func containerJSON(ct *Element) (*cim.JSONObject, error) {
	o := cim.NewObject()
	o.Set("$Kind", "EntityContainer")
	for _, c := range ct.Children {
		m := cim.NewObject()
		switch c.Name {
		case "EntitySet":
			m.Set("$Collection", true)
			m.Set("$Type", c.Attr("EntityType"))
			if len(c.Children) > 0 {
				b := cim.NewObject()
				for _, nb := range c.Children {
					if nb.Name != "NavigationPropertyBinding" {
						return nil, fmt.Errorf("csdl json: unexpected %s in EntitySet", nb.Name)
					}
					b.Set(nb.Attr("Path"), nb.Attr("Target"))
				}
				m.Set("$NavigationPropertyBinding", b)
			}
		case "ActionImport":
			m.Set("$Action", c.Attr("Action"))
		default:
			return nil, fmt.Errorf("csdl json: unexpected %s in EntityContainer", c.Name)
		}
		o.Set(c.Attr("Name"), m)
	}
	return o, nil
}
