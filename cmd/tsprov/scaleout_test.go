package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

const pkgPath = "/AdminService/wmi/SMS_TaskSequencePackage"

// twoServers starts two `tsprov serve` processes on one PostgreSQL schema
// (one after the other: the first creates the first administrator), with
// one secret key and no rate limit.
func twoServers(t *testing.T) [2]*serverProcess {
	t.Helper()
	url := pgtest.URL(t, t.Name())
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secrets.EnvKey, hex.EncodeToString(key))
	var s [2]*serverProcess
	for i := range s {
		s[i] = startServerProcess(t, t.TempDir(), "--database", url, "--rate-limit", "-1")
	}
	return s
}

// answer is a decoded HTTP answer.
type answer struct {
	status int
	etag   string
	body   map[string]any
}

// call sends one request with the test token (and If-Match when given).
func call(t *testing.T, method, url string, body any, ifMatch string) (answer, error) {
	header := http.Header{}
	if ifMatch != "" {
		header.Set("If-Match", ifMatch)
	}
	return callWith(t, method, url, body, header)
}

// callWith sends one request with the test token and the headers given.
func callWith(t *testing.T, method, url string, body any, header http.Header) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, etag: resp.Header.Get("ETag")}
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &a.body)
	return a, nil
}

// feed reads a server's whole change feed.
func feed(t *testing.T, base string) []map[string]any {
	t.Helper()
	var all []map[string]any
	var pos int64
	for {
		a, err := call(t, "GET", fmt.Sprintf("%s/tsprov/v1/events?after=%d", base, pos), nil, "")
		if err != nil || a.status != 200 {
			t.Fatalf("events from %s: %v %d %v", base, err, a.status, a.body)
		}
		vals, _ := a.body["value"].([]any)
		next := int64(a.body["Position"].(float64))
		for _, v := range vals {
			all = append(all, v.(map[string]any))
		}
		if next == pos {
			return all
		}
		pos = next
	}
}

