// Package odata serves the strict OData v4.01 root /odata/ for generated
// clients and new tools: the same provider, classes and security as
// AdminService's /AdminService/wmi/, with the shapes the OData standard
// prescribes (see docs/rest.md): GET by key answers the entity, methods are
// actions with simple names and declared result types, embedded and
// keyless classes are complex types, collections are never null, Int64 is
// a string when the client asks for IEEE754Compatible. Handlers are thin:
// decode, call the provider, encode; requests are read and errors written
// by the same code as AdminService's (internal/adminservice).
package odata

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/csdl"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// Prefix is the strict OData root.
const Prefix = "/odata/"

// Options configures the handler.
type Options struct {
	PageSize  int   // 0: adminservice.DefaultPageSize
	PageBytes int   // 0: adminservice.DefaultPageBytes
	MaxBody   int64 // 0: adminservice.DefaultMaxBody
	// Turns are the turns method calls take, shared with AdminService's
	// root (nil: turns of this root's own, with the default bounds).
	Turns  *adminservice.Turns
	Logger *slog.Logger
	// Origin decides how the absolute URLs in answers begin, as on
	// AdminService (zero: with "localhost").
	Origin adminservice.Origin
}

// Handler serves the strict root for one provider.
type Handler struct {
	prov      *provider.Provider
	reg       *cim.Registry
	model     *schemaModel
	pageSize  int
	pageBytes int
	maxBody   int64
	turns     *adminservice.Turns
	log       *slog.Logger
	links     adminservice.Links

	metadataXML  []byte
	metadataJSON []byte
	// imports maps the name of an ActionImport to its class.
	imports map[string]*cim.Class
}

// NewHandler returns the handler of the /odata/ routes.
func NewHandler(prov *provider.Provider, opts Options) (http.Handler, error) {
	h := &Handler{prov: prov, reg: prov.Registry(), pageSize: opts.PageSize, pageBytes: opts.PageBytes, maxBody: opts.MaxBody, turns: opts.Turns, log: opts.Logger}
	if h.turns == nil {
		h.turns = adminservice.NewTurns(0, 0)
	}
	if h.pageSize <= 0 {
		h.pageSize = adminservice.DefaultPageSize
	}
	if h.maxBody <= 0 {
		h.maxBody = adminservice.DefaultMaxBody
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	links, err := adminservice.NewLinks(opts.Origin)
	if err != nil {
		return nil, err
	}
	h.links = links
	m, err := newSchemaModel(h.reg)
	if err != nil {
		return nil, err
	}
	h.model = m
	doc := m.document()
	h.metadataXML = doc.XML()
	if h.metadataJSON, err = doc.JSON(); err != nil {
		return nil, err
	}
	h.imports = map[string]*cim.Class{}
	for _, c := range h.reg.Classes() {
		for _, meth := range declaredMethods(c) {
			if m.served(c) && m.unbound(c, meth) {
				h.imports[strings.ToLower(meth.Name)] = c
			}
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/odata/{$}", h.serviceDocument)
	mux.HandleFunc("/odata/$metadata", h.serveMetadata)
	mux.HandleFunc("/odata/{seg}", h.route)
	mux.HandleFunc("/odata/{seg}/{sub}", h.route)
	mux.HandleFunc("/", h.notFound)
	return mux, nil
}

// Metadata returns the strict root's $metadata document as CSDL XML.
func Metadata(reg *cim.Registry) ([]byte, error) {
	m, err := newSchemaModel(reg)
	if err != nil {
		return nil, err
	}
	return m.document().XML(), nil
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	adminservice.WriteError(w, r, h.log, err)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, errs.E(errs.NotFound, "no resource at %q", r.URL.Path))
}

// readOnly reports whether the request reads (GET or HEAD); otherwise it
// answers 405 naming the allowed verbs.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	adminservice.MethodNotAllowed(w, r, "GET, HEAD")
	return false
}

// serveMetadata answers the CSDL document: XML unless the client asks for
// JSON ($format=json, or an Accept that prefers application/json).
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	asJSON, err := metadataAsJSON(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("OData-Version", "4.01")
	if asJSON {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(h.metadataJSON)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(h.metadataXML)
}

// serviceDocument lists the entity sets and the action imports.
func (h *Handler) serviceDocument(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	f, err := formatOf(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var sets []any
	for _, c := range h.model.EntitySets() {
		o := cim.NewObject()
		o.Set("name", c.Name)
		o.Set("kind", "EntitySet")
		o.Set("url", c.Name)
		sets = append(sets, o)
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.serviceRoot(r)+"$metadata")
	body.Set("value", sets)
	f.write(w, http.StatusOK, body)
}

// serviceRoot is the absolute URL of the strict root for this request.
func (h *Handler) serviceRoot(r *http.Request) string { return h.links.Base(r) + Prefix }

// qualifiedName strips the namespace from a qualified action or type name.
func qualifiedName(s string) (string, bool) {
	p := csdl.Namespace + "."
	if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
		return s[len(p):], true
	}
	return s, false
}
