// Package querytest is the query conformance suite: WQL and OData $filter
// queries run end to end (parse, check, compile, store) through
// provider.List on one fixed fixture, each checked against the exact set
// of instances it must select. Every store backend's tests call Run, so
// that SQLite and PostgreSQL answer every query alike.
//
// The semantics the suite holds the engine to, where WQL's and OData's
// documents leave room (docs/rest.md, docs/choices.md):
//   - string comparisons, LIKE and contains/startswith/endswith ignore case,
//     for every letter, not only ASCII ones (query.MatchLike is the
//     reference: Unicode simple case folding);
//   - in OData, nulls follow the lifted operators (MS-ODATA 2.2.3.6.1.1.5):
//     a relational operator (lt le gt ge) with a null operand is false; eq
//     and ne treat two nulls as equal and a null as unequal to every value;
//     a function of a null is null; and, or and not treat a null operand
//     as false (so "not X" holds where X is null);
//   - in WQL, nulls follow SQL's three-valued logic, since ConfigMgr runs
//     WQL on SQL (query.NullIsUnknown): a comparison with a null operand,
//     = <> != included, is unknown, NOT of unknown is unknown, and only a
//     true condition selects; IS [NOT] NULL tests for null (docs/rest.md);
//   - a DMTF date-time of unknown offset ("+***") is taken as UTC.
//
// Each case that must succeed also runs as an in-memory variant: the same
// condition ORed with a false test of a lazy property, which makes
// provider.List answer it with query.Eval instead of SQL (see
// evalVariant). Both must select the same instances.
//
// A case marked with a known bug (Case.KnownBug, Case.EvalBug) that fails
// is skipped with the reason and the difference; once the engine is fixed
// the case fails until its marker is removed, so no marker outlives its
// bug.
package querytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// Lang is the query language of a case.
type Lang int

const (
	// OData is a $filter expression, parsed with query.ParseFilter.
	OData Lang = iota
	// WQL is a whole WQL statement, parsed with query.ParseWQL.
	WQL
)

// langName names the language and, for the in-memory variant, says so.
func langName(c Case) string {
	if c.Eval {
		return c.Lang.String() + "+eval"
	}
	return c.Lang.String()
}

func (l Lang) String() string {
	if l == WQL {
		return "wql"
	}
	return "odata"
}

// tsClass is the class most cases query.
const tsClass = "SMS_TaskSequencePackage"

// Case is one query and what it must give.
type Case struct {
	Cat  string // category, for the report
	Lang Lang
	// Src is the $filter (OData) or the whole statement (WQL). It may hold
	// time templates, see env.expand.
	Src string
	// Name names the subtest when Src is too long or unreadable.
	Name string
	// Class is the class an OData case lists, and the Statement.Class a
	// WQL case must parse to; "" is SMS_TaskSequencePackage.
	Class string
	// Props is the SELECT list a WQL statement must parse to (nil for *).
	Props []string
	// Want is the set of fixture labels the query selects: labels
	// separated by spaces; "*" is every instance of the class, "* -A -B"
	// all but A and B; "" none. With Ordered it is the exact sequence.
	Want    string
	Ordered bool
	// List options passed through provider.ListOptions.
	OrderBy []store.Order
	Skip    int
	Top     int
	// Total is the count that provider.List must report for a case that
	// pages (Skip or Top); otherwise it is the number of instances in Want.
	Total int
	// Err is the error the case must give instead of a result.
	Err *ErrWant
	// OrInvalid accepts an errs.Invalid error instead of Want (injection
	// attempts: either the right answer or a refusal).
	OrInvalid bool
	// KnownBug, when set, turns a failure of this case into a skip that
	// says why (and a pass into a failure: the marker is stale).
	// EvalBug is the same for the in-memory variant (see evalVariant).
	KnownBug, EvalBug string
	// Eval marks the variant of a case that provider.List answers in
	// memory (query.Eval) rather than in SQL.
	Eval bool
}

// ErrWant is an expected error: its kind, the 1-based byte position that
// its message gives ("at position N"), and a piece of its message.
type ErrWant struct {
	Kind errs.Kind
	// At locates the position: the first occurrence of At in the source
	// (after template expansion); "#n:text" the n-th occurrence; "$" the
	// end of the source; "" means the message gives no position.
	At  string
	Msg string
}

