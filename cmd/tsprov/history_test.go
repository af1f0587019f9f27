package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// namedServers starts two `tsprov serve` processes named SRV-A and SRV-B
// on one PostgreSQL schema, with one secret key, history pages of 20.
func namedServers(t *testing.T) [2]*serverProcess {
	t.Helper()
	db := pgtest.URL(t, t.Name())
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secrets.EnvKey, hex.EncodeToString(key))
	t.Setenv("TSPROV_PAGE_SIZE", "20")
	var s [2]*serverProcess
	for i, name := range []string{"SRV-A", "SRV-B"} {
		s[i] = startServerProcess(t, t.TempDir(), "--database", db, "--rate-limit", "-1", "--server-name", name)
	}
	return s
}

// send makes one request with the test token and a comment; it fails the
// test unless the answer is 2xx.
func send(t *testing.T, method, u string, body any, comment string) map[string]any {
	t.Helper()
	header := http.Header{}
	if comment != "" {
		header.Set("X-Tsprov-Comment", comment)
	}
	a, err := callWith(t, method, u, body, header)
	if err != nil {
		t.Fatal(err)
	}
	if a.status/100 != 2 {
		t.Fatalf("%s %s: %d %v", method, u, a.status, a.body)
	}
	return a.body
}

// steps is a sequence of n command line steps.
func steps(n int) map[string]any {
	list := []any{}
	for i := 1; i <= n; i++ {
		list = append(list, map[string]any{
			"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
			"Name":        fmt.Sprintf("Step %d", i),
			"CommandLine": fmt.Sprintf("cmd /c exit %d", i),
		})
	}
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": list}
}

// state is what a revision is checked against: what GET showed after the
// change.
type state struct{ name, description, sequence string }

func stateOf(t *testing.T, base, id string) state {
	t.Helper()
	e := send(t, "GET", base+pkgPath+"('"+id+"')", nil, "")
	v := e["value"].([]any)[0].(map[string]any)
	s := func(k string) string { x, _ := v[k].(string); return x }
	return state{s("Name"), s("Description"), s("Sequence")}
}

// TestHistoryAcrossTwoServers makes 50 changes to one package through
// every write path (SetSequence, PATCH, PUT, the Unlock and SetSourceSite
// methods), alternating between two servers on one PostgreSQL database,
// reads the 50 revisions back in order through the paged history (who,
// where, how, the comment), then restores each one and checks that the
// package is then what it was (the diff from the revision to the package
// is empty), each restore a new revision.
func TestHistoryAcrossTwoServers(t *testing.T) {
	s := namedServers(t)
	const changes = 50
	var id string
	want := make([]state, changes+1) // by revision
	methods := make([]string, changes+1)
	for i := 1; i <= changes; i++ {
		base := s[(i-1)%2].url
		comment := fmt.Sprintf("change %d ✓", i)
		switch i % 5 {
		case 1: // SetSequence: creates the package the first time
			pkg := map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": fmt.Sprintf("Deploy %d", i)}
			if id != "" {
				pkg["PackageID"] = id
			}
			out := send(t, "POST", base+pkgPath+".SetSequence", map[string]any{"TaskSequencePackage": pkg, "TaskSequence": steps(i%7 + 1)}, comment)
			path, _ := out["SavedTaskSequencePackagePath"].(string)
			id = strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
			methods[i] = "SetSequence"
		case 2:
			send(t, "PATCH", base+pkgPath+"('"+id+"')", map[string]any{"Name": fmt.Sprintf("Patched %d", i)}, comment)
		case 3:
			send(t, "PUT", base+pkgPath+"('"+id+"')", map[string]any{"Name": fmt.Sprintf("Put %d", i), "Description": fmt.Sprintf("replaced at %d", i)}, comment)
		case 4:
			send(t, "POST", base+pkgPath+"('"+id+"')/AdminService.Unlock", map[string]any{}, comment)
			methods[i] = "Unlock"
		case 0:
			send(t, "POST", base+pkgPath+"('"+id+"')/AdminService.SetSourceSite", map[string]any{"SourceSite": "PS1"}, comment)
			methods[i] = "SetSourceSite"
		}
		want[i] = stateOf(t, base, id)
	}

	// the history, read through the other server, 20 a page
	revs := history(t, s[1].url, id)
	if len(revs) != changes {
		t.Fatalf("%d revisions, want %d", len(revs), changes)
	}
	for i, r := range revs {
		n := i + 1
		wantOp := "update"
		if n == 1 {
			wantOp = "create"
		}
		if got := r["Revision"].(float64); int(got) != n {
			t.Errorf("revision %d numbered %v", n, got)
		}
		if r["Comment"] != fmt.Sprintf("change %d ✓", n) || r["Server"] != []string{"SRV-A", "SRV-B"}[(n-1)%2] ||
			r["Operation"] != wantOp || text(r["Method"]) != methods[n] || r["User"] == nil {
			t.Errorf("revision %d: %v", n, r)
		}
	}

	// each revision, as it was
	for n := 1; n <= changes; n++ {
		r := send(t, "GET", fmt.Sprintf("%s/tsprov/v1/history/%s/%d", s[n%2].url, id, n), nil, "")
		p := r["Package"].(map[string]any)
		if p["Name"] != want[n].name || text(p["Description"]) != want[n].description || p["Sequence"] != want[n].sequence {
			t.Errorf("revision %d holds Name %v, Description %v; want %+v", n, p["Name"], p["Description"], want[n])
		}
	}

	// each one restorable: a new revision, equal to it
	for n := 1; n <= changes; n++ {
		base := s[n%2].url
		send(t, "POST", fmt.Sprintf("%s/tsprov/v1/history/%s/%d/restore", base, id, n), nil, "")
		if got := stateOf(t, base, id); got != want[n] {
			t.Errorf("after restoring revision %d: %+v, want %+v", n, got, want[n])
		}
		d := send(t, "GET", base+"/tsprov/v1/diff?"+url.Values{"from": {fmt.Sprintf("%s@%d", id, n)}, "to": {id}}.Encode(), nil, "")
		if ch := d["changes"].([]any); len(ch) != 0 {
			t.Errorf("diff from revision %d to the restored package: %v", n, ch)
		}
	}
	revs = history(t, s[0].url, id)
	if len(revs) != 2*changes {
		t.Fatalf("after the restores: %d revisions, want %d", len(revs), 2*changes)
	}
	for n := 1; n <= changes; n++ {
		r := revs[changes+n-1]
		if int(r["RestoredFrom"].(float64)) != n || r["Comment"] != fmt.Sprintf("restore of revision %d", n) {
			t.Errorf("revision %d: %v, want a restore of %d", changes+n, r, n)
		}
	}

	// the command line: log newest first, diff of two revisions
	code, out, errOut := runCLI("ts", "log", id, "--server", s[0].url)
	if code != 0 || !strings.Contains(strings.Split(out, "\n")[1], fmt.Sprint(2*changes)) || !strings.Contains(out, "change 3 ✓") {
		t.Errorf("ts log: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI("ts", "diff", id+"@2", id+"@3", "--server", s[1].url)
	if code != 0 || !strings.Contains(out, `package-property package Name: "Patched 2" → "Put 3"`) || !strings.Contains(out, `Description: null → "replaced at 3"`) {
		t.Errorf("ts diff: %d %s %s", code, out, errOut)
	}
}

// history reads a package's whole history, following @odata.nextLink.
func history(t *testing.T, base, id string) []map[string]any {
	t.Helper()
	var all []map[string]any
	next := base + "/tsprov/v1/history/" + id
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("no end to the pages")
		}
		page := send(t, "GET", next, nil, "")
		for _, v := range page["value"].([]any) {
			all = append(all, v.(map[string]any))
		}
		next, _ = page["@odata.nextLink"].(string)
	}
	return all
}

