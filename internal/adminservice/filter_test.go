package adminservice_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// filterFixture creates packages whose names the cases below expect.
func filterFixture(t *testing.T) *testServer {
	s := newTestServer(t, 0)
	for _, p := range []map[string]any{
		{"Name": "Win11 Bare Metal", "Description": "x64, UEFI", "Duration": 90, "Language": "en-US", "Priority": 2},
		{"Name": "win11 upgrade", "Description": "In-place", "Duration": 60, "Language": "de-DE", "TsEnabled": false, "Priority": nil},
		{"Name": "Server 2022", "Description": "it's a server", "Duration": 120, "Priority": 1},
		{"Name": "Gather 100% done", "Duration": 5, "Priority": nil},
		{"Name": "under_score", "Description": "O'Brien's", "Duration": 0, "Priority": 3},
	} {
		s.create(p)
	}
	return s
}

func TestODataFilter(t *testing.T) {
	s := filterFixture(t)
	cases := []struct {
		filter string
		want   string // names, sorted, joined by |
	}{
		{"Name eq 'Server 2022'", "Server 2022"},
		{"Name eq 'server 2022'", "Server 2022"}, // case-insensitive, as the provider's collation
		{"Name ne 'Server 2022'", "Gather 100% done|Win11 Bare Metal|under_score|win11 upgrade"},
		{"Duration gt 60", "Server 2022|Win11 Bare Metal"},
		{"Duration ge 60", "Server 2022|Win11 Bare Metal|win11 upgrade"},
		{"Duration lt 5", "under_score"},
		{"Duration le 5", "Gather 100% done|under_score"},
		{"Duration eq 60.0", "win11 upgrade"},
		{"startswith(Name,'win11')", "Win11 Bare Metal|win11 upgrade"},
		{"startswith(Name,'All') eq true", ""},
		{"startswith(Name,'win') eq false", "Gather 100% done|Server 2022|under_score"},
		{"endswith(Name,'METAL')", "Win11 Bare Metal"},
		{"contains(Name,'100%')", "Gather 100% done"},
		{"contains(Name,'_')", "under_score"},
		{"contains(Description,'''')", "Server 2022|under_score"},
		{"Description eq null", "Gather 100% done"},
		{"Description ne null", "Server 2022|Win11 Bare Metal|under_score|win11 upgrade"},
		{"Priority eq null", "Gather 100% done|win11 upgrade"},
		{"TsEnabled eq false", "win11 upgrade"},
		{"TsEnabled", "Gather 100% done|Server 2022|Win11 Bare Metal|under_score"},
		{"not TsEnabled", "win11 upgrade"},
		{"Duration gt 50 and Language eq 'en-US'", "Win11 Bare Metal"},
		{"Duration gt 100 or Duration lt 6", "Gather 100% done|Server 2022|under_score"},
		{"not (Duration gt 50)", "Gather 100% done|under_score"},
		{"(Duration eq 5 or Duration eq 0) and contains(Name,'score')", "under_score"},
		{"Priority in (1, 3)", "Server 2022|under_score"},
		{"Name in ('server 2022', 'Nope')", "Server 2022"},
		{"tolower(Name) eq 'server 2022'", "Server 2022"},
		{"toupper(Language) eq 'DE-DE'", "win11 upgrade"},
		{"length(Name) eq 11", "Server 2022|under_score"},
		{"indexof(Name,'11') eq 3", "Win11 Bare Metal|win11 upgrade"},
		{"substring(Name,0,6) eq 'Server'", "Server 2022"},
		{"substring(Name,6) eq ' 2022'", "Server 2022"},
		{"SourceDate gt 2000-01-01T00:00:00Z", "Gather 100% done|Server 2022|Win11 Bare Metal|under_score|win11 upgrade"},
		{"SourceDate lt 2000-01-01T00:00:00Z", ""},
		{"Name eq 'x'' or 1 eq 1 --'", ""}, // injection stays a value
		{"Name eq 'a; DROP TABLE t'", ""},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$filter="+url.QueryEscape(tc.filter)+"&$count=true", nil)
			var names []string
			for _, v := range r.body["value"].([]any) {
				names = append(names, v.(map[string]any)["Name"].(string))
			}
			sort.Strings(names)
			if got := strings.Join(names, "|"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if n := num(r.body["@odata.count"]); int(n) != len(names) {
				t.Errorf("@odata.count %d for %d instances", n, len(names))
			}
		})
	}
	if r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage/$count?$filter="+url.QueryEscape("Duration ge 60"), nil); string(r.raw) != "3" {
		t.Errorf("/$count with $filter: %s", r.raw)
	}
	if n := len(s.list("")); n != 5 {
		t.Errorf("the injection attempts changed the store: %d packages", n)
	}
}

func TestODataFilterErrorsGivePositions(t *testing.T) {
	s := filterFixture(t)
	cases := []struct {
		filter string
		status int
		want   string
	}{
		{"Colour eq 'red'", 400, "position 1: class SMS_TaskSequencePackage has no property Colour"},
		{"Name eq", 400, "position 8: expression ends too soon"},
		{"Name eq 'x", 400, "position 9: unterminated string"},
		{"Duration eq 'long'", 400, "cannot compare an integer with a string"},
		{"Name gt null", 400, "null can only be compared with eq or ne"},
		{"Name", 400, "not a condition"},
		{"frob(Name)", 400, "unknown function frob"},
		{"contains(Name)", 400, "contains takes 2 arguments"},
		{"Name eq 'a' and", 400, "expression ends too soon"},
		{"(Name eq 'a'", 400, "expected )"},
		{"Name eq 'a')", 400, "unexpected"},
		{"Name eq 'a' ; DROP TABLE x", 400, "unexpected character"},
		{"References eq null", 400, "only scalar properties"},
		{"References eq 'x'", 400, "only scalar properties"},
		{"SourceDate gt 'yesterday'", 400, "not a date-time"},
		{"Name in (Name)", 400, "constants only"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			expectError(t, s.do("GET", "/AdminService/wmi/SMS_TaskSequencePackage?$filter="+url.QueryEscape(tc.filter), nil), tc.status, tc.want)
		})
	}
}

