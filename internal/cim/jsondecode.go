package cim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// jsonDecoder reads JSON text in one pass straight into typed values: each
// byte is looked at once (twice in an object whose "@odata.type" is not
// its first member), and no intermediate tree or copy of a nested value
// is made. It reads the values as encoding/json would: strings unescaped
// alike (a lone surrogate or an invalid UTF-8 byte becomes U+FFFD),
// numbers parsed by strconv.
type jsonDecoder struct {
	reg   *Registry
	opts  DecodeOptions
	b     []byte
	i     int
	depth int
	// names holds, under DecodeOptions.Strict, the member names read so
	// far of each object open, by depth (a set once an object has many),
	// reused from one object to the next at the same depth.
	names []memberNames
	// paths are the jsonPath nodes of values read and done with, for the
	// next value to reuse (pathTo): every value has one, and a node
	// allocated for each would be a quarter of a request's allocations.
	paths []*jsonPath
	// annotations holds the annotation names read, so that each object's
	// "@ns.term" is not a new string.
	annotations map[string]string
	// text is b as a string, made when an annotation decoder first reads
	// (RegisterAnnotation): the strings it reads are parts of it.
	text string
	// reader is the JSONReader annotation decoders read with, one for
	// every annotation of the text.
	reader *JSONReader
}

var odataPrefix = []byte("@odata.")

// pathTo returns the path of a member (name) or an element (index) of the
// value at up, a node the caller gives back (donePath) once the value is
// read: an error message takes the path's String when it is made, so no
// node outlives the reading of its value.
func (d *jsonDecoder) pathTo(up *jsonPath, name string, index int) *jsonPath {
	var p *jsonPath
	if n := len(d.paths); n > 0 {
		p = d.paths[n-1]
		d.paths = d.paths[:n-1]
	} else {
		p = new(jsonPath)
	}
	*p = jsonPath{up: up, name: name, index: index}
	return p
}

// donePath gives back a node of pathTo.
func (d *jsonDecoder) donePath(p *jsonPath) { d.paths = append(d.paths, p) }

// memberNames are the names of the members of one object, in list (the
// text's bytes when a name holds no escape) or, beyond manyMembers, in set.
type memberNames struct {
	list [][]byte
	set  map[string]struct{}
}

// manyMembers is when an object's names go into a set rather than being
// compared one by one.
const manyMembers = 16

// maxDecodeDepth bounds the nesting the decoder follows (encoding/json's
// own bound); request bodies are bounded far lower before they get here.
const maxDecodeDepth = 10000

// syntaxError is JSON text that is not JSON; the entry points turn it into
// an errs.Invalid error about the value they were asked to read.
type syntaxError struct {
	at  int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.at) }

// jsonPath names the value being read in error messages, built only when
// an error needs it: a member of the value above, an element of the array
// above, or the top, named by the caller.
type jsonPath struct {
	up    *jsonPath
	name  string // a member; "" for an array element
	index int
	top   string
}

func (p *jsonPath) String() string {
	if p.up == nil {
		return p.top
	}
	if p.name != "" {
		return join(p.up.String(), p.name)
	}
	return fmt.Sprintf("%s[%d]", p.up.String(), p.index)
}

// decodeWhole reads the one value the text holds with read, then checks
// that nothing but whitespace follows it. malformed words the error of
// text that is not JSON.
func (d *jsonDecoder) decodeWhole(read func() (any, error), malformed func(*syntaxError) error) (any, error) {
	v, err := read()
	if err == nil {
		d.space()
		if d.i < len(d.b) {
			err = d.fail("more than one JSON value")
		}
	}
	if se, ok := err.(*syntaxError); ok {
		return nil, malformed(se)
	}
	return v, err
}

