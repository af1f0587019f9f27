package adminservice

import (
	"net/http"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// warningsAnnotation is the instance annotation of a method result that
// lists the problems that did not stop the call; clients that do not know
// it ignore it.
const warningsAnnotation = "@tsprov.warnings"

// invoke serves POST on a static method (Class.Method) or an instance
// method (Class('KEY')/AdminService.Method). The [in] parameters are the
// members of the JSON body; the answer carries ReturnValue and the [out]
// parameters as top-level members. Calls take turns (see gate): a call
// waits for its turn before its body is read, so that calls waiting hold
// no memory.
func (h *Handler) invoke(w http.ResponseWriter, r *http.Request, t target) {
	c, _ := h.prov.Class(t.class)
	m, ok := c.Method(t.method)
	if !ok {
		h.writeError(w, r, errs.Target(errs.NotFound, t.method, "class %s has no method %s", c.Name, t.method))
		return
	}
	release, err := h.methods.enter(r.Context())
	if err != nil {
		h.refuseBusy(w, r, err)
		return
	}
	defer release()
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := h.reg.DecodeParams(c.Name, m, raw, cim.DecodeOptions{})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	key := ""
	if t.hasKey {
		key = t.key
	}
	res, err := h.prov.Invoke(r.Context(), c.Name, key, m.Name, in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.baseURL(r)+"$metadata#__PARAMETERS")
	if len(res.Warnings) > 0 {
		body.Set(warningsAnnotation, res.Warnings)
	}
	body.Set("ReturnValue", cim.JSONValue(m.Return, res.ReturnValue))
	for _, prm := range m.Params {
		if prm.Out {
			body.Set(prm.Name, cim.JSONValue(prm.Type, res.Out[prm.Name]))
		}
	}
	writeJSON(w, http.StatusOK, body)
}
