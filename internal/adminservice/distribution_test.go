package adminservice_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// registerDP registers a DP agent as tsprov dp serve does and returns its
// NAL path.
func (s *testServer) registerDP(host string) string {
	s.t.Helper()
	r := s.must(200, "POST", "/tsprov/v1/dp/register", map[string]any{"host": host, "site": "PS1", "url": "http://127.0.0.1:9", "version": "test"})
	return r.body["nalPath"].(string)
}

func (s *testServer) count(class, filter string) int {
	s.t.Helper()
	path := "/AdminService/wmi/" + class
	if filter != "" {
		path += "?$filter=" + url.QueryEscape(filter)
	}
	return len(s.must(200, "GET", path, nil).body["value"].([]any))
}

func TestAddDistributionPointsOverHTTP(t *testing.T) {
	s := newTestServer(t, 0)
	dp1 := s.registerDP("DP1.CONTOSO.COM")
	dp2 := s.registerDP("DP2.CONTOSO.COM")
	if want := `["Display=\\DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\DP1.CONTOSO.COM\`; dp1 != want {
		t.Fatalf("NAL path %s, want %s", dp1, want)
	}
	if n := s.count("SMS_SystemResourceList", "RoleName eq 'SMS Distribution Point'"); n != 2 {
		t.Fatalf("%d DPs in SMS_SystemResourceList", n)
	}
	// The method belongs to every package class: the package classes
	// whose content a task sequence references, and the task sequence
	// package.
	pkg := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Drivers", "PkgSourcePath": t.TempDir()}).body["PackageID"].(string)
	ts := s.must(201, "POST", "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": "Deploy"}).body["PackageID"].(string)
	targets := []string{"SMS_Package('" + pkg + "')", "SMS_TaskSequencePackage('" + ts + "')"}
	for _, class := range []string{"SMS_DriverPackage", "SMS_ImagePackage", "SMS_BootImagePackage", "SMS_OperatingSystemInstallPackage"} {
		id := s.createPackage(class, "Content of "+class, sourceTree(t, map[string]string{"f.txt": class}))["PackageID"].(string)
		targets = append(targets, class+"('"+id+"')")
	}
	for _, target := range targets {
		call := "/AdminService/wmi/" + target + "/AdminService.AddDistributionPoints"
		r := s.must(200, "POST", call, map[string]any{"SiteCode": []string{"PS1", "PS1"}, "NALPath": []string{dp1, dp2}})
		if fmt.Sprint(r.body["ReturnValue"]) != "0" {
			t.Fatalf("%s: %s", call, r.raw)
		}
		// Re-adding is a no-op.
		s.must(200, "POST", call, map[string]any{"SiteCode": []string{"PS1"}, "NALPath": []string{strings.ToUpper(dp2)}})
	}
	if n := s.count("SMS_DistributionPoint", ""); n != 2*len(targets) {
		t.Fatalf("%d SMS_DistributionPoint rows, want %d", n, 2*len(targets))
	}
	if n := s.count("SMS_PackageStatusDistPointsSummarizer", "PackageID eq '"+pkg+"' and State eq 1"); n != 2 {
		t.Fatalf("%d INSTALL_PENDING summaries of %s, want 2", n, pkg)
	}
	if n := s.count("SMS_DPStatusInfo", fmt.Sprintf("NumberInProgress eq %d", len(targets))); n != 2 {
		t.Fatalf("%d DPs with %d packages in progress, want 2", n, len(targets))
	}

	// Deleting the row removes the package from that DP.
	row := s.must(200, "GET", "/AdminService/wmi/SMS_DistributionPoint?$filter="+url.QueryEscape("PackageID eq '"+pkg+"' and ServerNALPath eq '"+strings.ReplaceAll(dp2, "'", "''")+"'"), nil).body["value"].([]any)
	if len(row) != 1 {
		t.Fatalf("rows of %s on DP2: %d", pkg, len(row))
	}
	s.must(204, "DELETE", "/AdminService/wmi/SMS_DistributionPoint(PackageID='"+pkg+"',ServerNALPath='"+url.PathEscape(dp2)+"',SiteCode='PS1')", nil)
	if n := s.count("SMS_PackageStatusDistPointsSummarizer", "PackageID eq '"+pkg+"' and State eq 4"); n != 1 {
		t.Fatalf("%d REMOVAL_PENDING summaries of %s, want 1", n, pkg)
	}
}

func TestAddDistributionPointsRefusals(t *testing.T) {
	s := newTestServer(t, 0)
	dp1 := s.registerDP("DP1.CONTOSO.COM")
	pkg := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Drivers"}).body["PackageID"].(string)
	call := "/AdminService/wmi/SMS_Package('" + pkg + "')/AdminService.AddDistributionPoints"
	unknown := `["Display=\\NOPE\"]MSWNET:["SMS_SITE=PS1"]\\NOPE\`
	tests := []struct {
		name  string
		body  map[string]any
		want  string
		param string
	}{
		{"unknown DP", map[string]any{"SiteCode": []string{"PS1"}, "NALPath": []string{unknown}}, "no distribution point", "NALPath"},
		{"site mismatch", map[string]any{"SiteCode": []string{"PS2"}, "NALPath": []string{dp1}}, "does not match the site PS1", "SiteCode"},
		{"bad NAL", map[string]any{"SiteCode": []string{"PS1"}, "NALPath": []string{`\\DP1\`}}, "does not parse", "NALPath"},
		{"one bad of two", map[string]any{"SiteCode": []string{"PS1", "PS1"}, "NALPath": []string{dp1, unknown}}, "refused 1 of 2", "NALPath"},
		{"lengths", map[string]any{"SiteCode": []string{"PS1", "PS1"}, "NALPath": []string{dp1}}, "parallel arrays", "NALPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.must(400, "POST", call, tt.body)
			e := r.body["error"].(map[string]any)
			if !strings.Contains(e["message"].(string), tt.want) {
				t.Fatalf("message %q, want %q", e["message"], tt.want)
			}
			inner := e["innererror"].(map[string]any)
			if fmt.Sprint(inner["ReturnValue"]) == "0" {
				t.Fatalf("ReturnValue 0 for a refusal: %s", r.raw)
			}
			st := inner["SMS_ExtendedStatus"].([]any)
			if len(st) == 0 || st[0].(map[string]any)["ParameterInfo"] != tt.param {
				t.Fatalf("SMS_ExtendedStatus %v, want ParameterInfo %s", st, tt.param)
			}
			for _, c := range []string{"SMS_DistributionPoint", "SMS_PackageStatusDistPointsSummarizer", "SMS_DistributionDPStatus"} {
				if n := s.count(c, ""); n != 0 {
					t.Fatalf("%d %s rows after a refused call", n, c)
				}
			}
		})
	}
	// The status classes are the server's: clients cannot write them.
	s.must(400, "POST", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer", map[string]any{"PackageID": pkg, "ServerNALPath": dp1, "SiteCode": "PS1", "State": 0})
	// A DP agent registering for another site is refused.
	s.must(400, "POST", "/tsprov/v1/dp/register", map[string]any{"host": "DP9", "site": "PS2", "url": "http://127.0.0.1:9"})
	s.must(400, "POST", "/tsprov/v1/dp/register", map[string]any{"host": "DP 9", "url": "http://127.0.0.1:9"})
	s.must(400, "POST", "/tsprov/v1/dp/register", map[string]any{"host": "DP9", "url": "ftp://127.0.0.1:9"})
}

func TestCreateDistributionPointRow(t *testing.T) {
	s := newTestServer(t, 0)
	dp1 := s.registerDP("DP1.CONTOSO.COM")
	pkg := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Drivers"}).body["PackageID"].(string)
	// The SDK's way: copy NALPath and SiteCode from SMS_SystemResourceList and Put.
	s.must(201, "POST", "/AdminService/wmi/SMS_DistributionPoint", map[string]any{"PackageID": pkg, "ServerNALPath": dp1, "SiteCode": "PS1"})
	if n := s.count("SMS_PackageStatusDistPointsSummarizer", "State eq 1"); n != 1 {
		t.Fatalf("%d pending summaries, want 1", n)
	}
	s.must(400, "POST", "/AdminService/wmi/SMS_DistributionPoint", map[string]any{"PackageID": "PS1FFFFF", "ServerNALPath": dp1, "SiteCode": "PS1"})
	s.must(400, "POST", "/AdminService/wmi/SMS_DistributionPoint", map[string]any{"PackageID": pkg, "ServerNALPath": `["Display=\\X\"]MSWNET:["SMS_SITE=PS1"]\\X\`, "SiteCode": "PS1"})
	// RefreshNow sends the package to that DP again and reads false.
	rowPath := "/AdminService/wmi/SMS_DistributionPoint(PackageID='" + pkg + "',ServerNALPath='" + url.PathEscape(dp1) + "',SiteCode='PS1')"
	before := s.must(200, "GET", rowPath, nil).body["value"].([]any)[0].(map[string]any)
	s.must(200, "PATCH", rowPath, map[string]any{"RefreshNow": true})
	got := s.must(200, "GET", rowPath, nil).body["value"].([]any)[0].(map[string]any)
	if got["RefreshNow"] != false || got["LastRefreshTime"] == before["LastRefreshTime"] {
		t.Fatalf("after RefreshNow: RefreshNow %v, LastRefreshTime %v (before %v)", got["RefreshNow"], got["LastRefreshTime"], before["LastRefreshTime"])
	}
	// Deleting the package removes it from its DPs.
	s.must(204, "DELETE", "/AdminService/wmi/SMS_Package('"+pkg+"')", nil)
	if n := s.count("SMS_DistributionPoint", ""); n != 0 {
		t.Fatalf("%d rows after the package was deleted", n)
	}
	if n := s.count("SMS_PackageStatusDistPointsSummarizer", "State eq 4"); n != 1 {
		t.Fatalf("%d REMOVAL_PENDING summaries, want 1", n)
	}
}
