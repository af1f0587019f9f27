package cim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// NewObjectSize returns an empty ordered JSON object with room for n
// members.
func NewObjectSize(n int) *JSONObject {
	return &JSONObject{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

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
	case uint64:
		var num [20]byte
		buf.Write(strconv.AppendUint(num[:0], x, 10))
		return nil
	case []string:
		if x == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			appendString(buf, e)
		}
		buf.WriteByte(']')
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

// MarshalValue writes v, a value in one of the forms JSONValue gives (or
// a *JSONObject), as JSON text, as MarshalJSON writes a member's value:
// strings without encoding/json's escapes of <, > and &.
func MarshalValue(v any) ([]byte, error) {
	var buf bytes.Buffer
	if s, ok := v.(string); ok {
		buf.Grow(len(s) + len(s)/16 + 2)
	}
	if err := appendValue(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalValueString is MarshalValue giving a string, written in place
// (no copy of a large value's text from bytes to a string).
func MarshalValueString(v any) (string, error) {
	var buf strings.Builder
	if s, ok := v.(string); ok {
		buf.Grow(len(s) + len(s)/16 + 2)
	}
	if err := appendValue(&buf, v); err != nil {
		return "", err
	}
	return buf.String(), nil
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
// "__" (annotations and WMI system properties) are skipped, but for
// annotations of other vocabularies ("@tsprov.xml"), kept as the JSON text
// they hold. Property names are read without regard to case, so two
// members that name one property are refused. where prefixes error
// targets (for nested objects). Every error is errs.Invalid and names the
// property; text that is not one JSON object is "expected a JSON object".
func (r *Registry) DecodeObject(c *Class, raw json.RawMessage, where string) (*Instance, error) {
	return r.DecodeObjectWith(c, raw, where, DecodeOptions{})
}

// DecodeOptions change how JSON values are read.
type DecodeOptions struct {
	// Int64Strings also accepts an Edm.Int64 value (UInt32, UInt64,
	// SInt64) written as a JSON string of its digits, as OData clients
	// send it when they ask for IEEE754Compatible=true.
	Int64Strings bool
	// Strict also refuses, anywhere in the text (skipped members too),
	// what encoding/json lets through: an object that names a member
	// twice (names compared after unescaping), a \u escape of half a
	// UTF-16 surrogate pair, and nesting deeper than MaxDepth when that is
	// set. A server that checks a body for these before decoding it can
	// decode it strictly in one pass instead, and check only when that
	// fails, to word the error.
	Strict   bool
	MaxDepth int
}

// DecodeObjectWith is DecodeObject with options.
func (r *Registry) DecodeObjectWith(c *Class, raw json.RawMessage, where string, o DecodeOptions) (*Instance, error) {
	d := &jsonDecoder{reg: r, b: raw, opts: o}
	v, err := d.decodeWhole(func() (any, error) {
		return d.object(c, &jsonPath{top: where})
	}, func(*syntaxError) error {
		return errs.Target(errs.Invalid, where, "%s: expected a JSON object", describe(where, c.Name))
	})
	if err != nil {
		return nil, err
	}
	return v.(*Instance), nil
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

// DecodeValue reads one JSON value as type t; where names it in errors.
// Every error is errs.Invalid and names the value (or the element or
// member of it that is wrong).
func (r *Registry) DecodeValue(t Type, raw json.RawMessage, where string) (any, error) {
	return r.DecodeValueWith(t, raw, where, DecodeOptions{})
}

// DecodeValueWith is DecodeValue with options.
func (r *Registry) DecodeValueWith(t Type, raw json.RawMessage, where string, o DecodeOptions) (any, error) {
	d := &jsonDecoder{reg: r, b: raw, opts: o}
	return d.decodeWhole(func() (any, error) {
		return d.value(t, &jsonPath{top: where})
	}, func(se *syntaxError) error {
		return errs.Target(errs.Invalid, where, "property %s: malformed JSON: %v", where, se)
	})
}

// Members returns the members of the JSON object raw in order, each value
// as the JSON text it is (sharing raw's bytes). Outcomes: the members (none
// for {}); an error of kind errs.Invalid when raw is not one JSON object.
func Members(raw []byte) ([]Member, error) {
	d := &jsonDecoder{b: raw}
	var out []Member
	_, err := d.decodeWhole(func() (any, error) {
		if d.peek() != '{' {
			return nil, errNotObject
		}
		d.i++
		if d.peek() == '}' {
			d.i++
			return nil, nil
		}
		for {
			if d.peek() != '"' {
				return nil, d.fail("expected a member name")
			}
			name, err := d.str()
			if err != nil {
				return nil, err
			}
			if err := d.expect(':'); err != nil {
				return nil, err
			}
			d.space()
			start := d.i
			if err := d.skip(); err != nil {
				return nil, err
			}
			out = append(out, Member{Name: name, Value: raw[start:d.i]})
			switch d.peek() {
			case ',':
				d.i++
			case '}':
				d.i++
				return nil, nil
			default:
				return nil, d.fail("expected ',' or '}'")
			}
		}
	}, func(se *syntaxError) error {
		return errs.E(errs.Invalid, "malformed JSON: %w", se)
	})
	if err == errNotObject {
		return nil, errs.E(errs.Invalid, "expected a JSON object")
	}
	return out, err
}

// DecodeParams reads the [in] parameters of method m of class className
// from raw, a JSON object of them by name (names compare without regard
// to case, as WMI's do). Instance annotations (members that start with @)
// are skipped. Outcomes: the values by declared name; errs.Invalid naming
// the member when raw is not an object, a member is no [in] parameter of
// m, one is given twice under names that differ only in case, or a value
// does not decode. Under DecodeOptions.Strict an error is not worded (any
// error will do): the caller decodes again without Strict for the words.
func (r *Registry) DecodeParams(className string, m *Method, raw []byte, o DecodeOptions) (map[string]any, error) {
	if raw == nil {
		return map[string]any{}, nil
	}
	in, err := r.decodeParamsOnce(m, raw, o)
	if err == nil || o.Strict {
		return in, err
	}
	return r.decodeParamsByMember(className, m, raw, o)
}

// decodeParamsOnce reads the parameters in one pass over raw. Outcomes:
// what decodeParamsByMember gives, when it succeeds; an error otherwise,
// which decodeParamsByMember words (it checks the whole object first,
// then decodes each parameter's value).
func (r *Registry) decodeParamsOnce(m *Method, raw []byte, o DecodeOptions) (map[string]any, error) {
	d := &jsonDecoder{reg: r, b: raw, opts: o}
	in := map[string]any{}
	_, err := d.decodeWhole(func() (any, error) {
		if d.peek() != '{' {
			return nil, errNotObject
		}
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.openNames()
		d.i++
		if d.peek() == '}' {
			d.i++
			d.depth--
			return nil, nil
		}
		for {
			if d.peek() != '"' {
				return nil, d.fail("expected a member name")
			}
			name, err := d.strBytes()
			if err != nil {
				return nil, err
			}
			if err := d.expect(':'); err != nil {
				return nil, err
			}
			if len(name) > 0 && name[0] == '@' {
				if err := d.noteName(name); err != nil {
					return nil, err
				}
				if err := d.skip(); err != nil {
					return nil, err
				}
			} else {
				prm, ok := m.Param(string(name))
				if !ok || !prm.In {
					return nil, errNotParam
				}
				if _, twice := in[prm.Name]; twice {
					return nil, errNotParam
				}
				v, err := d.value(prm.Type, &jsonPath{top: prm.Name})
				if err != nil {
					return nil, err
				}
				in[prm.Name] = v
			}
			switch d.peek() {
			case ',':
				d.i++
			case '}':
				d.i++
				d.depth--
				return nil, nil
			default:
				return nil, d.fail("expected ',' or '}'")
			}
		}
	}, func(se *syntaxError) error { return se })
	if err != nil {
		return nil, err
	}
	return in, nil
}

// errNotParam is decodeParamsOnce's error for a member that is no [in]
// parameter, or one given twice.
var errNotParam = errors.New("not an [in] parameter, or one given twice")

// decodeParamsByMember reads the parameters by splitting raw into its
// members, then decoding each value.
func (r *Registry) decodeParamsByMember(className string, m *Method, raw []byte, o DecodeOptions) (map[string]any, error) {
	in := map[string]any{}
	members, err := Members(raw)
	if err != nil {
		return nil, errs.E(errs.Invalid, "the body of a method call must be a JSON object of its [in] parameters")
	}
	for _, member := range members {
		name := member.Name
		if strings.HasPrefix(name, "@") {
			continue
		}
		prm, ok := m.Param(name)
		if !ok || !prm.In {
			return nil, errs.Target(errs.Invalid, name, "method %s.%s has no parameter %s among its [in] parameters", className, m.Name, name)
		}
		if _, twice := in[prm.Name]; twice {
			return nil, errs.Target(errs.Invalid, prm.Name, "parameter %s is given twice, under names that differ only in case", prm.Name)
		}
		v, err := r.DecodeValueWith(prm.Type, member.Value, prm.Name, o)
		if err != nil {
			return nil, err
		}
		in[prm.Name] = v
	}
	return in, nil
}

// Member is a member of a JSON object: its name (unescaped) and its value
// as JSON text.
type Member struct {
	Name  string
	Value json.RawMessage
}

var errNotObject = errors.New("not an object")

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteJSONString writes s as a JSON string, exactly as a JSONObject
// writes its string members.
func WriteJSONString(w JSONWriter, s string) { appendString(w, s) }

// WriteJSONValue writes v exactly as a JSONObject writes a member's value.
func WriteJSONValue(w JSONWriter, v any) error { return appendValue(w, v) }

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
	for i := stringRun(s, false); i < len(s); i = start + stringRun(s[start:], false) {
		c := s[i] // a quote, a backslash or a control character
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
