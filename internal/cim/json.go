package cim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// Namespace is the OData namespace of every class (AdminService's).
const Namespace = "AdminService"

// JSONObject is a JSON object that keeps its members in insertion order.
type JSONObject struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty ordered JSON object.
func NewObject() *JSONObject { return &JSONObject{vals: map[string]any{}} }

// Set adds or replaces a member (a replaced member keeps its place).
func (o *JSONObject) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Get returns a member.
func (o *JSONObject) Get(k string) (any, bool) { v, ok := o.vals[k]; return v, ok }

// Keys returns the member names in order.
func (o *JSONObject) Keys() []string { return o.keys }

// MarshalJSON writes the members in order.
func (o *JSONObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := o.appendTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteJSON writes the object to w as MarshalJSON would, without holding
// the whole text in memory. On error, part of the object may have been
// written.
func (o *JSONObject) WriteJSON(w JSONWriter) error { return o.appendTo(w) }

// JSONWriter is where JSON text is written: a *bytes.Buffer or a
// *bufio.Writer.
type JSONWriter interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}

// appendTo writes the object. Nested objects and arrays are written
// directly rather than through encoding/json, which would validate and
// compact the bytes of every nested MarshalJSON again.
func (o *JSONObject) appendTo(buf JSONWriter) error {
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		appendString(buf, k)
		buf.WriteByte(':')
		if err := appendValue(buf, o.vals[k]); err != nil {
			return fmt.Errorf("member %s: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

func appendValue(buf JSONWriter, v any) error {
	switch x := v.(type) {
	case *JSONObject:
		return x.appendTo(buf)
	case embedded:
		return appendEmbedded(buf, x.in)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case nil:
		buf.WriteString("null")
		return nil
	case string:
		appendString(buf, x)
		return nil
	case json.RawMessage: // already encoded (and valid) JSON, written as is
		buf.Write(x)
		return nil
	case bool:
		buf.WriteString(strconv.FormatBool(x))
		return nil
	case int64:
		var num [20]byte
		buf.Write(strconv.AppendInt(num[:0], x, 10))
		return nil
	case int:
		var num [20]byte
		buf.Write(strconv.AppendInt(num[:0], int64(x), 10))
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// embedded is an embedded instance as JSONValue returns it: written in
// AdminService form (as EmbeddedJSON builds it) straight from the
// instance, without an intermediate tree, which for a task sequence of
// thousands of steps would cost many times the size of the text.
type embedded struct{ in *Instance }

// MarshalJSON writes the instance as EmbeddedJSON would.
func (e embedded) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := appendEmbedded(&buf, e.in); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appendEmbedded writes in as EmbeddedJSON renders it: "@odata.type",
// the annotations in name order, then every property of the class.
func appendEmbedded(buf JSONWriter, in *Instance) error {
	buf.WriteString(`{"@odata.type":`)
	appendString(buf, ODataType(in.Class.Name))
	for _, k := range sortedKeys(in.Annotations) {
		buf.WriteByte(',')
		appendString(buf, k)
		buf.WriteByte(':')
		if err := appendValue(buf, in.Annotations[k]); err != nil {
			return fmt.Errorf("member %s: %w", k, err)
		}
	}
	for _, p := range in.Class.Properties {
		buf.WriteByte(',')
		appendString(buf, p.Name)
		buf.WriteByte(':')
		if err := appendValue(buf, JSONValue(p.Type, in.Values[p.Name])); err != nil {
			return fmt.Errorf("member %s: %w", p.Name, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

// ODataType returns the "@odata.type" annotation value for a class.
func ODataType(class string) string { return "#" + Namespace + "." + class }

// JSONValue converts a value of type t to the Go value that encoding/json
// writes in AdminService form: DateTime as ISO 8601, UInt8[] as base64,
// embedded objects with "@odata.type".
func JSONValue(t Type, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case DateTimeValue:
		return x.ISO()
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(t.Elem(), e)
		}
		return out
	case *Instance:
		return embedded{x}
	}
	return v
}

// EmbeddedJSON renders an embedded instance: "@odata.type" then every
// property in class order.
func EmbeddedJSON(in *Instance) *JSONObject {
	o := NewObject()
	o.Set("@odata.type", ODataType(in.Class.Name))
	for _, k := range sortedKeys(in.Annotations) {
		o.Set(k, in.Annotations[k])
	}
	for _, p := range in.Class.Properties {
		o.Set(p.Name, JSONValue(p.Type, in.Values[p.Name]))
	}
	return o
}

// DecodeObject reads a JSON object into an instance of class c (or of the
// subclass its "@odata.type" names). Members whose names start with "@" or
// "__" (annotations and WMI system properties) are skipped. Property names
// are read without regard to case, so two members that name one property
// are refused. where prefixes error targets (for nested objects). Every
// error is errs.Invalid and names the property.
func (r *Registry) DecodeObject(c *Class, raw json.RawMessage, where string) (*Instance, error) {
	return decoder{r: r}.object(c, raw, where)
}

// DecodeOptions change how JSON values are read.
type DecodeOptions struct {
	// Int64Strings also accepts an Edm.Int64 value (UInt32, UInt64,
	// SInt64) written as a JSON string of its digits, as OData clients
	// send it when they ask for IEEE754Compatible=true.
	Int64Strings bool
}

// DecodeObjectWith is DecodeObject with options.
func (r *Registry) DecodeObjectWith(c *Class, raw json.RawMessage, where string, o DecodeOptions) (*Instance, error) {
	return decoder{r: r, opts: o}.object(c, raw, where)
}

// DecodeValueWith is DecodeValue with options.
func (r *Registry) DecodeValueWith(t Type, raw json.RawMessage, where string, o DecodeOptions) (any, error) {
	return decoder{r: r, opts: o}.value(t, raw, where)
}

// decoder reads JSON into typed values of a registry's classes.
type decoder struct {
	r    *Registry
	opts DecodeOptions
}

func (d decoder) object(c *Class, raw json.RawMessage, where string) (*Instance, error) {
	r := d.r
	var members map[string]json.RawMessage
	if err := unmarshalStrict(raw, &members); err != nil || members == nil {
		return nil, errs.Target(errs.Invalid, where, "%s: expected a JSON object", describe(where, c.Name))
	}
	if t, ok := members["@odata.type"]; ok {
		var name string
		if err := json.Unmarshal(t, &name); err != nil {
			return nil, errs.Target(errs.Invalid, where, "%s: @odata.type must be a string", describe(where, c.Name))
		}
		name = strings.TrimPrefix(strings.TrimPrefix(name, "#"), Namespace+".")
		sub, ok := r.Class(name)
		if !ok {
			return nil, errs.Target(errs.Invalid, where, "%s: @odata.type names unknown class %q", describe(where, c.Name), name)
		}
		if !sub.IsA(c.Name) {
			return nil, errs.Target(errs.Invalid, where, "%s: @odata.type %s is not a %s", describe(where, c.Name), sub.Name, c.Name)
		}
		c = sub
	}
	if c.IsAbstract() {
		return nil, errs.Target(errs.Invalid, where, "%s: class %s is abstract; say which subclass with \"@odata.type\"", describe(where, c.Name), c.Name)
	}
	in := NewInstance(c)
	for name, val := range members {
		if strings.HasPrefix(name, "@") && !strings.HasPrefix(name, "@odata.") && strings.Contains(name[1:], ".") {
			if in.Annotations == nil {
				in.Annotations = map[string]any{}
			}
			in.Annotations[name] = val
			continue
		}
		if strings.HasPrefix(name, "@") || strings.HasPrefix(name, "__") {
			continue
		}
		p, ok := c.Property(name)
		if !ok {
			return nil, errs.Target(errs.Invalid, join(where, name), "unknown property %s: class %s has no such property", join(where, name), c.Name)
		}
		if _, twice := in.Values[p.Name]; twice {
			return nil, errs.Target(errs.Invalid, join(where, p.Name), "property %s is given twice, under names that differ only in case", join(where, p.Name))
		}
		v, err := d.value(p.Type, val, join(where, p.Name))
		if err != nil {
			return nil, err
		}
		in.Values[p.Name] = v
	}
	return in, nil
}

func describe(where, class string) string {
	if where == "" {
		return class
	}
	return where
}

func join(where, name string) string {
	if where == "" {
		return name
	}
	return where + "." + name
}

func unmarshalStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// DecodeValue reads one JSON value as type t; where names it in errors.
func (r *Registry) DecodeValue(t Type, raw json.RawMessage, where string) (any, error) {
	return decoder{r: r}.value(t, raw, where)
}

func (d decoder) value(t Type, raw json.RawMessage, where string) (any, error) {
	r := d.r
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if t.IsBytes() {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, errs.Target(errs.Invalid, where, "property %s: expected base64 (Edm.Binary): %w", where, err)
			}
			return b, nil
		}
		var nums []json.Number
		if err := unmarshalStrict(raw, &nums); err != nil {
			return nil, errs.Target(errs.Invalid, where, "property %s: expected a base64 string (Edm.Binary)", where)
		}
		b := make([]byte, len(nums))
		for i, n := range nums {
			x, err := n.Int64()
			if err != nil || x < 0 || x > 255 {
				return nil, errs.Target(errs.Invalid, where, "property %s: element %d is not a byte", where, i)
			}
			b[i] = byte(x)
		}
		return b, nil
	}
	if t.Array {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, errs.Target(errs.Invalid, where, "property %s: expected a JSON array of %v", where, t.Elem())
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := d.value(t.Elem(), e, fmt.Sprintf("%s[%d]", where, i))
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, errs.Target(errs.Invalid, where, "property %s: element %d is null", where, i)
			}
			out[i] = v
		}
		return out, nil
	}
	switch {
	case t.Kind == Boolean:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, wrongType(where, "a boolean (true or false)", raw)
		}
		return b, nil
	case t.Kind.IsInteger():
		var n json.Number
		if raw[0] == '"' && d.opts.Int64Strings && t.Kind.IsInt64() {
			var s string
			if json.Unmarshal(raw, &s) != nil || s == "" || strings.TrimLeft(s, "-0123456789") != "" {
				return nil, wrongType(where, "an integer", raw)
			}
			raw = json.RawMessage(s)
		}
		if raw[0] == '"' || unmarshalStrict(raw, &n) != nil {
			return nil, wrongType(where, "an integer", raw)
		}
		x, err := n.Int64()
		if err != nil {
			return nil, wrongType(where, "an integer", raw)
		}
		lo, hi := t.Kind.IntRange()
		if x < lo || x > hi {
			return nil, errs.Target(errs.Invalid, where, "property %s: %d is outside the %v range %d to %d", where, x, t.Kind, lo, hi)
		}
		return x, nil
	case t.Kind == Real32 || t.Kind == Real64:
		var n json.Number
		if raw[0] == '"' || unmarshalStrict(raw, &n) != nil {
			return nil, wrongType(where, "a number", raw)
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, wrongType(where, "a number", raw)
		}
		return f, nil
	case t.Kind == String || t.Kind == Char16:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, wrongType(where, "a string", raw)
		}
		return s, nil
	case t.Kind == DateTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, wrongType(where, "an ISO 8601 date-time string (Edm.DateTimeOffset)", raw)
		}
		d, err := ParseDateTime(s)
		if err != nil {
			return nil, errs.Target(errs.Invalid, where, "property %s: %w", where, err)
		}
		return d, nil
	case t.Kind == Object:
		c, ok := r.Class(t.Class)
		if !ok {
			return nil, errs.Target(errs.Invalid, where, "property %s: untyped objects are not accepted", where)
		}
		return d.object(c, raw, where)
	}
	return nil, errs.Target(errs.Invalid, where, "property %s: unsupported type %v", where, t)
}

func wrongType(where, want string, raw json.RawMessage) error {
	got := string(raw)
	if len(got) > 40 {
		got = got[:40] + "…"
	}
	return errs.Target(errs.Invalid, where, "property %s: wrong type: expected %s, got %s", where, want, got)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & as they are: task sequence XML stays readable and a third
// smaller.
func appendString(buf JSONWriter, s string) {
	if !utf8.ValidString(s) {
		b, _ := json.Marshal(s) // replaces invalid bytes with U+FFFD
		buf.Write(b)
		return
	}
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xF])
		}
		start = i + 1
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
