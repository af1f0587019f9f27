package adminservice

import (
	"bufio"
	"net/http"
	"strconv"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/provider"
)

// The encoded entities of recent GETs by key are kept (answers), each
// with the provider.Mark of the read it came from, so that a GET of an
// instance that has not changed costs a check of the store's generation
// instead of a read and an encoding. Before a kept entity is served, the
// provider checks the caller's permissions as for any GET and that
// nothing at all was written since the read (provider.Unchanged: by this
// server or by any other on the same database), so a kept entity is never
// served to a caller who may not read it, nor after a write was
// acknowledged.
const (
	maxAnswerBytes  = 64 << 10 // an answer larger than this is not kept
	maxAnswersBytes = 8 << 20  // all kept answers together
)

// answers is the bounded set of kept entities of one Handler.
type answers struct {
	mu    sync.Mutex
	byKey map[answerKey]*answer
	bytes int
}

type answerKey struct{ class, key string }

// answer is one kept answer: the whole body of a GET by key, with the
// entity (encoder.entity(obj, true, nil), written by writeEntity) inside
// it, for the base URL of the request it was written for; the object's
// ETag and the Mark of its read. It is not changed once kept.
type answer struct {
	class  string // the class's own name
	mark   provider.Mark
	etag   string // quoted, as the ETag header carries it
	base   string // h.baseURL of the request the body was written for
	body   []byte // {"@odata.context":…,"value":[entity]}
	entity [2]int // where the entity is in body
	length string // len(body), for Content-Length
}

func (a *answers) lookup(class, key string) *answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byKey[answerKey{class, key}]
}

// keep stores e for class and key, replacing what was kept for them, and
// forgets other entities while the whole is over its bound.
func (a *answers) keep(class, key string, e *answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byKey == nil {
		a.byKey = map[answerKey]*answer{}
	}
	k := answerKey{class, key}
	if old, ok := a.byKey[k]; ok {
		a.bytes -= cap(old.body)
	}
	a.byKey[k] = e
	a.bytes += cap(e.body)          // the memory held, not only the bytes used
	for other, o := range a.byKey { // in no particular order
		if a.bytes <= maxAnswersBytes {
			break
		}
		if other != k {
			delete(a.byKey, other)
			a.bytes -= cap(o.body)
		}
	}
}

// getByKey serves GET of one instance without $select: the kept answer
// when the provider says it is unchanged, else a read whose answer is
// kept as it is written out. It writes the same body as the general get.
func (h *Handler) getByKey(w http.ResponseWriter, r *http.Request, t target) {
	ctx := r.Context()
	base := h.baseURL(r)
	if kept := h.answers.lookup(t.class, t.key); kept != nil {
		same, err := h.prov.Unchanged(ctx, t.class, t.key, kept.mark)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if same {
			if base == kept.base {
				writeKept(w, kept)
				return
			}
			// another base URL (another trusted Host): the same entity
			h.writeGetAnswer(w, base, kept.class, kept.etag, func(bw cim.JSONWriter) error {
				_, err := bw.Write(kept.body[kept.entity[0]:kept.entity[1]])
				return err
			})
			return
		}
	}
	obj, mark, err := h.prov.GetMarked(ctx, t.class, t.key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	enc := h.encoder()
	class, etag := obj.Instance.Class.Name, quoteETag(obj.ETag)
	entity := func(bw cim.JSONWriter) error { return enc.writeEntity(bw, obj, true, nil) }
	if mark.Zero() {
		h.writeGetAnswer(w, base, class, etag, entity)
		return
	}
	w.Header().Set("ETag", etag)
	writeStream(w, http.StatusOK, func(bw *bufio.Writer) error {
		tee := &capture{w: bw}
		var at [2]int
		err := writeGetBody(tee, base, class, func(w cim.JSONWriter) error {
			at[0] = len(tee.buf)
			err := entity(w)
			at[1] = len(tee.buf)
			return err
		})
		if err == nil && !tee.over {
			h.answers.keep(t.class, t.key, &answer{class: class, mark: mark, etag: etag, base: base,
				body: tee.buf, entity: at, length: strconv.Itoa(len(tee.buf))})
		}
		return err
	})
}

// writeKept writes a kept answer as it is, its length known.
func writeKept(w http.ResponseWriter, a *answer) {
	setJSONHeaders(w)
	hd := w.Header()
	hd.Set("ETag", a.etag)
	hd.Set("Content-Length", a.length)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body) // an error: the client went away
}

// writeGetAnswer writes the answer of a GET by key around the entity that
// entity writes, with its ETag (quoted).
func (h *Handler) writeGetAnswer(w http.ResponseWriter, base, class, etag string, entity func(cim.JSONWriter) error) {
	w.Header().Set("ETag", etag)
	writeStream(w, http.StatusOK, func(bw *bufio.Writer) error { return writeGetBody(bw, base, class, entity) })
}

// writeGetBody writes the body of a GET by key for the base URL base:
// {"@odata.context":…,"value":[entity]}.
func writeGetBody(w cim.JSONWriter, base, class string, entity func(cim.JSONWriter) error) error {
	w.WriteString(`{"@odata.context":`)
	cim.WriteJSONString(w, base+"$metadata#"+class)
	w.WriteString(`,"value":[`)
	if err := entity(w); err != nil {
		return err
	}
	_, err := w.WriteString("]}")
	return err
}

// capture writes through to w and keeps a copy of what it wrote, up to
// maxAnswerBytes (the whole answer's bytes).
type capture struct {
	w    *bufio.Writer
	buf  []byte
	over bool
}

func (c *capture) note(n int) bool {
	if c.over || len(c.buf)+n > maxAnswerBytes {
		c.over, c.buf = true, nil
		return false
	}
	return true
}

func (c *capture) Write(p []byte) (int, error) {
	if c.note(len(p)) {
		c.buf = append(c.buf, p...)
	}
	return c.w.Write(p)
}

func (c *capture) WriteString(s string) (int, error) {
	if c.note(len(s)) {
		c.buf = append(c.buf, s...)
	}
	return c.w.WriteString(s)
}

func (c *capture) WriteByte(b byte) error {
	if c.note(1) {
		c.buf = append(c.buf, b)
	}
	return c.w.WriteByte(b)
}
