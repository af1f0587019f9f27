package server

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOdataEnvelope: each answer net/http writes on its own for a request
// it cannot read becomes the OData envelope with the same status; a
// handler's answer is left as it is.
func TestOdataEnvelope(t *testing.T) {
	const hdr = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct {
		raw, status, message string
	}{
		{"HTTP/1.1 400 Bad Request" + hdr + "400 Bad Request", "400", "400 Bad Request"},
		{"HTTP/1.1 400 Bad Request: malformed MIME header line: Authorization Bearer x" + hdr + "400 Bad Request: malformed MIME header line: Authorization Bearer x", "400", "malformed MIME header line"},
		{"HTTP/1.1 431 Request Header Fields Too Large" + hdr + "431 Request Header Fields Too Large", "431", "Too Large"},
		{"HTTP/1.1 501 Not Implemented" + hdr + "Unsupported transfer encoding", "501", "Unsupported transfer encoding"},
	} {
		out, ok := odataEnvelope([]byte(tc.raw))
		if !ok {
			t.Errorf("%q: not recognised", tc.raw)
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
		if err != nil {
			t.Fatalf("%q: the rewritten answer does not parse: %v", tc.raw, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var env struct {
			Error struct {
				Code, Message string
				Details       []struct{ Code, Message string }
			}
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != tc.status || !strings.Contains(env.Error.Message, tc.message) {
			t.Errorf("%q: envelope %s (%v), want code %s mentioning %q", tc.raw, body, err, tc.status, tc.message)
		}
		if len(env.Error.Details) != 1 || env.Error.Details[0].Code == "" || env.Error.Details[0].Message != env.Error.Message {
			t.Errorf("%q: details %+v, want one naming the kind, as every error", tc.raw, env.Error.Details)
		}
		if got := resp.Status[:3]; got != tc.status || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || !resp.Close {
			t.Errorf("%q: status %s, Content-Type %q, close %v", tc.raw, resp.Status, resp.Header.Get("Content-Type"), resp.Close)
		}
	}
	handler := "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n400 Bad Request"
	if _, ok := odataEnvelope([]byte(handler)); ok {
		t.Error("a handler's answer (headers in sorted order) was taken for net/http's own")
	}
}

// TestTLSKeepsSchemeAndEnvelope: over TLS the links the server writes are
// https ones, and a request net/http cannot read gets the envelope too.
func TestTLSKeepsSchemeAndEnvelope(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { c.Listen = "0.0.0.0:0" })
	pemData, err := os.ReadFile(filepath.Join(s.dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	addr := "127.0.0.1" + s.url[strings.LastIndex(s.url, ":"):]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("POST", "https://"+addr+tsPath, strings.NewReader(`{"Name": "over TLS"}`))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), "https://") || !strings.Contains(string(body), `"@odata.context":"https://`) {
		t.Errorf("create over TLS: %d, Location %q, %.200s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET " + tsPath + " HTTP/1.1\r\nHost: x\r\nAuthorization Bearer nothing\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	bad, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(bad.Body)
	if bad.StatusCode != 400 || !strings.Contains(string(raw), `"error":{"code":"400"`) {
		t.Errorf("malformed request over TLS: %d %s", bad.StatusCode, raw)
	}
}
