package adminservice_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
)

// feed reads /tsprov/v1/events and returns "op class key vN" per event of
// a task sequence package (the server's own seeding and the scope
// memberships of packages are in the feed too) and the position to read
// on from.
func (s *testServer) feed(query string) ([]string, int64) {
	s.t.Helper()
	r := s.must(200, "GET", adminservice.EventsPath+query, nil)
	var out []string
	for _, v := range r.body["value"].([]any) {
		ev := v.(map[string]any)
		if ev["Class"] == tsClass {
			out = append(out, fmt.Sprintf("%s %s %s v%d", ev["Operation"], ev["Class"], ev["Key"], num(ev["Version"])))
		}
	}
	return out, num(r.body["Position"])
}

// TestEventsFeed: every create, update and delete through the REST
// surface (and a method that changes a package) shows in the feed once,
// in order, with ids and versions only; a reader goes on from the
// position it was given; a waiting reader is answered as soon as a change
// is committed; bad options are 400 with the envelope.
func TestEventsFeed(t *testing.T) {
	s := newTestServer(t, 0)
	_, start := s.feed("")
	id := s.create(map[string]any{"Name": "first"})
	s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+id+"')", map[string]any{"Description": "changed"})
	s.must(204, "DELETE", "/AdminService/wmi/"+tsClass+"('"+id+"')", nil)
	got, pos := s.feed(fmt.Sprintf("?after=%d", start))
	want := []string{
		"create " + tsClass + " " + id + " v1",
		"update " + tsClass + " " + id + " v2",
		"delete " + tsClass + " " + id + " v0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || pos <= start+3 {
		t.Fatalf("feed after %d = %q up to %d, want %q", start, got, pos, want)
	}
	if got, p := s.feed(fmt.Sprintf("?after=%d&limit=1", start)); len(got) != 1 || got[0] != want[0] || p != start+1 {
		t.Errorf("after=%d&limit=1: %q up to %d, want [%q] up to %d", start, got, p, want[0], start+1)
	}
	if got, p := s.feed(fmt.Sprintf("?after=%d", pos)); len(got) != 0 || p != pos {
		t.Errorf("after=%d: %q up to %d, want nothing", pos, got, p)
	}

	type answer struct {
		events []string
		took   time.Duration
	}
	done := make(chan answer)
	go func() {
		start := time.Now()
		evs, _ := s.feed(fmt.Sprintf("?after=%d&wait=20", pos))
		done <- answer{evs, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	second := s.create(map[string]any{"Name": "second"})
	select {
	case a := <-done:
		if len(a.events) != 1 || a.events[0] != "create "+tsClass+" "+second+" v1" {
			t.Errorf("the waiting reader got %q", a.events)
		}
		if a.took > 10*time.Second {
			t.Errorf("the waiting reader was answered after %s", a.took)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the waiting reader was not answered")
	}

	for _, q := range []string{"?after=-1", "?limit=x", "?wait=61", "?after=1e3"} {
		expectError(t, s.do("GET", adminservice.EventsPath+q, nil), 400, "")
	}
}

// TestEventsAfterTheEnd: a reader that asks for the changes after a
// position beyond the feed's end (it read another server's feed, or the
// store was restored from an older backup) is given the feed's real last
// position, also when it would wait, and reading on from it sees the
// next change: it skips nothing.
func TestEventsAfterTheEnd(t *testing.T) {
	s := newTestServer(t, 0)
	s.create(map[string]any{"Name": "before"})
	_, last := s.feed("")
	for _, q := range []string{"?after=%d", "?after=%d&wait=30"} {
		got, pos := s.feed(fmt.Sprintf(q, last+1000))
		if len(got) != 0 || pos != last {
			t.Errorf(q+": %q up to %d, want nothing up to the feed's last position %d", last+1000, got, pos, last)
		}
	}
	id := s.create(map[string]any{"Name": "after"})
	if got, _ := s.feed(fmt.Sprintf("?after=%d", last)); len(got) != 1 || got[0] != "create "+tsClass+" "+id+" v1" {
		t.Errorf("reading on from the answered position: %q, want the new package", got)
	}
}
