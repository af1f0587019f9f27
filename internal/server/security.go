package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/kerberos"
	"github.com/tsprov/tsprov/internal/lock"
	"github.com/tsprov/tsprov/internal/provider"
)

// Limits of the HTTP front door.
const (
	// DefaultRateLimit is the requests per second allowed per credential
	// (an API token; a user signing in with HTTP Basic or Negotiate), with
	// bursts of as many: above what one client sending requests one after
	// another can reach, and a fraction of what a small server serves, so
	// that one runaway script cannot take a whole server from the others
	// (docs/security.md).
	DefaultRateLimit = 2000
	// failedSignIns are allowed per address per failureWindow before the
	// address must wait.
	failedSignIns  = 10
	failureWindow  = time.Minute
	maxHeaderBytes = 64 << 10
)

// Files of the self-signed certificate in the data folder.
const (
	selfSignedCert = "tls.crt"
	selfSignedKey  = "tls.key"
)

// healthPath is the one route that answers without credentials.
const healthPath = "/healthz"

// isHealthCheck reports the one request that needs no credentials and is
// never rate limited: GET (or HEAD) /healthz. Any other method on that
// path is an ordinary request.
func isHealthCheck(r *http.Request) bool {
	return r.URL.Path == healthPath && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// clientAddr is the host part of the peer address. Forwarding headers are
// not trusted: tsprov is not meant to sit behind a proxy that rewrites
// them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tooMany answers 429 with Retry-After.
func tooMany(w http.ResponseWriter, r *http.Request, log *slog.Logger, wait time.Duration, err error) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	adminservice.WriteError(w, r, log, err)
}

// authenticate lets a request through only with valid credentials (a
// bearer token, HTTP Basic, or with a keytab HTTP Negotiate), carrying
// the caller's principal in its context; only the health check answers
// without. Failed sign-ins are throttled per client address; the requests
// of each credential are limited by budget (none when nil).
func authenticate(next http.Handler, prov *provider.Provider, kerb *kerberos.Acceptor, throttle *auth.Throttle, budget *auth.RateLimiter, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isHealthCheck(r) {
			next.ServeHTTP(w, r)
			return
		}
		addr := clientAddr(r)
		if blocked, wait := throttle.Blocked(addr); blocked {
			tooMany(w, r, log, wait, errs.E(errs.RateLimited, "too many failed sign-ins from this address; try again in %d s", int(math.Ceil(wait.Seconds()))))
			return
		}
		pr, err := signIn(r, w.Header(), prov, kerb, addr)
		if err != nil {
			if errs.Is(err, errs.Unauthenticated) && r.Header.Get("Authorization") != "" {
				throttle.Fail(addr)
			}
			challenge(w.Header(), kerb != nil)
			adminservice.WriteError(w, r, log, err)
			return
		}
		cred := credential(r, pr)
		if budget != nil {
			if ok, wait := budget.Allow(cred); !ok {
				tooMany(w, r, log, wait, errs.E(errs.RateLimited, "too many requests with this credential: the limit is %g per second; try again shortly", budget.Rate))
				return
			}
		}
		session, err := lockSession(r, cred)
		if err != nil {
			adminservice.WriteError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(lock.WithSession(auth.WithPrincipal(r.Context(), pr), session)))
	})
}

// refuseCrossOrigin refuses a state-changing request (any method but GET,
// HEAD and OPTIONS) that a browser sends from a page of another origin, as
// its Sec-Fetch-Site or Origin header tells, before any credential is
// looked at: Basic and Negotiate credentials are sent by browsers on their
// own, so a page elsewhere could otherwise make a signed-in
// administrator's browser write, even without a body or a Content-Type.
// Clients that are not browsers send neither header and are not affected.
// The public URL's origin (--public-url) is the server's own.
func refuseCrossOrigin(next http.Handler, publicURL string, log *slog.Logger) (http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil {
			return nil, fmt.Errorf("--public-url: %w", err)
		}
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("--public-url: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminservice.WriteError(w, r, log, errs.E(errs.Forbidden, "a cross-origin request from a browser may not change anything: send it from the server's own origin, or from a client that is not a browser"))
	}))
	return cop.Handler(next), nil
}

// credential names what signed r in, for the request budget: the bearer
// token (by its hash), else the user (HTTP Basic, Negotiate).
func credential(r *http.Request, pr *auth.Principal) string {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "bearer") {
		return "token " + auth.HashToken(strings.TrimSpace(rest))
	}
	return "user " + strings.ToLower(pr.User)
}

// challenge offers the sign-in schemes on a 401: Negotiate first, on a
// line of its own as Windows servers send it, when a keytab is set.
func challenge(h http.Header, negotiate bool) {
	if negotiate {
		h.Add("WWW-Authenticate", kerberos.Scheme)
	}
	h.Add("WWW-Authenticate", `Bearer realm="tsprov", Basic realm="tsprov", charset="UTF-8"`)
}

