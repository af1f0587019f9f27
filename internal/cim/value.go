package cim

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// Values of each type are held as these Go types:
//
//	Boolean                 bool
//	integers (all sizes)    int64
//	Real32, Real64          float64
//	String, Char16          string
//	DateTime                DateTimeValue
//	embedded object         *Instance
//	UInt8[]                 []byte
//	other arrays            []any of the element type above
//
// nil is the null value.

// Instance is an object of a class: a set of property values. A property
// absent from Values was not given; present with nil it is null.
type Instance struct {
	Class  *Class
	Values map[string]any
	// Annotations are OData instance annotations ("@ns.term" members other
	// than "@odata.*") that travel with the object through JSON, such as
	// what a codec needs to rebuild the object's source exactly. A value is
	// the json.RawMessage read from JSON, or any value encoding/json can
	// write; values are never modified once set (copies share them).
	Annotations map[string]any
}

// NewInstance returns an empty instance of c.
func NewInstance(c *Class) *Instance {
	return &Instance{Class: c, Values: map[string]any{}}
}

// NewInstanceSize returns an empty instance of c with room for n values,
// for a reader that is about to set them (a map grown one value at a time
// is rebuilt several times on the way).
func NewInstanceSize(c *Class, n int) *Instance {
	return &Instance{Class: c, Values: make(map[string]any, n)}
}

// Get returns the value of the property named name (any case).
func (in *Instance) Get(name string) (any, bool) {
	p, ok := in.Class.Property(name)
	if !ok {
		return nil, false
	}
	v, ok := in.Values[p.Name]
	return v, ok
}

// Set stores v under the property's declared name. It panics on an unknown
// property name: callers set names they took from the class.
func (in *Instance) Set(name string, v any) {
	p, ok := in.Class.Property(name)
	if !ok {
		panic(fmt.Sprintf("cim: %s has no property %s", in.Class.Name, name))
	}
	in.Values[p.Name] = v
}

// String returns a string property, or "".
func (in *Instance) String(name string) string {
	v, _ := in.Get(name)
	s, _ := v.(string)
	return s
}

// Int returns an integer property, or 0.
func (in *Instance) Int(name string) int64 {
	v, _ := in.Get(name)
	n, _ := v.(int64)
	return n
}

// Key returns the instance's key: the values of its key properties joined
// by ";" in declaration order (the form AdminService uses in etags).
func (in *Instance) Key() string {
	var parts []string
	for _, p := range in.Class.Keys() {
		parts = append(parts, FormatScalar(in.Values[p.Name]))
	}
	return JoinKey(parts)
}

// JoinKey forms a key from the values of the key properties, in the order
// the class declares them.
func JoinKey(values []string) string { return strings.Join(values, ";") }

// RelPath is the WMI relative path: Class.Key="value"[,Key2=123].
func (in *Instance) RelPath() string {
	var b strings.Builder
	b.Grow(len(in.Class.Name) + 32)
	b.WriteString(in.Class.Name)
	b.WriteByte('.')
	for i, k := range in.Class.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.Name)
		b.WriteByte('=')
		v := in.Values[k.Name]
		if s, ok := v.(string); ok {
			b.WriteByte('"')
			for j := 0; j < len(s); j++ {
				if s[j] == '\\' || s[j] == '"' {
					b.WriteByte('\\')
				}
				b.WriteByte(s[j])
			}
			b.WriteByte('"')
		} else {
			b.WriteString(FormatScalar(v))
		}
	}
	return b.String()
}

// Clone returns a deep copy.
func (in *Instance) Clone() *Instance {
	out := &Instance{Class: in.Class, Values: make(map[string]any, len(in.Values))}
	for k, v := range in.Values {
		out.Values[k] = cloneValue(v)
	}
	if in.Annotations != nil {
		out.Annotations = make(map[string]any, len(in.Annotations))
		for k, v := range in.Annotations {
			out.Annotations[k] = v
		}
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return bytes.Clone(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case *Instance:
		return x.Clone()
	}
	return v
}

// FormatScalar renders a scalar value as text (keys, paths, messages).
func FormatScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case DateTimeValue:
		return x.DMTF()
	}
	return fmt.Sprint(v)
}

// Equal reports whether two values are the same.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Instance:
		y, ok := b.(*Instance)
		if !ok || x.Class.Name != y.Class.Name {
			return false
		}
		for _, p := range x.Class.Properties {
			if !Equal(x.Values[p.Name], y.Values[p.Name]) {
				return false
			}
		}
		return true
	case DateTimeValue:
		y, ok := b.(DateTimeValue)
		return ok && x.Equal(y)
	}
	return a == b
}

