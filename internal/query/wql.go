package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// Statement is a parsed WQL data query:
// SELECT * | prop[, prop…] FROM Class [WHERE condition].
type Statement struct {
	Class    string
	ClassPos int // byte offset of the class name in the source
	// Properties are the names of the SELECT list as written (not
	// checked); nil for *.
	Properties []string
	// Where is the condition, nil when there is none. It is not checked:
	// pass it to Check (or use Statement.Check) with the class.
	Where Expr
}

// IsA is "X ISA 'Class'". Only X = __CLASS is supported: Check decides it
// for the queried class (Resolved, Holds) and rejects every other X with
// errs.NotImplemented. It stays a node of its own rather than becoming a
// Literal because Check cannot replace a node in its parent; Compile
// writes the constant.
type IsA struct {
	At    int
	X     Expr
	Class string
	// Resolved and Holds are set by Check: Holds is whether the queried
	// class is Class or derives from it.
	Resolved, Holds bool
}

func (e *IsA) Pos() int { return e.At }

// ParseWQL parses a WQL data query:
//
//	SELECT * | prop[, prop…] FROM Class [WHERE condition]
//
// Conditions: = <> != < > <= >=, [NOT] LIKE 'pattern' (see MatchLike), IS
// [NOT] NULL, ISA 'Class', [NOT] IN (constants…), NOT, AND, OR and
// parentheses; operands are properties and constants: 'strings' or
// "strings" (backslash escapes \' \" \\), integers and decimals, TRUE,
// FALSE, NULL. A DMTF date-time string ('20240102030405.000000+000') is a
// string here; Check turns it into a date-time where it is compared with a
// DateTime property. Keywords and names are case-insensitive. Comparisons
// and NOT follow SQL's three-valued logic (NullIsUnknown), as ConfigMgr's
// WQL does on its SQL database: Language <> 'English' leaves out the
// instances whose Language is null.
//
// Outcomes: the statement; an error of kind errs.NotImplemented naming the
// construct for valid WQL that tsprov does not serve (ASSOCIATORS OF,
// REFERENCES OF, event queries: a class whose name starts with __, WITHIN,
// GROUP BY, HAVING; ORDER BY, joins, DISTINCT, functions in the SELECT
// list, subqueries); an error of kind errs.Invalid otherwise (a string
// holding NUL and a condition beyond maxWQLDepth or maxWQLTests are
// Invalid too). Both say "WQL: at position N: …" with N the 1-based byte
// position.
func ParseWQL(src string) (*Statement, error) {
	p := &wqlParser{src: src}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p.statement()
}

// Check type-checks s.Where against class c as Check does; its errors say
// "WQL" where Check's say "$filter".
func (s *Statement) Check(c *cim.Class, searchable Searchable) error {
	if s.Where == nil {
		return nil
	}
	err := Check(s.Where, c, searchable)
	var e *errs.Error
	if err == nil || !errors.As(err, &e) || !strings.HasPrefix(e.Msg, "$filter: ") {
		return err
	}
	target := e.Target
	if target == "$filter" {
		target = "WQL"
	}
	return &errs.Error{Kind: e.Kind, Target: target, Msg: "WQL: " + strings.TrimPrefix(e.Msg, "$filter: "), Err: e.Err}
}

// Limits that keep a condition within what the SQL databases accept
// (SQLite: expressions nested at most 1000 deep; a run of ANDs or ORs
// nests one deeper each).
const (
	maxWQLDepth = 100 // nesting of parentheses and NOTs
	maxWQLTests = 500 // comparisons, LIKEs, ISAs, IS NULLs and IN list items
)

type wqlKind int

const (
	wEnd wqlKind = iota
	wIdent
	wString
	wNumber
	wOp // = <> != < > <= >=
	wLParen
	wRParen
	wComma
	wStar
)

type wqlToken struct {
	kind wqlKind
	text string // as written; for a string, its value
	pos  int
}

func (t wqlToken) describe() string {
	switch t.kind {
	case wEnd:
		return "the end of the query"
	case wString:
		return "string " + strconv.Quote(t.text)
	case wIdent:
		return t.text
	}
	return strconv.Quote(t.text)
}

type wqlParser struct {
	src   string
	off   int      // next byte to lex
	tok   wqlToken // current token
	depth int
	tests int
	// event: an event query, whose property names may be paths
	// (TargetInstance.Name).
	event bool
}

