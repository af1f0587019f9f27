package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// The built-in bootstrap is in the audit trail too: the built-in roles and
// scopes seeded on first start and the first administrator.
func TestBootstrapIsAudited(t *testing.T) {
	s := startSecureServer(t, nil)
	trail := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$filter="+urlQuery("Action eq 'Create'")+"&$orderby=ClassName,ObjectKey", nil).body["value"].([]any)
	var got []string
	for _, v := range trail {
		r := v.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %s", r["User"], r["ClassName"], r["ObjectKey"]))
	}
	want := []string{
		"tsprov (system) SMS_Admin 16777217",
		"tsprov (system) SMS_Role SMS0001R",
		"tsprov (system) SMS_Role SMS0006R",
		"tsprov (system) SMS_Role SMS0007R",
		"tsprov (system) SMS_SecuredCategory SMS00ALL",
		"tsprov (system) SMS_SecuredCategory SMS00UNA",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records of the bootstrap:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A password needs 12 characters, not 12 bytes.
func TestPasswordLengthCountsCharacters(t *testing.T) {
	s := startSecureServer(t, nil)
	envelope(t, "a password of 7 two-byte characters", s.do(s.admin, "PUT", "/tsprov/v1/admins/me/password", map[string]any{"Password": "ééééééé"}))
	s.must(204, s.admin, "PUT", "/tsprov/v1/admins/me/password", map[string]any{"Password": "éééééééééééé"})
}

// Managing another user's credentials needs Modify on administrative
// users and no escalation: a user who may manage users cannot make a token
// or set a password for a user who holds roles or scopes it lacks (that
// would let it act as that user), nor revoke or list that user's tokens;
// for a user whose roles and scopes it holds, it can.
func TestNoEscalationThroughAnotherUsersCredentials(t *testing.T) {
	s := startSecureServer(t, nil)
	role := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Role", map[string]any{
		"RoleName": "User Administrator",
		"Operations": []any{map[string]any{"@odata.type": "#AdminService.SMS_ARoleOperation", "ObjectTypeID": 6,
			"GrantedOperations": int(auth.Read | auth.Modify | auth.Create)}},
	}).body["RoleID"].(string)
	ursula := s.addUser("ursula", []string{role, "SMS0006R"}, []string{"SMS00UNA"})
	rita := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "rita", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00UNA"}}).body["AdminID"].(float64)
	const firstAdmin = 16777217

	envelope(t, "a token for the Full Administrator", s.do(ursula, "POST", "/tsprov/v1/tokens", map[string]any{"AdminID": firstAdmin}))
	envelope(t, "the Full Administrator's password", s.do(ursula, "PUT", fmt.Sprintf("/tsprov/v1/admins/%d/password", firstAdmin), map[string]any{"Password": "a long enough password"}))
	adminTok := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"Description": "kept"}).body["TokenID"].(string)
	if a := s.do(ursula, "DELETE", "/tsprov/v1/tokens/"+adminTok, nil); a.status != 404 {
		t.Errorf("revoke the Full Administrator's token: %d, want 404", a.status)
	}

	tok := s.must(201, ursula, "POST", "/tsprov/v1/tokens", map[string]any{"AdminID": rita}).body
	s.must(204, ursula, "PUT", fmt.Sprintf("/tsprov/v1/admins/%d/password", int64(rita)), map[string]any{"Password": "a long enough password"})
	s.must(204, ursula, "DELETE", "/tsprov/v1/tokens/"+tok["TokenID"].(string), nil)
	s.must(200, ursula, "GET", fmt.Sprintf("/tsprov/v1/tokens?AdminID=%d", int64(rita)), nil)
	envelope(t, "the Full Administrator's tokens", s.must(403, ursula, "GET", fmt.Sprintf("/tsprov/v1/tokens?AdminID=%d", firstAdmin), nil))
}

