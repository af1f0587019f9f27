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
	in, err := h.readParams(w, r, c, m)
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

// readParams reads the body of a method call and decodes its [in]
// parameters, with readJSON's checks and errors. It reads the body in one
// pass (cim.DecodeOptions.Strict, which refuses all that checkJSON
// refuses); only when that fails does it check the body and decode it
// again, so that every error is the one readJSON or the decoding would
// give.
func (h *Handler) readParams(w http.ResponseWriter, r *http.Request, c *cim.Class, m *cim.Method) (map[string]any, error) {
	raw, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeParams(h.reg, c, m, raw)
}

// decodeParams decodes a body that readBody read as readJSON's check
// (checkJSON) and then cim.Registry.DecodeParams would: the same values,
// or the same error.
func decodeParams(reg *cim.Registry, c *cim.Class, m *cim.Method, raw []byte) (map[string]any, error) {
	in, err := reg.DecodeParams(c.Name, m, raw, cim.DecodeOptions{Strict: true, MaxDepth: maxJSONDepth})
	if err == nil {
		return in, nil
	}
	if raw != nil {
		if err := checkJSON(raw, maxJSONDepth); err != nil {
			return nil, err
		}
	}
	return reg.DecodeParams(c.Name, m, raw, cim.DecodeOptions{})
}
