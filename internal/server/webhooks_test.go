package server

import (
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/events"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// webhookOutage is how long the receiver of TestWebhookDeliversThroughOutageAndRestart
// stays down (-webhook-outage=30s for a long run).
var webhookOutage = flag.Duration("webhook-outage", 300*time.Millisecond, "how long the webhook receiver stays down")

const packageCreations = "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage'"

// delivery is one POST a receiver accepted.
type delivery struct {
	id        int64
	packageID string
	signed    bool // the signature is the HMAC of the body with the secret
}

// receiver is a real HTTP webhook receiver on 127.0.0.1 that answers 503
// while down and records what it accepts.
type receiver struct {
	url    string
	secret string
	mu     sync.Mutex
	down   bool
	tries  int
	got    []delivery
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	r := &receiver{secret: secret}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.tries++
		if r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev struct {
			TargetInstance map[string]any
		}
		_ = json.Unmarshal(body, &ev)
		id, _ := strconv.ParseInt(req.Header.Get(events.EventIDHeader), 10, 64)
		pid, _ := ev.TargetInstance["PackageID"].(string)
		r.got = append(r.got, delivery{id: id, packageID: pid, signed: req.Header.Get(events.SignatureHeader) == events.Sign(r.secret, body)})
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.url = "http://" + ln.Addr().String() + "/hook"
	return r
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *receiver) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries
}

