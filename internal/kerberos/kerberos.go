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
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
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
	// Reply is the WWW-Authenticate value of the answer ("Negotiate
	// <token>") when the client asked the server to prove itself (mutual
	// authentication): the Kerberos AP-REP in an SPNEGO accept-completed
	// response. Empty when it did not ask.
	Reply string
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
	o, err := apReq(raw)
	if err != nil {
		return Client{}, err
	}
	req := o.req
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
	c := Client{Name: creds.CName().PrincipalNameString(), Realm: creds.Domain(), Until: until}
	if types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired) {
		if c.Reply, err = mutualReply(o); err != nil {
			return Client{}, err
		}
	}
	return c, nil
}

// mutualReply is the server's proof for mutual authentication (RFC 4120
// 3.2.4, RFC 4121 4.1, RFC 4178 4.2.2): an AP-REP echoing the
// authenticator's time, encrypted with the ticket's session key, framed
// as a GSS-API token as the client framed its own, in a NegTokenResp
// saying accept-completed for the mechanism the client chose (bare when
// the client sent a bare token). Outcomes: the header value; an error
// when the session key's type cannot encrypt (the ticket was decrypted
// with it, so only a library fault gets there).
func mutualReply(o offer) (string, error) {
	req := o.req
	seq, err := rand.Int(rand.Reader, big.NewInt(1<<31-1))
	if err != nil {
		return "", fmt.Errorf("sequence number: %w", err)
	}
	part, err := asn1.Marshal(messages.EncAPRepPart{
		CTime:          req.Authenticator.CTime.UTC(),
		Cusec:          req.Authenticator.Cusec,
		SequenceNumber: seq.Int64() + 1,
	})
	if err != nil {
		return "", fmt.Errorf("marshal AP-REP part: %w", err)
	}
	enc, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart), req.Ticket.DecryptedEncPart.Key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return "", fmt.Errorf("encrypt AP-REP: %w", err)
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: iana.PVNO, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	if err != nil {
		return "", fmt.Errorf("marshal AP-REP: %w", err)
	}
	oid, err := asn1.Marshal(o.framed)
	if err != nil {
		return "", fmt.Errorf("marshal mechanism: %w", err)
	}
	// RFC 2743 3.1 framing; TOK_ID 02 00 is an AP-REP (RFC 4121 4.1)
	token := asn1tools.AddASNAppTag(append(append(oid, 0x02, 0x00), asn1tools.AddASNAppTag(rep, asnAppTag.APREP)...), 0)
	if o.mech != nil {
		resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateAcceptCompleted), SupportedMech: o.mech, ResponseToken: token}
		if token, err = resp.Marshal(); err != nil {
			return "", fmt.Errorf("marshal NegTokenResp: %w", err)
		}
	}
	return Scheme + " " + base64.StdEncoding.EncodeToString(token), nil
}

// isNTLM reports an NTLMSSP message, bare or as the mechanism token an
// SPNEGO NegTokenInit offers.
func isNTLM(raw []byte) bool {
	return strings.HasPrefix(string(raw), "NTLMSSP\x00")
}

// offer is what a client's Negotiate token holds: the AP-REQ, the OID
// its GSS-API framing names, and the mechanism it chose in SPNEGO (nil
// for a bare Kerberos token, which gets a bare answer).
type offer struct {
	req    *messages.APReq
	framed asn1.ObjectIdentifier
	mech   asn1.ObjectIdentifier
}

// apReq finds the Kerberos AP-REQ in a token: an SPNEGO NegTokenInit
// whose mechanism token is Kerberos, or a bare Kerberos GSS-API token.
func apReq(raw []byte) (offer, error) {
	var st spnego.SPNEGOToken
	var o offer
	mech := raw
	if err := st.Unmarshal(raw); err == nil {
		if !st.Init {
			return o, refused("Negotiate token is not the start of a sign-in (NegTokenInit expected)")
		}
		if !offersKerberos(st.NegTokenInit.MechTypes) {
			return o, refused("NTLM is not supported: the client offered no Kerberos token (it got no Kerberos ticket for this server; check the server's SPN and that you use its host name)")
		}
		o.mech = st.NegTokenInit.MechTypes[0]
		mech = st.NegTokenInit.MechTokenBytes
		if len(mech) == 0 {
			return o, refused("the Negotiate token holds no Kerberos ticket")
		}
		if isNTLM(mech) {
			return o, refused("NTLM is not supported: sign in with Kerberos")
		}
	}
	var kt spnego.KRB5Token
	if err := kt.Unmarshal(mech); err != nil || !kt.IsAPReq() {
		return o, refused("the Negotiate token is neither SPNEGO nor a Kerberos AP-REQ")
	}
	o.req, o.framed = &kt.APReq, kt.OID
	return o, nil
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
