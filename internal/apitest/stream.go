package apitest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Event is one Server-Sent Event of a stream.
type Event struct {
	ID, Event string
	Data      map[string]any
}

// Stream opens an event stream (GET url) and hands its events to the
// returned channel, closed when the stream ends or ctx does. headers come
// in name, value pairs. A stream that does not open with 200 and
// text/event-stream fails the test.
func Stream(t testing.TB, ctx context.Context, c *http.Client, url string, headers ...string) <-chan Event {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("stream %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan Event, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev Event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = Event{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.Data)
			}
		}
	}()
	return out
}

// Next returns the next event of a stream; a stream that ends, or sends
// nothing within wait, fails the test.
func Next(t testing.TB, evs <-chan Event, wait time.Duration) Event {
	t.Helper()
	select {
	case ev, ok := <-evs:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(wait):
		t.Fatalf("no event within %s", wait)
	}
	return Event{}
}
