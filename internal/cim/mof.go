package cim

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// classDecl is a class as written in MOF, before inheritance is resolved.
type classDecl struct {
	Name       string
	Superclass string
	Qualifiers Qualifiers
	Properties []propDecl
	Methods    []*Method
	Pos        string
}

type propDecl struct {
	Name       string
	Type       Type
	Qualifiers Qualifiers
	Default    any // raw MOF literal: int64, float64, string, bool, nil, []any
	HasDefault bool
	Pos        string
}

// ParseMOF parses the class declarations of one MOF source. name is used in
// error positions.
func ParseMOF(name string, src []byte) ([]classDecl, error) {
	p := &mofParser{lex: lexer{name: name, src: string(src), line: 1}}
	p.next()
	var decls []classDecl
	for p.tok.kind != tEOF {
		if p.tok.kind == tIdent && strings.EqualFold(p.tok.text, "instance") {
			if err := p.skipNamespaceInstance(); err != nil {
				return nil, err
			}
			continue
		}
		d, err := p.classDecl()
		if err != nil {
			return nil, err
		}
		decls = append(decls, d)
	}
	if p.lex.err != nil {
		return nil, p.lex.err
	}
	return decls, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tInt
	tReal
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, or decoded string literal
	num  int64
	real float64
	line int
}

type lexer struct {
	name string
	src  string
	pos  int
	line int
	err  error
}

func (l *lexer) errorf(line int, format string, args ...any) error {
	if l.err == nil {
		l.err = fmt.Errorf("%s:%d: %s", l.name, line, fmt.Sprintf(format, args...))
	}
	return l.err
}

func (l *lexer) skipSpaceAndComments() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
		case c == '#': // #pragma and friends: to end of line
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case strings.HasPrefix(l.src[l.pos:], "//"):
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				l.errorf(l.line, "unterminated comment")
				l.pos = len(l.src)
				return
			}
			l.line += strings.Count(l.src[l.pos:l.pos+2+end], "\n")
			l.pos += end + 4
		default:
			return
		}
	}
}

func (l *lexer) next() token {
	l.skipSpaceAndComments()
	if l.pos >= len(l.src) || l.err != nil {
		return token{kind: tEOF, line: l.line}
	}
	start, line := l.pos, l.line
	c := l.src[l.pos]
	switch {
	case c == '_' || unicode.IsLetter(rune(c)):
		for l.pos < len(l.src) && (l.src[l.pos] == '_' || unicode.IsLetter(rune(l.src[l.pos])) || unicode.IsDigit(rune(l.src[l.pos]))) {
			l.pos++
		}
		return token{kind: tIdent, text: l.src[start:l.pos], line: line}
	case c == '"':
		return l.stringLit()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		l.pos++
		for l.pos < len(l.src) && strings.IndexByte("0123456789.xXabcdefABCDEFeE", l.src[l.pos]) >= 0 {
			l.pos++
		}
		text := l.src[start:l.pos]
		if n, err := strconv.ParseInt(text, 0, 64); err == nil {
			return token{kind: tInt, num: n, text: text, line: line}
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return token{kind: tReal, real: f, text: text, line: line}
		}
		l.errorf(line, "bad number %q", text)
		return token{kind: tEOF, line: line}
	case strings.IndexByte("[](){},;:=", c) >= 0:
		l.pos++
		return token{kind: tPunct, text: string(c), line: line}
	}
	l.errorf(line, "unexpected character %q", c)
	return token{kind: tEOF, line: line}
}

