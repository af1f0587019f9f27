package taskseq

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// parseTree parses one XML document into a tree: a scanner for what task
// sequence files use (elements, attributes, text, character and the five
// predefined entity references, CDATA, comments, the XML declaration). It
// refuses DTDs (and so every entity declaration), other processing
// instructions, malformed markup, characters outside XML's range, invalid
// UTF-8, and documents beyond the limits. Carriage returns are normalised
// to line feeds as XML requires. A differential fuzz test holds it to
// encoding/xml's reading of the same input.
func parseTree(data []byte, lim Limits) (*Element, error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return nil, errs.E(errs.TooLarge, "XML is %d bytes; the limit is %d", len(data), lim.MaxBytes)
	}
	s := &scanner{data: data, lim: lim}
	root, err := s.document()
	if err != nil {
		return nil, err
	}
	return root, nil
}

type scanner struct {
	data  []byte
	pos   int
	lim   Limits
	count int
	attrs []Attr // the attributes of the element being read, reused
	kids  []Node // the children of the elements being read, innermost last, reused

	// Elements, attribute lists and child lists are cut from larger
	// blocks: a large sequence has tens of thousands of each, and one
	// allocation a block rather than one each is fewer for the collector
	// to count and trace. Each list is cut with its capacity at its
	// length, so appending to it later copies it rather than running into
	// its neighbour.
	elems     []Element
	attrBlock []Attr
	nodeBlock []Node
	block     int // the size of the next block; doubles up to maxBlock
}

const maxBlock = 512

// blockSize is the size of the next block to cut from, for n items at
// least: small for a small document (a rule list, a fragment), larger as
// the document proves large.
func (s *scanner) blockSize(n int) int {
	s.block = min(max(2*s.block, 8), maxBlock)
	return max(s.block, n)
}

func (s *scanner) newElement(name string) *Element {
	if len(s.elems) == 0 {
		s.elems = make([]Element, s.blockSize(1))
	}
	el := &s.elems[0]
	s.elems = s.elems[1:]
	el.Name = name
	return el
}

// nodes returns a copy of list, of exactly its length (nil for none).
func (s *scanner) nodes(list []Node) []Node {
	n := len(list)
	if n == 0 {
		return nil
	}
	if len(s.nodeBlock) < n {
		s.nodeBlock = make([]Node, s.blockSize(n))
	}
	out := s.nodeBlock[:n:n]
	s.nodeBlock = s.nodeBlock[n:]
	copy(out, list)
	return out
}

func (s *scanner) fail(format string, args ...any) error {
	line := 1 + bytes.Count(s.data[:min(s.pos, len(s.data))], []byte{'\n'})
	return errs.E(errs.Invalid, "malformed XML at line %d: %s", line, fmt.Sprintf(format, args...))
}

func (s *scanner) document() (*Element, error) {
	var root *Element
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			break
		}
		if s.data[s.pos] != '<' {
			return nil, s.fail("text outside the root element")
		}
		switch {
		case s.has("<?"):
			if err := s.procInst(root == nil && s.pos == 0); err != nil {
				return nil, err
			}
		case s.has("<!--"):
			if err := s.comment(); err != nil {
				return nil, err
			}
		case s.has("<!"):
			return nil, errs.E(errs.Invalid, "XML with a DTD or other <!...> declaration is refused (no entity declarations are accepted)")
		default:
			if root != nil {
				return nil, s.fail("more than one root element")
			}
			el, err := s.element(0)
			if err != nil {
				return nil, err
			}
			root = el
		}
	}
	if root == nil {
		return nil, errs.E(errs.Invalid, "malformed XML: no root element")
	}
	return root, nil
}

