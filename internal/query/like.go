package query

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
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
func foldEq(a, b rune) bool { return a == b || FoldRune(a) == FoldRune(b) }

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

// Limits on the SQL of one LIKE (SQLite refuses expressions nested more
// than 1000 deep and more than 32766 parameters); a pattern beyond them is
// refused with errs.NotImplemented.
const (
	maxClassParams = 256  // parameters of one character class
	maxClasses     = 100  // character classes in one pattern
	maxLikeParams  = 4096 // parameters of one pattern
	maxLikeParts   = 16   // %-separated parts placed one after the other
)

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

// likePlan is a LIKE pattern ready to compile: its items split at the %s
// into parts A, B1…Bk, C (one part when there is no %), each class with
// its case closure.
type likePlan struct {
	items   []likeItem
	parts   [][]likeItem
	classes map[*likeItem][]runeRange
}

// middleClasses reports whether a part between two %s holds a class.
func (pl *likePlan) middleClasses() bool {
	if len(pl.parts) < 3 {
		return false
	}
	for _, part := range pl.parts[1 : len(pl.parts)-1] {
		for i := range part {
			if part[i].kind == likeSet {
				return true
			}
		}
	}
	return false
}

// planLike parses x's pattern for Compile. Outcomes: the plan; an error of
// kind errs.Invalid when the pattern is not text every store keeps
// (cim.CheckText: SQLite's LIKE would end the pattern at a NUL,
// PostgreSQL refuses it; ParseWQL refuses NUL already); an error of kind
// errs.NotImplemented when the SQL would pass the limits above. Check
// calls it too, so that these errors come before the store is asked.
func planLike(x *Like) (*likePlan, error) {
	if err := cim.CheckText(x.Pattern); err != nil {
		return nil, errAt(x.At, "the LIKE pattern: %s", errs.Message(err))
	}
	pl := &likePlan{items: parseLike(x.Pattern), classes: map[*likeItem][]runeRange{}}
	tooComplex := func(format string, args ...any) error {
		p := x.Pattern
		if r := []rune(p); len(r) > 40 {
			p = string(r[:36]) + "..."
		}
		return errs.Target(errs.NotImplemented, "LIKE", "$filter: at position %d: the LIKE pattern %q is too complex to query: %s", x.At+1, p, fmt.Sprintf(format, args...))
	}
	params := 0
	for i := range pl.items {
		it := &pl.items[i]
		if r, ok := it.asLiteral(); ok {
			*it = likeItem{kind: likeLit, r: r}
		}
		if it.kind != likeSet {
			continue
		}
		if len(pl.classes) == maxClasses {
			return nil, tooComplex("more than %d character classes", maxClasses)
		}
		rs := it.closure()
		n := classParams(rs)
		if n > maxClassParams {
			return nil, tooComplex("a character class of more than %d characters or ranges, with their case forms", maxClassParams)
		}
		if params += n; params > maxLikeParams {
			return nil, tooComplex("more than %d characters or ranges in its classes, with their case forms", maxLikeParams)
		}
		pl.classes[it] = rs
	}
	from := 0
	for i, it := range pl.items {
		if it.kind == likeAny {
			pl.parts = append(pl.parts, pl.items[from:i])
			from = i + 1
		}
	}
	pl.parts = append(pl.parts, pl.items[from:])
	if n := len(pl.parts) - 2; n > maxLikeParts && pl.middleClasses() {
		return nil, tooComplex("%d parts between %%s around a character class, more than %d", n, maxLikeParts)
	}
	return pl, nil
}

// like compiles x. Without a character class it is the dialect's LIKE.
// With classes it is that LIKE with each class as _ (exact on length and
// on every other character) AND a test of each class's character in its
// place: substr(x, n, 1) [NOT] IN (every case form of every member), with
// BETWEEN for long runs. The pattern is A%B1%…%Bk%C, each part of fixed
// width: a class in A sits at a fixed place from the start, one in C at a
// fixed place from the end. When a middle part Bj holds a class, the parts
// are placed as a matcher does, leftmost first: Bj at the first place
// (after Bj-1) where it matches, found by a recursive CTE counting over
// the places, and the value matches when Bk so placed ends before C. Every
// character of the pattern is a parameter; the numbers in the SQL text
// are places and widths in the pattern.
func (c *compiler) like(x *Like) (string, error) {
	pl, err := planLike(x)
	if err != nil {
		return "", err
	}
	if lit, ok := x.X.(*Literal); ok {
		// a constant on the left: decided here
		if s, ok := lit.Value.(string); ok && matchItems(pl.items, []rune(s)) {
			return "(1 = 1)", nil
		}
		return "(1 = 0)", nil
	}
	v, err := c.value(x.X, nil)
	if err != nil {
		return "", err
	}
	_, column := x.X.(*Prop)
	s := "(" + c.foldLike(v, likeText(pl.items), literalPrefix(pl.items), column)
	if len(pl.classes) == 0 {
		return s + ")", nil
	}
	if _, ok := x.X.(*Prop); !ok {
		// the column expression is repeated below: it must hold no parameter
		return "", errs.E(errs.Internal, "query: LIKE with a character class on %T", x.X)
	}
	head, tail := pl.parts[0], pl.parts[len(pl.parts)-1]
	for i := range head {
		if head[i].kind == likeSet {
			s += " AND " + c.classCond(pl, &head[i], "substr("+v+", "+strconv.Itoa(i+1)+", 1)")
		}
	}
	if len(pl.parts) == 1 {
		return s + ")", nil
	}
	for i := range tail {
		if tail[i].kind == likeSet {
			s += " AND " + c.classCond(pl, &tail[i], "substr("+v+", length("+v+") - "+strconv.Itoa(len(tail)-1-i)+", 1)")
		}
	}
	if !pl.middleClasses() {
		return s + ")", nil
	}
	// place each middle part after the one before, from just after the head
	at := strconv.Itoa(len(head) + 1)
	width := 0
	for j, part := range pl.parts[1 : len(pl.parts)-1] {
		if j > 0 {
			at = "(" + at + ") + " + strconv.Itoa(width)
		}
		width = len(part) // > 0: parseLike folds %%
		cte := "tsprov_s" + strconv.Itoa(j+1)
		i := cte + ".i"
		var b strings.Builder
		b.WriteString("WITH RECURSIVE " + cte + "(i) AS (SELECT " + at + " UNION ALL SELECT " + i + " + 1 FROM " + cte +
			" WHERE " + i + " < length(" + v + ")) SELECT MIN(" + i + ") FROM " + cte + " WHERE " +
			c.foldLike("substr("+v+", "+i+", "+strconv.Itoa(width)+")", likeText(part), "", false))
		for o := range part {
			if part[o].kind == likeSet {
				b.WriteString(" AND " + c.classCond(pl, &part[o], "substr("+v+", "+i+" + "+strconv.Itoa(o)+", 1)"))
			}
		}
		at = b.String()
	}
	// no place for the middle parts leaves MIN() null: that is false for a
	// value (so NOT LIKE holds), unknown only for a null one
	s += " AND COALESCE((" + at + ") + " + strconv.Itoa(width-1) + " <= length(" + v + ") - " + strconv.Itoa(len(tail)) +
		", CASE WHEN " + v + " IS NULL THEN NULL ELSE FALSE END)"
	return s + ")", nil
}

