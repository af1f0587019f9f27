package server

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestConsoleServed: `tsprov serve` answers the web console at / and its
// client routes without credentials (index.html, which holds no data), its
// assets with their content types and caching, every answer with a CSP
// that allows only the server's own origin; every other request (another
// method, an API path, an unknown or unclean path, a missing asset) still
// needs credentials and reaches the API as before.
func TestConsoleServed(t *testing.T) {
	s := startSecureServer(t, nil)
	index := s.must(200, "", "GET", "/", nil)
	if ct := index.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET /: Content-Type %q", ct)
	}
	if cc := index.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET /: Cache-Control %q, want no-cache (the page names the current assets)", cc)
	}
	csp := index.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET /: Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("GET /: Content-Security-Policy allows inline or eval: %q", csp)
	}
	if index.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /: no X-Content-Type-Options: nosniff")
	}

	// the page's assets: each referenced file is served, typed, cached for good
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(string(index.raw), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d assets, want a script and a style sheet:\n%s", len(refs), index.raw)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, m := range refs {
		a := s.must(200, "", "GET", m[1], nil)
		if ct := a.header.Get("Content-Type"); ct != types[filepath.Ext(m[1])] {
			t.Errorf("GET %s: Content-Type %q", m[1], ct)
		}
		if cc := a.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want immutable (the name carries the content's hash)", m[1], cc)
		}
		etag := a.header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", m[1])
			continue
		}
		if again := s.do("", "GET", m[1], nil, "If-None-Match", etag); again.status != 304 {
			t.Errorf("GET %s with If-None-Match: status %d, want 304", m[1], again.status)
		}
	}

	// client routes answer the page (a reload or bookmark of a screen)
	for _, p := range []string{"/packages", "/packages/PS100001", "/packages/PS100001/history"} {
		if a := s.must(200, "", "GET", p, nil); string(a.raw) != string(index.raw) {
			t.Errorf("GET %s: not index.html", p)
		}
	}
	if a := s.do("", "HEAD", "/", nil); a.status != 200 || a.header.Get("Content-Length") == "" {
		t.Errorf("HEAD /: status %d, Content-Length %q", a.status, a.header.Get("Content-Length"))
	}

	// everything else is the API's, signed in
	for _, c := range []struct{ method, path string }{
		{"POST", "/"}, {"PUT", "/packages"}, {"GET", "/assets/missing.js"}, {"GET", "/unknown"},
		{"GET", "/packages/../AdminService/wmi/SMS_Site"}, {"GET", "/AdminService/wmi/"}, {"GET", "/odata/"},
		{"GET", "/tsprov/v1/me"}, {"GET", "/metrics"},
	} {
		a := s.do("", c.method, c.path, nil)
		if a.status != 401 {
			t.Errorf("%s %s without credentials: status %d, want 401", c.method, c.path, a.status)
		}
	}
	if a := s.do(s.admin, "GET", "/assets/missing.js", nil); a.status != 404 {
		t.Errorf("GET a missing asset, signed in: status %d, want 404", a.status)
	} else {
		envelope(t, "a missing asset", a)
	}
	s.must(200, s.admin, "GET", "/AdminService/wmi/", nil)
	s.must(200, "", "GET", "/healthz", nil)
}

// TestConsoleClientMatchesMetadata: the $metadata the console's typed
// client is generated from (web/metadata.xml, which the build gives
// odata2ts) is the document the server serves at /odata/$metadata, so
// the committed console was built against this schema. After a schema
// change: copy the new document there and rebuild the console (docs/console.md).
func TestConsoleClientMatchesMetadata(t *testing.T) {
	s := startSecureServer(t, nil)
	served := s.must(200, s.admin, "GET", "/odata/$metadata", nil)
	committed, err := os.ReadFile("../../web/metadata.xml")
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != string(served.raw) {
		t.Fatalf("web/metadata.xml differs from /odata/$metadata (%d and %d bytes): update it and rebuild the console (docs/console.md)", len(committed), len(served.raw))
	}
}

