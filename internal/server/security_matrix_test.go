package server

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
)

// route is one request of the authorization matrix; {id} in the path and
// body stands for the object the row is about, {lab} for a scope the
// caller lacks, {peer} for the AdminID of a Read-only Analyst of the
// caller's scope, {admin} for the first Full Administrator's (who holds
// the scope All), {spare} for the TokenID of a second token of the caller
// and {admintoken} for one of the first administrator's.
type route struct {
	name   string
	method string
	path   string
	body   string
	// in: the status for an object in the caller's scopes (or for a
	// route without an object), per role; out: for an object outside
	// them (0: the route has no object).
	in, out [3]int
}

// The built-in roles, in the order of route.in and route.out.
var matrixRoles = []struct{ name, id string }{
	{"Full Administrator", "SMS0001R"},
	{"Read-only Analyst", "SMS0006R"},
	{"Operating System Deployment Manager", "SMS0007R"},
}

const tsPath = "/AdminService/wmi/SMS_TaskSequencePackage"

var matrix = []route{
	{"list", "GET", tsPath, "", [3]int{200, 200, 200}, [3]int{}},
	{"count", "GET", tsPath + "/$count", "", [3]int{200, 200, 200}, [3]int{}},
	{"WQL", "GET", "/tsprov/v1/wql?q=SELECT+*+FROM+SMS_TaskSequencePackage", "", [3]int{200, 200, 200}, [3]int{}},
	{"get by key", "GET", tsPath + "('{id}')", "", [3]int{200, 200, 200}, [3]int{404, 404, 404}},
	{"get by key segment", "GET", tsPath + "/{id}", "", [3]int{200, 200, 200}, [3]int{404, 404, 404}},
	{"get by named key", "GET", tsPath + "(PackageID='{id}')", "", [3]int{200, 200, 200}, [3]int{404, 404, 404}},
	{"patch", "PATCH", tsPath + "('{id}')", `{"Description":"changed"}`, [3]int{200, 403, 200}, [3]int{404, 404, 404}},
	{"put", "PUT", tsPath + "('{id}')", `{"Name":"replaced"}`, [3]int{200, 403, 200}, [3]int{404, 404, 404}},
	{"instance method", "POST", tsPath + "('{id}')/AdminService.RefreshPkgSource", `{}`, [3]int{400, 403, 400}, [3]int{404, 404, 404}},
	{"GetSequence", "POST", tsPath + ".GetSequence", `{"TaskSequencePackage":{"@odata.type":"#AdminService.SMS_TaskSequencePackage","PackageID":"{id}"}}`, [3]int{200, 200, 200}, [3]int{404, 404, 404}},
	{"SetSequence", "POST", tsPath + ".SetSequence", `{"TaskSequencePackage":{"@odata.type":"#AdminService.SMS_TaskSequencePackage","PackageID":"{id}"},"TaskSequence":{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[]}}`, [3]int{200, 403, 200}, [3]int{404, 404, 404}},
	{"GetTsPolicies", "POST", tsPath + ".GetTsPolicies", `{"AdvertisementID":"PS1F0001","PackageID":"{id}"}`, [3]int{200, 403, 200}, [3]int{404, 404, 404}},
	{"GetTsPoliciesSaMedia", "POST", tsPath + ".GetTsPoliciesSaMedia", `{"AdvertisementID":"PS1F0001","PackageID":"{id}"}`, [3]int{200, 403, 200}, [3]int{404, 404, 404}},
	{"GetClientConfigPolicies", "POST", tsPath + ".GetClientConfigPolicies", `{}`, [3]int{200, 403, 200}, [3]int{}},
	{"create a collection", "POST", "/AdminService/wmi/SMS_Collection", `{"Name":"c-{id}"}`, [3]int{201, 403, 403}, [3]int{}},
	{"read the client settings", "GET", "/AdminService/wmi/TSP_ClientSettings('PS1')", "", [3]int{200, 200, 200}, [3]int{}},
	{"change the client settings", "PATCH", "/AdminService/wmi/TSP_ClientSettings('PS1')", `{"NetworkAccessUsername":"CONTOSO\\naa-{id}","NetworkAccessPassword":"p-{id}"}`, [3]int{200, 403, 403}, [3]int{}},
	{"ImportSequence", "POST", tsPath + ".ImportSequence", `{"SequenceXML":"<sequence version=\"3.00\"/>"}`, [3]int{200, 200, 200}, [3]int{}},
	{"create", "POST", tsPath, `{"Name":"new"}`, [3]int{201, 403, 201}, [3]int{}},
	{"create by SetSequence", "POST", tsPath + ".SetSequence", `{"TaskSequencePackage":{"@odata.type":"#AdminService.SMS_TaskSequencePackage","Name":"new"},"TaskSequence":{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[]}}`, [3]int{200, 403, 200}, [3]int{}},
	{"add to a scope", "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", `{"CategoryID":"{lab}","ObjectKey":"{id}","ObjectTypeID":20}`, [3]int{403, 403, 403}, [3]int{404, 404, 404}},
	{"reverse references", "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference", "", [3]int{200, 200, 200}, [3]int{}},
	{"list users", "GET", "/AdminService/wmi/SMS_Admin", "", [3]int{200, 200, 403}, [3]int{}},
	{"create user", "POST", "/AdminService/wmi/SMS_Admin", `{"LogonName":"new-{id}","Roles":["SMS0006R"],"Categories":["SMS00UNA"]}`, [3]int{201, 403, 403}, [3]int{}},
	{"list roles", "GET", "/AdminService/wmi/SMS_Role", "", [3]int{200, 200, 403}, [3]int{}},
	{"change a built-in role", "PATCH", "/AdminService/wmi/SMS_Role('SMS0006R')", `{"RoleDescription":"x"}`, [3]int{400, 403, 403}, [3]int{}},
	{"list scopes", "GET", "/AdminService/wmi/SMS_SecuredCategory", "", [3]int{200, 200, 200}, [3]int{}},
	{"create scope", "POST", "/AdminService/wmi/SMS_SecuredCategory", `{"CategoryName":"S-{id}"}`, [3]int{201, 403, 403}, [3]int{}},
	{"audit trail", "GET", "/tsprov/v1/audit", "", [3]int{200, 200, 403}, [3]int{}},
	{"own tokens", "GET", "/tsprov/v1/tokens", "", [3]int{200, 200, 200}, [3]int{}},
	{"everyone's tokens", "GET", "/tsprov/v1/tokens?all=true", "", [3]int{200, 200, 403}, [3]int{}},
	{"a peer's tokens", "GET", "/tsprov/v1/tokens?AdminID={peer}", "", [3]int{200, 200, 403}, [3]int{}},
	{"the first administrator's tokens", "GET", "/tsprov/v1/tokens?AdminID={admin}", "", [3]int{403, 403, 403}, [3]int{}},
	{"a token for oneself", "POST", "/tsprov/v1/tokens", `{"Description":"own"}`, [3]int{201, 201, 201}, [3]int{}},
	{"a token for a peer", "POST", "/tsprov/v1/tokens", `{"AdminID":{peer}}`, [3]int{201, 403, 403}, [3]int{}},
	{"a token for the first administrator", "POST", "/tsprov/v1/tokens", `{"AdminID":{admin}}`, [3]int{403, 403, 403}, [3]int{}},
	{"revoke one's own token", "DELETE", "/tsprov/v1/tokens/{spare}", "", [3]int{204, 204, 204}, [3]int{}},
	{"revoke the first administrator's token", "DELETE", "/tsprov/v1/tokens/{admintoken}", "", [3]int{404, 404, 404}, [3]int{}},
	{"own password", "PUT", "/tsprov/v1/admins/me/password", `{"Password":"correct horse battery"}`, [3]int{204, 204, 204}, [3]int{}},
	{"a peer's password", "PUT", "/tsprov/v1/admins/{peer}/password", `{"Password":"correct horse battery"}`, [3]int{204, 403, 403}, [3]int{}},
	{"the first administrator's password", "PUT", "/tsprov/v1/admins/{admin}/password", `{"Password":"correct horse battery"}`, [3]int{403, 403, 403}, [3]int{}},
	{"change feed", "GET", "/tsprov/v1/events", "", [3]int{200, 200, 200}, [3]int{}},
	{"WQL by POST", "POST", "/tsprov/v1/wql", `{"query":"SELECT * FROM SMS_TaskSequencePackage"}`, [3]int{200, 200, 200}, [3]int{}},
	{"service document", "GET", "/AdminService/wmi/", "", [3]int{200, 200, 200}, [3]int{}},
	{"$metadata", "GET", "/AdminService/wmi/$metadata", "", [3]int{200, 200, 200}, [3]int{}},
	{"metrics", "GET", "/metrics", "", [3]int{200, 200, 200}, [3]int{}},
	{"delete", "DELETE", tsPath + "('{id}')", "", [3]int{204, 403, 204}, [3]int{404, 404, 404}},
}

