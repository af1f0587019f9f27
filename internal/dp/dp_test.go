package dp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/distribution"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// A manifest a DP must not act on is refused before anything is fetched.
func TestManifestCheckRefuses(t *testing.T) {
	good := sum([]byte("x"))
	tests := []struct {
		name string
		m    Manifest
		want string
	}{
		{"another content", Manifest{ContentID: "PS100002.1", PackageID: "PS100002", SourceVersion: 1}, "names content"},
		{"id not package.version", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 2}, "do not make its id"},
		{"parent folder", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "../etc/passwd", SHA256: good}}}, "leaves the content folder"},
		{"absolute", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "/etc/passwd", SHA256: good}}}, "not a plain relative path"},
		{"backslash", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: `a\..\..\b`, SHA256: good}}}, "not a plain relative path"},
		{"drive", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "C:/x", SHA256: good}}}, "not a plain relative path"},
		{"bad hash", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "a", SHA256: "../../x"}}}, "is not SHA-256"},
		{"twice", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "A.txt", SHA256: good}, {Path: "a.TXT", SHA256: good}}}, "listed twice"},
		{"negative size", Manifest{ContentID: "PS100001.1", PackageID: "PS100001", SourceVersion: 1, Files: []File{{Path: "a", Size: -1, SHA256: good}}}, "negative size"},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.check("PS100001.1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("check = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// install puts verified blobs and a manifest in a library as a fetch
// does.
func install(t *testing.T, l *library, m *Manifest, files map[string][]byte) {
	t.Helper()
	for _, b := range files {
		p := l.blobPath(sum(b))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.install(m); err != nil {
		t.Fatal(err)
	}
}

// The client URL forms, on an installed content.
func TestServeURLForms(t *testing.T) {
	l, err := openLibrary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inf, wim := []byte("; driver\r\n"), []byte(strings.Repeat("wim!", 1000))
	m := &Manifest{ContentID: "PS100004.2", PackageID: "PS100004", SourceVersion: 2, Folders: []string{"Empty"}, Files: []File{
		{Path: "Drivers/Net Card/x.inf", Size: int64(len(inf)), SHA256: sum(inf)},
		{Path: "boot.wim", Size: int64(len(wim)), SHA256: sum(wim)},
	}}
	install(t, l, m, map[string][]byte{"inf": inf, "wim": wim})
	a := &Agent{lib: l, log: slog.Default()}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(method, path, rng string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	tests := []struct {
		method, path, rng string
		status            int
		body              string // a part of the answer
	}{
		{"GET", "/SMS_DP_SMSPKG$/PS100004", "", 200, `HREF="/SMS_DP_SMSPKG$/PS100004.2/Drivers"`},
		{"GET", "/SMS_DP_SMSPKG$/PS100004", "", 200, "&lt;dir&gt;"},
		{"GET", "/sms_dp_smspkg$/ps100004.2/drivers/", "", 200, `HREF="/SMS_DP_SMSPKG$/PS100004.2/drivers/Net%20Card"`},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.2/Empty", "", 200, "<pre>"},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.2/Drivers/Net%20Card/x.inf", "", 200, "; driver"},
		{"GET", `/SMS_DP_SMSPKG$/PS100004.2/sccm?/Drivers\Net%20Card\X.INF`, "", 200, "; driver"},
		{"GET", "/NOCERT_SMS_DP_SMSPKG$/PS100004.2/sccm?/boot.wim", "bytes=4-7", 206, "wim!"},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.2/boot.wim", "bytes=5000-6000", 416, "outside boot.wim, which has 4000 bytes"},
		{"HEAD", "/SMS_DP_SMSPKG$/PS100004.2/boot.wim", "", 200, ""},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.1/boot.wim", "", 404, "not installed"},
		{"GET", "/SMS_DP_SMSPKG$/PS100005", "", 404, "not installed"},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.2/nothing.txt", "", 404, "no file or folder"},
		{"GET", "/SMS_DP_SMSSIG$/PS100004.2.tar", "", 404, "no content at /SMS_DP_SMSSIG$/PS100004.2.tar"},
		{"GET", "/SMS_DP_SMSPKG$/PS100004.2/sccm?/%zz", "", 400, "not URL-encoded"},
		{"PUT", "/SMS_DP_SMSPKG$/PS100004.2/boot.wim", "", 405, "PUT: content is read with GET or HEAD"},
		{"GET", distribution.NotifyPath, "", 405, "a dispatch is POSTed"},
		{"POST", distribution.NotifyPath, "", 400, "a dispatch is a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.rng, func(t *testing.T) {
			resp, body := get(tt.method, tt.path, tt.rng)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("%d %q, want %d with %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.method == "HEAD" && resp.ContentLength != int64(len(wim)) {
				t.Fatalf("HEAD Content-Length %d, want %d", resp.ContentLength, len(wim))
			}
			if tt.status == 206 && resp.Header.Get("Content-Range") != "bytes 4-7/4000" {
				t.Fatalf("Content-Range %q", resp.Header.Get("Content-Range"))
			}
			if tt.status == 416 && resp.Header.Get("Content-Range") != "bytes */4000" {
				t.Fatalf("416 with Content-Range %q, want bytes */4000", resp.Header.Get("Content-Range"))
			}
			if tt.status >= 400 {
				// Refusals carry the OData error envelope, as on every route.
				var env struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal([]byte(body), &env); err != nil || env.Error.Code != strconv.Itoa(tt.status) || env.Error.Message == "" {
					t.Fatalf("%d answer %q: not the OData error envelope (%v)", tt.status, body, err)
				}
			}
		})
	}
}

// A library reopened after a crash that left packages.json naming a
// content whose manifest never got written serves nothing of it.
func TestLibraryReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := openLibrary(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("x")
	m := &Manifest{ContentID: "PS100004.1", PackageID: "PS100004", SourceVersion: 1, Files: []File{{Path: "x", Size: 1, SHA256: sum(b)}}}
	install(t, l, m, map[string][]byte{"x": b})
	if err := os.WriteFile(filepath.Join(dir, "packages.json"), []byte(`{"PS100004":"PS100004.1","PS100009":"PS100009.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = openLibrary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.current("PS100004"); !ok {
		t.Fatal("the installed content is gone after a reopen")
	}
	if _, ok := l.current("PS100009"); ok {
		t.Fatal("a content without its manifest counts as installed")
	}
	if err := l.remove("PS100004"); err != nil {
		t.Fatal(err)
	}
	if l.has(sum(b)) {
		t.Fatal("the blob of a removed package is kept")
	}
}

// A file whose bytes on the DP's disk are not the ones its SHA-256 names
// (damaged after it was installed, here while the agent was down, or
// rewritten while it runs) is never served: the agent checks it before
// serving it, answers 503, deletes it and fetches it again.
func TestServeRefusesDamagedFiles(t *testing.T) {
	l, err := openLibrary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good, other := []byte(strings.Repeat("good", 100)), []byte(strings.Repeat("also", 100))
	m := &Manifest{ContentID: "PS100004.1", PackageID: "PS100004", SourceVersion: 1, Files: []File{
		{Path: "a.bin", Size: int64(len(good)), SHA256: sum(good)},
		{Path: "b.bin", Size: int64(len(other)), SHA256: sum(other)},
	}}
	install(t, l, m, map[string][]byte{"a": good, "b": other})
	a := &Agent{lib: l, log: slog.Default(), wake: make(chan struct{}, 1)}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(path string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	// Damaged while the agent was down: same size, one byte changed.
	damaged := bytes.Clone(good)
	damaged[7] ^= 1
	if err := os.WriteFile(l.blobPath(sum(good)), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/SMS_DP_SMSPKG$/PS100004.1/a.bin"); code != http.StatusServiceUnavailable || bytes.Equal(body, damaged) {
		t.Fatalf("a damaged file: %d %q, want 503", code, body)
	}
	if l.has(sum(good)) {
		t.Fatal("the damaged blob is kept")
	}
	select {
	case <-a.wake:
	default:
		t.Fatal("the agent was not woken to fetch it again")
	}
	// A good file is checked once, then served.
	if code, body := get("/SMS_DP_SMSPKG$/PS100004.1/b.bin"); code != 200 || !bytes.Equal(body, other) {
		t.Fatalf("a good file: %d", code)
	}
	if !l.isVerified(sum(other)) {
		t.Fatal("a file checked is not marked verified")
	}
	// Rewritten on disk while the agent runs: checked again, refused.
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(l.blobPath(sum(other)), bytes.Repeat([]byte("x"), len(other)), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(l.blobPath(sum(other)), later, later)
	if code, _ := get("/SMS_DP_SMSPKG$/PS100004.1/b.bin"); code != http.StatusServiceUnavailable {
		t.Fatalf("a file rewritten after its check: %d, want 503", code)
	}
}

// A content no longer assigned while it was being fetched leaves nothing:
// neither its verified blobs nor its partial downloads.
func TestUnpendDropsWhatWasFetched(t *testing.T) {
	l, err := openLibrary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	done, half := []byte("fetched whole"), []byte("fetched in part")
	m := &Manifest{ContentID: "PS100004.1", PackageID: "PS100004", SourceVersion: 1, Files: []File{
		{Path: "a", Size: int64(len(done)), SHA256: sum(done)},
		{Path: "b", Size: int64(len(half)), SHA256: sum(half)},
	}}
	if err := l.pend(m); err != nil {
		t.Fatal(err)
	}
	p := l.blobPath(sum(done))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, done, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.partialPath(sum(half)), half[:5], 0o644); err != nil {
		t.Fatal(err)
	}
	// Still assigned: kept, so that the fetch resumes.
	if err := l.unpend(map[string]bool{"PS100004.1": true}); err != nil {
		t.Fatal(err)
	}
	if err := l.collect(); err != nil {
		t.Fatal(err)
	}
	if !l.has(sum(done)) {
		t.Fatal("a blob of a pending content was collected")
	}
	if _, err := os.Stat(l.partialPath(sum(half))); err != nil {
		t.Fatal("a partial download of a pending content was collected")
	}
	// No longer assigned: gone.
	if err := l.unpend(map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	if l.has(sum(done)) {
		t.Fatal("the blob of a dropped content is kept")
	}
	if _, err := os.Stat(l.partialPath(sum(half))); err == nil {
		t.Fatal("the partial download of a dropped content is kept")
	}
}

// A dispatch of the content a DP holds (RefreshNow: send it again) makes
// the agent check every file of it again; a dispatch of another version
// does not touch the checks of the one held.
func TestDispatchOfHeldContentChecksItAgain(t *testing.T) {
	l, err := openLibrary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("held")
	m := &Manifest{ContentID: "PS100004.1", PackageID: "PS100004", SourceVersion: 1, Files: []File{{Path: "f", Size: int64(len(b)), SHA256: sum(b)}}}
	install(t, l, m, map[string][]byte{"f": b})
	l.markVerified(sum(b))
	a := &Agent{lib: l, log: slog.Default(), wake: make(chan struct{}, 1), confirmed: map[string]bool{}}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	dispatch := func(content string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/tsprov-dp/v1/notify", "application/json",
			strings.NewReader(`{"packageId":"PS100004","action":"install","contentId":"`+content+`","attempt":1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("notify: %d", resp.StatusCode)
		}
	}
	dispatch("PS100004.2")
	if !l.isVerified(sum(b)) {
		t.Fatal("a dispatch of another version dropped the checks of the one held")
	}
	dispatch("PS100004.1")
	if l.isVerified(sum(b)) {
		t.Fatal("a dispatch of the content held keeps its files' checks")
	}
}
