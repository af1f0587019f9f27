package adminservice

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
)

// SubscribePath streams the changes a WQL event query selects as
// Server-Sent Events, an extension AdminService lacks.
const SubscribePath = "/tsprov/v1/subscribe"

// Timing of an event stream: how long one read of the feed waits for a
// change, and how long one write to the client may take.
const (
	subscribeWait  = 25 * time.Second
	subscribeWrite = 30 * time.Second
)

// subscribe serves GET /tsprov/v1/subscribe?query=<WQL event query>: the
// events the query selects, in commit order, each as
// "id: <position>\nevent: <EventClass>\ndata: <event JSON as in the
// feed>\n\n", with a comment line every subscribeWait when nothing comes.
// It starts after the Last-Event-ID header's position (a reconnecting
// EventSource sends it), else after the "after" option, else at the
// feed's end (the changes still to come). The caller sees the events of
// the objects it may read (provider.Events). Errors before the stream
// starts (a bad query, a position the feed no longer keeps: 410) are the
// OData envelope; one after it is a last "event: error" whose data is
// the envelope.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	q, err := h.prov.EventQuery(r.URL.Query().Get("query"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pos, err := subscribeStart(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if pos < 0 {
		if pos, err = h.prov.FeedEnd(r.Context()); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	// the first read answers errors (410 among them) with a status
	page, err := h.prov.Events(r.Context(), pos, 0, 0)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(text string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(subscribeWrite))
		if _, err := fmt.Fprint(w, text); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(": tsprov event stream\n\n") {
		return
	}
	for {
		for _, ev := range page.Events {
			ok, err := q.Match(ev)
			if err != nil {
				h.log.Warn("event stream: an event does not read back", "position", ev.Seq, "err", err)
				continue
			}
			if !ok {
				continue
			}
			data, err := json.Marshal(newEventJSON(ev))
			if err != nil {
				h.log.Warn("event stream: encode an event", "position", ev.Seq, "err", err)
				continue
			}
			if !send(fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Op.EventClass(), data)) {
				return
			}
		}
		if len(page.Events) == 0 && !send(": waiting\n\n") {
			return
		}
		pos = page.Position
		page, err = h.prov.Events(r.Context(), pos, 0, subscribeWait)
		if err != nil {
			if r.Context().Err() == nil {
				_, env := envelope(r, h.log, err)
				body, _ := json.Marshal(env)
				send("event: error\ndata: " + string(body) + "\n\n")
			}
			return
		}
	}
}

// subscribeStart reads where a stream starts: the Last-Event-ID header,
// else the "after" option; -1 when neither is given (the feed's end).
func subscribeStart(r *http.Request) (int64, error) {
	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return 0, errs.Target(errs.Invalid, "Last-Event-ID", "Last-Event-ID must be a feed position (a whole number), not %q", id)
		}
		return n, nil
	}
	if s := r.URL.Query().Get("after"); s != "" {
		return intParam(s, "after")
	}
	return -1, nil
}
