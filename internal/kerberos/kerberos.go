// Package kerberos accepts Windows-integrated sign-ins: the Kerberos
// tokens that HTTP Negotiate (SPNEGO, RFC 4559) carries, as
// Invoke-RestMethod -UseDefaultCredentials and curl --negotiate send them.
// It loads the service's keytab, verifies a client's AP-REQ against it
// (ticket decrypted with the service key, ticket times, authenticator
// checked against a replay cache), and names the client principal and the
// logon names it maps to. It knows nothing of HTTP handlers or of the
// store. NTLM is not supported.
//
// The protocol work is github.com/jcmturner/gokrb5/v8 (pure Go).
package kerberos

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/tsprov/tsprov/internal/errs"
)

// Scheme is the HTTP authentication scheme of Kerberos sign-ins.
const Scheme = "Negotiate"

// MaxClockSkew is how far apart the client's and the server's clocks may
// be (the authenticator's time, a ticket's start time): Kerberos's usual
// five minutes. A ticket's end time is enforced without it.
const MaxClockSkew = 5 * time.Minute

// maxToken bounds a Negotiate token (base64 text): Windows tickets that
// carry a PAC of many groups reach tens of KiB, within the server's
// header limit.
const maxToken = 48 << 10

// Acceptor verifies Negotiate tokens against a keytab. It is safe for
// concurrent use.
type Acceptor struct {
	kt    *keytab.Keytab
	spn   *types.PrincipalName // nil: any principal of the keytab
	names []string             // the keytab's principals, for messages
}

// Load reads the keytab file and returns an Acceptor for its principals
// or, when spn is not empty ("HTTP/host" or "HTTP/host@REALM"), for that
// one only. Outcomes: the Acceptor; an error naming the file when it
// cannot be read or holds no key; an error listing the keytab's
// principals when spn is not among them.
func Load(file, spn string) (*Acceptor, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("keytab: %w", err)
	}
	kt := keytab.New()
	// a keytab without entries is its two-byte header only, which the
	// library does not read
	if len(b) > 2 {
		if err := kt.Unmarshal(b); err != nil {
			return nil, fmt.Errorf("keytab %s: not a keytab file: %w", file, err)
		}
	}
	a := &Acceptor{kt: kt}
	seen := map[string]bool{}
	for _, e := range kt.Entries {
		n := strings.Join(e.Principal.Components, "/") + "@" + e.Principal.Realm
		if !seen[n] {
			seen[n] = true
			a.names = append(a.names, n)
		}
	}
	sort.Strings(a.names)
	if len(a.names) == 0 {
		return nil, fmt.Errorf("keytab %s holds no keys", file)
	}
	if spn == "" {
		return a, nil
	}
	pn, realm := types.ParseSPNString(spn)
	if len(pn.NameString) == 0 || pn.NameString[0] == "" {
		return nil, fmt.Errorf("--spn %q: want SERVICE/host, such as HTTP/tsprov.contoso.com", spn)
	}
	for _, e := range kt.Entries {
		if strings.Join(e.Principal.Components, "/") == strings.Join(pn.NameString, "/") && (realm == "" || e.Principal.Realm == realm) {
			a.spn = &pn
			return a, nil
		}
	}
	return nil, fmt.Errorf("keytab %s has no key for %s; it holds %s", file, spn, strings.Join(a.names, ", "))
}

// Principals names the service principals the keytab holds keys for.
func (a *Acceptor) Principals() []string { return a.names }

// Client is a Kerberos client principal whose ticket was accepted.
type Client struct {
	Name  string    // the principal's name without the realm: "alice"
	Realm string    // "CONTOSO.COM"
	Until time.Time // the ticket's end time
}

// String is the principal as Kerberos writes it: alice@CONTOSO.COM.
func (c Client) String() string { return c.Name + "@" + c.Realm }

