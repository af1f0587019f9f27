package query_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

var opSyms = map[query.Op]string{query.Eq: "=", query.Ne: "<>", query.Lt: "<", query.Le: "<=", query.Gt: ">", query.Ge: ">="}

// show prints an expression compactly, as an s-expression; with pos each
// node is followed by @ and its 1-based position.
func show(e query.Expr, pos bool) string {
	if e == nil {
		return "<nil>"
	}
	at := ""
	if pos {
		at = "@" + strconv.Itoa(e.Pos()+1)
	}
	list := func(head string, xs ...query.Expr) string {
		parts := []string{head + at}
		for _, x := range xs {
			parts = append(parts, show(x, pos))
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	switch x := e.(type) {
	case *query.Prop:
		return x.Name + at
	case *query.Literal:
		return showValue(x.Value) + at
	case *query.Compare:
		return list(opSyms[x.Op], x.Left, x.Right)
	case *query.Logical:
		if x.And {
			return list("and", x.Left, x.Right)
		}
		return list("or", x.Left, x.Right)
	case *query.Not:
		return list("not", x.X)
	case *query.Like:
		return list("like", x.X, &query.Literal{At: x.At, Value: x.Pattern})
	case *query.IsNull:
		return list("null?", x.X)
	case *query.IsA:
		return list("isa", x.X, &query.Literal{At: x.At, Value: x.Class})
	case *query.In:
		return list("in", append([]query.Expr{x.X}, x.List...)...)
	case *query.Call:
		return list(x.Name, x.Args...)
	}
	return fmt.Sprintf("<%T>", e)
}

func showValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64) + "f"
	case cim.DateTimeValue:
		return "dt:" + v.DMTF()
	}
	return fmt.Sprint(v)
}

// showStmt prints a statement: class, SELECT list, condition.
func showStmt(s *query.Statement) string {
	props := "*"
	if s.Properties != nil {
		props = "[" + strings.Join(s.Properties, ",") + "]"
	}
	out := s.Class + " " + props
	if s.Where != nil {
		out += " " + show(s.Where, false)
	}
	return out
}