// TestAuthorizationMatrix: each built-in role × each route and method ×
// an object in and out of the caller's scopes gets the expected status;
// an object out of scope is absent everywhere (lists, counts, WQL, keys,
// methods), with the very answer of an object that does not exist.
func TestAuthorizationMatrix(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)

	// newPair makes a package in Default and one moved to Lab.
	newPair := func() (in, out string) {
		in = s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "in scope"}).body["PackageID"].(string)
		out = s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "out of scope"}).body["PackageID"].(string)
		s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": lab, "ObjectKey": out, "ObjectTypeID": 20})
		s.must(204, s.admin, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='SMS00UNA',ObjectKey='%s',ObjectTypeID=20)", out), nil)
		return in, out
	}
	// the site's client settings, with a network access account, which
	// only a Full Administrator may change
	s.must(201, s.admin, "POST", "/AdminService/wmi/TSP_ClientSettings", map[string]any{"SiteCode": "PS1", "NetworkAccessUsername": `CONTOSO\naa`, "NetworkAccessPassword": "first"})
	firstAdmin := s.must(200, s.admin, "GET", "/tsprov/v1/tokens", nil).body["value"].([]any)[0].(map[string]any)
	adminID := fmt.Sprintf("%.0f", firstAdmin["AdminID"])
	adminToken := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"Description": "kept"}).body["TokenID"].(string)
	peerID := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "peer", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00UNA"}}).body["AdminID"]
	peer := fmt.Sprintf("%.0f", peerID)
	peerToken := s.must(201, s.admin, "POST", "/tsprov/v1/tokens", map[string]any{"AdminID": peerID, "Description": "the peer's"}).body["TokenID"].(string)
	for ri, role := range matrixRoles {
		token := s.addUser(fmt.Sprintf("user%d", ri), []string{role.id}, []string{"SMS00UNA"})
		spare := s.must(201, token, "POST", "/tsprov/v1/tokens", map[string]any{"Description": "spare"}).body["TokenID"].(string)
		in, out := newPair()
		t.Run(role.name, func(t *testing.T) {
			for _, rt := range matrix {
				for _, side := range []struct {
					name string
					id   string
					want int
				}{{"in scope", in, rt.in[ri]}, {"out of scope", out, rt.out[ri]}} {
					if side.want == 0 {
						continue
					}
					expand := func(x string) string {
						return strings.NewReplacer("{id}", side.id, "{lab}", lab, "{peer}", peer, "{admin}", adminID, "{spare}", spare, "{admintoken}", adminToken).Replace(x)
					}
					var body any
					if rt.body != "" {
						body = expand(rt.body)
					}
					a := s.do(token, rt.method, expand(rt.path), body)
					if a.status != side.want {
						t.Errorf("%s %s (%s): %d, want %d\n%.300s", rt.method, rt.name, side.name, a.status, side.want, a.raw)
						continue
					}
					if a.status >= 400 && a.status < 500 {
						envelope(t, rt.name, a)
					}
					if side.want == 404 && rt.method == "GET" {
						// exactly the answer for a key that does not exist
						missing := s.do(token, "GET", strings.ReplaceAll(rt.path, "{id}", "PS1FFFFF"), nil)
						if strings.ReplaceAll(string(a.raw), out, "PS1FFFFF") != string(missing.raw) {
							t.Errorf("%s: out of scope answers\n%s\nbut a missing key\n%s", rt.name, a.raw, missing.raw)
						}
					}
				}
			}
			// everyone's tokens are those the caller may list: never the
			// first administrator's, who holds the scope All; the peer's
			// for whoever may read users
			if all := s.do(token, "GET", "/tsprov/v1/tokens?all=true", nil); all.status == 200 {
				owners, ids := map[string]bool{}, map[string]bool{}
				for _, v := range all.body["value"].([]any) {
					tok := v.(map[string]any)
					owners[fmt.Sprintf("%.0f", tok["AdminID"])] = true
					ids[fmt.Sprint(tok["TokenID"])] = true
				}
				if owners[adminID] || ids[adminToken] || !ids[peerToken] {
					t.Errorf("?all=true shows the tokens of %v; want the peer %s's and never the first administrator %s's", owners, peer, adminID)
				}
			}
			// what lists, counts and WQL show
			list := s.must(200, token, "GET", tsPath+"?$count=true", nil)
			ids := map[string]bool{}
			for _, v := range list.body["value"].([]any) {
				ids[v.(map[string]any)["PackageID"].(string)] = true
			}
			if ids[out] {
				t.Errorf("the list shows %s, which is out of scope", out)
			}
			if fmt.Sprint(list.body["@odata.count"]) != fmt.Sprint(len(ids)) {
				t.Errorf("@odata.count %v for %d visible", list.body["@odata.count"], len(ids))
			}
			wql := s.must(200, token, "GET", "/tsprov/v1/wql?q="+urlQuery("SELECT * FROM SMS_TaskSequencePackage WHERE PackageID = '"+out+"'"), nil)
			if n := len(wql.body["value"].([]any)); n != 0 {
				t.Errorf("WQL finds the out-of-scope %s", out)
			}
			count := s.must(200, token, "GET", tsPath+"/$count?$filter="+urlQuery("PackageID eq '"+out+"'"), nil)
			if string(count.raw) != "0" {
				t.Errorf("$count of the out-of-scope package: %s", count.raw)
			}
		})
	}
	// the administrator with every scope sees the out-of-scope packages,
	// which show their scope
	all := s.must(200, s.admin, "GET", tsPath+"?$filter="+urlQuery("Name eq 'out of scope'"), nil)
	vals := all.body["value"].([]any)
	if len(vals) == 0 {
		t.Fatal("the Full Administrator with every scope does not see the out-of-scope packages")
	}
	for _, v := range vals {
		if names := fmt.Sprint(v.(map[string]any)["SecuredScopeNames"]); names != "[Lab]" {
			t.Errorf("SecuredScopeNames of a package moved to Lab: %s", names)
		}
	}
	// the denials are in the audit trail
	denied := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$count=true&$filter="+urlQuery("Action eq 'Denied' and User eq 'user1'"), nil)
	if n := fmt.Sprint(denied.body["@odata.count"]); n == "0" {
		t.Errorf("no permission denial of the Read-only Analyst in the audit trail")
	}
}

