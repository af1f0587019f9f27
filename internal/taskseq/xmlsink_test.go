package taskseq

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// marshalMatchesEncode fails unless Marshal's bytes are those of writing
// the element Encode builds, for the options given.
func marshalMatchesEncode(t testing.TB, c *Codec, data []byte, opts WriteOptions) {
	t.Helper()
	ts, _, err := c.Parse(data)
	if err != nil {
		return
	}
	el, treeErr := c.Encode(ts, opts)
	got, bytesErr := c.Marshal(ts, opts)
	if (treeErr == nil) != (bytesErr == nil) {
		t.Fatalf("Encode error %v, Marshal error %v", treeErr, bytesErr)
	}
	if treeErr != nil {
		return
	}
	var want bytes.Buffer
	writeTree(&want, el)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("Marshal differs from the tree Encode builds:\n%s", firstDifference(want.String(), string(got)))
	}
}

// TestCorpusMarshalWritesWhatEncodeBuilds: for every corpus file, the XML
// Marshal writes straight from the object model is byte for byte the tree
// Encode builds, written: as read, with computed references, with secrets
// stripped (ExportXml), and after the sequence went through JSON.
func TestCorpusMarshalWritesWhatEncodeBuilds(t *testing.T) {
	c := testCodec(t)
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ts, _, err := c.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			marshalMatchesEncode(t, c, data, WriteOptions{})
			marshalMatchesEncode(t, c, data, WriteOptions{StripSecrets: true})
			marshalMatchesEncode(t, c, data, WriteOptions{References: References(ts)})
			marshalMatchesEncode(t, c, data, WriteOptions{References: []Reference{}})
			viaJSONXML, err := c.Marshal(viaJSON(t, c, ts), WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			marshalMatchesEncode(t, c, viaJSONXML, WriteOptions{})
		})
	}
}

// TestMarshalKeptTextAndLayout: text kept beside unknown elements is
// written as the tree holds it: indentation dropped where an element has
// child elements, whatever the order in which text and elements come.
func TestMarshalKeptTextAndLayout(t *testing.T) {
	c := testCodec(t)
	for _, doc := range []string{
		`<sequence version="3.10"> <x/> </sequence>`,
		`<sequence version="3.10">text <x>in</x> more</sequence>`,
		`<sequence version="3.10"><group name="g"> lead <unknown a="1"/>  </group></sequence>`,
		`<sequence version="3.10"><group name="g">only text</group></sequence>`,
		`<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="a"><action>  </action><defaultVarList> <variable name="X" property="CommandLine">a&#xD;b</variable> <other/> </defaultVarList></step></sequence>`,
		`<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="a"><condition> <expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Variable">A</variable></expression> note </condition><action>x</action></step></sequence>`,
		`<sequence version="3.00"><globalVarList>  </globalVarList><referenceList><reference package="P" program="q&quot;"/></referenceList></sequence>`,
	} {
		t.Run(doc, func(t *testing.T) {
			if _, _, err := c.Parse([]byte(doc)); err != nil {
				t.Fatal(err)
			}
			marshalMatchesEncode(t, c, []byte(doc), WriteOptions{})
		})
	}
}

// FuzzMarshal: for any input that parses, Marshal writes the bytes of the
// tree Encode builds.
// Run by hand: go test -run '^$' -fuzz '^FuzzMarshal$' -fuzztime 5m -parallel 1 ./internal/taskseq
func FuzzMarshal(f *testing.F) {
	for _, seed := range []string{
		`<sequence version="3.10"> a <x> </x> b <y/> </sequence>`,
		`<sequence><group name="g"> <step type="SMS_TaskSequence_RunCommandLineAction" name="a"><action>cmd</action></step> t </group></sequence>`,
		`<sequence><step type="SMS_TaskSequence_SetDynamicVariablesAction" name="r"><defaultVarList><variable name="OSDSetDynamicVariablesRules" property="Rules">&lt;Rules&gt;&lt;Rule&gt;&lt;Variables&gt;&lt;Variable Name="A" IsSecret="false"&gt;1&lt;/Variable&gt;&lt;/Variables&gt;&lt;/Rule&gt;&lt;/Rules&gt;</variable></defaultVarList></step></sequence>`,
	} {
		f.Add([]byte(seed))
	}
	c := testCodec(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzCodecMaxInput {
			return
		}
		marshalMatchesEncode(t, c, data, WriteOptions{})
	})
}

// TestMarshalKeptWhitespace: whitespace-only text kept in an annotation
// (a client can send any) is dropped beside child elements and kept in an
// element that has none, wherever it comes among the children.
func TestMarshalKeptWhitespace(t *testing.T) {
	c := testCodec(t)
	kept := []string{"  ", " t ", "<u a=\"1\"/>", "\t", "x<v/>y", "\u00a0"}
	for _, markers := range [][]string{
		{"other"},
		{"other", "other"},
		{"other", "step", "other", "other"},
		{"other", "other", "other", "step"},
		{"other", "other", "other", "other", "other", "other"},
	} {
		for first := range kept {
			ts, _, err := c.Parse([]byte(`<sequence version="3.10"><group name="g"><step type="SMS_TaskSequence_RunCommandLineAction" name="a"><action>x</action></step></group></sequence>`))
			if err != nil {
				t.Fatal(err)
			}
			other := append(append([]string(nil), kept[first:]...), kept[:first]...)
			for _, in := range []*cim.Instance{ts, ts.Values["Steps"].([]any)[0].(*cim.Instance)} {
				r, err := getResidue(in)
				if err != nil {
					t.Fatal(err)
				}
				r.Children, r.Other = markers, other
				if err := setResidue(in, r); err != nil {
					t.Fatal(err)
				}
			}
			el, err := c.Encode(ts, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Marshal(ts, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			writeTree(&want, el)
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("markers %v, kept %q:\n%s", markers, other, firstDifference(want.String(), string(got)))
			}
		}
	}
}