func (d *jsonDecoder) fail(msg string) error { return &syntaxError{at: d.i, msg: msg} }

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the byte that starts the next token (0 at the end).
func (d *jsonDecoder) peek() byte {
	d.space()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// word consumes the literal true, false or null when it comes next.
func (d *jsonDecoder) word(w string) bool {
	if len(d.b)-d.i >= len(w) && string(d.b[d.i:d.i+len(w)]) == w {
		d.i += len(w)
		return true
	}
	return false
}

func (d *jsonDecoder) expect(c byte) error {
	if d.peek() != c {
		return d.fail(fmt.Sprintf("expected %q", c))
	}
	d.i++
	return nil
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > maxDecodeDepth || (d.opts.Strict && d.opts.MaxDepth > 0 && d.depth > d.opts.MaxDepth) {
		return d.fail("nested too deep")
	}
	return nil
}

// openNames starts the list of member names of the object just entered
// (under Strict; otherwise names are not kept).
func (d *jsonDecoder) openNames() {
	if !d.opts.Strict {
		return
	}
	for len(d.names) <= d.depth {
		d.names = append(d.names, memberNames{})
	}
	n := &d.names[d.depth]
	n.list = n.list[:0]
	clear(n.set)
}

// noteName records a member name of the object open at d.depth (under
// Strict): an error when the object has named that member before.
func (d *jsonDecoder) noteName(name []byte) error {
	if !d.opts.Strict {
		return nil
	}
	n := &d.names[d.depth]
	dup := false
	if n.set != nil && len(n.list) == 0 {
		_, dup = n.set[string(name)]
		n.set[string(name)] = struct{}{}
	} else {
		for _, seen := range n.list {
			if string(seen) == string(name) {
				dup = true
				break
			}
		}
		n.list = append(n.list, name)
		if len(n.list) > manyMembers {
			if n.set == nil {
				n.set = make(map[string]struct{}, 2*manyMembers)
			}
			for _, seen := range n.list {
				n.set[string(seen)] = struct{}{}
			}
			n.list = n.list[:0]
		}
	}
	if dup {
		return d.fail(fmt.Sprintf("member %q named twice", name))
	}
	return nil
}

// value reads one value of type t.
func (d *jsonDecoder) value(t Type, at *jsonPath) (any, error) {
	if d.peek() == 'n' && d.word("null") {
		return nil, nil
	}
	switch {
	case t.IsBytes():
		return d.bytesValue(at)
	case t.Array:
		return d.array(t, at)
	case t.Kind == Boolean:
		switch {
		case d.word("true"):
			return true, nil
		case d.word("false"):
			return false, nil
		}
		return d.wrongType(at, "a boolean (true or false)")
	case t.Kind.IsInteger():
		lit, ok, err := d.number()
		if !ok && err == nil && d.opts.Int64Strings && t.Kind.IsInt64() && d.peek() == '"' {
			lit, ok, err = d.int64String(at)
		}
		if err != nil || !ok {
			return d.wrongTypeOr(err, at, "an integer")
		}
		x, err := parseInt(lit)
		if err != nil {
			return d.wrongTypeAt(lit, at, "an integer")
		}
		lo, hi := t.Kind.IntRange()
		if x < lo || x > hi {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "property %s: %d is outside the %v range %d to %d", where, x, t.Kind, lo, hi)
		}
		return x, nil
	case t.Kind == Real32 || t.Kind == Real64:
		lit, ok, err := d.number()
		if err != nil || !ok {
			return d.wrongTypeOr(err, at, "a number")
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil || math.IsInf(f, 0) {
			return d.wrongTypeAt(lit, at, "a number")
		}
		return f, nil
	case t.Kind == String || t.Kind == Char16:
		if d.peek() != '"' {
			return d.wrongType(at, "a string")
		}
		return d.str()
	case t.Kind == DateTime:
		if d.peek() != '"' {
			return d.wrongType(at, "an ISO 8601 date-time string (Edm.DateTimeOffset)")
		}
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := ParseDateTime(s)
		if err != nil {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "property %s: %w", where, err)
		}
		return v, nil
	case t.Kind == Object:
		c, ok := d.reg.Class(t.Class)
		if !ok {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "property %s: untyped objects are not accepted", where)
		}
		return d.object(c, at)
	}
	where := at.String()
	return nil, errs.Target(errs.Invalid, where, "property %s: unsupported type %v", where, t)
}

