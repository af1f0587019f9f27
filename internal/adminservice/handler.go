// Package adminservice serves the AdminService REST (OData v4) surface:
// the WMI route /AdminService/wmi/ with its service document, $metadata,
// collections, instances by key and class methods; and, apart from it
// under /tsprov/v1/, the extensions AdminService lacks (the WQL endpoint).
// Handlers are thin: decode, call the provider, encode.
package adminservice

import (
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// Prefix is the WMI route of AdminService.
const Prefix = "/AdminService/wmi/"

// DefaultPageSize is how many instances one collection response holds
// before the server pages with @odata.nextLink.
const DefaultPageSize = 1000

// DefaultMaxBody bounds request bodies (a task sequence may be 2 MB).
const DefaultMaxBody = 8 << 20

// DefaultPageBytes is how many bytes of instances one collection response
// holds, at most, before the server pages with @odata.nextLink (a page
// always holds at least one instance).
const DefaultPageBytes = 4 << 20

// Options configures the handler.
type Options struct {
	PageSize  int   // 0: DefaultPageSize
	PageBytes int   // 0: DefaultPageBytes
	MaxBody   int64 // 0: DefaultMaxBody
	// MethodCalls is how many class method calls run at once (0:
	// DefaultMethodCalls()); MethodWait how long one more waits for a turn
	// before it is answered 503 with Retry-After (0: DefaultMethodWait).
	MethodCalls int
	MethodWait  time.Duration
	// Turns, when not nil, are the turns method calls take, shared with
	// the other roots (MethodCalls and MethodWait are then unused).
	Turns  *Turns
	Logger *slog.Logger
	// Origin decides how the absolute URLs in answers begin (zero: with
	// "localhost", whatever the Host header says).
	Origin Origin
}

// Handler serves AdminService for one provider.
type Handler struct {
	prov      *provider.Provider
	reg       *cim.Registry
	pageSize  int
	pageBytes int
	maxBody   int64
	methods   *gate
	log       *slog.Logger
	metadata  []byte
	origin    *origin
	answers   answers // kept entities of GETs by key (answers.go)

	classEntities sync.Map // *cim.Class → *classEntity (entitystream.go)
}

// NewHandler returns the AdminService handler, with every route in one
// table.
func NewHandler(prov *provider.Provider, opts Options) (http.Handler, error) {
	h := &Handler{
		prov:      prov,
		reg:       prov.Registry(),
		pageSize:  opts.PageSize,
		pageBytes: opts.PageBytes,
		maxBody:   opts.MaxBody,
		log:       opts.Logger,
	}
	if h.pageSize <= 0 {
		h.pageSize = DefaultPageSize
	}
	if h.pageBytes <= 0 {
		h.pageBytes = DefaultPageBytes
	}
	if opts.MethodCalls <= 0 {
		opts.MethodCalls = DefaultMethodCalls()
	}
	if opts.MethodWait <= 0 {
		opts.MethodWait = DefaultMethodWait
	}
	h.methods = newGate(opts.MethodCalls, opts.MethodWait)
	if opts.Turns != nil {
		h.methods = opts.Turns.g
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if h.origin, err = newOrigin(opts.Origin); err != nil {
		return nil, err
	}
	md, err := Metadata(h.reg)
	if err != nil {
		return nil, err
	}
	h.metadata = md

	mux := http.NewServeMux()
	h.handle(mux, "/AdminService/wmi/{$}", map[string]http.HandlerFunc{"GET": h.serviceDocument})
	h.handle(mux, "/AdminService/wmi/$metadata", map[string]http.HandlerFunc{"GET": h.serveMetadata})
	mux.HandleFunc("/AdminService/wmi/{seg}", h.route)
	mux.HandleFunc("/AdminService/wmi/{seg}/{sub}", h.route)
	mux.HandleFunc("/AdminService/wmi/{seg}/{sub}/{op}", h.route)
	h.handle(mux, WQLPath, map[string]http.HandlerFunc{"GET": h.wql, "POST": h.wql})
	h.handle(mux, EventsPath, map[string]http.HandlerFunc{"GET": h.events})
	h.handle(mux, WebhooksPath, map[string]http.HandlerFunc{"GET": h.listWebhooks, "POST": h.createWebhook})
	h.handle(mux, WebhooksPath+"/{id}", map[string]http.HandlerFunc{"DELETE": h.deleteWebhook})
	h.handle(mux, WebhooksPath+"/{id}/enable", map[string]http.HandlerFunc{"POST": h.enableWebhook})
	h.handle(mux, SubscribePath, map[string]http.HandlerFunc{"GET": h.subscribe})
	h.handle(mux, AuditPath, map[string]http.HandlerFunc{"GET": h.audit})
	h.handle(mux, TokensPath, map[string]http.HandlerFunc{"GET": h.listTokens, "POST": h.createToken})
	h.handle(mux, TokensPath+"/{id}", map[string]http.HandlerFunc{"DELETE": h.revokeToken})
	h.handle(mux, LocksPath, map[string]http.HandlerFunc{"GET": h.listLocks, "DELETE": h.releaseLock})
	h.handle(mux, MePath, map[string]http.HandlerFunc{"GET": h.me})
	h.handle(mux, AdminsPath+"/{id}/password", map[string]http.HandlerFunc{"PUT": h.setPassword})
	h.handle(mux, ExportPath, map[string]http.HandlerFunc{"POST": h.export})
	h.handle(mux, ImportPath, map[string]http.HandlerFunc{"POST": h.importZip})
	h.handle(mux, MediaPath, map[string]http.HandlerFunc{"POST": h.createMedia})
	h.handle(mux, HistoryPath+"/{id}", map[string]http.HandlerFunc{"GET": h.history, "DELETE": h.purgeHistory})
	h.handle(mux, HistoryPath+"/{id}/{rev}", map[string]http.HandlerFunc{"GET": h.revision})
	h.handle(mux, HistoryPath+"/{id}/{rev}/restore", map[string]http.HandlerFunc{"POST": h.restore})
	h.handle(mux, DiffPath, map[string]http.HandlerFunc{"GET": h.diffVersions, "POST": h.diffDraft})
	h.handle(mux, ContentPath+"/{seg}/{leaf}", map[string]http.HandlerFunc{"GET": h.content})
	h.handle(mux, ContentPath+"/packages/{id}/snapshot", map[string]http.HandlerFunc{"GET": h.snapshotProgress})
	h.handle(mux, LintPath, map[string]http.HandlerFunc{"POST": h.lint})
	h.handle(mux, PlanPath, map[string]http.HandlerFunc{"POST": h.plan})
	h.handle(mux, DPPath+"/register", map[string]http.HandlerFunc{"POST": h.registerDP})
	h.handle(mux, DPPath+"/assignments", map[string]http.HandlerFunc{"GET": h.dpAssignments})
	h.handle(mux, DPPath+"/report", map[string]http.HandlerFunc{"POST": h.dpReport})
	mux.HandleFunc("/", h.notFound)
	return RefuseUncleanPaths(canonicalPrefix(mux), h.log), nil
}

// handle registers the handlers of one path by method, and for any other
// method the 405 that names them.
func (h *Handler) handle(mux *http.ServeMux, path string, byMethod map[string]http.HandlerFunc) {
	allowed := slices.Sorted(maps.Keys(byMethod))
	for _, m := range allowed {
		mux.HandleFunc(m+" "+path, byMethod[m])
	}
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		h.methodNotAllowed(w, r, strings.Join(allowed, ", "))
	})
}

