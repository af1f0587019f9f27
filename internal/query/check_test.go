package query_test

import (
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// TestCheckRefusesText: a string constant that no store keeps (a NUL
// character, bytes that are not UTF-8) is refused by Check wherever it
// stands, with its position, so that SQLite and PostgreSQL answer a query
// alike (SQLite would compare with it, PostgreSQL refuses it).
func TestCheckRefusesText(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	for _, c := range []struct{ filter, want string }{
		{"Name eq 'a\x00b'", "at position 9: a string may not hold a NUL character (U+0000); this one does at byte 1"},
		{"Name eq 'caf\xe9'", "at position 9: a string must be valid UTF-8; this one is not at byte 3"},
		{"Name in ('a', '\x00')", "at position 15: a string may not hold a NUL"},
		{"contains(Name, '\x00')", "at position 16: a string may not hold a NUL"},
		{"startswith(Name, 'a\xff')", "at position 18: a string must be valid UTF-8"},
		{"tolower(Name) eq '\x00'", "a string may not hold a NUL"},
	} {
		e, err := query.ParseFilter(c.filter)
		if err == nil {
			err = query.Check(e, pkg, store.Searchable)
		}
		if errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != "$filter" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want kind Invalid naming $filter and saying %q", c.filter, err, c.want)
		}
	}
	e, err := query.ParseFilter("Name eq 'tab\there ✓'")
	if err == nil {
		err = query.Check(e, pkg, store.Searchable)
	}
	if err != nil {
		t.Errorf("a constant with a tab: %v", err)
	}
}
