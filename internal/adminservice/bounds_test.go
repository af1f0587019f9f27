package adminservice_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// Every method that takes or returns task sequence XML refuses more than
// 2 MB of it with 413 and the error envelope, and takes a sequence of
// just under 2 MB.
func TestSequenceXMLAbove2MBIsRefusedByEveryMethod(t *testing.T) {
	s := newTestServer(t, 0)
	over := string(apitest.BigSequence(t, corpusObjectXML, taskseq.MaxSequenceBytes+1, taskseq.MaxSequenceBytes+200_000))
	most := string(apitest.BigSequence(t, corpusObjectXML, taskseq.MaxSequenceBytes-100_000, taskseq.MaxSequenceBytes))

	for _, c := range []struct{ path, param string }{
		{"SMS_TaskSequencePackage.ImportSequence", "SequenceXML"},
		{"SMS_TaskSequence.LoadFromXml", "Xml"},
		{"SMS_TaskSequence.ExportXml", "Xml"},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := s.do("POST", "/AdminService/wmi/"+c.path, map[string]any{c.param: over})
			expectError(t, r, 413, "2 MB")
			if target := r.body["error"].(map[string]any)["target"]; target != c.param {
				t.Errorf("error target %v, want %s", target, c.param)
			}
			s.must(200, "POST", "/AdminService/wmi/"+c.path, map[string]any{c.param: most})
		})
	}

	// SaveToXml writes XML: above 2 MB it is refused rather than returned
	big := jsonOnlySequence("PS100009")
	var many []any
	for i := 0; i < 700; i++ {
		many = append(many, map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction", "Name": fmt.Sprint("step ", i), "CommandLine": strings.Repeat("x", 3000)})
	}
	big["Steps"].([]any)[0].(map[string]any)["Steps"] = many
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequence.SaveToXml", map[string]any{"TaskSequence": big}), 413, "2 MB")
}

