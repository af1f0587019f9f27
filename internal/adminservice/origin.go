package adminservice

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Origin decides how the absolute URLs the server writes begin
// (@odata.context, @odata.nextLink, Location). A request's Host header is
// the client's claim, so it is copied into them only when the server has
// been told to trust it; a request without one (HTTP/1.0) gets the
// fallback, never "http:///".
type Origin struct {
	// PublicURL, when set, begins every URL whatever the request says:
	// the address clients reach the server by, through a proxy or a
	// load balancer ("https://cm.example.com", or with a path prefix,
	// "https://gw.example.com/tsprov").
	PublicURL string
	// Hosts are the Host header values used as they come: "name:port",
	// or "name" for that name on any port (case does not matter).
	Hosts []string
	// Fallback is the host[:port] used for a request whose Host is not
	// among Hosts, or that has none (empty: "localhost").
	Fallback string
}

// Check reports what is wrong with o, as NewHandler would (nil: nothing).
func (o Origin) Check() error {
	_, err := newOrigin(o)
	return err
}

// origin is an Origin checked and normalised once.
type origin struct {
	public   string // without a trailing slash; empty: none
	exact    map[string]bool
	anyPort  map[string]bool
	fallback string
}

// newOrigin checks o: PublicURL must be an absolute http or https URL
// without user, query or fragment; a host may not be empty or hold a
// character that a Host header cannot.
func newOrigin(o Origin) (*origin, error) {
	out := &origin{exact: map[string]bool{}, anyPort: map[string]bool{}, fallback: o.Fallback}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return nil, fmt.Errorf("public URL %q: want an absolute http:// or https:// URL with a host, and neither user, query nor fragment", o.PublicURL)
		}
		out.public = strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	}
	for _, h := range o.Hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/?#@ \t\\") {
			return nil, fmt.Errorf("allowed host %q: want name or name:port", h)
		}
		if _, _, err := net.SplitHostPort(h); err == nil {
			out.exact[h] = true
		} else {
			out.anyPort[strings.Trim(h, "[]")] = true
		}
	}
	if out.fallback == "" {
		out.fallback = "localhost"
	}
	return out, nil
}

// base is the beginning of every absolute URL for r: the public URL, or
// the scheme r came by and its Host when trusted, else the fallback.
func (o *origin) base(r *http.Request) string {
	if o.public != "" {
		return o.public
	}
	host := o.fallback
	if o.trusts(r.Host) {
		host = r.Host
	}
	return scheme(r) + "://" + host
}

// trusts reports whether host (a Host header) is one of the allowed.
func (o *origin) trusts(host string) bool {
	host = strings.ToLower(host)
	if host == "" {
		return false
	}
	if o.exact[host] {
		return true
	}
	name := host
	if n, _, err := net.SplitHostPort(host); err == nil {
		name = n
	}
	return o.anyPort[strings.Trim(name, "[]")]
}

// baseURL is the absolute URL of the WMI route for this request.
func (h *Handler) baseURL(r *http.Request) string { return h.origin.base(r) + Prefix }

// httpsKey marks a context whose request came over TLS (WithHTTPS).
type httpsKey struct{}

// WithHTTPS marks ctx as that of a request that came over TLS, for a
// server whose connections net/http does not see as *tls.Conn.
func WithHTTPS(ctx context.Context) context.Context { return context.WithValue(ctx, httpsKey{}, true) }

// scheme is "https" for a request that came over TLS, else "http".
func scheme(r *http.Request) string {
	if r.TLS != nil || r.Context().Value(httpsKey{}) != nil {
		return "https"
	}
	return "http"
}