// Every change is in the audit trail, with who, from where, what class
// and key and which properties (names only); a change that fails leaves
// no record; reads leave none; $filter works on the trail.
func TestAuditTrail(t *testing.T) {
	s := startSecureServer(t, nil)
	osd := s.addUser("olga", []string{"SMS0007R"}, []string{"SMS00UNA"})
	id := s.must(201, osd, "POST", tsPath, map[string]any{"Name": "Audited", "Description": "first"}).body["PackageID"].(string)
	s.must(200, osd, "PATCH", tsPath+"('"+id+"')", map[string]any{"Description": "second"})
	s.must(200, osd, "GET", tsPath+"('"+id+"')", nil)
	s.do(osd, "PATCH", tsPath+"('"+id+"')", map[string]any{"Duration": "soon"}) // refused: no record
	s.must(200, osd, "POST", tsPath+".SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": []any{}},
	})
	s.must(204, osd, "DELETE", tsPath+"('"+id+"')", nil)
	s.do(osd, "GET", "/AdminService/wmi/SMS_Admin", nil) // denied
	s.do("tsp_wrong-token-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "GET", tsPath, nil)

	trail := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$filter="+urlQuery("User eq 'olga' or Action eq 'LoginFailed'"), nil).body["value"].([]any)
	var got []string
	for _, v := range trail {
		r := v.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %s %s %v", r["Action"], r["ClassName"], r["ObjectKey"], r["Method"], r["Properties"]))
		if r["Action"] != "LoginFailed" && r["Address"] != "127.0.0.1" {
			t.Errorf("record %v: Address %v", r["AuditID"], r["Address"])
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["Time"])); err != nil {
			t.Errorf("record %v: Time %v", r["AuditID"], r["Time"])
		}
	}
	want := []string{
		"Create SMS_TaskSequencePackage " + id + "  ",
		"Update SMS_TaskSequencePackage " + id + "  [Description LastRefreshTime",
		"Update SMS_TaskSequencePackage " + id + " SetSequence ",
		"Delete SMS_TaskSequencePackage " + id + "  []",
		"Denied SMS_Admin   []",
		"LoginFailed    []",
	}
	if len(got) != len(want) {
		t.Fatalf("audit records:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], strings.TrimSuffix(want[i], "LastRefreshTime")) {
			t.Errorf("record %d: %q, want it to start %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "Description") || !strings.Contains(got[0], "Name") || !strings.Contains(got[2], "Sequence") {
		t.Errorf("properties not named: %q / %q", got[0], got[2])
	}
	if strings.Contains(got[1], "Name") {
		t.Errorf("an update names a property it did not change: %q", got[1])
	}
	// the trail is append-only: it cannot be written through REST
	for _, m := range []string{"POST", "PATCH", "DELETE"} {
		if a := s.do(s.admin, m, "/tsprov/v1/audit", map[string]any{}); a.status != 405 && a.status != 404 {
			t.Errorf("%s on the audit trail: %d", m, a.status)
		}
	}
	envelope(t, "the audit class over WMI", s.do(s.admin, "GET", "/AdminService/wmi/TSP_AuditRecord", nil))
}

// API tokens expire and can be revoked; HTTP Basic works with a password
// set; failed sign-ins from one address are throttled.
func TestTokensPasswordsAndThrottling(t *testing.T) {
	s := startSecureServer(t, nil)
	dave := s.addUser("dave", []string{"SMS0006R"}, []string{"SMS00UNA"})
	s.must(200, dave, "GET", tsPath, nil)

	// a second token of Dave's, then revoked: it stops working, the first does not
	second := s.must(201, dave, "POST", "/tsprov/v1/tokens", map[string]any{"Description": "ci"}).body
	s.must(200, second["Token"].(string), "GET", tsPath, nil)
	s.must(204, dave, "DELETE", "/tsprov/v1/tokens/"+second["TokenID"].(string), nil)
	if a := s.do(second["Token"].(string), "GET", tsPath, nil); a.status != 401 {
		t.Errorf("a revoked token: %d", a.status)
	}
	s.must(200, dave, "GET", tsPath, nil)
	// Dave may not touch the administrator's tokens
	adminTokens := s.must(200, s.admin, "GET", "/tsprov/v1/tokens", nil).body["value"].([]any)
	adminTokenID := adminTokens[0].(map[string]any)["TokenID"].(string)
	if a := s.do(dave, "DELETE", "/tsprov/v1/tokens/"+adminTokenID, nil); a.status != 404 {
		t.Errorf("Dave revoking the administrator's token: %d, want 404", a.status)
	}
	s.must(200, s.admin, "GET", tsPath, nil)
	// the listing never shows token text or hash
	list := s.must(200, s.admin, "GET", "/tsprov/v1/tokens?all=true", nil)
	if strings.Contains(string(list.raw), s.admin) || strings.Contains(string(list.raw), auth.HashToken(s.admin)) {
		t.Errorf("the token list shows a token or its hash")
	}

	// passwords: Basic works after one is set, with the same rights
	s.must(204, s.admin, "PUT", "/tsprov/v1/admins/16777218/password", map[string]any{"Password": "correct horse battery"})
	if a := s.do("", "GET", tsPath, nil, "Authorization", basicAuth("dave", "correct horse battery")); a.status != 200 {
		t.Errorf("HTTP Basic: %d %s", a.status, a.raw)
	}
	if a := s.do("", "GET", "/AdminService/wmi/SMS_Admin", nil, "Authorization", basicAuth("dave", "correct horse battery")); a.status != 200 {
		t.Errorf("the Read-only Analyst over Basic reads users: %d", a.status)
	}
	// deleting a user ends its tokens
	s.must(204, s.admin, "DELETE", "/AdminService/wmi/SMS_Admin(16777218)", nil)
	if a := s.do(dave, "GET", tsPath, nil); a.status != 401 {
		t.Errorf("the token of a deleted user: %d", a.status)
	}

	// throttling: after 10 failures (two above) this address waits, even
	// with a good token
	for i := 0; i < 8; i++ {
		if a := s.do("", "GET", tsPath, nil, "Authorization", basicAuth("admin", fmt.Sprintf("guess %d", i))); a.status != 401 {
			t.Fatalf("guess %d: %d", i, a.status)
		}
	}
	a := s.do(s.admin, "GET", tsPath, nil)
	if a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("after 10 failed sign-ins: %d, Retry-After %q; want 429", a.status, a.header.Get("Retry-After"))
	}
	envelope(t, "throttled", a)
	if h := s.do("", "GET", "/healthz", nil); h.status != 200 {
		t.Errorf("/healthz while throttled: %d", h.status)
	}
}

