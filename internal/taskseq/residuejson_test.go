package taskseq

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// residueCases are JSON forms of a residue that decodeResidue must read as
// encoding/json reads them into the struct.
var residueCases = []string{
	`null`, `{}`,
	`{"element":"subtasksequence","attrs":[["type","X"],["name","a \"b\" \\ c"]],"children":["condition","action","other"],` +
		`"action":"cmd.exe /c \u00e9","derived":"","actionBound":"CommandLine","vars":[{"attrs":[["name","v"]],"bound":"AppInfo[0].Name","value":"x"},` +
		`{"attrs":[],"raw":"<x/>"}],"varListAttrs":[["a","b"]],"other":["<y>1</y>"],"platformKey":[["k","v"]],` +
		`"references":[[["package","PS100001"],["program","*"]],[]],"packageType":"2"}`,
	`{"Element":"group","ATTRS":[["a"],["b","c","d"]],"unknown":{"x":[1,2]},"action":null,"vars":null,"children":[null,"step"]}`,
	`{"vars":[null,{"value":null,"Raw":"r"}]}`,
	`{"element":1}`, `{"attrs":"x"}`, `[1]`, `{"other":[1]}`, `{"element":"a"} x`, `{"element":"a",}`,
}

func TestDecodeResidueReadsAsEncodingJSON(t *testing.T) {
	for _, tc := range residueCases {
		checkResidueLikeEncodingJSON(t, []byte(tc))
	}
}

func FuzzDecodeResidue(f *testing.F) {
	for _, tc := range residueCases {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkResidueLikeEncodingJSON(t, raw) })
}

func checkResidueLikeEncodingJSON(t *testing.T, raw []byte) {
	t.Helper()
	want := &residue{}
	wantErr := json.Unmarshal(raw, want)
	got, err := decodeResidue(raw)
	switch {
	case wantErr == nil && err != nil:
		t.Errorf("%s: %v; encoding/json reads it", raw, err)
	case wantErr != nil && err == nil:
		t.Errorf("%s: read; encoding/json refuses it: %v", raw, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Errorf("%s:\nread as        %+v\nencoding/json: %+v", raw, got, want)
	}
}

// TestResidueReadWithItsObject: the JSON decoders read a residue while
// they read its object (cim.RegisterAnnotation) into what decodeResidue
// reads from its text; one decodeResidue refuses is kept as its text, for
// getResidue to report as before; text that is not JSON is refused as
// when the annotation was skipped; and a strict decode refuses inside the
// annotation what it refuses elsewhere.
func TestResidueReadWithItsObject(t *testing.T) {
	for _, tc := range residueCases {
		checkResidueReadWithItsObject(t, []byte(tc))
	}
	reg := testCodec(t).Registry()
	c, _ := reg.Class(classSequence)
	for _, raw := range []string{
		`{"@tsprov.xml":{"attrs":[],"attrs":[]}}`,
		`{"@tsprov.xml":{"other":["\ud800"]}}`,
		`{"@tsprov.xml":{"vars":[{"attrs":[["a","b"]],"ATTRS":[],"attrs":[]}]}}`,
	} {
		_, err := reg.DecodeObjectWith(c, []byte(raw), "TaskSequence", cim.DecodeOptions{Strict: true})
		if err == nil {
			t.Errorf("%s: read strictly", raw)
		}
		if _, err := reg.DecodeObject(c, []byte(raw), "TaskSequence"); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func FuzzResidueReadWithItsObject(f *testing.F) {
	for _, tc := range residueCases {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkResidueReadWithItsObject(t, raw) })
}

func checkResidueReadWithItsObject(t *testing.T, raw []byte) {
	t.Helper()
	reg := testCodec(t).Registry()
	c, _ := reg.Class(classSequence)
	obj := append(append([]byte(`{"@tsprov.xml":`), raw...), '}')
	in, err := reg.DecodeObject(c, obj, "TaskSequence")
	if !json.Valid(raw) { // the object may still be JSON, of other members
		if err == nil && !json.Valid(obj) {
			t.Errorf("%s: read, but it is not JSON", obj)
		}
		return
	}
	if err != nil {
		if !strings.Contains(err.Error(), "nested too deep") {
			t.Errorf("%s: %v", obj, err)
		}
		return
	}
	want, wantErr := decodeResidue(raw)
	switch got := in.Annotations[residueKey].(type) {
	case *residue:
		if wantErr != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nread with its object as %+v\nfrom its text as        %+v (%v)", raw, got, want, wantErr)
		}
	case json.RawMessage:
		if wantErr == nil || string(got) != string(bytes.TrimSpace(raw)) {
			t.Errorf("%s: kept as text %s; from its text: %+v (%v)", raw, got, want, wantErr)
		}
	default:
		t.Errorf("%s: annotation %T", raw, got)
	}
}
