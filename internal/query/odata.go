package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// ParseFilter parses an OData $filter expression: eq ne gt ge lt le, and
// or not, parentheses, in, null, true/false, numbers (an integer may end in
// L, the Int64 literal of OData clients: 10L), 'strings' (” for a
// quote), DateTimeOffset literals, and the functions contains, startswith,
// endswith (also in the form "startswith(Name,'x') eq true"), tolower,
// toupper, length, indexof, substring. Errors are errs.Invalid and give the
// position.
func ParseFilter(src string) (Expr, error) {
	p := &parser{src: src}
	// The first problem is reported: a character the lexer cannot read
	// ends the tokens there (as if the filter ended), and its error wins
	// only when parsing gets that far. An unterminated string always wins:
	// its usual cause is a quote not doubled earlier ('It's'), which makes
	// what the parser saw before it misleading.
	lexErr := p.lex()
	if p.unterminated {
		return nil, lexErr
	}
	e, err := p.or()
	if err == nil {
		if t := p.peek(); t.kind != tEnd {
			err = p.errAt(t.pos, "unexpected %s", t.describe())
		}
	}
	if lexErr != nil && (err == nil || p.errPos >= p.toks[len(p.toks)-1].pos) {
		return nil, lexErr
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

type tokKind int

const (
	tEnd tokKind = iota
	tIdent
	tString
	tNumber
	tDateTime
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tEnd:
		return "end of expression"
	case tString:
		return "string '" + t.text + "'"
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int // nesting of parentheses, not and function calls
	errPos int // where the last error was found

	unterminated bool // the lexer met a string with no closing quote
}

// Limits of a $filter, the same as WQL's: beyond them the SQL databases
// refuse the expression, so tsprov refuses it first, saying why.
const (
	maxFilterDepth  = maxWQLDepth
	maxFilterTokens = 4 * maxWQLTests
)

func (p *parser) errAt(pos int, format string, args ...any) error {
	p.errPos = pos
	return errs.Target(errs.Invalid, "$filter", "$filter: at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tRParen, ")", i})
			i++
		case c == ',':
			p.toks = append(p.toks, token{tComma, ",", i})
			i++
		case c == '\'':
			start := i
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					p.unterminated = true
					return p.lexFailed(start, "unterminated string")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			p.toks = append(p.toks, token{tString, b.String(), start})
		case c == '-' || (c >= '0' && c <= '9'):
			start := i
			i++
			for i < len(s) && strings.IndexByte("0123456789.eE+-:TZ", s[i]) >= 0 {
				i++
			}
			text := s[start:i]
			kind := tNumber
			if strings.ContainsAny(text, "T:") || strings.Count(text, "-") >= 2 && !strings.ContainsAny(text, "eE") {
				kind = tDateTime
			} else if i < len(s) && (s[i] == 'L' || s[i] == 'l') && (i+1 == len(s) || !isIdentByte(s[i+1])) {
				if _, err := strconv.ParseInt(text, 10, 64); err != nil {
					return p.lexFailed(start, "%sL is not an Int64", text)
				}
				i++ // the Int64 suffix
			}
			p.toks = append(p.toks, token{kind, text, start})
		case c == '_' || unicode.IsLetter(rune(c)):
			start := i
			for i < len(s) && (s[i] == '_' || s[i] == '.' || unicode.IsLetter(rune(s[i])) || unicode.IsDigit(rune(s[i]))) {
				i++
			}
			p.toks = append(p.toks, token{tIdent, s[start:i], start})
		default:
			return p.lexFailed(i, "unexpected character %q", c)
		}
	}
	p.toks = append(p.toks, token{tEnd, "", len(s)})
	if len(p.toks) > maxFilterTokens {
		err := p.errAt(p.toks[maxFilterTokens].pos, "the filter is longer than %d tokens", maxFilterTokens)
		p.toks = append(p.toks[:0], token{tEnd, "", 0})
		return err
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// lexFailed ends the tokens at pos and returns the error found there.
func (p *parser) lexFailed(pos int, format string, args ...any) error {
	p.toks = append(p.toks, token{tEnd, "", pos})
	return p.errAt(pos, format, args...)
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxFilterDepth {
		return p.errAt(pos, "the filter nests more than %d deep", maxFilterDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(words ...string) (token, bool) {
	t := p.peek()
	if t.kind != tIdent {
		return t, false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			p.i++
			return t, true
		}
	}
	return t, false
}

func (p *parser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.keyword("or")
		if !ok {
			return left, nil
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: t.pos, Left: left, Right: right}
	}
}

func (p *parser) and() (Expr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.keyword("and")
		if !ok {
			return left, nil
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: t.pos, And: true, Left: left, Right: right}
	}
}

func (p *parser) unary() (Expr, error) {
	if t, ok := p.keyword("not"); ok {
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{At: t.pos, X: x}, nil
	}
	return p.comparison()
}

var compareOps = map[string]Op{"eq": Eq, "ne": Ne, "lt": Lt, "le": Le, "gt": Gt, "ge": Ge}

func (p *parser) comparison() (Expr, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == tIdent {
		if op, ok := compareOps[strings.ToLower(t.text)]; ok {
			p.i++
			right, err := p.operand()
			if err != nil {
				return nil, err
			}
			return &Compare{At: t.pos, Op: op, Left: left, Right: right}, nil
		}
		if strings.EqualFold(t.text, "in") {
			p.i++
			if n := p.next(); n.kind != tLParen {
				return nil, p.errAt(n.pos, "expected ( after in")
			}
			in := &In{At: t.pos, X: left}
			for {
				v, err := p.operand()
				if err != nil {
					return nil, err
				}
				in.List = append(in.List, v)
				n := p.next()
				if n.kind == tRParen {
					return in, nil
				}
				if n.kind != tComma {
					return nil, p.errAt(n.pos, "expected , or ) in the in list")
				}
			}
		}
	}
	return left, nil
}

var functions = map[string]int{"contains": 2, "startswith": 2, "endswith": 2, "tolower": 1, "toupper": 1, "length": 1, "indexof": 2, "substring": -1}

func (p *parser) operand() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if n := p.next(); n.kind != tRParen {
			return nil, p.errAt(n.pos, "expected )")
		}
		return e, nil
	case tString:
		return &Literal{At: t.pos, Value: t.text}, nil
	case tNumber:
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &Literal{At: t.pos, Value: n}, nil
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errAt(t.pos, "%q is not a number", t.text)
		}
		return &Literal{At: t.pos, Value: f}, nil
	case tDateTime:
		d, err := cim.ParseDateTime(t.text)
		if err != nil {
			return nil, p.errAt(t.pos, "%q is not a DateTimeOffset (e.g. 2024-05-01T00:00:00Z)", t.text)
		}
		return &Literal{At: t.pos, Value: d}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return &Literal{At: t.pos, Value: true}, nil
		case "false":
			return &Literal{At: t.pos, Value: false}, nil
		case "null":
			return &Literal{At: t.pos, Value: nil}, nil
		}
		if p.peek().kind == tLParen {
			name := strings.ToLower(t.text)
			arity, ok := functions[name]
			if !ok {
				return nil, p.errAt(t.pos, "unknown function %s", t.text)
			}
			p.i++
			if err := p.enter(t.pos); err != nil {
				return nil, err
			}
			defer p.leave()
			call := &Call{At: t.pos, Name: name}
			if p.peek().kind != tRParen {
				for {
					a, err := p.or()
					if err != nil {
						return nil, err
					}
					call.Args = append(call.Args, a)
					if p.peek().kind != tComma {
						break
					}
					p.i++
				}
			}
			if n := p.next(); n.kind != tRParen {
				return nil, p.errAt(n.pos, "expected ) to close %s(", t.text)
			}
			if (arity >= 0 && len(call.Args) != arity) || (name == "substring" && (len(call.Args) < 2 || len(call.Args) > 3)) {
				return nil, p.errAt(t.pos, "%s takes %s arguments, not %d", name, arityText(name, arity), len(call.Args))
			}
			return call, nil
		}
		return &Prop{At: t.pos, Name: t.text}, nil
	case tEnd:
		return nil, p.errAt(t.pos, "expression ends too soon")
	}
	return nil, p.errAt(t.pos, "unexpected %s", t.describe())
}

func arityText(name string, n int) string {
	if name == "substring" {
		return "2 or 3"
	}
	return strconv.Itoa(n)
}