// A new package lands in its creator's scopes, and SecuredScopeNames
// shows them; users of another scope do not see it.
func TestNewPackagesLandInTheCreatorsScopes(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	alice := s.addUser("alice", []string{"SMS0007R"}, []string{lab})
	bob := s.addUser("bob", []string{"SMS0007R"}, []string{"SMS00UNA"})
	id := s.must(201, alice, "POST", tsPath, map[string]any{"Name": "Alice's"}).body["PackageID"].(string)
	got := s.must(200, alice, "GET", tsPath+"('"+id+"')", nil).body["value"].([]any)[0].(map[string]any)
	if fmt.Sprint(got["SecuredScopeNames"]) != "[Lab]" {
		t.Errorf("SecuredScopeNames of a package Alice (scope Lab) made: %v", got["SecuredScopeNames"])
	}
	s.must(404, bob, "GET", tsPath+"('"+id+"')", nil)
	byAdmin := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "Admin's"}).body["PackageID"].(string)
	got = s.must(200, bob, "GET", tsPath+"('"+byAdmin+"')", nil).body["value"].([]any)[0].(map[string]any)
	if fmt.Sprint(got["SecuredScopeNames"]) != "[Default]" {
		t.Errorf("a package made by the administrator of every scope: %v, want [Default]", got["SecuredScopeNames"])
	}
	// the administrator adds hers to Default too: Bob sees it; she cannot
	// use a scope she lacks, nor remove the last scope
	envelope(t, "Alice adds to a scope she lacks", s.do(alice, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": "SMS00UNA", "ObjectKey": id, "ObjectTypeID": 20}))
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": "SMS00UNA", "ObjectKey": id, "ObjectTypeID": 20})
	envelope(t, "Alice adds to a scope she lacks", s.do(alice, "POST", "/AdminService/wmi/SMS_SecuredCategoryMembership", map[string]any{"CategoryID": "SMS00ALL", "ObjectKey": id, "ObjectTypeID": 20}))
	s.must(200, bob, "GET", tsPath+"('"+id+"')", nil)
	s.must(204, bob, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='%s',ObjectKey='%s',ObjectTypeID=20)", "SMS00UNA", id), nil)
	s.must(404, bob, "GET", tsPath+"('"+id+"')", nil)
	envelope(t, "remove the last scope", s.do(alice, "DELETE", fmt.Sprintf("/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='%s',ObjectKey='%s',ObjectTypeID=20)", lab, id), nil))

	// the scope counts what it holds; one that holds objects or users stays
	scope := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_SecuredCategory('"+lab+"')", nil).body["value"].([]any)[0].(map[string]any)
	if fmt.Sprint(scope["NumberOfObjects"], scope["NumberOfAdmins"]) != "1 1" {
		t.Errorf("Lab: NumberOfObjects %v, NumberOfAdmins %v; want 1 and 1", scope["NumberOfObjects"], scope["NumberOfAdmins"])
	}
	if a := s.do(s.admin, "DELETE", "/AdminService/wmi/SMS_SecuredCategory('"+lab+"')", nil); a.status != 409 {
		t.Errorf("delete a scope holding a package: %d", a.status)
	}
	s.must(204, s.admin, "DELETE", tsPath+"('"+id+"')", nil)
	if a := s.do(s.admin, "DELETE", "/AdminService/wmi/SMS_SecuredCategory('"+lab+"')", nil); a.status != 409 {
		t.Errorf("delete a scope assigned to Alice: %d", a.status)
	}
	envelope(t, "a user without scopes", s.do(s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "nobody", "Roles": []string{"SMS0006R"}}))
}

