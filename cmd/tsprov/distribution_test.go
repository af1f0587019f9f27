package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/dp"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// makeTree writes a package source of about size bytes: many small text
// files in nested folders, some of a few hundred KB, a few large ones of
// random bytes, two with the same bytes (stored once), an empty file and
// an empty folder. The same seed gives the same tree.
func makeTree(t *testing.T, dir string, size int64) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, uint64(size)))
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	random := func(n int64) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var total int64
	for i := range 60 {
		text := bytes.Repeat([]byte(fmt.Sprintf("; driver %d line\r\n", i)), 20+r.IntN(200))
		write(fmt.Sprintf("Drivers/Model%02d/driver%02d.inf", i%7, i), text)
		total += int64(len(text))
	}
	for i := range 8 {
		b := random(int64(100<<10 + r.IntN(300<<10)))
		write(fmt.Sprintf("Tools/tool%d.exe", i), b)
		total += int64(len(b))
	}
	dup := random(64 << 10)
	write("Scripts/copy1.bin", dup)
	write("Scripts/Sub Folder/copy2.bin", dup)
	write("empty.txt", nil)
	if err := os.MkdirAll(filepath.Join(dir, "Logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	big := (size - total) / 4
	for i := range 4 {
		if big > 0 {
			write(fmt.Sprintf("Images/part%d.wim", i), random(big))
		}
	}
}

// meter is a reverse proxy in front of the site server for one DP agent:
// it counts the content bytes (blobs) it passes, and can hold a transfer
// once a number of them has passed (to kill the agent mid-transfer).
type meter struct {
	srv       *httptest.Server
	blobBytes atomic.Int64
	corrupt   atomic.Bool // flip the first byte of every read: a site sending bad content
	mu        sync.Mutex
	holdAt    int64         // 0: never
	held      chan struct{} // closed when the hold begins
	release   chan struct{} // closed to let transfers go on
}

func newMeter(t *testing.T, target string) *meter {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	m := &meter{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.ModifyResponse = func(resp *http.Response) error {
		if strings.HasPrefix(resp.Request.URL.Path, "/tsprov/v1/content/blobs/") {
			resp.Body = &meteredBody{ReadCloser: resp.Body, m: m}
		}
		return nil
	}
	m.srv = httptest.NewServer(rp)
	t.Cleanup(m.srv.Close)
	return m
}

// holdAfter makes transfers stop once n more blob bytes have passed.
func (m *meter) holdAfter(n int64) (held <-chan struct{}, release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.holdAt = m.blobBytes.Load() + n
	m.held = make(chan struct{})
	m.release = make(chan struct{})
	rel := m.release
	return m.held, func() { close(rel) }
}

type meteredBody struct {
	io.ReadCloser
	m *meter
}

func (b *meteredBody) Read(p []byte) (int, error) {
	m := b.m
	m.mu.Lock()
	at, held, release := m.holdAt, m.held, m.release
	m.mu.Unlock()
	if at > 0 {
		left := at - m.blobBytes.Load()
		if left <= 0 {
			m.mu.Lock()
			select {
			case <-held:
			default:
				close(held)
			}
			m.mu.Unlock()
			<-release
			return 0, io.ErrUnexpectedEOF
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 && m.corrupt.Load() {
		p[0] ^= 0xff
	}
	m.blobBytes.Add(int64(n))
	return n, err
}

// storedBytes is what a DP agent holds of content on disk: verified blobs
// and partial downloads.
func storedBytes(t *testing.T, store string) int64 {
	var n int64
	for _, sub := range []string{"blobs", "partial"} {
		_ = filepath.WalkDir(filepath.Join(store, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			}
			return nil
		})
	}
	return n
}

// agentProcess is a tsprov dp serve child process.
type agentProcess struct {
	cmd  *exec.Cmd
	url  string
	host string
	out  syncBuffer // its standard output (a pipe: plain progress lines)
}

func startAgent(t *testing.T, host, store, provider string, extra ...string) *agentProcess {
	t.Helper()
	args := []string{"dp", "serve", "--listen", "127.0.0.1:0", "--store", store, "--provider", provider,
		"--token", testAdminToken, "--host", host, "--poll", "1s", "--log-level", "warn"}
	if len(extra) == 0 {
		extra = []string{"--quiet"}
	}
	cmd := exec.Command(os.Args[0], append(args, extra...)...)
	cmd.Env = append(os.Environ(), "TSPROV_TEST_RUN_MAIN=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agentProcess{cmd: cmd, host: host}
	t.Cleanup(func() { a.kill() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(&a.out, sc.Text())
			if rest, ok := strings.CutPrefix(sc.Text(), "tsprov dp: serving on "); ok {
				addr <- rest
			}
		}
	}()
	select {
	case a.url = <-addr:
		a.url = "http://" + a.url
	case <-time.After(60 * time.Second):
		t.Fatalf("DP agent %s not ready after 60 s", host)
	}
	return a
}

func (a *agentProcess) kill() {
	if a.cmd.Process != nil && a.cmd.ProcessState == nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
}

func (a *agentProcess) status(t *testing.T) dp.Status {
	t.Helper()
	var st dp.Status
	resp, err := http.Get(a.url + dp.StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// site is the test's client of the server.
type site struct {
	t   *testing.T
	url string
}

func (s site) call(method, path string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	if resp.StatusCode/100 != 2 {
		s.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

type manifestJSON struct {
	ContentID     string `json:"contentId"`
	SourceVersion int64  `json:"sourceVersion"`
	Hash          string `json:"hash"`
	Size          int64  `json:"size"`
	Files         []struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
}

func (s site) manifest(pkg string) manifestJSON {
	s.t.Helper()
	var cur struct {
		Current string `json:"current"`
	}
	if s.call("GET", "/tsprov/v1/content/packages/"+pkg, nil, &cur) != 200 {
		s.t.Fatalf("package %s has no content", pkg)
	}
	var m manifestJSON
	s.call("GET", "/tsprov/v1/content/"+cur.Current+"/manifest", nil, &m)
	return m
}

// waitInstalled waits until every DP in hosts reports the package
// installed at version.
func (s site) waitInstalled(pkg string, version int64, n int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	filter := url.QueryEscape(fmt.Sprintf("PackageID eq '%s' and State eq 0 and SourceVersion eq %d", pkg, version))
	for {
		var out struct {
			Value []map[string]any `json:"value"`
		}
		s.call("GET", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer?$filter="+filter, nil, &out)
		if len(out.Value) == n {
			return
		}
		if time.Now().After(deadline) {
			var all struct {
				Value []map[string]any `json:"value"`
			}
			s.call("GET", "/AdminService/wmi/SMS_DistributionDPStatus", nil, &all)
			s.t.Fatalf("%d of %d DPs installed %s.%d after %s; status: %v", len(out.Value), n, pkg, version, timeout, all.Value)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// download fetches every file of content m from the DP with Range
// requests (two halves), checks HEAD's Content-Length and each hash, and
// writes the files under dir (when not ""), as a client would.
func download(t *testing.T, dpURL string, m manifestJSON, dir string) {
	t.Helper()
	for _, f := range m.Files {
		segs := strings.Split(f.Path, "/")
		for i := range segs {
			segs[i] = url.PathEscape(segs[i])
		}
		u := dpURL + "/SMS_DP_SMSPKG$/" + m.ContentID + "/sccm?/" + strings.Join(segs, `\`) // as BITS asks: backslashes, escaped names
		head, err := http.Head(u)
		if err != nil {
			t.Fatal(err)
		}
		head.Body.Close()
		if head.StatusCode != 200 || head.ContentLength != f.Size {
			t.Fatalf("HEAD %s: %d, Content-Length %d, want %d", u, head.StatusCode, head.ContentLength, f.Size)
		}
		h := sha256.New()
		var w io.Writer = h
		var file *os.File
		if dir != "" {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if file, err = os.Create(p); err != nil {
				t.Fatal(err)
			}
			w = io.MultiWriter(h, file)
		}
		half := f.Size / 2
		for _, r := range [][2]int64{{0, half - 1}, {half, f.Size - 1}} {
			if r[1] < r[0] {
				continue
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("GET %s Range %v: %d, want 206", u, r, resp.StatusCode)
			}
			if _, err := io.Copy(w, resp.Body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if file != nil {
			file.Close()
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
			t.Fatalf("%s from %s: SHA-256 %s, want %s", f.Path, dpURL, got, f.SHA256)
		}
	}
}

func TestDistributionEndToEnd(t *testing.T) { distributeEndToEnd(t, 12<<20, 2*time.Minute) }

// The acceptance case: a 200 MB package to three DP agents.
func TestDistribution200MB(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB distribution: skipped with -short")
	}
	distributeEndToEnd(t, 200<<20, 8*time.Minute)
}

func distributeEndToEnd(t *testing.T, size int64, timeout time.Duration) {
	srv := startServerProcess(t, t.TempDir())
	s := site{t: t, url: srv.url}
	src := t.TempDir()
	makeTree(t, src, size)
	var pkg map[string]any
	if code := s.call("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Drivers and images", "PkgSourcePath": src}, &pkg); code != 201 {
		t.Fatalf("create package: %d", code)
	}
	id := pkg["PackageID"].(string)
	m1 := s.manifest(id)

	// Three agents, each behind its meter; the third is held halfway
	// through and killed.
	var meters []*meter
	var agents []*agentProcess
	stores := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for i := range 3 {
		m := newMeter(t, srv.url)
		meters = append(meters, m)
		var extra []string
		if i == 0 {
			extra = []string{"--log-level", "warn"} // progress lines on its stdout
		}
		agents = append(agents, startAgent(t, fmt.Sprintf("DP%d.TEST.LOCAL", i+1), stores[i], m.srv.URL, extra...))
	}
	held, release := meters[2].holdAfter(m1.Size / 2)
	if code, out, errOut := runCLI("dp", "add", "--server", srv.url, "--token", testAdminToken, id, "DP1.TEST.LOCAL", "DP2.TEST.LOCAL", "DP3.TEST.LOCAL"); code != 0 {
		t.Fatalf("tsprov dp add: %d %s %s", code, out, errOut)
	}
	select {
	case <-held:
	case <-time.After(timeout):
		t.Fatal("DP3 never got halfway")
	}
	// Let what crossed the proxy reach the agent's files (a loaded machine
	// may keep it in socket buffers a while), then kill it.
	for deadline := time.Now().Add(20 * time.Second); storedBytes(t, stores[2]) < meters[2].blobBytes.Load() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	agents[2].kill()
	beforeKill := meters[2].blobBytes.Load()
	had := storedBytes(t, stores[2]) // what DP3 holds: what it must not be sent again
	release()
	meters[2].mu.Lock()
	meters[2].holdAt = 0
	meters[2].mu.Unlock()
	agents[2] = startAgent(t, "DP3.TEST.LOCAL", stores[2], meters[2].srv.URL)

	s.waitInstalled(id, m1.SourceVersion, 3, timeout)
	unique := map[string]int64{}
	for _, f := range m1.Files {
		unique[f.SHA256] = f.Size
	}
	var distinct int64
	for _, n := range unique {
		distinct += n
	}
	for i, m := range meters {
		got, want := m.blobBytes.Load(), distinct
		if i == 2 {
			// Every byte once, but for those that had crossed the network
			// and not reached DP3's disk when it was killed (none, unless
			// the machine was too loaded to write them in 20 s).
			want += beforeKill - had
		}
		if got != want {
			t.Errorf("DP%d: %d content bytes crossed the network, want %d", i+1, got, want)
		}
	}
	if had == 0 || had >= distinct {
		t.Errorf("DP3 held %d of %d bytes when it was killed: not mid-transfer", had, distinct)
	}
	t.Logf("DP3 had %d bytes on disk (%d sent) when killed; %d sent in all for %d distinct bytes", had, beforeKill, meters[2].blobBytes.Load(), distinct)

	// Off a terminal, the agent prints plain progress lines.
	if want := fmt.Sprintf("%s: %d/%d files, %s of %s, ", m1.ContentID, len(unique), len(unique), sizeText(distinct), sizeText(distinct)); !strings.Contains(agents[0].out.String(), want) ||
		!strings.Contains(agents[0].out.String(), ", installed\n") {
		t.Errorf("DP1's output has no line %q…installed:\n%s", want, agents[0].out.String())
	}

	// tsprov dp status: a line per DP with its state and bytes.
	code, out, errOut := runCLI("dp", "status", "--server", srv.url, "--token", testAdminToken, id)
	if code != 0 || strings.Count(out, "INSTALLED") != 3 || !strings.Contains(out, "DP2.TEST.LOCAL") || !strings.Contains(out, "BYTES") {
		t.Fatalf("tsprov dp status %s: %d\n%s%s", id, code, out, errOut)
	}
	code, out, errOut = runCLI("dp", "status", "--watch", "--server", srv.url, "--token", testAdminToken, id)
	if code != 0 || strings.Count(out, "INSTALLED") != 3 {
		t.Fatalf("tsprov dp status --watch %s: %d\n%s%s", id, code, out, errOut)
	}
	code, out, errOut = runCLI("dp", "status", "--server", srv.url, "--token", testAdminToken)
	if code != 0 || strings.Count(out, "Success") != 3 {
		t.Fatalf("tsprov dp status: %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("dp", "add", "--server", srv.url, "--token", testAdminToken, id, `["Display=\\NOPE\"]MSWNET:["SMS_SITE=PS1"]\\NOPE\`); code == 0 || !strings.Contains(errOut, "no distribution point") {
		t.Fatalf("tsprov dp add with an unknown DP: %d %s", code, errOut)
	}

	// Clients: every file from every DP by Range, hashes checked; the hash
	// a client computes over the folder is GetPackageDefaultHash.
	client := t.TempDir()
	for i, a := range agents {
		dir := ""
		if i == 0 {
			dir = client
		}
		download(t, a.url, m1, dir)
	}
	var hash map[string]any
	s.call("POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetPackageDefaultHash", map[string]any{"PackageID": id, "SourceVersion": m1.SourceVersion}, &hash)
	if err := os.MkdirAll(filepath.Join(client, "Logs"), 0o755); err != nil { // empty folders travel in the manifest, not as files
		t.Fatal(err)
	}
	got, err := content.HashDir(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hash["Hash"] != got.Hash || got.Hash != m1.Hash {
		t.Fatalf("GetPackageDefaultHash %v; the client's hash of the downloaded folder %s; the manifest's %s", hash["Hash"], got.Hash, m1.Hash)
	}

	// The URL forms: the package's listing points at its version; a range
	// outside the file is 416; content not installed is 404.
	resp, err := http.Get(agents[1].url + "/SMS_DP_SMSPKG$/" + id)
	if err != nil {
		t.Fatal(err)
	}
	listing, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(listing), "/SMS_DP_SMSPKG$/"+m1.ContentID+"/Drivers") || !strings.Contains(string(listing), "&lt;dir&gt;") {
		t.Fatalf("listing of %s: %d\n%s", id, resp.StatusCode, listing)
	}
	f0 := m1.Files[0]
	req, _ := http.NewRequest("GET", agents[1].url+"/SMS_DP_SMSPKG$/"+m1.ContentID+"/"+f0.Path, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", f0.Size+10, f0.Size+20))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("Range outside the file: %v %v", resp.StatusCode, err)
	}
	if resp, err := http.Get(agents[1].url + "/SMS_DP_SMSPKG$/" + id + ".99/empty.txt"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a version not installed: %v %v", resp.StatusCode, err)
	}

	// A refresh after one file changed moves that file only.
	changed := filepath.Join(src, "Drivers", "Model03", "driver03.inf")
	if err := os.WriteFile(changed, []byte("; a new driver\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := []int64{meters[0].blobBytes.Load(), meters[1].blobBytes.Load(), meters[2].blobBytes.Load()}
	// tsprov pkg refresh --watch: the server's progress reading the
	// source (plain lines off a terminal), then the DPs until each has
	// installed the new version.
	code, out, errOut = runProcess(t, "pkg", "refresh", "--watch", "--progress-every", "1ns", "--server", srv.url, "--token", testAdminToken, id)
	m2 := s.manifest(id)
	if m2.SourceVersion == m1.SourceVersion {
		t.Fatalf("the refresh made no new content")
	}
	if code != 0 || !strings.Contains(out, fmt.Sprintf("new content %s", m2.ContentID)) || strings.Count(out, "INSTALLED") < 3 ||
		!strings.Contains(errOut, fmt.Sprintf("refresh %s: %d/%d files, %s of %s", id, len(m2.Files), len(m2.Files), sizeText(m2.Size), sizeText(m2.Size))) {
		t.Fatalf("tsprov pkg refresh --watch: %d\n%s%s", code, out, errOut)
	}
	s.waitInstalled(id, m2.SourceVersion, 3, timeout)
	for i, m := range meters {
		if moved := m.blobBytes.Load() - before[i]; moved != int64(len("; a new driver\r\n")) {
			t.Errorf("DP%d: the refresh moved %d bytes, want %d (the changed file)", i+1, moved, len("; a new driver\r\n"))
		}
	}
	download(t, agents[2].url, m2, "")
	if resp, err := http.Get(agents[2].url + "/SMS_DP_SMSPKG$/" + m1.ContentID + "/empty.txt"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("the old version after the update: %v %v", resp.StatusCode, err)
	}

	// RefreshNow on DP2's row: the DP is asked again and confirms.
	row2 := "/AdminService/wmi/" + url.PathEscape(fmt.Sprintf("SMS_DistributionPoint(PackageID='%s',ServerNALPath='%s',SiteCode='PS1')", id, agents[1].status(t).NALPath))
	if code := s.call("PATCH", row2, map[string]any{"RefreshNow": true}, nil); code != 200 {
		t.Fatalf("RefreshNow: %d", code)
	}
	var updating struct {
		Value []map[string]any `json:"value"`
	}
	s.call("GET", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer?$filter="+url.QueryEscape(fmt.Sprintf("PackageID eq '%s' and State ne 0", id)), nil, &updating)
	if len(updating.Value) != 1 {
		t.Fatalf("summaries not INSTALLED right after RefreshNow: %v, want DP2's", updating.Value)
	}
	s.waitInstalled(id, m2.SourceVersion, 3, timeout)

	// Removing a DP from the package removes its content there.
	key := url.PathEscape(fmt.Sprintf("SMS_DistributionPoint(PackageID='%s',ServerNALPath='%s',SiteCode='PS1')", id, agents[0].status(t).NALPath))
	if code := s.call("DELETE", "/AdminService/wmi/"+key, nil, nil); code != 204 {
		t.Fatalf("delete the DP's assignment: %d", code)
	}
	deadline := time.Now().Add(timeout)
	for len(agents[0].status(t).Packages) != 0 || storedBytes(t, stores[0]) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("DP1 still holds the package (%d bytes)", storedBytes(t, stores[0]))
		}
		time.Sleep(300 * time.Millisecond)
	}
	if resp, err := http.Get(agents[0].url + "/SMS_DP_SMSPKG$/" + id); err != nil || resp.StatusCode != 404 {
		t.Fatalf("content after its removal: %v %v", resp.StatusCode, err)
	}
	var left struct {
		Value []map[string]any `json:"value"`
	}
	for ; time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		s.call("GET", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer?$filter="+url.QueryEscape("PackageID eq '"+id+"'"), nil, &left)
		if len(left.Value) == 2 {
			break
		}
	}
	if len(left.Value) != 2 {
		t.Fatalf("summaries after DP1's removal: %v", left.Value)
	}
}

// Two servers on one PostgreSQL database drive the jobs of three DP
// agents: every dispatch an agent receives is one attempt of one job,
// sent by one server.
func TestDistributionTwoServersOnePostgres(t *testing.T) {
	db := pgtest.URL(t, t.Name())
	lib := t.TempDir()
	servers := []*serverProcess{
		startServerProcess(t, t.TempDir(), "--database", db, "--content", lib, "--rate-limit", "-1"),
		startServerProcess(t, t.TempDir(), "--database", db, "--content", lib, "--rate-limit", "-1"),
	}
	s := site{t: t, url: servers[0].url}
	var agents []*agentProcess
	for i := range 3 {
		agents = append(agents, startAgent(t, fmt.Sprintf("DP%d.TEST.LOCAL", i+1), t.TempDir(), servers[i%2].url))
	}
	var ids []string
	for i := range 4 {
		src := t.TempDir()
		makeTree(t, src, 256<<10)
		if err := os.WriteFile(filepath.Join(src, "id.txt"), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		var pkg map[string]any
		site{t: t, url: servers[i%2].url}.call("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": fmt.Sprintf("P%d", i), "PkgSourcePath": src}, &pkg)
		id := pkg["PackageID"].(string)
		ids = append(ids, id)
		if code, out, errOut := runCLI("dp", "add", "--server", servers[(i+1)%2].url, "--token", testAdminToken, id, "DP1.TEST.LOCAL", "DP2.TEST.LOCAL", "DP3.TEST.LOCAL"); code != 0 {
			t.Fatalf("tsprov dp add: %d %s %s", code, out, errOut)
		}
	}
	for _, id := range ids {
		s.waitInstalled(id, s.manifest(id).SourceVersion, 3, 2*time.Minute)
	}
	drivers := map[string]int{}
	for _, a := range agents {
		seen := map[string]string{}
		for _, d := range a.status(t).Dispatches {
			k := fmt.Sprintf("%s attempt %d", d.PackageID, d.Attempt)
			if prev, dup := seen[k]; dup {
				t.Fatalf("%s: %s dispatched twice (by %s and %s)", a.host, k, prev, d.Driver)
			}
			seen[k] = d.Driver
			drivers[d.Driver]++
		}
	}
	if len(drivers) != 2 {
		t.Fatalf("dispatches by server: %v; want both servers to drive jobs", drivers)
	}
	t.Logf("dispatches by server: %v", drivers)
}

// A DP that receives content whose hash is wrong never installs it nor
// serves it; it reports the failure, and installs the content once the
// bytes are right.
func TestDistributionRefusesBadContent(t *testing.T) {
	srv := startServerProcess(t, t.TempDir())
	s := site{t: t, url: srv.url}
	src := t.TempDir()
	makeTree(t, src, 1<<20)
	var pkg map[string]any
	s.call("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Tools", "PkgSourcePath": src}, &pkg)
	id := pkg["PackageID"].(string)
	m := newMeter(t, srv.url)
	m.corrupt.Store(true)
	store := t.TempDir()
	a := startAgent(t, "DP1.TEST.LOCAL", store, m.srv.URL)
	if code, out, errOut := runCLI("dp", "add", "--server", srv.url, "--token", testAdminToken, id, "DP1.TEST.LOCAL"); code != 0 {
		t.Fatalf("tsprov dp add: %d %s %s", code, out, errOut)
	}
	filter := url.QueryEscape("PackageID eq '" + id + "' and MessageState eq 3")
	deadline := time.Now().Add(time.Minute)
	for {
		var out struct {
			Value []map[string]any `json:"value"`
		}
		s.call("GET", "/AdminService/wmi/SMS_DistributionDPStatus?$filter="+filter, nil, &out)
		if len(out.Value) == 1 {
			if msg := fmt.Sprint(out.Value[0]["InsString2"]); !strings.Contains(msg, "hash mismatch") {
				t.Fatalf("the error message: %s", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error reported for content with a bad hash")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st := a.status(t); len(st.Packages) != 0 {
		t.Fatalf("content with a bad hash installed: %v", st.Packages)
	}
	if resp, err := http.Get(a.url + "/SMS_DP_SMSPKG$/" + id); err != nil || resp.StatusCode != 404 {
		t.Fatalf("content with a bad hash served: %v %v", resp.StatusCode, err)
	}
	entries, _ := os.ReadDir(filepath.Join(store, "blobs"))
	for _, e := range entries {
		if sub, _ := os.ReadDir(filepath.Join(store, "blobs", e.Name())); len(sub) > 0 {
			t.Fatalf("a blob with a bad hash kept: %s/%s", e.Name(), sub[0].Name())
		}
	}
	m.corrupt.Store(false)
	man := s.manifest(id)
	s.waitInstalled(id, man.SourceVersion, 1, 2*time.Minute)
	download(t, a.url, man, "")

	// A file damaged on the DP's disk while the agent was down: the agent
	// checks what it holds when it starts, fetches that file again (only
	// it), and never serves the damaged bytes.
	big := man.Files[0]
	for _, f := range man.Files {
		if f.Size > big.Size {
			big = f
		}
	}
	blob := filepath.Join(store, "blobs", big.SHA256[:2], big.SHA256)
	a.kill()
	damage := func() {
		t.Helper()
		b, err := os.ReadFile(blob)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(blob, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	damage()
	before := m.blobBytes.Load()
	a = startAgent(t, "DP1.TEST.LOCAL", store, m.srv.URL)
	deadline = time.Now().Add(time.Minute)
	for m.blobBytes.Load()-before < big.Size {
		if time.Now().After(deadline) {
			t.Fatalf("the damaged file was not fetched again: %d bytes moved", m.blobBytes.Load()-before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitInstalled(id, man.SourceVersion, 1, time.Minute)
	download(t, a.url, man, "")
	if moved := m.blobBytes.Load() - before; moved != big.Size {
		t.Errorf("after the damage %d bytes were fetched again, want %d (the damaged file)", moved, big.Size)
	}
	var msg struct {
		Value []map[string]any `json:"value"`
	}
	s.call("GET", "/AdminService/wmi/SMS_DistributionDPStatus?$filter="+url.QueryEscape("PackageID eq '"+id+"'"), nil, &msg)
	if len(msg.Value) != 1 || msg.Value[0]["MessageState"] != float64(1) {
		t.Fatalf("status after the repair: %v", msg.Value)
	}

	// Damaged while the agent runs: the next client asking for it gets a
	// 503, never the damaged bytes, and the agent fetches it again.
	damage()
	u := a.url + "/SMS_DP_SMSPKG$/" + man.ContentID + "/" + big.Path
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET of a file damaged on the DP: %d, want 503", resp.StatusCode)
	}
	for deadline = time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the file damaged on the DP was not fetched again")
		}
	}
	download(t, a.url, man, "")
}

// tsprov dp serve and dp add refuse bad input with one line and a
// non-zero status.
func TestDPCommandsRefuse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	var pkg map[string]any
	site{t: t, url: srv.url}.call("POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Tools"}, &pkg)
	id := pkg["PackageID"].(string)
	t.Setenv("TSPROV_TOKEN", "") // each command below names its token, or none
	store := t.TempDir()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"dp", "serve", "--store", store, "--provider", srv.url, "--token", "", "--listen", "127.0.0.1:0"}, "--token"},
		{[]string{"dp", "serve", "--store", store, "--provider", srv.url, "--token", testAdminToken, "--listen", "127.0.0.1:0", "--site", "PS2", "--quiet"}, "refused the registration"},
		{[]string{"dp", "serve", "--store", store, "--provider", srv.url, "--token", testAdminToken, "--listen", "127.0.0.1:0", "--host", "bad host", "--quiet"}, "refused the registration"},
		{[]string{"dp", "add", "--server", srv.url, "--token", testAdminToken, id, `["Display=\\X\"]MSWNET:["SMS_SITE=PS1"]\\X\`}, "no distribution point"},
		{[]string{"dp", "add", "--server", srv.url, "--token", testAdminToken, id, `MSWNET:["SMS_SITE=PS1"]\\\X\\`}, "NAL"},
		{[]string{"dp", "add", "--server", srv.url, "--token", testAdminToken, "PS1FFFFF", "DP1"}, "no distribution point named DP1"},
		{[]string{"dp", "add", "--server", srv.url, "--token", testAdminToken, "PS1FFFFF"}, "one or more distribution points"},
		{[]string{"dp", "status", "--server", srv.url, "--token", testAdminToken, "PS1FFFFF", "PS1FFFFE"}, "at most one"},
		{[]string{"dp", "launch"}, "unknown dp command"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: %d, stdout %q, stderr %q; want one line naming %q", tc.args, code, out, errOut, tc.msg)
		}
	}
}