// canonicalPrefix lets /adminservice/... (any case) reach the routes, as
// AdminService has accepted since 2006, and /AdminService/wmi reach the
// service document.
func canonicalPrefix(next http.Handler) http.Handler {
	const p = "/AdminService/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if len(path) >= len(p) && strings.EqualFold(path[:len(p)], p) {
			rest := path[len(p):]
			if len(rest) >= 3 && strings.EqualFold(rest[:3], "wmi") && (len(rest) == 3 || rest[3] == '/') {
				rest = "wmi" + rest[3:]
			}
			if rest == "wmi" {
				rest = "wmi/"
			}
			r.URL.Path = p + rest
			r.URL.RawPath = ""
		} else if strings.EqualFold(path, "/AdminService") {
			r.URL.Path = p
		}
		next.ServeHTTP(w, r)
	})
}

// route dispatches a resource path: a collection, an instance, a count or
// a method.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	t, err := parseTarget(r.PathValue("seg"), r.PathValue("sub"), r.PathValue("op"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.prov.Class(t.class)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if t.named != nil {
		if t.key, err = namedKey(c, t.named); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	switch {
	case t.method != "":
		if r.Method != http.MethodPost {
			h.methodNotAllowed(w, r, "POST")
			return
		}
		h.invoke(w, r, t)
	case t.count:
		if r.Method != http.MethodGet {
			h.methodNotAllowed(w, r, "GET")
			return
		}
		h.count(w, r, t)
	case t.hasKey:
		switch r.Method {
		case http.MethodGet:
			h.get(w, r, t)
		case http.MethodPut:
			h.update(w, r, t, provider.Replace)
		case http.MethodPatch:
			h.update(w, r, t, provider.Merge)
		case http.MethodDelete:
			h.delete(w, r, t)
		default:
			h.methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE")
		}
	default:
		switch r.Method {
		case http.MethodGet:
			h.list(w, r, t)
		case http.MethodPost:
			h.create(w, r, t)
		default:
			h.methodNotAllowed(w, r, "GET, POST")
		}
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, errNoRoute(r.URL.Path))
}

