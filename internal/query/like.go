package query

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/errs"
)

// WQL LIKE patterns.
//
// Syntax (as WMI documents it, and where it is silent, as SQL Server does):
//   - % matches any run of characters, _ any one character;
//   - [abc] one character of the set, [a-f] of the range, [^…] one character
//     not in it; members and ranges mix ([a-fxy]);
//   - inside brackets every character is literal, so [%], [_] and [[] match
//     %, _ and [; a - first or last is literal; a ] right after [ or [^ is a
//     member ([]] matches ]);
//   - a [ with no closing ] is a literal [; a range written backwards ([f-a])
//     matches nothing;
//   - there is no escape character: a backslash is literal.
//
// Case: a pattern character matches every case form of itself, as Go's
// strings.EqualFold sees it (simple case folding: k, K and the Kelvin sign
// K are one character); a class matches a character when any case form of
// the character is a member. MatchLike is the reference. The SQL that
// Compile writes is exact for classes (they are compiled to lists of every
// case form) and leaves the other characters to the dialect's FoldLike /
// FoldCompare, which on SQLite fold ASCII letters only, as its NOCASE
// collation does for = and ORDER BY.

// likeKind is the kind of one item of a LIKE pattern.
type likeKind uint8

const (
	likeLit likeKind = iota // one given character (any case form)
	likeOne                 // _
	likeAny                 // %
	likeSet                 // [...] or [^...]
)

// likeItem is one item of a parsed LIKE pattern.
type likeItem struct {
	kind   likeKind
	r      rune        // likeLit
	neg    bool        // likeSet: [^...]
	ranges []runeRange // likeSet: members, a single character as lo == hi
}

// runeRange is the characters lo through hi.
type runeRange struct{ lo, hi rune }

// parseLike splits a LIKE pattern into items; runs of % become one.
// Every input is a pattern: there are no syntax errors.
func parseLike(pattern string) []likeItem {
	p := []rune(pattern)
	var items []likeItem
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			if n := len(items); n == 0 || items[n-1].kind != likeAny {
				items = append(items, likeItem{kind: likeAny})
			}
		case '_':
			items = append(items, likeItem{kind: likeOne})
		case '[':
			it, end, ok := parseLikeClass(p, i)
			if !ok {
				items = append(items, likeItem{kind: likeLit, r: '['})
				continue
			}
			items = append(items, it)
			i = end
		default:
			items = append(items, likeItem{kind: likeLit, r: p[i]})
		}
	}
	return items
}

// parseLikeClass reads the class that opens at p[open] == '['. It returns
// the item and the index of its closing ], or ok false when there is none.
func parseLikeClass(p []rune, open int) (it likeItem, end int, ok bool) {
	k := open + 1
	it.kind = likeSet
	if k < len(p) && p[k] == '^' {
		it.neg = true
		k++
	}
	first := k
	if k < len(p) && p[k] == ']' {
		k++ // a ] first is a member
	}
	for k < len(p) && p[k] != ']' {
		k++
	}
	if k >= len(p) {
		return likeItem{}, 0, false
	}
	m := p[first:k]
	for j := 0; j < len(m); j++ {
		if j+2 < len(m) && m[j+1] == '-' {
			it.ranges = append(it.ranges, runeRange{m[j], m[j+2]})
			j += 2
			continue
		}
		it.ranges = append(it.ranges, runeRange{m[j], m[j]})
	}
	return it, k, true
}

// foldEq reports whether a and b are case forms of one character.
func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// inRanges reports whether some case form of r is in one of the ranges.
func inRanges(ranges []runeRange, r rune) bool {
	c := r
	for {
		for _, rg := range ranges {
			if rg.lo <= c && c <= rg.hi {
				return true
			}
		}
		c = unicode.SimpleFold(c)
		if c == r {
			return false
		}
	}
}

// matches reports whether a single-character item matches r.
func (it *likeItem) matches(r rune) bool {
	switch it.kind {
	case likeOne:
		return true
	case likeLit:
		return foldEq(it.r, r)
	case likeSet:
		return inRanges(it.ranges, r) != it.neg
	}
	return false
}

// MatchLike reports whether s matches the WQL LIKE pattern, without regard
// to case: % any run of characters, _ any one, [abc] [a-f] one of a set or
// range, [^…] one not in it, [%] a literal %. See the syntax notes above.
// It is the reference for what the SQL that Compile writes for a Like
// selects.
func MatchLike(pattern, s string) bool {
	return matchItems(parseLike(pattern), []rune(s))
}

// matchItems matches with one backtracking point, the last % seen: every
// other item matches exactly one character, so moving an earlier % can
// never help (the classic wildcard algorithm, O(len(s)·len(items))).
func matchItems(items []likeItem, s []rune) bool {
	i, j := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case j < len(items) && items[j].kind == likeAny:
			star, mark = j, i
			j++
		case j < len(items) && items[j].matches(s[i]):
			i++
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(items) && items[j].kind == likeAny {
		j++
	}
	return j == len(items)
}

