package adminservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

const tsClass = "SMS_TaskSequencePackage"

// testServer is a real HTTP server over a real SQLite file.
type testServer struct {
	t    *testing.T
	url  string
	db   string
	lib  *content.Library
	prov *provider.Provider
}

func newTestServer(t *testing.T, pageSize int) *testServer {
	t.Helper()
	return startServer(t, filepath.Join(t.TempDir(), "tsprov.db"), pageSize)
}

func startServer(t *testing.T, db string, pageSize int) *testServer {
	t.Helper()
	return startServerWith(t, db, adminservice.Options{PageSize: pageSize}, nil)
}

// startServerWith starts a server with the handler options opts (its
// Origin falls back to the listening address unless opts gives one), and
// lets tune adjust the HTTP server before it starts.
func startServerWith(t *testing.T, db string, opts adminservice.Options, tune func(*http.Server)) *testServer {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), db, reg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lib, err := content.Open(filepath.Join(filepath.Dir(db), "content"))
	if err != nil {
		t.Fatal(err)
	}
	prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS1", ServerName: "TESTSRV", Logger: log, Content: lib})
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	opts.Logger = log
	if opts.Origin.Fallback == "" {
		opts.Origin.Fallback = srv.Listener.Addr().String()
	}
	h, err := adminservice.NewHandler(prov, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = authtest.AsFullAdministrator(h)
	if tune != nil {
		tune(srv.Config)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &testServer{t: t, url: srv.URL, db: db, lib: lib, prov: prov}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *testServer) do(method, path string, body any, headers ...string) response {
	s.t.Helper()
	resp, raw := apitest.Do(s.t, noRedirects, method, s.url+path, body, headers...)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			s.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// must checks the status and returns the response.
func (s *testServer) must(status int, method, path string, body any, headers ...string) response {
	s.t.Helper()
	r := s.do(method, path, body, headers...)
	if r.status != status {
		s.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, status, r.raw)
	}
	return r
}

// create posts a package and returns its id.
func (s *testServer) create(props map[string]any) string {
	s.t.Helper()
	r := s.must(201, "POST", "/AdminService/wmi/"+tsClass, props)
	return r.body["PackageID"].(string)
}

// getOne reads an instance by key (lazy filled).
func (s *testServer) getOne(id string) map[string]any {
	s.t.Helper()
	r := s.must(200, "GET", "/AdminService/wmi/"+tsClass+"('"+id+"')", nil)
	vals := r.body["value"].([]any)
	if len(vals) != 1 {
		s.t.Fatalf("key GET returned %d instances", len(vals))
	}
	return vals[0].(map[string]any)
}

// list reads the whole collection page.
func (s *testServer) list(query string) []map[string]any {
	s.t.Helper()
	r := s.must(200, "GET", "/AdminService/wmi/"+tsClass+query, nil)
	var out []map[string]any
	for _, v := range r.body["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// expectError checks an OData error envelope with the given status whose
// message mentions want.
func expectError(t *testing.T, r response, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no OData error envelope: %s", r.raw)
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if code != strconv.Itoa(status) {
		t.Errorf("error code %q, want %q", code, strconv.Itoa(status))
	}
	if !bytes.Contains([]byte(msg), []byte(want)) {
		t.Errorf("error message %q does not mention %q", msg, want)
	}
}

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func timeOf(v any) (time.Time, error) {
	s, _ := v.(string)
	return time.Parse(time.RFC3339Nano, s)
}