func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	_, _ = w.Write(h.metadata)
}

// serviceDocument lists the entity sets.
func (h *Handler) serviceDocument(w http.ResponseWriter, r *http.Request) {
	var sets []map[string]string
	for _, c := range EntitySets(h.reg) {
		sets = append(sets, map[string]string{"name": c.Name, "kind": "EntitySet", "url": c.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": h.baseURL(r) + "$metadata",
		"value":          sets,
	})
}

// namedKey turns Class(K1='a',K2='b') into the instance key: the values in
// the order the class declares its keys, joined by ";".
func namedKey(c *cim.Class, named map[string]string) (string, error) {
	keys := c.Keys()
	if len(named) != len(keys) {
		return "", errs.E(errs.Invalid, "%s has %d key properties; the path names %d", c.Name, len(keys), len(named))
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := named[strings.ToLower(k.Name)]
		if !ok {
			return "", errs.Target(errs.Invalid, k.Name, "the path does not name key property %s of %s", k.Name, c.Name)
		}
		parts[i] = v
	}
	return cim.JoinKey(parts), nil
}

// RefuseUncleanPaths answers a request whose path is not in its clean
// form with the OData error envelope (400), where net/http's ServeMux
// would answer an HTML redirect to the cleaned path: a "." or ".."
// segment or an empty one ("//"), as sent or once percent-decoded (so
// "%2F.." too), for no route of tsprov has such a path and a key that
// holds one could only be aimed past the route it names.
func RefuseUncleanPaths(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isCleanPath(sentPath(r.URL)) || !isCleanPath(r.URL.Path) {
			WriteError(w, r, log, errs.E(errs.Invalid, `the path holds a "." or ".." segment or an empty one ("//"), as sent or percent-decoded; name the resource by its own path`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sentPath is u's path as sent, percent-encoding and all, for its
// segments: RawPath when the client's encoding differs from the default
// one (EscapedPath's answer for a parsed URL, without checking that
// RawPath decodes to Path again), else Path, whose default encoding
// escapes neither "/" nor ".", so has the same segments.
func sentPath(u *url.URL) string {
	if u.RawPath != "" {
		return u.RawPath
	}
	return u.Path
}

// isCleanPath reports whether p is rooted and has no ".", ".." or empty
// segment (a trailing slash aside).
func isCleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	rest := strings.TrimSuffix(p[1:], "/")
	for {
		seg, more, found := strings.Cut(rest, "/")
		if seg == "." || seg == ".." || (seg == "" && p != "/") {
			return false
		}
		if !found {
			return true
		}
		rest = more
	}
}
