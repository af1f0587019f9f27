package adminservice

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/schema"
)

// TestCheckJSON: checkJSON takes what a strict JSON reader takes and
// refuses, as errs.Invalid saying why, what encoding/json would take
// silently: a member named twice in one object (after unescaping, at any
// depth, in small and large objects) and a \u escape that is half a
// surrogate pair; and it still refuses malformed and too deep bodies.
func TestCheckJSON(t *testing.T) {
	members := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"m%d":%d,`, i, i)
		}
		b.WriteString(extra + `"last":true}`)
		return b.String()
	}
	cases := []struct {
		name, body string
		say        string // "": accepted; else the error says this
		target     string
	}{
		{"an object", `{"Name":"x","Description":"y","Flags":[1,2],"Obj":{"Name":"z"}}`, "", ""},
		{"the same name in sibling objects", `{"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]}`, "", ""},
		{"the same name inside and outside", `{"x":{"x":{"x":1}},"y":2}`, "", ""},
		{"the same name in sibling large objects", `{"a":` + members(20, "") + `,"b":` + members(20, "") + `}`, "", ""},
		{"names that differ in case", `{"Name":1,"name":2}`, "", ""},
		{"a name as a value", `{"a":"a","b":"a"}`, "", ""},
		{"escaped quotes and backslashes", `{"a":"say \"hi\" \\","b\"":"\\\\","c":"\\"}`, "", ""},
		{"a surrogate pair", `{"Name":"rocket \ud83d\ude80 and \uD83D\uDE80"}`, "", ""},
		{"escapes that are no surrogates", `{"Name":"\u00e9\u4e2d\uffff\u0000\uE000"}`, "", ""},
		{"a string alone", `"\ud83d\ude80"`, "", ""},
		{"nested 128 deep", strings.Repeat("[", 128) + strings.Repeat("]", 128), "", ""},

		{"a member twice", `{"Name":"x","Name":"y"}`, `member "Name" twice`, "Name"},
		{"a member twice, once escaped", `{"Name":"x","N\u0061me":"y"}`, `member "Name" twice`, "Name"},
		{"a member twice in a nested object", `{"a":[{"b":{"c":1,"d":2,"c":3}}]}`, `member "c" twice`, "c"},
		{"a member twice in a large object", members(40, `"m33":0,`), `member "m33" twice`, "m33"},
		{"a member twice after a large sibling", `[` + members(20, "") + `,{"k":1,"k":2}]`, `member "k" twice`, "k"},
		{"a lone first half", `{"Name":"\ud800"}`, `\ud800 at byte 9 is half of a UTF-16 surrogate pair`, ""},
		{"a first half before text", `{"Name":"\uD800x"}`, "surrogate pair", ""},
		{"a first half before another escape", `{"Name":"\ud800\u0041"}`, "surrogate pair", ""},
		{"two first halves", `{"Name":"\ud800\ud800\udc00"}`, "surrogate pair", ""},
		{"a lone second half", `{"Name":"\udc00"}`, `\udc00 at byte 9`, ""},
		{"the halves reversed", `{"Name":"\ude80\ud83d"}`, "surrogate pair", ""},
		{"a lone surrogate in a member name", `{"\ud800":1}`, "surrogate pair", ""},
		{"a lone surrogate after escapes", `["\\\"\n\ud800"]`, "surrogate pair", ""},
		{"nested 129 deep", strings.Repeat("[", 129) + strings.Repeat("]", 129), "nests deeper than 128", ""},
		{"nested 20,000 deep", strings.Repeat(`{"a":[`, 10000) + strings.Repeat("]}", 10000), "nests deeper than 128", ""},
		{"truncated", `{"Name":"x"`, "malformed JSON body: unexpected EOF", ""},
		{"two values", `{"Name":"x"} {"Name":"y"}`, "more than one JSON value", ""},
		{"a trailing comma", `{"Name":"x",}`, "malformed JSON body: invalid character", ""},
	}
	for _, c := range cases {
		err := checkJSON([]byte(c.body), maxJSONDepth)
		switch {
		case c.say == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.say == "":
		case err == nil:
			t.Errorf("%s: accepted, want an error saying %q", c.name, c.say)
		case errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), c.say):
			t.Errorf("%s: error %q (kind %v), want kind Invalid saying %q", c.name, err, errs.KindOf(err), c.say)
		case errs.TargetOf(err) != c.target:
			t.Errorf("%s: error names %q, want %q", c.name, errs.TargetOf(err), c.target)
		}
	}
}

