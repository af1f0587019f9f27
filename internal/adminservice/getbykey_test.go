package adminservice_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tsprov/tsprov/internal/adminservice"
)

// TestGetByKeyKeptAnswerIsTheSame: a GET by key answered from the kept
// answer carries the bytes and headers of the one answered from a read:
// for the Host it was kept for, for another trusted Host (whose URLs
// differ), and with $select (never kept) for the same entity's members.
func TestGetByKeyKeptAnswerIsTheSame(t *testing.T) {
	s := startServerWith(t, filepath.Join(t.TempDir(), "tsprov.db"), adminservice.Options{
		Origin: adminservice.Origin{Hosts: []string{"a.example", "b.example"}},
	}, nil)
	id := s.create(map[string]any{"Name": "Kept", "Description": "kept answer"})
	path := "/AdminService/wmi/" + tsClass + "('" + id + "')"

	read := s.must(200, "GET", path, nil, "Host", "a.example")
	kept := s.must(200, "GET", path, nil, "Host", "a.example")
	if !bytes.Equal(read.raw, kept.raw) {
		t.Errorf("kept answer differs from the read one:\n%s\n%s", read.raw, kept.raw)
	}
	for _, h := range []string{"Content-Type", "OData-Version", "ETag"} {
		if read.header.Get(h) == "" || read.header.Get(h) != kept.header.Get(h) {
			t.Errorf("%s: read %q, kept %q", h, read.header.Get(h), kept.header.Get(h))
		}
	}
	if cl := kept.header.Get("Content-Length"); cl != strconv.Itoa(len(kept.raw)) {
		t.Errorf("kept answer: Content-Length %q for %d bytes", cl, len(kept.raw))
	}

	other := s.must(200, "GET", path, nil, "Host", "b.example")
	want := bytes.ReplaceAll(read.raw, []byte("http://a.example/"), []byte("http://b.example/"))
	if bytes.Equal(want, read.raw) {
		t.Fatalf("the answer names no URL of its Host:\n%s", read.raw)
	}
	if !bytes.Equal(other.raw, want) {
		t.Errorf("another Host:\n%s\nwant\n%s", other.raw, want)
	}
	if other.header.Get("ETag") != read.header.Get("ETag") {
		t.Errorf("another Host: ETag %q, want %q", other.header.Get("ETag"), read.header.Get("ETag"))
	}

	// a write: the next GET reads, and is kept again
	s.must(200, "PATCH", path, map[string]any{"Description": "changed"}, "Host", "a.example")
	after := s.must(200, "GET", path, nil, "Host", "a.example")
	if after.body["value"].([]any)[0].(map[string]any)["Description"] != "changed" {
		t.Errorf("after a write: %s", after.raw)
	}
	if again := s.must(200, "GET", path, nil, "Host", "a.example"); !bytes.Equal(again.raw, after.raw) {
		t.Errorf("kept after the write:\n%s\nwant\n%s", again.raw, after.raw)
	}
}
