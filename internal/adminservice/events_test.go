package adminservice_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
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

// rawFeed reads /tsprov/v1/events and returns the events of task
// sequence packages as the feed shows them.
func (s *testServer) rawFeed(query string) []map[string]any {
	s.t.Helper()
	r := s.must(200, "GET", adminservice.EventsPath+query, nil)
	var out []map[string]any
	for _, v := range r.body["value"].([]any) {
		if ev := v.(map[string]any); ev["Class"] == tsClass {
			out = append(out, ev)
		}
	}
	return out
}

// TestEventsCarryValues: each change names the WMI event class it raises
// and carries the package's non-lazy values, a modification also those
// before it, a deletion the last ones; SetSequence adds a
// method-invocation event after its modification; lazy values stay out.
func TestEventsCarryValues(t *testing.T) {
	s := newTestServer(t, 0)
	_, start := s.feed("")
	id := s.create(map[string]any{"Name": "first", "Category": "lazy one"})
	s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+id+"')", map[string]any{"Name": "second"})
	s.setSequence(pkgBody(map[string]any{"PackageID": id}), jsonOnlySequence("PS1FFFFE"))
	s.must(204, "DELETE", "/AdminService/wmi/"+tsClass+"('"+id+"')", nil)
	evs := s.rawFeed(fmt.Sprintf("?after=%d", start))
	want := []struct{ class, method, name, previous string }{
		{"__InstanceCreationEvent", "", "first", ""},
		{"__InstanceModificationEvent", "", "second", "first"},
		{"__InstanceModificationEvent", "", "second", "second"},
		{"__MethodInvocationEvent", "SetSequence", "second", ""},
		{"__InstanceDeletionEvent", "", "second", ""},
	}
	if len(evs) != len(want) {
		t.Fatalf("feed holds %d package events, want %d: %v", len(evs), len(want), evs)
	}
	for i, w := range want {
		ev := evs[i]
		target, _ := ev["TargetInstance"].(map[string]any)
		previous, _ := ev["PreviousInstance"].(map[string]any)
		if ev["EventClass"] != w.class || fmt.Sprint(ev["Method"]) != fmt.Sprint(cmpOr(w.method, "<nil>")) {
			t.Errorf("event %d: %v %v, want %s %q", i+1, ev["EventClass"], ev["Method"], w.class, w.method)
		}
		if target["Name"] != w.name || target["PackageID"] != id {
			t.Errorf("event %d (%s): TargetInstance %v, want Name %q of %s", i+1, w.class, target, w.name, id)
		}
		if _, ok := target["Category"]; ok {
			t.Errorf("event %d (%s): TargetInstance holds the lazy Category", i+1, w.class)
		}
		if w.previous == "" && previous != nil || w.previous != "" && previous["Name"] != w.previous {
			t.Errorf("event %d (%s): PreviousInstance %v, want Name %q", i+1, w.class, previous, w.previous)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestEventsBehindRetention: a reader whose position the feed no longer
// keeps (it was trimmed to its retention) gets 410 with the envelope
// naming the oldest position kept; reading on from just before it works.
func TestEventsBehindRetention(t *testing.T) {
	s := newTestServer(t, 0)
	var id string
	for i := range 4 {
		id = s.create(map[string]any{"Name": fmt.Sprintf("p%d", i)})
	}
	_, last := s.feed("")
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlite.Open(t.Context(), s.db, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Write(t.Context(), func(tx store.Tx) error { _, err := tx.TrimEvents(t.Context(), 2); return err }); err != nil {
		t.Fatal(err)
	}
	oldest := last - 1
	expectError(t, s.do("GET", adminservice.EventsPath+"?after=0", nil), 410, fmt.Sprintf("oldest is %d", oldest))
	if evs, pos := s.feed(fmt.Sprintf("?after=%d", oldest-1)); pos != last || !strings.Contains(fmt.Sprint(evs), id) {
		t.Errorf("reading on from %d: %q up to %d, want the kept events (creating %s) up to %d", oldest-1, evs, pos, id, last)
	}
}

// TestOwnershipMethodsRaiseMethodEvents: Unlock and SetSourceSite change a
// package's SourceSite: each adds its modification, then a
// method-invocation event naming it.
func TestOwnershipMethodsRaiseMethodEvents(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "owned"})
	_, start := s.feed("")
	s.must(200, "POST", "/AdminService/wmi/"+tsClass+"('"+id+"')/AdminService.Unlock", map[string]any{})
	s.must(200, "POST", "/AdminService/wmi/"+tsClass+"('"+id+"')/AdminService.SetSourceSite", map[string]any{"SourceSite": "PS1"})
	var got []string
	for _, ev := range s.rawFeed(fmt.Sprintf("?after=%d", start)) {
		got = append(got, fmt.Sprint(ev["EventClass"], " ", ev["Method"]))
	}
	want := []string{"__InstanceModificationEvent <nil>", "__MethodInvocationEvent Unlock", "__InstanceModificationEvent <nil>", "__MethodInvocationEvent SetSourceSite"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events of Unlock and SetSourceSite: %q, want %q", got, want)
	}
}
