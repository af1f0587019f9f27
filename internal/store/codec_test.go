package store_test

import (
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

func mustDMTF(t *testing.T, s string) cim.DateTimeValue {
	t.Helper()
	d, err := cim.ParseDMTF(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEncodeJSONRoundTrip: what EncodeJSON writes, DecodeJSON reads back
// equal, DateTime zones and the unknown-zone mark included.
func TestEncodeJSONRoundTrip(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_ST_RecurWeekly")
	token := cim.NewInstance(c)
	token.Set("StartTime", mustDMTF(t, "19700201000000.000000+***"))
	token.Set("Day", int64(3))
	token.Set("IsGMT", nil)
	for _, tc := range []struct {
		name string
		t    cim.Type
		v    any
	}{
		{"null", cim.Type{Kind: cim.String}, nil},
		{"bool", cim.Type{Kind: cim.Boolean}, true},
		{"int", cim.Type{Kind: cim.SInt64}, int64(-1 << 63)},
		{"real", cim.Type{Kind: cim.Real64}, 0.1},
		{"string", cim.Type{Kind: cim.String}, "ünï \"code\" ✓"},
		{"datetime offset", cim.Type{Kind: cim.DateTime}, mustDMTF(t, "20240101120000.000001-300")},
		{"datetime unknown zone", cim.Type{Kind: cim.DateTime}, mustDMTF(t, "20240101120000.000000+***")},
		{"bytes", cim.Type{Kind: cim.UInt8, Array: true}, []byte{0, 255}},
		{"empty bytes", cim.Type{Kind: cim.UInt8, Array: true}, []byte{}},
		{"strings", cim.Type{Kind: cim.String, Array: true}, []any{"a", ""}},
		{"objects", cim.Type{Kind: cim.Object, Class: "SMS_ScheduleToken", Array: true}, []any{token}},
	} {
		b, err := store.EncodeJSON(tc.t, tc.v)
		if err != nil {
			t.Errorf("%s: EncodeJSON: %v", tc.name, err)
			continue
		}
		got, err := store.DecodeJSON(reg, tc.t, b, tc.name)
		if err != nil {
			t.Errorf("%s: DecodeJSON(%s): %v", tc.name, b, err)
			continue
		}
		if !cim.Equal(got, tc.v) {
			t.Errorf("%s: %s read back as %#v, want %#v", tc.name, b, got, tc.v)
		}
	}
	// An absent property of an embedded object stays absent.
	b, _ := store.EncodeJSON(cim.Type{Kind: cim.Object, Class: "SMS_ScheduleToken"}, token)
	got, err := store.DecodeJSON(reg, cim.Type{Kind: cim.Object, Class: "SMS_ScheduleToken"}, b, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*cim.Instance).Values["HourDuration"]; ok {
		t.Errorf("absent HourDuration came back present: %s", b)
	}
}

// TestEncodeJSONRefuses: values that would not read back are errs.Invalid.
func TestEncodeJSONRefuses(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	abstract, _ := reg.Class("SMS_ScheduleToken")
	osd, _ := reg.Class("SMS_OS_Details")
	tokenType := cim.Type{Kind: cim.Object, Class: "SMS_ScheduleToken"}
	for _, tc := range []struct {
		name string
		t    cim.Type
		v    any
	}{
		{"int as int", cim.Type{Kind: cim.UInt32}, 5},
		{"string as bytes", cim.Type{Kind: cim.String}, []byte("x")},
		{"nil element", cim.Type{Kind: cim.String, Array: true}, []any{"a", nil}},
		{"wrong element", cim.Type{Kind: cim.String, Array: true}, []any{int64(1)}},
		{"abstract class", tokenType, cim.NewInstance(abstract)},
		{"unrelated class", tokenType, cim.NewInstance(osd)},
		{"unknown member", cim.Type{Kind: cim.Object, Class: "SMS_OS_Details"}, &cim.Instance{Class: osd, Values: map[string]any{"Bogus": "x"}}},
	} {
		if _, err := store.EncodeJSON(tc.t, tc.v); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want an Invalid error", tc.name, err)
		}
	}
}

// TestDateTimeText: text order is time order, and the text reads back as
// the same instant.
func TestDateTimeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"20240101100000.000000+060", "20240101090000.000000+000"},
		{"20231231235959.999999-600", "20240101095959.999999+000"},
		{"20240101100000.000000+000", "20240101100000.000000+000"},
		{"19700201000000.000000+***", "19700201000000.000000+000*"},
	} {
		d := mustDMTF(t, tc.in)
		got := store.DateTimeText(d)
		if got != tc.want {
			t.Errorf("DateTimeText(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if back, err := store.ParseDateTimeText(got); err != nil || !back.Equal(d) || back.UnknownOffset != d.UnknownOffset {
			t.Errorf("DateTimeText(%s) reads back as %s", tc.in, back.DMTF())
		}
	}
	local := cim.DateTimeValue{Time: time.Date(2024, 6, 1, 12, 0, 0, 0, time.FixedZone("", 2*3600))}
	if got := store.DateTimeText(local); got != "20240601100000.000000+000" {
		t.Errorf("DateTimeText(12:00+02:00) = %s", got)
	}
}
