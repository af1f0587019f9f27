package kerberos

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/tsprov/tsprov/internal/errs"
)

func TestLogonNames(t *testing.T) {
	for _, tc := range []struct {
		client Client
		want   string
	}{
		{Client{Name: "alice", Realm: "CONTOSO.COM"}, `CONTOSO\alice alice@CONTOSO.COM`},
		{Client{Name: "bob", Realm: "CORP.CONTOSO.COM"}, `CORP\bob bob@CORP.CONTOSO.COM`},
		{Client{Name: "svc", Realm: "LAB"}, `LAB\svc svc@LAB`},
	} {
		if got := strings.Join(tc.client.LogonNames(), " "); got != tc.want {
			t.Errorf("%s: logon names %q, want %q", tc.client, got, tc.want)
		}
	}
}

// writeKeytab writes a keytab holding a key for each principal.
func writeKeytab(t *testing.T, principals ...string) string {
	t.Helper()
	kt := keytab.New()
	for _, p := range principals {
		name, realm, _ := strings.Cut(p, "@")
		if err := kt.AddEntry(name, realm, "service password", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			t.Fatal(err)
		}
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "http.keytab")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestLoad(t *testing.T) {
	file := writeKeytab(t, "HTTP/tsprov.contoso.com@CONTOSO.COM", "HTTP/tsprov@CONTOSO.COM")
	a, err := Load(file, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Principals(), " "); got != "HTTP/tsprov.contoso.com@CONTOSO.COM HTTP/tsprov@CONTOSO.COM" {
		t.Errorf("principals %q", got)
	}
	for _, spn := range []string{"HTTP/tsprov.contoso.com", "HTTP/tsprov@CONTOSO.COM"} {
		if _, err := Load(file, spn); err != nil {
			t.Errorf("--spn %s: %v", spn, err)
		}
	}
	empty := writeKeytab(t)
	notKeytab := filepath.Join(t.TempDir(), "tsprov.db")
	if err := os.WriteFile(notKeytab, []byte("SQLite format 3\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, spn, want string }{
		{filepath.Join(t.TempDir(), "absent.keytab"), "", "absent.keytab"},
		{empty, "", "holds no keys"},
		{notKeytab, "", "not a keytab file"},
		{file, "HTTP/other.contoso.com", "has no key for HTTP/other.contoso.com; it holds HTTP/tsprov.contoso.com@CONTOSO.COM, HTTP/tsprov@CONTOSO.COM"},
		{file, "HTTP/tsprov@FABRIKAM.COM", "has no key for HTTP/tsprov@FABRIKAM.COM"},
		{file, "@CONTOSO.COM", "want SERVICE/host"},
	} {
		_, err := Load(tc.file, tc.spn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s, %q): %v, want an error saying %q", filepath.Base(tc.file), tc.spn, err, tc.want)
		}
	}
}

// spnegoInit is an SPNEGO NegTokenInit offering mechs, with mechToken.
func spnegoInit(t *testing.T, mechToken []byte, mechs ...asn1.ObjectIdentifier) string {
	t.Helper()
	b, err := (&spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{MechTypes: mechs, MechTokenBytes: mechToken}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestAcceptRefusesWhatIsNoKerberosTicket checks the tokens refused
// before any key is used: each is Unauthenticated with a reason.
func TestAcceptRefusesWhatIsNoKerberosTicket(t *testing.T) {
	a, err := Load(writeKeytab(t, "HTTP/localhost@TSPROV.TEST"), "")
	if err != nil {
		t.Fatal(err)
	}
	ntlm := []byte("NTLMSSP\x00\x01\x00\x00\x00\x07\x82\x08\xa2")
	ntlmOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	for _, tc := range []struct{ name, token, want string }{
		{"empty", "", "malformed Negotiate token"},
		{"not base64", "!!!", "not base64"},
		{"too long", strings.Repeat("A", maxToken+4), "malformed Negotiate token"},
		{"bare NTLM", base64.StdEncoding.EncodeToString(ntlm), "NTLM is not supported"},
		{"SPNEGO offering NTLM", spnegoInit(t, ntlm, ntlmOID, gssapi.OIDKRB5.OID()), "NTLM is not supported"},
		{"SPNEGO without a token", spnegoInit(t, nil, gssapi.OIDKRB5.OID()), "holds no Kerberos ticket"},
		{"SPNEGO with garbage", spnegoInit(t, []byte("garbage"), gssapi.OIDKRB5.OID()), "neither SPNEGO nor a Kerberos AP-REQ"},
		{"neither", base64.StdEncoding.EncodeToString([]byte{0x30, 0x03, 0x02, 0x01, 0x05}), "neither SPNEGO nor a Kerberos AP-REQ"},
	} {
		_, err := a.Accept(tc.token, "127.0.0.1:50000")
		if !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want Unauthenticated saying %q", tc.name, err, tc.want)
		}
	}
}
