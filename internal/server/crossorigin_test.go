package server

import (
	"fmt"
	"testing"
)

// TestCrossOriginWritesFromBrowsersAreRefused: a browser on another
// origin cannot make a signed-in administrator's browser change anything
// (Basic credentials are sent by browsers on their own), with a body or
// without; the same request from the server's own origin, or from a
// client that is not a browser, goes through; reads are not affected.
func TestCrossOriginWritesFromBrowsersAreRefused(t *testing.T) {
	s := startSecureServer(t, nil)
	admin := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "eve", "Roles": []string{"SMS0001R"}, "Categories": []string{"SMS00ALL"}})
	s.must(204, s.admin, "PUT", fmt.Sprintf("/tsprov/v1/admins/%.0f/password", admin.body["AdminID"]), map[string]any{"Password": "a long enough password"})
	basic := basicAuth("eve", "a long enough password")
	count := func() string {
		a := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_TaskSequencePackage/$count", nil)
		return string(a.raw)
	}
	before := count()
	for _, tc := range []struct {
		what    string
		headers []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}},
		{"an Origin elsewhere", []string{"Origin", "https://attacker.example"}},
	} {
		headers := append([]string{"Authorization", basic, "Content-Type", "application/json"}, tc.headers...)
		a := s.do("", "POST", "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": "forged"}, headers...)
		if a.status != 403 {
			t.Errorf("%s: status %d, want 403\n%.300s", tc.what, a.status, a.raw)
		}
		envelope(t, tc.what, a)
		bodiless := append([]string{"Authorization", basic}, tc.headers...)
		if a := s.do("", "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", nil, bodiless...); a.status != 403 {
			t.Errorf("%s, no body: status %d, want 403", tc.what, a.status)
		}
		if a := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, append([]string{"Authorization", basic}, tc.headers...)...); a.status != 200 {
			t.Errorf("%s, a read: status %d, want 200", tc.what, a.status)
		}
	}
	if after := count(); after != before {
		t.Fatalf("a refused request changed the store: %s packages, then %s", before, after)
	}
	for _, tc := range []struct {
		what    string
		headers []string
	}{
		{"not a browser", nil},
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin"}},
		{"the server's own Origin", []string{"Origin", s.url}},
	} {
		headers := append([]string{"Authorization", basic, "Content-Type", "application/json"}, tc.headers...)
		if a := s.do("", "POST", "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": fmt.Sprint("ok ", tc.what)}, headers...); a.status != 201 {
			t.Errorf("%s: status %d, want 201\n%.300s", tc.what, a.status, a.raw)
		}
	}
}