// maxClassParams bounds the parameters that one character class compiles
// to; a class that needs more is refused (errs.NotImplemented).
const maxClassParams = 256

// closure returns the characters a class item matches before negation —
// every case form of every member — as sorted, disjoint ranges, without
// surrogates (which no string holds).
func (it *likeItem) closure() []runeRange {
	var rs []runeRange
	add := func(r rune) {
		for c := unicode.SimpleFold(r); c != r; c = unicode.SimpleFold(c) {
			rs = append(rs, runeRange{c, c})
		}
	}
	for _, rg := range it.ranges {
		if rg.lo > rg.hi {
			continue
		}
		rs = append(rs, rg)
		if rg.hi-rg.lo < 256 {
			for r := rg.lo; r <= rg.hi; r++ {
				add(r)
			}
			continue
		}
		// only characters with case mappings have other case forms
		for _, cr := range unicode.CaseRanges {
			lo, hi := max(rune(cr.Lo), rg.lo), min(rune(cr.Hi), rg.hi)
			for r := lo; r <= hi; r++ {
				add(r)
			}
		}
	}
	slices.SortFunc(rs, func(a, b runeRange) int { return int(a.lo) - int(b.lo) })
	var out []runeRange
	for _, r := range rs {
		// cut out the surrogates
		if r.lo <= 0xDFFF && r.hi >= 0xD800 {
			if r.lo < 0xD800 {
				out = appendRange(out, runeRange{r.lo, 0xD7FF})
			}
			if r.hi > 0xDFFF {
				out = appendRange(out, runeRange{0xE000, r.hi})
			}
			continue
		}
		out = appendRange(out, r)
	}
	return out
}

// appendRange appends r to sorted ranges, merging it with the last one when
// they touch.
func appendRange(rs []runeRange, r runeRange) []runeRange {
	if n := len(rs); n > 0 && r.lo <= rs[n-1].hi+1 {
		rs[n-1].hi = max(rs[n-1].hi, r.hi)
		return rs
	}
	return append(rs, r)
}

// asLiteral turns a class that stands for one character with no other case
// form ([%], [_], [[], [5]) into that literal, which LIKE matches exactly
// once escaped.
func (it *likeItem) asLiteral() (rune, bool) {
	if it.kind != likeSet || it.neg || len(it.ranges) != 1 || it.ranges[0].lo != it.ranges[0].hi {
		return 0, false
	}
	r := it.ranges[0].lo
	if unicode.SimpleFold(r) != r || !utf8.ValidRune(r) || r == utf8.RuneError {
		return 0, false
	}
	return r, true
}

// likeText is the SQL LIKE pattern (backslash escape) for items: a class
// becomes _, which the class conditions then narrow.
func likeText(items []likeItem) string {
	var b strings.Builder
	for _, it := range items {
		switch it.kind {
		case likeAny:
			b.WriteByte('%')
		case likeOne, likeSet:
			b.WriteByte('_')
		case likeLit:
			if it.r == '\\' || it.r == '%' || it.r == '_' {
				b.WriteByte('\\')
			}
			b.WriteRune(it.r)
		}
	}
	return b.String()
}

