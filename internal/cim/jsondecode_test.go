package cim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
)

// stringCases are JSON texts whose reading as a string must agree with
// encoding/json's, byte for byte, or be refused as it refuses them.
var stringCases = []string{
	`"plain"`, `""`, `"C:\\Windows\\System32"`, `"a\"b\/c\b\f\n\r\t"`,
	`"\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`,
	"\"caf\xc3\xa9\"", "\"bad \xff byte\"", "\"\xed\xa0\x80\"", `"tab	inside"`,
	`"\x"`, `"\u12"`, `"unterminated`, `"a" "b"`, ` "padded" `, `'single'`, `null`, `1`,
}

func TestDecodeValueReadsStringsAsEncodingJSON(t *testing.T) {
	for _, tc := range stringCases {
		checkStringLikeEncodingJSON(t, []byte(tc))
	}
}

func FuzzDecodeString(f *testing.F) {
	for _, tc := range stringCases {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkStringLikeEncodingJSON(t, raw) })
}

func checkStringLikeEncodingJSON(t *testing.T, raw []byte) {
	t.Helper()
	if ValidJSON(raw) != json.Valid(raw) {
		t.Errorf("%q: ValidJSON says %v, json.Valid %v", raw, ValidJSON(raw), json.Valid(raw))
	}
	reg := &Registry{}
	var want *string
	wantErr := json.Unmarshal(raw, &want)
	got, err := reg.DecodeValue(Type{Kind: String}, raw, "S")
	switch {
	case wantErr != nil && err == nil:
		t.Errorf("%q: read as %q; encoding/json refuses it: %v", raw, got, wantErr)
	case wantErr == nil && err != nil:
		if want != nil { // encoding/json reads 1 into *string as an error too
			t.Errorf("%q: %v; encoding/json reads %q", raw, err, *want)
		}
	case err == nil && want == nil && got != nil:
		t.Errorf("%q: read as %q, want null", raw, got)
	case err == nil && want != nil && got != *want:
		t.Errorf("%q: read as %q, encoding/json reads %q", raw, got, *want)
	}
	if err != nil && errs.KindOf(err) != errs.Invalid {
		t.Errorf("%q: error of kind %v, want Invalid", raw, errs.KindOf(err))
	}
}

func TestDecodeObjectFindsODataTypeAnywhere(t *testing.T) {
	reg := loadTest(t, jsonMOF)
	c, _ := reg.Class("Thing")
	in, err := reg.DecodeObject(c, json.RawMessage(`{"Schedules": [{"Days": 3, "StartTime": null, "@odata.type": "#AdminService.Daily"}]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	s := in.Values["Schedules"].([]any)[0].(*Instance)
	if s.Class.Name != "Daily" || s.Values["Days"] != int64(3) {
		t.Errorf("got %s %v, want a Daily of 3 days", s.Class.Name, s.Values)
	}
}

func TestDecodeObjectRefusesMalformedJSON(t *testing.T) {
	reg := loadTest(t, jsonMOF)
	c, _ := reg.Class("Thing")
	for _, body := range []string{`{"Count": 1,}`, `{"Count": 01}`, `{"Names": ["a" "b"]}`, `{"Count": 1} {}`, `{"On": tru}`, `{"Names": ["\q"]}`, `{`} {
		_, err := reg.DecodeObject(c, json.RawMessage(body), "")
		if err == nil || errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "expected a JSON object") {
			t.Errorf("%s: got %v, want Invalid: expected a JSON object", body, err)
		}
	}
}

func TestMembersKeepsOrderAndText(t *testing.T) {
	ms, err := Members([]byte(` {"b": [1, {"x": "}"}], "a\u0041": null} `))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "b" || string(ms[0].Value) != `[1, {"x": "}"}]` || ms[1].Name != "aA" || string(ms[1].Value) != "null" {
		t.Errorf("got %+v", ms)
	}
	for _, bad := range []string{`[1]`, `null`, `{"a": 1`, `{"a" 1}`} {
		if _, err := Members([]byte(bad)); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: got %v, want an Invalid error", bad, err)
		}
	}
}

// TestStringRun holds the word-at-a-time scan to the byte-at-a-time rule
// at every length and position of each byte that ends a run, for strings
// and bytes, with and without bytes beyond ASCII in the run.
func TestStringRun(t *testing.T) {
	naive := func(b []byte, ascii bool) int {
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 || (ascii && c >= 0x80) {
				return i
			}
		}
		return len(b)
	}
	check := func(b []byte) {
		t.Helper()
		for _, ascii := range []bool{true, false} {
			want := naive(b, ascii)
			if got := stringRun(b, ascii); got != want {
				t.Fatalf("stringRun(%q, %v) = %d, want %d", b, ascii, got, want)
			}
			if got := stringRun(string(b), ascii); got != want {
				t.Fatalf("stringRun(string %q, %v) = %d, want %d", b, ascii, got, want)
			}
		}
		if got, want := plainRun(b), naive(b, true); got != want {
			t.Fatalf("plainRun(%q) = %d, want %d", b, got, want)
		}
	}
	stops := []byte{'"', '\\', 0, 0x1f, '\n', 0x80, 0xc3, 0xff}
	passes := []byte{' ', '!', '#', '[', ']', 'a', 0x7f, '~', 0x21, 0x5b}
	for n := 0; n <= 24; n++ {
		for _, fill := range passes {
			b := bytes.Repeat([]byte{fill}, n)
			check(b)
			for at := 0; at < n; at++ {
				for _, stop := range stops {
					c := bytes.Clone(b)
					c[at] = stop
					check(c)
					for at2 := at + 1; at2 < n; at2++ { // a second byte after the first
						for _, stop2 := range stops {
							d := bytes.Clone(c)
							d[at2] = stop2
							check(d)
						}
					}
				}
			}
		}
	}
}