// The change feed shows a caller only the changes of the classes its
// roles let it read, even when its scope is All: an Operating System
// Deployment Manager with every scope sees the packages change, not the
// administrative users it may not list.
func TestEventsFollowTheRolesOfACallerWithScopeAll(t *testing.T) {
	s := startSecureServer(t, nil)
	osd := s.addUser("oscar", []string{"SMS0007R"}, []string{"SMS00ALL"})
	s.must(403, osd, "GET", "/AdminService/wmi/SMS_Admin", nil)
	id := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "seen"}).body["PackageID"].(string)
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_Admin", map[string]any{"LogonName": "unseen", "Roles": []string{"SMS0006R"}, "Categories": []string{"SMS00UNA"}})
	sawPackage := false
	for _, v := range s.must(200, osd, "GET", "/tsprov/v1/events", nil).body["value"].([]any) {
		ev := v.(map[string]any)
		switch ev["Class"] {
		case "SMS_Admin", "SMS_Role":
			t.Errorf("a caller who may not read %s sees its change %v", ev["Class"], ev)
		case "SMS_TaskSequencePackage":
			sawPackage = sawPackage || ev["Key"] == id
		}
	}
	if !sawPackage {
		t.Errorf("the caller with scope All does not see the new package %s in the feed", id)
	}
}

