package adminservice

import (
	"bytes"
	"encoding/json"
	"unicode/utf16"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// maxJSONDepth bounds the nesting of a JSON body: deep enough for a task
// sequence whose groups nest as deep as its XML may (64 elements), shallow
// enough that no decoder recursion is at risk.
const maxJSONDepth = 128

// checkJSON checks a request body as a strict JSON reader would, before
// any decoder sees it: one JSON value (RFC 8259), nested at most maxDepth
// deep, no object that names a member twice, and no \u escape that is half
// of a UTF-16 surrogate pair. encoding/json takes the last of two members
// of one name and reads a lone surrogate as U+FFFD; either would store
// something other than what the client sent, without a word. b must be
// valid UTF-8. Outcomes: nil; an error of kind errs.Invalid that says what
// is wrong and where (a duplicate member's error names the member).
func checkJSON(b []byte, maxDepth int) error {
	if !cim.ValidJSON(b) {
		return malformed(b, maxDepth)
	}
	return (&jsonScan{b: b, maxDepth: maxDepth}).run()
}

// malformed says what is wrong with b, which cim.ValidJSON refused: that it
// nests too deep (encoding/json's own limit is far deeper than
// maxDepth), or encoding/json's account.
func malformed(b []byte, maxDepth int) error {
	if nestsDeeper(b, maxDepth) {
		return deeper(maxDepth)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return errs.E(errs.Invalid, "malformed JSON body: %w", err)
	}
	return errs.E(errs.Invalid, "malformed JSON body: more than one JSON value")
}

func deeper(maxDepth int) error {
	return errs.E(errs.Invalid, "malformed JSON body: it nests deeper than %d levels", maxDepth)
}

// nestsDeeper reports whether b, JSON or not, opens arrays and objects
// more than max deep outside strings.
func nestsDeeper(b []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// jsonScan walks a body that cim.ValidJSON accepted, one byte at a time,
// without building anything but the member names of the objects open
// at the point it has reached.
type jsonScan struct {
	b        []byte
	maxDepth int
	open     []container // the arrays and objects that enclose the point reached
}

// container is an open array or object; an object keeps the names of its
// members so far (in names, or in seen once it has many).
type container struct {
	object bool
	names  [][]byte // the body's bytes when a name holds no escape
	seen   map[string]struct{}
}

// manyMembers is when an object's names go into a map rather than being
// compared one by one.
const manyMembers = 16

func (s *jsonScan) run() error {
	b := s.b
	nameNext := false // the next string is a member name
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if len(s.open) == s.maxDepth {
				return deeper(s.maxDepth)
			}
			s.push(b[i] == '{')
			nameNext = b[i] == '{'
		case '}', ']':
			s.open = s.open[:len(s.open)-1]
			nameNext = false
		case ',':
			nameNext = s.open[len(s.open)-1].object
		case '"':
			end, err := s.str(i)
			if err != nil {
				return err
			}
			if nameNext {
				if err := s.name(i, end); err != nil {
					return err
				}
				nameNext = false
			}
			i = end
		}
	}
	return nil
}

// push opens an array or an object, reusing what an earlier container at
// that depth held.
func (s *jsonScan) push(object bool) {
	n := len(s.open)
	if n < cap(s.open) {
		s.open = s.open[:n+1]
		c := &s.open[n]
		c.object, c.names = object, c.names[:0]
		clear(c.seen)
		return
	}
	s.open = append(s.open, container{object: object})
}

// str checks the string whose opening quote is at start: every \u escape
// of a surrogate is the first half of a pair directly followed by the
// second. Outcomes: the offset of its closing quote; an error of kind
// errs.Invalid when an escape is a lone surrogate.
func (s *jsonScan) str(start int) (int, error) {
	b := s.b
	i, q := start+1, -1
	for {
		// The next quote not yet passed: the closing one unless an escape
		// before it ends on it. cim.ValidJSON guarantees a closing quote.
		// Each byte is searched once for a quote and once for a backslash.
		if q < i {
			q = i + bytes.IndexByte(b[i:], '"')
		}
		e := bytes.IndexByte(b[i:q], '\\')
		if e < 0 {
			return q, nil
		}
		i += e
		if b[i+1] != 'u' {
			i += 2
			continue
		}
		r := hex4(b[i+2 : i+6])
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00: // a first half
			if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if r2 := hex4(b[i+8 : i+12]); r2 >= 0xDC00 && r2 <= 0xDFFF {
					i += 12
					continue
				}
			}
			return 0, loneSurrogate(b[i:i+6], i)
		case utf16.IsSurrogate(r): // a second half with no first
			return 0, loneSurrogate(b[i:i+6], i)
		}
		i += 6
	}
}

func loneSurrogate(esc []byte, at int) error {
	return errs.E(errs.Invalid, "malformed JSON body: %s at byte %d is half of a UTF-16 surrogate pair, which encodes no character", esc, at)
}

// hex4 reads four hexadecimal digits (cim.ValidJSON has checked them).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// name records the member name b[start:end+1] (a JSON string, quotes
// included) in the innermost object. Outcomes: nil; an error of kind
// errs.Invalid naming the member when the object already has one of that
// name (compared after unescaping, as a decoder compares them).
func (s *jsonScan) name(start, end int) error {
	raw := s.b[start : end+1]
	name := raw[1 : len(raw)-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		var unescaped string
		if err := json.Unmarshal(raw, &unescaped); err != nil {
			return errs.E(errs.Invalid, "malformed JSON body: member name at byte %d: %w", start, err)
		}
		name = []byte(unescaped)
	}
	c := &s.open[len(s.open)-1]
	dup := false
	if c.seen != nil {
		_, dup = c.seen[string(name)]
		if !dup {
			c.seen[string(name)] = struct{}{}
		}
	} else {
		for _, n := range c.names {
			if bytes.Equal(n, name) {
				dup = true
				break
			}
		}
		c.names = append(c.names, name)
		if len(c.names) > manyMembers {
			c.seen = make(map[string]struct{}, 2*manyMembers)
			for _, n := range c.names {
				c.seen[string(n)] = struct{}{}
			}
		}
	}
	if dup {
		return errs.Target(errs.Invalid, string(name), "malformed JSON body: an object names member %q twice (at byte %d); a strict JSON reader refuses that rather than keep one of the two", name, start)
	}
	return nil
}