// int64String reads an Edm.Int64 value written as a string of its digits
// (DecodeOptions.Int64Strings) and returns the digits as a number literal.
// A string that holds anything but digits and "-" is the wrong type; one
// that is not a number literal is returned as not ok, and not read again.
func (d *jsonDecoder) int64String(at *jsonPath) ([]byte, bool, error) {
	start := d.i
	s, err := d.strBytes()
	if err != nil {
		return nil, false, err
	}
	if len(s) == 0 || strings.TrimLeft(string(s), "-0123456789") != "" || !isJSONNumber(s) {
		d.i = start
		return nil, false, nil
	}
	return s, true, nil
}

// wrongType skips the value that does not have the type wanted and words
// the error with its text.
func (d *jsonDecoder) wrongType(at *jsonPath, want string) (any, error) {
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.wrongTypeAt(d.b[start:d.i], at, want)
}

func (d *jsonDecoder) wrongTypeOr(err error, at *jsonPath, want string) (any, error) {
	if err != nil {
		return nil, err
	}
	return d.wrongType(at, want)
}

func (d *jsonDecoder) wrongTypeAt(raw []byte, at *jsonPath, want string) (any, error) {
	got := string(raw)
	if len(got) > 40 {
		got = got[:40] + "…"
	}
	where := at.String()
	return nil, errs.Target(errs.Invalid, where, "property %s: wrong type: expected %s, got %s", where, want, got)
}

// bytesValue reads a UInt8[] value: a base64 string (Edm.Binary) or an
// array of numbers from 0 to 255.
func (d *jsonDecoder) bytesValue(at *jsonPath) (any, error) {
	switch d.peek() {
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "property %s: expected base64 (Edm.Binary): %w", where, err)
		}
		return b, nil
	case '[':
	default:
		return d.notBytes(at)
	}
	// As encoding/json reads a []json.Number: every element a number, a
	// string holding one, or null; then each must be a byte.
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.i++
	var elems []int64
	numbers := true
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			x, ok, err := d.byteElement()
			if err != nil {
				return nil, err
			}
			if !ok {
				numbers = false
			}
			elems = append(elems, x)
			if d.peek() == ',' {
				d.i++
				continue
			}
			if err := d.expect(']'); err != nil {
				return nil, err
			}
			break
		}
	}
	d.depth--
	where := at.String()
	if !numbers {
		return nil, errs.Target(errs.Invalid, where, "property %s: expected a base64 string (Edm.Binary)", where)
	}
	out := make([]byte, len(elems))
	for i, x := range elems {
		if x < 0 || x > 255 {
			return nil, errs.Target(errs.Invalid, where, "property %s: element %d is not a byte", where, i)
		}
		out[i] = byte(x)
	}
	return out, nil
}

// byteElement reads an element of a UInt8[] array given as numbers: as
// encoding/json reads a json.Number, a number or a string holding one;
// null or a number that is no integer gives -1. ok is false for any other
// value (the array is then not one of numbers), which is read past.
func (d *jsonDecoder) byteElement() (int64, bool, error) {
	switch d.peek() {
	case 'n':
		if d.word("null") {
			return -1, true, nil
		}
	case '"':
		s, err := d.str()
		if err != nil {
			return 0, false, err
		}
		if !isJSONNumber([]byte(s)) {
			return 0, false, nil
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return -1, true, nil
		}
		return x, true, nil
	}
	lit, ok, err := d.number()
	if err != nil {
		return 0, false, err
	}
	if !ok {
		return 0, false, d.skip()
	}
	x, err := parseInt(lit)
	if err != nil {
		return -1, true, nil
	}
	return x, true, nil
}

func (d *jsonDecoder) notBytes(at *jsonPath) (any, error) {
	if err := d.skip(); err != nil {
		return nil, err
	}
	where := at.String()
	return nil, errs.Target(errs.Invalid, where, "property %s: expected a base64 string (Edm.Binary)", where)
}

