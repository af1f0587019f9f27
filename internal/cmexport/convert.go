package cmexport

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// ToCIM turns a CIM-XML instance into an instance of the registry's class
// of that name, with typed values: a NULL property is present with nil,
// an empty string or array stays empty. System properties (__PATH, …) are
// left out. Properties the schema does not have are returned by name in
// unknown (exports of newer sites carry some); they are not an error.
// A value that does not fit its property's type is an error naming it.
func ToCIM(reg *cim.Registry, x *Instance) (in *cim.Instance, unknown []string, err error) {
	c, ok := reg.Class(x.ClassName)
	if !ok {
		return nil, nil, errs.E(errs.Invalid, "unknown class %s", x.ClassName)
	}
	in = cim.NewInstanceSize(c, len(x.Properties))
	for _, xp := range x.Properties {
		if xp.IsSystem() {
			continue
		}
		p, ok := c.Property(xp.Name)
		if !ok {
			unknown = append(unknown, xp.Name)
			continue
		}
		v, err := propertyValue(reg, p, xp)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.%s: %w", c.Name, xp.Name, err)
		}
		in.Values[p.Name] = v
	}
	return in, unknown, nil
}

func propertyValue(reg *cim.Registry, p *cim.Property, xp *Property) (any, error) {
	if xp.Null {
		return nil, nil
	}
	t := p.Type
	switch {
	case t.Kind == cim.Object:
		if xp.Kind != ObjectArray {
			return nil, fmt.Errorf("holds embedded objects, but the part writes a %s", kindElements[xp.Kind])
		}
		list := make([]any, 0, len(xp.Objects))
		for _, o := range xp.Objects {
			sub, _, err := ToCIM(reg, o)
			if err != nil {
				return nil, err
			}
			if !sub.Class.IsA(t.Class) {
				return nil, fmt.Errorf("holds %s objects, not %s", t.Class, sub.Class.Name)
			}
			list = append(list, sub)
		}
		if !t.Array {
			if len(list) == 0 {
				return nil, nil
			}
			return list[0], nil
		}
		return list, nil
	case t.Array:
		if xp.Kind != Array {
			return nil, fmt.Errorf("is an array, but the part writes a %s", kindElements[xp.Kind])
		}
		if t.IsBytes() {
			out := make([]byte, 0, len(xp.Values))
			for _, s := range xp.Values {
				n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 8)
				if err != nil {
					return nil, fmt.Errorf("%q is not a uint8", s)
				}
				out = append(out, byte(n))
			}
			return out, nil
		}
		out := make([]any, 0, len(xp.Values))
		for _, s := range xp.Values {
			v, err := scalarValue(t.Kind, s)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if xp.Kind != Scalar {
		return nil, fmt.Errorf("is a single value, but the part writes a %s", kindElements[xp.Kind])
	}
	return scalarValue(t.Kind, xp.Value)
}

func scalarValue(k cim.Kind, s string) (any, error) {
	switch {
	case k == cim.Boolean:
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "TRUE":
			return true, nil
		case "FALSE":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean (TRUE or FALSE)", s)
	case k.IsInteger():
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		lo, hi := k.IntRange()
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d is outside the %v range", n, k)
		}
		return n, nil
	case k == cim.Real32 || k == cim.Real64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case k == cim.DateTime:
		return cim.ParseDMTF(strings.TrimSpace(s))
	}
	return s, nil
}

// Origin says where an exported object comes from, for the system
// properties of its CIM-XML.
type Origin struct {
	Server   string // __SERVER
	SiteCode string // root\sms\site_<SiteCode>
}

// FromCIM turns an instance into the CIM-XML an export holds, as the
// console writes it: the instance qualifiers dynamic and SecurityVerbs on
// a top-level object, the WMI system properties, then every property of
// the class in case-insensitive name order with its CLASSORIGIN, TYPE,
// CIMTYPE qualifier and, on key properties, the key qualifier. A property
// absent from in or nil is written without a value (NULL); an empty
// string or array is written empty.
func FromCIM(in *cim.Instance, o Origin) *Instance {
	return fromCIM(in, o, true)
}

