package cim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
)

const jsonMOF = `
[Abstract, Embedded] class Token { datetime StartTime; };
[Embedded] class Daily : Token { [Range("0-31")] uint32 Days = 0; };
class Thing
{
    [key] string ID;
    uint32 Count;
    sint32 Delta;
    boolean On;
    real64 Ratio;
    uint8 Icon[];
    string Names[];
    datetime When;
    Token Schedules[];
};
`

func TestDecodeObjectTypes(t *testing.T) {
	reg := loadTest(t, jsonMOF)
	c, _ := reg.Class("Thing")
	in, err := reg.DecodeObject(c, json.RawMessage(`{
		"@odata.etag": "x", "__CLASS": "Thing",
		"ID": "a", "Count": 4294967295, "Delta": -5, "On": true, "Ratio": 0.5,
		"Icon": "AAEC", "Names": ["x", "ÿ"], "When": "2024-01-02T03:04:05.5+01:00",
		"Schedules": [{"@odata.type": "#AdminService.Daily", "Days": 3, "StartTime": "19700201000000.000000+***"}]
	}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if in.Int("Count") != 4294967295 || in.Int("Delta") != -5 {
		t.Errorf("integers %v %v", in.Values["Count"], in.Values["Delta"])
	}
	if b := in.Values["Icon"].([]byte); len(b) != 3 || b[2] != 2 {
		t.Errorf("Icon %v", b)
	}
	when := in.Values["When"].(DateTimeValue)
	if when.DMTF() != "20240102030405.500000+060" {
		t.Errorf("When %s", when.DMTF())
	}
	sched := in.Values["Schedules"].([]any)[0].(*Instance)
	if sched.Class.Name != "Daily" || sched.Int("Days") != 3 {
		t.Errorf("schedule %+v", sched)
	}
	// encode and decode again: same values
	enc := NewObject()
	for _, p := range c.Properties {
		enc.Set(p.Name, JSONValue(p.Type, in.Values[p.Name]))
	}
	raw, err := json.Marshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := reg.DecodeObject(c, raw, "")
	if err != nil {
		t.Fatalf("decode encoded: %v\n%s", err, raw)
	}
	for _, p := range c.Properties {
		if p.Name == "Schedules" {
			continue // StartTime's "***" mark is not representable in ISO 8601
		}
		if !Equal(in.Values[p.Name], back.Values[p.Name]) {
			t.Errorf("%s: %#v became %#v", p.Name, in.Values[p.Name], back.Values[p.Name])
		}
	}
	if !strings.Contains(string(raw), `"@odata.type":"#AdminService.Daily"`) {
		t.Errorf("embedded object lacks @odata.type: %s", raw)
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	reg := loadTest(t, jsonMOF)
	c, _ := reg.Class("Thing")
	cases := []struct {
		body, target, want string
	}{
		{`{"Nope": 1}`, "Nope", "unknown property"},
		{`{"Count": "4"}`, "Count", "expected an integer"},
		{`{"Count": -1}`, "Count", "outside the UInt32 range"},
		{`{"Count": 4294967296}`, "Count", "outside the UInt32 range"},
		{`{"Count": 1.5}`, "Count", "expected an integer"},
		{`{"On": "yes"}`, "On", "expected a boolean"},
		{`{"Icon": "***"}`, "Icon", "base64"},
		{`{"Names": "x"}`, "Names", "JSON array"},
		{`{"Names": [null]}`, "Names", "null"},
		{`{"When": "yesterday"}`, "When", "ISO 8601"},
		{`{"Schedules": [{"Days": 1}]}`, "Schedules[0]", "abstract"},
		{`{"Schedules": [{"@odata.type": "#AdminService.Thing"}]}`, "Schedules[0]", "is not a Token"},
		{`{"Schedules": [{"@odata.type": "#AdminService.Daily", "Days": true}]}`, "Schedules[0].Days", "expected an integer"},
		{`[1]`, "", "expected a JSON object"},
		{`{"Count": 1, "count": 2}`, "Count", "given twice"},
		{`{"Schedules": [{"@odata.type": "#AdminService.Daily", "Days": 1, "DAYS": 2}]}`, "Schedules[0].Days", "given twice"},
	}
	for _, tc := range cases {
		_, err := reg.DecodeObject(c, json.RawMessage(tc.body), "")
		if err == nil {
			t.Errorf("%s: no error", tc.body)
			continue
		}
		if errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != tc.target || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v (kind %v, target %q), want Invalid, target %q, mentioning %q", tc.body, err, errs.KindOf(err), errs.TargetOf(err), tc.target, tc.want)
		}
	}
}

func TestDateTimeForms(t *testing.T) {
	cases := []struct{ in, dmtf, iso string }{
		{"20261123222749.123456+000", "20261123222749.123456+000", "2026-11-23T22:27:49.123456Z"},
		{"20261123222749.000000-300", "20261123222749.000000-300", "2026-11-23T22:27:49-05:00"},
		{"2026-11-23T22:27:49Z", "20261123222749.000000+000", "2026-11-23T22:27:49Z"},
		{"2026-11-23T22:27+01:00", "20261123222700.000000+060", "2026-11-23T22:27:00+01:00"},
		{"19700201000000.000000+***", "19700201000000.000000+***", "1970-02-01T00:00:00Z"},
	}
	for _, tc := range cases {
		d, err := ParseDateTime(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if d.DMTF() != tc.dmtf || d.ISO() != tc.iso {
			t.Errorf("%s: DMTF %s ISO %s, want %s %s", tc.in, d.DMTF(), d.ISO(), tc.dmtf, tc.iso)
		}
	}
	for _, bad := range []string{"20261323000000.000000+000", "2026112322274.000000+000", "tomorrow", "20261123222749.000000+0a0"} {
		if _, err := ParseDateTime(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestJSONObjectWritesValidJSON(t *testing.T) {
	o := NewObject()
	o.Set("s", "a\"b\\c\n\r\t\x01<x>&é\u2028")
	inner := NewObject()
	inner.Set("n", int64(5))
	o.Set("list", []any{inner, nil, "x", true, 1.5})
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if back["s"] != "a\"b\\c\n\r\t\x01<x>&é\u2028" {
		t.Errorf("string changed: %q", back["s"])
	}
	if !strings.Contains(string(b), "<x>&") {
		t.Errorf("< > & escaped needlessly: %s", b)
	}
}

// The members an entity is built of are written as encoding/json writes
// them, without going through it.
func TestObjectJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, 0, 2, -7, int64(4294967295), int64(-9223372036854775808), uint64(18446744073709551615),
		"plain", "quote \" and \\ and \n\t\r and \x01", "Zürich ✓", "",
		[]string{"a", "B c"}, []string{}, []string(nil), 0.5, 1e21, []any{int64(1), "x", nil, true},
	}
	for _, v := range values {
		o := NewObjectSize(1)
		o.Set("@odata.member", v)
		got, err := o.MarshalJSON()
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		want, _ := json.Marshal(map[string]any{"@odata.member": v})
		if string(got) != string(want) {
			t.Errorf("%#v: wrote %s, want %s", v, got, want)
		}
	}
}
