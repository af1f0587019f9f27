package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// links gathers the absolute URLs of the answers to a create, a paged
// list and a WQL query sent with the given Host header ("" for the one
// the client would send).
func links(s *secureServer, host string) []string {
	s.t.Helper()
	var h []string
	if host != "" {
		h = []string{"Host", host}
	}
	created := s.do(s.admin, "POST", tsPath, map[string]any{"Name": "linked"}, h...)
	if created.status != 201 {
		s.t.Fatalf("create: %d %s", created.status, created.raw)
	}
	list := s.do(s.admin, "GET", tsPath+"?$top=5", nil, h...)
	wql := s.do(s.admin, "GET", "/tsprov/v1/wql?q="+urlQuery("SELECT * FROM SMS_TaskSequencePackage"), nil, h...)
	doc := s.do(s.admin, "GET", "/AdminService/wmi/", nil, h...)
	out := []string{created.header.Get("Location"), created.body["@odata.context"].(string), list.body["@odata.context"].(string), doc.body["@odata.context"].(string), wql.body["@odata.context"].(string)}
	for _, a := range []answer{list, wql} {
		next, ok := a.body["@odata.nextLink"].(string)
		if !ok {
			s.t.Fatalf("no @odata.nextLink: %.300s", a.raw)
		}
		out = append(out, next)
	}
	return out
}

// TestLinksNeverRepeatAnUntrustedHost: the Host header is the client's
// claim. The URLs the server writes (Location, @odata.context,
// @odata.nextLink) begin with the public URL when one is configured;
// otherwise with the Host only when it is the listen address (or another
// loopback name for it) or on the allow list, and else with the listen
// address. An HTTP/1.0 request without Host never gets "http:///".
func TestLinksNeverRepeatAnUntrustedHost(t *testing.T) {
	onePerPage := func(c *Config) { c.PageSize = 1 }
	s := startSecureServer(t, onePerPage)
	s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "first"})
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	for _, tc := range []struct{ host, want string }{
		{"", s.url},
		{"evil.example", s.url},
		{"evil.example:" + port, s.url},
		{"localhost:" + port, "http://localhost:" + port},
		{"LocalHost:" + port, "http://LocalHost:" + port},
		{"localhost:1", s.url},
	} {
		for _, l := range links(s, tc.host) {
			if !strings.HasPrefix(l, tc.want+"/") {
				t.Errorf("Host %q: %s does not begin with %s", tc.host, l, tc.want)
			}
		}
	}
	a := rawExchange(t, s, "GET /AdminService/wmi/ HTTP/1.0\r\nAuthorization: Bearer "+s.admin+"\r\n\r\n")
	if a.status != 200 || a.body["@odata.context"] != s.url+"/AdminService/wmi/$metadata" {
		t.Errorf("HTTP/1.0 without Host: %d %.300s", a.status, a.raw)
	}

	allowed := startSecureServer(t, func(c *Config) {
		onePerPage(c)
		c.AllowedHosts = []string{"cm.example.com", "gw.example.com:8443"}
	})
	allowed.must(201, allowed.admin, "POST", tsPath, map[string]any{"Name": "first"})
	for _, tc := range []struct{ host, want string }{
		{"cm.example.com", "http://cm.example.com"},
		{"CM.Example.com:8080", "http://CM.Example.com:8080"},
		{"gw.example.com:8443", "http://gw.example.com:8443"},
		{"gw.example.com:9443", allowed.url},
		{"cm.example.com.evil.example", allowed.url},
	} {
		for _, l := range links(allowed, tc.host) {
			if !strings.HasPrefix(l, tc.want+"/") {
				t.Errorf("allow list, Host %q: %s does not begin with %s", tc.host, l, tc.want)
			}
		}
	}

	public := startSecureServer(t, func(c *Config) {
		onePerPage(c)
		c.PublicURL = "https://cm.example.com/tsprov/"
		c.AllowedHosts = []string{"evil.example"} // the public URL wins
	})
	public.must(201, public.admin, "POST", tsPath, map[string]any{"Name": "first"})
	for _, host := range []string{"", "evil.example"} {
		for _, l := range links(public, host) {
			if !strings.HasPrefix(l, "https://cm.example.com/tsprov/AdminService/wmi/") && !strings.HasPrefix(l, "https://cm.example.com/tsprov/tsprov/v1/wql?") {
				t.Errorf("public URL, Host %q: %s", host, l)
			}
		}
	}
	a = rawExchange(t, public, "GET /AdminService/wmi/ HTTP/1.0\r\nAuthorization: Bearer "+public.admin+"\r\n\r\n")
	if a.body["@odata.context"] != "https://cm.example.com/tsprov/AdminService/wmi/$metadata" {
		t.Errorf("public URL, HTTP/1.0 without Host: %.300s", a.raw)
	}
}

// TestABadPublicURLStopsTheStart: a public URL that cannot begin a URL is
// refused when the server starts, before the data folder is made.
func TestABadPublicURLStopsTheStart(t *testing.T) {
	for _, bad := range []string{"cm.example.com", "ftp://cm.example.com", "https://", "https://cm.example.com/?x=1", "https://user@cm.example.com"} {
		dir := filepath.Join(t.TempDir(), "data")
		err := Run(context.Background(), Config{DataDir: dir, Listen: "127.0.0.1:0", PublicURL: bad, Stdout: io.Discard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
		if err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("--public-url %q: %v", bad, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("--public-url %q: the data folder was made (%v)", bad, err)
		}
	}
}
