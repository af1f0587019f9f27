package odata

import (
	"net/http"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/csdl"
)

// warningsAnnotation is the instance annotation of a method result that
// lists the problems that did not stop the call (as on AdminService).
const warningsAnnotation = "@tsprov.warnings"

// invoke serves POST on an action. The body is a JSON object of the [in]
// parameters. A method with [out] parameters answers its declared result
// type (ReturnValue and the [out] parameters), one without answers its
// result as {"value": …}, a void one 204.
func (h *Handler) invoke(w http.ResponseWriter, r *http.Request, t target) {
	f, err := formatOf(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, m := t.class, t.method
	// Calls take turns with those of every root, before the body is read.
	release, err := h.turns.Enter(r.Context())
	if err != nil {
		adminservice.RefuseBusy(w, r, h.log, err)
		return
	}
	defer release()
	raw, err := adminservice.ReadJSON(w, r, h.maxBody)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := h.reg.DecodeParams(c.Name, m, raw, f.decodeOptions())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.prov.Invoke(r.Context(), c.Name, t.key, m.Name, in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	enc := encoder{f}
	body := cim.NewObject()
	_, hasReturn := csdl.ReturnType(m.Return)
	switch rt := resultType(c, m); {
	case rt != "":
		body.Set("@odata.context", h.serviceRoot(r)+"$metadata#"+csdl.Namespace+"."+rt)
		if len(res.Warnings) > 0 {
			body.Set(warningsAnnotation, res.Warnings)
		}
		if hasReturn {
			body.Set(returnValue, enc.value(m.Return, res.ReturnValue))
		}
		for _, prm := range csdl.OutParams(m) {
			body.Set(prm.Name, enc.value(prm.Type, res.Out[prm.Name]))
		}
	case hasReturn:
		body.Set("@odata.context", h.serviceRoot(r)+"$metadata#"+contextType(m.Return))
		if len(res.Warnings) > 0 {
			body.Set(warningsAnnotation, res.Warnings)
		}
		v := enc.value(m.Return, res.ReturnValue)
		if o, ok := v.(*cim.JSONObject); ok && !m.Return.Array {
			for _, k := range o.Keys() {
				x, _ := o.Get(k)
				body.Set(k, x)
			}
		} else {
			body.Set("value", v)
		}
	default:
		w.Header().Set("OData-Version", f.version)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.write(w, http.StatusOK, body)
}

// contextType is the context URL fragment of a result of type t:
// Edm.Int32, AdminService.SMS_TaskSequence, Collection(Edm.String).
func contextType(t cim.Type) string { return csdl.EdmType(t) }
