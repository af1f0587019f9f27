package nal

import (
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
)

// The forms of content.md §4.1, exactly as the product stores them.
func TestParseRealForms(t *testing.T) {
	tests := []struct {
		in                 string
		site, host, share  string
		display, roundTrip bool
	}{
		{in: `["Display=\\PS1DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\`, site: "PS1", host: "PS1DP1.CONTOSO.COM", display: true},
		{in: `["Display=\\P01PDP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=P01"]\\P01PDP1.CONTOSO.COM\`, site: "P01", host: "P01PDP1.CONTOSO.COM", display: true},
		{in: `["Display=\\LABCM01.lab.dev.ajf8729.com\"]MSWNET:["SMS_SITE=LAB"]\\LABCM01.lab.dev.ajf8729.com\`, site: "LAB", host: "LABCM01.lab.dev.ajf8729.com", display: true},
		{in: `["Display=\\SERVERNAME\"]MSWNET:["SMS_SITE=ABC"]\\SERVERNAME\`, site: "ABC", host: "SERVERNAME", display: true},
		{in: `["Display=\\SMSSVR\"]MSWNET:["SMS_SITE=XXX"]\\SMSSVR\`, site: "XXX", host: "SMSSVR", display: true},
		{in: `MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\SMSPKGC$\PS100004\`, site: "PS1", host: "PS1DP1.CONTOSO.COM", share: `SMSPKGC$\PS100004`},
		{in: `MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\SMSSIG$\PS100004.1.tar\`, site: "PS1", host: "PS1DP1.CONTOSO.COM", share: `SMSSIG$\PS100004.1.tar`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.SiteCode != tt.site || p.Host != tt.host || p.Share != tt.share || (p.Display != "") != tt.display {
				t.Fatalf("Parse = %+v", p)
			}
			if got := p.String(); got != tt.in {
				t.Errorf("String() = %s, want the input back", got)
			}
			built, err := ForServer(tt.host, tt.site)
			if err != nil {
				t.Fatal(err)
			}
			if built != p.Server() {
				t.Errorf("ForServer = %s, Server() = %s", built, p.Server())
			}
		})
	}
}

func TestForServerMatchesTheProduct(t *testing.T) {
	got, err := ForServer("PS1DP1.CONTOSO.COM", "ps1")
	if err != nil {
		t.Fatal(err)
	}
	if want := `["Display=\\PS1DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\PS1DP1.CONTOSO.COM\`; got != want {
		t.Fatalf("ForServer = %s, want %s", got, want)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		``,
		`PS1DP1.CONTOSO.COM`,
		`\\PS1DP1.CONTOSO.COM\`,
		`MSWNET:\\PS1DP1\`,
		`["Display=\\DP1\"]MSWNET:["SMS_SITE=PS1"]\\DP1`,      // no closing backslash
		`["Display=\\DP1\"]MSWNET:["SMS_SITE=PS12"]\\DP1\`,    // four-character site
		`["Display=\\DP1\"]MSWNET:["SMS_SITE="]\\DP1\`,        // empty site
		`["Display=\\DP1\"]NWARE:["SMS_SITE=PS1"]\\DP1\`,      // another provider
		`["Display=\\DP2\"]MSWNET:["SMS_SITE=PS1"]\\DP1\`,     // display names another host
		`["Display=\\DP1\"]MSWNET:["SMS_SITE=PS1"]\\\`,        // no host
		`["Display=\\DP 1\"]MSWNET:["SMS_SITE=PS1"]\\DP 1\`,   // space in host
		`MSWNET:["SMS_SITE=PS1"]\\DP1\SMSPKGC$`,               // share without closing \
		`["Display=\\\DP1\\"]MSWNET:["SMS_SITE=PS1"]\\\DP1\\`, // Markdown-escaped copy
	} {
		_, err := Parse(in)
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("Parse(%q) = %v, want an Invalid error", in, err)
		}
	}
}

// WMI compares NAL paths without regard to case; so does Parse, keywords
// included.
func TestParseIgnoresCase(t *testing.T) {
	p, err := Parse(`["display=\\dp1.contoso.com\"]mswnet:["sms_site=ps1"]\\dp1.contoso.com\`)
	if err != nil {
		t.Fatal(err)
	}
	if p.SiteCode != "PS1" || p.Provider != "MSWNET" || p.Host != "dp1.contoso.com" {
		t.Fatalf("Parse = %+v", p)
	}
}

func TestSameServer(t *testing.T) {
	a, _ := Parse(`["Display=\\dp1.contoso.com\"]MSWNET:["SMS_SITE=ps1"]\\dp1.contoso.com\`)
	b, _ := Parse(`MSWNET:["SMS_SITE=PS1"]\\DP1.CONTOSO.COM\SMSPKGC$\PS100004\`)
	c, _ := Parse(`["Display=\\DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS2"]\\DP1.CONTOSO.COM\`)
	if !SameServer(a, b) || SameServer(a, c) {
		t.Fatal("SameServer compares host and site without regard to case")
	}
}