// array reads an array of t's elements; no element may be null.
func (d *jsonDecoder) array(t Type, at *jsonPath) (any, error) {
	if d.peek() != '[' {
		if err := d.skip(); err != nil {
			return nil, err
		}
		where := at.String()
		return nil, errs.Target(errs.Invalid, where, "property %s: expected a JSON array of %v", where, t.Elem())
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.i++
	elem := t.Elem()
	out := []any{}
	if d.peek() == ']' {
		d.i++
		d.depth--
		return out, nil
	}
	for n := 0; ; n++ {
		here := d.pathTo(at, "", n)
		v, err := d.value(elem, here)
		d.donePath(here)
		if err != nil {
			return nil, err
		}
		if v == nil {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "property %s: element %d is null", where, n)
		}
		out = append(out, v)
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return out, nil
		default:
			return nil, d.fail("expected ',' or ']'")
		}
	}
}

// object reads an object into an instance of c, or of the subclass its
// "@odata.type" names, with DecodeObject's rules.
func (d *jsonDecoder) object(c *Class, at *jsonPath) (*Instance, error) {
	if d.peek() != '{' {
		if err := d.skip(); err != nil {
			return nil, err
		}
		where := at.String()
		return nil, errs.Target(errs.Invalid, where, "%s: expected a JSON object", describe(where, c.Name))
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	typeName, typed, err := d.odataType()
	if err == errODataTypeNotString {
		where := at.String()
		return nil, errs.Target(errs.Invalid, where, "%s: @odata.type must be a string", describe(where, c.Name))
	}
	if err != nil {
		return nil, err
	}
	if typed {
		name := strings.TrimPrefix(strings.TrimPrefix(typeName, "#"), Namespace+".")
		sub, ok := d.reg.Class(name)
		if !ok {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "%s: @odata.type names unknown class %q", describe(where, c.Name), name)
		}
		if !sub.IsA(c.Name) {
			where := at.String()
			return nil, errs.Target(errs.Invalid, where, "%s: @odata.type %s is not a %s", describe(where, c.Name), sub.Name, c.Name)
		}
		c = sub
	}
	if c.IsAbstract() {
		where := at.String()
		return nil, errs.Target(errs.Invalid, where, "%s: class %s is abstract; say which subclass with \"@odata.type\"", describe(where, c.Name), c.Name)
	}
	in := NewInstanceSize(c, len(c.Properties)) // JSON written by tsprov names every property
	d.openNames()
	d.i++ // {
	if d.peek() == '}' {
		d.i++
		d.depth--
		return in, nil
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
		if err := d.member(in, name, at); err != nil {
			return nil, err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return in, nil
		default:
			return nil, d.fail("expected ',' or '}'")
		}
	}
}

// member reads the value of the member name of the object read into in.
// Annotations of other vocabularies than OData's ("@ns.term") are kept as
// the JSON text they hold; other annotations and WMI system properties
// ("__CLASS") are skipped.
func (d *jsonDecoder) member(in *Instance, name []byte, at *jsonPath) error {
	if len(name) > 0 && (name[0] == '@' || name[0] == '_') {
		// not a property, so not found twice by in.Values below
		if err := d.noteName(name); err != nil {
			return err
		}
	}
	if len(name) > 0 && name[0] == '@' {
		s, seen := d.annotations[string(name)]
		if !seen && (bytes.HasPrefix(name, odataPrefix) || bytes.IndexByte(name[1:], '.') < 0) {
			return d.skip() // an OData annotation: its name is not kept
		}
		if !seen {
			s = string(name)
			if d.annotations == nil {
				d.annotations = map[string]string{}
			}
			d.annotations[s] = s
		}
		d.space()
		start := d.i
		if in.Annotations == nil {
			in.Annotations = map[string]any{}
		}
		if decode := annotationDecoder(s); decode != nil {
			depth := d.depth
			if len(d.text) != len(d.b) {
				d.text = string(d.b) // the strings read share it
			}
			if d.reader == nil {
				d.reader = &JSONReader{d: d}
			}
			d.reader.text = d.text
			if v, err := decode(d.reader); err == nil {
				in.Annotations[s] = v
				return nil
			}
			d.i, d.depth = start, depth // kept as text, as before
		}
		if err := d.skip(); err != nil {
			return err
		}
		in.Annotations[s] = json.RawMessage(append([]byte(nil), d.b[start:d.i]...))
		return nil
	}
	if len(name) > 1 && name[0] == '_' && name[1] == '_' {
		return d.skip()
	}
	c := in.Class
	p, ok := c.propertyOf(name)
	if !ok {
		where := join(at.String(), string(name))
		return errs.Target(errs.Invalid, where, "unknown property %s: class %s has no such property", where, c.Name)
	}
	if _, twice := in.Values[p.Name]; twice {
		where := join(at.String(), p.Name)
		return errs.Target(errs.Invalid, where, "property %s is given twice, under names that differ only in case", where)
	}
	here := d.pathTo(at, p.Name, 0)
	v, err := d.value(p.Type, here)
	d.donePath(here)
	if err != nil {
		return err
	}
	in.Values[p.Name] = v
	return nil
}

