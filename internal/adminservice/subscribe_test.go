package adminservice_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/apitest"
)

// stream opens a subscription to the WQL event query.
func (s *testServer) stream(ctx context.Context, query string, headers ...string) <-chan apitest.Event {
	s.t.Helper()
	return apitest.Stream(s.t, ctx, http.DefaultClient, s.url+adminservice.SubscribePath+"?query="+url.QueryEscape(query), headers...)
}

func next(t *testing.T, evs <-chan apitest.Event) apitest.Event {
	t.Helper()
	return apitest.Next(t, evs, 20*time.Second)
}

// TestSubscribeStreamsMatchingEvents: a subscriber receives, in commit
// order and once each, the changes its WQL event query selects and none
// other; reconnecting with Last-Event-ID resumes after the last one it got.
func TestSubscribeStreamsMatchingEvents(t *testing.T) {
	s := newTestServer(t, 0)
	const wql = "SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'"
	ctx, cancel := context.WithCancel(t.Context())
	evs := s.stream(ctx, wql)
	win := s.create(map[string]any{"Name": "Windows 11"})
	srv := s.create(map[string]any{"Name": "Server 2022"})
	for i := range 3 {
		s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+win+"')", map[string]any{"Description": fmt.Sprint("w", i)})
		s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+srv+"')", map[string]any{"Description": fmt.Sprint("s", i)})
	}
	var last string
	for i := range 2 {
		ev := next(t, evs)
		target, _ := ev.Data["TargetInstance"].(map[string]any)
		if ev.Event != "__InstanceModificationEvent" || target["PackageID"] != win || target["Description"] != fmt.Sprint("w", i) {
			t.Fatalf("event %d: %s %v, want the modification w%d of %s", i, ev.Event, target, i, win)
		}
		last = ev.ID
	}
	cancel()
	// the third modification came while away: a reconnect resumes there
	evs = s.stream(t.Context(), wql, "Last-Event-ID", last)
	ev := next(t, evs)
	target, _ := ev.Data["TargetInstance"].(map[string]any)
	if target["Description"] != "w2" || target["PackageID"] != win {
		t.Fatalf("after reconnecting from %s: %v, want the modification w2", last, target)
	}
	s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+srv+"')", map[string]any{"Name": "Windows Server"})
	ev = next(t, evs)
	target, _ = ev.Data["TargetInstance"].(map[string]any)
	previous, _ := ev.Data["PreviousInstance"].(map[string]any)
	if target["PackageID"] != srv || previous["Name"] != "Server 2022" {
		t.Errorf("the renamed package: %v (previous %v), want %s renamed from Server 2022", target, previous, srv)
	}
}

// TestSubscribeRefuses: a bad query or position is refused with the
// envelope before any stream; GROUP … HAVING is named as unsupported.
func TestSubscribeRefuses(t *testing.T) {
	s := newTestServer(t, 0)
	for _, tc := range []struct {
		query  string
		status int
		msg    string
	}{
		{"", 400, "event query is required"},
		{"SELECT * FROM SMS_TaskSequencePackage", 501, "SMS_TaskSequencePackage"},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' GROUP WITHIN 600 HAVING NumberOfEvents > 1", 501, "GROUP WITHIN"},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance.Name = 'x'", 400, "ISA"},
	} {
		expectError(t, s.do("GET", adminservice.SubscribePath+"?query="+url.QueryEscape(tc.query), nil), tc.status, tc.msg)
	}
	expectError(t, s.do("GET", adminservice.SubscribePath+"?query="+url.QueryEscape("SELECT * FROM __InstanceCreationEvent"), nil, "Last-Event-ID", "x"), 400, "Last-Event-ID")
}