func (l *lexer) stringLit() token {
	line := l.line
	l.pos++ // opening quote
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '"':
			l.pos++
			return token{kind: tString, text: b.String(), line: line}
		case '\n':
			l.errorf(line, "newline in string literal")
			return token{kind: tEOF, line: line}
		case '\\':
			l.pos++
			if l.pos >= len(l.src) {
				break
			}
			switch e := l.src[l.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			l.pos++
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	l.errorf(line, "unterminated string literal")
	return token{kind: tEOF, line: line}
}

type mofParser struct {
	lex lexer
	tok token
}

func (p *mofParser) next() { p.tok = p.lex.next() }

func (p *mofParser) errorf(format string, args ...any) error {
	if p.lex.err != nil {
		return p.lex.err
	}
	return p.lex.errorf(p.tok.line, format, args...)
}

func (p *mofParser) pos() string { return fmt.Sprintf("%s:%d", p.lex.name, p.tok.line) }

func (p *mofParser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

func (p *mofParser) expect(s string) error {
	if !p.isPunct(s) {
		return p.errorf("expected %q, found %q", s, p.tok.text)
	}
	p.next()
	return nil
}

func (p *mofParser) ident() (string, error) {
	if p.tok.kind != tIdent {
		return "", p.errorf("expected a name, found %q", p.tok.text)
	}
	s := p.tok.text
	p.next()
	return s, nil
}

// skipNamespaceInstance passes over "instance of __Namespace { … };", the
// namespace boilerplate that custom action MOF files begin with (the SDK's
// sample has two). The classes of a file join one registry whatever
// namespace it names; instances of any other class are refused.
func (p *mofParser) skipNamespaceInstance() error {
	p.next()
	if p.tok.kind != tIdent || !strings.EqualFold(p.tok.text, "of") {
		return p.errorf("expected \"instance of\", found %q", p.tok.text)
	}
	p.next()
	class, err := p.ident()
	if err != nil {
		return err
	}
	if !strings.EqualFold(class, "__Namespace") {
		return p.errorf("instance of %s: a schema declares classes; only instances of __Namespace are allowed (and skipped)", class)
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	for depth := 1; depth > 0; p.next() {
		switch {
		case p.tok.kind == tEOF:
			return p.errorf("instance of %s: missing closing brace", class)
		case p.isPunct("{"):
			depth++
		case p.isPunct("}"):
			depth--
		}
	}
	return p.expect(";")
}

func (p *mofParser) classDecl() (classDecl, error) {
	var d classDecl
	quals, err := p.qualifierList()
	if err != nil {
		return d, err
	}
	d.Qualifiers = quals
	d.Pos = p.pos()
	if p.tok.kind != tIdent || !strings.EqualFold(p.tok.text, "class") {
		return d, p.errorf("expected class declaration, found %q", p.tok.text)
	}
	p.next()
	if d.Name, err = p.ident(); err != nil {
		return d, err
	}
	if p.isPunct(":") {
		p.next()
		if d.Superclass, err = p.ident(); err != nil {
			return d, err
		}
	}
	if err := p.expect("{"); err != nil {
		return d, err
	}
	for !p.isPunct("}") {
		if p.tok.kind == tEOF {
			return d, p.errorf("class %s: missing closing brace", d.Name)
		}
		if err := p.feature(&d); err != nil {
			return d, err
		}
	}
	p.next()
	if err := p.expect(";"); err != nil {
		return d, err
	}
	return d, nil
}

// feature parses one property or method declaration.
func (p *mofParser) feature(d *classDecl) error {
	quals, err := p.qualifierList()
	if err != nil {
		return err
	}
	pos := p.pos()
	typeName, err := p.ident()
	if err != nil {
		return err
	}
	name, err := p.ident()
	if err != nil {
		return err
	}
	typ := typeOf(typeName)
	if p.isPunct("(") {
		m := &Method{Name: name, Return: typ, Qualifiers: quals, Origin: d.Name}
		p.next()
		for !p.isPunct(")") {
			prm, err := p.parameter()
			if err != nil {
				return err
			}
			m.Params = append(m.Params, prm)
			if p.isPunct(",") {
				p.next()
			} else if !p.isPunct(")") {
				return p.errorf("method %s: expected ',' or ')'", name)
			}
		}
		p.next()
		d.Methods = append(d.Methods, m)
		return p.expect(";")
	}
	pd := propDecl{Name: name, Type: typ, Qualifiers: quals, Pos: pos}
	if p.isPunct("[") {
		p.next()
		if p.tok.kind == tInt {
			p.next()
		}
		if err := p.expect("]"); err != nil {
			return err
		}
		pd.Type.Array = true
	}
	if p.isPunct("=") {
		p.next()
		v, err := p.literal()
		if err != nil {
			return err
		}
		pd.Default, pd.HasDefault = v, true
	}
	d.Properties = append(d.Properties, pd)
	return p.expect(";")
}

func (p *mofParser) parameter() (*Parameter, error) {
	quals, err := p.qualifierList()
	if err != nil {
		return nil, err
	}
	typeName, err := p.ident()
	if err != nil {
		return nil, err
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	prm := &Parameter{Name: name, Type: typeOf(typeName), Qualifiers: quals}
	if p.isPunct("[") {
		p.next()
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		prm.Type.Array = true
	}
	prm.In = quals.Has("in")
	prm.Out = quals.Has("out")
	if !prm.In && !prm.Out {
		prm.In = true
	}
	return prm, nil
}

func typeOf(name string) Type {
	if k := KindByName(name); k != Invalid {
		return Type{Kind: k}
	}
	if strings.EqualFold(name, "object") {
		return Type{Kind: Object}
	}
	return Type{Kind: Object, Class: name}
}

// qualifierList parses an optional [q, q(v), q{...} : Flavor, ...].
func (p *mofParser) qualifierList() (Qualifiers, error) {
	if !p.isPunct("[") {
		return nil, nil
	}
	p.next()
	var qs Qualifiers
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		q := Qualifier{Name: name, Value: true}
		switch {
		case p.isPunct("("):
			p.next()
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			q.Value = v
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		case p.isPunct("{"):
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			q.Value = v
		}
		for p.isPunct(":") {
			p.next()
			fl, err := p.ident()
			if err != nil {
				return nil, err
			}
			q.Flavors = append(q.Flavors, fl)
		}
		qs = append(qs, q)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		return qs, nil
	}
}

// literal parses a constant: string (adjacent strings concatenate),
// integer, real, true/false/null, or {list}.
func (p *mofParser) literal() (any, error) {
	switch p.tok.kind {
	case tString:
		s := p.tok.text
		p.next()
		for p.tok.kind == tString {
			s += p.tok.text
			p.next()
		}
		return s, nil
	case tInt:
		n := p.tok.num
		p.next()
		return n, nil
	case tReal:
		f := p.tok.real
		p.next()
		return f, nil
	case tIdent:
		switch strings.ToLower(p.tok.text) {
		case "true":
			p.next()
			return true, nil
		case "false":
			p.next()
			return false, nil
		case "null":
			p.next()
			return nil, nil
		}
	case tPunct:
		if p.tok.text == "{" {
			p.next()
			list := []any{}
			for !p.isPunct("}") {
				v, err := p.literal()
				if err != nil {
					return nil, err
				}
				list = append(list, v)
				if p.isPunct(",") {
					p.next()
				} else if !p.isPunct("}") {
					return nil, p.errorf("expected ',' or '}' in list")
				}
			}
			p.next()
			return list, nil
		}
	}
	return nil, p.errorf("expected a constant, found %q", p.tok.text)
}
