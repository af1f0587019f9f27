package adminservice

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// EventsPath is the change feed, an extension AdminService lacks.
const EventsPath = "/tsprov/v1/events"

// eventJSON is one change as the feed shows it: the WMI event class it
// raises, the instance's non-lazy values (store.EventValues: DateTime in
// DMTF form, as WMI events carry them) and for a modification those
// before it.
type eventJSON struct {
	Position         int64           `json:"Position"`
	Time             time.Time       `json:"Time"`
	Operation        string          `json:"Operation"`
	EventClass       string          `json:"EventClass"`
	Class            string          `json:"Class"`
	Key              string          `json:"Key"`
	Version          int64           `json:"Version"`
	Method           string          `json:"Method,omitempty"`
	TargetInstance   json.RawMessage `json:"TargetInstance"`
	PreviousInstance json.RawMessage `json:"PreviousInstance,omitempty"`
}

// EncodeEvent is the JSON of one change as the feed, the event stream and
// webhook deliveries show it.
func EncodeEvent(ev store.Event) ([]byte, error) { return json.Marshal(newEventJSON(ev)) }

// newEventJSON shapes one change of the feed.
func newEventJSON(ev store.Event) eventJSON {
	target := ev.Target
	if target == nil {
		target = json.RawMessage("null")
	}
	return eventJSON{Position: ev.Seq, Time: ev.Time, Operation: string(ev.Op), EventClass: ev.Op.EventClass(),
		Class: ev.Class, Key: ev.Key, Version: ev.Version, Method: ev.Method, TargetInstance: target, PreviousInstance: ev.Previous}
}

// events serves GET /tsprov/v1/events?after=N&limit=M&wait=S: the changes
// after position N (default 0) in commit order, at most M (default and
// most store.MaxEventsPage); with wait, it holds the request up to S
// seconds until a change comes. "Position" is where to read on from; the
// caller sees the changes of the objects it may read (provider.Events). A
// reader behind the feed's retention gets 410 Gone naming the oldest
// position kept (store.FeedTrimmed).
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := intParam(q.Get("after"), "after")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	wait, err := intParam(q.Get("wait"), "wait")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.prov.Events(r.Context(), after, int(min(limit, store.MaxEventsPage)), time.Duration(min(wait, 3600))*time.Second)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]eventJSON, len(page.Events))
	for i, ev := range page.Events {
		out[i] = newEventJSON(ev)
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out, "Position": page.Position})
}

// intParam reads a query option that is a whole number of 0 or more
// (empty: 0).
func intParam(s, name string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Target(errs.Invalid, name, "%s must be a whole number of 0 or more, not %q", name, s)
	}
	return n, nil
}