func TestFilterOnLazyPropertiesIsEvaluated(t *testing.T) {
	s := newTestServer(t, 2) // page size 2: the evaluated filter pages too
	for i, cat := range []string{"OSD", "Apps", "osd", "OSD", ""} {
		s.create(map[string]any{"Name": fmt.Sprint("pkg ", i), "Category": cat, "Duration": i * 10})
	}
	r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackage?$count=true&$orderby=Name&$filter="+url.QueryEscape("Category eq 'osd' and Duration ge 10"), nil)
	if got := names2(r); got != "pkg 2,pkg 3" || num(r.body["@odata.count"]) != 2 {
		t.Errorf("lazy Category and Duration: %s (count %v)", got, r.body["@odata.count"])
	}
	if r.body["value"].([]any)[0].(map[string]any)["Category"] != nil {
		t.Error("a lazy property shows a value in a query result")
	}
	r = s.must(200, "GET", "/tsprov/v1/wql?q="+url.QueryEscape("SELECT * FROM SMS_TaskSequencePackage WHERE Category LIKE 'o%' OR Duration = 10"), nil)
	if n := len(r.body["value"].([]any)); n != 2 {
		t.Errorf("WQL page of an evaluated filter: %d instances (page size 2)", n)
	}
	if _, more := r.body["@odata.nextLink"]; !more {
		t.Error("no nextLink: 4 instances match")
	}
}

func TestWhichTaskSequencesUseAPackage(t *testing.T) {
	s := newTestServer(t, 0)
	pkg := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Scripts"}).body["PackageID"].(string)
	uses := s.setSequence(pkgBody(map[string]any{"Name": "Uses it"}), jsonOnlySequence(pkg))
	s.setSequence(pkgBody(map[string]any{"Name": "Does not"}), jsonOnlySequence("PS1FFFFE"))
	r := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference?$filter="+url.QueryEscape("ObjectID eq '"+pkg+"'"), nil)
	rows := r.body["value"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["PackageID"] != uses {
		t.Errorf("task sequences using %s: %s", pkg, r.raw)
	}
}

func TestWQLEndpoint(t *testing.T) {
	s := filterFixture(t)
	cases := []struct {
		wql  string
		want string
	}{
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Name LIKE 'win%'", "Win11 Bare Metal|win11 upgrade"},
		{"select Name from sms_tasksequencepackage where Duration >= 60 and not Name like '%metal'", "Server 2022|win11 upgrade"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Description IS NULL", "Gather 100% done"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Name LIKE '%[%]%'", "Gather 100% done"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Name LIKE '[sw]%'", "Server 2022|Win11 Bare Metal|win11 upgrade"},
		{`SELECT * FROM SMS_TaskSequencePackage WHERE Description = "O'Brien's"`, "under_score"},
		{`SELECT * FROM SMS_TaskSequencePackage WHERE Name = 'x\' OR 1=1 --'`, ""},
		{`SELECT * FROM SMS_TaskSequencePackage WHERE Name = "a; DROP TABLE t"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.wql, func(t *testing.T) {
			r := s.must(200, "GET", "/tsprov/v1/wql?q="+url.QueryEscape(tc.wql), nil)
			if !strings.HasSuffix(r.body["@odata.context"].(string), "$metadata#SMS_TaskSequencePackage") {
				t.Errorf("context %v", r.body["@odata.context"])
			}
			var names []string
			for _, v := range r.body["value"].([]any) {
				names = append(names, v.(map[string]any)["Name"].(string))
			}
			sort.Strings(names)
			if got := strings.Join(names, "|"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// a SELECT list keeps those properties, the key and the system properties
	r := s.must(200, "POST", "/tsprov/v1/wql", map[string]any{"query": "SELECT Name FROM SMS_TaskSequencePackage WHERE Duration = 5"})
	item := r.body["value"].([]any)[0].(map[string]any)
	if item["Name"] != "Gather 100% done" || item["PackageID"] == nil || item["__RELPATH"] == nil {
		t.Errorf("SELECT Name: %v", item)
	}
	if _, ok := item["Description"]; ok {
		t.Error("SELECT Name returned Description")
	}
	for _, bad := range []struct {
		wql    string
		status int
		want   string
	}{
		{"SELECT * FROM SMS_Nope", 400, "SMS_Nope"},
		{"SELECT Colour FROM SMS_TaskSequencePackage", 400, "Colour"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE", 400, "position"},
		{"ASSOCIATORS OF {SMS_TaskSequencePackage.PackageID='PS100001'}", 501, "ASSOCIATORS"},
		{"SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage'", 501, "not supported"},
		{"", 400, "no WQL query"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Name = 'x'' OR 1=1 --'", 400, "WQL"},
		{"SELECT * FROM SMS_TaskSequencePackage WHERE Duration = 'long'", 400, "WQL: at position"},
	} {
		expectError(t, s.do("GET", "/tsprov/v1/wql?q="+url.QueryEscape(bad.wql), nil), bad.status, bad.want)
	}
}
