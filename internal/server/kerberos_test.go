package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/kerberos/krbtest"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// negotiateClient runs curl --negotiate against a server, with the
// Kerberos tickets of one credential cache of the test realm.
type negotiateClient struct {
	t     *testing.T
	realm *krbtest.Realm
	srv   *secureServer
	port  string
	curl  string
}

// curlAnswer is what curl received, and the Authorization header it sent
// last.
type curlAnswer struct {
	status        int
	body          map[string]any
	raw           string
	authorization string
	trace         string
}

// do sends one request with curl --negotiate -u : to http://localhost:port
// (pinned to 127.0.0.1), as the owner of the credential cache ccache.
func (c *negotiateClient) do(ccache, method, path, body string) curlAnswer {
	c.t.Helper()
	out := filepath.Join(c.t.TempDir(), "body")
	args := []string{"-sS", "-v", "--negotiate", "-u", ":", "--noproxy", "*",
		"--resolve", "localhost:" + c.port + ":127.0.0.1", "-X", method, "-o", out, "-w", "%{http_code}"}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", body)
	}
	args = append(args, "http://localhost:"+c.port+path)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.curl, args...)
	cmd.Env = append(c.realm.Env(), "KRB5CCNAME="+ccache)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("curl %s: %v\n%s", path, err, stderr.String())
	}
	a := curlAnswer{trace: stderr.String()}
	if _, err := fmt.Sscan(stdout.String(), &a.status); err != nil {
		c.t.Fatalf("curl status %q: %v", stdout.String(), err)
	}
	raw, _ := os.ReadFile(out)
	a.raw = string(raw)
	_ = json.Unmarshal(raw, &a.body)
	for _, m := range regexp.MustCompile(`(?m)^> Authorization: (Negotiate [A-Za-z0-9+/=]+)\r?$`).FindAllStringSubmatch(a.trace, -1) {
		a.authorization = m[1]
	}
	return a
}

// names lists the Name of each instance of a collection answer.
func names(body map[string]any) []string {
	var out []string
	vals, _ := body["value"].([]any)
	for _, v := range vals {
		out = append(out, fmt.Sprint(v.(map[string]any)["Name"]))
	}
	return out
}

// errorMessage is the message of an OData error envelope.
func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	return fmt.Sprint(e["message"])
}

// kerberosUsers are the test realm's users and their passwords.
var kerberosUsers = map[string]string{"alice": "alice-password-1", "bob": "bob-password-12", "carol": "carol-password-1"}

// startKerberos starts a test realm with the service HTTP/localhost and
// the users alice, bob and carol, and a server (Config changed by mod)
// with the service's keytab, and returns a curl client of it.
func startKerberos(t *testing.T, mod func(*Config)) (*krbtest.Realm, *negotiateClient) {
	t.Helper()
	realm := krbtest.Start(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found")
	}
	keytab := realm.AddService("HTTP/localhost")
	for user, password := range kerberosUsers {
		realm.AddUser(user, password)
	}
	s := startSecureServer(t, func(c *Config) {
		c.Keytab, c.SPN = keytab, "HTTP/localhost"
		if mod != nil {
			mod(c)
		}
	})
	u, _ := url.Parse(s.url)
	return realm, &negotiateClient{t: t, realm: realm, srv: s, port: u.Port(), curl: curl}
}

// TestKerberosLogonNamesOnPostgres: principals map to logon names without
// regard to case on PostgreSQL too.
func TestKerberosLogonNamesOnPostgres(t *testing.T) {
	db := pgtest.URL(t, t.Name())
	realm, c := startKerberos(t, func(c *Config) { c.Database = db })
	s := c.srv
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": `tsprov\ALICE`, "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00ALL"}})
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "Carol@Tsprov.Test", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00ALL"}})
	for user, want := range map[string]int{"alice": 200, "carol": 200, "bob": 401} {
		cc := realm.Kinit(user, kerberosUsers[user], "")
		if a := c.do(cc, "GET", "/AdminService/wmi/SMS_TaskSequencePackage", ""); a.status != want {
			t.Errorf("%s: %d, want %d: %s", user, a.status, want, a.raw)
		}
	}
}

