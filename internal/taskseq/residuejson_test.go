package taskseq

import (
	"encoding/json"
	"reflect"
	"testing"
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
