package taskseq

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// parseText reads the text of a variable or attribute as a value of type t.
func parseText(t cim.Type, s string) (any, error) {
	if t.Array {
		if t.Kind == cim.Object || t.IsBytes() {
			return nil, fmt.Errorf("%v values are not written as text", t)
		}
		if strings.TrimSpace(s) == "" {
			return []any{}, nil
		}
		var out []any
		for _, part := range strings.Split(s, ",") {
			v, err := parseText(t.Elem(), part)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch {
	case t.Kind == cim.Boolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	case t.Kind.IsInteger():
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		lo, hi := t.Kind.IntRange()
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d is outside the %v range", n, t.Kind)
		}
		return n, nil
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case t.Kind == cim.String || t.Kind == cim.Char16:
		return s, nil
	case t.Kind == cim.DateTime:
		return cim.ParseDateTime(strings.TrimSpace(s))
	}
	return nil, fmt.Errorf("%v values are not written as text", t)
}

// formatText writes a value as variable or attribute text.
func formatText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatText(e)
		}
		return strings.Join(parts, ",")
	case cim.DateTimeValue:
		return x.DMTF()
	}
	return cim.FormatScalar(v)
}

// means reports whether raw text, read as type t, is the value v.
func means(t cim.Type, raw string, v any) bool {
	parsed, err := parseText(t, raw)
	if err != nil {
		return false
	}
	if v == nil {
		return raw == ""
	}
	return cim.Equal(parsed, v)
}

// binding says which property (and, for an indexed variable of an array of
// objects, which element and field) a variable holds.
type binding struct {
	prop  *cim.Property
	index int           // -1 unless prop is an array of objects
	field *cim.Property // the element's property
}

func (b binding) path() string {
	if b.field == nil {
		return b.prop.Name
	}
	return fmt.Sprintf("%s[%d].%s", b.prop.Name, b.index, b.field.Name)
}

func (b binding) typ() cim.Type {
	if b.field != nil {
		return b.field.Type
	}
	return b.prop.Type
}

var indexedProperty = regexp.MustCompile(`^([A-Za-z_]+?)(\d+)([A-Za-z_]\w*)$`)

// bind finds the property that the property attribute P names in class c:
// a property of c, or <ArrayProp><index><Field> for an array of objects.
func bind(reg *cim.Registry, c *cim.Class, p string) (binding, bool) {
	if prop, ok := c.Property(p); ok && textual(prop.Type) {
		return binding{prop: prop, index: -1}, true
	}
	m := indexedProperty.FindStringSubmatch(p)
	if m == nil {
		return binding{}, false
	}
	prop, ok := c.Property(m[1])
	if !ok || !prop.Type.Array || prop.Type.Kind != cim.Object {
		return binding{}, false
	}
	elem, ok := reg.Class(prop.Type.Class)
	if !ok {
		return binding{}, false
	}
	field, ok := elem.Property(m[3])
	if !ok || !textual(field.Type) {
		return binding{}, false
	}
	idx, err := strconv.Atoi(m[2])
	if err != nil || idx > 1000 {
		return binding{}, false
	}
	return binding{prop: prop, index: idx, field: field}, true
}

// textual reports whether values of t are written as variable text.
func textual(t cim.Type) bool { return t.Kind != cim.Object && !t.IsBytes() }

// get returns the bound value of in.
func (b binding) get(in *cim.Instance) any {
	v := in.Values[b.prop.Name]
	if b.field == nil {
		return v
	}
	list, _ := v.([]any)
	if b.index >= len(list) {
		return nil
	}
	el, _ := list[b.index].(*cim.Instance)
	if el == nil {
		return nil
	}
	return el.Values[b.field.Name]
}

// set stores v as the bound value of in, growing an array of objects as
// needed.
func (b binding) set(reg *cim.Registry, in *cim.Instance, v any) {
	if b.field == nil {
		in.Values[b.prop.Name] = v
		return
	}
	list, _ := in.Values[b.prop.Name].([]any)
	elemClass, _ := reg.Class(b.prop.Type.Class)
	size := 0
	if elemClass != nil {
		size = len(elemClass.Properties)
	}
	for len(list) <= b.index {
		list = append(list, cim.NewInstanceSize(elemClass, size))
	}
	el := list[b.index].(*cim.Instance)
	el.Values[b.field.Name] = v
	in.Values[b.prop.Name] = list
}

// isSecret reports the Secret and QuasiSecret qualifiers.
func isSecret(p *cim.Property) bool {
	return p.Qualifiers.Has("Secret") || p.Qualifiers.Has("QuasiSecret")
}