// TestKerberosSignInWithCurl signs in to a real server with tickets from
// a real MIT KDC, sent by curl --negotiate as scripts send them.
func TestKerberosSignInWithCurl(t *testing.T) {
	realm, c := startKerberos(t, nil)
	s := c.srv

	// The 401 offers Negotiate beside Bearer and Basic.
	anon := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil)
	if anon.status != 401 {
		t.Fatalf("anonymous: %d", anon.status)
	}
	if got := anon.header.Values("WWW-Authenticate"); len(got) != 2 || got[0] != "Negotiate" || !strings.HasPrefix(got[1], "Bearer ") {
		t.Errorf("WWW-Authenticate %q, want Negotiate then Bearer and Basic", got)
	}

	// alice is TSPROV\alice (the realm's first label as the domain), an
	// OS Deployment Manager in the scope Kerberos only; carol is
	// carol@tsprov.test (user@REALM, in other case), Read-only Analyst
	// in All.
	scope := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Kerberos"}).body["CategoryID"].(string)
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": `TSPROV\alice`, "Roles": []string{"SMS0007R"}, "Categories": []string{scope}})
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "carol@tsprov.test", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00ALL"}})
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": "Outside alice's scope"})

	alice := realm.Kinit("alice", kerberosUsers["alice"], "")
	created := c.do(alice, "POST", "/AdminService/wmi/SMS_TaskSequencePackage", `{"Name": "Made by alice"}`)
	if created.status != 201 {
		t.Fatalf("alice creates: %d %s\n%s", created.status, created.raw, created.trace)
	}
	list := c.do(alice, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Name", "")
	if list.status != 200 || fmt.Sprint(names(list.body)) != "[Made by alice]" {
		t.Errorf("alice lists %d %v, want only her scope's package\n%s", list.status, names(list.body), list.raw)
	}
	if list.authorization == "" {
		t.Fatalf("curl sent no Negotiate token:\n%s", list.trace)
	}
	all := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Name", nil)
	if len(names(all.body)) != 2 {
		t.Errorf("the administrator sees %v", names(all.body))
	}
	// OS Deployment Managers may not create administrative users.
	if a := c.do(alice, "POST", "/AdminService/wmi/SMS_Admin", `{"LogonName": "TSPROV\\mallory", "Roles": ["SMS0001R"], "Categories": ["SMS00ALL"]}`); a.status != 403 {
		t.Errorf("alice creates a Full Administrator: %d %s", a.status, a.raw)
	}

	// The exact same Authorization header again: a replay.
	replay := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", list.authorization)
	if replay.status != 401 || !strings.Contains(errorMessage(replay.body), "replay") {
		t.Errorf("replayed authenticator: %d %s", replay.status, replay.raw)
	}
	envelope(t, "replayed authenticator", replay)

	// carol maps through user@REALM, whatever the case.
	carol := realm.Kinit("carol", kerberosUsers["carol"], "")
	if a := c.do(carol, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Name", ""); a.status != 200 || len(names(a.body)) != 2 {
		t.Errorf("carol lists %d %v", a.status, names(a.body))
	}
	if a := c.do(carol, "POST", "/AdminService/wmi/SMS_TaskSequencePackage", `{"Name": "By an analyst"}`); a.status != 403 {
		t.Errorf("carol (Read-only Analyst) creates: %d %s", a.status, a.raw)
	}

	// bob holds a good ticket but is no administrative user.
	bob := realm.Kinit("bob", kerberosUsers["bob"], "")
	unmapped := c.do(bob, "GET", "/AdminService/wmi/SMS_TaskSequencePackage", "")
	if unmapped.status != 401 || !strings.Contains(errorMessage(unmapped.body), `TSPROV\bob or bob@TSPROV.TEST`) {
		t.Errorf("unmapped principal: %d %s", unmapped.status, unmapped.raw)
	}

	// A ticket that ends: good before its end time, refused after it,
	// even with a new authenticator.
	short := realm.Kinit("alice", kerberosUsers["alice"], "6s")
	if a := c.do(short, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Name", ""); a.status != 200 {
		t.Fatalf("short-lived ticket before its end: %d %s", a.status, a.raw)
	}
	tkt, key, end := serviceTicket(t, short, "HTTP/localhost")
	// A client that asks for mutual authentication gets the server's
	// proof: an AP-REP that only the holder of the service key could
	// make, echoing the authenticator's time.
	header, authn := negotiateHeader(t, "alice", tkt, key, flags.APOptionMutualRequired)
	mutual := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", header)
	if mutual.status != 200 {
		t.Fatalf("mutual authentication asked: %d %s", mutual.status, mutual.raw)
	}
	checkMutualReply(t, mutual.header.Get("WWW-Authenticate"), key, authn)
	header, _ = negotiateHeader(t, "alice", tkt, key)
	if a := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", header); a.status != 200 || a.header.Get("WWW-Authenticate") != "" {
		t.Errorf("no mutual authentication asked: %d, WWW-Authenticate %q", a.status, a.header.Get("WWW-Authenticate"))
	}
	time.Sleep(time.Until(end) + 1500*time.Millisecond)
	header, _ = negotiateHeader(t, "alice", tkt, key)
	expired := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", header)
	if expired.status != 401 || !strings.Contains(errorMessage(expired.body), "expired") {
		t.Errorf("expired ticket, new authenticator: %d %s", expired.status, expired.raw)
	}
	if a := c.do(short, "GET", "/AdminService/wmi/SMS_TaskSequencePackage", ""); a.status != 401 {
		t.Errorf("curl with an expired ticket cache: %d %s", a.status, a.raw)
	}

	// The audit trail says who did what, and how they signed in.
	audit := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$filter="+url.QueryEscape("ClassName eq 'SMS_TaskSequencePackage' and Action eq 'Create'"), nil)
	signIns := map[string]string{}
	for _, v := range audit.body["value"].([]any) {
		r := v.(map[string]any)
		signIns[fmt.Sprint(r["User"])] = fmt.Sprint(r["SignIn"])
	}
	if signIns[`TSPROV\alice`] != "Negotiate" || signIns["admin"] != "Bearer" {
		t.Errorf("audit of creations by sign-in: %v", signIns)
	}
	failed := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$filter="+url.QueryEscape("Action eq 'LoginFailed' and SignIn eq 'Negotiate'"), nil)
	var details []string
	for _, v := range failed.body["value"].([]any) {
		details = append(details, fmt.Sprint(v.(map[string]any)["Detail"]))
	}
	for _, want := range []string{"replay", `TSPROV\bob`, "expired"} {
		if !strings.Contains(strings.Join(details, "\n"), want) {
			t.Errorf("no failed Negotiate sign-in recorded about %q: %q", want, details)
		}
	}
}