func wqlError(pos int, format string, args ...any) error {
	return errs.Target(errs.Invalid, "WQL", "WQL: at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

func wqlUnsupported(pos int, format string, args ...any) error {
	return errs.Target(errs.NotImplemented, "WQL", "WQL: at position %d: %s is not supported", pos+1, fmt.Sprintf(format, args...))
}

// advance lexes the next token into p.tok. Tokens are read on demand, so
// the first problem in the source is the one reported.
func (p *wqlParser) advance() error {
	s := p.src
	i := p.off
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	if i >= len(s) {
		p.tok, p.off = wqlToken{wEnd, "", len(s)}, len(s)
		return nil
	}
	start := i
	c := s[i]
	one := func(k wqlKind) error {
		p.tok, p.off = wqlToken{k, s[i : i+1], i}, i+1
		return nil
	}
	switch {
	case c == '(':
		return one(wLParen)
	case c == ')':
		return one(wRParen)
	case c == ',':
		return one(wComma)
	case c == '*':
		return one(wStar)
	case c == '=':
		return one(wOp)
	case c == '<' || c == '>' || c == '!':
		n := 1
		if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
			n = 2
		}
		if c == '!' && n == 1 {
			return wqlError(i, "unexpected character '!' (not equal is <> or !=)")
		}
		p.tok, p.off = wqlToken{wOp, s[i : i+n], i}, i+n
		return nil
	case c == '\'' || c == '"':
		var b strings.Builder
		i++
		for {
			if i >= len(s) {
				return wqlError(start, "unterminated string")
			}
			switch s[i] {
			case c:
				p.tok, p.off = wqlToken{wString, b.String(), start}, i+1
				return nil
			case '\\':
				if i+1 >= len(s) {
					return wqlError(start, "unterminated string")
				}
				e := s[i+1]
				if e != '\\' && e != '\'' && e != '"' {
					r, _ := utf8.DecodeRuneInString(s[i+1:])
					return wqlError(i, `unknown escape \%c in a string (the escapes are \\, \' and \")`, r)
				}
				b.WriteByte(e)
				i += 2
			case 0:
				return wqlError(i, "a string cannot hold the NUL character")
			default:
				b.WriteByte(s[i])
				i++
			}
		}
	case c >= '0' && c <= '9' || (c == '-' || c == '+' || c == '.') && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
		i++
		digits := func() {
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		}
		digits()
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				i = j
				digits()
			}
		}
		if i < len(s) && isIdentRune(s, i) {
			return wqlError(start, "%q is not a number", s[start:i]+identAt(s, i))
		}
		p.tok, p.off = wqlToken{wNumber, s[start:i], start}, i
		return nil
	case isIdentStart(s, i):
		i += len(identAt(s, i))
		for p.event && i+1 < len(s) && s[i] == '.' && isIdentStart(s, i+1) {
			i += 1 + len(identAt(s, i+1))
		}
		p.tok, p.off = wqlToken{wIdent, s[start:i], start}, i
		return nil
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return wqlError(i, "unexpected character %q", r)
}

func isIdentStart(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || unicode.IsLetter(r)
}

func isIdentRune(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// identAt returns the identifier characters from s[i].
func identAt(s string, i int) string {
	j := i
	for j < len(s) && isIdentRune(s, j) {
		_, n := utf8.DecodeRuneInString(s[j:])
		j += n
	}
	return s[i:j]
}

// is reports whether the current token is one of the keywords.
func (p *wqlParser) is(words ...string) bool {
	if p.tok.kind != wIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(p.tok.text, w) {
			return true
		}
	}
	return false
}

// reserved are the words that cannot name a property or a class.
// ASSOCIATORS, REFERENCES and OF are keywords only at the start of a
// statement (statement), so a property may be named References, as
// SMS_TaskSequencePackage's is.
var reserved = map[string]bool{
	"select": true, "from": true, "where": true, "and": true, "or": true, "not": true,
	"like": true, "is": true, "isa": true, "null": true, "true": true, "false": true, "in": true,
	"within": true, "group": true,
	"having": true, "by": true, "order": true, "join": true, "distinct": true,
}

