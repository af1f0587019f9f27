package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The web console's end-to-end tests run in Debian's headless Chromium
// (package chromium), driven by web/e2e/console.mjs with playwright-core
// and axe-core (installed by scripts/test with npm ci). Without Chromium,
// node or those packages the test skips, saying what is missing; with
// TSPROV_REQUIRE_BROWSER set (.ci/run sets it) it fails instead.
const (
	e2eDir         = "../../web/e2e"
	requireBrowser = "TSPROV_REQUIRE_BROWSER"
	// e2eArtifacts receives the screenshots of the main screens and
	// axe-core's reports; git ignores it.
	e2eArtifacts = "../../web/e2e/artifacts"
	// The corpus sequence the flows edit, and another one that the search
	// must filter out of the list.
	e2eSequence = "../../testdata/ts-corpus/FriendsOfMDT__PSD__Templates_PSDClient.xml"
	e2eOther    = "../../testdata/ts-corpus/microsoft__configmgr-hub__objects_TaskSequence_Gather-Light.xml"
)

// browserTools returns node and Chromium, or skips the test (fails it when
// TSPROV_REQUIRE_BROWSER is set) with what is missing and how to get it.
func browserTools(t testing.TB) (node, chromium string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv(requireBrowser) != "" {
			t.Fatalf("%s (mandatory: %s is set)", why, requireBrowser)
		}
		t.Skip(why + "; the console's browser tests are skipped")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found on PATH")
	}
	chromium = os.Getenv("TSPROV_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		missing("Chromium not found (install Debian's package: apt-get install chromium; or name it in TSPROV_CHROMIUM)")
	}
	for _, pkg := range []string{"playwright-core", "@axe-core/playwright"} {
		if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", pkg, "package.json")); err != nil {
			missing(pkg + " is not installed; install with: npm ci --prefix web/e2e")
		}
	}
	return node, chromium
}

// rest sends one request to the server as the given credentials (a token,
// or "user:password" for Basic when it holds a colon) and decodes the JSON
// answer into out; it fails the test unless the status is want.
func rest(t *testing.T, base, cred, method, path string, body any, want int, out any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user, pass, ok := strings.Cut(cred, ":"); ok {
		req.SetBasicAuth(user, pass)
	} else {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %.500s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %.300s", method, path, err, raw)
		}
	}
}

// importCorpus makes a task sequence package named name from a corpus file
// through the REST API (ImportSequence, then SetSequence) and returns its
// PackageID and the imported sequence.
func importCorpus(t *testing.T, base, file, name string) (string, map[string]any) {
	t.Helper()
	xml, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var imported struct{ TaskSequence map[string]any }
	rest(t, base, testAdminToken, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": string(xml)}, 200, &imported)
	var saved struct{ SavedTaskSequencePackagePath string }
	rest(t, base, testAdminToken, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": name},
		"TaskSequence":        imported.TaskSequence,
	}, 200, &saved)
	id := strings.TrimSuffix(strings.TrimPrefix(saved.SavedTaskSequencePackagePath, `SMS_TaskSequencePackage.PackageID="`), `"`)
	if len(id) != 8 {
		t.Fatalf("SetSequence saved %q", saved.SavedTaskSequencePackagePath)
	}
	return id, imported.TaskSequence
}

// stepToDisable picks, in a sequence's JSON, a top-level group and an
// enabled step directly inside it whose name no other step or group of the
// sequence starts with (so a tree item found by the start of its name is
// that step).
func stepToDisable(t *testing.T, ts map[string]any) (group, step string) {
	t.Helper()
	var names []string
	var walk func(steps []any)
	walk = func(steps []any) {
		for _, s := range steps {
			m, _ := s.(map[string]any)
			n, _ := m["Name"].(string)
			names = append(names, n)
			if kids, ok := m["Steps"].([]any); ok {
				walk(kids)
			}
		}
	}
	top, _ := ts["Steps"].([]any)
	walk(top)
	unique := func(name string) bool {
		n := 0
		for _, o := range names {
			if strings.HasPrefix(o, name) {
				n++
			}
		}
		return n == 1
	}
	for _, g := range top {
		gm, _ := g.(map[string]any)
		kids, ok := gm["Steps"].([]any)
		if !ok || gm["Enabled"] == false || !unique(gm["Name"].(string)) {
			continue
		}
		for _, s := range kids {
			sm, _ := s.(map[string]any)
			if _, isGroup := sm["Steps"]; isGroup || sm["Enabled"] == false {
				continue
			}
			if n, _ := sm["Name"].(string); n != "" && unique(n) {
				return gm["Name"].(string), n
			}
		}
	}
	t.Fatal("the corpus sequence has no enabled step with a name of its own inside a top-level group")
	return "", ""
}

type revision struct {
	Revision     int
	User         string
	Method       *string
	RestoredFrom *int
}

func revisions(t *testing.T, base, id string) []revision {
	t.Helper()
	var h struct{ Value []revision }
	rest(t, base, testAdminToken, "GET", "/tsprov/v1/history/"+id, nil, 200, &h)
	return h.Value
}

type diffAnswer struct {
	Changes []struct {
		Kind string
		Path []string
	}
}

