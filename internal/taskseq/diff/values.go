package diff

import (
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Properties a step comparison leaves to other kinds of change, or leaves
// out: the name (Renamed), Enabled (Enabled/Disabled), the condition, the
// children, and what a generic step keeps of its XML layout (its
// attributes and variables are compared apart; its <action> text, like a
// typed step's, follows from its variables).
var handledApart = map[string]bool{
	"Name": true, "Enabled": true, "Condition": true, "Steps": true,
	"Action": true, "Attributes": true, "Children": true, "Variables": true, "ActionType": true,
}

// comparedCache holds compared's answer by class.
var comparedCache = cim.NewClassMemo(compared)

// compared returns the properties of a step class that stepChanges
// compares one by one.
func compared(c *cim.Class) []*cim.Property {
	var out []*cim.Property
	for _, p := range c.Properties {
		if !handledApart[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// secretText stands for a Secret or QuasiSecret value.
const secretText = "(secret)"

// render writes a property value as text: strings quoted, objects as
// {Name: value, …}, arrays as [a, b]; secret values as "(secret)".
func render(p *cim.Property, v any) string {
	if p != nil && p.IsSecret() && v != nil {
		return secretText
	}
	var b strings.Builder
	renderValue(&b, v)
	return b.String()
}

func renderValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(strconv.Quote(x))
	case []byte:
		b.WriteString(strconv.Quote(string(x)))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			renderValue(b, e)
		}
		b.WriteByte(']')
	case *cim.Instance:
		if x == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('{')
		first := true
		for _, p := range x.Class.Properties {
			pv, ok := x.Values[p.Name]
			if !ok || pv == nil {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(p.Name + ": ")
			if p.IsSecret() {
				b.WriteString(secretText)
				continue
			}
			renderValue(b, pv)
		}
		b.WriteByte('}')
	default:
		b.WriteString(cim.FormatScalar(x))
	}
}

// canon writes a value so that equal values write the same text (secret
// values included: the fingerprint is never shown).
func canon(b *strings.Builder, v any) {
	switch x := v.(type) {
	case *cim.Instance:
		if x == nil {
			b.WriteString("null")
			return
		}
		b.WriteString("{" + x.Class.Name)
		for _, p := range x.Class.Properties {
			b.WriteString("," + p.Name + ":")
			canon(b, x.Values[p.Name])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			canon(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case string:
		b.WriteString(strconv.Quote(x))
	default:
		renderValue(b, v)
	}
}