func (p *wqlParser) statement() (*Statement, error) {
	t := p.tok
	switch {
	case p.is("associators"):
		return nil, wqlUnsupported(t.pos, "ASSOCIATORS OF")
	case p.is("references"):
		return nil, wqlUnsupported(t.pos, "REFERENCES OF")
	case !p.is("select"):
		return nil, wqlError(t.pos, "expected SELECT, not %s", t.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	st := &Statement{}
	switch {
	case p.tok.kind == wStar:
		if err := p.advance(); err != nil {
			return nil, err
		}
	case p.is("distinct"):
		return nil, wqlUnsupported(p.tok.pos, "SELECT DISTINCT")
	default:
		st.Properties = []string{}
		for {
			t := p.tok
			if t.kind != wIdent || reserved[strings.ToLower(t.text)] {
				return nil, wqlError(t.pos, "expected * or a property name, not %s", t.describe())
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == wLParen {
				return nil, wqlUnsupported(t.pos, "%s(…) in the SELECT list", strings.ToUpper(t.text))
			}
			st.Properties = append(st.Properties, t.text)
			if p.tok.kind != wComma {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if !p.is("from") {
		return nil, wqlError(p.tok.pos, "expected FROM, not %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	t = p.tok
	if t.kind != wIdent || reserved[strings.ToLower(t.text)] {
		return nil, wqlError(t.pos, "expected a class name, not %s", t.describe())
	}
	if strings.HasPrefix(t.text, "__") {
		return nil, wqlUnsupported(t.pos, "an event query or a system class (FROM %s)", t.text)
	}
	st.Class, st.ClassPos = t.text, t.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	where, err := p.where()
	if err != nil {
		return nil, err
	}
	st.Where = where
	t = p.tok
	switch {
	case t.kind == wEnd:
		return st, nil
	case p.is("within"):
		return nil, wqlUnsupported(t.pos, "an event query (WITHIN)")
	case p.is("group"):
		return nil, wqlUnsupported(t.pos, "an event query (GROUP BY)")
	case p.is("having"):
		return nil, wqlUnsupported(t.pos, "an event query (HAVING)")
	case p.is("order"):
		return nil, wqlUnsupported(t.pos, "ORDER BY")
	case p.is("join", "inner", "left", "right", "full", "cross"):
		return nil, wqlUnsupported(t.pos, "a join")
	case t.kind == wComma:
		return nil, wqlUnsupported(t.pos, "more than one class in FROM")
	case p.is("as") && st.Where == nil:
		return nil, wqlUnsupported(t.pos, "a class alias (AS)")
	case st.Where == nil:
		return nil, wqlError(t.pos, "expected WHERE or the end of the query, not %s", t.describe())
	}
	return nil, wqlError(t.pos, "unexpected %s", t.describe())
}

func (p *wqlParser) enter(pos int) error {
	p.depth++
	if p.depth > maxWQLDepth {
		return wqlError(pos, "the condition nests more than %d deep", maxWQLDepth)
	}
	return nil
}

func (p *wqlParser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.is("or") {
		t := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: t.pos, Left: left, Right: right}
	}
	return left, nil
}

func (p *wqlParser) and() (Expr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.is("and") {
		t := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &Logical{At: t.pos, And: true, Left: left, Right: right}
	}
	return left, nil
}

func (p *wqlParser) unary() (Expr, error) {
	t := p.tok
	if p.is("not") {
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{At: t.pos, X: x, Nulls: NullIsUnknown}, nil
	}
	if t.kind == wLParen {
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != wRParen {
			return nil, wqlError(p.tok.pos, "expected ) to close the ( at position %d, not %s", t.pos+1, p.tok.describe())
		}
		return e, p.advance()
	}
	return p.predicate()
}

var wqlOps = map[string]Op{"=": Eq, "<>": Ne, "!=": Ne, "<": Lt, "<=": Le, ">": Gt, ">=": Ge}

// predicate reads operand followed by a comparison, [NOT] LIKE, IS [NOT]
// NULL, ISA or [NOT] IN.
// test counts one more test at pos.
func (p *wqlParser) test(pos int) error {
	p.tests++
	if p.tests > maxWQLTests {
		return wqlError(pos, "the condition holds more than %d tests", maxWQLTests)
	}
	return nil
}

func (p *wqlParser) predicate() (Expr, error) {
	first := p.tok
	if err := p.test(first.pos); err != nil {
		return nil, err
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.tok
	if t.kind == wOp {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &Compare{At: t.pos, Op: wqlOps[t.text], Left: left, Right: right, Nulls: NullIsUnknown}, nil
	}
	var not *Not
	if p.is("not") {
		not = &Not{At: t.pos, Nulls: NullIsUnknown}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !p.is("like", "in") {
			return nil, wqlError(p.tok.pos, "expected LIKE or IN after NOT, not %s", p.tok.describe())
		}
		t = p.tok
	}
	var e Expr
	switch {
	case p.is("like"):
		pat, err := p.stringAfter("LIKE", "a pattern")
		if err != nil {
			return nil, err
		}
		e = &Like{At: t.pos, X: left, Pattern: pat}
	case p.is("isa"):
		class, err := p.stringAfter("ISA", "a class name")
		if err != nil {
			return nil, err
		}
		e = &IsA{At: t.pos, X: left, Class: class}
	case p.is("in"):
		if e, err = p.in(t, left); err != nil {
			return nil, err
		}
	case p.is("is"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.is("not") {
			not = &Not{At: p.tok.pos, Nulls: NullIsUnknown}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if !p.is("null") {
			return nil, wqlError(p.tok.pos, "expected NULL after IS, not %s", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		e = &IsNull{At: t.pos, X: left}
	default:
		return nil, wqlError(t.pos, "expected a comparison (= <> != < > <= >=), LIKE, IS, ISA or IN after %s, not %s", first.describe(), t.describe())
	}
	if not != nil {
		not.X = e
		return not, nil
	}
	return e, nil
}

// stringAfter reads the string constant that must follow the keyword at
// the current token.
func (p *wqlParser) stringAfter(keyword, what string) (string, error) {
	if err := p.advance(); err != nil {
		return "", err
	}
	t := p.tok
	if t.kind != wString {
		return "", wqlError(t.pos, "%s needs %s in quotes, not %s", keyword, what, t.describe())
	}
	return t.text, p.advance()
}

// in reads IN (constant, …) after left; kw is the IN token.
func (p *wqlParser) in(kw wqlToken, left Expr) (Expr, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != wLParen {
		return nil, wqlError(p.tok.pos, "expected ( after IN, not %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.is("select") {
		return nil, wqlUnsupported(p.tok.pos, "a subquery (IN (SELECT …))")
	}
	in := &In{At: kw.pos, X: left}
	for {
		t := p.tok
		if err := p.test(t.pos); err != nil {
			return nil, err
		}
		if t.kind != wString && t.kind != wNumber && !p.is("true", "false", "null") {
			return nil, wqlError(t.pos, "an IN list holds constants, not %s", t.describe())
		}
		v, err := p.operand()
		if err != nil {
			return nil, err
		}
		in.List = append(in.List, v)
		switch p.tok.kind {
		case wRParen:
			return in, p.advance()
		case wComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
		default:
			return nil, wqlError(p.tok.pos, "expected , or ) in the IN list, not %s", p.tok.describe())
		}
	}
}

// operand reads a property or a constant.
func (p *wqlParser) operand() (Expr, error) {
	t := p.tok
	var e Expr
	switch t.kind {
	case wString:
		e = &Literal{At: t.pos, Value: t.text}
	case wNumber:
		v, err := wqlNumber(t)
		if err != nil {
			return nil, err
		}
		e = &Literal{At: t.pos, Value: v}
	case wIdent:
		switch w := strings.ToLower(t.text); {
		case w == "true":
			e = &Literal{At: t.pos, Value: true}
		case w == "false":
			e = &Literal{At: t.pos, Value: false}
		case w == "null":
			e = &Literal{At: t.pos, Value: nil}
		case reserved[w]:
			return nil, wqlError(t.pos, "expected a property or a constant, not %s", strings.ToUpper(t.text))
		default:
			e = &Prop{At: t.pos, Name: t.text}
		}
	case wEnd:
		return nil, wqlError(t.pos, "the condition ends too soon")
	default:
		return nil, wqlError(t.pos, "expected a property or a constant, not %s", t.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if t.kind == wIdent && p.tok.kind == wLParen {
		return nil, wqlUnsupported(t.pos, "the function %s(…)", t.text)
	}
	return e, nil
}

// wqlNumber converts a number token: an int64 when it is a whole number
// written without a point or exponent, a float64 otherwise.
func wqlNumber(t wqlToken) (any, error) {
	if !strings.ContainsAny(t.text, ".eE") {
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, wqlError(t.pos, "the integer %s is out of range", t.text)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return nil, wqlError(t.pos, "the number %s is out of range", t.text)
	}
	return f, nil
}

// where reads an optional WHERE clause: its condition, or nil when the
// statement has none.
func (p *wqlParser) where() (Expr, error) {
	if !p.is("where") {
		return nil, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p.or()
}