func TestParseWQL(t *testing.T) {
	const from = "SELECT * FROM SMS_TaskSequencePackage WHERE "
	for _, c := range []struct{ src, want string }{
		// statement forms
		{"SELECT * FROM SMS_TaskSequencePackage", "SMS_TaskSequencePackage *"},
		{"select * from sms_tasksequencepackage", "sms_tasksequencepackage *"},
		{"SeLeCt * FrOm X", "X *"},
		{"  SELECT\t*\nFROM\r\nX  ", "X *"},
		{"SELECT*FROM X", "X *"},
		{"SELECT Name FROM X", "X [Name]"},
		{"SELECT Name, PackageID,__CLASS FROM X", "X [Name,PackageID,__CLASS]"},
		{"SELECT name,name FROM X", "X [name,name]"},
		{"SELECT Név FROM X", "X [Név]"},
		{"SELECT * FROM X WHERE A = 1", "X * (= A 1)"},
		{"SELECT * FROM X where A = 1", "X * (= A 1)"},
		// every comparison operator
		{from + "A = 1", "(= A 1)"},
		{from + "A <> 1", "(<> A 1)"},
		{from + "A != 1", "(<> A 1)"},
		{from + "A < 1", "(< A 1)"},
		{from + "A > 1", "(> A 1)"},
		{from + "A <= 1", "(<= A 1)"},
		{from + "A >= 1", "(>= A 1)"},
		{from + "A=1", "(= A 1)"},
		{from + "A<=-1", "(<= A -1)"},
		{from + "A<>-1", "(<> A -1)"},
		{from + "1 = A", "(= 1 A)"},
		{from + "'x' < Name", `(< "x" Name)`},
		{from + "A = B", "(= A B)"},
		// literals
		{from + "Name = 'abc'", `(= Name "abc")`},
		{from + `Name = "abc"`, `(= Name "abc")`},
		{from + `Name = ''`, `(= Name "")`},
		{from + `Name = 'it\'s'`, `(= Name "it's")`},
		{from + `Name = "say \"hi\""`, `(= Name "say \"hi\"")`},
		{from + `Name = 'say "hi"'`, `(= Name "say \"hi\"")`},
		{from + `Name = "it's"`, `(= Name "it's")`},
		{from + `Name = 'C:\\Windows\\Temp'`, `(= Name "C:\\Windows\\Temp")`},
		{from + `Name = '\\'`, `(= Name "\\")`},
		{from + `Name = 'a\"b'`, `(= Name "a\"b")`},
		{from + `Name = 'Déploiement ✓ 日本語'`, `(= Name "Déploiement ✓ 日本語")`},
		{from + "A = 0", "(= A 0)"},
		{from + "A = 4294967295", "(= A 4294967295)"},
		{from + "A = -9223372036854775808", "(= A -9223372036854775808)"},
		{from + "A = +7", "(= A 7)"},
		{from + "A = 1.5", "(= A 1.5f)"},
		{from + "A = .5", "(= A 0.5f)"},
		{from + "A = 2.", "(= A 2f)"},
		{from + "A = 1e3", "(= A 1000f)"},
		{from + "A = TRUE", "(= A true)"},
		{from + "A = false", "(= A false)"},
		{from + "A = True", "(= A true)"},
		{from + "A = NULL", "(= A null)"},
		{from + "A <> null", "(<> A null)"},
		{from + "SourceDate > '20240102030405.000000+000'", `(> SourceDate "20240102030405.000000+000")`},
		// LIKE
		{from + "Name LIKE 'Win%'", `(like Name "Win%")`},
		{from + "Name like \"%[_][_]%\"", `(like Name "%[_][_]%")`},
		{from + "Name LIKE '[a-f]_[^x]%'", `(like Name "[a-f]_[^x]%")`},
		{from + `Name LIKE '%\\%'`, `(like Name "%\\%")`},
		{from + "Name NOT LIKE 'a%'", `(not (like Name "a%"))`},
		{from + "NOT Name LIKE 'a%'", `(not (like Name "a%"))`},
		// IS [NOT] NULL
		{from + "Description IS NULL", "(null? Description)"},
		{from + "Description is not null", "(not (null? Description))"},
		{from + "NOT Description IS NULL", "(not (null? Description))"},
		// ISA
		{from + "__CLASS ISA 'SMS_PackageBaseclass'", `(isa __CLASS "SMS_PackageBaseclass")`},
		{from + "__class isa \"SMS_TaskSequencePackage\"", `(isa __class "SMS_TaskSequencePackage")`},
		// IN
		{from + "Name IN ('a', 'b')", `(in Name "a" "b")`},
		{from + "PkgFlags in (1,2,3)", "(in PkgFlags 1 2 3)"},
		{from + "Name NOT IN ('a')", `(not (in Name "a"))`},
		{from + "Name IN (NULL, TRUE)", "(in Name null true)"},
		// NOT, AND, OR, precedence, parentheses
		{from + "A = 1 AND B = 2", "(and (= A 1) (= B 2))"},
		{from + "A = 1 OR B = 2", "(or (= A 1) (= B 2))"},
		{from + "A = 1 OR B = 2 AND C = 3", "(or (= A 1) (and (= B 2) (= C 3)))"},
		{from + "A = 1 AND B = 2 OR C = 3", "(or (and (= A 1) (= B 2)) (= C 3))"},
		{from + "(A = 1 OR B = 2) AND C = 3", "(and (or (= A 1) (= B 2)) (= C 3))"},
		{from + "A = 1 AND B = 2 AND C = 3", "(and (and (= A 1) (= B 2)) (= C 3))"},
		{from + "A = 1 OR B = 2 OR C = 3", "(or (or (= A 1) (= B 2)) (= C 3))"},
		{from + "NOT A = 1", "(not (= A 1))"},
		{from + "NOT NOT A = 1", "(not (not (= A 1)))"},
		{from + "NOT A = 1 AND B = 2", "(and (not (= A 1)) (= B 2))"},
		{from + "NOT (A = 1 AND B = 2)", "(not (and (= A 1) (= B 2)))"},
		{from + "((A = 1))", "(= A 1)"},
		{from + "(A=1)and(B=2)", "(and (= A 1) (= B 2))"},
		{from + "a = 1 and not b like 'x' or c is null", `(or (and (= a 1) (not (like b "x"))) (null? c))`},
		// names that start like keywords are names
		{from + "Notes = 1 AND Order_ = 2 AND IsEnabled = TRUE AND Android = 1", "(and (and (and (= Notes 1) (= Order_ 2)) (= IsEnabled true)) (= Android 1))"},
		{from + "Nullable IS NULL", "(null? Nullable)"},
	} {
		st, err := query.ParseWQL(c.src)
		if err != nil {
			t.Errorf("ParseWQL(%q): %v", c.src, err)
			continue
		}
		got := showStmt(st)
		if strings.HasPrefix(c.src, from) {
			got = show(st.Where, false)
		}
		if got != c.want {
			t.Errorf("ParseWQL(%q)\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}

// TestParseWQLPositions: every node carries the position of its first
// token (an operator's own token for comparisons, AND, OR, LIKE, IS, ISA
// and IN); positions count bytes from 1.
func TestParseWQLPositions(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"SELECT * FROM X WHERE A = 1", "(=@25 A@23 1@27)"},
		{"SELECT * FROM X WHERE NOT (A<1 OR B>=2)", "(not@23 (or@32 (<@29 A@28 1@30) (>=@36 B@35 2@38)))"},
		{"SELECT * FROM X WHERE Name NOT LIKE 'x' AND C IS NOT NULL", `(and@41 (not@28 (like@32 Name@23 "x"@32)) (not@50 (null?@47 C@45)))`},
		{"SELECT * FROM X WHERE __CLASS ISA 'Y'", `(isa@31 __CLASS@23 "Y"@31)`},
		{"SELECT * FROM X WHERE N IN ('a', 2)", `(in@25 N@23 "a"@29 2@34)`},
		{"SELECT * FROM X WHERE Név = 'é' OR x = 1", `(or@35 (=@28 Név@23 "é"@30) (=@40 x@38 1@42))`},
	} {
		st, err := query.ParseWQL(c.src)
		if err != nil {
			t.Errorf("ParseWQL(%q): %v", c.src, err)
			continue
		}
		if got := show(st.Where, true); got != c.want {
			t.Errorf("ParseWQL(%q)\n got %s\nwant %s", c.src, got, c.want)
		}
	}
	st, err := query.ParseWQL("SELECT Name FROM  SMS_TaskSequencePackage")
	if err != nil {
		t.Fatal(err)
	}
	if st.ClassPos != 18 {
		t.Errorf("ClassPos = %d, want 18", st.ClassPos)
	}
}

func TestParseWQLErrors(t *testing.T) {
	deep := "SELECT * FROM X WHERE " + strings.Repeat("(", 101) + "A = 1" + strings.Repeat(")", 101)
	notDeep := "SELECT * FROM X WHERE " + strings.Repeat("NOT ", 101) + "A = 1"
	many := "SELECT * FROM X WHERE " + strings.Repeat("A = 1 OR ", 500) + "A = 1"
	longIn := "SELECT * FROM X WHERE A IN (" + strings.Repeat("1, ", 500) + "1)"
	for _, c := range []struct {
		src  string
		kind errs.Kind
		want string
	}{
		{"", errs.Invalid, "WQL: at position 1: expected SELECT, not the end of the query"},
		{"   ", errs.Invalid, "WQL: at position 4: expected SELECT, not the end of the query"},
		{"SELEC * FROM X", errs.Invalid, "WQL: at position 1: expected SELECT, not SELEC"},
		{"'SELECT' * FROM X", errs.Invalid, `WQL: at position 1: expected SELECT, not string "SELECT"`},
		{"SELECT FROM X", errs.Invalid, "WQL: at position 8: expected * or a property name, not FROM"},
		{"SELECT", errs.Invalid, "WQL: at position 7: expected * or a property name, not the end of the query"},
		{"SELECT * X", errs.Invalid, "WQL: at position 10: expected FROM, not X"},
		{"SELECT *, Name FROM X", errs.Invalid, `WQL: at position 9: expected FROM, not ","`},
		{"SELECT Name, FROM X", errs.Invalid, "WQL: at position 14: expected * or a property name, not FROM"},
		{"SELECT Name, * FROM X", errs.Invalid, `WQL: at position 14: expected * or a property name, not "*"`},
		{"SELECT 'Name' FROM X", errs.Invalid, `WQL: at position 8: expected * or a property name, not string "Name"`},
		{"SELECT * FROM", errs.Invalid, "WQL: at position 14: expected a class name, not the end of the query"},
		{"SELECT * FROM FROM", errs.Invalid, "WQL: at position 15: expected a class name, not FROM"},
		{"SELECT * FROM 'X'", errs.Invalid, `WQL: at position 15: expected a class name, not string "X"`},
		{"SELECT * FROM X Y", errs.Invalid, "WQL: at position 17: expected WHERE or the end of the query, not Y"},
		{"SELECT * FROM X WHERE", errs.Invalid, "WQL: at position 22: the condition ends too soon"},
		{"SELECT * FROM X WHERE Name", errs.Invalid, "WQL: at position 27: expected a comparison (= <> != < > <= >=), LIKE, IS, ISA or IN after Name, not the end of the query"},
		{"SELECT * FROM X WHERE 'a'", errs.Invalid, `WQL: at position 26: expected a comparison (= <> != < > <= >=), LIKE, IS, ISA or IN after string "a", not the end of the query`},
		{"SELECT * FROM X WHERE Name =", errs.Invalid, "WQL: at position 29: the condition ends too soon"},
		{"SELECT * FROM X WHERE Name = 'a", errs.Invalid, "WQL: at position 30: unterminated string"},
		{`SELECT * FROM X WHERE Name = "a'`, errs.Invalid, "WQL: at position 30: unterminated string"},
		{`SELECT * FROM X WHERE Name = 'a\'`, errs.Invalid, "WQL: at position 30: unterminated string"},
		{`SELECT * FROM X WHERE Name = 'a\`, errs.Invalid, "WQL: at position 30: unterminated string"},
		{`SELECT * FROM X WHERE Name = 'C:\Temp'`, errs.Invalid, `WQL: at position 33: unknown escape \T in a string (the escapes are \\, \' and \")`},
		{`SELECT * FROM X WHERE Name = 'a\n'`, errs.Invalid, `WQL: at position 32: unknown escape \n in a string (the escapes are \\, \' and \")`},
		{"SELECT * FROM X WHERE Name = 'a''b'", errs.Invalid, `WQL: at position 33: unexpected string "b"`},
		{"SELECT * FROM X WHERE (Name = 'a'", errs.Invalid, "WQL: at position 34: expected ) to close the ( at position 23, not the end of the query"},
		{"SELECT * FROM X WHERE Name = 'a')", errs.Invalid, `WQL: at position 33: unexpected ")"`},
		{"SELECT * FROM X WHERE ()", errs.Invalid, `WQL: at position 24: expected a property or a constant, not ")"`},
		{"SELECT * FROM X WHERE Name = 'a' AND", errs.Invalid, "WQL: at position 37: the condition ends too soon"},
		{"SELECT * FROM X WHERE AND A = 1", errs.Invalid, "WQL: at position 23: expected a property or a constant, not AND"},
		{"SELECT * FROM X WHERE A = 1 B = 2", errs.Invalid, "WQL: at position 29: unexpected B"},
		{"SELECT * FROM X WHERE Name = 'a' ;", errs.Invalid, "WQL: at position 34: unexpected character ';'"},
		{"SELECT * FROM X WHERE Name = @x", errs.Invalid, "WQL: at position 30: unexpected character '@'"},
		{"SELECT * FROM X WHERE A = - 1", errs.Invalid, "WQL: at position 27: unexpected character '-'"},
		{"SELECT * FROM X WHERE Name ! 'a'", errs.Invalid, "WQL: at position 28: unexpected character '!' (not equal is <> or !=)"},
		{"SELECT * FROM X WHERE Name == 'a'", errs.Invalid, `WQL: at position 29: expected a property or a constant, not "="`},
		{"SELECT * FROM X WHERE Name = = 'a'", errs.Invalid, `WQL: at position 30: expected a property or a constant, not "="`},
		{"SELECT * FROM X WHERE Name => 'a'", errs.Invalid, `WQL: at position 29: expected a property or a constant, not ">"`},
		{"SELECT * FROM X WHERE A = 99999999999999999999", errs.Invalid, "WQL: at position 27: the integer 99999999999999999999 is out of range"},
		{"SELECT * FROM X WHERE A = 1e999", errs.Invalid, "WQL: at position 27: the number 1e999 is out of range"},
		{"SELECT * FROM X WHERE A = 12abc", errs.Invalid, `WQL: at position 27: "12abc" is not a number`},
		{"SELECT * FROM X WHERE A = 0x1F", errs.Invalid, `WQL: at position 27: "0x1F" is not a number`},
		{"SELECT * FROM X WHERE Name LIKE 5", errs.Invalid, `WQL: at position 33: LIKE needs a pattern in quotes, not "5"`},
		{"SELECT * FROM X WHERE Name LIKE Other", errs.Invalid, "WQL: at position 33: LIKE needs a pattern in quotes, not Other"},
		{"SELECT * FROM X WHERE Name IS 5", errs.Invalid, `WQL: at position 31: expected NULL after IS, not "5"`},
		{"SELECT * FROM X WHERE Name IS NOT", errs.Invalid, "WQL: at position 34: expected NULL after IS, not the end of the query"},
		{"SELECT * FROM X WHERE Name NOT = 'a'", errs.Invalid, `WQL: at position 32: expected LIKE or IN after NOT, not "="`},
		{"SELECT * FROM X WHERE Name ISA Foo", errs.Invalid, "WQL: at position 32: ISA needs a class name in quotes, not Foo"},
		{"SELECT * FROM X WHERE Name IN 'a'", errs.Invalid, `WQL: at position 31: expected ( after IN, not string "a"`},
		{"SELECT * FROM X WHERE Name IN (Name)", errs.Invalid, "WQL: at position 32: an IN list holds constants, not Name"},
		{"SELECT * FROM X WHERE Name IN ()", errs.Invalid, `WQL: at position 32: an IN list holds constants, not ")"`},
		{"SELECT * FROM X WHERE Name IN ('a' 'b')", errs.Invalid, `WQL: at position 36: expected , or ) in the IN list, not string "b"`},
		{"SELECT * FROM X WHERE Name IN ('a',", errs.Invalid, "WQL: at position 36: an IN list holds constants, not the end of the query"},
		{"SELECT * FROM X WHERE Name LIKE 'a\x00'", errs.Invalid, "WQL: at position 35: a string cannot hold the NUL character"},
		{"SELECT * FROM X WHERE Név = 'é' §", errs.Invalid, "WQL: at position 35: unexpected character '§'"},
		{deep, errs.Invalid, "WQL: at position 123: the condition nests more than 100 deep"},
		{notDeep, errs.Invalid, "WQL: at position 423: the condition nests more than 100 deep"},
		{many, errs.Invalid, "WQL: at position 4523: the condition holds more than 500 tests"},
		{longIn, errs.Invalid, "WQL: at position 1526: the condition holds more than 500 tests"},
		// valid WQL that tsprov does not serve
		{"ASSOCIATORS OF {SMS_TaskSequencePackage.PackageID='PS100001'}", errs.NotImplemented, "WQL: at position 1: ASSOCIATORS OF is not supported"},
		{"  associators of {x} where ResultClass = SMS_Package", errs.NotImplemented, "WQL: at position 3: ASSOCIATORS OF is not supported"},
		{"REFERENCES OF {SMS_TaskSequencePackage.PackageID=\"PS100001\"}", errs.NotImplemented, "WQL: at position 1: REFERENCES OF is not supported"},
		{"references of {", errs.NotImplemented, "WQL: at position 1: REFERENCES OF is not supported"},
		{"SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage'", errs.NotImplemented, "WQL: at position 15: an event query or a system class (FROM __InstanceModificationEvent) is not supported"},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND {", errs.NotImplemented, "WQL: at position 15: an event query or a system class (FROM __InstanceCreationEvent) is not supported"},
		{"SELECT * FROM __Namespace", errs.NotImplemented, "WQL: at position 15: an event query or a system class (FROM __Namespace) is not supported"},
		{"SELECT * FROM SMS_TaskSequencePackage WITHIN 5", errs.NotImplemented, "WQL: at position 39: an event query (WITHIN) is not supported"},
		{"SELECT * FROM X WHERE A = 1 GROUP WITHIN 600", errs.NotImplemented, "WQL: at position 29: an event query (GROUP BY) is not supported"},
		{"SELECT * FROM X WHERE A = 1 HAVING NumberOfEvents > 1", errs.NotImplemented, "WQL: at position 29: an event query (HAVING) is not supported"},
		{"SELECT * FROM X ORDER BY Name", errs.NotImplemented, "WQL: at position 17: ORDER BY is not supported"},
		{"SELECT * FROM X WHERE A = 1 ORDER BY Name", errs.NotImplemented, "WQL: at position 29: ORDER BY is not supported"},
		{"SELECT * FROM X JOIN Y ON X.A = Y.A", errs.NotImplemented, "WQL: at position 17: a join is not supported"},
		{"SELECT * FROM X INNER JOIN Y ON X.A = Y.A", errs.NotImplemented, "WQL: at position 17: a join is not supported"},
		{"SELECT * FROM X, Y", errs.NotImplemented, "WQL: at position 16: more than one class in FROM is not supported"},
		{"SELECT * FROM X AS x", errs.NotImplemented, "WQL: at position 17: a class alias (AS) is not supported"},
		{"SELECT DISTINCT Name FROM X", errs.NotImplemented, "WQL: at position 8: SELECT DISTINCT is not supported"},
		{"SELECT COUNT(*) FROM X", errs.NotImplemented, "WQL: at position 8: COUNT(…) in the SELECT list is not supported"},
		{"SELECT * FROM X WHERE UPPER(Name) = 'A'", errs.NotImplemented, "WQL: at position 23: the function UPPER(…) is not supported"},
		{"SELECT * FROM X WHERE Name IN (SELECT Name FROM Y)", errs.NotImplemented, "WQL: at position 32: a subquery (IN (SELECT …)) is not supported"},
	} {
		st, err := query.ParseWQL(c.src)
		if err == nil {
			t.Errorf("ParseWQL(%q) = %s, want an error", c.src, showStmt(st))
			continue
		}
		if k := errs.KindOf(err); k != c.kind || err.Error() != c.want {
			t.Errorf("ParseWQL(%q):\n got %v: %v\nwant %v: %s", c.src, k, err, c.kind, c.want)
		}
	}
}

// wqlEnv is a SQLite store of a few task sequence packages for end-to-end
// queries.
type wqlEnv struct {
	s   store.Store
	pkg *cim.Class
}

func newWQLEnv(t *testing.T) *wqlEnv {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wql.db"), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	at := func(s string) cim.DateTimeValue {
		d, err := cim.ParseDMTF(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	rows := []map[string]any{
		{"PackageID": "PS100001", "Name": "Windows 11", "SourceDate": at("20240102020405.000000+000"), "ForcedDisconnectEnabled": true, "PkgFlags": int64(16)},
		{"PackageID": "PS100002", "Name": "O'Brien's", "SourceDate": at("20240601000000.000000+000"), "ForcedDisconnectEnabled": false, "PkgFlags": int64(0), "Description": "x"},
		{"PackageID": "PS100003", "Name": `Say "Hi"`, "SourceDate": at("20230101000000.000000-300"), "PkgFlags": int64(32)},
		{"PackageID": "PS100004", "Name": `C:\Temp`, "Description": ""},
	}
	err = s.Write(t.Context(), func(tx store.Tx) error {
		for _, r := range rows {
			in := cim.NewInstance(pkg)
			for k, v := range r {
				in.Set(k, v)
			}
			if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &wqlEnv{s: s, pkg: pkg}
}

// run parses, checks and runs a WQL query; it returns the package IDs.
func (e *wqlEnv) run(t *testing.T, src string) ([]string, error) {
	st, err := query.ParseWQL(src)
	if err != nil {
		return nil, err
	}
	if err := st.Check(e.pkg, store.Searchable); err != nil {
		return nil, err
	}
	var ids []string
	err = e.s.Read(t.Context(), func(tx store.ReadTx) error {
		recs, err := tx.List(t.Context(), e.pkg, store.ListOptions{Filter: st.Where})
		for _, r := range recs {
			ids = append(ids, strings.TrimPrefix(r.Instance.String("PackageID"), "PS10000"))
		}
		return err
	})
	return ids, err
}

// TestWQLQueries runs WQL end to end on SQLite: DMTF date-times compared
// as instants, booleans, integers, quoting, NULL, ISA on __CLASS.
func TestWQLQueries(t *testing.T) {
	e := newWQLEnv(t)
	const from = "SELECT * FROM SMS_TaskSequencePackage WHERE "
	for _, c := range []struct{ where, want string }{
		{"SourceDate > '20240102030405.000000+000'", "2"},
		{"SourceDate = '20240102030405.000000+060'", "1"}, // 03:04:05 at UTC+1 is 02:04:05Z
		{"SourceDate < '20240101000000.000000+000'", "3"},
		{"SourceDate >= '2024-01-02T02:04:05Z'", "1,2"},
		{"SourceDate IS NULL", "4"},
		{"SourceDate IS NOT NULL", "1,2,3"},
		{"ForcedDisconnectEnabled = TRUE", "1"},
		{"ForcedDisconnectEnabled = false", "2"},
		{"ForcedDisconnectEnabled <> true", "2"}, // null is unknown, as in SQL
		{"ForcedDisconnectEnabled <> true OR ForcedDisconnectEnabled IS NULL", "2,3,4"},
		{"PkgFlags >= 16 AND PkgFlags < 32", "1"},
		{"PkgFlags = 16 OR PkgFlags = 32", "1,3"},
		{"NOT PkgFlags = 16", "2,3"},
		{"PkgFlags IN (0, 32)", "2,3"},
		{`Name = 'O\'Brien\'s'`, "2"},
		{`Name = "O'Brien's"`, "2"},
		{`Name = "Say \"Hi\""`, "3"},
		{`Name = 'C:\\Temp'`, "4"},
		{`name = 'windows 11'`, "1"},
		{`Name LIKE 'w%'`, "1"},
		{`Name LIKE '%[\\]%'`, "4"},
		{`Name LIKE '%\\%'`, "4"},
		{`NOT Name LIKE '[a-o]%'`, "1,3"},
		{`Name NOT LIKE '%[\'"]%'`, "1,4"},
		{"Description IS NULL", "1,3"},
		{"Description = ''", "4"},
		{"__CLASS ISA 'SMS_PackageBaseclass'", "1,2,3,4"},
		{"__class isa 'sms_tasksequencepackage'", "1,2,3,4"},
		{"__CLASS ISA 'SMS_DriverPackage'", ""},
		{"NOT __CLASS ISA 'SMS_DriverPackage' AND PkgFlags = 0", "2"},
		{"__CLASS ISA 'NoSuchClass' OR Name = 'Windows 11'", "1"},
	} {
		ids, err := e.run(t, from+c.where)
		if err != nil {
			t.Errorf("%s: %v", c.where, err)
			continue
		}
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%s: got %q, want %q", c.where, got, c.want)
		}
	}
	for _, c := range []struct {
		where string
		kind  errs.Kind
		want  string
	}{
		{"Name ISA 'SMS_Package'", errs.NotImplemented, "WQL: at position 50: ISA is not supported yet (only __CLASS ISA 'Class')"},
		{"NoSuch = 1", errs.Invalid, "WQL: at position 45: class SMS_TaskSequencePackage has no property NoSuch"},
		{"SourceDate > '2024'", errs.Invalid, `WQL: at position 58: "2024" is not a date-time`},
		{"Name = 5", errs.Invalid, "WQL: at position 50: cannot compare a string with an integer"},
		{"PkgFlags LIKE '1%'", errs.Invalid, "WQL: at position 54: LIKE needs a string, not an integer"},
		{"Sequence = 'x'", errs.NotImplemented, "WQL: at position 45: property Sequence is lazy; querying lazy properties is not supported yet"},
	} {
		_, err := e.run(t, from+c.where)
		if k := errs.KindOf(err); k != c.kind || err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v: %v\nwant %v: %s", c.where, k, err, c.kind, c.want)
		}
	}
}

// wqlText prints an expression back as WQL, fully parenthesised.
func wqlText(e query.Expr) string {
	switch x := e.(type) {
	case *query.Prop:
		return x.Name
	case *query.Literal:
		switch v := x.Value.(type) {
		case nil:
			return "NULL"
		case bool:
			return strings.ToUpper(strconv.FormatBool(v))
		case string:
			return wqlQuote(v)
		case int64:
			return strconv.FormatInt(v, 10)
		case float64:
			s := strconv.FormatFloat(v, 'g', -1, 64)
			if !strings.ContainsAny(s, ".e") {
				s += ".0"
			}
			return s
		}
	case *query.Compare:
		return "(" + wqlText(x.Left) + " " + opSyms[x.Op] + " " + wqlText(x.Right) + ")"
	case *query.Logical:
		op := " OR "
		if x.And {
			op = " AND "
		}
		return "(" + wqlText(x.Left) + op + wqlText(x.Right) + ")"
	case *query.Not:
		return "(NOT " + wqlText(x.X) + ")"
	case *query.Like:
		return "(" + wqlText(x.X) + " LIKE " + wqlQuote(x.Pattern) + ")"
	case *query.IsNull:
		return "(" + wqlText(x.X) + " IS NULL)"
	case *query.IsA:
		return "(" + wqlText(x.X) + " ISA " + wqlQuote(x.Class) + ")"
	case *query.In:
		var items []string
		for _, it := range x.List {
			items = append(items, wqlText(it))
		}
		return "(" + wqlText(x.X) + " IN (" + strings.Join(items, ", ") + "))"
	}
	panic(fmt.Sprintf("wqlText: %T", e))
}

func wqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// fakeDialect and fakeColumns let the fuzz targets compile without a
// database.
type fakeDialect struct{}

func (fakeDialect) Placeholder(int) string { return "?" }
func (fakeDialect) FoldCompare(l, op, r string) string {
	return l + " " + op + " " + r + " COLLATE NOCASE"
}
func (fakeDialect) FoldLike(e, p string) string { return e + " LIKE " + p + ` ESCAPE '\'` }
func (fakeDialect) Bool(b bool) any             { return b }
func (fakeDialect) Instr(s, sub string) string  { return "instr(" + s + ", " + sub + ")" }
func (fakeDialect) Lower(s string) string       { return "lower(" + s + ")" }
func (fakeDialect) Upper(s string) string       { return "upper(" + s + ")" }

type fakeColumns struct{}

func (fakeColumns) Column(p *cim.Property) string { return `t."` + p.Name + `"` }
func (fakeColumns) Value(p *cim.Property, v any) any {
	return v
}

var positionRE = regexp.MustCompile(`^(WQL|\$filter): at position (\d+): `)

// checkError: a parse error is Invalid or NotImplemented and names a
// position within the source (or just past it).
func checkError(t *testing.T, src string, err error, kinds ...errs.Kind) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || !slices.Contains(kinds, e.Kind) {
		t.Fatalf("%q: error %v is not of kind %v", src, err, kinds)
	}
	m := positionRE.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("%q: error %q gives no position", src, err)
	}
	if n, _ := strconv.Atoi(m[2]); n < 1 || n > len(src)+1 {
		t.Fatalf("%q: error %q: position out of the source", src, err)
	}
}

// checkAndCompile runs Check and Compile on e for SMS_TaskSequencePackage:
// either may refuse, neither may panic, and the SQL has one marker per
// parameter.
func checkAndCompile(t *testing.T, src string, e query.Expr) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	if err := query.Check(e, pkg, store.Searchable); err != nil {
		checkError(t, src, err, errs.Invalid, errs.NotImplemented)
		return
	}
	sql, args, err := query.Compile(e, fakeDialect{}, fakeColumns{})
	if err != nil {
		if errs.KindOf(err) != errs.NotImplemented {
			t.Fatalf("%q: Compile: %v", src, err)
		}
		return
	}
	if n := strings.Count(sql, "?"); n != len(args) {
		t.Fatalf("%q: %d markers for %d parameters in %s", src, n, len(args), sql)
	}
}

var wqlSeeds = []string{
	"SELECT * FROM SMS_TaskSequencePackage",
	"SELECT Name, PackageID FROM SMS_TaskSequencePackage WHERE Name LIKE 'Win%' AND PkgFlags >= 16",
	`SELECT * FROM SMS_TaskSequencePackage WHERE Name = 'O\'Brien' OR Name = "say \"hi\"" OR Name = 'C:\\x'`,
	"SELECT * FROM SMS_TaskSequencePackage WHERE SourceDate > '20240102030405.000000+000'",
	"SELECT * FROM SMS_TaskSequencePackage WHERE NOT (Description IS NULL OR Description IS NOT NULL)",
	"SELECT * FROM SMS_TaskSequencePackage WHERE __CLASS ISA 'SMS_PackageBaseclass'",
	"SELECT * FROM SMS_TaskSequencePackage WHERE Name NOT LIKE '%[0-9][^a-f]%' AND PkgFlags IN (1, 2.5, -3)",
	"SELECT * FROM SMS_TaskSequencePackage WHERE ForcedDisconnectEnabled = TRUE AND Name <> NULL",
	"SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage'",
	"ASSOCIATORS OF {SMS_TaskSequencePackage.PackageID='PS100001'}",
	"SELECT * FROM X WHERE ((A = 1) AND (B != 2)) OR C <= 3.5e2",
}

// FuzzWQL: every input is an error with a position, or a statement whose
// condition prints, reads back the same from its printed form, and checks
// and compiles without a panic.
func FuzzWQL(f *testing.F) {
	for _, s := range wqlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := query.ParseWQL(src)
		if err != nil {
			checkError(t, src, err, errs.Invalid, errs.NotImplemented)
			return
		}
		if st.Class == "" || st.ClassPos < 0 || st.ClassPos >= len(src) {
			t.Fatalf("%q: class %q at %d", src, st.Class, st.ClassPos)
		}
		if st.Where == nil {
			return
		}
		printed := show(st.Where, false)
		text := "SELECT * FROM X WHERE " + wqlText(st.Where)
		again, err := query.ParseWQL(text)
		if err != nil {
			t.Fatalf("%q printed as %q: %v", src, text, err)
		}
		if got := show(again.Where, false); got != printed {
			t.Fatalf("%q reads back differently:\n %s\n %s", src, printed, got)
		}
		checkAndCompile(t, src, st.Where)
	})
}

// FuzzODataFilter: every input is an error with a position, or an
// expression that prints and checks and compiles without a panic.
func FuzzODataFilter(f *testing.F) {
	for _, s := range []string{
		"Name eq 'x'",
		"startswith(Name,'Win') eq true and PkgFlags ge 16",
		"contains(tolower(Name), 'win') or length(Name) lt 5",
		"Name in ('a','b') and not (Description eq null)",
		"SourceDate gt 2024-05-01T00:00:00Z",
		"substring(Name, 1, 2) eq 'in' and indexof(Name, 'x') ne -1",
		"PkgFlags eq 1.0 or PkgFlags lt -2.5e3",
		"endswith(Name, Description)",
		"endswith(Name, substring(Description, 1)) or startswith(Name, substring(Description, 2, 3))",
		"substring(Name, 1) in ('a', null)",
		"substring(Name, 1) in ('a', 'b') and tolower(substring(Name, 2)) in (null)",
		"Name eq 'it''s'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := query.ParseFilter(src)
		if err != nil {
			checkError(t, src, err, errs.Invalid)
			return
		}
		_ = show(e, true)
		checkAndCompile(t, src, e)
	})
}

// TestWQLSeedsParse keeps the seeds meaningful: the data queries among
// them parse.
func TestWQLSeedsParse(t *testing.T) {
	for _, s := range wqlSeeds {
		_, err := query.ParseWQL(s)
		if err != nil && errs.KindOf(err) != errs.NotImplemented {
			t.Errorf("seed %q: %v", s, err)
		}
	}
}