// TestHistoryCommands: `ts restore` with --message records the comment
// and makes the package what the revision held; `ts log --json` lists
// the revisions; `ts diff FILE ID` compares a file with a stored
// package; `ts purge-history` refuses a package that exists and purges a
// deleted one's history. Bad arguments are one line and a non-zero exit.
func TestHistoryCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir(), "--rate-limit", "-1")
	server := "--server=" + srv.url
	out := send(t, "POST", srv.url+pkgPath+".SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": "v1"},
		"TaskSequence":        steps(3),
	}, "")
	path, _ := out["SavedTaskSequencePackagePath"].(string)
	id := strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
	first := stateOf(t, srv.url, id)
	send(t, "PATCH", srv.url+pkgPath+"('"+id+"')", map[string]any{"Name": "v2"}, "")

	code, stdout, stderr := runCLI("ts", "restore", server, "-m", "back to the first build", id, "1")
	if code != 0 || !strings.Contains(stdout, "revision 1 restored") {
		t.Fatalf("ts restore: %d %q %q", code, stdout, stderr)
	}
	if got := stateOf(t, srv.url, id); got != first {
		t.Errorf("after ts restore: %+v, want %+v", got, first)
	}
	code, stdout, stderr = runCLI("ts", "log", server, "--json", id)
	var revs []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &revs) != nil || len(revs) != 3 {
		t.Fatalf("ts log --json: %d %q %q", code, stdout, stderr)
	}
	if last := revs[2]; text(last["RestoredFrom"]) != "1" || last["Comment"] != "back to the first build" {
		t.Errorf("the restore's revision: %v", last)
	}

	// a file against the stored package: the file renames a step
	file := filepath.Join(t.TempDir(), "edited.xml")
	edited := strings.Replace(first.sequence, `name="Step 2"`, `name="Step two"`, 1)
	if edited == first.sequence {
		t.Fatalf("no step 2 in %s", first.sequence)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI("ts", "diff", server, file, id)
	if code != 0 || !strings.Contains(stdout, `"Step two" → "Step 2"`) || !strings.Contains(stdout, "1 change: 1 renamed") {
		t.Errorf("ts diff FILE ID: %d %q %q", code, stdout, stderr)
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"ts", "restore", server, id, "first"}, 2, "first"},
		{[]string{"ts", "restore", server, id}, 2, "revision number"},
		{[]string{"ts", "restore", server, id, "99"}, 1, "99"},
		{[]string{"ts", "purge-history", server, id}, 1, id},
	} {
		code, _, stderr := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line naming %s", c.args, code, stderr, c.code, c.says)
		}
	}
	if n := len(history(t, srv.url, id)); n != 3 {
		t.Errorf("refused commands left %d revisions, want 3", n)
	}

	send(t, "DELETE", srv.url+pkgPath+"('"+id+"')", nil, "")
	code, stdout, stderr = runCLI("ts", "purge-history", server, id)
	if code != 0 || !strings.Contains(stdout, id+": 4 revisions purged") {
		t.Fatalf("ts purge-history of a deleted package: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("ts", "log", server, id); code != 1 || !strings.Contains(stderr, id) {
		t.Errorf("ts log after the purge: %d %q", code, stderr)
	}
}