// serviceTicket reads the ticket for spn that curl left in a credential
// cache, with its session key and end time.
func serviceTicket(t *testing.T, ccache, spn string) (messages.Ticket, types.EncryptionKey, time.Time) {
	t.Helper()
	cc, err := credentials.LoadCCache(strings.TrimPrefix(ccache, "FILE:"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := cc.GetEntry(types.NewPrincipalName(2, spn))
	if !ok {
		t.Fatalf("no ticket for %s in %s", spn, ccache)
	}
	var tkt messages.Ticket
	if err := tkt.Unmarshal(e.Ticket); err != nil {
		t.Fatal(err)
	}
	return tkt, e.Key, e.EndTime
}

// negotiateHeader builds an Authorization: Negotiate value around a new
// authenticator (the current time) for a ticket, and returns that
// authenticator.
func negotiateHeader(t *testing.T, user string, tkt messages.Ticket, key types.EncryptionKey, apOptions ...int) (string, types.Authenticator) {
	t.Helper()
	cl := client.NewWithPassword(user, krbtest.Name, "unused", config.New())
	k5, err := spnego.NewKRB5TokenAPREQ(cl, tkt, key, []int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf, gssapi.ContextFlagMutual}, apOptions)
	if err != nil {
		t.Fatal(err)
	}
	mech, err := k5.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tok := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()}, MechTokenBytes: mech}}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := k5.APReq.DecryptAuthenticator(key); err != nil {
		t.Fatal(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b), k5.APReq.Authenticator
}

