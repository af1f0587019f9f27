package adminservice

import (
	"bufio"
	"net/http"
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
	maxAnswerBytes  = 64 << 10 // an entity larger than this is not kept
	maxAnswersBytes = 8 << 20  // all kept entities together
)

// answers is the bounded set of kept entities of one Handler.
type answers struct {
	mu    sync.Mutex
	byKey map[answerKey]*answer
	bytes int
}

type answerKey struct{ class, key string }

// answer is one kept entity: the encoding of encoder.entity(obj, true,
// nil) (writeEntity), the object's ETag and the Mark of its read.
type answer struct {
	class  string // the class's own name
	mark   provider.Mark
	etag   string
	entity []byte
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
		a.bytes -= cap(old.entity)
	}
	a.byKey[k] = e
	a.bytes += cap(e.entity) // the memory held, not only the bytes used
	for other, o := range a.byKey { // in no particular order
		if a.bytes <= maxAnswersBytes {
			break
		}
		if other != k {
			delete(a.byKey, other)
			a.bytes -= cap(o.entity)
		}
	}
}

// getByKey serves GET of one instance without $select: the kept entity
// when the provider says it is unchanged, else a read whose entity is
// kept as it is written out. It writes the same bytes as the general get.
func (h *Handler) getByKey(w http.ResponseWriter, r *http.Request, t target) {
	ctx := r.Context()
	if kept := h.answers.lookup(t.class, t.key); kept != nil {
		same, err := h.prov.Unchanged(ctx, t.class, t.key, kept.mark)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if same {
			h.writeGetAnswer(w, r, kept.class, kept.etag, func(bw *bufio.Writer) error {
				_, err := bw.Write(kept.entity)
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
	class := obj.Instance.Class.Name
	h.writeGetAnswer(w, r, class, obj.ETag, func(bw *bufio.Writer) error {
		if mark.Zero() {
			return enc.writeEntity(bw, obj, true, nil)
		}
		tee := &capture{w: bw}
		if err := enc.writeEntity(tee, obj, true, nil); err != nil {
			return err
		}
		if !tee.over {
			h.answers.keep(t.class, t.key, &answer{class: class, mark: mark, etag: obj.ETag, entity: tee.buf})
		}
		return nil
	})
}

// writeGetAnswer writes the answer of a GET by key around the entity that
// entity writes: {"@odata.context":…,"value":[entity]}, with its ETag.
func (h *Handler) writeGetAnswer(w http.ResponseWriter, r *http.Request, class, etag string, entity func(*bufio.Writer) error) {
	w.Header().Set("ETag", quoteETag(etag))
	writeStream(w, http.StatusOK, func(bw *bufio.Writer) error {
		bw.WriteString(`{"@odata.context":`)
		cim.WriteJSONString(bw, h.baseURL(r)+"$metadata#"+class)
		bw.WriteString(`,"value":[`)
		if err := entity(bw); err != nil {
			return err
		}
		_, err := bw.WriteString("]}")
		return err
	})
}

// capture writes through to w and keeps a copy of what it wrote, up to
// maxAnswerBytes.
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