func (s *scanner) has(prefix string) bool { return bytes.HasPrefix(s.data[s.pos:], []byte(prefix)) }

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// procInst reads the XML declaration, <?xml …?>, which may stand only at
// the very start of the document (first); any other processing instruction
// is refused.
func (s *scanner) procInst(first bool) error {
	end := bytes.Index(s.data[s.pos+2:], []byte("?>"))
	if end < 0 {
		return s.fail("unterminated <?")
	}
	body := string(s.data[s.pos+2 : s.pos+2+end])
	target := body[:len(body)-len(strings.TrimLeft(body, "_:-.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))]
	if target != "xml" {
		return errs.E(errs.Invalid, "XML processing instruction <?%s?> is refused", target)
	}
	if !first {
		return s.fail("the XML declaration <?xml …?> may stand only at the start of the document")
	}
	if err := checkChars(body); err != nil {
		return s.fail("%v", err)
	}
	if err := checkXMLDecl(body[len(target):]); err != nil {
		return s.fail("%v", err)
	}
	s.pos += 2 + end + 2
	return nil
}

// checkXMLDecl reads the pseudo-attributes of an XML declaration in the
// order XML 1.0 (§2.8) fixes: version (required, 1.0), then encoding
// (UTF-8, the only one task sequences use) and standalone (yes or no), each
// optional, each preceded by white space.
func checkXMLDecl(rest string) error {
	params := []struct {
		name     string
		required bool
		ok       func(string) bool
		want     string
	}{
		{"version", true, func(v string) bool { return v == "1.0" }, "only 1.0 is supported"},
		{"encoding", false, func(v string) bool { return strings.EqualFold(v, "utf-8") }, "task sequences are UTF-8"},
		{"standalone", false, func(v string) bool { return v == "yes" || v == "no" }, `it is "yes" or "no"`},
	}
	for _, p := range params {
		trimmed := strings.TrimLeft(rest, " \t\r\n")
		spaced := len(trimmed) < len(rest)
		name, value, after, found := declPseudoAttr(trimmed)
		if !found || name != p.name || !spaced {
			if p.required {
				return fmt.Errorf("the XML declaration must begin with version=\"1.0\"")
			}
			continue
		}
		if !p.ok(value) {
			return fmt.Errorf("XML declaration %s %q is not supported; %s", name, value, p.want)
		}
		rest = after
	}
	if strings.TrimLeft(rest, " \t\r\n") != "" {
		return fmt.Errorf("unexpected %q in the XML declaration", strings.TrimSpace(rest))
	}
	return nil
}

// declPseudoAttr reads name = "value" (or 'value') at the start of s.
func declPseudoAttr(s string) (name, value, rest string, ok bool) {
	name, after, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", s, false
	}
	name = strings.TrimRight(name, " \t\r\n")
	after = strings.TrimLeft(after, " \t\r\n")
	if after == "" || (after[0] != '"' && after[0] != '\'') {
		return "", "", s, false
	}
	end := strings.IndexByte(after[1:], after[0])
	if end < 0 {
		return "", "", s, false
	}
	return name, after[1 : 1+end], after[2+end:], true
}

func (s *scanner) comment() error {
	end := bytes.Index(s.data[s.pos+4:], []byte("-->"))
	if end < 0 {
		return s.fail("unterminated comment")
	}
	if err := checkComment(s.data[s.pos+4 : s.pos+4+end]); err != nil {
		return s.fail("%v", err)
	}
	s.pos += 4 + end + 3
	return nil
}

// checkComment applies XML's rule for a comment's body (the text between
// <!-- and the first -->): no "--" anywhere and no '-' at its end (so
// "<!-- a --->" is refused, as every XML parser does), XML characters only.
func checkComment(body []byte) error {
	if bytes.Contains(body, []byte("--")) || bytes.HasSuffix(body, []byte("-")) {
		return fmt.Errorf(`"--" inside a comment`)
	}
	return checkChars(string(body))
}

// element reads an element whose '<' is at pos.
func (s *scanner) element(depth int) (*Element, error) {
	s.count++
	if s.lim.MaxElements > 0 && s.count > s.lim.MaxElements {
		return nil, errs.E(errs.TooLarge, "XML has more than %d elements", s.lim.MaxElements)
	}
	if s.lim.MaxDepth > 0 && depth >= s.lim.MaxDepth {
		return nil, errs.E(errs.TooLarge, "XML nests deeper than %d elements", s.lim.MaxDepth)
	}
	s.pos++ // '<'
	name, err := s.name()
	if err != nil {
		return nil, err
	}
	el := s.newElement(name)
	s.attrs = s.attrs[:0]
	for {
		sp := s.pos
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.fail("unterminated <%s", name)
		}
		switch c := s.data[s.pos]; {
		case c == '/':
			if !s.has("/>") {
				return nil, s.fail("expected /> in <%s", name)
			}
			s.pos += 2
			el.Attrs = s.takeAttrs()
			return el, nil
		case c == '>':
			s.pos++
			el.Attrs = s.takeAttrs()
			if err := s.content(el, depth); err != nil {
				return nil, err
			}
			return el, nil
		default:
			if s.pos == sp {
				return nil, s.fail("expected white space before an attribute in <%s", name)
			}
			a, err := s.attribute()
			if err != nil {
				return nil, err
			}
			s.attrs = append(s.attrs, a)
		}
	}
}

// takeAttrs returns a copy, of exactly their number, of the attributes
// read into s.attrs (nil for none): an element's list is allocated once
// rather than grown by doubling, which for the thousands of steps of a
// large sequence is most of what their attributes cost.
func (s *scanner) takeAttrs() []Attr {
	n := len(s.attrs)
	if n == 0 {
		return nil
	}
	if len(s.attrBlock) < n {
		s.attrBlock = make([]Attr, s.blockSize(n))
	}
	out := s.attrBlock[:n:n]
	s.attrBlock = s.attrBlock[n:]
	copy(out, s.attrs)
	return out
}

func (s *scanner) attribute() (Attr, error) {
	name, err := s.name()
	if err != nil {
		return Attr{}, err
	}
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != '=' {
		return Attr{}, s.fail("attribute %s has no value", name)
	}
	s.pos++
	s.skipSpace()
	if s.pos >= len(s.data) || (s.data[s.pos] != '"' && s.data[s.pos] != '\'') {
		return Attr{}, s.fail("the value of attribute %s is not quoted", name)
	}
	q := s.data[s.pos]
	s.pos++
	end := bytes.IndexByte(s.data[s.pos:], q)
	if end < 0 {
		return Attr{}, s.fail("unterminated value of attribute %s", name)
	}
	raw := s.data[s.pos : s.pos+end]
	var v string
	if isPlainText(raw) {
		v = plainString(raw)
	} else {
		if bytes.IndexByte(raw, '<') >= 0 {
			return Attr{}, s.fail("'<' in the value of attribute %s", name)
		}
		if v, err = s.decodeText(raw); err != nil {
			return Attr{}, err
		}
	}
	s.pos += end + 1
	return Attr{Name: name, Value: v}, nil
}

// content reads children up to the matching end tag. They are gathered
// on s.kids, above those of the elements that enclose el, and copied to
// el.Children at its end tag.
func (s *scanner) content(el *Element, depth int) error {
	base := len(s.kids)
	var text []byte
	addText := func(t string) {
		if t == "" {
			return
		}
		if n := len(s.kids); n > base {
			if prev, ok := s.kids[n-1].(Text); ok {
				s.kids[n-1] = prev + Text(t)
				return
			}
		}
		s.kids = append(s.kids, Text(t))
	}
	flush := func() error {
		if len(text) == 0 {
			return nil
		}
		t, err := s.decodeText(text)
		if err != nil {
			return err
		}
		addText(t)
		text = nil
		return nil
	}
	for {
		lt := bytes.IndexByte(s.data[s.pos:], '<')
		if lt < 0 {
			return s.fail("<%s> is not closed", el.Name)
		}
		if chunk := s.data[s.pos : s.pos+lt]; len(text) == 0 {
			text = chunk[:len(chunk):len(chunk)] // the text itself, no copy; a later append copies
		} else {
			text = append(text, chunk...)
		}
		s.pos += lt
		switch {
		case s.has("</"):
			if err := flush(); err != nil {
				return err
			}
			s.pos += 2
			name, err := s.name()
			if err != nil {
				return err
			}
			if name != el.Name {
				return s.fail("</%s> closes <%s>", name, el.Name)
			}
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '>' {
				return s.fail("expected > after </%s", name)
			}
			s.pos++
			el.Children = s.nodes(s.kids[base:])
			clear(s.kids[base:])
			s.kids = s.kids[:base]
			dropLayoutWhitespace(el)
			return nil
		case s.has("<!--"):
			// Text on either side of a comment is decoded on its own: a
			// reference cannot straddle a comment.
			if err := flush(); err != nil {
				return err
			}
			if err := s.comment(); err != nil {
				return err
			}
		case s.has("<![CDATA["):
			if err := flush(); err != nil {
				return err
			}
			end := bytes.Index(s.data[s.pos+9:], []byte("]]>"))
			if end < 0 {
				return s.fail("unterminated CDATA section")
			}
			body := string(normalizeNewlines(s.data[s.pos+9 : s.pos+9+end]))
			if err := checkChars(body); err != nil {
				return s.fail("%v", err)
			}
			addText(body)
			s.pos += 9 + end + 3
		case s.has("<!"):
			return errs.E(errs.Invalid, "XML with a DTD or other <!...> declaration is refused (no entity declarations are accepted)")
		case s.has("<?"):
			if err := s.procInst(false); err != nil {
				return err
			}
		default:
			if err := flush(); err != nil {
				return err
			}
			child, err := s.element(depth + 1)
			if err != nil {
				return err
			}
			s.kids = append(s.kids, child)
		}
	}
}

func appendText(el *Element, t string) {
	if t == "" {
		return
	}
	if n := len(el.Children); n > 0 {
		if prev, ok := el.Children[n-1].(Text); ok {
			el.Children[n-1] = prev + Text(t)
			return
		}
	}
	el.Children = append(el.Children, Text(t))
}

// name reads an XML name (with an optional prefix). Names are ASCII: the
// task sequence formats name their elements and attributes in ASCII only
// (every file of the corpus and every export does), while the non-ASCII
// names XML allows differ between its editions and between parsers
// (encoding/xml keeps the older, narrower tables; FuzzScanner found
// "<\u035f/>", which XML 1.0's fifth edition allows in a name but not
// first, and this scanner took).
func (s *scanner) name() (string, error) {
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if !(c == '_' || c == ':' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			break
		}
		s.pos++
	}
	name := intern(s.data[start:s.pos]) // most names are a few known ones
	if s.pos < len(s.data) && s.data[s.pos] >= utf8.RuneSelf {
		return "", s.fail("a name with a character beyond ASCII is refused (task sequence names are ASCII)")
	}
	if name == "" {
		return "", s.fail("expected a name")
	}
	r, _ := utf8.DecodeRuneInString(name)
	if r == '-' || r == '.' || (r >= '0' && r <= '9') || strings.Count(name, ":") > 1 || strings.HasPrefix(name, ":") || strings.HasSuffix(name, ":") {
		return "", s.fail("%q is not an XML name", name)
	}
	return name, nil
}

