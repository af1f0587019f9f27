package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
)

// TestSubscribersAcrossServers: two servers on one PostgreSQL. A
// subscriber on server A receives, in commit order and exactly once
// across a reconnect with Last-Event-ID, every change made through
// server B during a storm of 1,000 writes; a subscriber filtered by a WQL
// condition receives exactly the matching ones.
func TestSubscribersAcrossServers(t *testing.T) {
	s := twoServers(t)
	a, b := s[0], s[1]
	const writes = 1000
	subscribe := func(ctx context.Context, query string, headers ...string) <-chan apitest.Event {
		headers = append([]string{"Authorization", "Bearer " + testAdminToken}, headers...)
		return apitest.Stream(t, ctx, http.DefaultClient, a.url+"/tsprov/v1/subscribe?query="+url.QueryEscape(query), headers...)
	}
	const all = "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage'"
	const windows = "SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'"
	ctx, cancel := context.WithCancel(t.Context())
	everything := subscribe(ctx, all)
	filtered := subscribe(t.Context(), windows)

	var mu sync.Mutex
	names := map[string]string{} // PackageID → Name
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name := fmt.Sprintf("Srv %d", i)
				if i%2 == 0 {
					name = fmt.Sprintf("Win %d", i)
				}
				ans, err := call(t, "POST", b.url+pkgPath, map[string]any{"Name": name}, "")
				if err != nil || ans.status != 201 {
					t.Errorf("create %s through B: %v %d %v", name, err, ans.status, ans.body)
					continue
				}
				mu.Lock()
				names[ans.body["PackageID"].(string)] = name
				mu.Unlock()
			}
		}()
	}
	go func() {
		for i := range writes {
			work <- i
		}
		close(work)
	}()

	got := map[string]int{}
	var last int64
	receive := func(ev apitest.Event) {
		pos, err := strconv.ParseInt(ev.ID, 10, 64)
		if err != nil || pos <= last {
			t.Fatalf("event id %q after %d: not in commit order", ev.ID, last)
		}
		last = pos
		target, _ := ev.Data["TargetInstance"].(map[string]any)
		got[fmt.Sprint(target["PackageID"])]++
	}
	for len(got) < writes/3 {
		receive(apitest.Next(t, everything, 60*time.Second))
	}
	cancel() // the subscriber drops, and comes back where it was
	everything = subscribe(t.Context(), all, "Last-Event-ID", strconv.FormatInt(last, 10))
	for len(got) < writes {
		receive(apitest.Next(t, everything, 60*time.Second))
	}
	wg.Wait()
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s received %d times", id, n)
		}
		if _, ok := names[id]; !ok {
			t.Errorf("received the creation of %s, which the storm did not make", id)
		}
	}

	// the filtered subscriber: exactly the Win packages, then the marker
	marker, err := call(t, "POST", b.url+pkgPath, map[string]any{"Name": "Win marker"}, "")
	if err != nil || marker.status != 201 {
		t.Fatalf("marker: %v %d", err, marker.status)
	}
	matched := map[string]bool{}
	for {
		ev := apitest.Next(t, filtered, 60*time.Second)
		target, _ := ev.Data["TargetInstance"].(map[string]any)
		id, name := fmt.Sprint(target["PackageID"]), fmt.Sprint(target["Name"])
		if id == marker.body["PackageID"] {
			break
		}
		if !strings.HasPrefix(name, "Win") || matched[id] {
			t.Errorf("the filtered subscriber received %s %q (again: %v)", id, name, matched[id])
		}
		matched[id] = true
	}
	for id, name := range names {
		if strings.HasPrefix(name, "Win") != matched[id] {
			t.Errorf("%s %q: received by the filtered subscriber %v", id, name, matched[id])
		}
	}
}
