package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/taskseq"
)

// The web console in headless Chromium (Debian's chromium, driven by
// web/e2e/bench.mjs with playwright-core; see web/e2e/README.md).

const e2eDir = "../web/e2e"

// browserTools returns node and Chromium, or skips the benchmark saying
// what is missing.
func browserTools(b *testing.B) (node, chromium string) {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node not found on PATH")
	}
	chromium = os.Getenv("TSPROV_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser"} {
		if chromium != "" {
			break
		}
		chromium, _ = exec.LookPath(name)
	}
	if chromium == "" {
		b.Skip("Chromium not found (Debian's package chromium, or TSPROV_CHROMIUM)")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")); err != nil {
		b.Skip("playwright-core is not installed: npm ci --prefix web/e2e")
	}
	return node, chromium
}

// largestCorpusSequence is the corpus file with the most bytes, by
// testdata/ts-corpus/MANIFEST.tsv.
func largestCorpusSequence(b *testing.B) string {
	b.Helper()
	f, err := os.Open("../testdata/ts-corpus/MANIFEST.tsv")
	if err != nil {
		b.Skip("corpus manifest missing:", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	rows, err := r.ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	best, most := "", 0
	for _, row := range rows[1:] {
		n, err := strconv.Atoi(row[col["bytes"]])
		if err != nil {
			b.Fatalf("MANIFEST.tsv: %s: bytes %q", row[0], row[col["bytes"]])
		}
		if n > most {
			best, most = row[col["file"]], n
		}
	}
	return filepath.Join("../testdata/ts-corpus", best)
}

// stepNameAttr is a step's or group's name attribute in sequence XML.
var stepNameAttr = regexp.MustCompile(`(<(?:step|group|subtasksequence)\b[^>]*?\bname=")([^"]*)(")`)

// generatedSequence is a task sequence of about 1.9 MB (under ConfigMgr's
// 2 MB limit) made of the top-level steps and groups of a real ConfigMgr
// export, as bigSequence's, in groups "Part 0001", "Part 0002", … with every
// step's name followed by " [part.n]", so that each tree item has a name of
// its own.
func generatedSequence(b *testing.B) []byte {
	b.Helper()
	seq := sourceSequence(b)
	var items strings.Builder
	for _, c := range seq.Children {
		if e, ok := c.(*taskseq.Element); ok && (e.Name == "group" || e.Name == "step") {
			items.WriteString(e.String())
		}
	}
	whole := (&taskseq.Element{Name: "sequence", Attrs: seq.Attrs}).String()
	open := strings.TrimSuffix(whole, "/>")
	if open == whole {
		open = whole[:strings.Index(whole, ">")]
	}
	var out strings.Builder
	out.WriteString(open + ">")
	for part := 1; ; part++ {
		n := 0
		body := stepNameAttr.ReplaceAllStringFunc(items.String(), func(m string) string {
			n++
			sub := stepNameAttr.FindStringSubmatch(m)
			suffix := fmt.Sprintf(" [%d.%d]", part, n)
			name := sub[2]
			if len(name)+len(suffix) > 100 {
				name = name[:100-len(suffix)]
			}
			return sub[1] + name + suffix + sub[3]
		})
		group := fmt.Sprintf(`<group name="Part %04d" description="" disable="false" continueOnError="false">%s</group>`, part, body)
		if out.Len()+len(group) > 1_950_000 {
			break
		}
		out.WriteString(group)
	}
	out.WriteString("</sequence>")
	return []byte(out.String())
}

// treeNames lists the names of a sequence's steps and groups (its JSON, as
// ImportSequence answers it) in document order.
func treeNames(steps []any, into *[]string) {
	for _, s := range steps {
		m, _ := s.(map[string]any)
		n, _ := m["Name"].(string)
		*into = append(*into, n)
		if kids, ok := m["Steps"].([]any); ok {
			treeNames(kids, into)
		}
	}
}

// groupToOpen picks the first top-level group that holds steps and whose
// name and first child's name no other item's name starts with (the tree
// items are found by the start of their names).
func groupToOpen(b *testing.B, ts map[string]any) (group, child string) {
	b.Helper()
	top, _ := ts["Steps"].([]any)
	var names []string
	treeNames(top, &names)
	unique := func(name string) bool {
		n := 0
		for _, o := range names {
			if strings.HasPrefix(o, name) {
				n++
			}
		}
		return name != "" && n == 1
	}
	for _, g := range top {
		m, _ := g.(map[string]any)
		kids, _ := m["Steps"].([]any)
		if len(kids) == 0 {
			continue
		}
		first, _ := kids[0].(map[string]any)
		gn, _ := m["Name"].(string)
		cn, _ := first["Name"].(string)
		if unique(gn) && unique(cn) {
			return gn, cn
		}
	}
	b.Fatal("no top-level group whose name and first child's name are their own")
	return "", ""
}

// referencePage is the tree of a sequence as a static page: each group a
// closed <details> whose <summary> is its name, each step an <li>, the
// disabled ones greyed; no script.
func referencePage(title string, ts map[string]any) string {
	var w strings.Builder
	fmt.Fprintf(&w, "<!doctype html><html lang=en><meta charset=utf-8><title>%s</title><style>.off{color:#666}ul{list-style:none}</style><h1>%s</h1>", html.EscapeString(title), html.EscapeString(title))
	var list func(steps []any)
	list = func(steps []any) {
		w.WriteString("<ul>")
		for _, s := range steps {
			m, _ := s.(map[string]any)
			name := html.EscapeString(fmt.Sprint(m["Name"]))
			class := ""
			if m["Enabled"] == false {
				class = ` class=off`
			}
			if kids, ok := m["Steps"].([]any); ok {
				fmt.Fprintf(&w, "<li%s><details><summary>%s</summary>", class, name)
				list(kids)
				w.WriteString("</details></li>")
			} else {
				fmt.Fprintf(&w, "<li%s>%s</li>", class, name)
			}
		}
		w.WriteString("</ul>")
	}
	steps, _ := ts["Steps"].([]any)
	list(steps)
	return w.String()
}

// consoleSequence is a package the benchmark opens in the console.
type consoleSequence struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	Child string `json:"child"`
	Ref   string `json:"ref"`
}

// BenchmarkConsoleOpen: the largest corpus sequence and a generated 1.9 MB
// one, each a package of a tsprov server (the real stack, as every HTTP
// benchmark here), opened in the web console in headless Chromium: time to
// interactive (from the click on the package in the list until the tree is
// shown and a click on its first item has shown the step's details) and
// time to open a group (ArrowRight on it until its first step is visible),
// timed by web/e2e/bench.mjs with Playwright, in turn with the same tree as
// a static page (nested <details>, no script) served by a bare net/http
// server: loaded until its first group opens on a click, and a group
// opened by a click on its <summary>.
func BenchmarkConsoleOpen(b *testing.B) {
	node, chromium := browserTools(b)
	ts := tsprovServer(b)
	status, page, err := ts.request(httpClient, http.MethodGet, "/", nil)
	if err != nil {
		b.Fatal(err)
	}
	if status != http.StatusOK || !bytes.Contains(bytes.ToLower(page), []byte("<!doctype html")) {
		b.Skipf("GET / answered %d, not the console's page", status)
	}

	largest, err := os.ReadFile(largestCorpusSequence(b))
	if err != nil {
		b.Fatal(err)
	}
	pages := map[string]string{}
	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(p))
	}))
	b.Cleanup(ref.Close)

	seqs := []struct {
		bench, name string
		xml         []byte
	}{
		{"largest", "Largest corpus sequence", largest},
		{"2MB", "Generated 2 MB sequence", generatedSequence(b)},
	}
	for _, s := range seqs {
		raw := ts.importSequence(b, s.xml)
		ts.setSequence(b, "", s.name, raw)
		var tree map[string]any
		if err := json.Unmarshal(raw, &tree); err != nil {
			b.Fatal(err)
		}
		group, child := groupToOpen(b, tree)
		path := "/" + s.bench + ".html"
		pages[path] = referencePage(s.name, tree)
		seq := consoleSequence{Name: s.name, Group: group, Child: child, Ref: ref.URL + path}
		b.Run(s.bench, func(b *testing.B) {
			b.ReportMetric(float64(len(s.xml))/1e6, "MB")
			runConsoleBench(b, node, chromium, ts, seq)
		})
	}
}

