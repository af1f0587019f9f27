package adminservice_test

import (
	"bufio"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
)

// TestJSONBodiesNeedAJSONMediaType: a body is read as JSON only when it is
// declared application/json (with the parameters OData clients add); a
// JSON body sent as text/plain, as a form or without a Content-Type — the
// shapes a browser sends to another site unasked — is refused with 415
// and the envelope, and changes nothing. A request without a body needs
// no Content-Type.
func TestJSONBodiesNeedAJSONMediaType(t *testing.T) {
	s := newTestServer(t, 0)
	create := "/AdminService/wmi/" + tsClass
	accepted := 0
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", 201},
		{"application/json; charset=utf-8", 201},
		{"Application/JSON;charset=UTF-8", 201},
		{"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8", 201},
		{"text/plain", 415},
		{"text/plain;charset=UTF-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"", 415}, // none
		{"application/json; charset=iso-8859-1", 415},
		{"application/jsonp", 415},
		{"application/merge-patch+json", 415},
		{"json", 415},
	} {
		r := s.do("POST", create, map[string]any{"Name": "sent as JSON", "Description": tc.contentType}, "Content-Type", tc.contentType)
		if r.status != tc.want {
			t.Errorf("Content-Type %q: %d, want %d\n%s", tc.contentType, r.status, tc.want, r.raw)
			continue
		}
		if tc.want == 201 {
			accepted++
			continue
		}
		expectError(t, r, 415, "")
		if d := r.body["error"].(map[string]any)["details"].([]any); len(d) != 1 || d[0].(map[string]any)["code"] != "UnsupportedMediaType" {
			t.Errorf("Content-Type %q: details %v", tc.contentType, d)
		}
	}
	if n := len(s.list("")); n != accepted {
		t.Errorf("%d packages stored after %d accepted creates", n, accepted)
	}
	// no body, no Content-Type: a method call without parameters
	s.must(200, "POST", "/AdminService/wmi/"+tsClass+".ImportSequence", `{"SequenceXML":"<sequence version=\"3.00\"/>"}`)
	r := s.do("POST", adminservice.TokensPath, nil)
	if r.status == 415 {
		t.Errorf("a request without a body was refused for its media type: %s", r.raw)
	}
	// an empty form post to a method is refused all the same
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequence.LoadFromXml", "", "Content-Type", "application/x-www-form-urlencoded"), 415, "application/x-www-form-urlencoded")
}

// TestUncleanPathsGetTheEnvelope: a path with a "." or ".." segment or an
// empty one, as sent or percent-decoded, gets 400 with the OData envelope,
// never net/http's HTML redirect to the cleaned path (which, followed, led
// out of the key it was written in).
func TestUncleanPathsGetTheEnvelope(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "kept"})
	for _, path := range []string{
		"/AdminService/wmi/../wmi/",
		"/AdminService/wmi/" + tsClass + "/..",
		"/AdminService/wmi/" + tsClass + "/./" + id,
		"/AdminService/wmi/" + tsClass + "%2F..",
		"/AdminService/wmi/" + tsClass + "%2F..%2F..%2Ftsprov%2Fv1%2Fevents",
		"/AdminService/wmi/" + tsClass + "('..%2F..%2F..%2Fetc%2Fpasswd')",
		"/AdminService//wmi/",
		"/tsprov/v1/../v1/events",
		"/tsprov/v1/tokens/..%2Fevents",
	} {
		for _, method := range []string{"GET", "DELETE"} {
			r := s.do(method, path, nil)
			if r.header.Get("Location") != "" {
				t.Errorf("%s %s: redirected to %s", method, path, r.header.Get("Location"))
			}
			expectError(t, r, 400, "segment")
		}
	}
	s.getOne(id)
}

// TestMethodNotAllowedCarriesDetails: a 405 names the allowed methods in
// Allow and carries details like every other error, on the WMI routes and
// on the extensions.
func TestMethodNotAllowedCarriesDetails(t *testing.T) {
	s := newTestServer(t, 0)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/AdminService/wmi/" + tsClass, "GET, POST"},
		{"GET", "/AdminService/wmi/" + tsClass + ".SetSequence", "POST"},
		{"POST", "/AdminService/wmi/", "GET"},
		{"DELETE", "/AdminService/wmi/$metadata", "GET"},
		{"POST", adminservice.EventsPath, "GET"},
		{"PUT", adminservice.TokensPath, "GET, POST"},
		{"GET", adminservice.TokensPath + "/0123456789ab", "DELETE"},
		{"DELETE", adminservice.WQLPath, "GET, POST"},
	} {
		r := s.do(tc.method, tc.path, nil)
		expectError(t, r, 405, tc.method+" is not allowed")
		if r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, r.header.Get("Allow"), tc.allow)
		}
		d, _ := r.body["error"].(map[string]any)["details"].([]any)
		if len(d) != 1 || d[0].(map[string]any)["code"] != "MethodNotAllowed" {
			t.Errorf("%s %s: details %v", tc.method, tc.path, d)
		}
	}
}

// TestReadTimeoutNamesNoAddress: a body that does not arrive within the
// server's read timeout gets 400 with the envelope, and the message says
// so without the socket addresses of the connection.
func TestReadTimeoutNamesNoAddress(t *testing.T) {
	s := startServerWith(t, filepath.Join(t.TempDir(), "tsprov.db"), adminservice.Options{}, func(srv *http.Server) {
		srv.ReadTimeout = 300 * time.Millisecond
	})
	addr := strings.TrimPrefix(s.url, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	_, _ = conn.Write([]byte("POST /AdminService/wmi/" + tsClass + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Name\":"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	host, port, _ := net.SplitHostPort(conn.LocalAddr().String())
	if resp.StatusCode != 400 || !strings.Contains(b.String(), "read timeout") || strings.Contains(b.String(), host) || strings.Contains(b.String(), port) || !strings.Contains(b.String(), `"details"`) {
		t.Errorf("a body cut short by the read timeout: %d %s", resp.StatusCode, b.String())
	}
}
