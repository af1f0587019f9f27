package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// listCase is one List and the PackageIDs it must give, in order.
type listCase struct {
	name string
	opts store.ListOptions
	want []string
}

func (e *env) checkLists(t *testing.T, cases []listCase) {
	t.Helper()
	for _, c := range cases {
		if got := ids(e.list(t, c.opts)); !slices.Equal(got, c.want) {
			t.Errorf("%s: List(%+v) = %v, want %v", c.name, c.opts, got, c.want)
		}
	}
}

// testListOrder: without OrderBy the order is by key; OrderBy sorts by the
// named properties in turn, ascending or descending, names matched without
// regard to case.
func testListOrder(t *testing.T, e *env) {
	add := func(id, name string, duration int64, enabled bool) {
		in := e.newPkg(id, name)
		in.Set("Duration", duration)
		in.Set("TsEnabled", enabled)
		e.insert(t, in)
	}
	add("PS100003", "c", 10, true)
	add("PS100001", "e", 30, false)
	add("PS100005", "a", 20, true)
	add("PS100002", "d", 10, false)
	add("PS100004", "b", 30, true)
	o := func(orders ...store.Order) store.ListOptions { return store.ListOptions{OrderBy: orders} }
	e.checkLists(t, []listCase{
		{"by key", o(), []string{"PS100001", "PS100002", "PS100003", "PS100004", "PS100005"}},
		{"by Name", o(store.Order{Property: "Name"}), []string{"PS100005", "PS100004", "PS100003", "PS100002", "PS100001"}},
		{"by name (lower case)", o(store.Order{Property: "name"}), []string{"PS100005", "PS100004", "PS100003", "PS100002", "PS100001"}},
		{"by Name desc", o(store.Order{Property: "Name", Desc: true}), []string{"PS100001", "PS100002", "PS100003", "PS100004", "PS100005"}},
		{"by PackageID desc", o(store.Order{Property: "PackageID", Desc: true}), []string{"PS100005", "PS100004", "PS100003", "PS100002", "PS100001"}},
		{"by Duration desc, Name", o(store.Order{Property: "Duration", Desc: true}, store.Order{Property: "Name"}),
			[]string{"PS100004", "PS100001", "PS100005", "PS100003", "PS100002"}},
		{"by TsEnabled, Duration", o(store.Order{Property: "TsEnabled"}, store.Order{Property: "Duration"}),
			[]string{"PS100002", "PS100001", "PS100003", "PS100005", "PS100004"}},
	})
}

// testListPages: Offset skips, Limit caps (0: no cap); a page past the
// end is empty, not an error.
func testListPages(t *testing.T, e *env) {
	for _, id := range []string{"PS100004", "PS100002", "PS100005", "PS100001", "PS100003"} {
		e.insert(t, e.newPkg(id, id))
	}
	byName := []store.Order{{Property: "Name"}}
	e.checkLists(t, []listCase{
		{"limit", store.ListOptions{OrderBy: byName, Limit: 2}, []string{"PS100001", "PS100002"}},
		{"offset and limit", store.ListOptions{OrderBy: byName, Offset: 2, Limit: 2}, []string{"PS100003", "PS100004"}},
		{"last page", store.ListOptions{OrderBy: byName, Offset: 4, Limit: 2}, []string{"PS100005"}},
		{"offset only", store.ListOptions{OrderBy: byName, Offset: 3}, []string{"PS100004", "PS100005"}},
		{"past the end", store.ListOptions{OrderBy: byName, Offset: 5, Limit: 2}, []string{}},
		{"limit above count", store.ListOptions{Limit: 100}, []string{"PS100001", "PS100002", "PS100003", "PS100004", "PS100005"}},
	})
}

// testListInvalid: ordering by a property the class lacks, or by one that
// is not sortable (lazy, large, array), is errs.Invalid naming that
// property; so is a negative Offset or Limit (naming the option).
func testListInvalid(t *testing.T, e *env) {
	e.insert(t, e.newPkg("PS100001", "a"))
	for _, c := range []struct {
		opts   store.ListOptions
		target string
	}{
		{store.ListOptions{OrderBy: []store.Order{{Property: "NoSuchProperty"}}}, "NoSuchProperty"},
		{store.ListOptions{OrderBy: []store.Order{{Property: "Name"}, {Property: "Nope", Desc: true}}}, "Nope"},
		{store.ListOptions{OrderBy: []store.Order{{Property: "Sequence"}}}, "Sequence"},                   // lazy
		{store.ListOptions{OrderBy: []store.Order{{Property: "Icon"}}}, "Icon"},                           // large
		{store.ListOptions{OrderBy: []store.Order{{Property: "SecuredScopeNames"}}}, "SecuredScopeNames"}, // array
		{store.ListOptions{OrderBy: []store.Order{{Property: "RefreshSchedule"}}}, "RefreshSchedule"},     // objects
		{store.ListOptions{Offset: -1}, "Offset"},
		{store.ListOptions{Limit: -1}, "Limit"},
	} {
		recs, err := e.tryList(t, c.opts)
		wantKind(t, "List("+c.target+")", err, errs.Invalid, c.target)
		if recs != nil {
			t.Errorf("List(%s): records alongside the error", c.target)
		}
	}
}

