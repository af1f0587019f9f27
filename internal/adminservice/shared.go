package adminservice

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// What the strict OData root (internal/odata) shares with this one: the
// reading of requests (paths, keys, query options, bodies, If-Match) is the
// same on both roots; only the shapes of the answers differ.

// Query holds the system query options of a collection request.
type Query struct {
	Filter   query.Expr
	Selected map[string]bool // nil: all properties
	OrderBy  []store.Order
	Top      int
	HasTop   bool
	Skip     int
	Count    bool
}

// ParseQuery reads $filter, $select, $orderby, $top, $skip, $count and
// $format as this root does; every other system option is refused
// (errs.NotImplemented for the standard ones this root lacks).
func ParseQuery(q url.Values, c *cim.Class) (Query, error) {
	o, err := parseQueryOptions(q, c)
	if err == nil && o.skipToken != "" { // this root's next links carry $skip
		err = errs.Target(errs.NotImplemented, "$skiptoken", "query option $skiptoken is not supported here: follow @odata.nextLink")
	}
	return Query{Filter: o.filter, Selected: o.selected, OrderBy: o.orderBy, Top: o.top, HasTop: o.hasTop, Skip: o.skip, Count: o.count}, err
}

// ReadJSON reads a body of at most max bytes and checks that it is one
// well-formed JSON value of bounded depth; an empty body gives nil.
func ReadJSON(w http.ResponseWriter, r *http.Request, max int64) (json.RawMessage, error) {
	return (&Handler{maxBody: max}).readJSON(w, r)
}

// ParseKeySegment reads a path segment Name, Name('KEY'), Name(KEY) or
// Name(K1='a',K2='b') and, given the class, returns the name and the
// instance key (named keys joined in the class's key order).
func ParseKeySegment(seg string, class func(name string) (*cim.Class, error)) (name, key string, hasKey bool, err error) {
	name, key, named, hasKey, err := splitKey(seg)
	if err != nil || named == nil {
		return name, key, hasKey, err
	}
	c, err := class(name)
	if err != nil {
		return name, "", hasKey, err
	}
	key, err = namedKey(c, named)
	return name, key, hasKey, err
}

// IfMatch returns the request's If-Match tag without quotes or weak mark.
func IfMatch(r *http.Request) string { return ifMatch(r) }

// QuoteETag returns tag as an ETag header value.
func QuoteETag(tag string) string { return quoteETag(tag) }

// MethodNotAllowed answers 405 in the OData error envelope, naming the
// allowed verbs in Allow.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	(&Handler{}).methodNotAllowed(w, r, allowed)
}

// Links is a checked Origin: how the absolute URLs of answers begin, the
// same on every root.
type Links struct{ o *origin }

// NewLinks checks o as NewHandler does.
func NewLinks(o Origin) (Links, error) {
	checked, err := newOrigin(o)
	return Links{checked}, err
}

// Base is the beginning of every absolute URL for r (scheme and host, or
// the public URL), without a trailing slash.
func (l Links) Base(r *http.Request) string { return l.o.base(r) }

// Turns bound the class method calls that run at once, on every root
// (see gate).
type Turns struct{ g *gate }

// NewTurns lets n calls run at once (0: DefaultMethodCalls()); one more
// waits up to wait (0: DefaultMethodWait), then is refused.
func NewTurns(n int, wait time.Duration) *Turns {
	if n <= 0 {
		n = DefaultMethodCalls()
	}
	if wait <= 0 {
		wait = DefaultMethodWait
	}
	return &Turns{newGate(n, wait)}
}

// Enter waits for a turn; the caller calls release when done. A call
// refused (errs.Unavailable) is answered with RefuseBusy.
func (t *Turns) Enter(ctx context.Context) (release func(), err error) { return t.g.enter(ctx) }

// RefuseBusy answers a call refused a turn: 503 with Retry-After.
func RefuseBusy(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	(&Handler{log: log}).refuseBusy(w, r, err)
}

// Page encodes one collection page as a JSON array, as this root pages:
// at most limit instances and no more than pageBytes of them (0:
// DefaultPageBytes), though always one; it reports how many it holds and
// whether more follow. fetch reads top instances from position skip;
// encode renders one.
func Page(limit, pageBytes int, fetch func(skip, top int) ([]*provider.Object, error), encode func(*provider.Object) (*cim.JSONObject, error)) (json.RawMessage, int, bool, error) {
	if pageBytes <= 0 {
		pageBytes = DefaultPageBytes
	}
	values, served, _, more, err := page(limit, pageBytes, func(_ *cim.Instance, served, top int) ([]*provider.Object, error) {
		return fetch(served, top)
	}, func(w *bytes.Buffer, o *provider.Object) error {
		e, err := encode(o)
		if err != nil {
			return err
		}
		return e.WriteJSON(w)
	})
	return values, served, more, err
}