// Method calls take turns: with one slot, a call that arrives while
// another runs waits, then is answered 503 with Retry-After and the error
// envelope; once the slot is free, calls run again.
func TestMethodCallsTakeTurns(t *testing.T) {
	s := startServerWith(t, filepath.Join(t.TempDir(), "tsprov.db"), adminservice.Options{MethodCalls: 1, MethodWait: 200 * time.Millisecond}, nil)
	importPath := "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence"
	small := map[string]any{"SequenceXML": `<sequence version="3.10"/>`}

	// the first call holds the slot: its body arrives only when the test
	// sends the rest of it
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // runs before the server's cleanup, which waits for this call
	req, err := http.NewRequest("POST", s.url+importPath, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	first := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"SequenceXML":`)); err != nil {
		t.Fatal(err)
	}

	// the first call reaches the handler within a moment; until then a
	// second may still run, so try a few times
	var r response
	for attempt := 0; attempt < 20; attempt++ {
		if r = s.do("POST", importPath, small); r.status != 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	expectError(t, r, 503, "busy")
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want a whole number of seconds", r.header.Get("Retry-After"))
	}

	if _, err := pw.Write([]byte(`"<sequence version=\"3.10\"/>"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if status := <-first; status != 200 {
		t.Fatalf("the call that held the slot: status %d, want 200", status)
	}
	s.must(200, "POST", importPath, small)
}

// String properties are bounded by the lengths of the site database's
// columns (max(N) in the schema), counted in UTF-16 code units; a refused
// create or update changes nothing.
func TestStringPropertiesHaveTheSiteDatabaseLimits(t *testing.T) {
	s := newTestServer(t, 0)
	emoji := "\U0001F600" // two UTF-16 code units
	cases := []struct {
		prop string
		ok   string
		bad  string
	}{
		{"Name", strings.Repeat("n", 50), strings.Repeat("n", 51)},
		{"Name", strings.Repeat(emoji, 25), strings.Repeat(emoji, 25) + "n"},
		{"Name", strings.Repeat("é", 50), strings.Repeat("é", 51)},
		{"Description", strings.Repeat("d", 128), strings.Repeat("d", 129)},
		{"Description", strings.Repeat("d", 128), strings.Repeat("d", 7<<20)},
		{"Manufacturer", strings.Repeat("m", 32), strings.Repeat("m", 33)},
		{"Language", strings.Repeat("l", 32), strings.Repeat("l", 33)},
		{"Version", strings.Repeat("v", 32), strings.Repeat("v", 33)},
		{"PkgSourcePath", `\\server\share\` + strings.Repeat("p", 1024-15), `\\server\share\` + strings.Repeat("p", 1024-14)},
		{"ShareName", strings.Repeat("s", 80), strings.Repeat("s", 81)},
		{"CustomProgressMsg", strings.Repeat("c", 4000), strings.Repeat("c", 4001)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %d bytes", c.prop, len(c.bad)), func(t *testing.T) {
			expectError(t, s.do("POST", "/AdminService/wmi/"+tsClass, map[string]any{"Name": "n", c.prop: c.bad}), 400, c.prop)
			id := s.create(map[string]any{"Name": "n", c.prop: c.ok})
			if got := s.getOne(id)[c.prop]; got != c.ok {
				t.Errorf("%s stored as %.40q…, want the value sent", c.prop, got)
			}
			expectError(t, s.do("PATCH", "/AdminService/wmi/"+tsClass+"('"+id+"')", map[string]any{c.prop: c.bad}), 400, c.prop)
			if got := s.getOne(id)[c.prop]; got != c.ok {
				t.Errorf("a refused PATCH changed %s", c.prop)
			}
		})
	}
}

// The package properties of every real ConfigMgr export in the corpus fit
// the limits.
func TestCorpusExportPropertiesFitTheLimits(t *testing.T) {
	s := newTestServer(t, 0)
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class(tsClass)
	files, _ := filepath.Glob("../../testdata/ts-corpus/*.xml")
	exports := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := taskseq.ReadDocument(data, taskseq.DefaultLimits)
		if err != nil || doc.Shape != taskseq.ShapeCIMInstance {
			continue
		}
		exports++
		body := map[string]any{}
		for name, v := range doc.PackageProperties {
			p, ok := c.Property(name)
			if ok && p.Type.Kind == cim.String && !p.Type.Array && !p.IsReadOnly() && !p.IsKey() && v != "" {
				body[p.Name] = v
			}
		}
		if body["Name"] == nil {
			t.Fatalf("%s: the export has no Name", filepath.Base(f))
		}
		r := s.do("POST", "/AdminService/wmi/"+tsClass, body)
		if r.status != 201 {
			t.Errorf("%s: the export's properties are refused: %s", filepath.Base(f), r.raw)
		}
	}
	if exports < 5 {
		t.Fatalf("only %d ConfigMgr exports found in the corpus", exports)
	}
}

// A collection page ends at the page's byte budget as well as at its size,
// with @odata.nextLink to the rest; a page always holds at least one
// instance; $top still bounds the whole.
func TestListPagesByBytes(t *testing.T) {
	const budget = 16 << 10
	s := startServerWith(t, filepath.Join(t.TempDir(), "tsprov.db"), adminservice.Options{PageBytes: budget}, nil)
	want := map[string]bool{}
	for i := 0; i < 20; i++ {
		want[s.create(map[string]any{"Name": fmt.Sprint("pkg ", i), "Description": strings.Repeat("d", 128)})] = true
	}
	pages, seen := readPages(t, s, "/AdminService/wmi/"+tsClass, budget)
	if pages < 2 {
		t.Errorf("20 packages of ~3 KB came in %d page(s) under a %d-byte budget", pages, budget)
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("package %s missing from the pages", id)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d packages over the pages, want %d", len(seen), len(want))
	}
	if _, seen := readPages(t, s, "/AdminService/wmi/"+tsClass+"?$top=10", budget); len(seen) != 10 {
		t.Errorf("$top=10 over byte-bounded pages gave %d packages", len(seen))
	}
	if _, seen := readPages(t, s, "/tsprov/v1/wql?q="+strings.ReplaceAll("SELECT * FROM SMS_TaskSequencePackage", " ", "%20"), budget); len(seen) != 20 {
		t.Errorf("WQL over byte-bounded pages gave %d packages", len(seen))
	}

	tiny := startServerWith(t, filepath.Join(t.TempDir(), "tsprov.db"), adminservice.Options{PageBytes: 100}, nil)
	tiny.create(map[string]any{"Name": "a"})
	tiny.create(map[string]any{"Name": "b"})
	r := tiny.must(200, "GET", "/AdminService/wmi/"+tsClass, nil)
	if n := len(r.body["value"].([]any)); n != 1 || r.body["@odata.nextLink"] == nil {
		t.Errorf("a budget below one instance: %d instances and nextLink %v, want 1 and a link", n, r.body["@odata.nextLink"])
	}
}

// readPages follows @odata.nextLink from path, checking that each page's
// value array fits budget bytes, and returns the number of pages and the
// PackageIDs seen.
func readPages(t *testing.T, s *testServer, path string, budget int) (int, map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	pages := 0
	for next := s.url + path; next != ""; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
		r := s.must(200, "GET", strings.TrimPrefix(next, s.url), nil)
		var raw struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(r.raw, &raw); err != nil {
			t.Fatal(err)
		}
		size := 2
		for _, v := range raw.Value {
			size += len(v) + 1
		}
		if len(raw.Value) > 1 && size > budget {
			t.Errorf("a page of %d instances holds %d bytes, above the budget %d", len(raw.Value), size, budget)
		}
		for _, v := range r.body["value"].([]any) {
			seen[v.(map[string]any)["PackageID"].(string)] = true
		}
		next, _ = r.body["@odata.nextLink"].(string)
	}
	return pages, seen
}