// odataType finds the "@odata.type" member of the object that starts at
// d.i, without moving d.i: the first member, as tsprov and AdminService
// write it, or else any member. Outcomes: the name and true (a null
// names the class ""); false when there is none; a syntax error; an
// errs.Invalid error when its value is no string.
func (d *jsonDecoder) odataType() (string, bool, error) {
	start := d.i
	defer func() { d.i = start }()
	d.i++
	if d.peek() == '}' {
		return "", false, nil
	}
	for {
		if d.peek() != '"' {
			return "", false, d.fail("expected a member name")
		}
		name, err := d.strBytes()
		if err != nil {
			return "", false, err
		}
		if err := d.expect(':'); err != nil {
			return "", false, err
		}
		if string(name) == "@odata.type" {
			switch d.peek() {
			case '"':
				s, err := d.str()
				return s, true, err
			case 'n':
				if d.word("null") {
					return "", true, nil
				}
			}
			return "", false, errODataTypeNotString
		}
		if err := d.skip(); err != nil {
			return "", false, err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			return "", false, nil
		default:
			return "", false, d.fail("expected ',' or '}'")
		}
	}
}

// errODataTypeNotString is replaced, where the path is known, by the
// error that names the object.
var errODataTypeNotString = errors.New("@odata.type must be a string")

// str reads a string and returns its value.
func (d *jsonDecoder) str() (string, error) {
	raw, err := d.strBytes()
	return string(raw), err
}

// strBytes reads the string at d.i and returns its value, which may share
// the text's bytes (when the string holds no escape and is valid UTF-8).
func (d *jsonDecoder) strBytes() ([]byte, error) {
	b := d.b
	start := d.i + 1
	i := start + plainRun(b[start:])
	for i < len(b) {
		c := b[i]
		if c == '"' {
			d.i = i + 1
			return b[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	// The general case: find the end, checking escapes and control
	// characters, then unescape.
	escaped := false
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			raw := b[start:i]
			d.i = i + 1
			if !escaped && utf8.Valid(raw) {
				return raw, nil
			}
			return unquote(raw), nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				d.i = i
				return nil, d.fail("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r := getu4(b[i:])
				if i+6 > len(b) || r < 0 {
					d.i = i
					return nil, d.fail("invalid \\u escape in string")
				}
				if d.opts.Strict && utf16.IsSurrogate(r) {
					// only a first half directly followed by a second
					if r2 := getu4(b[i+6:]); r >= 0xDC00 || r2 < 0xDC00 || r2 > 0xDFFF {
						d.i = i
						return nil, d.fail("\\u escape of half a surrogate pair")
					}
					i += 6
				}
				i += 6
			default:
				d.i = i
				return nil, d.fail("invalid escape in string")
			}
		case c < 0x20:
			d.i = i
			return nil, d.fail("control character in string")
		default:
			i++
			i += plainRun(b[i:])
		}
	}
	d.i = len(b)
	return nil, d.fail("unterminated string")
}

// plainRun returns the length of the run of bytes at the start of b that
// a JSON string holds as they are: ASCII, no quote, no backslash, no
// control character.
func plainRun(b []byte) int { return stringRun(b, true) }

// stringRun returns the length of the run of bytes at the start of s that
// are written in a JSON string as they are: no quote, no backslash, no
// control character, and, when ascii is set, nothing beyond ASCII. It
// tests eight bytes at a time (the bytes of a little-endian word, each
// compared in its own lane: a lane that is zero after subtracting 1 or
// 0x20 borrows into its top bit) and then finds the first byte that stops
// the run one at a time; most of a task sequence's text is such runs.
func stringRun[T string | []byte](s T, ascii bool) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for {
		for ; i+8 <= len(s); i += 8 {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if x&highs != 0 { // a byte beyond ASCII: the tests below would mislead
				break
			}
			// every lane is below 0x80 here, so a lane's top bit is set
			// below only when that lane (or one below it) borrowed
			control := x - 0x20*ones
			quote := (x ^ '"'*ones) - ones
			backslash := (x ^ '\\'*ones) - ones
			if (control|quote|backslash)&highs != 0 {
				break
			}
		}
		for ; ; i++ {
			if i == len(s) {
				return i
			}
			c := s[i]
			if c == '"' || c == '\\' || c < 0x20 || (ascii && c >= utf8.RuneSelf) {
				return i
			}
			if c >= utf8.RuneSelf { // kept as it is: back to words after it
				i++
				break
			}
		}
	}
}