func fromCIM(in *cim.Instance, o Origin, top bool) *Instance {
	c := in.Class
	x := &Instance{ClassName: c.Name}
	if top {
		x.Qualifiers = []Qualifier{
			{Name: "dynamic", Attrs: []Attr{{"PROPAGATED", "true"}, {"TYPE", "boolean"}, {"TOSUBCLASS", "false"}, {"TOINSTANCE", "true"}}, Value: "TRUE"},
			{Name: "SecurityVerbs", Attrs: []Attr{{"TYPE", "sint32"}, {"TOSUBCLASS", "false"}}, Value: "-1"},
		}
	}
	props := append([]*cim.Property(nil), c.Properties...)
	sort.SliceStable(props, func(i, j int) bool { return strings.ToLower(props[i].Name) < strings.ToLower(props[j].Name) })
	sys := func(name, typ string, v *string) {
		p := &Property{Name: name, Attrs: []Attr{{"CLASSORIGIN", "___SYSTEM"}, {"TYPE", typ}}, Null: v == nil}
		if v != nil {
			p.Value = *v
		}
		x.Properties = append(x.Properties, p)
	}
	str := func(s string) *string { return &s }
	var path, ns, server, relpath, super *string
	if top {
		relpath = str(in.RelPath())
		ns = str(`root\sms\site_` + o.SiteCode)
		server = str(o.Server)
		path = str(`\\` + o.Server + `\` + *ns + ":" + *relpath)
	}
	if c.Superclass != "" {
		super = str(c.Superclass)
	}
	sys("__PATH", "string", path)
	sys("__NAMESPACE", "string", ns)
	sys("__SERVER", "string", server)
	x.Properties = append(x.Properties, &Property{Kind: Array, Name: "__DERIVATION", Attrs: []Attr{{"CLASSORIGIN", "___SYSTEM"}, {"TYPE", "string"}}, Values: append([]string{}, c.Derivation...)})
	sys("__PROPERTY_COUNT", "sint32", str(strconv.Itoa(len(props))))
	sys("__RELPATH", "string", relpath)
	sys("__DYNASTY", "string", str(c.Dynasty()))
	sys("__SUPERCLASS", "string", super)
	sys("__CLASS", "string", str(c.Name))
	sys("__GENUS", "sint32", str("2"))
	for _, p := range props {
		x.Properties = append(x.Properties, propertyXML(p, in.Values[p.Name], o))
	}
	return x
}

// cimTypeName is the TYPE attribute of a kind: the lower-case CIM name.
func cimTypeName(k cim.Kind) string { return strings.ToLower(k.String()) }

func propertyXML(p *cim.Property, v any, o Origin) *Property {
	origin := p.Origin
	xp := &Property{Name: p.Name, Null: v == nil}
	typ := cimTypeName(p.Type.Kind)
	cimtype := typ
	switch {
	case p.Type.Kind == cim.Object:
		xp.Kind = ObjectArray
		xp.Attrs = []Attr{{"CLASSORIGIN", origin}, {"REFERENCECLASS", p.Type.Class}}
		cimtype = "object:" + p.Type.Class
	case p.Type.Array:
		xp.Kind = Array
		xp.Attrs = []Attr{{"CLASSORIGIN", origin}, {"TYPE", typ}}
	default:
		xp.Attrs = []Attr{{"CLASSORIGIN", origin}, {"TYPE", typ}}
	}
	xp.Qualifiers = []Qualifier{{Name: "CIMTYPE", Attrs: []Attr{{"PROPAGATED", "true"}, {"TYPE", "string"}, {"TOINSTANCE", "true"}}, Value: cimtype}}
	if p.IsKey() {
		xp.Qualifiers = append(xp.Qualifiers, Qualifier{Name: "key", Attrs: []Attr{{"PROPAGATED", "true"}, {"TYPE", "boolean"}, {"OVERRIDABLE", "false"}, {"TOINSTANCE", "true"}}, Value: "TRUE"})
	}
	if v == nil {
		return xp
	}
	switch x := v.(type) {
	case []byte:
		xp.Values = make([]string, len(x))
		for i, b := range x {
			xp.Values[i] = strconv.Itoa(int(b))
		}
	case []any:
		if xp.Kind == ObjectArray {
			xp.Objects = []*Instance{}
			for _, e := range x {
				if sub, ok := e.(*cim.Instance); ok {
					xp.Objects = append(xp.Objects, fromCIM(sub, o, false))
				}
			}
		} else {
			xp.Values = make([]string, len(x))
			for i, e := range x {
				xp.Values[i] = formatValue(e)
			}
		}
	case *cim.Instance:
		xp.Objects = []*Instance{fromCIM(x, o, false)}
	default:
		xp.Value = formatValue(v)
	}
	return xp
}

// formatValue writes a scalar in the lexical form of the exports:
// TRUE/FALSE, decimal integers, DMTF datetimes.
func formatValue(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case cim.DateTimeValue:
		return x.DMTF()
	}
	return cim.FormatScalar(v)
}