// Run runs the suite against the stores that open returns. open is called
// once; the suite builds its fixture through a provider on that store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	st := open(t)
	prov, err := provider.New(provider.Config{
		Registry: reg,
		Store:    st,
		SiteCode: "PS1",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("provider.New: %v", err)
	}
	e := &env{prov: prov, reg: reg, ids: map[string]string{}, labels: map[string]string{}, byClass: map[string][]string{}}
	e.build(t)
	before := e.snapshot(t)

	var cases []Case
	for _, c := range allCases() {
		cases = append(cases, c)
		if v, ok := evalVariant(c); ok {
			cases = append(cases, v)
		}
	}
	counts, evals := map[string]int{}, 0
	for _, c := range cases {
		if c.Eval {
			evals++
		} else {
			counts[c.Cat]++
		}
	}
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Cat+"/"+langName(c)+"/"+caseName(c), func(t *testing.T) {
				t.Parallel()
				e.check(t, c)
			})
		}
	})
	t.Run("FixtureUnchanged", func(t *testing.T) {
		after := e.snapshot(t)
		if d := diffSnapshots(before, after); d != "" {
			t.Errorf("the queries changed the store:\n%s", d)
		}
	})
	cats := slices.Sorted(maps.Keys(counts))
	var parts []string
	for _, c := range cats {
		parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
	}
	t.Logf("query suite: %d cases: %d queries (%s) and %d in-memory variants", len(cases), len(cases)-evals, strings.Join(parts, ", "), evals)
}

func caseName(c Case) string {
	if c.Name != "" {
		return c.Name
	}
	s := c.Src
	if c.Lang == WQL {
		s = strings.TrimPrefix(s, wqlFrom)
	}
	if r := []rune(s); len(r) > 90 {
		s = string(r[:90]) + "…"
	}
	return s
}

// env is the fixture: the provider and the labels of its instances.
type env struct {
	prov *provider.Provider
	reg  *cim.Registry

	ids     map[string]string   // label → key (PackageID)
	labels  map[string]string   // lower-case key → label
	names   map[string]string   // label → Name, for messages
	byClass map[string][]string // lower-case class name → labels in creation order

	// Times around the creation of the task sequence packages: before
	// the first, between the two batches, after the last; and the
	// SourceDate of each.
	before, mid, after time.Time
	sourceDate         map[string]time.Time
}

// check runs c and reports every way its outcome differs from what c wants.
func (e *env) check(t *testing.T, c Case) {
	src := e.expand(c.Src)
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	res, err := e.run(c, src, fail)
	switch {
	case c.Err != nil:
		if err != nil {
			checkErr(src, err, c.Err, fail)
		} else {
			fail("got %s, want an error %v at %s: %q", e.describe(res.Objects), c.Err.Kind, showPos(src, c.Err.At), c.Err.Msg)
		}
	case err != nil && c.OrInvalid && errs.KindOf(err) == errs.Invalid:
		// refused: fine for an injection attempt
	case err != nil:
		fail("error %v (%v), want %s", err, errs.KindOf(err), e.describeLabels(e.wantLabels(c)))
	default:
		want := e.wantLabels(c)
		got := e.gotLabels(res.Objects)
		if c.Ordered {
			if !slices.Equal(got, want) {
				fail("got %s, want %s (in this order)", e.describeLabels(got), e.describeLabels(want))
			}
		} else {
			g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			if !slices.Equal(g, w) {
				fail("got %s, want %s (missing %v, extra %v)", e.describeLabels(g), e.describeLabels(w), minus(w, g), minus(g, w))
			}
		}
		total := c.Total
		if c.Skip == 0 && c.Top == 0 {
			total = len(want)
		}
		if res.Total != int64(total) {
			fail("Count = %d, want %d", res.Total, total)
		}
	}
	bug := c.KnownBug
	if c.Eval {
		bug = c.EvalBug
	}
	if len(fails) == 0 {
		if bug != "" {
			t.Errorf("%s %q is marked as a known bug (%s) but passes: remove the marker", langName(c), src, bug)
		}
		return
	}
	shown := src
	if r := []rune(shown); len(r) > 300 {
		shown = string(r[:300]) + "…"
	}
	msg := fmt.Sprintf("%s %q:\n\t%s", langName(c), shown, strings.Join(fails, "\n\t"))
	if bug != "" {
		t.Skipf("known bug: %s\n%s", bug, msg)
	}
	t.Error(msg)
}

