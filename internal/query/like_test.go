package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// TestMain closes and removes the store that openLikeStore opened.
func TestMain(m *testing.M) {
	code := m.Run()
	if likeDB != nil {
		likeDB.s.Close()
	}
	if likeDir != "" {
		os.RemoveAll(likeDir)
	}
	os.Exit(code)
}

func TestMatchLike(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"%%", "", true},
		{"_", "", false},
		{"_", "x", true},
		{"_", "é", true}, // one character, two bytes
		{"_", "xy", false},
		{"abc", "ABC", true},
		{"abc", "abcd", false},
		{"a%", "a", true},
		{"a%c", "abbbc", true},
		{"a%c", "abbbcd", false},
		{"%a%b%c%", "xaxbxcx", true},
		{"%a%b%c%", "xcxbxax", false},
		{"%aab", "aaab", true}, // backtracking
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"[abc]", "b", true},
		{"[abc]", "B", true},
		{"[abc]", "d", false},
		{"[a-f]x", "Cx", true},
		{"[a-f]x", "gx", false},
		{"[A-F]", "c", true},
		{"[^a]", "a", false},
		{"[^a]", "A", false},
		{"[^a]", "b", true},
		{"[^a]", "", false},
		{"[^a-c]%", "dog", true},
		{"[^a-c]%", "cat", false},
		{"[%]", "%", true},
		{"[%]", "x", false},
		{"100[%]", "100%", true},
		{"100[%]", "1000", false},
		{"[_]", "_", true},
		{"[_]", "x", false},
		{"%[_][_]%", "a__b", true},
		{"%[_][_]%", "a_b", false},
		{"[[]x]", "[x]", true},
		{"[]]", "]", true},
		{"[]a]", "a", true},
		{"[^]]", "]", false},
		{"[^]]", "x", true},
		{"[", "[", true},       // unterminated: literal
		{"[abc", "[abc", true}, // unterminated: literal
		{"[abc", "a", false},
		{"]", "]", true},
		{"[a-]", "-", true},
		{"[-a]", "-", true},
		{"[a-c-e]", "-", true},
		{"[a-c-e]", "d", false},
		{"[a-c-e]", "e", true},
		{"[f-a]", "c", false}, // backwards: nothing
		{"[^f-a]", "c", true},
		{"[0-9][0-9]", "42", true},
		{"[0-9][0-9]", "4x", false},
		{`a\b`, `a\b`, true}, // no escape character
		{`\%`, `\x`, true},
		{`\%`, `%`, false},
		{"ÉCOLE", "école", true},
		{"[é]cole", "École", true},
		{"[^é]cole", "École", false},
		{"k", "\u212a", true}, // Kelvin sign folds with k
		{"[a-z]", "\u212a", true},
		{"STRASSE", "strasse", true},
		{"日本%", "日本語", true},
		{"%[ω]", "ΩMEGA Ω", true},
		{"[α-ω]", "Σ", true},
	} {
		if got := query.MatchLike(c.pattern, c.s); got != c.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// likeNames are the package names that the SQL of LIKE is tried on: %, _,
// [, ], quotes, a backslash, non-ASCII letters in both cases, CJK, the
// empty string. None holds the Kelvin sign or the long s, which SQLite's
// LIKE (ASCII case folding) would not fold with k and s.
var likeNames = []string{
	"Windows 10 x64",
	"windows 11 ARM64",
	"Win7_SP1",
	"100% Done",
	"a_b",
	"[Beta] Build",
	"Build]",
	"O'Brien's TS",
	`Say "Hi"`,
	"Téléchargement",
	"ÉCOLE été",
	"日本語タスク",
	"Ωmega ω",
	`back\slash`,
	"",
	"abc",
	"ABD",
	"x^y-z",
	"Strasse 42",
}

// likeStore is a SQLite store holding one SMS_TaskSequencePackage per
// entry of likeNames (PackageID PS1000nn), shared by the tests of this
// file and the fuzz target.
type likeStore struct {
	s   store.Store
	pkg *cim.Class
}

var (
	likeOnce sync.Once
	likeDB   *likeStore
	likeErr  error
	likeDir  string
)

func openLikeStore(t testing.TB) *likeStore {
	t.Helper()
	likeOnce.Do(func() {
		ctx := context.Background()
		reg, err := schema.Registry()
		if err != nil {
			likeErr = err
			return
		}
		pkg, ok := reg.Class("SMS_TaskSequencePackage")
		if !ok {
			likeErr = fmt.Errorf("no class SMS_TaskSequencePackage")
			return
		}
		// a directory of its own, shared by every test of the process (the
		// testing package removes t.TempDir at the end of each test)
		dir, err := os.MkdirTemp("", "tsprov-like-")
		if err != nil {
			likeErr = err
			return
		}
		likeDir = dir
		s, err := sqlite.Open(ctx, filepath.Join(dir, "like.db"), reg)
		if err != nil {
			likeErr = err
			return
		}
		likeErr = s.Write(ctx, func(tx store.Tx) error {
			for i, name := range likeNames {
				in := cim.NewInstance(pkg)
				in.Set("PackageID", fmt.Sprintf("PS1000%02d", i))
				in.Set("Name", name)
				if err := tx.Insert(ctx, &store.Record{Instance: in}); err != nil {
					return err
				}
			}
			return nil
		})
		likeDB = &likeStore{s: s, pkg: pkg}
	})
	if likeErr != nil {
		t.Fatal(likeErr)
	}
	return likeDB
}

// names runs a query of the packages with filter e and returns their
// names, sorted.
func (ls *likeStore) names(t testing.TB, e query.Expr) []string {
	t.Helper()
	if err := query.Check(e, ls.pkg, store.Searchable); err != nil {
		t.Fatalf("Check: %v", err)
	}
	got, err := ls.list(e)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

// list returns the sorted names the store selects for a checked filter.
func (ls *likeStore) list(e query.Expr) ([]string, error) {
	var got []string
	err := ls.s.Read(context.Background(), func(tx store.ReadTx) error {
		recs, err := tx.List(context.Background(), ls.pkg, store.ListOptions{Filter: e})
		for _, r := range recs {
			got = append(got, r.Instance.String("Name"))
		}
		return err
	})
	slices.Sort(got)
	return got, err
}

// wantLike returns the names MatchLike accepts (or, with not, rejects).
func wantLike(pattern string, not bool) []string {
	var want []string
	for _, n := range likeNames {
		if query.MatchLike(pattern, n) != not {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	return want
}

func likeOn(pattern string) *query.Like {
	return &query.Like{X: &query.Prop{Name: "Name"}, Pattern: pattern}
}

// agree checks that Name LIKE pattern and NOT (Name LIKE pattern) select
// exactly what MatchLike says.
func (ls *likeStore) agree(t testing.TB, pattern string) {
	t.Helper()
	if got, want := ls.names(t, likeOn(pattern)), wantLike(pattern, false); !slices.Equal(got, want) {
		t.Errorf("Name LIKE %q: SQL selects %q, MatchLike %q", pattern, got, want)
	}
	if got, want := ls.names(t, &query.Not{X: likeOn(pattern)}), wantLike(pattern, true); !slices.Equal(got, want) {
		t.Errorf("NOT Name LIKE %q: SQL selects %q, MatchLike %q", pattern, got, want)
	}
}

// TestLikeSQLAgreesWithMatchLike: the SQL that Compile writes for LIKE,
// run by SQLite, selects exactly the names MatchLike accepts — without
// classes (plain LIKE), with classes at fixed places from the start and
// from the end (substr tests), and with classes between two %s (the
// automaton).
func TestLikeSQLAgreesWithMatchLike(t *testing.T) {
	ls := openLikeStore(t)
	patterns := []string{
		"", "%", "_", "%%", "___",
		"Win%", "win%", "WIN%", "%64", "%6_", "w%s%",
		"a_b", "a[_]b", "%[_]%", "%[%]%", "100[%]%", "%[[]%", "%]%", "%[]]%", "[[]Beta]%",
		"O'%", "%'s%", `%"Hi"`, `%\%`, `back\%`, "%^%", "%-%",
		"[W]in%", "[a-c]%", "[^w]%", "[^a-z]%", "[abc][abc][abcd]", "[A-C][a-c][^c]",
		"%[0-9]", "%[^0-9]", "[0-9]%[0-9]", "%[4]", "%[0-9][0-9]", "_[^i]%",
		"%[0-9][0-9]%", "%in[0-9]%", "%[^a-z0-9 ]%", "%[ _]%", "%o[^n]%", "%[é]%", "%[É]%",
		"t[éè]l%", "[é]%", "%[ω]%", "[Ω]%", "%[α-ω]%", "日本%", "%タスク", "%[本]%",
		"[f-a]%", "[^f-a]%", "%[!-/]%", "%[ -~]%", "%[^ -~]%", "[^ -~]%", "%[a-cx-z]%",
		"[", "[abc", "x^y-z", "x[^]y-z", "x[\\^]y-z", "[x][-^]y[-]z", "%[-]%",
		"STRASSE%", "%[s][s]%", "%[^s]s%",
	}
	if len(patterns) < 25 {
		t.Fatalf("only %d patterns", len(patterns))
	}
	for _, p := range patterns {
		ls.agree(t, p)
	}
	// every name matches itself with its wildcards and brackets quoted
	for _, n := range likeNames {
		var b strings.Builder
		for _, r := range n {
			if r == '%' || r == '_' || r == '[' {
				b.WriteString("[" + string(r) + "]")
			} else {
				b.WriteRune(r)
			}
		}
		if got := ls.names(t, likeOn(b.String())); !slices.Contains(got, n) {
			t.Errorf("Name LIKE %q does not select %q (got %q)", b.String(), n, got)
		}
		ls.agree(t, b.String())
	}
}

// TestLikeSQLRandomPatterns tries random patterns built from the names'
// characters, wildcards and classes.
func TestLikeSQLRandomPatterns(t *testing.T) {
	ls := openLikeStore(t)
	n := 600
	if testing.Short() {
		n = 100
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		ls.agree(t, randomPattern(rng))
	}
}

// likeAlphabet holds every character of the names, with both ASCII cases.
var likeAlphabet = func() []rune {
	seen := map[rune]bool{}
	for _, n := range likeNames {
		for _, r := range n {
			seen[r] = true
			if r < 128 {
				seen[unicode.ToUpper(r)], seen[unicode.ToLower(r)] = true, true
			}
		}
	}
	var rs []rune
	for r := range seen {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}()

func randomPattern(rng *rand.Rand) string {
	var b strings.Builder
	char := func() rune { return likeAlphabet[rng.IntN(len(likeAlphabet))] }
	for range rng.IntN(7) {
		switch rng.IntN(8) {
		case 0, 1:
			b.WriteByte('%')
		case 2:
			b.WriteByte('_')
		case 3, 4:
			b.WriteByte('[')
			if rng.IntN(3) == 0 {
				b.WriteByte('^')
			}
			for range 1 + rng.IntN(3) {
				b.WriteRune(char())
				if rng.IntN(3) == 0 {
					b.WriteByte('-')
					b.WriteRune(char())
				}
			}
			b.WriteByte(']')
		default:
			r := char()
			if !literalSafe(r) {
				r = 'x'
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// literalSafe reports whether a pattern character r outside brackets is
// folded by SQLite's LIKE as MatchLike folds it, on likeNames: an ASCII
// character, or one whose other case forms no name holds.
func literalSafe(r rune) bool {
	if r < 128 {
		return true
	}
	for _, n := range likeNames {
		for _, c := range n {
			if c != r && query.MatchLike(string(r), string(c)) {
				return false
			}
		}
	}
	return true
}

// FuzzLikeSQL: for any pattern, the SQL selects what MatchLike accepts.
// Patterns with a non-ASCII character outside brackets whose other case
// form is in a name are skipped: SQLite's LIKE folds ASCII only (the
// documented limit of the SQLite dialect).
func FuzzLikeSQL(f *testing.F) {
	for _, s := range []string{"%", "[a-c]%", "%[0-9][0-9]%", "%[^a-z]%", "[", "[]]", "%[_]%", "x[^]y-z", "[é]%"} {
		f.Add(s)
	}
	ls := openLikeStore(f)
	f.Fuzz(func(t *testing.T, pattern string) {
		if len(pattern) > 64 {
			return
		}
		inClass := false
		for _, it := range []rune(pattern) {
			if it == '[' {
				inClass = true
			}
			if it == ']' {
				inClass = false
			}
			if !inClass && !literalSafe(it) {
				return
			}
		}
		e := likeOn(pattern)
		if err := query.Check(e, ls.pkg, store.Searchable); err != nil {
			// refused: NUL (Invalid) or too complex (NotImplemented)
			if k := errs.KindOf(err); k == errs.NotImplemented || k == errs.Invalid && strings.ContainsRune(pattern, 0) {
				return
			}
			t.Fatal(err)
		}
		got, err := ls.list(e)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if want := wantLike(pattern, false); !slices.Equal(got, want) {
			t.Errorf("Name LIKE %q: SQL selects %q, MatchLike %q", pattern, got, want)
		}
	})
}

// TestLikeSQL shows the SQL of the three forms: no class; classes at fixed
// places from the start and the end; a class between two %s.
func TestLikeSQL(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	for _, c := range []struct {
		pattern, sql string
		args         []any
	}{
		{`100[%]\_%`, `(t."Name" LIKE ? ESCAPE '\')`, []any{`100\%\\_%`}}, // \ is literal, _ a wildcard
		{"[a-c]x%[^0]", `(t."Name" LIKE ? ESCAPE '\' AND (substr(t."Name", 1, 1) IN (?, ?, ?, ?, ?, ?)) AND (NOT (substr(t."Name", length(t."Name") - 0, 1) IN (?))))`,
			[]any{"_x%_", "A", "B", "C", "a", "b", "c", "0"}},
		{"%x[0-9]%", `(t."Name" LIKE ? ESCAPE '\' AND COALESCE((WITH RECURSIVE tsprov_s1(i) AS (SELECT 1 UNION ALL SELECT tsprov_s1.i + 1 FROM tsprov_s1 WHERE tsprov_s1.i < length(t."Name")) SELECT MIN(tsprov_s1.i) FROM tsprov_s1 WHERE substr(t."Name", tsprov_s1.i, 2) LIKE ? ESCAPE '\' AND (substr(t."Name", tsprov_s1.i + 1, 1) BETWEEN ? AND ?)) + 1 <= length(t."Name") - 0, CASE WHEN t."Name" IS NULL THEN NULL ELSE FALSE END))`,
			[]any{"%x_%", "x_", "0", "9"}},
	} {
		e := likeOn(c.pattern)
		if err := query.Check(e, pkg, store.Searchable); err != nil {
			t.Fatal(err)
		}
		sql, args, err := query.Compile(e, fakeDialect{}, fakeColumns{})
		if err != nil {
			t.Fatal(err)
		}
		if sql != c.sql || !slices.Equal(args, c.args) {
			t.Errorf("LIKE %q:\n got %s %q\nwant %s %q", c.pattern, sql, args, c.sql, c.args)
		}
	}
}

// TestLikeRefused: patterns that Compile cannot turn into SQL are refused
// by Check, with the position of LIKE.
func TestLikeRefused(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	for _, c := range []struct {
		pattern string
		kind    errs.Kind
		want    string
	}{
		{"a\x00", errs.Invalid, "$filter: at position 5: the LIKE pattern: a string may not hold a NUL character (U+0000); this one does at byte 1"},
		{"caf\xe9", errs.Invalid, "$filter: at position 5: the LIKE pattern: a string must be valid UTF-8; this one is not at byte 3"},
		{strings.Repeat("[ab]", 101), errs.NotImplemented, `$filter: at position 5: the LIKE pattern "[ab][ab][ab][ab][ab][ab][ab][ab][ab]..." is too complex to query: more than 100 character classes`},
		{strings.Repeat("%x", 20) + "%[0-9]%", errs.NotImplemented, `$filter: at position 5: the LIKE pattern "%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x..." is too complex to query: 21 parts between %s around a character class, more than 16`},
		{"[" + spaced(300) + "]", errs.NotImplemented, "a character class of more than 256 characters or ranges"},
		{strings.Repeat("["+spaced(250)+"]", 17), errs.NotImplemented, "more than 4096 characters or ranges in its classes"},
	} {
		e := &query.Like{At: 4, X: &query.Prop{Name: "Name"}, Pattern: c.pattern}
		err := query.Check(e, pkg, store.Searchable)
		if errs.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LIKE %q: got %v, want %v: %s", c.pattern, err, c.kind, c.want)
		}
	}
	// a pattern of the limits' size compiles
	for _, p := range []string{strings.Repeat("[ab]", 100), strings.Repeat("%x", 15) + "%[0-9]%", strings.Repeat("x%", 100) + "[0-9]", "[" + spaced(256) + "]", strings.Repeat("["+spaced(256)+"]", 16)} {
		if err := query.Check(likeOn(p), pkg, store.Searchable); err != nil {
			t.Errorf("LIKE %q: %v", p, err)
		}
	}
	// WQL says so
	st, err := query.ParseWQL("SELECT * FROM SMS_TaskSequencePackage WHERE Name LIKE '" + strings.Repeat("[ab]", 101) + "'")
	if err != nil {
		t.Fatal(err)
	}
	err = st.Check(pkg, store.Searchable)
	if want := "WQL: at position 50: the LIKE pattern"; errs.KindOf(err) != errs.NotImplemented || err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("WQL: got %v, want %s…", err, want)
	}
}

// spaced returns n CJK characters (no case forms) with a gap between each
// two, so that a class of them is n separate characters.
func spaced(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteRune(rune(0x4E00 + 2*i))
	}
	return b.String()
}
