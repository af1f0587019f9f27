package storetest

import (
	"fmt"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// newPkg returns a package with only its key and name set.
func (e *env) newPkg(id, name string) *cim.Instance {
	in := cim.NewInstance(e.pkg)
	in.Set("PackageID", id)
	in.Set("Name", name)
	return in
}

// object returns an embedded instance of the named class.
func (e *env) object(t *testing.T, class string, vals map[string]any) *cim.Instance {
	t.Helper()
	c, ok := e.reg.Class(class)
	if !ok {
		t.Fatalf("schema: no class %s", class)
	}
	in := cim.NewInstance(c)
	for k, v := range vals {
		in.Set(k, v)
	}
	return in
}

// dmtf parses a DMTF DateTime that the test spells out.
func dmtf(t *testing.T, s string) cim.DateTimeValue {
	t.Helper()
	d, err := cim.ParseDMTF(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fullPkg returns a package that holds every kind of value the contract
// stores: booleans, integers (up to the UInt32 maximum), strings with
// non-ASCII text and the empty string, DateTimes in UTC, with an offset
// and with an unknown zone, bytes (empty too), arrays of strings (empty
// too), arrays of embedded objects of abstract-based and plain classes, a
// null given explicitly, in the row, apart and lazy, and apart and not
// lazy (Icon).
func (e *env) fullPkg(t *testing.T, id string) *cim.Instance {
	t.Helper()
	in := cim.NewInstance(e.pkg)
	set := func(name string, v any) { in.Set(name, v) }
	set("PackageID", id)
	set("Name", "Déploiement Windows 11 ✓ 日本語 🚀")
	set("Description", "")
	set("ForcedDisconnectEnabled", true)
	set("IgnoreAddressSchedule", false)
	set("ForcedDisconnectDelay", int64(5))
	set("PkgFlags", int64(1<<24|1<<30))
	set("SourceSize", int64(1<<32-1))
	set("ProgramFlags", int64(152084496))
	set("SourceDate", dmtf(t, "20240305101112.123456+000"))
	set("LastRefreshTime", dmtf(t, "20231231233000.000001+060"))
	set("SecuredScopeNames", []any{"Default", "Scope ✓ ünï"})
	set("LocalizedCategoryInstanceNames", []any{})
	set("Icon", []byte{0, 1, 2, 0xfe, 0xff})
	set("TsEnabled", true)
	set("IsVersionCompatible", nil)
	// Stored apart and lazy.
	set("Sequence", `<sequence version="3.00"><step name="Étape ✓" type="SMS_TaskSequence_RunCommandLineAction"/></sequence>`)
	set("Category", "Deploy")
	set("BootImageID", nil)
	set("ExtendedData", []byte("<xml>extended</xml>"))
	set("ISVData", []byte{})
	set("AlternateContentProviders", "<Providers/>")
	set("TaskSequenceFlags", int64(1))
	set("RefreshPkgSourceFlag", false)
	set("Type", int64(2))
	set("RefreshSchedule", []any{
		e.object(t, "SMS_ST_RecurInterval", map[string]any{
			"DaySpan": int64(1), "HourSpan": int64(0), "MinuteSpan": int64(30),
			"IsGMT": false, "StartTime": dmtf(t, "19700201000000.000000+***"),
		}),
		e.object(t, "SMS_ST_NonRecurring", map[string]any{
			"IsGMT": true, "DayDuration": int64(0), "StartTime": dmtf(t, "20250101080000.000000-300"),
		}),
	})
	set("SupportedOperatingSystems", []any{
		e.object(t, "SMS_OS_Details", map[string]any{
			"Name": "Win NT", "Platform": "x64", "MinVersion": "10.00.0000.0", "MaxVersion": "10.00.9999.9999",
		}),
		e.object(t, "SMS_OS_Details", map[string]any{"Name": "Win NT", "Platform": nil}),
	})
	set("References", []any{
		e.object(t, "SMS_TaskSequence_Reference", map[string]any{"Package": "PS100002", "Type": int64(0)}),
		e.object(t, "SMS_TaskSequence_Reference", map[string]any{"Package": "Application_1", "Program": "", "Type": int64(1)}),
	})
	return in
}

// Property groups of a class.
func rowProps(c *cim.Class) []*cim.Property { return store.Columns(c) }

func lazyProps(c *cim.Class) []*cim.Property {
	var ps []*cim.Property
	for _, p := range c.Properties {
		if p.IsLazy() {
			ps = append(ps, p)
		}
	}
	return ps
}

// largeProps: stored apart but not lazy (Icon).
func largeProps(c *cim.Class) []*cim.Property {
	var ps []*cim.Property
	for _, p := range store.ApartProperties(c) {
		if !p.IsLazy() {
			ps = append(ps, p)
		}
	}
	return ps
}

// checkProps reports each property of props that got lacks or holds with a
// value other than want's (a property absent from want counts as nil).
func checkProps(t *testing.T, what string, got, want *cim.Instance, props []*cim.Property) {
	t.Helper()
	for _, p := range props {
		g, ok := got.Values[p.Name]
		if !ok {
			t.Errorf("%s: %s absent, want %s", what, p.Name, show(want.Values[p.Name]))
			continue
		}
		if w := want.Values[p.Name]; !cim.Equal(g, w) {
			t.Errorf("%s: %s = %s, want %s", what, p.Name, show(g), show(w))
		}
	}
}

// checkAbsent reports each property of props that got holds.
func checkAbsent(t *testing.T, what string, got *cim.Instance, props []*cim.Property) {
	t.Helper()
	for _, p := range props {
		if v, ok := got.Values[p.Name]; ok {
			t.Errorf("%s: lazy %s present (%s), want absent", what, p.Name, show(v))
		}
	}
}

// show renders a value for a failure message, embedded objects included.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case cim.DateTimeValue:
		return x.DMTF()
	case []any:
		s := "["
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += show(e)
		}
		return s + "]"
	case *cim.Instance:
		s := x.Class.Name + "{"
		first := true
		for _, p := range x.Class.Properties {
			if v, ok := x.Values[p.Name]; ok {
				if !first {
					s += ", "
				}
				first = false
				s += p.Name + ": " + show(v)
			}
		}
		return s + "}"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%#v", v)
}

// ids returns the PackageIDs of recs, in order.
func ids(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Instance.String("PackageID")
	}
	return out
}