// run parses src and lists through the provider.
func (e *env) run(c Case, src string, fail func(string, ...any)) (*provider.ListResult, error) {
	ctx := authtest.Context()
	opts := provider.ListOptions{OrderBy: c.OrderBy, Skip: c.Skip, Top: c.Top, Count: true}
	if c.Lang == OData {
		class := c.Class
		if class == "" {
			class = tsClass
		}
		if src != "" { // "" lists without a filter
			expr, err := query.ParseFilter(src)
			if err != nil {
				return nil, err
			}
			opts.Filter = expr
		}
		return e.prov.List(ctx, class, opts)
	}
	stmt, err := query.ParseWQL(src)
	if err != nil {
		return nil, err
	}
	if c.Err == nil { // what the statement parses to
		wantClass := c.Class
		if wantClass == "" {
			wantClass = tsClass
		}
		if stmt.Class != wantClass {
			fail("Statement.Class = %q, want %q", stmt.Class, wantClass)
		}
		if !slices.Equal(stmt.Properties, c.Props) || (stmt.Properties == nil) != (c.Props == nil) {
			fail("Statement.Properties = %#v, want %#v", stmt.Properties, c.Props)
		}
	}
	if stmt.ClassPos < 0 || stmt.ClassPos+len(stmt.Class) > len(src) || src[stmt.ClassPos:stmt.ClassPos+len(stmt.Class)] != stmt.Class {
		fail("Statement.ClassPos = %d does not locate %q", stmt.ClassPos, stmt.Class)
	}
	class, err := e.prov.Class(stmt.Class)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			fail("Provider.Class(%q): %v, want a NotFound error", stmt.Class, err)
		}
		// as the WQL endpoint reports it
		return nil, errs.Target(errs.Invalid, stmt.Class, "WQL: at position %d: unknown class %s", stmt.ClassPos+1, stmt.Class)
	}
	// as the WQL endpoint does: terms on lazy properties are allowed
	// (provider.List evaluates them in memory)
	if err := stmt.Check(class, nil); err != nil {
		return nil, err
	}
	opts.Filter = stmt.Where
	return e.prov.List(ctx, class.Name, opts)
}

// evalOff is a lazy property (every package class has it, 0 everywhere)
// that a condition ORs with to make provider.List evaluate the whole
// condition in memory: "X or ExtendedDataSize eq 4242" selects what X
// does, and query.Split cannot push a term that tests a lazy property.
const evalOff = "ExtendedDataSize"

var whereRE = regexp.MustCompile(`(?i)\bWHERE\b`)

// evalVariant returns the in-memory variant of c: the same query, made to
// go through query.Eval instead of SQL, that must select the same
// instances. Error cases have none.
func evalVariant(c Case) (Case, bool) {
	if c.Err != nil {
		return Case{}, false
	}
	v := c
	v.Eval = true
	switch {
	case c.Lang == OData && c.Src == "":
		v.Src = evalOff + " ne 4242"
	case c.Lang == OData:
		v.Src = "(" + c.Src + ") or " + evalOff + " eq 4242"
	default:
		loc := whereRE.FindStringIndex(c.Src)
		if loc == nil {
			v.Src = strings.TrimRight(c.Src, " ") + " WHERE " + evalOff + " <> 4242"
		} else {
			v.Src = c.Src[:loc[1]] + " (" + c.Src[loc[1]:] + ") OR " + evalOff + " = 4242"
		}
	}
	return v, true
}

var (
	positionRE = regexp.MustCompile(`at position (\d+)`)
	limitRE    = regexp.MustCompile(`more than (\d+)`)
)

func checkErr(src string, err error, want *ErrWant, fail func(string, ...any)) {
	msg := errs.Message(err)
	if k := errs.KindOf(err); k != want.Kind {
		fail("error kind %v, want %v (error: %s)", k, want.Kind, msg)
	}
	if want.At != "" {
		at := want.At
		if rest, ok := strings.CutPrefix(at, "#limit+1:"); ok {
			// the n-th occurrence, n one more than the limit the message gives
			n := -1
			if m := limitRE.FindStringSubmatch(msg); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			at = fmt.Sprintf("#%d:%s", n+1, rest)
		}
		wantPos := position(src, at)
		m := positionRE.FindStringSubmatch(msg)
		if m == nil {
			fail("error %q gives no position, want position %d", msg, wantPos)
		} else if got, _ := strconv.Atoi(m[1]); got != wantPos {
			fail("error at position %d, want %d: %s", got, wantPos, msg)
		}
	}
	if !strings.Contains(msg, want.Msg) {
		fail("error %q does not say %q", msg, want.Msg)
	}
}

// position turns an ErrWant.At into a 1-based byte position in src.
func position(src, at string) int {
	if at == "$" {
		return len(src) + 1
	}
	if strings.HasPrefix(at, "#limit+1:") {
		return -1 // resolved from the message by checkErr
	}
	n := 1
	if strings.HasPrefix(at, "#") {
		if i := strings.IndexByte(at, ':'); i > 0 {
			n, _ = strconv.Atoi(at[1:i])
			at = at[i+1:]
		}
	}
	off := 0
	for ; n > 0; n-- {
		i := strings.Index(src[off:], at)
		if i < 0 {
			return -1 // the case is wrong: it shows as a mismatch
		}
		if n == 1 {
			return off + i + 1
		}
		off += i + len(at)
	}
	return -1
}