// Anonymous requests get 401 on every route but /healthz.
func TestAnonymousRequestsGet401(t *testing.T) {
	s := startSecureServer(t, nil)
	id := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "x"}).body["PackageID"].(string)
	for _, rt := range matrix {
		path := strings.NewReplacer("{id}", id, "{lab}", "SMS00UNA", "{peer}", "16777217", "{admin}", "16777217", "{spare}", "000000000000", "{admintoken}", "000000000000").Replace(rt.path)
		a := s.do("", rt.method, path, nil)
		if a.status != 401 {
			t.Errorf("anonymous %s %s: %d, want 401", rt.method, path, a.status)
			continue
		}
		envelope(t, "anonymous "+rt.name, a)
		if !strings.Contains(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("anonymous %s: WWW-Authenticate %q", rt.name, a.header.Get("WWW-Authenticate"))
		}
	}
	for _, path := range []string{"/nothing", "/AdminService", "/tsprov/v1/audit", "/tsprov/v1/tokens"} {
		if a := s.do("", "GET", path, nil); a.status != 401 {
			t.Errorf("anonymous GET %s: %d, want 401", path, a.status)
		}
	}
	// the console's page is open (it is the sign-in screen) but holds no data
	if a := s.do("", "GET", "/", nil); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || strings.Contains(string(a.raw), id) {
		t.Errorf("anonymous GET /: %d %s, want the console's page without data", a.status, a.header.Get("Content-Type"))
	}
	// only GET (and HEAD) /healthz is open: other methods on it are
	// ordinary requests
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		if a := s.do("", method, "/healthz", nil); a.status != 401 {
			t.Errorf("anonymous %s /healthz: %d, want 401\n%.300s", method, a.status, a.raw)
		}
	}
	if a := s.do("", "GET", "/healthz", nil); a.status != 200 {
		t.Errorf("/healthz without credentials: %d", a.status)
	}
	if a := s.do("", "HEAD", "/healthz", nil); a.status != 200 {
		t.Errorf("HEAD /healthz without credentials: %d", a.status)
	}
}

