package client

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request that gets no answer fails in one line that says what to try.
func TestNetworkErrorsSayWhatToTry(t *testing.T) {
	// a port nobody listens on
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	// a server that hangs up without answering (a TLS server read as plain HTTP does)
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangup.Close()
	go func() {
		for {
			c, err := hangup.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			_, _ = c.Read(buf)
			c.Close()
		}
	}()

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"value":[]}`)) }))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"value":[]}`)) }))
	defer tlsSrv.Close()

	tests := []struct {
		name, base string
		want       string
	}{
		{"server not running", refused, "connection refused: is tsprov serve running at " + refused + "?"},
		{"no scheme", "127.0.0.1:8080", `server URL "127.0.0.1:8080" needs a scheme and a host: use http://127.0.0.1:8080`},
		{"host and port only", "localhost:8080", "use http://localhost:8080"},
		{"http against a server that hangs up", "http://" + hangup.Addr().String(), "if it serves HTTPS, use https://" + hangup.Addr().String()},
		{"https against http", "https://" + strings.TrimPrefix(plain.URL, "http://"), "answers plain HTTP, not HTTPS: use " + plain.URL},
		{"untrusted certificate", tlsSrv.URL, "trust it with --cacert"},
		{"unknown host", "http://no-such-host.invalid:8080", "cannot find the host no-such-host.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.base).List(context.Background(), "SMS_TaskSequencePackage", ListOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || len(msg) > 200 {
				t.Errorf("error %q, want one short line with %q", msg, tc.want)
			}
		})
	}
}
