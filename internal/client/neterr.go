package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// NetworkError is a request that got no answer from the server: its
// message is one short line saying what happened and what to try; Err is
// the underlying error.
type NetworkError struct {
	Message string
	Err     error
}

func (e *NetworkError) Error() string { return e.Message }
func (e *NetworkError) Unwrap() error { return e.Err }

// CheckBase checks a server URL: it must be http:// or https:// with a
// host. Outcomes: nil; a *NetworkError that shows the URL to use.
func CheckBase(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &NetworkError{Message: fmt.Sprintf("server URL %q needs a scheme and a host: use http://%s (or https://…)", base, strings.TrimPrefix(strings.TrimPrefix(base, "//"), "/")), Err: err}
	}
	return nil
}

// networkError turns a failed round trip into one line with a hint.
func (c *Client) networkError(err error) error {
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		record  tls.RecordHeaderError
	)
	https := strings.HasPrefix(c.Base, "https://")
	var already *NetworkError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &already):
		return already
	case errors.Is(err, syscall.ECONNREFUSED):
		return &NetworkError{Message: fmt.Sprintf("connection refused: is tsprov serve running at %s?", c.Base), Err: err}
	case errors.As(err, &dns):
		return &NetworkError{Message: fmt.Sprintf("cannot find the host %s: check the server URL %s", dns.Name, c.Base), Err: err}
	case errors.As(err, &unknown):
		return &NetworkError{Message: "the server's TLS certificate is signed by an unknown authority: trust it with --cacert FILE (the server's tls.crt) or TSPROV_CACERT", Err: err}
	case errors.As(err, &invalid):
		return &NetworkError{Message: fmt.Sprintf("the server's TLS certificate is not valid (%v): give the right one with --cacert FILE or TSPROV_CACERT", invalid), Err: err}
	case errors.As(err, &host):
		return &NetworkError{Message: fmt.Sprintf("the server's TLS certificate is not for this host (%v): use a host name it names", host), Err: err}
	case https && (errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")):
		return &NetworkError{Message: fmt.Sprintf("the server at %s answers plain HTTP, not HTTPS: use http://%s", c.Base, strings.TrimPrefix(c.Base, "https://")), Err: err}
	case !https && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)):
		return &NetworkError{Message: fmt.Sprintf("the server at %s closed the connection without answering: if it serves HTTPS, use https://%s", c.Base, strings.TrimPrefix(c.Base, "http://")), Err: err}
	case isTimeout(err):
		return &NetworkError{Message: fmt.Sprintf("no answer from %s in time: is the server reachable and running?", c.Base), Err: err}
	}
	return &NetworkError{Message: fmt.Sprintf("cannot reach %s: %v", c.Base, unwrapURL(err)), Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unwrapURL drops the "Get \"http://…\":" prefix of a *url.Error.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