// LogonNames are the logon names an administrative user of c may have,
// in the order they are tried: the down-level form DOMAIN\user, where
// DOMAIN is the realm's first label (CONTOSO.COM → CONTOSO), then the
// user principal form user@REALM. Logon names compare without regard to
// case, as Windows compares them.
func (c Client) LogonNames() []string {
	domain, _, _ := strings.Cut(c.Realm, ".")
	return []string{domain + `\` + c.Name, c.Name + "@" + c.Realm}
}

// refused is a refused token, of kind errs.Unauthenticated: what the
// client is told concerns its own token only, never the server's keys or
// users.
func refused(format string, args ...any) error { return errs.E(errs.Unauthenticated, format, args...) }

// Accept verifies the text of an Authorization: Negotiate header (the
// base64 token) sent from addr (host or host:port). Outcomes: the client
// principal; an error of kind errs.Unauthenticated saying why the token was refused: not base64, not
// SPNEGO or Kerberos, NTLM, a ticket for another service or an old key, a
// ticket expired or not yet valid, a clock too far off, an authenticator
// already seen (a replay).
func (a *Acceptor) Accept(header, addr string) (Client, error) {
	header = strings.TrimSpace(header)
	if header == "" || len(header) > maxToken {
		return Client{}, refused("malformed Negotiate token")
	}
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return Client{}, refused("malformed Negotiate token: not base64")
	}
	if isNTLM(raw) {
		return Client{}, refused("NTLM is not supported: sign in with Kerberos (the client fell back to NTLM because it got no Kerberos ticket for this server; check that the server's SPN is registered and that you use its host name, not its address)")
	}
	req, err := apReq(raw)
	if err != nil {
		return Client{}, err
	}
	settings := []func(*service.Settings){service.DecodePAC(false), service.MaxClockSkew(MaxClockSkew)}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if ip := net.ParseIP(addr); ip != nil {
		settings = append(settings, service.ClientAddress(types.HostAddressFromNetIP(ip)))
	}
	if a.spn != nil {
		settings = append(settings, service.KeytabPrincipal(a.spn.PrincipalNameString()))
	}
	// VerifyAPREQ always checks the authenticator against the process's
	// replay cache (RFC 4120 3.2.3): a token sent twice is refused.
	ok, creds, err := service.VerifyAPREQ(req, service.NewSettings(a.kt, settings...))
	if err != nil || !ok {
		return Client{}, verifyError(err)
	}
	until := req.Ticket.DecryptedEncPart.EndTime
	if !time.Now().Before(until) {
		return Client{}, refused("Kerberos ticket expired at %s: get a new one (kinit, or sign out and in again)", until.UTC().Format(time.RFC3339))
	}
	return Client{Name: creds.CName().PrincipalNameString(), Realm: creds.Domain(), Until: until}, nil
}

// isNTLM reports an NTLMSSP message, bare or as the mechanism token an
// SPNEGO NegTokenInit offers.
func isNTLM(raw []byte) bool {
	return strings.HasPrefix(string(raw), "NTLMSSP\x00")
}

// apReq finds the Kerberos AP-REQ in a token: an SPNEGO NegTokenInit
// whose mechanism token is Kerberos, or a bare Kerberos GSS-API token.
func apReq(raw []byte) (*messages.APReq, error) {
	var st spnego.SPNEGOToken
	mech := raw
	if err := st.Unmarshal(raw); err == nil {
		if !st.Init {
			return nil, refused("Negotiate token is not the start of a sign-in (NegTokenInit expected)")
		}
		if !offersKerberos(st.NegTokenInit.MechTypes) {
			return nil, refused("NTLM is not supported: the client offered no Kerberos token (it got no Kerberos ticket for this server; check the server's SPN and that you use its host name)")
		}
		mech = st.NegTokenInit.MechTokenBytes
		if len(mech) == 0 {
			return nil, refused("the Negotiate token holds no Kerberos ticket")
		}
		if isNTLM(mech) {
			return nil, refused("NTLM is not supported: sign in with Kerberos")
		}
	}
	var kt spnego.KRB5Token
	if err := kt.Unmarshal(mech); err != nil || !kt.IsAPReq() {
		return nil, refused("the Negotiate token is neither SPNEGO nor a Kerberos AP-REQ")
	}
	return &kt.APReq, nil
}

// offersKerberos reports whether the first mechanism a client offers (the
// one its token is for) is Kerberos, in its standard or Microsoft form.
func offersKerberos(mechs []asn1.ObjectIdentifier) bool {
	return len(mechs) > 0 && (mechs[0].Equal(gssapi.OIDKRB5.OID()) || mechs[0].Equal(gssapi.OIDMSLegacyKRB5.OID()))
}

// verifyError says why the library refused an AP-REQ.
func verifyError(err error) error {
	var ke messages.KRBError
	if !errors.As(err, &ke) {
		return refused("Kerberos ticket refused: it cannot be decrypted with the server's keytab (a ticket for another service principal, or one issued before the key was changed: get a new ticket, or export the keytab again)")
	}
	switch ke.ErrorCode {
	case errorcode.KRB_AP_ERR_REPEAT:
		return refused("Kerberos authenticator already used (a replayed request): each request needs a new one")
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return refused("Kerberos ticket expired: get a new one (kinit, or sign out and in again)")
	case errorcode.KRB_AP_ERR_TKT_NYV:
		return refused("Kerberos ticket not yet valid: check the clocks of this computer and the server")
	case errorcode.KRB_AP_ERR_SKEW:
		return refused("Kerberos authenticator refused: the client's clock differs from the server's by more than %s", MaxClockSkew)
	case errorcode.KRB_AP_ERR_BADADDR:
		return refused("Kerberos ticket refused: it is bound to other network addresses than the one the request came from")
	case errorcode.KRB_AP_ERR_NOKEY, errorcode.KRB_AP_ERR_BADKEYVER, errorcode.KRB_AP_ERR_NOT_US:
		return refused("Kerberos ticket refused: it is for a service principal or key version the server's keytab does not hold")
	}
	return refused("Kerberos ticket refused: %s", errorcode.Lookup(ke.ErrorCode))
}
