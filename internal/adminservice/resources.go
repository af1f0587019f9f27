package adminservice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// list serves GET on a collection, paging past the page size with
// @odata.nextLink.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, t target) {
	c, _ := h.prov.Class(t.class)
	o, err := parseQueryOptions(r.URL.Query(), c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeCollection(w, r, c, o, func(opts provider.ListOptions) (*provider.ListResult, error) {
		return h.prov.List(r.Context(), c.Name, opts)
	})
}

// writeCollection answers a collection request of class c with the query
// options o and writes it with @odata.count and @odata.nextLink as asked.
// A page ends at the page size or at the page's byte budget, whichever
// comes first (see page).
func (h *Handler) writeCollection(w http.ResponseWriter, r *http.Request, c *cim.Class, o queryOptions, list func(provider.ListOptions) (*provider.ListResult, error)) {
	if err := h.resolveSkipToken(&o, c); err != nil {
		h.writeError(w, r, err)
		return
	}
	limit := h.pageSize
	if o.hasTop && o.top < limit {
		limit = o.top
	}
	total := int64(-1)
	values, served, last, more, err := h.page(limit, o.selected, func(last *cim.Instance, _, top int) ([]*provider.Object, error) {
		after, skip := o.after, o.skip
		if last != nil { // the next chunk: after the last instance served
			after, skip = provider.PositionOf(last, o.orderBy), 0
		}
		res, err := list(provider.ListOptions{Filter: o.filter, OrderBy: o.orderBy, After: after, Skip: skip, Top: top, Count: o.count && total < 0})
		if err != nil {
			return nil, err
		}
		if o.count && total < 0 {
			total = res.Total
		}
		return res.Objects, nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.baseURL(r)+"$metadata#"+c.Name)
	if o.count {
		body.Set("@odata.count", total)
	}
	body.Set("value", values)
	if more && (!o.hasTop || o.top > served) {
		body.Set("@odata.nextLink", h.origin.base(r)+nextLink(r, o, served, encodeSkipToken(c, last, o.orderBy)))
	}
	writeJSON(w, http.StatusOK, body)
}

// pageChunk is how many instances a collection page reads from the store
// at a time: a page that its byte budget ends early has not read (and
// held) its whole page size of instances.
const pageChunk = 100

// page encodes one collection page as a JSON array (lazy properties null,
// selected as $select asks) and reports how many instances it holds, the
// last of them, and whether more follow. It holds at most limit
// instances, and no more than fit in the handler's byte budget, though
// always at least one. fetch reads the next top instances of the
// collection: those after last, the last instance served (nil for the
// first chunk), having served so many; page reads a chunk at a time, one
// instance ahead to learn whether more follow, and lets each instance go
// once encoded, so that a page costs about its encoded size. A fetch that
// lists after last's position (keyset) never reads the instances before
// it again.
func (h *Handler) page(limit int, selected map[string]bool, fetch func(last *cim.Instance, served, top int) ([]*provider.Object, error)) (json.RawMessage, int, *cim.Instance, bool, error) {
	enc := h.encoder()
	return page(limit, h.pageBytes, fetch, func(w *bytes.Buffer, o *provider.Object) error {
		return enc.writeEntity(w, o, false, selected)
	})
}

// page is Handler.page with the byte budget pageBytes and the encoding of
// one instance (written to the buffer it is given) given.
func page(limit, pageBytes int, fetch func(last *cim.Instance, served, top int) ([]*provider.Object, error), encode func(*bytes.Buffer, *provider.Object) error) (json.RawMessage, int, *cim.Instance, bool, error) {
	var page, one bytes.Buffer
	page.WriteByte('[')
	served := 0
	var last *cim.Instance
	for {
		top := min(limit-served+1, pageChunk)
		objs, err := fetch(last, served, top)
		if err != nil {
			return nil, 0, nil, false, err
		}
		for i := range objs {
			if served == limit {
				return closePage(&page), served, last, true, nil
			}
			one.Reset()
			if err := encode(&one, objs[i]); err != nil {
				return nil, 0, nil, false, err
			}
			if served > 0 && page.Len()+1+one.Len() > pageBytes {
				return closePage(&page), served, last, true, nil
			}
			if served == 0 {
				// room for the chunk's instances at the first one's size,
				// at once: not grown and copied again and again
				page.Grow(min(min(limit, len(objs))*(one.Len()+1)+1, pageBytes+1))
			}
			if served > 0 {
				page.WriteByte(',')
			}
			page.Write(one.Bytes())
			last = objs[i].Instance
			objs[i] = nil
			served++
		}
		if len(objs) < top {
			return closePage(&page), served, last, false, nil
		}
	}
}

func closePage(page *bytes.Buffer) json.RawMessage {
	page.WriteByte(']')
	return page.Bytes()
}

// nextLink is the request's path and query with $skiptoken set to token,
// the position of the page's last instance (skiptoken.go), $skip dropped
// (the position is past it) and $top reduced by the served instances.
func nextLink(r *http.Request, o queryOptions, served int, token string) string {
	q := r.URL.Query()
	for k := range q {
		if strings.EqualFold(k, "$skip") || strings.EqualFold(k, "$top") || strings.EqualFold(k, "$skiptoken") {
			q.Del(k)
		}
	}
	q.Set("$skiptoken", token)
	if o.hasTop {
		q.Set("$top", strconv.Itoa(o.top-served))
	}
	u := *r.URL
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// count serves GET Class/$count (with an optional $filter) as plain text.
func (h *Handler) count(w http.ResponseWriter, r *http.Request, t target) {
	c, _ := h.prov.Class(t.class)
	o, err := parseQueryOptions(r.URL.Query(), c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	n, err := h.prov.Count(r.Context(), t.class, o.filter)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	_, _ = fmt.Fprint(w, n)
}

// get serves GET by key. The body is collection-shaped, a "value" array
// holding the one instance, because AdminService clients read .value after
// a key GET; lazy properties are filled.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, t target) {
	c, _ := h.prov.Class(t.class)
	o, err := parseQueryOptions(r.URL.Query(), c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if o.selected == nil {
		h.getByKey(w, r, t)
		return
	}
	obj, err := h.prov.Get(r.Context(), t.class, t.key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.baseURL(r)+"$metadata#"+obj.Instance.Class.Name)
	body.Set("value", []any{h.encoder().entity(obj, true, o.selected)})
	w.Header().Set("ETag", quoteETag(obj.ETag))
	writeJSON(w, http.StatusOK, body)
}

// create serves POST on a collection: 201 with the new entity.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, t target) {
	c, _ := h.prov.Class(t.class)
	in, err := h.decodeInstance(w, r, c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.prov.Create(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusCreated, obj)
}

// update serves PUT (replace) and PATCH (merge).
func (h *Handler) update(w http.ResponseWriter, r *http.Request, t target, mode provider.UpdateMode) {
	c, _ := h.prov.Class(t.class)
	in, err := h.decodeInstance(w, r, c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.prov.Update(r.Context(), c.Name, t.key, in, mode, ifMatch(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, obj)
}

// delete serves DELETE: 204.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, t target) {
	if err := h.prov.Delete(r.Context(), t.class, t.key, ifMatch(r)); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeEntity writes one entity in the $entity form, with its ETag and,
// for 201, its Location.
func (h *Handler) writeEntity(w http.ResponseWriter, r *http.Request, status int, obj *provider.Object) {
	c := obj.Instance.Class
	body := h.encoder().entity(obj, true, nil)
	body.Set("@odata.context", h.baseURL(r)+"$metadata#"+c.Name+"/$entity")
	w.Header().Set("ETag", quoteETag(obj.ETag))
	if status == http.StatusCreated {
		w.Header().Set("Location", h.baseURL(r)+c.Name+"('"+strings.ReplaceAll(obj.Instance.Key(), "'", "''")+"')")
	}
	writeJSON(w, status, body)
}

// decodeInstance reads the request body as an instance of c (or of the
// subclass its @odata.type names).
func (h *Handler) decodeInstance(w http.ResponseWriter, r *http.Request, c *cim.Class) (*cim.Instance, error) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errs.E(errs.Invalid, "empty body: expected a JSON object describing a %s", c.Name)
	}
	return h.reg.DecodeObject(c, raw, "")
}

// readJSON reads a bounded body and checks that it is declared as JSON
// (checkJSONMediaType) and is one strict JSON value (checkJSON). An empty
// body gives nil.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	b, err := h.readBody(w, r)
	if err != nil || b == nil {
		return b, err
	}
	if err := checkJSON(b, maxJSONDepth); err != nil {
		return nil, err
	}
	return b, nil
}

// readBody is readJSON without the check of the JSON itself (checkJSON):
// the media type, the size limit, UTF-8; nil for an empty body.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	declared, err := checkJSONMediaType(r.Header.Values("Content-Type"))
	if err != nil {
		return nil, err
	}
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	b, err := readAll(body, r.ContentLength, h.maxBody)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.E(errs.TooLarge, "request body is larger than the %d-byte limit (task sequences above 2 MB are refused, as ConfigMgr refuses them since version 2010)", tooBig.Limit)
		}
		return nil, bodyReadError(err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	if !declared {
		return nil, errs.E(errs.UnsupportedMediaType, "a request body must be sent with Content-Type: application/json")
	}
	if !utf8.Valid(b) {
		return nil, errs.E(errs.Invalid, "malformed JSON body: it is not valid UTF-8")
	}
	return b, nil
}

// checkJSONMediaType checks the Content-Type of a request that may carry
// a JSON body: application/json, with any parameters (odata.metadata=…,
// charset=utf-8 and no other charset). Any other media type is refused
// (415), with or without a body: a browser sends text/plain, form and
// multipart bodies to another site without asking it first, so a server
// that read them as JSON would run a forged request with the Basic
// credentials the browser holds. declared is false when there is no
// Content-Type; the caller then refuses a body that is not empty.
func checkJSONMediaType(values []string) (declared bool, err error) {
	switch len(values) {
	case 0:
		return false, nil
	case 1:
	default:
		return false, errs.E(errs.UnsupportedMediaType, "more than one Content-Type header")
	}
	mt, params, perr := mime.ParseMediaType(values[0])
	switch {
	case perr != nil:
		return false, errs.E(errs.UnsupportedMediaType, "Content-Type %q is malformed; send application/json", values[0])
	case mt != "application/json":
		return false, errs.E(errs.UnsupportedMediaType, "Content-Type %s is not accepted; request bodies are JSON, sent as application/json", mt)
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		return false, errs.E(errs.UnsupportedMediaType, "charset %s is not accepted; JSON bodies are UTF-8", params["charset"])
	}
	return true, nil
}

// bodyReadError says why a request body could not be read, without the
// socket addresses that a network error's text carries ("read tcp
// 10.0.0.5:8080->10.0.0.9:51000: i/o timeout"); the cause stays wrapped.
func bodyReadError(err error) error {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return &errs.Error{Kind: errs.Invalid, Msg: "the request body did not arrive within the server's read timeout", Err: err}
	case errors.As(err, &opErr):
		return &errs.Error{Kind: errs.Invalid, Msg: "the request body could not be read: the connection failed", Err: err}
	}
	return errs.E(errs.Invalid, "read request body: %w", err)
}

// readAll reads r whole into a buffer sized once from the request's
// Content-Length (when it gives one, up to limit), rather than grown by
// doubling, which for a body of a few megabytes allocates twice over.
func readAll(r io.Reader, contentLength, limit int64) ([]byte, error) {
	size := int64(512)
	if contentLength > 0 {
		size = min(contentLength, limit) + 1 // +1: room to see the end
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// ifMatch returns the If-Match tag without quotes or weak mark.
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

func quoteETag(tag string) string { return `"` + tag + `"` }
