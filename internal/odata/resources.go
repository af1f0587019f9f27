package odata

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// list serves GET on an entity set: one page, "@odata.count" when asked
// ($count=true), "@odata.nextLink" when more follow. A page holds the
// server's page size, or less when the client prefers odata.maxpagesize,
// and no more bytes than AdminService's pages (adminservice.Page).
func (h *Handler) list(w http.ResponseWriter, r *http.Request, t target) {
	f, o, expand, err := h.request(r, t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	limit := h.pageSize
	if n, ok := preference(r, "odata.maxpagesize"); ok {
		if size, err := strconv.Atoi(n); err == nil && size > 0 && size < limit {
			limit = size
			w.Header().Add("Preference-Applied", "odata.maxpagesize="+n)
		}
	}
	if o.HasTop && o.Top < limit {
		limit = o.Top
	}
	total := int64(-1)
	enc := encoder{f}
	values, served, more, err := adminservice.Page(limit, h.pageBytes, func(skip, top int) ([]*provider.Object, error) {
		res, err := h.prov.List(r.Context(), t.class.Name, provider.ListOptions{Filter: o.Filter, OrderBy: o.OrderBy, Skip: o.Skip + skip, Top: top, Count: o.Count && total < 0})
		if err != nil {
			return nil, err
		}
		if o.Count && total < 0 {
			total = res.Total
		}
		return res.Objects, nil
	}, func(obj *provider.Object) (*cim.JSONObject, error) {
		e := enc.entity(t.class, obj, false, o.Selected)
		return e, h.expand(r.Context(), f, e, obj.Instance, expand)
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.serviceRoot(r)+"$metadata#"+t.class.Name+selectList(t.class, o.Selected))
	if o.Count {
		body.Set("@odata.count", f.int64Value(total))
	}
	body.Set("value", values)
	if more && (!o.HasTop || o.Top > served) {
		body.Set("@odata.nextLink", h.nextLink(r, o, served))
	}
	f.write(w, http.StatusOK, body)
}

// request reads the format, the navigation properties to expand and the
// other query options of a request on class c.
func (h *Handler) request(r *http.Request, c *cim.Class) (format, adminservice.Query, []navigation, error) {
	f, err := formatOf(r)
	if err != nil {
		return f, adminservice.Query{}, nil, err
	}
	expand, rest, err := h.model.parseExpand(r.URL.Query(), c)
	if err != nil {
		return f, adminservice.Query{}, nil, err
	}
	o, err := adminservice.ParseQuery(rest, c)
	return f, o, expand, err
}

// selectList is the context URL's list of selected properties: "" for
// all, else "(P1,P2)" in class order, keys included.
func selectList(c *cim.Class, selected map[string]bool) string {
	if selected == nil {
		return ""
	}
	var names []string
	for _, p := range c.Properties {
		if selected[strings.ToLower(p.Name)] || p.IsKey() {
			names = append(names, p.Name)
		}
	}
	return "(" + strings.Join(names, ",") + ")"
}

// nextLink is the request's URL with $skip moved past this page and $top
// reduced by it.
func (h *Handler) nextLink(r *http.Request, o adminservice.Query, served int) string {
	q := r.URL.Query()
	for k := range q {
		if strings.EqualFold(k, "$skip") || strings.EqualFold(k, "$top") {
			q.Del(k)
		}
	}
	q.Set("$skip", strconv.Itoa(o.Skip+served))
	if o.HasTop {
		q.Set("$top", strconv.Itoa(o.Top-served))
	}
	u := *r.URL
	u.RawQuery = q.Encode()
	return h.links.Base(r) + u.RequestURI()
}

// count serves GET Class/$count (with an optional $filter) as plain text.
func (h *Handler) count(w http.ResponseWriter, r *http.Request, t target) {
	f, o, _, err := h.request(r, t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.prov.List(r.Context(), t.class.Name, provider.ListOptions{Filter: o.Filter, Top: 1, Count: true})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	w.Header().Set("OData-Version", f.version)
	_, _ = fmt.Fprint(w, res.Total)
}

// get serves GET by key: the entity itself, lazy properties filled.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, t target) {
	f, o, expand, err := h.request(r, t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.prov.Get(r.Context(), t.class.Name, t.key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := h.entityBody(r, f, t.class, obj, o.Selected)
	if err := h.expand(r.Context(), f, body, obj.Instance, expand); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", adminservice.QuoteETag(obj.ETag))
	f.write(w, http.StatusOK, body)
}

// entityBody is obj with the context URL of a single entity first.
func (h *Handler) entityBody(r *http.Request, f format, set *cim.Class, obj *provider.Object, selected map[string]bool) *cim.JSONObject {
	body := cim.NewObject()
	body.Set("@odata.context", h.serviceRoot(r)+"$metadata#"+set.Name+selectList(set, selected)+"/$entity")
	e := encoder{f}.entity(set, obj, true, selected)
	for _, k := range e.Keys() {
		v, _ := e.Get(k)
		body.Set(k, v)
	}
	return body
}

// create serves POST on an entity set: 201 with the new entity, or 204
// when the client prefers return=minimal; Location names the entity.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, t target) {
	f, err := formatOf(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := h.decodeInstance(w, r, f, t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.prov.Create(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	loc := h.serviceRoot(r) + t.class.Name + keyPredicate(obj.Instance)
	w.Header().Set("Location", loc)
	h.writeChanged(w, r, f, t.class, obj, http.StatusCreated, loc)
}

// update serves PATCH (merge) and PUT (replace), with If-Match.
func (h *Handler) update(w http.ResponseWriter, r *http.Request, t target, replace bool) {
	f, err := formatOf(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := h.decodeInstance(w, r, f, t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	mode := provider.Merge
	if replace {
		mode = provider.Replace
	}
	obj, err := h.prov.Update(r.Context(), t.class.Name, t.key, in, mode, adminservice.IfMatch(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeChanged(w, r, f, t.class, obj, http.StatusOK, h.serviceRoot(r)+t.class.Name+keyPredicate(obj.Instance))
}

// writeChanged answers a create or an update: the entity with status, or
// 204 with Preference-Applied when the client prefers return=minimal.
func (h *Handler) writeChanged(w http.ResponseWriter, r *http.Request, f format, set *cim.Class, obj *provider.Object, status int, id string) {
	w.Header().Set("ETag", adminservice.QuoteETag(obj.ETag))
	if v, ok := preference(r, "return"); ok {
		w.Header().Add("Preference-Applied", "return="+v)
		if strings.EqualFold(v, "minimal") {
			w.Header().Set("OData-EntityId", id)
			w.Header().Set("OData-Version", f.version)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	f.write(w, status, h.entityBody(r, f, set, obj, nil))
}

// delete serves DELETE, with If-Match: 204.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, t target) {
	if err := h.prov.Delete(r.Context(), t.class.Name, t.key, adminservice.IfMatch(r)); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeInstance reads the body as an instance of c (or of the subclass
// its "@odata.type" names).
func (h *Handler) decodeInstance(w http.ResponseWriter, r *http.Request, f format, c *cim.Class) (*cim.Instance, error) {
	raw, err := adminservice.ReadJSON(w, r, h.maxBody)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errs.E(errs.Invalid, "empty body: expected a JSON object describing a %s", c.Name)
	}
	return h.reg.DecodeObjectWith(c, raw, "", f.decodeOptions())
}

// preference returns the value of the preference name in the Prefer
// headers (return=minimal, odata.maxpagesize=50).
func preference(r *http.Request, name string) (string, bool) {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), name) {
				return strings.Trim(strings.TrimSpace(v), `"`), true
			}
		}
	}
	return "", false
}
