package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"

	"github.com/tsprov/tsprov/internal/errs"
)

// net/http answers a request it cannot read (bad framing: Content-Length
// with Transfer-Encoding, two Content-Lengths, a header line without a
// colon, headers too large) itself, before any handler runs, with a
// plain-text body written in one piece straight on the connection. So
// that those answers too carry the OData error envelope, every connection
// is wrapped (envelopeListener) and such a write is rewritten on its way
// out: the same status, a JSON body. The format is net/http's and cannot
// be mistaken for a handler's answer, whose headers net/http always
// writes in sorted order (Connection before Content-Type).
var rawError = regexp.MustCompile(`\AHTTP/1\.1 ([0-9]{3}) ([^\r\n]*)\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n(?s:(.*))\z`)

var (
	rawErrorStart  = []byte("HTTP/1.1 ")
	rawErrorHeader = []byte("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")
)

// envelopeListener wraps each accepted connection in an envelopeConn.
type envelopeListener struct{ net.Listener }

func (l envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &envelopeConn{Conn: c}, nil
}

// envelopeConn rewrites net/http's own error answers (see rawError).
type envelopeConn struct{ net.Conn }

func (c *envelopeConn) Write(p []byte) (int, error) {
	if out, ok := odataEnvelope(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// ReadFrom hands a body read from a file (a content blob) to the
// connection's own ReadFrom, so that a TCP connection sends it with
// sendfile(2); net/http uses it only for bodies, never for its own error
// answers, which go through Write.
func (c *envelopeConn) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{c}, src)
}

// odataEnvelope returns the OData form of one of net/http's own error answers,
// or false when p is not one.
func odataEnvelope(p []byte) ([]byte, bool) {
	if !bytes.HasPrefix(p, rawErrorStart) { // most writes: bodies; no regexp for them
		return nil, false
	}
	// Every answer starts so: the regexp only for those whose header
	// after the status line is the one net/http's own errors have.
	if eol := bytes.IndexByte(p, '\n'); eol < 1 || p[eol-1] != '\r' || !bytes.HasPrefix(p[eol+1:], rawErrorHeader) {
		return nil, false
	}
	m := rawError.FindSubmatch(p)
	if m == nil {
		return nil, false
	}
	status, _ := strconv.Atoi(string(m[1]))
	message := string(m[3])
	if message == "" {
		message = string(m[2])
	}
	message = "the request cannot be read as HTTP/1.1: " + message
	body, err := json.Marshal(map[string]any{"error": map[string]any{
		"code":    strconv.Itoa(status),
		"message": message,
		"details": []map[string]any{{"code": rawErrorKind(status).String(), "message": message}},
	}})
	if err != nil {
		return nil, false
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %s %s\r\nConnection: close\r\nContent-Length: %d\r\nContent-Type: application/json; charset=utf-8\r\nOData-Version: 4.0\r\n\r\n", m[1], statusLine(m[2]), len(body))
	b.Write(body)
	return b.Bytes(), true
}

// rawErrorKind is the error kind of a status net/http answers on its own,
// named in the envelope's details as a handler's error names its kind.
func rawErrorKind(status int) errs.Kind {
	switch {
	case status == http.StatusRequestHeaderFieldsTooLarge:
		return errs.TooLarge
	case status == http.StatusNotImplemented:
		return errs.NotImplemented
	case status >= 500:
		return errs.Internal
	}
	return errs.Invalid
}

// statusLine is the reason phrase of a status line net/http wrote
// ("Bad Request: too many Host headers" → "Bad Request").
func statusLine(s []byte) []byte {
	if i := bytes.IndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return s
}
