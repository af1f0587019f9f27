package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/store"
)

// syncBuffer is a buffer the server's goroutines may write to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secureServer is a real server (server.Run) over a real SQLite file in a
// temporary data folder, with a known first-administrator token.
type secureServer struct {
	t      *testing.T
	url    string
	dir    string
	admin  string // the first Full Administrator's token
	stdout *syncBuffer
	logs   *syncBuffer
	http   *http.Client
	stop   func()
	// errorBodies collects the body of every error answer, to be
	// searched for secrets.
	errorBodies *syncBuffer
}

func startSecureServer(t *testing.T, mod func(*Config)) *secureServer {
	t.Helper()
	token, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	s, err := launchSecureServer(t, token, mod)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// launchSecureServer starts a server whose first administrator's token is
// token and waits until it is ready; it may run on any goroutine.
func launchSecureServer(t *testing.T, token string, mod func(*Config)) (*secureServer, error) {
	s := &secureServer{t: t, dir: t.TempDir(), admin: token, stdout: &syncBuffer{}, logs: &syncBuffer{}, errorBodies: &syncBuffer{},
		// redirects are answers to see, never to follow
		http: &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cfg := Config{
		DataDir: s.dir, Listen: "127.0.0.1:0", AdminToken: token, Stdout: s.stdout, RateLimit: -1,
		Logger: slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, func(addr string) { addrs <- addr }) }()
	select {
	case addr := <-addrs:
		scheme := "http"
		if cfg.TLSCert != "" || (!isLoopback(cfg.Listen) && !cfg.InsecureHTTP) {
			scheme = "https"
		}
		s.url = scheme + "://" + addr
	case err := <-errc:
		cancel()
		return nil, fmt.Errorf("Run: %w", err)
	case <-time.After(60 * time.Second):
		cancel()
		return nil, fmt.Errorf("server not ready after 60 s")
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	return s, nil
}

// answer is a response.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request with the given token ("" for none) and returns the
// answer. Extra headers come in pairs.
func (s *secureServer) do(token, method, path string, body any, headers ...string) answer {
	s.t.Helper()
	if token != "" {
		headers = append([]string{"Authorization", "Bearer " + token}, headers...)
	}
	resp, raw := apitest.Do(s.t, s.http, method, s.url+path, body, headers...)
	if resp.StatusCode >= 400 {
		s.errorBodies.Write(raw)
		s.errorBodies.Write([]byte("\n"))
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &a.body)
	}
	return a
}

// must sends a request and fails the test unless the status is want.
func (s *secureServer) must(want int, token, method, path string, body any) answer {
	s.t.Helper()
	a := s.do(token, method, path, body)
	if a.status != want {
		s.t.Fatalf("%s %s: status %d, want %d\n%.600s", method, path, a.status, want, a.raw)
	}
	return a
}

// addUser creates an administrative user with the given roles and scopes
// (ids) and returns a token of it.
func (s *secureServer) addUser(name string, roles, scopes []string) string {
	s.t.Helper()
	a := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": name, "Roles": roles, "Categories": scopes})
	id := a.body["AdminID"]
	tok := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"AdminID": id, "Description": "for " + name})
	return tok.body["Token"].(string)
}

// envelope checks that a is an OData error with a 4xx status, whose
// details name the error's kind.
func envelope(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status < 400 || a.status > 499 {
		t.Errorf("%s: status %d, want 4xx\n%.400s", what, a.status, a.raw)
		return
	}
	e, ok := a.body["error"].(map[string]any)
	if !ok {
		t.Errorf("%s: %d without the OData error envelope: %.400s", what, a.status, a.raw)
		return
	}
	if e["code"] != fmt.Sprint(a.status) || e["message"] == "" {
		t.Errorf("%s: envelope code %v message %v", what, e["code"], e["message"])
	}
	details, _ := e["details"].([]any)
	if len(details) == 0 {
		t.Errorf("%s: %d without details: %.400s", what, a.status, a.raw)
		return
	}
	for _, d := range details {
		if dm, _ := d.(map[string]any); dm["code"] == "" || dm["code"] == nil || dm["message"] == "" {
			t.Errorf("%s: a detail without code or message: %v", what, d)
		}
	}
}