// unquote unescapes the body of a JSON string (checked by strBytes) as
// encoding/json does: a \u escape of a lone surrogate and a byte that is
// not UTF-8 each become U+FFFD.
func unquote(s []byte) []byte {
	out := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						out = utf8.AppendRune(out, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, rr)
				continue
			default: // " \ /
				out = append(out, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			n := 1 + plainRun(s[r+1:])
			out = append(out, s[r:r+n]...)
			r += n
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			out = utf8.AppendRune(out, rr)
		}
	}
	return out
}

// getu4 reads the \uXXXX escape at the start of s, or gives -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a number literal. ok is false, and nothing is read, when
// the next value is not a number.
func (d *jsonDecoder) number() ([]byte, bool, error) {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		return nil, false, nil
	}
	start := d.i
	end := numberEnd(d.b, start)
	if end < 0 {
		return nil, false, d.fail("malformed number")
	}
	d.i = end
	return d.b[start:end], true, nil
}

// numberEnd returns the end of the number literal that starts at i, or -1
// when the text there is not one (RFC 8259 §6).
func numberEnd(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func isJSONNumber(b []byte) bool { return len(b) > 0 && numberEnd(b, 0) == len(b) }

// parseInt reads an integer literal as strconv.ParseInt does, without
// making a string of the common short ones.
func parseInt(lit []byte) (int64, error) {
	neg := len(lit) > 0 && lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return strconv.ParseInt(string(lit), 10, 64)
	}
	var x int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return strconv.ParseInt(string(lit), 10, 64)
		}
		x = x*10 + int64(c-'0')
	}
	if neg {
		x = -x
	}
	return x, nil
}

// skip reads past one value, checking its syntax.
func (d *jsonDecoder) skip() error {
	switch c := d.peek(); c {
	case '"':
		_, err := d.strBytes()
		return err
	case '{', '[':
		if err := d.enter(); err != nil {
			return err
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		} else {
			d.openNames()
		}
		d.i++
		if d.peek() == closer {
			d.i++
			d.depth--
			return nil
		}
		for {
			if c == '{' {
				if d.peek() != '"' {
					return d.fail("expected a member name")
				}
				name, err := d.strBytes()
				if err != nil {
					return err
				}
				if err := d.noteName(name); err != nil {
					return err
				}
				if err := d.expect(':'); err != nil {
					return err
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case closer:
				d.i++
				d.depth--
				return nil
			default:
				return d.fail(fmt.Sprintf("expected ',' or %q", closer))
			}
		}
	case 't':
		if d.word("true") {
			return nil
		}
	case 'f':
		if d.word("false") {
			return nil
		}
	case 'n':
		if d.word("null") {
			return nil
		}
	default:
		if _, ok, err := d.number(); ok || err != nil {
			return err
		}
	}
	if d.i >= len(d.b) {
		return d.fail("unexpected end of JSON")
	}
	return d.fail("invalid character " + strconv.QuoteRune(rune(d.b[d.i])))
}
