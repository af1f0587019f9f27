package adminservice

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
)

// WQLPath is tsprov's WQL endpoint, an extension AdminService lacks.
const WQLPath = "/tsprov/v1/wql"

// maxWQL bounds the length of a WQL query.
const maxWQL = 64 << 10

// wql serves GET /tsprov/v1/wql?q=SELECT… and POST with {"query": "…"}:
// the answer has the shape of a collection (lazy properties null; a
// SELECT list keeps those properties, the keys and the system
// properties), paged past the page size with @odata.nextLink
// ($skiptoken, in key order; $skip is read too).
func (h *Handler) wql(w http.ResponseWriter, r *http.Request) {
	src, skip, token, err := h.wqlRequest(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	stmt, err := query.ParseWQL(src)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.prov.Class(stmt.Class)
	if err == nil && c.IsPrivate() {
		err = errs.E(errs.NotFound, "unknown class")
	}
	if err != nil {
		h.writeError(w, r, errs.Target(errs.Invalid, stmt.Class, "WQL: at position %d: unknown class %s", stmt.ClassPos+1, stmt.Class))
		return
	}
	if err := stmt.Check(c, nil); err != nil {
		h.writeError(w, r, err)
		return
	}
	var selected map[string]bool
	if stmt.Properties != nil {
		selected = map[string]bool{}
		for _, name := range stmt.Properties {
			p, ok := c.Property(name)
			if !ok {
				h.writeError(w, r, errs.Target(errs.Invalid, name, "WQL: class %s has no property %s", c.Name, name))
				return
			}
			selected[strings.ToLower(p.Name)] = true
		}
	}
	var after *provider.Position
	if token != "" {
		if after, err = h.decodeSkipToken(token, c, nil); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	values, _, last, more, err := h.page(h.pageSize, selected, func(last *cim.Instance, _, top int) ([]*provider.Object, error) {
		after, skip := after, skip
		if last != nil { // the next chunk: after the last instance served
			after, skip = provider.PositionOf(last, nil), 0
		}
		res, err := h.prov.List(r.Context(), c.Name, provider.ListOptions{Filter: stmt.Where, After: after, Skip: skip, Top: top})
		if err != nil {
			return nil, err
		}
		return res.Objects, nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.baseURL(r)+"$metadata#"+c.Name)
	body.Set("value", values)
	if more {
		q := url.Values{"q": {src}, "$skiptoken": {encodeSkipToken(c, last, nil)}}
		body.Set("@odata.nextLink", h.origin.base(r)+WQLPath+"?"+q.Encode())
	}
	writeJSON(w, http.StatusOK, body)
}

// wqlRequest reads the query, $skip and $skiptoken of a WQL request.
func (h *Handler) wqlRequest(w http.ResponseWriter, r *http.Request) (src string, skip int, token string, err error) {
	switch r.Method {
	case http.MethodGet:
		src = r.URL.Query().Get("q")
	case http.MethodPost:
		raw, err := h.readJSON(w, r)
		if err != nil {
			return "", 0, "", err
		}
		var body struct {
			Query string `json:"query"`
		}
		if raw == nil || json.Unmarshal(raw, &body) != nil {
			return "", 0, "", errs.E(errs.Invalid, `the body of a WQL request is {"query": "SELECT …"}`)
		}
		src = body.Query
	}
	if strings.TrimSpace(src) == "" {
		return "", 0, "", errs.E(errs.Invalid, "no WQL query: give it as ?q=SELECT… or a JSON body {\"query\": …}")
	}
	if len(src) > maxWQL {
		return "", 0, "", errs.E(errs.TooLarge, "the WQL query is %d bytes; the limit is %d", len(src), maxWQL)
	}
	if s := r.URL.Query().Get("$skip"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "", 0, "", errs.Target(errs.Invalid, "$skip", "$skip must be a whole number of 0 or more")
		}
		skip = n
	}
	return src, skip, r.URL.Query().Get("$skiptoken"), nil
}