// TestMe: /tsprov/v1/me says who the caller is and what its roles allow,
// by the rule every request is checked by: a Full Administrator may modify
// task sequence packages, a Read-only Analyst may only read them — and
// the API refuses it what /me does not list.
func TestMe(t *testing.T) {
	s := startSecureServer(t, nil)
	reader := s.addUser("reader", []string{"SMS0006R"}, []string{"SMS00UNA"})
	perms := func(token, class string) []string {
		a := s.must(200, token, "GET", "/tsprov/v1/me", nil)
		p, _ := a.body["Permissions"].(map[string]any)
		var out []string
		for _, v := range p[class].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	admin := s.must(200, s.admin, "GET", "/tsprov/v1/me", nil)
	if admin.body["LogonName"] != "admin" || admin.body["AllInstances"] != true {
		t.Errorf("/me of the first administrator: %s", admin.raw)
	}
	if p := perms(s.admin, "SMS_TaskSequencePackage"); !slices.Contains(p, "Modify") || !slices.Contains(p, "Create") {
		t.Errorf("Full Administrator on SMS_TaskSequencePackage: %v", p)
	}
	me := s.must(200, reader, "GET", "/tsprov/v1/me", nil)
	if me.body["LogonName"] != "reader" || me.body["AllInstances"] != false {
		t.Errorf("/me of the reader: %s", me.raw)
	}
	if p := perms(reader, "SMS_TaskSequencePackage"); !slices.Equal(p, []string{"Read"}) {
		t.Errorf("Read-only Analyst on SMS_TaskSequencePackage: %v, want [Read]", p)
	}
	if a := s.do(reader, "POST", tsPackagePath, map[string]any{"Name": "not allowed"}); a.status != 403 {
		t.Errorf("the reader creating a package: status %d, want 403 as /me says", a.status)
	}
	for _, private := range []string{"TSP_ObjectLock", "TSP_Token"} {
		if _, ok := me.body["Permissions"].(map[string]any)[private]; ok {
			t.Errorf("/me lists the private class %s", private)
		}
	}
	if a := s.do(s.admin, "POST", "/tsprov/v1/me", nil); a.status != 405 {
		t.Errorf("POST /me: status %d, want 405", a.status)
	}
}

// TestDiffDraft: POST /tsprov/v1/diff compares a stored package with a
// draft of its sequence that is not saved — what the console shows before
// it saves — and changes nothing.
func TestDiffDraft(t *testing.T) {
	s := startSecureServer(t, nil)
	xml := `<sequence version="3.00"><step type="SMS_TaskSequence_RunCommandLineAction" name="Say hello" runIn="WinPEandFullOS" successCodeList="0 3010"><action>cmd /c echo hello</action><defaultVarList><variable name="CommandLine" property="CommandLine">cmd /c echo hello</variable></defaultVarList></step></sequence>`
	id := s.storeSequence(s.admin, "Draft diff", xml)
	before := s.revisionsOf(s.admin, id)
	draft := strings.Replace(xml, `name="Say hello"`, `name="Say hello" disable="true"`, 1)
	a := s.must(200, s.admin, "POST", "/tsprov/v1/diff", map[string]any{"From": id, "Sequence": draft})
	changes, _ := a.body["changes"].([]any)
	if len(changes) != 1 {
		t.Fatalf("diff of a draft that disables one step: %s", a.raw)
	}
	c := changes[0].(map[string]any)
	if c["kind"] != "disabled" || fmt.Sprint(c["path"]) != "[Say hello]" {
		t.Errorf("diff of the draft: %v, want the step disabled", c)
	}
	if same := s.must(200, s.admin, "POST", "/tsprov/v1/diff", map[string]any{"From": id, "Sequence": xml}); len(same.body["changes"].([]any)) != 0 {
		t.Errorf("diff of the stored sequence against itself: %s", same.raw)
	}
	if after := s.revisionsOf(s.admin, id); len(after) != len(before) {
		t.Errorf("the diff made a revision: %d, then %d", len(before), len(after))
	}
	for _, bad := range []map[string]any{{"From": id}, {"Sequence": draft}, {"From": id, "Sequence": "<not xml"}, {"From": "PS1FFFFF", "Sequence": draft}} {
		envelope(t, "a bad draft diff", s.do(s.admin, "POST", "/tsprov/v1/diff", bad))
	}
	// reviewing needs only Read: a read-only user may compare
	reader := s.addUser("reader", []string{"SMS0006R"}, []string{"SMS00UNA"})
	s.must(200, reader, "POST", "/tsprov/v1/diff", map[string]any{"From": id, "Sequence": draft})
}