// TestTwoServersOnOneDatabase: two servers on one PostgreSQL database take
// 1,000 creates and 1,000 conditional updates at once, spread over both.
// No PackageID is given twice; the updates that succeed form one chain of
// etags per package (none was applied on a state another update had
// already replaced: no lost update), each refused one (412) carried an
// etag that had been replaced, and SourceVersion counts exactly the
// applied ones; each server's change feed holds every change exactly
// once, numbered without gap, each package's versions in order.
func TestTwoServersOnOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	srv := twoServers(t)
	const creates, updates, workers, hot = 1000, 1000, 16, 20
	type created struct{ id, etag string }
	var mu sync.Mutex
	var made []created
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for next.Add(1) <= creates {
				a, err := call(t, "POST", srv[w%2].url+pkgPath, map[string]any{"Name": fmt.Sprintf("scale %d", w)}, "")
				if err != nil || a.status != 201 {
					t.Errorf("create on server %d: %v %d %v", w%2, err, a.status, a.body)
					return
				}
				mu.Lock()
				made = append(made, created{a.body["PackageID"].(string), a.etag})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, c := range made {
		if ids[c.id] {
			t.Errorf("PackageID %s given twice", c.id)
		}
		ids[c.id] = true
	}
	if len(made) != creates {
		t.Fatalf("%d creates acknowledged, want %d", len(made), creates)
	}

	// Conditional updates on a few hot packages: read on one server, write
	// with the etag read on the other.
	type outcome struct {
		id, ifMatch, etag string
		applied           bool
	}
	var outcomes []outcome
	next.Store(0)
	for w := range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= updates; i = next.Add(1) {
				id := made[int(i)%hot].id
				read, err := call(t, "GET", fmt.Sprintf("%s%s('%s')", srv[w%2].url, pkgPath, id), nil, "")
				if err != nil || read.status != 200 {
					t.Errorf("read %s: %v %d", id, err, read.status)
					return
				}
				a, err := call(t, "PATCH", fmt.Sprintf("%s%s('%s')", srv[(w+1)%2].url, pkgPath, id), map[string]any{"Description": fmt.Sprintf("update %d", i)}, read.etag)
				if err != nil || (a.status != 200 && a.status != 412) {
					t.Errorf("update %s: %v %d %v", id, err, a.status, a.body)
					return
				}
				mu.Lock()
				outcomes = append(outcomes, outcome{id, read.etag, a.etag, a.status == 200})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(outcomes) != updates {
		t.Fatalf("%d updates answered, want %d", len(outcomes), updates)
	}
	applied := map[string]int{}
	for _, c := range made[:hot] {
		following := map[string]string{} // etag → the etag the update applied on it made
		for _, o := range outcomes {
			if o.id != c.id || !o.applied {
				continue
			}
			if prev, dup := following[o.ifMatch]; dup {
				t.Errorf("%s: two updates were applied on etag %s (%s and %s): one was lost", c.id, o.ifMatch, prev, o.etag)
			}
			following[o.ifMatch] = o.etag
			applied[c.id]++
		}
		chain := map[string]bool{}
		for e := c.etag; e != ""; e = following[e] {
			chain[e] = true
			if len(chain) > updates+1 {
				t.Fatalf("%s: the etags loop", c.id)
			}
		}
		if len(chain) != applied[c.id]+1 {
			t.Errorf("%s: %d applied updates, but the chain of etags from the create holds %d", c.id, applied[c.id], len(chain)-1)
		}
		last := c.etag
		for following[last] != "" {
			last = following[last]
		}
		for _, o := range outcomes {
			if o.id == c.id && !o.applied && (!chain[o.ifMatch] || o.ifMatch == last) {
				t.Errorf("%s: an update with etag %s was refused, but that etag was current", c.id, o.ifMatch)
			}
		}
		got, err := call(t, "GET", fmt.Sprintf("%s%s('%s')", srv[0].url, pkgPath, c.id), nil, "")
		if err != nil {
			t.Fatal(err)
		}
		v := got.body["value"].([]any)[0].(map[string]any)
		if sv := int(v["SourceVersion"].(float64)); sv != 1+applied[c.id] {
			t.Errorf("%s: SourceVersion %d after %d applied updates, want %d", c.id, sv, applied[c.id], 1+applied[c.id])
		}
	}

	// Each server's feed: every change once, in order.
	var feeds [2][]map[string]any
	for i := range srv {
		feeds[i] = feed(t, srv[i].url)
	}
	if len(feeds[0]) != len(feeds[1]) {
		t.Fatalf("the servers' feeds hold %d and %d changes", len(feeds[0]), len(feeds[1]))
	}
	total := 0
	for _, n := range applied {
		total += n
	}
	for i, f := range feeds {
		creates, updates := 0, 0
		version := map[string]int{}
		for j, ev := range f {
			if int(ev["Position"].(float64)) != j+1 {
				t.Fatalf("server %d: change %d has position %v", i, j+1, ev["Position"])
			}
			if ev["Class"] != "SMS_TaskSequencePackage" {
				continue
			}
			key, v := ev["Key"].(string), int(ev["Version"].(float64))
			switch ev["Operation"] {
			case "create":
				creates++
			case "update":
				updates++
			}
			if v != version[key]+1 {
				t.Errorf("server %d: %s version %d follows version %d", i, key, v, version[key])
			}
			version[key] = v
		}
		if creates != len(made) || updates != total {
			t.Errorf("server %d's feed: %d creates and %d updates, want %d and %d", i, creates, updates, len(made), total)
		}
	}
	t.Logf("%d creates, %d updates (%d applied, %d refused with 412), %d changes in each feed", len(made), len(outcomes), total, len(outcomes)-total, len(feeds[0]))
}

// TestKilledServerLosesNothing: while creates go to two servers on one
// database, one is killed with SIGKILL. Every create either server
// acknowledged is there afterwards, and the other server went on serving.
func TestKilledServerLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	srv := twoServers(t)
	type ack struct {
		id, name string
		after    bool // acknowledged by the survivor after the kill
	}
	var (
		mu     sync.Mutex
		acked  []ack
		killed atomic.Bool
		wg     sync.WaitGroup
	)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for w := range 8 {
		wg.Go(func() {
			s := srv[w%2]
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("storm %d-%d", w, i)
				a, err := call(t, "POST", s.url+pkgPath, map[string]any{"Name": name}, "")
				if err != nil || a.status != 201 {
					if s == srv[0] && killed.Load() {
						return // the killed server
					}
					t.Errorf("create on the surviving server: %v %d %v", err, a.status, a.body)
					return
				}
				mu.Lock()
				acked = append(acked, ack{a.body["PackageID"].(string), name, killed.Load()})
				mu.Unlock()
			}
		})
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("fewer than %d creates acknowledged in time", n)
	}
	waitFor(300)
	killed.Store(true)
	srv[0].kill()
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitFor(before + 200) // the survivor keeps serving
	stop()
	wg.Wait()

	after := 0
	for _, a := range acked {
		if a.after {
			after++
		}
		got, err := call(t, "GET", fmt.Sprintf("%s%s('%s')", srv[1].url, pkgPath, a.id), nil, "")
		if err != nil || got.status != 200 {
			t.Errorf("acknowledged %s (%s) lost: %v %d", a.id, a.name, err, got.status)
			continue
		}
		if v := got.body["value"].([]any)[0].(map[string]any); v["Name"] != a.name {
			t.Errorf("%s: Name %v, want %s", a.id, v["Name"], a.name)
		}
	}
	t.Logf("%d acknowledged creates checked, %d of them by the survivor after the kill", len(acked), after)
}