// decodeText resolves entity and character references and normalises
// newlines in text or an attribute value.
func (s *scanner) decodeText(raw []byte) (string, error) {
	if isPlainText(raw) {
		// nothing to resolve, normalise or refuse: the common case, found
		// in one pass rather than the four below
		return plainString(raw), nil
	}
	if bytes.Contains(raw, []byte("]]>")) {
		return "", s.fail("]]> outside a CDATA section")
	}
	raw = normalizeNewlines(raw)
	if bytes.IndexByte(raw, '&') < 0 {
		if err := checkChars(string(raw)); err != nil {
			return "", s.fail("%v", err)
		}
		if len(raw) <= maxInterned {
			return intern(raw), nil // "true", "0", "WinPEandFullOS"
		}
		return string(raw), nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for len(raw) > 0 {
		amp := bytes.IndexByte(raw, '&')
		if amp < 0 {
			b.Write(raw)
			break
		}
		b.Write(raw[:amp])
		raw = raw[amp:]
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 || semi > 12 {
			return "", s.fail("unterminated entity reference")
		}
		ref := string(raw[1:semi])
		raw = raw[semi+1:]
		switch ref {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			if !strings.HasPrefix(ref, "#") {
				return "", s.fail("unknown entity &%s;", ref)
			}
			var n uint64
			var err error
			if strings.HasPrefix(ref, "#x") {
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			}
			if err != nil || !isXMLChar(rune(n)) {
				return "", s.fail("invalid character reference &%s;", ref)
			}
			b.WriteRune(rune(n))
		}
	}
	out := b.String()
	if err := checkChars(out); err != nil {
		return "", s.fail("%v", err)
	}
	return out, nil
}

// plainText marks the bytes that text may hold as it stands: ASCII
// characters that XML allows, except '&' (a reference), ']' (which may
// begin "]]>"), '\r' (normalised) and '<'.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	t['\t'], t['\n'] = true, true
	t['&'], t[']'], t['<'] = false, false, false
	return t
}()

// plainString is the string of plain text.
func plainString(raw []byte) string {
	if len(raw) <= maxInterned {
		return intern(raw) // "true", "0", "WinPEandFullOS"
	}
	return string(raw)
}

// isPlainText reports text that decodeText takes as it stands.
func isPlainText(raw []byte) bool {
	for _, c := range raw {
		if !plainText[c] {
			return false
		}
	}
	return true
}

// normalizeNewlines turns \r\n and lone \r into \n.
func normalizeNewlines(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\r' {
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// checkChars refuses invalid UTF-8 and characters outside XML's range.
func checkChars(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return fmt.Errorf("illegal character code %U", r)
		}
		i += size
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