// A token that has expired is refused.
func TestExpiredTokenIsRefused(t *testing.T) {
	s := startSecureServer(t, nil)
	tok := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"ExpiresInDays": 1}).body
	exp, err := time.Parse(time.RFC3339Nano, tok["Expires"].(string))
	if err != nil || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Errorf("Expires %v (%v)", tok["Expires"], err)
	}
	// a day passes: move the expiry into the past, straight in the store
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(s.dir, databaseFile), reg)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("TSP_ApiToken")
	err = st.Write(context.Background(), func(tx store.Tx) error {
		rec, err := tx.Get(context.Background(), c, auth.HashToken(tok["Token"].(string)), false)
		if err != nil {
			return err
		}
		rec.Instance.Set("Expires", cim.DateTimeValue{Time: time.Now().Add(-time.Minute).UTC()})
		return tx.Update(context.Background(), rec)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if a := s.do(tok["Token"].(string), "GET", tsPath, nil); a.status != 401 {
		t.Errorf("an expired token: %d", a.status)
	}
}

// Requests beyond a credential's rate get 429 with the envelope.
func TestRateLimit(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { c.RateLimit = 5 })
	limited := 0
	for i := 0; i < 20; i++ {
		a := s.do(s.admin, "GET", tsPath+"?$top=1", nil)
		if a.status == 429 {
			limited++
			envelope(t, "rate limited", a)
			if a.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Errorf("20 requests at once at 5 per second: none refused")
	}
	if a := s.do("", "GET", "/healthz", nil); a.status != 200 {
		t.Errorf("/healthz under the rate limit: %d", a.status)
	}
}

// The budget is per credential: a token that has spent its budget does not
// take another token's, even from the same address, and requests without
// credentials are refused as unauthenticated, never counted.
func TestRateLimitPerCredential(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { c.RateLimit = 5 })
	second := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"Description": "second"}).body["Token"].(string)
	limited := 0
	for i := 0; i < 20; i++ {
		if a := s.do(s.admin, "GET", tsPath+"?$top=1", nil); a.status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatalf("20 requests at once at 5 per second: none refused")
	}
	if a := s.do(second, "GET", tsPath+"?$top=1", nil); a.status != 200 {
		t.Errorf("another token of the same user, from the same address, after the first spent its budget: %d, want 200", a.status)
	}
	for i := 0; i < 10; i++ {
		if a := s.do("", "GET", tsPath+"?$top=1", nil); a.status != 401 {
			t.Fatalf("a request without credentials: %d, want 401", a.status)
		}
	}
}

