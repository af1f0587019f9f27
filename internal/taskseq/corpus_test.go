package taskseq

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/schema"
)

// corpusDirs are the project's copy of the corpus and the shared one beside
// the project (all of it, when it is there).
var corpusDirs = []string{"../../testdata/ts-corpus", "../../../shared/testdata/ts-corpus"}

// corpusFiles lists the task sequence files of every corpus folder found,
// each content once (the project's copy and the shared corpus overlap).
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	seen := map[[sha256.Size]byte]bool{}
	for _, dir := range corpusDirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		if len(matches) == 0 {
			t.Logf("no corpus at %s (skipped)", dir)
		}
		for _, f := range matches {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); !seen[sum] {
				seen[sum] = true
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Skip("no task sequence corpus found")
	}
	return files
}

func testCodec(t testing.TB) *Codec {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCodec(reg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonOf(t testing.TB, in *cim.Instance) string {
	t.Helper()
	b, err := json.Marshal(cim.EmbeddedJSON(in))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCorpusRoundTrip: every corpus file parses; the XML written from the
// object model is canonically equal to the sequence read; parsing that XML
// gives the same object model; and the object model survives JSON.
func TestCorpusRoundTrip(t *testing.T) {
	c := testCodec(t)
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ts, doc, err := c.Parse(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			out, err := c.Encode(ts, WriteOptions{})
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if want, got := Canonical(doc.Sequence), Canonical(out); want != got {
				t.Fatalf("XML out is not canonically equal to the sequence in:\n%s", firstDifference(want, got))
			}
			again, err := c.Decode(reparse(t, out))
			if err != nil {
				t.Fatalf("decode written XML: %v", err)
			}
			// The sequence alone: the wrapper's exported Type is not XML of the sequence.
			seq, err := c.Decode(doc.Sequence)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := jsonOf(t, seq), jsonOf(t, again); a != b {
				t.Fatalf("object model changed through XML:\n%s", firstDifference(a, b))
			}
			viaJSON, err := c.Registry().DecodeObject(ts.Class, json.RawMessage(jsonOf(t, ts)), "")
			if err != nil {
				t.Fatalf("object model from its own JSON: %v", err)
			}
			if a, b := jsonOf(t, ts), jsonOf(t, viaJSON); a != b {
				t.Fatalf("object model changed through JSON:\n%s", firstDifference(a, b))
			}
			out2, err := c.Encode(viaJSON, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if Canonical(out2) != Canonical(out) {
				t.Fatalf("XML written after a JSON trip differs:\n%s", firstDifference(Canonical(out), Canonical(out2)))
			}
		})
	}
}

func reparse(t testing.TB, e *Element) *Element {
	t.Helper()
	root, err := parseTree([]byte(e.String()), DefaultLimits)
	if err != nil {
		t.Fatalf("written XML does not parse: %v", err)
	}
	return root
}

// firstDifference shows where two strings first differ.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := i - 120
	if from < 0 {
		from = 0
	}
	clip := func(s string) string {
		end := i + 120
		if end > len(s) {
			end = len(s)
		}
		if from > len(s) {
			return ""
		}
		return strings.ReplaceAll(s[from:end], "\n", "⏎")
	}
	return "want …" + clip(a) + "…\ngot  …" + clip(b) + "…"
}