// fromLiteral converts a MOF constant to a value of type t.
func fromLiteral(t Type, lit any) (any, error) {
	if t.Array {
		list, ok := lit.([]any)
		if !ok {
			return nil, fmt.Errorf("array needs a {list} default")
		}
		if t.IsBytes() {
			b := make([]byte, 0, len(list))
			for _, e := range list {
				n, ok := e.(int64)
				if !ok || n < 0 || n > 255 {
					return nil, fmt.Errorf("UInt8 element %v out of range", e)
				}
				b = append(b, byte(n))
			}
			return b, nil
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			v, err := fromLiteral(t.Elem(), e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch {
	case t.Kind == Boolean:
		if b, ok := lit.(bool); ok {
			return b, nil
		}
	case t.Kind.IsInteger():
		if n, ok := lit.(int64); ok {
			return n, nil
		}
	case t.Kind == Real32 || t.Kind == Real64:
		switch n := lit.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		}
	case t.Kind == String || t.Kind == Char16:
		if s, ok := lit.(string); ok {
			return s, nil
		}
	case t.Kind == DateTime:
		if s, ok := lit.(string); ok {
			return ParseDMTF(s)
		}
	}
	return nil, fmt.Errorf("%v is not a %v constant", lit, t)
}

// Check verifies that v (already of the right Go type) obeys the
// property's value rules: integer range of its kind, Range, ValueMap, bits
// and max(N) (elements of an array; characters of a string, counted in
// UTF-16 code units as nvarchar(N) counts them). The error is errs.Invalid and names the property.
func (p *Property) Check(v any) error {
	if v == nil {
		return nil
	}
	if p.Type.Array {
		if n, ok := p.MaxElements(); ok {
			if l := arrayLen(v); l > n {
				return errs.Target(errs.Invalid, p.Name, "property %s holds at most %d elements (max(%d)); got %d", p.Name, n, n, l)
			}
		}
		if list, ok := v.([]any); ok {
			for i, e := range list {
				if err := p.checkScalar(e); err != nil {
					return errs.Target(errs.Invalid, p.Name, "property %s element %d: %w", p.Name, i, err)
				}
			}
		}
		return nil
	}
	if err := p.checkScalar(v); err != nil {
		return errs.Target(errs.Invalid, p.Name, "property %s: %w", p.Name, err)
	}
	if s, ok := v.(string); ok {
		if n, ok := p.MaxLength(); ok {
			if l := utf16Len(s); l > n {
				return errs.Target(errs.Invalid, p.Name, "property %s is %d characters long; it holds at most %d (max(%d))", p.Name, l, n, n)
			}
		}
	}
	return nil
}

// utf16Len is the length of s in UTF-16 code units, as SQL Server's
// nvarchar(N) counts them: a character beyond U+FFFF counts two.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

func arrayLen(v any) int {
	switch x := v.(type) {
	case []byte:
		return len(x)
	case []any:
		return len(x)
	}
	return 0
}

func (p *Property) checkScalar(v any) error {
	if v == nil {
		return nil
	}
	if n, ok := v.(int64); ok {
		lo, hi := p.Type.Kind.IntRange()
		if n < lo || n > hi {
			return fmt.Errorf("%d is outside the %v range %d to %d", n, p.Type.Kind, lo, hi)
		}
		if rlo, rhi, ok := p.Range(); ok && (n < rlo || n > rhi) {
			return fmt.Errorf("%d is outside the allowed range %d-%d", n, rlo, rhi)
		}
		if p.bits != nil && !p.openBits {
			if extra := uint64(n) &^ p.BitMask(); extra != 0 {
				return fmt.Errorf("value %d (0x%08X) sets undefined bits 0x%08X; defined bits: %s", n, n, extra, p.bitNames())
			}
		}
	}
	if vals, ok := p.ValueMap(); ok {
		s := FormatScalar(v)
		found := false
		for _, allowed := range vals {
			if strings.EqualFold(allowed, s) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%q is not one of the allowed values %s", s, strings.Join(vals, ", "))
		}
	}
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return fmt.Errorf("%v is not a finite number", f)
	}
	return nil
}

func (p *Property) bitNames() string {
	var parts []string
	for _, b := range p.bits {
		parts = append(parts, fmt.Sprintf("%s(%d)", b.Name, b.Pos))
	}
	return strings.Join(parts, ", ")
}

// CloneValue returns a deep copy of a value.
func CloneValue(v any) any { return cloneValue(v) }