func showPos(src, at string) string {
	if at == "" {
		return "no position"
	}
	return fmt.Sprintf("position %d", position(src, at))
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// wantLabels expands c.Want.
func (e *env) wantLabels(c Case) []string {
	class := c.Class
	if class == "" {
		class = tsClass
	}
	fields := strings.Fields(c.Want)
	if len(fields) == 0 || fields[0] != "*" {
		return fields
	}
	var out []string
	for _, l := range e.byClass[strings.ToLower(class)] {
		if !slices.Contains(fields[1:], "-"+l) {
			out = append(out, l)
		}
	}
	return out
}

func (e *env) gotLabels(objs []*provider.Object) []string {
	out := []string{}
	for _, o := range objs {
		key := o.Instance.Key()
		if l, ok := e.labels[strings.ToLower(key)]; ok {
			out = append(out, l)
		} else {
			out = append(out, "?"+key)
		}
	}
	return out
}

func (e *env) describe(objs []*provider.Object) string {
	if objs == nil {
		return "[]"
	}
	return e.describeLabels(e.gotLabels(objs))
}

// describeLabels shows labels with their names: [A "Win11 Bare Metal" …].
func (e *env) describeLabels(ls []string) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l + "=" + strconv.Quote(e.names[l])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

var templateRE = regexp.MustCompile(`\{(before|mid|after|sd\.[A-Z]+):(odata|dmtf)([+-]\d+)?\}`)

// expand replaces time templates in src: {T:F} or {T:F±M} with T one of
// before, mid, after, sd.<label> (that instance's SourceDate), F odata (an
// OData DateTimeOffset literal) or dmtf (a DMTF date-time), and ±M the
// offset from UTC in minutes to write it with (UTC by default).
func (e *env) expand(src string) string {
	return templateRE.ReplaceAllStringFunc(src, func(m string) string {
		p := templateRE.FindStringSubmatch(m)
		var tm time.Time
		switch {
		case p[1] == "before":
			tm = e.before
		case p[1] == "mid":
			tm = e.mid
		case p[1] == "after":
			tm = e.after
		default:
			tm = e.sourceDate[strings.TrimPrefix(p[1], "sd.")]
		}
		off := 0
		if p[3] != "" {
			off, _ = strconv.Atoi(p[3])
		}
		tm = tm.In(time.FixedZone("", off*60))
		if p[2] == "dmtf" {
			return cim.DateTimeValue{Time: tm}.DMTF()
		}
		return tm.Format("2006-01-02T15:04:05.999999Z07:00")
	})
}

// snapshot is the state of the store as the provider shows it: for every
// class with instances of its own, the count and a hash of each instance.
type snapshot map[string]map[string]string // class → key → hash

func (e *env) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := authtest.Context()
	snap := snapshot{}
	for _, c := range e.reg.Classes() {
		if !c.IsStorable() || c.IsAbstract() || c.IsEmbedded() || len(c.Keys()) == 0 || c.IsPrivate() {
			continue
		}
		res, err := e.prov.List(ctx, c.Name, provider.ListOptions{Count: true})
		if err != nil {
			t.Fatalf("list %s: %v", c.Name, err)
		}
		if res.Total != int64(len(res.Objects)) {
			t.Errorf("%s: Count %d for %d instances", c.Name, res.Total, len(res.Objects))
		}
		m := map[string]string{}
		for _, o := range res.Objects {
			key := o.Instance.Key()
			full, err := e.prov.Get(ctx, c.Name, key)
			if err != nil {
				t.Fatalf("get %s(%q): %v", c.Name, key, err)
			}
			h := sha256.Sum256([]byte(full.ETag + "\x00" + canon(full.Instance)))
			m[key] = hex.EncodeToString(h[:])
		}
		snap[c.Name] = m
	}
	return snap
}

func diffSnapshots(a, b snapshot) string {
	var out []string
	for _, class := range slices.Sorted(maps.Keys(a)) {
		x, y := a[class], b[class]
		if len(x) != len(y) {
			out = append(out, fmt.Sprintf("%s: %d instances, then %d", class, len(x), len(y)))
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if h, ok := y[k]; !ok {
				out = append(out, fmt.Sprintf("%s(%q) is gone", class, k))
			} else if h != x[k] {
				out = append(out, fmt.Sprintf("%s(%q) changed", class, k))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(y)) {
			if _, ok := x[k]; !ok {
				out = append(out, fmt.Sprintf("%s(%q) appeared", class, k))
			}
		}
	}
	return strings.Join(out, "\n")
}

// canon writes a value in one canonical text form.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "s" + strconv.Quote(x)
	case int64:
		return "i" + strconv.FormatInt(x, 10)
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "b" + strconv.FormatBool(x)
	case cim.DateTimeValue:
		return "d" + x.DMTF()
	case []byte:
		return "x" + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, el := range x {
			parts[i] = canon(el)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *cim.Instance:
		keys := make([]string, 0, len(x.Values))
		for k := range x.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ":" + canon(x.Values[k])
		}
		return x.Class.Name + "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}