// runConsoleBench runs web/e2e/bench.mjs on one sequence, b.N times each
// side, and reports the mean times.
func runConsoleBench(b *testing.B, node, chromium string, ts target, seq consoleSequence) {
	cfg, _ := json.Marshal(map[string]any{
		"url": ts.url, "token": ts.token, "chromium": chromium, "timeoutMs": 60000,
		"n": b.N, "sequences": []consoleSequence{seq},
	})
	file := filepath.Join(b.TempDir(), "config.json")
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "bench.mjs", file)
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("web/e2e/bench.mjs: %v\n%s%s", err, out, stderr.Bytes())
	}
	sum := map[string]float64{}
	count := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var m struct {
			Who, What string
			Ms        float64
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.Fatalf("web/e2e/bench.mjs wrote %q", sc.Text())
		}
		sum[m.Who+"-"+m.What] += m.Ms
		count[m.Who+"-"+m.What]++
	}
	mean := func(k string) float64 {
		if count[k] != b.N {
			b.Fatalf("%d measures of %s, want %d", count[k], k, b.N)
		}
		return sum[k] / float64(count[k])
	}
	for _, what := range []string{"tti", "group"} {
		t, r := mean("tsprov-"+what), mean("ref-"+what)
		b.ReportMetric(t, what+"-ms")
		b.ReportMetric(r, "ref-"+what+"-ms")
		b.ReportMetric(t/r, "x-ref-"+what)
	}
}
