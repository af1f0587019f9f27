package bench

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/diff"
	"github.com/tsprov/tsprov/schema"
)

// bigRevisions returns the 1.9 MB sequence of bigSequence and a second
// version of it with four changes in the middle and at the start (a step
// renamed, one disabled, one removed, one moved to the end), each written
// to a file.
func bigRevisions(b *testing.B) (paths [2]string, data [2][]byte) {
	b.Helper()
	_, first := bigSequence(b)
	doc, err := taskseq.ReadDocument(first, taskseq.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	seq := doc.Sequence
	var kids []int // positions of the steps and groups among the children
	for i, c := range seq.Children {
		if e, ok := c.(*taskseq.Element); ok && (e.Name == "group" || e.Name == "step") {
			kids = append(kids, i)
		}
	}
	mid := len(kids) / 2
	at := func(k int) *taskseq.Element { return seq.Children[kids[k]].(*taskseq.Element) }
	setAttr := func(e *taskseq.Element, name, value string) {
		for i := range e.Attrs {
			if e.Attrs[i].Name == name {
				e.Attrs[i].Value = value
				return
			}
		}
		e.Attrs = append(e.Attrs, taskseq.Attr{Name: name, Value: value})
	}
	name, _ := at(mid).Attr("name")
	setAttr(at(mid), "name", name+" (renamed)")
	setAttr(at(mid+1), "disable", "true")
	moved := seq.Children[kids[1]]
	drop := map[int]bool{kids[mid+2]: true, kids[1]: true}
	var children []taskseq.Node
	for i, c := range seq.Children {
		if !drop[i] {
			children = append(children, c)
		}
	}
	seq.Children = append(children, moved)
	data = [2][]byte{first, []byte(seq.String())}
	dir := b.TempDir()
	for i := range paths {
		paths[i] = filepath.Join(dir, []string{"a.xml", "b.xml"}[i])
		if err := os.WriteFile(paths[i], data[i], 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return paths, data
}

// diffTool returns a function that runs `diff` on the two files once
// (GNU diffutils; exit status 1 means they differ).
func diffTool(b *testing.B, paths [2]string) func(int) {
	b.Helper()
	bin, err := exec.LookPath("diff")
	if err != nil {
		b.Skip("diff not installed (Debian package diffutils)")
	}
	return func(int) {
		out, err := exec.Command(bin, paths[0], paths[1]).Output()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || len(out) == 0 {
			b.Fatalf("diff: %v", err)
		}
	}
}

// wantChanges fails unless the diff reports the four changes bigRevisions
// made (and the disabled step's references lost, if any).
func wantChanges(b *testing.B, res *diff.Result) {
	for _, k := range []diff.Kind{diff.Renamed, diff.Disabled, diff.Removed, diff.Moved} {
		if res.Summary[k] == 0 {
			b.Fatalf("the diff has no %s change: %v", k, res.Summary)
		}
	}
}

// BenchmarkDiff2MB: two revisions of a 1.9 MB task sequence are stored
// with SetSequence, then GET /tsprov/v1/diff?from=ID@1&to=ID@2 through the
// real server stack (read both revisions, parse both sequences, match and
// compare, JSON out), in turn with `diff` of the two XML files.
func BenchmarkDiff2MB(b *testing.B) {
	paths, data := bigRevisions(b)
	ref := diffTool(b, paths)
	ts := tsprovServer(b)
	id := ""
	for _, d := range data {
		id = ts.setSequence(b, id, "big", ts.importSequence(b, d))
	}
	path := "/tsprov/v1/diff?" + url.Values{"from": {id + "@1"}, "to": {id + "@2"}}.Encode()
	var res diff.Result
	if err := json.Unmarshal(ts.get(b, path), &res); err != nil {
		b.Fatal(err)
	}
	wantChanges(b, &res)
	b.SetBytes(int64(len(data[0]) + len(data[1])))
	b.ReportAllocs()
	b.ResetTimer()
	t, r := abab(b.N, func(int) { ts.get(b, path) }, ref)
	b.StopTimer()
	report(b, t, r)
}

// BenchmarkDiffCompare2MB: diff.Compare alone on the two parsed 1.9 MB
// sequences (no I/O, no parsing), for -benchmem, in turn with `diff` of
// the two files.
func BenchmarkDiffCompare2MB(b *testing.B) {
	paths, data := bigRevisions(b)
	ref := diffTool(b, paths)
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	c, err := taskseq.NewCodec(reg)
	if err != nil {
		b.Fatal(err)
	}
	var in [2]diff.Input
	for i, d := range data {
		ts, _, err := c.Parse(d)
		if err != nil {
			b.Fatal(err)
		}
		in[i] = diff.Input{Sequence: ts}
	}
	wantChanges(b, diff.Compare(in[0], in[1]))
	b.SetBytes(int64(len(data[0]) + len(data[1])))
	b.ReportAllocs()
	b.ResetTimer()
	t, r := abab(b.N, func(int) { diff.Compare(in[0], in[1]) }, ref)
	b.StopTimer()
	report(b, t, r)
}
