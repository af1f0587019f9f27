package adminservice_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// follow reads a collection from path to its last page, following
// @odata.nextLink, and returns the Names it saw and the links.
func (s *testServer) follow(path string) (names, links []string) {
	s.t.Helper()
	for path != "" {
		r := s.must(200, "GET", path, nil)
		for _, v := range r.body["value"].([]any) {
			names = append(names, v.(map[string]any)["Name"].(string))
		}
		path = ""
		if link, ok := r.body["@odata.nextLink"].(string); ok {
			links = append(links, link)
			path = strings.TrimPrefix(link, s.url)
		}
	}
	return names, links
}

// TestSkipTokenPaging: a page that more follow links to the next with
// $skiptoken (no $skip), and following the links gives the whole list in
// the order asked, for every order; $skip still works on its own and
// before a token.
func TestSkipTokenPaging(t *testing.T) {
	s := newTestServer(t, 2)
	for _, n := range []string{"delta", "Alpha", "charlie", "Bravo", "echo", "alpha"} {
		s.create(map[string]any{"Name": n})
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?$orderby=Name", []string{"Alpha", "alpha", "Bravo", "charlie", "delta", "echo"}},
		{"?$orderby=Name%20desc", []string{"echo", "delta", "charlie", "Bravo", "Alpha", "alpha"}},
		{"", []string{"delta", "Alpha", "charlie", "Bravo", "echo", "alpha"}}, // key order: created in turn
		{"?$orderby=Name&$skip=1", []string{"alpha", "Bravo", "charlie", "delta", "echo"}},
		{"?$orderby=Name&$top=5", []string{"Alpha", "alpha", "Bravo", "charlie", "delta"}},
		{"?$orderby=Name&$filter=Name%20ne%20%27charlie%27", []string{"Alpha", "alpha", "Bravo", "delta", "echo"}},
	} {
		names, links := s.follow("/AdminService/wmi/SMS_TaskSequencePackage" + tc.query)
		if !slices.Equal(names, tc.want) {
			t.Errorf("%s: pages give %v, want %v", tc.query, names, tc.want)
		}
		for _, link := range links {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			if q := u.Query(); q.Get("$skiptoken") == "" || q.Has("$skip") {
				t.Errorf("%s: nextLink %s: want $skiptoken and no $skip", tc.query, link)
			}
		}
	}
}

// TestSkipTokenKeepsPlace: the next page starts after the last instance
// served, whatever changed before it meanwhile: deleting an instance of
// the first page neither hides an instance of the next (as a $skip
// count would) nor repeats one.
func TestSkipTokenKeepsPlace(t *testing.T) {
	s := newTestServer(t, 2)
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ids[n] = s.create(map[string]any{"Name": n})
	}
	r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name", nil)
	link := r.body["@odata.nextLink"].(string)
	s.must(204, "DELETE", "/AdminService/wmi/SMS_TaskSequencePackage('"+ids["a"]+"')", nil)
	names, _ := s.follow(strings.TrimPrefix(link, s.url))
	if want := []string{"c", "d", "e"}; !slices.Equal(names, want) {
		t.Errorf("pages after the first, once a and b were served and a deleted: %v, want %v", names, want)
	}
}

// TestSkipTokenRefused: a token the server did not write, or wrote for
// another $orderby, is a 400 naming $skiptoken; nothing is listed.
func TestSkipTokenRefused(t *testing.T) {
	s := newTestServer(t, 1)
	s.create(map[string]any{"Name": "a"})
	s.create(map[string]any{"Name": "b"})
	r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name", nil)
	u, _ := url.Parse(r.body["@odata.nextLink"].(string))
	token := u.Query().Get("$skiptoken")
	for _, tc := range []struct {
		name, query, want string
	}{
		{"not base64", "?$skiptoken=%21%21", "not a token this server wrote"},
		{"not JSON", "?$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte("PS100001")), "not a token this server wrote"},
		{"unknown member", "?$orderby=Name&$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte(`{"o":"name asc","v":["a"],"k":"X","x":1}`)), "not a token this server wrote"},
		{"another order", "?$orderby=Name%20desc&$skiptoken=" + token, "another $orderby"},
		{"no order", "?$skiptoken=" + token, "another $orderby"},
		{"a value of the wrong type", "?$orderby=Duration&$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte(`{"o":"duration asc","v":["soon"],"k":"PS100001"}`)), "does not fit Duration"},
		{"a NUL in the key", "?$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte(`{"o":"","v":[],"k":"PS\u0000"}`)), "not a token this server wrote"},
	} {
		r := s.do("GET", "/AdminService/wmi/SMS_TaskSequencePackage"+tc.query, nil)
		expectError(t, r, 400, tc.want)
		if !strings.Contains(string(r.raw), "$skiptoken") {
			t.Errorf("%s: the error does not name $skiptoken: %s", tc.name, r.raw)
		}
	}
}

// TestWQLPagesWithSkipToken: the WQL endpoint's pages link with
// $skiptoken too, and following them reads every instance once.
func TestWQLPagesWithSkipToken(t *testing.T) {
	s := newTestServer(t, 2)
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		s.create(map[string]any{"Name": n})
	}
	names, links := s.follow("/tsprov/v1/wql?q=" + url.QueryEscape("SELECT * FROM SMS_TaskSequencePackage WHERE Name <> 'c'"))
	if want := []string{"a", "b", "d", "e"}; !slices.Equal(names, want) {
		t.Errorf("WQL pages give %v, want %v", names, want)
	}
	if len(links) != 1 || !strings.Contains(links[0], "%24skiptoken=") {
		t.Errorf("WQL nextLinks %v: want one with $skiptoken", links)
	}
}

// TestPageAcrossChunks: a page longer than the chunk the server reads from
// the store at a time (100) reads each chunk after the last instance of
// the one before: the page holds every instance once, in the order asked,
// with $skip applied once.
func TestPageAcrossChunks(t *testing.T) {
	s := newTestServer(t, 0)
	var want []string
	for i := range 230 {
		name := fmt.Sprintf("pkg %03d", i*7%230) // created out of name order
		s.create(map[string]any{"Name": name})
		want = append(want, name)
	}
	slices.Sort(want)
	slices.Reverse(want)
	names, links := s.follow("/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name%20desc")
	if !slices.Equal(names, want) || len(links) != 0 {
		t.Errorf("one page of 230 by Name desc: %d names, %d links; first %v", len(names), len(links), names[:min(5, len(names))])
	}
	names, _ = s.follow("/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name%20desc&$skip=5")
	if !slices.Equal(names, want[5:]) {
		t.Errorf("$skip=5 across chunks: %d names, first %v, want from %s", len(names), names[:min(5, len(names))], want[5])
	}
}
