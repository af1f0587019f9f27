// Package nal reads and writes the network abstraction layer (NAL) paths
// by which Configuration Manager names a site system, such as a
// distribution point:
//
//	["Display=\\PS1DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\
//
// An optional display attribute, the provider (MSWNET), the bracketed
// attribute list with the site code, and a UNC path whose first segment
// is the server. The display-less form with a share path
// (MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\SMSPKGC$\PS100004\) is read
// too. Host names compare without regard to case.
package nal

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// Path is a parsed NAL path.
type Path struct {
	Display  string // the Display attribute's value (a UNC path ending in \), "" when absent
	Provider string // MSWNET
	SiteCode string // the SMS_SITE attribute, upper case
	Host     string // the server: the first segment of the UNC path
	Share    string // what follows the server in the UNC path, without the closing \ ("" for a server)
}

// pattern is the grammar of content.md §4.2: an optional Display
// attribute, the provider, SMS_SITE, then \\host\ and an optional share
// path.
var pattern = regexp.MustCompile(`(?i)^(?:\["Display=([^"]*)"\])?([A-Za-z]+):\["SMS_SITE=([^"]*)"\]\\\\([^\\]*)\\(.*)$`)

// siteCode is what a site code looks like: three letters or digits.
var siteCode = regexp.MustCompile(`^[A-Za-z0-9]{3}$`)

// hostName allows the characters of DNS and NetBIOS names.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)

const example = `["Display=\\DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\DP1.CONTOSO.COM\`

// Parse reads a NAL path. Outcomes: the path; an error of kind
// errs.Invalid saying what is wrong (no MSWNET provider, no SMS_SITE, a
// bad site code or host, a Display that names another host).
func Parse(s string) (Path, error) {
	m := pattern.FindStringSubmatch(s)
	if m == nil {
		return Path{}, errs.E(errs.Invalid, "NAL path %q does not parse: want the form %s", s, example)
	}
	p := Path{Display: m[1], Provider: strings.ToUpper(m[2]), SiteCode: strings.ToUpper(m[3]), Host: m[4]}
	share := m[5]
	if share != "" {
		if !strings.HasSuffix(share, `\`) {
			return Path{}, errs.E(errs.Invalid, "NAL path %q: the UNC path must end with \\", s)
		}
		p.Share = strings.TrimSuffix(share, `\`)
	}
	switch {
	case p.Provider != "MSWNET":
		return Path{}, errs.E(errs.Invalid, "NAL path %q: provider %q is not MSWNET", s, m[2])
	case !siteCode.MatchString(p.SiteCode):
		return Path{}, errs.E(errs.Invalid, "NAL path %q: SMS_SITE %q is not a three-character site code", s, m[3])
	case !hostName.MatchString(p.Host):
		return Path{}, errs.E(errs.Invalid, "NAL path %q: %q is not a server name", s, p.Host)
	}
	if p.Display != "" {
		want := `\\` + p.Host + `\`
		if !strings.EqualFold(p.Display, want) {
			return Path{}, errs.E(errs.Invalid, "NAL path %q: Display %q does not name the server %s (want %s)", s, p.Display, p.Host, want)
		}
	}
	return p, nil
}

// ForServer builds the NAL path of a distribution point on host at site:
// ["Display=\\host\"]MSWNET:["SMS_SITE=site"]\\host\. Outcomes: the path;
// errs.Invalid for a host or site code that a NAL path cannot hold.
func ForServer(host, site string) (string, error) {
	if !hostName.MatchString(host) {
		return "", errs.E(errs.Invalid, "%q is not a server name", host)
	}
	if !siteCode.MatchString(site) {
		return "", errs.E(errs.Invalid, "%q is not a three-character site code", site)
	}
	return Path{Display: `\\` + host + `\`, Provider: "MSWNET", SiteCode: strings.ToUpper(site), Host: host}.String(), nil
}

// String writes p back as a NAL path.
func (p Path) String() string {
	var b strings.Builder
	if p.Display != "" {
		fmt.Fprintf(&b, `["Display=%s"]`, p.Display)
	}
	fmt.Fprintf(&b, `%s:["SMS_SITE=%s"]\\%s\`, p.Provider, p.SiteCode, p.Host)
	if p.Share != "" {
		b.WriteString(p.Share + `\`)
	}
	return b.String()
}

// Server is the NAL path of the server p names (its share dropped), in
// the form with the Display attribute: the key of a distribution point.
func (p Path) Server() string {
	return Path{Display: `\\` + p.Host + `\`, Provider: p.Provider, SiteCode: p.SiteCode, Host: p.Host}.String()
}

// SameServer reports whether a and b name the same server at the same
// site: host and site code compared without regard to case.
func SameServer(a, b Path) bool {
	return strings.EqualFold(a.Host, b.Host) && strings.EqualFold(a.SiteCode, b.SiteCode)
}