// testListIgnoresCase: strings order as ConfigMgr compares them, without
// regard to case (byte order would give BRAVO, Delta, alpha, charlie).
func testListIgnoresCase(t *testing.T, e *env) {
	for id, name := range map[string]string{"PS100001": "Delta", "PS100002": "alpha", "PS100003": "charlie", "PS100004": "BRAVO"} {
		e.insert(t, e.newPkg(id, name))
	}
	e.checkLists(t, []listCase{
		{"by Name", store.ListOptions{OrderBy: []store.Order{{Property: "Name"}}}, []string{"PS100002", "PS100004", "PS100003", "PS100001"}},
		{"by Name desc", store.ListOptions{OrderBy: []store.Order{{Property: "Name", Desc: true}}}, []string{"PS100001", "PS100003", "PS100004", "PS100002"}},
	})
}

// testListDateTime: DateTimes order by the instant they denote, whatever
// offset they were written with.
func testListDateTime(t *testing.T, e *env) {
	for id, when := range map[string]string{
		"PS100001": "20240101100000.000000+060", // 09:00 UTC
		"PS100002": "20240101093000.000000+000", // 09:30 UTC
		"PS100003": "20240101080000.000000-120", // 10:00 UTC
		"PS100004": "20231231235959.999999-600", // 09:59:59.999999 UTC on Jan 1
	} {
		in := e.newPkg(id, id)
		in.Set("SourceDate", dmtf(t, when))
		e.insert(t, in)
	}
	e.checkLists(t, []listCase{
		{"by SourceDate", store.ListOptions{OrderBy: []store.Order{{Property: "SourceDate"}}}, []string{"PS100001", "PS100002", "PS100004", "PS100003"}},
		{"by SourceDate desc", store.ListOptions{OrderBy: []store.Order{{Property: "SourceDate", Desc: true}}}, []string{"PS100003", "PS100004", "PS100002", "PS100001"}},
	})
}

// testListNulls: null sorts before every value ascending and after every
// value descending (the OData $orderby rule, which AdminService clients
// see). The contract leaves this unsaid; the suite fixes it so that every
// backend lists alike.
func testListNulls(t *testing.T, e *env) {
	withVersion := func(id string, v any) {
		in := e.newPkg(id, id)
		in.Set("Version", v)
		e.insert(t, in)
	}
	withVersion("PS100001", "b")
	withVersion("PS100002", nil)
	withVersion("PS100003", "a")
	e.checkLists(t, []listCase{
		{"by Version", store.ListOptions{OrderBy: []store.Order{{Property: "Version"}}}, []string{"PS100002", "PS100003", "PS100001"}},
		{"by Version desc", store.ListOptions{OrderBy: []store.Order{{Property: "Version", Desc: true}}}, []string{"PS100001", "PS100003", "PS100002"}},
	})
}

// testListAfter: walking a list page by page with After (each page
// starting after the last instance of the one before) gives the whole
// list in its order, for every kind of order: by key, strings without
// regard to case, nulls, repeated values, DateTimes by instant, ascending
// and descending, several properties.
func testListAfter(t *testing.T, e *env) {
	names := []string{"delta", "Alpha", "charlie", "BRAVO", "alpha", "Echo", "delta", "foxtrot", "Golf", "echo", "Hotel", "india"}
	versions := []any{"2", nil, "1", "2", nil, "10", "1", nil, "3", "2", "1", nil}
	dates := []any{"20240101100000.000000+060", nil, "20240101093000.000000+000", "20240101080000.000000-120", nil,
		"20240101100000.000000+060", "20231231235959.999999-600", "20240101090000.000000+000", nil, "20240101093000.000000+000",
		"20250101000000.000000+000", "20240101090000.000000+000"}
	for i, name := range names {
		in := e.newPkg(fmt.Sprintf("PS1%05d", 12-i), name)
		in.Set("Version", versions[i])
		in.Set("Duration", int64(i%3*10))
		if d, ok := dates[i].(string); ok {
			in.Set("SourceDate", dmtf(t, d))
		}
		e.insert(t, in)
	}
	for _, orders := range [][]store.Order{
		nil,
		{{Property: "Name"}},
		{{Property: "Name", Desc: true}},
		{{Property: "Version"}},
		{{Property: "Version", Desc: true}},
		{{Property: "Duration", Desc: true}, {Property: "Name"}},
		{{Property: "Version"}, {Property: "Duration", Desc: true}},
		{{Property: "SourceDate"}},
		{{Property: "SourceDate", Desc: true}},
		{{Property: "Version", Desc: true}, {Property: "SourceDate"}, {Property: "Name", Desc: true}},
	} {
		want := ids(e.list(t, store.ListOptions{OrderBy: orders}))
		for _, limit := range []int{1, 3, 5} {
			var got []string
			var after *store.Position
			for page := 0; page <= len(names); page++ {
				recs := e.list(t, store.ListOptions{OrderBy: orders, After: after, Limit: limit})
				got = append(got, ids(recs)...)
				if len(recs) < limit {
					break
				}
				last := recs[len(recs)-1].Instance
				after = &store.Position{Key: last.Key()}
				for _, o := range orders {
					after.Values = append(after.Values, last.Values[o.Property])
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("order %v, pages of %d through After: %v, want %v", orders, limit, got, want)
			}
		}
	}
	_, err := e.tryList(t, store.ListOptions{OrderBy: []store.Order{{Property: "Name"}}, After: &store.Position{Key: "PS100001"}})
	wantKind(t, "List with a position that lacks the order's value", err, errs.Invalid, "After")
}
