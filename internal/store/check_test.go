package store_test

import (
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

func pkgClass(t *testing.T) (*cim.Registry, *cim.Class) {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		t.Fatal("no SMS_TaskSequencePackage")
	}
	return reg, c
}

func TestEventsLimit(t *testing.T) {
	for _, tc := range []struct {
		after  int64
		limit  int
		want   int
		target string // of the errs.Invalid error; "" for none
	}{
		{0, 0, store.MaxEventsPage, ""},
		{5, 10, 10, ""},
		{0, store.MaxEventsPage + 1, store.MaxEventsPage, ""},
		{-1, 10, 0, "after"},
		{0, -1, 0, "limit"},
	} {
		got, err := store.EventsLimit(tc.after, tc.limit)
		if tc.target != "" {
			if !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != tc.target {
				t.Errorf("EventsLimit(%d, %d): %v, want errs.Invalid naming %s", tc.after, tc.limit, err, tc.target)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EventsLimit(%d, %d) = %d, %v; want %d", tc.after, tc.limit, got, err, tc.want)
		}
	}
}

func TestCheckList(t *testing.T) {
	_, c := pkgClass(t)
	for _, tc := range []struct {
		name   string
		opts   store.ListOptions
		target string // of the errs.Invalid error; "" for none
	}{
		{"none", store.ListOptions{}, ""},
		{"by name", store.ListOptions{OrderBy: []store.Order{{Property: "name", Desc: true}}}, ""},
		{"unknown", store.ListOptions{OrderBy: []store.Order{{Property: "NoSuch"}}}, "NoSuch"},
		{"lazy", store.ListOptions{OrderBy: []store.Order{{Property: "Sequence"}}}, "Sequence"},
		{"offset", store.ListOptions{Offset: -1}, "Offset"},
		{"limit", store.ListOptions{Limit: -1}, "Limit"},
	} {
		props, err := store.CheckList(c, tc.opts)
		if tc.target != "" {
			if !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != tc.target {
				t.Errorf("%s: %v, want errs.Invalid naming %s", tc.name, err, tc.target)
			}
			continue
		}
		if err != nil || len(props) != len(tc.opts.OrderBy) {
			t.Errorf("%s: %v, %v", tc.name, props, err)
		}
	}
}

func TestCheckInstance(t *testing.T) {
	_, c := pkgClass(t)
	ok := cim.NewInstance(c)
	ok.Set("PackageID", "PS100001")
	if err := store.CheckInstance(c, ok); err != nil {
		t.Errorf("valid instance: %v", err)
	}
	noKey := cim.NewInstance(c)
	noKey.Set("Name", "x")
	if err := store.CheckInstance(c, noKey); !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != "PackageID" {
		t.Errorf("null key: %v", err)
	}
	badName := cim.NewInstance(c)
	badName.Set("PackageID", "PS100001")
	badName.Values["name"] = "x" // not as the class spells it
	if err := store.CheckInstance(c, badName); !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != "name" {
		t.Errorf("misspelt property: %v", err)
	}
}

// TestColumnRoundTrip: what ToColumn gives, FromColumn reads back equal,
// for one row property of each kind the class has.
func TestColumnRoundTrip(t *testing.T) {
	reg, c := pkgClass(t)
	sample := func(ty cim.Type) any {
		switch {
		case ty.Array && ty.Kind == cim.String:
			return []any{"a", "b"}
		case ty.Array || ty.Kind == cim.Object:
			return nil
		case ty.Kind == cim.Boolean:
			return true
		case ty.Kind.IsInteger():
			return int64(7)
		case ty.Kind == cim.Real32 || ty.Kind == cim.Real64:
			return 1.5
		case ty.Kind == cim.String || ty.Kind == cim.Char16:
			return "x"
		case ty.Kind == cim.DateTime:
			return mustDMTF(t, "20240102030405.000000+060")
		}
		return nil
	}
	seen := map[string]bool{}
	for _, p := range store.Columns(c) {
		v := sample(p.Type)
		if v == nil || seen[p.Type.String()] {
			continue
		}
		seen[p.Type.String()] = true
		col, err := store.ToColumn(c, p, v)
		if err != nil {
			t.Errorf("ToColumn(%s): %v", p.Name, err)
			continue
		}
		back, err := store.FromColumn(reg, c, p, col)
		if err != nil || !cim.Equal(back, v) {
			t.Errorf("%s: %v -> %#v -> %v, %v", p.Name, v, col, back, err)
		}
		if _, err := store.ToColumn(c, p, struct{}{}); !errs.Is(err, errs.Invalid) {
			t.Errorf("ToColumn(%s, struct{}{}): %v, want errs.Invalid", p.Name, err)
		}
		if _, err := store.FromColumn(reg, c, p, struct{}{}); !errs.Is(err, errs.Internal) {
			t.Errorf("FromColumn(%s, struct{}{}): %v, want errs.Internal", p.Name, err)
		}
	}
	if len(seen) < 4 {
		t.Errorf("only %d kinds tried: %v", len(seen), seen)
	}
}
