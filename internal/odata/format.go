package odata

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// format is how one response is written.
type format struct {
	// ieee754 writes Edm.Int64 values (and @odata.count) as strings: the
	// client asked for IEEE754Compatible=true.
	ieee754 bool
	// version is the OData-Version of the answer: 4.0 for a client that
	// accepts no later version, else 4.01.
	version string
}

// formatOf reads what the client accepts: the IEEE754Compatible parameter
// of Accept, $format or the request's Content-Type, and OData-MaxVersion.
func formatOf(r *http.Request) (format, error) {
	f := format{version: "4.01"}
	if v := strings.TrimSpace(r.Header.Get("OData-MaxVersion")); v == "4.0" {
		f.version = "4.0"
	}
	var types []string
	for _, a := range r.Header.Values("Accept") {
		types = append(types, strings.Split(a, ",")...)
	}
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, "$format") {
			types = append(types, vs...)
		}
	}
	types = append(types, r.Header.Get("Content-Type"))
	for _, t := range types {
		if ieee754Param(t) {
			f.ieee754 = true
		}
	}
	return f, nil
}

// ieee754Param reports a media type with IEEE754Compatible=true.
func ieee754Param(t string) bool {
	_, params, err := mime.ParseMediaType(strings.TrimSpace(t))
	if err != nil {
		return false
	}
	for k, v := range params {
		if strings.EqualFold(k, "IEEE754Compatible") && strings.EqualFold(v, "true") {
			return true
		}
	}
	return false
}

// decodeOptions are the options of reading the request's JSON.
func (f format) decodeOptions() cim.DecodeOptions { return cim.DecodeOptions{Int64Strings: f.ieee754} }

// headers sets the OData headers of a JSON answer.
func (f format) headers(w http.ResponseWriter) {
	ct := "application/json;odata.metadata=minimal"
	if f.ieee754 {
		ct += ";IEEE754Compatible=true"
	}
	w.Header().Set("Content-Type", ct+";charset=utf-8")
	w.Header().Set("OData-Version", f.version)
}

// write writes body as the JSON answer with status.
func (f format) write(w http.ResponseWriter, status int, body *cim.JSONObject) {
	b, err := body.MarshalJSON()
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"500","message":"could not encode the response"}}`)
	}
	f.headers(w)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// int64Value is an Edm.Int64 value as the client asked for it.
func (f format) int64Value(n int64) any {
	if f.ieee754 {
		return strconv.FormatInt(n, 10)
	}
	return n
}

// metadataAsJSON reports whether $metadata is asked for as CSDL JSON:
// $format=json (or application/json), or an Accept header that names
// application/json and not application/xml before it.
func metadataAsJSON(r *http.Request) (bool, error) {
	for k, vs := range r.URL.Query() {
		if !strings.EqualFold(k, "$format") {
			continue
		}
		v := strings.ToLower(strings.TrimSpace(vs[len(vs)-1]))
		switch {
		case v == "json" || strings.HasPrefix(v, "application/json"):
			return true, nil
		case v == "xml" || strings.HasPrefix(v, "application/xml"):
			return false, nil
		}
		return false, errs.Target(errs.Invalid, "$format", "$format %q is not supported for $metadata: json or xml", vs[len(vs)-1])
	}
	for _, a := range r.Header.Values("Accept") {
		for _, t := range strings.Split(a, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(t))
			if err != nil {
				continue
			}
			switch mt {
			case "application/json":
				return true, nil
			case "application/xml", "text/xml":
				return false, nil
			}
		}
	}
	return false, nil
}