// signIn resolves the caller of r. A sign-in that answers the client
// (Kerberos's mutual authentication) sets headers of the response in h.
func signIn(r *http.Request, h http.Header, prov *provider.Provider, kerb *kerberos.Acceptor, addr string) (*auth.Principal, error) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		how := "send Authorization: Bearer <token> (tsprov --token or TSPROV_TOKEN) or HTTP Basic"
		if kerb != nil {
			how += ", or sign in with Kerberos (Negotiate)"
		}
		return nil, errs.E(errs.Unauthenticated, "credentials required: %s", how)
	case len(values) > 1:
		return nil, errs.E(errs.Invalid, "more than one Authorization header")
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		token := strings.TrimSpace(rest)
		if token == "" || len(token) > 512 {
			return nil, errs.E(errs.Unauthenticated, "malformed bearer token")
		}
		return prov.AuthenticateToken(r.Context(), token, addr)
	case "basic":
		user, pw, ok := r.BasicAuth()
		if !ok || user == "" || len(user) > 256 || len(pw) > 1024 {
			return nil, errs.E(errs.Unauthenticated, "malformed HTTP Basic credentials")
		}
		return prov.AuthenticatePassword(r.Context(), user, pw, addr)
	case "negotiate":
		if kerb != nil {
			return signInKerberos(r, h, prov, kerb, rest, addr)
		}
		return nil, errs.E(errs.Unauthenticated, "Windows-integrated sign-in (Negotiate) is not enabled on this server (tsprov serve --keytab): use Bearer or Basic")
	case "ntlm":
		return nil, errs.E(errs.Unauthenticated, "NTLM is not supported: use Kerberos (Negotiate), Bearer or Basic")
	}
	if kerb != nil {
		return nil, errs.E(errs.Unauthenticated, "unsupported authorization scheme: use Negotiate, Bearer or Basic")
	}
	return nil, errs.E(errs.Unauthenticated, "unsupported authorization scheme: use Bearer or Basic")
}

// isLoopback reports whether a listen address is reachable only from this
// machine.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// transport decides how the server listens: TLS with the given
// certificate; plain HTTP on loopback or when explicitly allowed; else TLS
// with a self-signed certificate kept in the data folder (created on first
// start), whose fingerprint is returned to be shown.
func transport(cfg *Config) (conf *tls.Config, selfSigned string, fingerprint string, err error) {
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, "", "", errors.New("--tls-cert and --tls-key go together")
		}
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, "", "", fmt.Errorf("load TLS certificate: %w", err)
		}
		return tlsConfig(pair), "", fingerprintOf(pair), nil
	case isLoopback(cfg.Listen) || cfg.InsecureHTTP:
		return nil, "", "", nil
	}
	certPath := filepath.Join(cfg.DataDir, selfSignedCert)
	keyPath := filepath.Join(cfg.DataDir, selfSignedKey)
	if _, err := os.Stat(certPath); errors.Is(err, os.ErrNotExist) {
		if err := writeSelfSigned(certPath, keyPath, cfg.ServerName); err != nil {
			return nil, "", "", err
		}
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, "", "", fmt.Errorf("load the self-signed certificate: %w", err)
	}
	return tlsConfig(pair), certPath, fingerprintOf(pair), nil
}

func tlsConfig(pair tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// fingerprintOf is the SHA-256 fingerprint of the leaf certificate, in the
// colon-separated form browsers and openssl show.
func fingerprintOf(pair tls.Certificate) string {
	if len(pair.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(pair.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// writeSelfSigned creates an ECDSA P-256 certificate valid for ten years
// for the server's names and addresses, and its key (mode 0600).
func writeSelfSigned(certPath, keyPath, serverName string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return fmt.Errorf("generate serial: %w", err)
	}
	names := []string{"localhost"}
	if serverName != "" && serverName != "localhost" {
		names = append(names, serverName)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
				ips = append(ips, n.IP)
			}
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: serverName, Organization: []string{"tsprov self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode TLS key: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write TLS key: %w", err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	return nil
}

func limiter(rate float64) *auth.RateLimiter {
	if rate < 0 {
		return nil
	}
	return auth.NewRateLimiter(rate, rate)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// bootstrap stores the built-in roles and scopes and, on first start, the
// first Full Administrator (one transaction), printing its token once
// (never to the log).
func bootstrap(ctx context.Context, prov *provider.Provider, cfg Config) error {
	res, err := prov.Bootstrap(ctx, cfg.AdminToken)
	if err != nil {
		return err
	}
	switch {
	case res.Token != "":
		fmt.Fprintf(cfg.Stdout, "tsprov: created the first Full Administrator %q. Its API token, shown only this once:\n\n    %s\n\n"+
			"Keep it safe; use it with: export TSPROV_TOKEN=<token> (or --token, or the header Authorization: Bearer <token>).\n",
			provider.FirstAdminName, res.Token)
		cfg.Logger.Info("created the first Full Administrator; its token was printed on standard output", "user", provider.FirstAdminName)
	case res.Created:
		cfg.Logger.Info("created the first Full Administrator with the token in TSPROV_ADMIN_TOKEN", "user", provider.FirstAdminName)
	case res.Ignored:
		cfg.Logger.Warn("TSPROV_ADMIN_TOKEN ignored: the store already has administrative users (manage tokens with tsprov admin)")
	}
	return nil
}

// newHTTPServer returns the HTTP server with its timeouts (header, read,
// write, idle) and header size bounded.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
