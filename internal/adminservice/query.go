package adminservice

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// queryOptions are the OData system query options of a collection request.
type queryOptions struct {
	filter   query.Expr
	selected map[string]bool // nil: all properties
	orderBy  []store.Order
	top      int // 0: none given
	hasTop   bool
	skip     int
	count    bool
	// skipToken is $skiptoken as given (skiptoken.go); resolve decodes
	// it once the order is known.
	skipToken string
	after     *provider.Position
}

// maxTop bounds $top; larger pages are served through @odata.nextLink.
const maxTop = 1 << 20

// parseQueryOptions reads $filter, $select, $orderby, $top, $skip and
// $count, checking names against the class; other system options are
// refused.
func parseQueryOptions(q url.Values, c *cim.Class) (queryOptions, error) {
	var o queryOptions
	for name, vals := range q {
		if !strings.HasPrefix(name, "$") {
			continue // custom query options are ignored, as OData allows
		}
		if len(vals) != 1 {
			return o, errs.Target(errs.Invalid, name, "query option %s given %d times", name, len(vals))
		}
		v := vals[0]
		var err error
		switch strings.ToLower(name) {
		case "$select":
			o.selected, err = parseSelect(v, c)
		case "$orderby":
			o.orderBy, err = parseOrderBy(v, c)
		case "$top":
			o.top, err = parseCount(name, v)
			o.hasTop = true
		case "$skip":
			o.skip, err = parseCount(name, v)
		case "$count":
			switch strings.ToLower(v) {
			case "true":
				o.count = true
			case "false":
			default:
				err = errs.Target(errs.Invalid, name, "$count must be true or false, not %q", v)
			}
		case "$filter":
			o.filter, err = query.ParseFilter(v)
		case "$format":
			if !strings.EqualFold(v, "json") && !strings.HasPrefix(strings.ToLower(v), "application/json") {
				err = errs.Target(errs.Invalid, name, "$format %q is not supported: only json", v)
			}
		case "$skiptoken":
			o.skipToken = v
		case "$expand", "$search", "$apply", "$compute", "$levels", "$deltatoken", "$index", "$schemaversion":
			err = errs.Target(errs.NotImplemented, name, "query option %s is not supported", name)
		default:
			err = errs.Target(errs.Invalid, name, "unknown system query option %s", name)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

// resolveSkipToken decodes o's $skiptoken, if any, for a list of class c
// in o's order.
func (h *Handler) resolveSkipToken(o *queryOptions, c *cim.Class) error {
	if o.skipToken == "" {
		return nil
	}
	pos, err := h.decodeSkipToken(o.skipToken, c, o.orderBy)
	if err != nil {
		return err
	}
	o.after = pos
	return nil
}

func parseCount(name, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, errs.Target(errs.Invalid, name, "%s must be a whole number of 0 or more, not %q", name, v)
	}
	if n > maxTop {
		return 0, errs.Target(errs.Invalid, name, "%s %d is above the limit %d", name, n, maxTop)
	}
	return n, nil
}

func parseSelect(v string, c *cim.Class) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "*" {
			return nil, nil
		}
		p, ok := c.Property(item)
		if !ok {
			return nil, errs.Target(errs.Invalid, item, "$select: class %s has no property %q", c.Name, item)
		}
		sel[strings.ToLower(p.Name)] = true
	}
	return sel, nil
}

func parseOrderBy(v string, c *cim.Class) ([]store.Order, error) {
	var out []store.Order
	for _, item := range strings.Split(v, ",") {
		fields := strings.Fields(item)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, errs.Target(errs.Invalid, "$orderby", "$orderby: malformed item %q (expected: Property [asc|desc])", strings.TrimSpace(item))
		}
		p, ok := c.Property(fields[0])
		if !ok {
			return nil, errs.Target(errs.Invalid, fields[0], "$orderby: class %s has no property %q", c.Name, fields[0])
		}
		o := store.Order{Property: p.Name}
		if len(fields) == 2 {
			switch strings.ToLower(fields[1]) {
			case "asc":
			case "desc":
				o.Desc = true
			default:
				return nil, errs.Target(errs.Invalid, "$orderby", "$orderby: %q must be asc or desc", fields[1])
			}
		}
		out = append(out, o)
	}
	return out, nil
}
