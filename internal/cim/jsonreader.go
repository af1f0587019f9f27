package cim

import (
	"errors"
	"sync"
)

// JSONReader reads JSON text of a shape known in advance, a value at a
// time, for decoders that would otherwise go through encoding/json's
// reflection: the same one-pass reader as DecodeObject's, with its
// unescaping of strings. Each method reads the next value; a value of
// another kind than the method reads is refused with ErrJSONShape and not
// read.
type JSONReader struct {
	d    *jsonDecoder
	text string // the text as a string (NewJSONReaderShared)
}

// ErrJSONShape is the error of a value of another kind than the one read.
var ErrJSONShape = errors.New("unexpected JSON value")

// NewJSONReader returns a reader of the JSON text b.
func NewJSONReader(b []byte) *JSONReader { return &JSONReader{d: &jsonDecoder{b: b}} }

// NewJSONReaderShared returns a reader of the JSON text b whose
// SharedString values share one copy of b.
func NewJSONReaderShared(b []byte) *JSONReader {
	return &JSONReader{d: &jsonDecoder{b: b}, text: string(b)}
}

// SharedString reads a string as String does; from a reader of
// NewJSONReaderShared, a value whose bytes stand as they are in the text
// (no escape) is the part of the text's one copy it occupies, not a new
// string.
func (r *JSONReader) SharedString() (string, error) {
	if r.d.peek() != '"' {
		return "", ErrJSONShape
	}
	start := r.d.i + 1
	v, err := r.d.strBytes()
	if err != nil {
		return "", err
	}
	if len(v) == 0 {
		return "", nil
	}
	// v is the text's own bytes (no escape) when it starts where the
	// string's text does in them; text holds the same bytes
	if end := start + len(v); len(r.text) == len(r.d.b) && end <= len(r.d.b) && &v[0] == &r.d.b[start] {
		return r.text[start:end], nil
	}
	return string(v), nil
}

// Null reads a null when one comes next, and reports whether it did.
func (r *JSONReader) Null() bool { return r.d.peek() == 'n' && r.d.word("null") }

// String reads a string.
func (r *JSONReader) String() (string, error) {
	if r.d.peek() != '"' {
		return "", ErrJSONShape
	}
	return r.d.str()
}

// StringBytes reads a string and returns its value, which may share the
// text's bytes: a caller that keeps it copies it.
func (r *JSONReader) StringBytes() ([]byte, error) {
	if r.d.peek() != '"' {
		return nil, ErrJSONShape
	}
	return r.d.strBytes()
}

// Object reads an object, calling member with the name of each member in
// turn; member must read the member's value (Skip reads past it).
func (r *JSONReader) Object(member func(name []byte) error) error {
	return r.container('{', '}', func() error {
		if r.d.peek() != '"' {
			return r.d.fail("expected a member name")
		}
		name, err := r.d.strBytes()
		if err != nil {
			return err
		}
		if err := r.d.noteName(name); err != nil { // Strict: no name twice
			return err
		}
		if err := r.d.expect(':'); err != nil {
			return err
		}
		return member(name)
	})
}

// Array reads an array, calling elem for each element; elem must read the
// element.
func (r *JSONReader) Array(elem func() error) error { return r.container('[', ']', elem) }

func (r *JSONReader) container(open, closer byte, each func() error) error {
	if r.d.peek() != open {
		return ErrJSONShape
	}
	if err := r.d.enter(); err != nil {
		return err
	}
	if open == '{' {
		r.d.openNames()
	}
	r.d.i++
	if r.d.peek() == closer {
		r.d.i++
		r.d.depth--
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		switch r.d.peek() {
		case ',':
			r.d.i++
		case closer:
			r.d.i++
			r.d.depth--
			return nil
		default:
			return r.d.fail("expected ',' or " + string(closer))
		}
	}
}

// Skip reads past one value of any kind.
func (r *JSONReader) Skip() error { return r.d.skip() }

// End checks that nothing but whitespace follows what has been read.
func (r *JSONReader) End() error {
	if r.d.peek() != 0 || r.d.i < len(r.d.b) {
		return r.d.fail("more than one JSON value")
	}
	return nil
}

// ValidJSON reports whether b is one JSON value (RFC 8259), as json.Valid
// does, in one pass of the reader's own (about twice encoding/json's speed).
func ValidJSON(b []byte) bool {
	r := NewJSONReader(b)
	return r.Skip() == nil && r.End() == nil
}

// Annotation decoders. A package whose objects carry an annotation of
// its own ("@ns.term") can have the decoders of this package read it
// into its own form while they read the object (RegisterAnnotation),
// instead of keeping its JSON text (json.RawMessage) to be read later,
// a second pass over the text and a copy of it. A decoder reads with the
// object's own reader, so that DecodeOptions.Strict holds inside the
// annotation as it does for a skipped value; when it fails, the text is
// kept as before, and the error is its reader's to report.
var annotationDecoders = struct {
	sync.RWMutex
	m map[string]func(*JSONReader) (any, error)
}{m: map[string]func(*JSONReader) (any, error){}}

// RegisterAnnotation makes the JSON decoders read the annotation name
// with decode (its value, which must be one encoding/json writes as the
// same JSON). Registering is for package initialisation.
func RegisterAnnotation(name string, decode func(*JSONReader) (any, error)) {
	annotationDecoders.Lock()
	defer annotationDecoders.Unlock()
	annotationDecoders.m[name] = decode
}

func annotationDecoder(name string) func(*JSONReader) (any, error) {
	annotationDecoders.RLock()
	defer annotationDecoders.RUnlock()
	return annotationDecoders.m[name]
}