// secretSequenceXML is a task sequence whose steps hold a value of every
// kind of secret: domain join password, local admin password, product
// key, capture password, a secured dynamic variable.
func secretSequenceXML(tag string) string {
	return `<sequence version="3.00">
  <step type="SMS_TaskSequence_ApplyWindowsSettingsAction" name="Apply Windows Settings" description="" runIn="WinPE" successCodeList="0">
    <action>osdwinsettings.exe /config</action>
    <defaultVarList>
      <variable name="OSDProductKey" property="ProductKey">PK-` + tag + `-KEY</variable>
      <variable name="OSDLocalAdminPassword" property="AdminPassword">ADMINPW-` + tag + `</variable>
      <variable name="OSDRandomAdminPassword" property="RandomAdminPassword">false</variable>
      <variable name="OSDRegisteredUserName" property="RegisteredUserName">Contoso</variable>
      <variable name="OSDRegisteredOrgName" property="RegisteredOrgName">Contoso</variable>
      <variable name="OSDTimeZone" property="TimeZone">Pacific Standard Time</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyNetworkSettingsAction" name="Apply Network Settings" description="" runIn="WinPEandFullOS" successCodeList="0">
    <action>osdnetsettings.exe configure</action>
    <defaultVarList>
      <variable name="OSDDomainName" property="DomainName">contoso.com</variable>
      <variable name="OSDJoinPassword" property="DomainPassword">JOINPW-` + tag + `</variable>
      <variable name="OSDJoinAccount" property="DomainUsername">CONTOSO\join</variable>
      <variable name="OSDNetworkJoinType" property="NetworkJoinType">0</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_CaptureSystemImageAction" name="Capture" description="" runIn="WinPE" successCodeList="0">
    <action>osdcapturesystemimage.exe</action>
    <defaultVarList>
      <variable name="OSDCaptureAccount" property="CaptureAccount">CONTOSO\capture</variable>
      <variable name="OSDCaptureAccountPassword" property="CapturePassword">CAPTUREPW-` + tag + `</variable>
      <variable name="OSDCaptureDestination" property="CaptureDestination">\\server\share\image.wim</variable>
      <variable name="OSDImageVersion" property="ImageVersion">1.0</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_SetDynamicVariablesAction" name="Set Dynamic Variables" description="" runIn="WinPEandFullOS" successCodeList="0">
    <action>OSDSetDynamicVariables.exe</action>
    <defaultVarList>
      <variable name="OSDSetDynamicVariablesRules" property="Rules">&lt;Rules&gt;&lt;Rule&gt;&lt;Variables&gt;&lt;Variable Name="Plain" IsSecret="false"&gt;visible&lt;/Variable&gt;&lt;Variable Name="PW" IsSecret="true"&gt;SECVAR-` + tag + `&lt;/Variable&gt;&lt;/Variables&gt;&lt;/Rule&gt;&lt;/Rules&gt;
</variable>
    </defaultVarList>
  </step>
</sequence>`
}

// secretValues are the secrets of secretSequenceXML(tag).
func secretValues(tag string) []string {
	return []string{"PK-" + tag + "-KEY", "ADMINPW-" + tag, "JOINPW-" + tag, "CAPTUREPW-" + tag, "SECVAR-" + tag}
}

// storeSequence imports xml and stores it in a new task sequence package
// named name; it returns the PackageID.
func (s *secureServer) storeSequence(token, name, xml string) string {
	s.t.Helper()
	imp := s.must(200, token, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": xml})
	set := s.must(200, token, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": name},
		"TaskSequence":        imp.body["TaskSequence"],
	})
	path, _ := set.body["SavedTaskSequencePackagePath"].(string)
	i := strings.Index(path, `PackageID="`)
	if i < 0 {
		s.t.Fatalf("SetSequence answered %s", set.raw)
	}
	return strings.TrimSuffix(path[i+len(`PackageID="`):], `"`)
}

type storeReadTx = store.ReadTx

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