// foldLike is the dialect's LIKE of expr and the escaped pattern text.
// SQL LIKE folds ASCII letters only, so a pattern with a character that
// folds otherwise (hasFoldable) is matched on folded text: the dialect's
// Lower, which folds as Fold does, against the folded pattern. That LIKE
// cannot use the column's index; so when expr is a column (no parameter,
// may be written twice) and the pattern starts with plain characters
// (prefix, unescaped), the rows are first narrowed to those whose folded
// value starts with the folded prefix, a range of the column's collation
// (which orders by Fold) that the index answers.
func (c *compiler) foldLike(expr, text, prefix string, column bool) string {
	if !hasFoldable(text) {
		return c.d.FoldLike(expr, c.param(text))
	}
	var narrow string
	if column && prefix != "" {
		lo := Fold(prefix)
		hi, bounded := successor(lo)
		if bounded && Fold(hi) == hi && text == escapeLike(prefix)+"%" {
			// The pattern is the prefix alone: the folded values that
			// start with lo are exactly those from lo up to hi (the
			// collation compares folded values byte by byte, and hi, as
			// its own folded form, bounds them): the range is the whole
			// test, and the index answers it without a LIKE per row.
			return c.d.FoldCompare(expr, ">=", c.param(lo)) + " AND " + c.d.FoldCompare(expr, "<", c.param(hi))
		}
		narrow = c.d.FoldCompare(expr, ">=", c.param(lo)) + " AND "
		if bounded {
			narrow += c.d.FoldCompare(expr, "<", c.param(hi)) + " AND "
		}
	}
	return narrow + c.d.FoldLike(c.d.Lower(expr), c.param(Fold(text)))
}

// successor is the least string above every string that starts with s
// (s with its last character one higher), when there is one that is
// valid text.
func successor(s string) (string, bool) {
	r, n := utf8.DecodeLastRuneInString(s)
	if r == utf8.RuneError || r == unicode.MaxRune {
		return "", false
	}
	next := r + 1
	if 0xD800 <= next && next <= 0xDFFF { // surrogates are not text
		next = 0xE000
	}
	return s[:len(s)-n] + string(next), true
}

// literalPrefix is the plain characters a LIKE pattern starts with.
func literalPrefix(items []likeItem) string {
	var b strings.Builder
	for _, it := range items {
		if it.kind != likeLit {
			break
		}
		b.WriteRune(it.r)
	}
	return b.String()
}

// classParams is the number of parameters classCond binds for a closure:
// one per character of a short run, two (BETWEEN) per longer one.
func classParams(rs []runeRange) int {
	n := 0
	for _, r := range rs {
		if r.hi-r.lo < 3 {
			n += int(r.hi-r.lo) + 1
		} else {
			n += 2
		}
	}
	return n
}

// classCond is the condition that the one-character string ch (which
// holds no parameter) matches the class it of plan pl.
func (c *compiler) classCond(pl *likePlan, it *likeItem, ch string) string {
	var parts, marks []string
	for _, r := range pl.classes[it] {
		if r.hi-r.lo < 3 {
			for c2 := r.lo; c2 <= r.hi; c2++ {
				marks = append(marks, c.param(string(c2)))
			}
			continue
		}
		if len(marks) > 0 {
			parts = append(parts, ch+" IN ("+strings.Join(marks, ", ")+")")
			marks = nil
		}
		parts = append(parts, ch+" BETWEEN "+c.param(string(r.lo))+" AND "+c.param(string(r.hi)))
	}
	if len(marks) > 0 {
		parts = append(parts, ch+" IN ("+strings.Join(marks, ", ")+")")
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
		return "(NOT " + cond + ")"
	}
	return cond
}