// A subscriber receives nothing about an object outside its scopes: Bob
// (scope Default) streams every package event while Alice (scope Lab)
// creates and changes hers; the first event Bob gets is the
// administrator's later package in Default, Alice gets her own.
func TestSubscribersSeeOnlyTheirScopes(t *testing.T) {
	s := startSecureServer(t, nil)
	lab := s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	alice := s.addUser("alice", []string{"SMS0007R"}, []string{lab})
	bob := s.addUser("bob", []string{"SMS0007R"}, []string{"SMS00UNA"})
	subscribe := func(token string) <-chan apitest.Event {
		q := url.QueryEscape("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage'")
		return apitest.Stream(t, t.Context(), s.http, s.url+"/tsprov/v1/subscribe?query="+q, "Authorization", "Bearer "+token)
	}
	bobs, alices := subscribe(bob), subscribe(alice)
	hers := s.must(201, alice, "POST", tsPath, map[string]any{"Name": "Lab only"}).body["PackageID"].(string)
	s.must(200, alice, "PATCH", tsPath+"('"+hers+"')", map[string]any{"Description": "changed"})
	public := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "Default"}).body["PackageID"].(string)
	ev := apitest.Next(t, bobs, 20*time.Second)
	if target, _ := ev.Data["TargetInstance"].(map[string]any); target["PackageID"] != public {
		t.Errorf("Bob's first event is about %v, want only %s (Alice's %s is outside his scopes)", target["PackageID"], public, hers)
	}
	ev = apitest.Next(t, alices, 20*time.Second)
	if target, _ := ev.Data["TargetInstance"].(map[string]any); target["PackageID"] != hers || ev.Event != "__InstanceCreationEvent" {
		t.Errorf("Alice's first event: %s about %v, want the creation of %s", ev.Event, target["PackageID"], hers)
	}
}