// checkMutualReply checks the server's answer to a request for mutual
// authentication: an SPNEGO accept-completed for Kerberos carrying an
// AP-REP that the session key decrypts, with the authenticator's time.
func checkMutualReply(t *testing.T, header string, key types.EncryptionKey, authn types.Authenticator) {
	t.Helper()
	b64, ok := strings.CutPrefix(header, "Negotiate ")
	if !ok {
		t.Fatalf("mutual authentication: WWW-Authenticate %q", header)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err != nil || !st.Resp {
		t.Fatalf("mutual authentication: not a NegTokenResp: %v", err)
	}
	if st.NegTokenResp.State() != spnego.NegStateAcceptCompleted || !st.NegTokenResp.SupportedMech.Equal(gssapi.OIDKRB5.OID()) {
		t.Errorf("NegTokenResp state %v mechanism %v", st.NegTokenResp.State(), st.NegTokenResp.SupportedMech)
	}
	var k5 spnego.KRB5Token
	if err := k5.Unmarshal(st.NegTokenResp.ResponseToken); err != nil || !k5.IsAPRep() {
		t.Fatalf("response token is no Kerberos AP-REP: %v", err)
	}
	plain, err := crypto.DecryptEncPart(k5.APRep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatalf("AP-REP does not decrypt with the session key: %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if !part.CTime.Equal(authn.CTime.Truncate(time.Second)) || part.Cusec != authn.Cusec {
		t.Errorf("AP-REP time %v.%06d, want the authenticator's %v.%06d", part.CTime, part.Cusec, authn.CTime, authn.Cusec)
	}
}

// TestKeytabMistakesStopTheStart: a server told to accept Kerberos but
// unable to does not start half-configured.
func TestKeytabMistakesStopTheStart(t *testing.T) {
	notKeytab := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notKeytab, []byte("not a keytab at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ keytab, spn, want string }{
		{"", "HTTP/localhost", "--spn needs --keytab"},
		{filepath.Join(t.TempDir(), "absent.keytab"), "", "absent.keytab"},
		{notKeytab, "", "not a keytab file"},
	} {
		token, _, _ := auth.NewToken()
		_, err := launchSecureServer(t, token, func(c *Config) { c.Keytab, c.SPN = tc.keytab, tc.spn })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keytab %q spn %q: %v, want an error saying %q", tc.keytab, tc.spn, err, tc.want)
		}
	}
}

// TestNegotiateWithoutKeytab: a server without a keytab neither offers
// Negotiate nor accepts it, and says why.
func TestNegotiateWithoutKeytab(t *testing.T) {
	s := startSecureServer(t, nil)
	anon := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil)
	if got := anon.header.Values("WWW-Authenticate"); len(got) != 1 || strings.Contains(got[0], "Negotiate") {
		t.Errorf("WWW-Authenticate %q, want Bearer and Basic only", got)
	}
	a := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", "Negotiate YIIBhAYGKwYBBQUC")
	envelope(t, "Negotiate without a keytab", a)
	if a.status != 401 || !strings.Contains(errorMessage(a.body), "--keytab") {
		t.Errorf("Negotiate without a keytab: %d %s", a.status, a.raw)
	}
}