// like compiles x. Without a character class it is the dialect's LIKE.
// With classes it is that LIKE with each class as _ (exact on length and
// on every other character) AND, per class, a test of the character in
// its place: substr(x, n, 1) [NOT] IN (every case form of every member),
// with BETWEEN for long runs. A class before the first % sits at a fixed
// place from the start and one after the last % at a fixed place from the
// end. A class between two %s has no fixed place; such a pattern is
// matched whole by a small automaton in SQL: a recursive CTE over (place
// in the string, item of the pattern) that follows % and the one-character
// items, run only on the rows the LIKE kept. Every character of the
// pattern is a parameter; the numbers in the SQL text are places in the
// pattern.
func (c *compiler) like(x *Like) (string, error) {
	items := parseLike(x.Pattern)
	classes := false
	for i := range items {
		if r, ok := items[i].asLiteral(); ok {
			items[i] = likeItem{kind: likeLit, r: r}
		}
		if items[i].kind == likeSet {
			classes = true
		}
	}
	if lit, ok := x.X.(*Literal); ok {
		// a constant on the left: decided here
		if s, ok := lit.Value.(string); ok && matchItems(items, []rune(s)) {
			return "(1 = 1)", nil
		}
		return "(1 = 0)", nil
	}
	v, err := c.value(x.X, nil)
	if err != nil {
		return "", err
	}
	s := "(" + c.d.FoldLike(v, c.param(likeText(items)))
	if !classes {
		return s + ")", nil
	}
	if _, ok := x.X.(*Prop); !ok {
		// the column expression is repeated below: it must hold no parameter
		return "", errs.E(errs.Internal, "query: LIKE with a character class on %T", x.X)
	}
	first, last := -1, -1
	for i, it := range items {
		if it.kind == likeAny {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i, it := range items {
		if it.kind == likeSet && first >= 0 && i > first && i < last {
			a, err := c.likeAutomaton(x, items, v)
			if err != nil {
				return "", err
			}
			return s + " AND " + a + ")", nil
		}
	}
	for i := range items {
		it := &items[i]
		if it.kind != likeSet {
			continue
		}
		var ch string
		if first < 0 || i < first {
			ch = "substr(" + v + ", " + strconv.Itoa(i+1) + ", 1)"
		} else { // after the last %: a fixed place from the end
			ch = "substr(" + v + ", length(" + v + ") - " + strconv.Itoa(len(items)-1-i) + ", 1)"
		}
		cond, err := c.classCond(x, it, ch)
		if err != nil {
			return "", err
		}
		s += " AND " + cond
	}
	return s + ")", nil
}

// classCond is the condition that the one-character string ch (which
// holds no parameter) matches the class it.
func (c *compiler) classCond(x *Like, it *likeItem, ch string) (string, error) {
	rs := it.closure()
	var singles []rune
	var runs []runeRange
	n := 0
	for _, r := range rs {
		if r.hi-r.lo < 3 {
			for c := r.lo; c <= r.hi; c++ {
				singles = append(singles, c)
			}
			n += int(r.hi-r.lo) + 1
			continue
		}
		runs = append(runs, r)
		n += 2
	}
	if n > maxClassParams {
		return "", errs.Target(errs.NotImplemented, "LIKE", "LIKE at position %d: a character class of %q is too large to query (more than %d characters or ranges with their case forms)", x.At+1, x.Pattern, maxClassParams)
	}
	var parts []string
	if len(singles) > 0 {
		marks := make([]string, len(singles))
		for i, r := range singles {
			marks[i] = c.param(string(r))
		}
		parts = append(parts, ch+" IN ("+strings.Join(marks, ", ")+")")
	}
	for _, r := range runs {
		lo := c.param(string(r.lo))
		hi := c.param(string(r.hi))
		parts = append(parts, ch+" BETWEEN "+lo+" AND "+hi)
	}
	var cond string
	switch len(parts) {
	case 0:
		cond = "(1 = 0)"
	case 1:
		cond = "(" + parts[0] + ")"
	default:
		cond = "(" + strings.Join(parts, " OR ") + ")"
	}
	if it.neg {
		return "(NOT " + cond + ")", nil
	}
	return cond, nil
}

// likeAutomaton is an EXISTS that holds when the column v matches items
// whole. State (i, j): the first i-1 characters are matched by the first j
// items. From (i, j): a % goes to (i, j+1) and, while characters remain,
// to (i+1, j); any other item goes to (i+1, j+1) when it matches character
// i. The value matches when (length+1, len(items)) is reached. UNION keeps
// each state once, so it ends after at most (length+1)·(len(items)+1)
// states.
func (c *compiler) likeAutomaton(x *Like, items []likeItem, v string) (string, error) {
	var b strings.Builder
	var percents []string
	for j, it := range items {
		if it.kind == likeAny {
			percents = append(percents, strconv.Itoa(j))
		}
	}
	b.WriteString("EXISTS (WITH RECURSIVE tsprov_lm(i, j) AS (SELECT 1, 0 UNION SELECT tsprov_lm.i + tsprov_ld.k, tsprov_lm.j + ")
	if len(percents) > 0 {
		b.WriteString("CASE WHEN tsprov_ld.k = 1 AND tsprov_lm.j IN (" + strings.Join(percents, ", ") + ") THEN 0 ELSE 1 END")
	} else {
		b.WriteString("1")
	}
	b.WriteString(" FROM tsprov_lm, (SELECT 0 AS k UNION ALL SELECT 1) AS tsprov_ld WHERE CASE tsprov_lm.j")
	more := "tsprov_lm.i <= length(" + v + ")"
	ch := "substr(" + v + ", tsprov_lm.i, 1)"
	for j := range items {
		it := &items[j]
		b.WriteString(" WHEN " + strconv.Itoa(j) + " THEN ")
		switch it.kind {
		case likeAny:
			b.WriteString("(tsprov_ld.k = 0 OR " + more + ")")
		case likeOne:
			b.WriteString("(tsprov_ld.k = 1 AND " + more + ")")
		case likeLit:
			b.WriteString("(tsprov_ld.k = 1 AND " + more + " AND " + c.d.FoldCompare(ch, "=", c.param(string(it.r))) + ")")
		case likeSet:
			cond, err := c.classCond(x, it, ch)
			if err != nil {
				return "", err
			}
			b.WriteString("(tsprov_ld.k = 1 AND " + more + " AND " + cond + ")")
		}
	}
	b.WriteString(" ELSE 0 END) SELECT 1 FROM tsprov_lm WHERE tsprov_lm.i = length(" + v + ") + 1 AND tsprov_lm.j = " + strconv.Itoa(len(items)) + ")")
	return b.String(), nil
}