// The server timeouts are set.
func TestServerTimeoutsAreSet(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Errorf("timeouts %v %v %v %v, max header %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

// Listening beyond loopback without a certificate makes a self-signed one
// and prints its fingerprint; curl --cacert with it works end to end;
// plain HTTP there needs --insecure-http.
func TestSelfSignedTLSWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	s := startSecureServer(t, func(c *Config) { c.Listen = "0.0.0.0:0" })
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("server URL %s", s.url)
	}
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	certFile := filepath.Join(s.dir, "tls.crt")
	m := regexp.MustCompile(`SHA-256 fingerprint ([0-9A-F:]{95})`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no fingerprint printed:\n%s", s.stdout.String())
	}
	pemData, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(block.Bytes)
	if strings.ReplaceAll(m[1], ":", "") != fmt.Sprintf("%X", sum[:]) {
		t.Errorf("printed fingerprint %s is not the certificate's", m[1])
	}
	if info, err := os.Stat(filepath.Join(s.dir, "tls.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("tls.key: %v %v", err, info.Mode())
	}
	base := "https://127.0.0.1:" + port
	out, err := exec.Command(curl, "-sS", "--fail", "--cacert", certFile, base+"/healthz").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("curl --cacert /healthz: %v %s", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--fail", "--cacert", certFile, "-H", "Authorization: Bearer "+s.admin, base+"/AdminService/wmi/SMS_Role").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Full Administrator") {
		t.Fatalf("curl --cacert with the token: %v %.300s", err, out)
	}
	if out, err := exec.Command(curl, "-sS", "--fail", base+"/healthz").CombinedOutput(); err == nil {
		t.Errorf("curl without --cacert trusted the self-signed certificate: %s", out)
	}
	if out, err := exec.Command(curl, "-sS", "--fail", "http://127.0.0.1:"+port+"/healthz").CombinedOutput(); err == nil {
		t.Errorf("plain HTTP answered on the TLS port: %s", out)
	}
	// the same certificate is kept across restarts
	s.stop()
	again := startSecureServer(t, func(c *Config) { c.Listen = "0.0.0.0:0"; c.DataDir = s.dir })
	if !strings.Contains(again.stdout.String(), m[1]) {
		t.Errorf("a restart made a new certificate")
	}
	plain := startSecureServer(t, func(c *Config) { c.Listen = "0.0.0.0:0"; c.InsecureHTTP = true })
	resp, err := http.Get("http://127.0.0.1" + plain.url[strings.LastIndex(plain.url, ":"):] + "/healthz")
	if err != nil {
		t.Fatalf("--insecure-http: %v", err)
	}
	resp.Body.Close()
	if !strings.Contains(plain.logs.String(), "plain HTTP") {
		t.Errorf("no warning logged for plain HTTP beyond loopback")
	}
}
