package server

import (
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// A GET by key may be answered from the entity a server kept from an
// earlier GET (adminservice answers.go). These tests make sure that it
// never outlives a write, wherever the write was made: through the same
// server, or through another server on the same SQLite file or the same
// PostgreSQL database; and that it is never served to a caller who may
// not see the instance.
func TestGetByKeySeesEveryWrite(t *testing.T) {
	tests := []struct {
		name   string
		first  func(t *testing.T) func(*Config)
		second func(t *testing.T, first *secureServer) func(*Config)
	}{
		{"sqlite, two servers on one file",
			func(*testing.T) func(*Config) { return nil },
			func(_ *testing.T, first *secureServer) func(*Config) {
				return func(c *Config) { c.DataDir = first.dir }
			}},
		{"postgres, two servers on one database",
			func(t *testing.T) func(*Config) {
				url := pgtest.URL(t, t.Name())
				return func(c *Config) { c.Database = url }
			},
			func(t *testing.T, first *secureServer) func(*Config) {
				url := pgtest.URL(t, t.Name())
				return func(c *Config) { c.Database, c.DataDir = url, first.dir }
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startSecureServer(t, tc.first(t))
			b, err := launchSecureServer(t, a.admin, tc.second(t, a))
			if err != nil {
				t.Fatal(err)
			}
			id := a.must(201, a.admin, "POST", tsPath, map[string]any{"Name": "first"}).body["PackageID"].(string)
			path := tsPath + "('" + id + "')"
			read := func(s *secureServer, want string) answer {
				t.Helper()
				got := s.must(200, s.admin, "GET", path, nil)
				value := got.body["value"].([]any)[0].(map[string]any)
				if value["Name"] != want {
					t.Fatalf("GET: Name %v, want %s", value["Name"], want)
				}
				return got
			}
			read(a, "first")
			kept := read(a, "first")
			if again := read(a, "first"); string(again.raw) != string(kept.raw) || again.header.Get("ETag") != kept.header.Get("ETag") {
				t.Errorf("two GETs of an unchanged instance differ:\n%s\n%s", kept.raw, again.raw)
			}
			b.must(200, b.admin, "PATCH", path, map[string]any{"Name": "changed by the other server"})
			got := read(a, "changed by the other server")
			if got.header.Get("ETag") == kept.header.Get("ETag") {
				t.Errorf("ETag %s unchanged after a write", got.header.Get("ETag"))
			}
			a.must(200, a.admin, "PATCH", path, map[string]any{"Name": "changed by this server"})
			read(a, "changed by this server")
			read(b, "changed by this server")
			b.must(204, b.admin, "DELETE", path, nil)
			a.must(404, a.admin, "GET", path, nil)
		})
	}
}

// An entity kept from a GET is served to a caller whose scopes hold the
// instance as it was kept, never to one whose scopes do not, nor after the
// instance's scopes changed, nor after the caller's token is revoked.
func TestGetByKeyKeptAnswerChecksTheCaller(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	inside := s.addUser("inside", []string{"SMS0007R"}, []string{lab})
	outside := s.addUser("outside", []string{"SMS0006R"}, []string{"SMS00UNA"})
	id := s.storeSequence(inside, "Lab sequence", secretSequenceXML("kept"))
	path := tsPath + "('" + id + "')"
	second := s.addUser("second", []string{"SMS0001R"}, []string{"SMS00ALL"})
	for range 3 {
		s.must(200, s.admin, "GET", path, nil)
		s.must(200, second, "GET", path, nil)
	}
	envelope(t, "GET out of scope", s.must(404, outside, "GET", path, nil))
	for range 2 {
		s.must(200, inside, "GET", path, nil)
		s.must(404, outside, "GET", path, nil)
	}

	// the package leaves the scope Lab for the scope Other: the answer kept
	// with its scopes is not served to the user of Lab any more
	other := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Other"}).body["CategoryID"].(string)
	otherUser := s.addUser("other", []string{"SMS0006R"}, []string{other})
	s.must(404, otherUser, "GET", path, nil)
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": other, "ObjectKey": id, "ObjectTypeID": 20})
	s.must(204, s.admin, "DELETE", "/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='"+lab+"',ObjectKey='"+id+"',ObjectTypeID=20)", nil)
	for range 2 {
		s.must(200, s.admin, "GET", path, nil)
		s.must(404, inside, "GET", path, nil)
		s.must(200, otherUser, "GET", path, nil)
	}

	tokens := s.must(200, second, "GET", "/tsprov/v1/tokens", nil).body["value"].([]any)
	s.must(204, s.admin, "DELETE", "/tsprov/v1/tokens/"+tokens[0].(map[string]any)["TokenID"].(string), nil)
	deadline := time.Now().Add(7 * time.Second)
	for s.do(second, "GET", path, nil).status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("a revoked token still reads the kept entity")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.must(200, s.admin, "GET", path, nil)
}
