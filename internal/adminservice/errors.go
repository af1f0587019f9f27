package adminservice

import (
	"bufio"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// ToStatus returns the HTTP status for err (errs.HTTPStatus: the one
// table of kinds to statuses).
func ToStatus(err error) int { return errs.HTTPStatus(err) }

// errorBody is the OData v4 JSON error envelope. code is a string, as
// AdminService writes it (the HTTP status).
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string         `json:"code"`
	Message    string         `json:"message"`
	Target     string         `json:"target,omitempty"`
	Details    []errorDetail  `json:"details,omitempty"`
	InnerError map[string]any `json:"innererror,omitempty"`
}

// wbemInvalidParameter is WBEM_E_INVALID_PARAMETER, the WMI status of a
// method called with a value it refuses.
const wbemInvalidParameter = 0x80041008

// writeError is the one function that writes an error response. Internal
// errors are logged and answered with a generic message, so that nothing
// about the server's insides leaks.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, h.log, err)
}

// WriteError writes err as an OData error response (the one error writer,
// shared with the server's authentication and rate limiting). Internal
// errors are logged on log and answered with a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, body := envelope(r, log, err)
	writeJSON(w, status, body)
}

// envelope is the HTTP status and OData error body of err (WriteError;
// also the data of an event stream's last "error" event).
func envelope(r *http.Request, log *slog.Logger, err error) (int, errorBody) {
	status := ToStatus(err)
	kind := errs.KindOf(err)
	msg := errs.Message(err)
	if status >= 500 && kind != errs.NotImplemented && kind != errs.Unavailable {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal server error; the server log has the details"
	}
	target := errs.TargetOf(err)
	body := errorBody{Error: errorDetail{
		Code:    strconv.Itoa(status),
		Message: msg,
		Target:  target,
		Details: []errorDetail{{Code: kind.String(), Message: msg, Target: target}},
	}}
	var pe *cmexport.ProblemsError
	if errors.As(err, &pe) {
		body.Error.Details = nil
		for _, p := range pe.Problems {
			target := p.Part
			if target == "" {
				target = p.Object
			}
			body.Error.Details = append(body.Error.Details, errorDetail{Code: kind.String(), Message: p.String(), Target: target})
		}
	}
	var me *provider.MethodError
	if errors.As(err, &me) {
		body.Error.Details = nil
		var statuses []any
		for _, pr := range me.Problems {
			body.Error.Details = append(body.Error.Details, errorDetail{Code: kind.String(), Message: pr.String(), Target: pr.Property})
			statuses = append(statuses, map[string]any{
				"@odata.type":   "#AdminService.SMS_ExtendedStatus",
				"Description":   pr.Message,
				"ErrorCode":     wbemInvalidParameter,
				"ObjectInfo":    pr.Step,
				"ParameterInfo": pr.Property,
				"Operation":     "ExecMethod",
				"ProviderName":  "tsprov",
				"StatusCode":    wbemInvalidParameter,
			})
		}
		body.Error.InnerError = map[string]any{"ReturnValue": wbemInvalidParameter, "SMS_ExtendedStatus": statuses}
	}
	return status, body
}

// writeJSON writes v as the response body with the OData JSON media type.
// An ordered object (*cim.JSONObject, every answer but errors) is streamed
// to the client through a small buffer rather than built in memory whole:
// a task sequence of 2 MB makes an answer of several.
func writeJSON(w http.ResponseWriter, status int, v any) {
	o, ok := v.(*cim.JSONObject)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			b, _ = json.Marshal(internalErrorBody)
			status = http.StatusInternalServerError
		}
		setJSONHeaders(w)
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	writeStream(w, status, func(bw *bufio.Writer) error { return o.WriteJSON(bw) })
}

// writeStream writes the answer that write writes, with the OData JSON
// media type, through a small buffer (writeJSON). When write fails before
// any byte has gone out, the answer is a 500 instead; after, the
// connection is broken.
func writeStream(w http.ResponseWriter, status int, write func(*bufio.Writer) error) {
	setJSONHeaders(w)
	sw := &statusWriter{w: w, status: status}
	bw := streamWriters.Get().(*bufio.Writer)
	bw.Reset(sw)
	defer func() { bw.Reset(nil); streamWriters.Put(bw) }()
	err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil:
	case !sw.started:
		// nothing has reached the client yet: answer the error instead
		b, _ := json.Marshal(internalErrorBody)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
	case sw.failed:
		// the client went away; nothing more to do
	default:
		// half an answer has gone out: break the connection so that the
		// client cannot take it for a whole one
		panic(http.ErrAbortHandler)
	}
}

// streamBuffer is the buffer between a streamed answer and the client.
const streamBuffer = 32 << 10

// streamWriters holds the buffers of streamed answers, reused across
// requests rather than allocated (and cleared) for each.
var streamWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, streamBuffer) }}

var internalErrorBody = errorBody{Error: errorDetail{Code: "500", Message: "could not encode the response"}}

func setJSONHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
}

// statusWriter sends the status line with the first bytes of the body, so
// that an answer that fails before any byte has gone out can still change
// its status.
type statusWriter struct {
	w       http.ResponseWriter
	status  int
	started bool // the status and some bytes have been sent
	failed  bool // writing to the client failed
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.w.WriteHeader(s.status)
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.failed = true
	}
	return n, err
}

// methodNotAllowed answers 405 naming the allowed verbs, in the Allow
// header and the message.
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	h.writeError(w, r, errs.E(errs.MethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, allowed))
}
