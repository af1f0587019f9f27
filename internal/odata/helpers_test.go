package odata_test

import (
	"bytes"
	"context"
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
	"testing/fstest"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/odata"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

const tsClass = "SMS_TaskSequencePackage"

// testServer serves both roots, as tsprov serve does, over a real SQLite
// file, signed in as a full administrator.
type testServer struct {
	t    *testing.T
	url  string
	mux  http.Handler
	prov *provider.Provider
}

func newTestServer(t *testing.T, pageSize int) *testServer {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tsprov.db"), reg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS1", ServerName: "TESTSRV", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	links := adminservice.Origin{Fallback: srv.Listener.Addr().String()}
	api, err := adminservice.NewHandler(prov, adminservice.Options{PageSize: pageSize, Logger: log, Origin: links})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := odata.NewHandler(prov, odata.Options{PageSize: pageSize, Logger: log, Origin: links})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux() // as tsprov serve routes them
	mux.Handle(odata.Prefix, strict)
	mux.Handle("/", api)
	srv.Config.Handler = authtest.AsFullAdministrator(mux)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &testServer{t: t, url: srv.URL, mux: mux, prov: prov}
}

// as returns the same server's routes served to the caller pr.
func (s *testServer) as(pr *auth.Principal) *testServer {
	srv := httptest.NewServer(authtest.As(s.mux, pr))
	s.t.Cleanup(srv.Close)
	return &testServer{t: s.t, url: srv.URL, mux: s.mux, prov: s.prov}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	keys   []string // the body's top-level members in order
	raw    []byte
}

func (s *testServer) do(method, path string, body any, headers ...string) response {
	s.t.Helper()
	resp, raw := apitest.Do(s.t, http.DefaultClient, method, s.url+path, body, headers...)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			s.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
		r.keys = topKeys(s.t, raw)
	}
	return r
}

// topKeys returns the members of a JSON object in order.
func topKeys(t *testing.T, raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
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

// create posts a task sequence package on /odata/ and returns its id.
func (s *testServer) create(props map[string]any) string {
	s.t.Helper()
	r := s.must(201, "POST", "/odata/"+tsClass, props)
	return r.body["PackageID"].(string)
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
	if !strings.Contains(msg, want) {
		t.Errorf("error message %q does not mention %q", msg, want)
	}
}

func readCorpus(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(corpusObjectXML)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadMOF(t *testing.T, src string) *cim.Registry {
	t.Helper()
	reg, err := cim.Load(fstest.MapFS{"t.mof": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