// BenchmarkCheckJSON: the check on a 2 MB body, beside the json.Valid pass
// it starts with and a decode into an empty interface (what the body check
// was before it was a scan).
func BenchmarkCheckJSON(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"Steps":[`)
	for i := 0; body.Len() < 2<<20; i++ {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"@odata.type":"#AdminService.SMS_TaskSequence_RunCommandLineAction","Name":"step %d","CommandLine":"cmd /c \"echo %d\" \u00e9\n","Enabled":true}`, i, i)
	}
	body.WriteString(`]}`)
	data := []byte(body.String())
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !json.Valid(data) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("checkJSON", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := checkJSON(data, maxJSONDepth); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// paramBodies are method call bodies (SMS_TaskSequencePackage.SetSequence)
// that checkJSON accepts or refuses for each of its reasons, inside
// decoded parameters, skipped annotations and skipped members, and bodies
// that only the decoding refuses.
func paramBodies() []string {
	pkg := `{"@odata.type":"#AdminService.SMS_TaskSequencePackage","Name":"p"}`
	step := func(extra string) string {
		return `{"@odata.type":"#AdminService.SMS_TaskSequence_RunCommandLineAction","Name":"s","CommandLine":"cmd"` + extra + `}`
	}
	ts := func(steps ...string) string {
		return `{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[` + strings.Join(steps, ",") + `]}`
	}
	body := func(ts string) string { return `{"TaskSequencePackage":` + pkg + `,"TaskSequence":` + ts + `}` }
	deep := strings.Repeat("[", 130) + strings.Repeat("]", 130)
	return []string{
		body(ts(step(""))),
		body(ts(step(`,"@tsprov.xml":{"attrs":[["name","s"]],"children":["action"],"action":"cmd"}`))),
		body(ts(step(`,"@tsprov.xml":{"attrs":[],"attrs":[]}`))),
		body(ts(step(`,"@tsprov.xml":{"vars":[{"attrs":[],"bound":"x","bound":"y"}]}`))),
		body(ts(step(`,"@tsprov.xml":{"action":"\ud800"}`))),
		body(ts(step(`,"@tsprov.xml":{"action":"\ud83d\ude80"}`))),
		body(ts(step(`,"@tsprov.xml":` + deep))),
		body(ts(step(`,"@tsprov.xml":1,"@tsprov.xml":2`))),
		body(ts(step(`,"__CLASS":"a","__CLASS":"b"`))),
		body(ts(step(`,"@odata.type":"#AdminService.SMS_TaskSequence_RunCommandLineAction"`))),
		body(ts(step(`,"Name":"again"`))),
		body(ts(step(`,"name":"again"`))),
		body(ts(step(`,"CommandLine":"\udc00"`))),
		body(ts(step(`,"NoSuchProperty":1`))),
		body(ts(step(`,"Enabled":"yes"`))),
		body(ts(step(`,"Timeout":01`))),
		body(ts(step(""))) + ` {}`,
		`{"TaskSequencePackage":` + pkg + `,"TaskSequencePackage":` + pkg + `}`,
		`{"TaskSequencePackage":` + pkg + `,"tasksequencepackage":` + pkg + `}`,
		`{"@odata.context":"x","@odata.context":"y"}`,
		`{"NoSuchParameter":1}`,
		`{"TaskSequence":` + ts(step(""), step(`,"Enabled":true,"Enabled":false`)) + `}`,
		`{"TaskSequence":` + strings.Repeat(`{"a":[`, 70) + strings.Repeat("]}", 70) + `}`,
		`[]`, `{}`, `{"TaskSequence":null}`, `{"TaskSequence":`, `"x"`,
	}
}

// TestDecodeParamsAsReadJSON: decodeParams (one strict pass, and the
// check only when it fails) gives for every body what checkJSON followed
// by DecodeParams gives: the same values, or the same error.
func TestDecodeParamsAsReadJSON(t *testing.T) {
	for _, body := range paramBodies() {
		compareDecodeParams(t, []byte(body))
	}
}

func FuzzDecodeParamsAsReadJSON(f *testing.F) {
	for _, body := range paramBodies() {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) { // readBody refuses it before
			return
		}
		compareDecodeParams(t, body)
	})
}

func compareDecodeParams(t *testing.T, raw []byte) {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	m, _ := c.Method("SetSequence")
	want, wantErr := func() (map[string]any, error) {
		if err := checkJSON(raw, maxJSONDepth); err != nil {
			return nil, err
		}
		return reg.DecodeParams(c.Name, m, raw, cim.DecodeOptions{})
	}()
	got, gotErr := decodeParams(reg, c, m, raw)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || errs.KindOf(gotErr) != errs.KindOf(wantErr) || errs.TargetOf(gotErr) != errs.TargetOf(wantErr) {
		t.Fatalf("%.200s:\ngot error  %v\nwant error %v", raw, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%.200s:\ngot  %#v\nwant %#v", raw, got, want)
	}
}