// packages waits until the receiver accepted n distinct events and
// returns their package ids in the order first received, checking each
// delivery's signature and that ids never go back.
func (r *receiver) packages(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		r.mu.Unlock()
		var out []string
		seen := map[int64]bool{}
		var last int64
		for _, d := range got {
			if !d.signed {
				t.Fatalf("delivery of event %d: the signature is not the HMAC-SHA256 of the body", d.id)
			}
			if d.id < last {
				t.Fatalf("event %d delivered after %d: out of order", d.id, last)
			}
			last = d.id
			if !seen[d.id] {
				seen[d.id] = true
				out = append(out, d.packageID)
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d events, want %d", len(out), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fastWebhooks(c *Config) {
	c.WebhookBackoff, c.WebhookRescan, c.WebhookMaxFailures = 20*time.Millisecond, 100*time.Millisecond, 1000
	c.WebhookHosts = []string{"127.0.0.1"} // the receivers' host, allowed
}

func (s *secureServer) createWebhook(token, url, query, secret string) string {
	s.t.Helper()
	return s.must(201, token, "POST", "/tsprov/v1/webhooks", map[string]any{"URL": url, "Query": query, "Secret": secret}).body["WebhookID"].(string)
}

func (s *secureServer) newPackage(token, name string) string {
	s.t.Helper()
	return s.must(201, token, "POST", tsPath, map[string]any{"Name": name}).body["PackageID"].(string)
}

// A receiver that is down while packages are created, and a server
// restarted meanwhile, still receive every creation afterwards, once
// each in feed order, each signed.
func TestWebhookDeliversThroughOutageAndRestart(t *testing.T) {
	s := startSecureServer(t, fastWebhooks)
	rcv := newReceiver(t, "s3cret")
	id := s.createWebhook(s.admin, rcv.url, packageCreations, "s3cret")
	list := s.must(200, s.admin, "GET", "/tsprov/v1/webhooks", nil)
	if strings.Contains(string(list.raw), "s3cret") || strings.Contains(string(list.raw), "Secret") {
		t.Errorf("GET /tsprov/v1/webhooks shows the secret: %s", list.raw)
	}
	if !strings.Contains(string(list.raw), id) || !strings.Contains(string(list.raw), `"Active"`) {
		t.Errorf("GET /tsprov/v1/webhooks: %s, want %s Active", list.raw, id)
	}

	rcv.setDown(true)
	var want []string
	for i := range 3 {
		want = append(want, s.newPackage(s.admin, "before restart "+strconv.Itoa(i)))
	}
	for rcv.attempts() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	// restart with the receiver still down: the position is in the store
	s.stop()
	s2, err := launchSecureServer(t, s.admin, func(c *Config) { fastWebhooks(c); c.DataDir = s.dir })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		want = append(want, s2.newPackage(s.admin, "after restart "+strconv.Itoa(i)))
	}
	time.Sleep(*webhookOutage)
	rcv.setDown(false)
	want = append(want, s2.newPackage(s.admin, "after the outage"))
	got := rcv.packages(t, len(want))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

// After MaxFailures consecutive failures a webhook is dead-lettered
// (GET shows it with the last error) and delivers nothing more; enabling
// it delivers from where it stopped.
func TestWebhookDeadLetterAndEnable(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { fastWebhooks(c); c.WebhookMaxFailures = 3 })
	rcv := newReceiver(t, "k")
	rcv.setDown(true)
	id := s.createWebhook(s.admin, rcv.url, packageCreations, "k")
	pkg := s.newPackage(s.admin, "undelivered")
	var hook map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		for _, v := range s.must(200, s.admin, "GET", "/tsprov/v1/webhooks", nil).body["value"].([]any) {
			if h := v.(map[string]any); h["WebhookID"] == id {
				hook = h
			}
		}
		if hook["State"] == "DeadLetter" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hook["State"] != "DeadLetter" || !strings.Contains(hook["LastError"].(string), "503") || hook["Failures"] != float64(3) {
		t.Fatalf("webhook after 3 failures: %v, want DeadLetter with the last error", hook)
	}
	if n := rcv.attempts(); n != 3 {
		t.Errorf("the receiver saw %d attempts, want 3 before the dead letter", n)
	}
	rcv.setDown(false)
	if a := s.do(s.admin, "POST", "/tsprov/v1/webhooks/nosuch/enable", nil); a.status != 404 {
		t.Errorf("enable an unknown webhook: %d, want 404", a.status)
	}
	s.must(200, s.admin, "POST", "/tsprov/v1/webhooks/"+id+"/enable", nil)
	if got := rcv.packages(t, 1); got[0] != pkg {
		t.Errorf("after enable the receiver got %v, want %s", got, pkg)
	}
	s.must(204, s.admin, "DELETE", "/tsprov/v1/webhooks/"+id, nil)
	if a := s.do(s.admin, "DELETE", "/tsprov/v1/webhooks/"+id, nil); a.status != 404 {
		t.Errorf("delete twice: %d, want 404", a.status)
	}
}

// A webhook delivers nothing about an object its creator cannot see, and
// a user sees and deletes only its own webhooks.
func TestWebhookScopes(t *testing.T) {
	s := startSecureServer(t, fastWebhooks)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	alice := s.addUser("alice", []string{"SMS0007R"}, []string{lab})
	bob := s.addUser("bob", []string{"SMS0007R"}, []string{"SMS00UNA"})
	bobs, alices := newReceiver(t, "b"), newReceiver(t, "a")
	bobHook := s.createWebhook(bob, bobs.url, packageCreations, "b")
	s.createWebhook(alice, alices.url, packageCreations, "a")
	hers := s.newPackage(alice, "Lab only")
	public := s.newPackage(s.admin, "Default")
	if got := bobs.packages(t, 1); got[0] != public {
		t.Errorf("Bob's webhook first delivered %s, want only %s (Alice's %s is outside his scopes)", got[0], public, hers)
	}
	if got := alices.packages(t, 1); got[0] != hers {
		t.Errorf("Alice's webhook first delivered %s, want %s", got[0], hers)
	}
	if list := s.must(200, alice, "GET", "/tsprov/v1/webhooks", nil); strings.Contains(string(list.raw), bobHook) {
		t.Errorf("Alice lists Bob's webhook: %s", list.raw)
	}
	if a := s.do(alice, "DELETE", "/tsprov/v1/webhooks/"+bobHook, nil); a.status != 404 {
		t.Errorf("Alice deletes Bob's webhook: %d, want 404", a.status)
	}
}

// Bad requests are refused with the error envelope and store nothing.
func TestWebhookBadInput(t *testing.T) {
	s := startSecureServer(t, nil)
	for _, body := range []map[string]any{
		{"URL": "ftp://127.0.0.1/x", "Query": packageCreations, "Secret": "k"},
		{"URL": "http://127.0.0.1/x", "Query": "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'NoSuchClass'", "Secret": "k"},
		{"URL": "http://127.0.0.1/x", "Query": packageCreations},
	} {
		a := s.do(s.admin, "POST", "/tsprov/v1/webhooks", body)
		envelope(t, "POST /tsprov/v1/webhooks", a)
		if a.status != 400 {
			t.Errorf("POST %v: %d, want 400", body, a.status)
		}
	}
	if list := s.must(200, s.admin, "GET", "/tsprov/v1/webhooks", nil); len(list.body["value"].([]any)) != 0 {
		t.Errorf("after refused requests: %s", list.raw)
	}
}

// With --webhook-hosts, a webhook to any other host is refused, naming
// the allowed ones.
func TestWebhookDestinationsAllowed(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { c.WebhookHosts = []string{"hooks.example"} })
	a := s.do(s.admin, "POST", "/tsprov/v1/webhooks", map[string]any{"URL": "http://127.0.0.1:9/x", "Query": packageCreations, "Secret": "k"})
	envelope(t, "POST /tsprov/v1/webhooks", a)
	if a.status != 400 || !strings.Contains(string(a.raw), "hooks.example") {
		t.Errorf("a webhook to a host not allowed: %d %s, want 400 naming hooks.example", a.status, a.raw)
	}
	s.must(201, s.admin, "POST", "/tsprov/v1/webhooks", map[string]any{"URL": "https://HOOKS.example/x", "Query": packageCreations, "Secret": "k"})
}

// Two servers on one PostgreSQL database: one of them delivers the
// webhook (a lease in the store), so the receiver gets each change made
// through either server once, in feed order.
func TestWebhookOneDelivererAcrossServersOnPostgres(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	token, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	a, err := launchSecureServer(t, token, func(c *Config) { fastWebhooks(c); c.Database = url })
	if err != nil {
		t.Fatal(err)
	}
	b, err := launchSecureServer(t, token, func(c *Config) { fastWebhooks(c); c.Database = url })
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, "k")
	a.createWebhook(token, rcv.url, packageCreations, "k")
	var want []string
	for i := range 3 {
		want = append(want, a.newPackage(token, "through a "+strconv.Itoa(i)), b.newPackage(token, "through b "+strconv.Itoa(i)))
	}
	got := rcv.packages(t, len(want))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
	time.Sleep(300 * time.Millisecond) // a second deliverer would send them again by now
	rcv.mu.Lock()
	n := len(rcv.got)
	rcv.mu.Unlock()
	if n != len(want) {
		t.Errorf("the receiver got %d deliveries of %d events: more than one server delivers", n, len(want))
	}
}