func diffOf(t *testing.T, base, from, to string) diffAnswer {
	t.Helper()
	var d diffAnswer
	rest(t, base, testAdminToken, "GET", "/tsprov/v1/diff?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil, 200, &d)
	return d
}

// TestConsoleInBrowser runs the console's flows in headless Chromium
// against a real `tsprov serve`: sign in with a token, find a package,
// open a corpus task sequence, disable a step, save through the review
// dialog, compare the revisions in History and restore the first; a read-only
// analyst, signed in with user and password in a second browser context,
// sees the changes live and is offered no edit; a save after another user
// changed the sequence meanwhile is refused and explained, the edits kept.
// Screenshots of the main screens go to web/e2e/artifacts/, and axe-core
// must find no serious or critical violation on them. What the browser did
// is then checked through the REST API: the revisions, their diff, the
// restored sequence and the other user's change, not overwritten.
func TestConsoleInBrowser(t *testing.T) {
	node, chromium := browserTools(t)
	srv := startServerProcess(t, t.TempDir())

	const readerPassword = "read-only analyst's password"
	var reader struct{ AdminID int64 }
	rest(t, srv.url, testAdminToken, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "analyst", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00ALL"}}, 201, &reader)
	rest(t, srv.url, testAdminToken, "PUT", fmt.Sprintf("/tsprov/v1/admins/%d/password", reader.AdminID), map[string]any{"Password": readerPassword}, 204, nil)

	const operatorPassword, changedElsewhere = "operating system deployment manager", "changed while the console edits"
	var operator struct{ AdminID int64 }
	rest(t, srv.url, testAdminToken, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "operator", "Roles": []string{"SMS0007R"}, "Categories": []string{"SMS00ALL"}}, 201, &operator)
	rest(t, srv.url, testAdminToken, "PUT", fmt.Sprintf("/tsprov/v1/admins/%d/password", operator.AdminID), map[string]any{"Password": operatorPassword}, 204, nil)

	const name, other = "PSD Client", "Gather Light"
	id, ts := importCorpus(t, srv.url, e2eSequence, name)
	importCorpus(t, srv.url, e2eOther, other)
	group, step := stepToDisable(t, ts)
	before := revisions(t, srv.url, id)
	base := before[len(before)-1].Revision

	resp, err := http.Get(srv.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		msg := fmt.Sprintf("GET / answered %d %q, not the console's page", resp.StatusCode, resp.Header.Get("Content-Type"))
		if os.Getenv(requireBrowser) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; the console's browser tests are skipped")
	}

	artifacts, err := filepath.Abs(e2eArtifacts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"url": srv.url, "chromium": chromium, "artifacts": artifacts, "timeoutMs": 30000,
		"admin":    map[string]any{"name": "admin", "token": testAdminToken},
		"reader":   map[string]any{"name": "analyst", "password": readerPassword},
		"operator": map[string]any{"name": "operator", "password": operatorPassword, "description": changedElsewhere},
		"package":  map[string]any{"id": id, "name": name},
		"other":    other, "group": group, "step": step, "revision": base,
	}
	cfgFile := filepath.Join(t.TempDir(), "config.json")
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("disabling %q in group %q of %s (%s, revision %d)", step, group, id, name, base)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs", cfgFile)
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/console.mjs:\n%s", out)
	t.Logf("screenshots of the console: %s", artifacts)
	if err != nil {
		t.Fatalf("the browser flows failed: %v", err)
	}

	// What the browser did, as the REST API sees it: one save by the
	// administrator that disabled the step, then a restore of the first
	// revision, then the operator's change of the sequence, which the
	// refused save did not overwrite; the read-only analyst changed
	// nothing.
	after := revisions(t, srv.url, id)
	if len(after) != len(before)+3 {
		t.Fatalf("revisions after the flows: %+v, want three more than %d", after, len(before))
	}
	saved, restored, elsewhere := after[len(before)], after[len(before)+1], after[len(before)+2]
	if elsewhere.User != "operator" {
		t.Errorf("the last revision %+v is not the operator's change", elsewhere)
	}
	var now struct{ TaskSequence map[string]any }
	rest(t, srv.url, testAdminToken, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
	}, 200, &now)
	if steps, _ := now.TaskSequence["Steps"].([]any); len(steps) == 0 || steps[0].(map[string]any)["Description"] != changedElsewhere {
		t.Errorf("the operator's change to the first step's description was lost")
	}
	if saved.User != "admin" || saved.Method == nil || *saved.Method != "SetSequence" {
		t.Errorf("the save is revision %+v, want a SetSequence by admin", saved)
	}
	if restored.RestoredFrom == nil || *restored.RestoredFrom != base {
		t.Errorf("the last revision %+v is not a restore of revision %d", restored, base)
	}
	d := diffOf(t, srv.url, fmt.Sprintf("%s@%d", id, base), fmt.Sprintf("%s@%d", id, saved.Revision))
	if len(d.Changes) != 1 || d.Changes[0].Kind != "disabled" || len(d.Changes[0].Path) == 0 || d.Changes[0].Path[len(d.Changes[0].Path)-1] != step {
		t.Errorf("the save changed %+v, want only %q disabled", d.Changes, step)
	}
	if d := diffOf(t, srv.url, fmt.Sprintf("%s@%d", id, base), fmt.Sprintf("%s@%d", id, restored.Revision)); len(d.Changes) != 0 {
		t.Errorf("the restore differs from revision %d: %+v", base, d.Changes)
	}
	if d := diffOf(t, srv.url, fmt.Sprintf("%s@%d", id, restored.Revision), id); len(d.Changes) != 1 || d.Changes[0].Kind != "property" {
		t.Errorf("after the operator's change, the package differs from the restore by %+v, want one step's Description only", d.Changes)
	}
}
