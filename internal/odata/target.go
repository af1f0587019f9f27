package odata

import (
	"net/http"
	"strings"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// target is what a resource path of the strict root addresses.
type target struct {
	class  *cim.Class
	key    string
	hasKey bool
	count  bool        // Class/$count
	method *cim.Method // an action: bound to Class, to Class(key), or an import
}

// parseTarget reads the one or two path segments after /odata/:
//
//	Class                          the entity set
//	Class(key) | Class(K1=…,K2=…)  an entity
//	Class/$count                   the number of entities
//	Class/AdminService.Method      a static method (bound to the collection)
//	Class(key)/AdminService.Method an instance method (bound to the entity)
//	Method                         a static method of a complex type (an ActionImport)
func (h *Handler) parseTarget(seg, sub string) (target, error) {
	var t target
	if strings.HasPrefix(seg, "$") {
		return t, errs.Target(errs.NotImplemented, seg, "%s is not supported", seg)
	}
	name, key, hasKey, err := adminservice.ParseKeySegment(seg, h.prov.Class)
	if err != nil {
		return t, err
	}
	if c, ok := h.imports[strings.ToLower(name)]; ok && !hasKey && sub == "" {
		meth, _ := c.Method(name)
		return target{class: c, method: meth}, nil
	}
	c, err := h.prov.Class(name)
	if err != nil {
		return t, err
	}
	if !h.model.HasEntitySet(c) {
		return t, errs.Target(errs.NotFound, name, "%s is not an entity set of this service (see $metadata)", c.Name)
	}
	t = target{class: c, key: key, hasKey: hasKey}
	switch {
	case sub == "":
		return t, nil
	case sub == "$count" && !hasKey:
		t.count = true
		return t, nil
	}
	action, _ := qualifiedName(sub)
	if meth, ok := c.Method(action); ok {
		switch {
		case meth.IsStatic() && hasKey:
			return t, errs.Target(errs.Invalid, sub, "%s is bound to the collection: call it as %s/%s", meth.Name, c.Name, sub)
		case !meth.IsStatic() && !hasKey:
			return t, errs.Target(errs.Invalid, sub, "%s is bound to an entity: call it as %s('<key>')/%s", meth.Name, c.Name, sub)
		}
		t.method = meth
		return t, nil
	}
	if p, ok := c.Property(sub); ok && hasKey {
		return t, errs.Target(errs.NotImplemented, p.Name, "addressing the property %s by path is not supported; use $select", p.Name)
	}
	return t, errs.E(errs.NotFound, "no resource at %q", seg+"/"+sub)
}

// route dispatches a resource path by its target and the request method.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	t, err := h.parseTarget(r.PathValue("seg"), r.PathValue("sub"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case t.method != nil:
		if r.Method != http.MethodPost {
			adminservice.MethodNotAllowed(w, r, "POST")
			return
		}
		h.invoke(w, r, t)
	case t.count:
		if readOnly(w, r) {
			h.count(w, r, t)
		}
	case t.hasKey:
		switch {
		case get:
			h.get(w, r, t)
		case r.Method == http.MethodPatch:
			h.update(w, r, t, false)
		case r.Method == http.MethodPut:
			h.update(w, r, t, true)
		case r.Method == http.MethodDelete:
			h.delete(w, r, t)
		default:
			adminservice.MethodNotAllowed(w, r, "GET, HEAD, PATCH, PUT, DELETE")
		}
	default:
		switch {
		case get:
			h.list(w, r, t)
		case r.Method == http.MethodPost:
			h.create(w, r, t)
		default:
			adminservice.MethodNotAllowed(w, r, "GET, HEAD, POST")
		}
	}
}
