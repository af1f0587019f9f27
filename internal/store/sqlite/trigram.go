package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// The substring index. A filter that needs the indexed property
// (sqlstore.IndexedProperty) to contain a string — contains(Name,'x'), a LIKE
// '%x%' — cannot use the B-tree index and would read the whole table. So
// that property also gets a full-text table with the trigram tokenizer,
// holding its folded value (lower(), which is query.Fold here) under the
// class row's rowid; triggers keep it in step with every insert, update
// and delete. A filter whose required substrings (query.RequiredSubstrings)
// include one of three or more characters, and none that an ordered index
// answers (equality, a prefix), first narrows the rows to those
// whose folded value contains it (a GLOB the trigram index answers), then
// tests the filter itself, so the result is exactly the filter's.
//
// The rowid ties the two tables: VACUUM run by another tool may renumber a
// table's rowids; tsprov never does.

// minTrigramRunes is the shortest substring the trigram index can find.
const minTrigramRunes = 3

// maxTrigramTerms bounds the substrings one filter narrows by.
const maxTrigramTerms = 3

// trigramTable names the substring index of t's indexed property.
func trigramTable(t *table) string {
	return sqlstore.Quote(sqlstore.ReservedPrefix + "trigram_" + t.Class.Name + "_" + sqlstore.IndexedProperty)
}

// createTrigram creates the substring index of t's indexed property and
// its triggers, and fills it from the rows already stored, when it does
// not exist yet.
func createTrigram(ctx context.Context, tx *sql.Tx, t *table) error {
	if t.trigram == nil {
		return nil
	}
	name := sqlstore.ReservedPrefix + "trigram_" + t.Class.Name + "_" + sqlstore.IndexedProperty
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("look for the substring index of %s: %w", t.Class.Name, err)
	}
	if n > 0 {
		return nil
	}
	fts, col := trigramTable(t), sqlstore.Quote(t.trigram.Name)
	trig := func(event string) string { return sqlstore.Quote(name + "_" + event) }
	stmts := []string{
		"CREATE VIRTUAL TABLE " + fts + " USING fts5(v, tokenize = 'trigram case_sensitive 1', detail = 'none')",
		"INSERT INTO " + fts + " (rowid, v) SELECT rowid, lower(" + col + ") FROM " + t.ident + " WHERE " + col + " IS NOT NULL",
		"CREATE TRIGGER " + trig("insert") + " AFTER INSERT ON " + t.ident + " WHEN new." + col + " IS NOT NULL BEGIN " +
			"INSERT INTO " + fts + " (rowid, v) VALUES (new.rowid, lower(new." + col + ")); END",
		"CREATE TRIGGER " + trig("delete") + " AFTER DELETE ON " + t.ident + " BEGIN " +
			"DELETE FROM " + fts + " WHERE rowid = old.rowid; END",
		"CREATE TRIGGER " + trig("update") + " AFTER UPDATE OF " + col + " ON " + t.ident + " BEGIN " +
			"DELETE FROM " + fts + " WHERE rowid = old.rowid; " +
			"INSERT INTO " + fts + " (rowid, v) SELECT new.rowid, lower(new." + col + ") WHERE new." + col + " IS NOT NULL; END",
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create the substring index of %s.%s: %w", t.Class.Name, t.trigram.Name, err)
		}
	}
	return nil
}

// trigramFilter returns the conditions (on alias t) that narrow filter's
// candidates through the substring index, and their parameters; nothing
// when the filter needs no substring of three or more characters.
func (t *table) trigramFilter(filter query.Expr) (string, []any) {
	if t.trigram == nil || filter == nil {
		return "", nil
	}
	subs := query.RequiredSubstrings(filter, t.trigram)
	for _, s := range subs {
		if s.Anchored {
			return "", nil // the B-tree index of the column answers it better
		}
	}
	var conds []string
	var args []any
	for _, s := range subs {
		if utf8.RuneCountInString(s.Text) < minTrigramRunes || len(conds) == maxTrigramTerms {
			continue
		}
		conds = append(conds, "t.rowid IN (SELECT rowid FROM "+trigramTable(t)+" WHERE v GLOB ?)")
		args = append(args, "*"+globEscape(s.Text)+"*")
	}
	return strings.Join(conds, " AND "), args
}

// globEscape makes every character of s match itself in a GLOB pattern.
func globEscape(s string) string {
	return strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]").Replace(s)
}

// trigramProperty is the property of t's class that gets a substring
// index: the indexed property, when it is a string row column.
func trigramProperty(t *table) {
	p, ok := t.Class.Property(sqlstore.IndexedProperty)
	if ok && store.Searchable(p) && p.Type.Kind == cim.String {
		t.trigram = p
	}
}
