package adminservice_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestKeyFormsAndCaseInsensitiveNames(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Forms"})
	for _, path := range []string{
		"/AdminService/wmi/SMS_TaskSequencePackage('" + id + "')",
		"/AdminService/wmi/SMS_TaskSequencePackage/" + id,
		"/AdminService/wmi/sms_tasksequencepackage('" + id + "')",
		"/adminservice/WMI/Sms_TaskSequencePackage/" + id,
		"/AdminService/wmi/SMS_TaskSequencePackage(PackageID='" + id + "')",
	} {
		r := s.do("GET", path, nil)
		if r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
			continue
		}
		if v := r.body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["PackageID"] != id {
			t.Errorf("%s: wrong instance", path)
		}
	}
}

func TestQueryOptionsAndPaging(t *testing.T) {
	s := newTestServer(t, 2) // page size 2
	names := []string{"delta", "Alpha", "charlie", "Bravo", "echo"}
	for _, n := range names {
		s.create(map[string]any{"Name": n})
	}
	// server-driven paging: follow nextLink
	var seen []string
	next := "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name"
	pages := 0
	for next != "" {
		r := s.must(200, "GET", next, nil)
		pages++
		for _, v := range r.body["value"].([]any) {
			seen = append(seen, v.(map[string]any)["Name"].(string))
		}
		next = ""
		if link, ok := r.body["@odata.nextLink"].(string); ok {
			next = strings.TrimPrefix(link, s.url)
		}
	}
	if got := strings.Join(seen, ","); got != "Alpha,Bravo,charlie,delta,echo" || pages != 3 {
		t.Errorf("paged order %s in %d pages (want case-insensitive order in 3 pages)", got, pages)
	}
	// $top, $skip, desc
	r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name%20desc&$skip=1&$top=2", nil)
	if got := names2(r); got != "delta,charlie" {
		t.Errorf("$orderby desc $skip $top: %s", got)
	}
	if _, more := r.body["@odata.nextLink"]; more {
		t.Error("nextLink past $top")
	}
	// $top larger than a page pages within $top
	r = s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Name&$top=3", nil)
	link, _ := r.body["@odata.nextLink"].(string)
	if names2(r) != "Alpha,Bravo" || !strings.Contains(link, "%24top=1") {
		t.Errorf("$top=3 first page %s, nextLink %s", names2(r), link)
	}
	// $count
	r = s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$count=true&$top=1", nil)
	if fmt.Sprint(r.body["@odata.count"]) != "5" {
		t.Errorf("@odata.count %v", r.body["@odata.count"])
	}
	if r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage/$count", nil); string(r.raw) != "5" {
		t.Errorf("/$count %q", r.raw)
	}
	// $select keeps the key and system properties
	r = s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Name&$top=1", nil)
	item := r.body["value"].([]any)[0].(map[string]any)
	if _, ok := item["Description"]; ok {
		t.Error("$select=Name still returned Description")
	}
	if item["PackageID"] == nil || item["__RELPATH"] == nil || item["Name"] == nil {
		t.Errorf("$select lost the key or system properties: %v", item)
	}
}

func names2(r response) string {
	var out []string
	for _, v := range r.body["value"].([]any) {
		out = append(out, v.(map[string]any)["Name"].(string))
	}
	return strings.Join(out, ",")
}

func TestClientErrorsUseTheEnvelope(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "x"})
	cases := []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"GET", "/AdminService/wmi/SMS_NoSuchClass", nil, 404, "SMS_NoSuchClass"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage('PS1FFFFF')", nil, 404, "PS1FFFFF"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage('PS1", nil, 400, "malformed key"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage('a'b')", nil, 400, "malformed key"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$filter=Colour%20eq%20'x'", nil, 400, "Colour"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Colour", nil, 400, "Colour"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$orderby=Sequence", nil, 400, "Sequence"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$top=-1", nil, 400, "$top"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$select=Colour", nil, 400, "Colour"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage?$bogus=1", nil, 400, "$bogus"},
		{"GET", "/AdminService/wmi/SMS_OS_Details", nil, 400, "embedded"},
		{"GET", "/AdminService/wmi/SMS_PackageBaseclass", nil, 400, "abstract"},
		{"DELETE", "/AdminService/wmi/SMS_TaskSequencePackage", nil, 405, "DELETE"},
		{"GET", "/nowhere", nil, 404, "/nowhere"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetTsPolicies", map[string]any{}, 400, "PackageID"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage('" + id + "')/AdminService.RefreshPkgSource", nil, 400, "inoperable"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage/" + id + "/AdminService.AddDistributionPoints", map[string]any{}, 400, "parallel arrays"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage.RefreshPkgSource", nil, 400, "instance method"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage('" + id + "')/AdminService.SetSequence", nil, 400, "static method"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage.NoSuchMethod", nil, 404, "NoSuchMethod"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"Nope": 1}, 400, "Nope"},
		{"POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": 5}, 400, "SequenceXML"},
		{"GET", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", nil, 405, "POST"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			expectError(t, s.do(tc.method, tc.path, tc.body), tc.status, tc.want)
		})
	}
}

func TestServiceDocumentAndMetadata(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(200, "GET", "/AdminService/wmi/", nil)
	found := false
	for _, v := range r.body["value"].([]any) {
		if v.(map[string]any)["name"] == "SMS_TaskSequencePackage" {
			found = true
		}
	}
	if !found {
		t.Error("service document lacks SMS_TaskSequencePackage")
	}
	md := s.must(200, "GET", "/AdminService/wmi/$metadata", nil)
	if !strings.Contains(md.header.Get("Content-Type"), "xml") || !strings.Contains(string(md.raw), `EntityType Name="SMS_TaskSequencePackage"`) {
		t.Errorf("$metadata: %s %.200s", md.header.Get("Content-Type"), md.raw)
	}
}
