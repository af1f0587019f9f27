package sqlstore

import (
	"errors"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// fakeRows serves rows of values to Scan, as a driver's rows do.
type fakeRows struct {
	rows [][]any
	i    int
	err  error
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.rows) }

func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	if len(row) != len(dest) {
		return errors.New("wrong column count")
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			*d = row[i].(string)
		case *int64:
			*d = row[i].(int64)
		case *bool:
			*d = row[i].(bool)
		default:
			return errors.New("unexpected destination")
		}
	}
	return nil
}

func (r *fakeRows) Err() error { return r.err }

func TestScanCounters(t *testing.T) {
	got, err := ScanCounters(&fakeRows{rows: [][]any{{"a", int64(1)}, {"b", int64(7)}}})
	if err != nil || len(got) != 2 || got["a"] != 1 || got["b"] != 7 {
		t.Errorf("ScanCounters = %v, %v", got, err)
	}
	empty, err := ScanCounters(&fakeRows{})
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("ScanCounters(no rows) = %#v, %v; want an empty map", empty, err)
	}
	boom := errors.New("boom")
	if _, err := ScanCounters(&fakeRows{err: boom}); !errors.Is(err, boom) {
		t.Errorf("ScanCounters(failing rows) = %v, want it to wrap %v", err, boom)
	}
}

func TestScanRecorded(t *testing.T) {
	got, err := ScanRecorded(&fakeRows{rows: [][]any{{"C", "P", "String", false}}}, func(s string) string { return s + "!" })
	if err != nil || got["C!"]["P!"] != (Recorded{CIMType: "String", Apart: false}) {
		t.Errorf("ScanRecorded = %v, %v", got, err)
	}
}

func TestGate(t *testing.T) {
	var g Gate
	if err := g.Enter("test"); err != nil {
		t.Fatalf("Enter on an open gate: %v", err)
	}
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	g.Done()
	if !<-closed {
		t.Error("first Close = false, want true")
	}
	if g.Close() {
		t.Error("second Close = true, want false")
	}
	if err := g.Enter("test"); !errs.Is(err, errs.Unavailable) {
		t.Errorf("Enter after Close = %v, want errs.Unavailable", err)
	}
}

func TestCheckNames(t *testing.T) {
	for _, tc := range []struct {
		class, prop string
		maxIdent    int
		target      string // "" for no error
	}{
		{"Thing", "Name", 0, ""},
		{"tsprov_thing", "Name", 0, "tsprov_thing"},
		{"Thing", "_KEY", 0, "Thing._KEY"},
		{"Thing", "_version", 0, "Thing._version"},
		{"Thing", "LongName", 5, "Thing.LongName"},
		{"LongThing", "Name", 5, "LongThing"},
	} {
		c := &cim.Class{Name: tc.class, Properties: []*cim.Property{{Name: tc.prop, Type: cim.Type{Kind: cim.String}}}}
		err := CheckNames(c, tc.maxIdent)
		if tc.target == "" {
			if err != nil {
				t.Errorf("CheckNames(%s.%s, %d) = %v", tc.class, tc.prop, tc.maxIdent, err)
			}
			continue
		}
		if !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != tc.target {
			t.Errorf("CheckNames(%s.%s, %d) = %v, want errs.Invalid naming %s", tc.class, tc.prop, tc.maxIdent, err, tc.target)
		}
	}
}

func TestColumnsValue(t *testing.T) {
	d, err := cim.ParseDMTF("20240102030405.000000+060")
	if err != nil {
		t.Fatal(err)
	}
	p := &cim.Property{Name: "When", Type: cim.Type{Kind: cim.DateTime}}
	if got, want := (Columns{}).Value(p, d), "20240102020405.000000+000"; got != want {
		t.Errorf("Value(DateTime) = %v, want %v", got, want)
	}
	if got := (Columns{}).Column(p); got != `substr(t."When", 1, 25)` {
		t.Errorf("Column(DateTime) = %s", got)
	}
	n := &cim.Property{Name: "N", Type: cim.Type{Kind: cim.UInt32}}
	if got := (Columns{}).Value(n, 1.5); got != 1.5 {
		t.Errorf("Value(UInt32, 1.5) = %v, want it as it is", got)
	}
}
