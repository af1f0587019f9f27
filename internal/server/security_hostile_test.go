package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// hostile is one hostile request and the status it must get.
type hostile struct {
	name    string
	method  string
	path    string
	body    any
	headers []string
	token   string // "" the administrator; "-" none
	raw     string // a raw HTTP/1.1 exchange sent over TCP instead
	want    int
	mention string // the error message must mention this
	absent  string // the answer (headers and body) must not hold this
}

// hostilePassword is the first administrator's password in TestHostileInput.
const hostilePassword = "a password for Basic sign-in"

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func hostileCases(s *secureServer, pkg, withSeq string) []hostile {
	host := strings.TrimPrefix(s.url, "http://")
	billion := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><sequence version="3.00"><step name="&lol3;"/></sequence>`
	xxe := `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sequence version="3.00"><group name="&xxe;"/></sequence>`
	deepXML := `<sequence version="3.00">` + nested(`<group name="g">`, `</group>`, 10000) + `</sequence>`
	manyXML := `<sequence version=\"3.00\"><group name=\"g\">` + strings.Repeat(`<a/>`, 510000) + `</group></sequence>` // JSON-escaped
	big := bytes.Repeat([]byte(" "), 50<<20)
	bigJSON := append([]byte(`{"Name":"`), append(bytes.Repeat([]byte("x"), 50<<20), []byte(`"}`)...)...)
	deepGroups := `{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[` + nested(`{"@odata.type":"#AdminService.SMS_TaskSequence_Group","Name":"g","Steps":[`, `]}`, 10000) + `]}`
	var huge strings.Builder
	huge.WriteString(`{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[{"@odata.type":"#AdminService.SMS_TaskSequence_Group","Name":"g","Steps":[`)
	for i := 0; i < 9000; i++ {
		if i > 0 {
			huge.WriteString(",")
		}
		fmt.Fprintf(&huge, `{"@odata.type":"#AdminService.SMS_TaskSequence_RunCommandLineAction","Name":"step %d","CommandLine":"cmd /c echo %s"}`, i, strings.Repeat("y", 200))
	}
	huge.WriteString(`]}]}`)
	setSeq := func(ts string) string {
		return `{"TaskSequencePackage":{"@odata.type":"#AdminService.SMS_TaskSequencePackage","PackageID":"` + withSeq + `"},"TaskSequence":` + ts + `}`
	}
	ts := "/AdminService/wmi/SMS_TaskSequencePackage"
	key := ts + "('" + pkg + "')"
	return []hostile{
		{name: "billion laughs", method: "POST", path: ts + ".ImportSequence", body: map[string]any{"SequenceXML": billion}, want: 400, mention: "DTD"},
		{name: "external entity to a local file", method: "POST", path: ts + ".ImportSequence", body: map[string]any{"SequenceXML": xxe}, want: 400, mention: "DTD"},
		{name: "external entity through LoadFromXml", method: "POST", path: "/AdminService/wmi/SMS_TaskSequence.LoadFromXml", body: map[string]any{"Xml": xxe}, want: 400, mention: "DTD"},
		{name: "external entity through ExportXml", method: "POST", path: "/AdminService/wmi/SMS_TaskSequence.ExportXml", body: map[string]any{"Xml": xxe}, want: 400, mention: "DTD"},
		{name: "10,000 nested groups as XML", method: "POST", path: ts + ".ImportSequence", body: map[string]any{"SequenceXML": deepXML}, want: 413, mention: "nests deeper"},
		{name: "510,000 elements", method: "POST", path: ts + ".ImportSequence", body: `{"SequenceXML":"` + manyXML + `"}`, want: 413, mention: "elements"},
		{name: "10,000 nested groups as JSON", method: "POST", path: ts + ".SetSequence", body: setSeq(deepGroups), want: 400, mention: "nests deeper"},
		{name: "a task sequence above 2 MB", method: "POST", path: ts + ".SetSequence", body: setSeq(huge.String()), want: 413, mention: "2 MB"},
		{name: "50 MB body", method: "POST", path: ts, body: bigJSON, want: 413, mention: "2 MB"},
		{name: "50 MB WQL body", method: "POST", path: "/tsprov/v1/wql", body: big, want: 413},
		{name: "10,000 nested JSON arrays", method: "POST", path: ts, body: nested("[", "]", 10000), want: 400, mention: "nests deeper"},
		{name: "invalid UTF-8 in a JSON body", method: "POST", path: ts, body: []byte("{\"Name\":\"\xff\xfe\"}"), want: 400, mention: "UTF-8"},
		{name: "invalid UTF-8 in a key", method: "GET", path: ts + "('%FF%FE')", want: 404},
		{name: "a number for a string", method: "POST", path: ts, body: map[string]any{"Name": 123}, want: 400, mention: "Name"},
		{name: "a string for a number", method: "PATCH", path: key, body: map[string]any{"Duration": "soon"}, want: 400, mention: "Duration"},
		{name: "an array for an object", method: "POST", path: ts, body: "[1,2]", want: 400},
		{name: "a string for an object", method: "POST", path: ts, body: `"x"`, want: 400},
		{name: "truncated JSON", method: "POST", path: ts, body: `{"Name":"x"`, want: 400},
		{name: "two JSON values", method: "POST", path: ts, body: `{"Name":"x"}{"Name":"y"}`, want: 400},
		{name: "a string for the task sequence", method: "POST", path: ts + ".SetSequence", body: setSeq(`"<sequence/>"`), want: 400},
		// what a strict JSON reader refuses and encoding/json takes silently
		{name: "a member named twice", method: "POST", path: ts, body: `{"Name":"x","Name":"y"}`, want: 400, mention: `member \"Name\" twice`},
		{name: "a member named twice, once escaped", method: "POST", path: ts, body: `{"Name":"x","N\u0061me":"y"}`, want: 400, mention: "twice"},
		{name: "a property named twice in two cases", method: "PATCH", path: key, body: `{"Description":"a","description":"b"}`, want: 400, mention: "given twice"},
		{name: "a member named twice in an embedded object", method: "POST", path: ts, body: `{"Name":"x","SupportedOperatingSystems":[{"@odata.type":"#AdminService.SMS_OS_Details","Name":"Win NT","Platform":"x64","Platform":"I386"}]}`, want: 400, mention: "twice"},
		{name: "a method parameter named twice", method: "POST", path: ts + ".ImportSequence", body: `{"SequenceXML":"<sequence version=\"3.00\"/>","SequenceXML":"<sequence/>"}`, want: 400, mention: "twice"},
		{name: "a method parameter named twice in two cases", method: "POST", path: ts + ".ImportSequence", body: `{"SequenceXML":"<sequence version=\"3.00\"/>","sequencexml":"<sequence/>"}`, want: 400, mention: "given twice"},
		{name: "a WQL body member named twice", method: "POST", path: "/tsprov/v1/wql", body: `{"query":"SELECT * FROM SMS_TaskSequencePackage","query":"SELECT * FROM SMS_Admin"}`, want: 400, mention: "twice"},
		{name: "a token request member named twice", method: "POST", path: "/tsprov/v1/tokens", body: `{"Description":"one","Description":"two"}`, want: 400, mention: "twice"},
		{name: "a password member named twice", method: "PUT", path: "/tsprov/v1/admins/me/password", body: `{"Password":"a long enough password 1","Password":"another long password 2"}`, want: 400, mention: "twice"},
		{name: "a lone surrogate", method: "POST", path: ts, body: `{"Name":"\ud800"}`, want: 400, mention: "surrogate pair"},
		{name: "a lone second surrogate", method: "PATCH", path: key, body: `{"Description":"x\udc00"}`, want: 400, mention: "surrogate pair"},
		{name: "surrogates in the wrong order", method: "PATCH", path: key, body: `{"Description":"\ude80\ud83d"}`, want: 400, mention: "surrogate pair"},
		{name: "a lone surrogate in a method parameter", method: "POST", path: ts + ".ImportSequence", body: `{"SequenceXML":"<sequence version=\"3.00\"><group name=\"\ud83d\"/></sequence>"}`, want: 400, mention: "surrogate pair"},
		{name: "a lone surrogate in a WQL body", method: "POST", path: "/tsprov/v1/wql", body: `{"query":"SELECT * FROM SMS_TaskSequencePackage WHERE Name = '\ud800'"}`, want: 400, mention: "surrogate pair"},
		// strings no store keeps: refused alike on SQLite and PostgreSQL
		{name: "NUL in a new package's name", method: "POST", path: ts, body: `{"Name":"a\u0000b"}`, want: 400, mention: "NUL"},
		{name: "NUL in a description", method: "PATCH", path: key, body: `{"Description":"kept\u0000"}`, want: 400, mention: "SMS_TaskSequencePackage.Description"},
		{name: "NUL in an embedded object", method: "POST", path: ts, body: `{"Name":"x","SupportedOperatingSystems":[{"@odata.type":"#AdminService.SMS_OS_Details","Name":"Win NT","Platform":"x64\u0000"}]}`, want: 400, mention: "SupportedOperatingSystems[0].Platform"},
		{name: "NUL in a package given to SetSequence", method: "POST", path: ts + ".SetSequence", body: `{"TaskSequencePackage":{"@odata.type":"#AdminService.SMS_TaskSequencePackage","PackageID":"` + withSeq + `","Description":"\u0000"},"TaskSequence":{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[]}}`, want: 400, mention: "NUL"},
		{name: "NUL in a step name", method: "POST", path: ts + ".SetSequence", body: setSeq(`{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[{"@odata.type":"#AdminService.SMS_TaskSequence_RunCommandLineAction","Name":"a\u0000","CommandLine":"cmd"}]}`), want: 400, mention: "NUL"},
		{name: "NUL in a user name", method: "POST", path: "/AdminService/wmi/SMS_Admin", body: `{"LogonName":"DOMAIN\\a\u0000b","Roles":["SMS0006R"],"Categories":["SMS00UNA"]}`, want: 400, mention: "LogonName: a string may not hold a NUL"},
		{name: "NUL in a scope name", method: "POST", path: "/AdminService/wmi/SMS_SecuredCategory", body: `{"CategoryName":"Lab\u0000"}`, want: 400, mention: "NUL"},
		{name: "NUL in a token description", method: "POST", path: "/tsprov/v1/tokens", body: `{"Description":"ci\u0000"}`, want: 400, mention: "NUL"},
		{name: "NUL in a $filter constant", method: "GET", path: ts + "?$filter=" + urlQuery("Name eq 'Target\x00'"), want: 400, mention: "NUL"},
		{name: "NUL in a user name signing in", method: "GET", path: ts, token: "-", headers: []string{"Authorization", basicAuth("admin\x00", "wrong password!")}, want: 401},
		{name: "NUL in a token to revoke", method: "DELETE", path: "/tsprov/v1/tokens/tok%00", want: 404},
		{name: "NUL in a scope member's key", method: "POST", path: "/AdminService/wmi/SMS_SecuredCategoryMembership", body: `{"CategoryID":"SMS00UNA","ObjectKey":"` + pkg + `\u0000","ObjectTypeID":20}`, want: 404},
		{name: "bytes that are not UTF-8 in a $filter constant", method: "GET", path: ts + "?$filter=Name%20eq%20%27%FF%27", want: 400, mention: "UTF-8"},
		{name: "huge $top", method: "GET", path: ts + "?$top=99999999999999999", want: 400, mention: "$top"},
		{name: "negative $top", method: "GET", path: ts + "?$top=-1", want: 400},
		{name: "letters for $skip", method: "GET", path: ts + "?$skip=abc", want: 400},
		{name: "$filter injection", method: "GET", path: ts + "?$filter=" + urlQuery("Name eq 'x'; DROP TABLE sms_tasksequencepackage; --"), want: 400},
		{name: "$filter breaking out of parentheses", method: "GET", path: ts + "?$filter=" + urlQuery("1 eq 1) or (1 eq 1"), want: 400},
		{name: "$filter on a property that does not exist", method: "GET", path: ts + "?$filter=" + urlQuery("TokenHash eq 'x'"), want: 400},
		{name: "$filter nested 10,000 deep", method: "GET", path: ts + "?$filter=" + urlQuery(nested("(", ")", 10000)), want: 400},
		{name: "$orderby injection", method: "GET", path: ts + "?$orderby=" + urlQuery("Name; DROP TABLE x"), want: 400},
		{name: "$select injection", method: "GET", path: ts + "?$select=" + urlQuery("Name,(SELECT 1)"), want: 400},
		{name: "WQL injection", method: "GET", path: "/tsprov/v1/wql?q=" + urlQuery("SELECT * FROM SMS_TaskSequencePackage; DROP TABLE x"), want: 400},
		{name: "WQL UNION", method: "GET", path: "/tsprov/v1/wql?q=" + urlQuery("SELECT * FROM SMS_TaskSequencePackage UNION SELECT * FROM TSP_ApiToken"), want: 400},
		{name: "WQL on the token hashes", method: "GET", path: "/tsprov/v1/wql?q=" + urlQuery("SELECT * FROM TSP_ApiToken"), want: 400},
		{name: "WQL above 64 KB", method: "POST", path: "/tsprov/v1/wql", body: map[string]any{"query": "SELECT * FROM SMS_TaskSequencePackage WHERE Name = '" + strings.Repeat("x", 70000) + "'"}, want: 413},
		{name: "the token hashes over REST", method: "GET", path: "/AdminService/wmi/TSP_ApiToken", want: 404},
		{name: "the password hashes by key", method: "GET", path: "/AdminService/wmi/TSP_AdminPassword('16777217')", want: 404},
		{name: "path traversal in a key", method: "GET", path: ts + "('..%2F..%2F..%2F..%2Fetc%2Fpasswd')", want: 400, mention: "segment"},
		{name: "encoded dots in a key", method: "DELETE", path: ts + "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", want: 400, mention: "segment"},
		{name: "NUL in a key", method: "GET", path: ts + "('PS1%00')", want: 404},
		{name: "path traversal after a key", method: "GET", path: key + "/..%2f..%2f..%2fetc%2fpasswd", want: 400, mention: "segment"},
		// paths that net/http's router would redirect to their cleaned form
		{name: "a .. segment", method: "GET", path: "/AdminService/wmi/SMS_Admin/../SMS_TaskSequencePackage", want: 400, mention: "segment", absent: "Location"},
		{name: "a .. segment on a delete", method: "DELETE", path: key + "/..", want: 400, mention: "segment", absent: "Location"},
		{name: "%2F.. after a class", method: "DELETE", path: ts + "%2F..%2F..%2Ftsprov%2Fv1%2Ftokens", want: 400, mention: "segment", absent: "Location"},
		{name: "%2F.. out of the WMI route", method: "GET", path: "/AdminService/wmi/x%2F..%2F..%2F..%2Ftsprov%2Fv1%2Faudit", want: 400, absent: "Location"},
		{name: "a . segment", method: "GET", path: "/tsprov/v1/./tokens", want: 400, absent: "Location"},
		{name: "an empty segment", method: "POST", path: "/AdminService//wmi/SMS_TaskSequencePackage", body: map[string]any{"Name": "x"}, want: 400, absent: "Location"},
		{name: "a .. segment in a raw request line", raw: "DELETE /AdminService/wmi/SMS_Role/../SMS_TaskSequencePackage('" + pkg + "') HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n", want: 400, absent: "Location"},
		// Content-Type: bodies are JSON only when declared so
		{name: "a JSON body sent as text/plain", method: "POST", path: ts, body: map[string]any{"Name": "forged"}, headers: []string{"Content-Type", "text/plain"}, want: 415, mention: "application/json"},
		{name: "a form body", method: "POST", path: ts, body: "Name=forged", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, want: 415},
		{name: "a multipart body", method: "POST", path: "/tsprov/v1/tokens", body: "--b\r\nContent-Disposition: form-data; name=\"Description\"\r\n\r\nx\r\n--b--\r\n", headers: []string{"Content-Type", "multipart/form-data; boundary=b"}, want: 415},
		{name: "a JSON body without a Content-Type", method: "PATCH", path: key, body: map[string]any{"Description": "forged"}, headers: []string{"Content-Type", ""}, want: 415, mention: "application/json"},
		{name: "a JSON body in UTF-16", method: "POST", path: ts, body: map[string]any{"Name": "x"}, headers: []string{"Content-Type", "application/json; charset=utf-16"}, want: 415, mention: "charset"},
		{name: "a malformed Content-Type", method: "POST", path: ts, body: map[string]any{"Name": "x"}, headers: []string{"Content-Type", "application/json; ;"}, want: 415},
		{name: "two Content-Types", method: "POST", path: ts, body: map[string]any{"Name": "x"}, headers: []string{"Content-Type", "application/json", "Content-Type", "text/plain"}, want: 415},
		{name: "an empty form post to a method", method: "POST", path: key + "/AdminService.RefreshPkgSource", body: "", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, want: 415},
		{name: "a cross-site form post with Basic credentials", method: "POST", path: "/tsprov/v1/tokens", body: `{"Description":"forged"}`, token: "-", headers: []string{"Authorization", basicAuth("admin", hostilePassword), "Content-Type", "text/plain;charset=UTF-8"}, want: 415},
		{name: "a text/plain password change", method: "PUT", path: "/tsprov/v1/admins/me/password", body: `{"Password":"forged password 123"}`, headers: []string{"Content-Type", "text/plain"}, want: 415},
		{name: "a text/plain SetSequence", method: "POST", path: ts + ".SetSequence", body: setSeq(`{"@odata.type":"#AdminService.SMS_TaskSequence","Steps":[]}`), headers: []string{"Content-Type", "text/plain"}, want: 415},
		{name: "a text/plain WQL body", method: "POST", path: "/tsprov/v1/wql", body: `{"query":"SELECT * FROM SMS_TaskSequencePackage"}`, headers: []string{"Content-Type", "text/plain"}, want: 415},
		// the Host header is the client's claim, never repeated
		{name: "a forged Host on a refused create", method: "POST", path: ts, body: map[string]any{"Name": 1}, headers: []string{"Host", "evil.example"}, want: 400, absent: "evil.example"},
		{name: "a Host with a path", raw: "GET " + ts + " HTTP/1.1\r\nHost: evil.example/x\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n", want: 400, absent: "evil.example"},
		{name: "HTTP/1.0 without Host", raw: "GET " + ts + "?$top=-1 HTTP/1.0\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n", want: 400, absent: "http:///"},
		{name: "HTTP/1.0 without Host, a write refused", raw: "POST " + ts + " HTTP/1.0\r\nAuthorization: Bearer " + s.admin + "\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"Name\": 12}", want: 400, absent: "http:///"},
		// methods a route does not answer: 405 with Allow and details
		{name: "POST on the service document", method: "POST", path: "/AdminService/wmi/", body: map[string]any{}, want: 405},
		{name: "PUT on $metadata", method: "PUT", path: "/AdminService/wmi/$metadata", body: map[string]any{}, want: 405},
		{name: "POST on $count", method: "POST", path: ts + "/$count", body: map[string]any{}, want: 405},
		{name: "GET on a method", method: "GET", path: ts + ".SetSequence", want: 405},
		{name: "DELETE on the change feed", method: "DELETE", path: "/tsprov/v1/events", want: 405},
		{name: "DELETE on the audit trail", method: "DELETE", path: "/tsprov/v1/audit", want: 405},
		{name: "PUT on the tokens", method: "PUT", path: "/tsprov/v1/tokens", body: map[string]any{}, want: 405},
		{name: "GET on a token", method: "GET", path: "/tsprov/v1/tokens/000000000000", want: 405},
		{name: "GET on a password", method: "GET", path: "/tsprov/v1/admins/me/password", want: 405},
		{name: "PATCH on WQL", method: "PATCH", path: "/tsprov/v1/wql", body: map[string]any{}, want: 405},
		// every other route
		{name: "$count with a bad $filter", method: "GET", path: ts + "/$count?$filter=" + urlQuery("Name eq"), want: 400},
		{name: "an instance method that does not exist", method: "POST", path: key + "/AdminService.Format", body: map[string]any{}, want: 404},
		{name: "an instance method on a missing key", method: "POST", path: ts + "('PS1FFFFF')/AdminService.RefreshPkgSource", body: map[string]any{}, want: 404},
		{name: "an unknown [in] parameter", method: "POST", path: ts + ".GetSequence", body: map[string]any{"Nope": 1}, want: 400, mention: "Nope"},
		{name: "a negative feed position", method: "GET", path: "/tsprov/v1/events?after=-1", want: 400, mention: "after"},
		{name: "a feed wait of an hour", method: "GET", path: "/tsprov/v1/events?wait=3601", want: 400, mention: "wait"},
		{name: "the audit trail by a property that does not exist", method: "GET", path: "/tsprov/v1/audit?$filter=" + urlQuery("Password eq 'x'"), want: 400},
		{name: "the audit trail with $top in letters", method: "GET", path: "/tsprov/v1/audit?$top=all", want: 400},
		{name: "tokens of a non-number", method: "GET", path: "/tsprov/v1/tokens?AdminID=1%20OR%201=1", want: 400, mention: "AdminID"},
		{name: "tokens of a user that does not exist", method: "GET", path: "/tsprov/v1/tokens?AdminID=99999999", want: 404},
		{name: "revoke a token that does not exist", method: "DELETE", path: "/tsprov/v1/tokens/000000000000", want: 404},
		{name: "revoke by a filter", method: "DELETE", path: "/tsprov/v1/tokens/x'%20or%20'1'='1", want: 404},
		{name: "a password for a user named by SQL", method: "PUT", path: "/tsprov/v1/admins/1;DROP/password", body: map[string]any{"Password": "long enough password"}, want: 400},
		{name: "a write to the metrics", method: "POST", path: "/metrics", body: map[string]any{}, want: 404},
		{name: "a write to the health check", method: "DELETE", path: "/healthz", want: 404},
		{name: "two Authorization headers", method: "GET", path: ts, headers: []string{"Authorization", "Bearer " + s.admin}, want: 400},
		{name: "a request smuggled after a short Content-Length", raw: "POST " + ts + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + s.admin + "\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"Na" + "DELETE " + key + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", want: 400},
		{name: "Content-Length and Transfer-Encoding together", raw: "POST " + ts + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + s.admin + "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: 400},
		{name: "two different Content-Lengths", raw: "POST " + ts + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + s.admin + "\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}", want: 400, mention: "cannot be read as HTTP/1.1"},
		{name: "a header line without a colon", raw: "GET " + ts + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization Bearer " + s.admin + "\r\nX-Smuggled: 1\r\n\r\n", want: 400, mention: "cannot be read as HTTP/1.1"},
		{name: "change the key", method: "PATCH", path: key, body: map[string]any{"PackageID": "PS1FFFFF"}, want: 400, mention: "PackageID"},
		{name: "write a read-only property", method: "PATCH", path: key, body: map[string]any{"SourceVersion": 99}, want: 400, mention: "read-only"},
		{name: "write the Sequence directly", method: "PATCH", path: key, body: map[string]any{"Sequence": "<sequence/>"}, want: 400, mention: "read-only"},
		{name: "write a read-only class", method: "POST", path: "/AdminService/wmi/SMS_TaskSequencePackageReference", body: map[string]any{"ObjectID": "x", "PackageID": pkg}, want: 400},
		{name: "delete a built-in role", method: "DELETE", path: "/AdminService/wmi/SMS_Role('SMS0001R')", want: 400, mention: "built in"},
		{name: "change the built-in scope", method: "PATCH", path: "/AdminService/wmi/SMS_SecuredCategory('SMS00UNA')", body: map[string]any{"CategoryName": "Mine"}, want: 400, mention: "built in"},
		{name: "a member of the scope All", method: "POST", path: "/AdminService/wmi/SMS_SecuredCategoryMembership", body: map[string]any{"CategoryID": "SMS00ALL", "ObjectKey": pkg, "ObjectTypeID": 20}, want: 400},
		{name: "a scope membership changed in place", method: "PUT", path: "/AdminService/wmi/SMS_SecuredCategoryMembership(CategoryID='SMS00UNA',ObjectKey='" + pkg + "',ObjectTypeID=20)", body: map[string]any{"CategoryID": "SMS00UNA", "ObjectKey": pkg, "ObjectTypeID": 20}, want: 400},
		{name: "a stale If-Match", method: "PATCH", path: key, body: map[string]any{"Description": "x"}, headers: []string{"If-Match", `"00000000-0000-0000-0000-000000000000"`}, want: 412},
		{name: "DELETE on a collection", method: "DELETE", path: ts, want: 405},
		{name: "another class's @odata.type", method: "POST", path: ts, body: map[string]any{"@odata.type": "#AdminService.SMS_Admin", "Name": "x"}, want: 400},
		{name: "a user name with a colon", method: "POST", path: "/AdminService/wmi/SMS_Admin", body: map[string]any{"LogonName": "a:b", "Roles": []string{"SMS0006R"}}, want: 400},
		{name: "a token for ten thousand years", method: "POST", path: "/tsprov/v1/tokens", body: map[string]any{"ExpiresInDays": 3650000}, want: 400},
		{name: "a short password", method: "PUT", path: "/tsprov/v1/admins/me/password", body: map[string]any{"Password": "short"}, want: 400},
		{name: "a wrong token", method: "GET", path: ts, token: "tsp_not-a-real-token-at-all-xxxxxxxxxxxxxxxx", want: 401},
		{name: "a wrong password", method: "GET", path: ts, token: "-", headers: []string{"Authorization", basicAuth("admin", "wrong password!")}, want: 401},
		{name: "an unsupported scheme", method: "GET", path: ts, token: "-", headers: []string{"Authorization", "Digest username=admin"}, want: 401},
	}
}

// TestHostileInput: every hostile request gets a 4xx with the OData
// envelope (also when net/http itself refuses the framing), the server stays
// up and serves the next request, and every stored object is unchanged.
func TestHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MB bodies")
	}
	checkHostile(t, startSecureServer(t, nil))
}

// TestHostileInputOnPostgres: the same requests get the same answers from
// a server on PostgreSQL, so that what one store takes the other takes
// too (strings with a NUL character, constants no store keeps).
func TestHostileInputOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MB bodies")
	}
	url := pgtest.URL(t, t.Name())
	checkHostile(t, startSecureServer(t, func(c *Config) { c.Database = url }))
}

// checkHostile sends every hostile request to s and checks the answers
// and that nothing stored changed.
func checkHostile(t *testing.T, s *secureServer) {
	pkg := s.must(201, s.admin, "POST", tsPath, map[string]any{"Name": "Target", "Description": "kept"}).body["PackageID"].(string)
	withSeq := s.storeSequence(s.admin, "With secrets", secretSequenceXML("h0st"))
	s.addUser("reader", []string{"SMS0006R"}, []string{"SMS00UNA"})
	s.must(201, s.admin, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"})
	s.must(204, s.admin, "PUT", "/tsprov/v1/admins/me/password", map[string]any{"Password": hostilePassword})
	tokensBefore := s.must(200, s.admin, "GET", "/tsprov/v1/tokens?all=true", nil).raw

	before := snapshotAll(s)
	cases := hostileCases(s, pkg, withSeq)
	if len(cases) < 60 {
		t.Fatalf("%d hostile cases; the suite needs at least 60", len(cases))
	}
	for _, c := range cases {
		var a answer
		if c.raw != "" {
			a = rawExchange(t, s, c.raw)
		} else {
			token := s.admin
			switch c.token {
			case "-":
				token = ""
			case "":
			default:
				token = c.token
			}
			a = s.do(token, c.method, c.path, c.body, c.headers...)
		}
		if a.status != c.want {
			t.Errorf("%s: status %d, want %d\n%.300s", c.name, a.status, c.want, a.raw)
		} else {
			envelope(t, c.name, a)
			if c.mention != "" && !strings.Contains(string(a.raw), c.mention) {
				t.Errorf("%s: the error does not mention %q: %.300s", c.name, c.mention, a.raw)
			}
		}
		if c.absent != "" {
			if _, ok := a.header[http.CanonicalHeaderKey(c.absent)]; ok || strings.Contains(fmt.Sprint(a.header), c.absent) || strings.Contains(string(a.raw), c.absent) {
				t.Errorf("%s: the answer holds %q: %v %.300s", c.name, c.absent, a.header, a.raw)
			}
		}
		if h := s.do("", "GET", "/healthz", nil); h.status != 200 {
			t.Fatalf("after %s the server is down: /healthz %d", c.name, h.status)
		}
		if l := s.do(s.admin, "GET", tsPath+"?$top=1", nil); l.status != 200 {
			t.Fatalf("after %s the next request fails: %d", c.name, l.status)
		}
	}
	after := snapshotAll(s)
	for k, h := range before {
		if after[k] != h {
			t.Errorf("%s changed", k)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d objects before, %d after", len(before), len(after))
	}
	if tokensAfter := s.must(200, s.admin, "GET", "/tsprov/v1/tokens?all=true", nil).raw; string(tokensAfter) != string(tokensBefore) {
		t.Errorf("the tokens changed:\n%s\n%s", tokensBefore, tokensAfter)
	}
}

// snapshotAll hashes every object of every entity set, as the
// administrator of every scope reads it (task sequence packages by key,
// lazy properties filled).
func snapshotAll(s *secureServer) map[string]string {
	s.t.Helper()
	sets := s.must(200, s.admin, "GET", "/AdminService/wmi/", nil).body["value"].([]any)
	out := map[string]string{}
	for _, set := range sets {
		name := set.(map[string]any)["name"].(string)
		a := s.must(200, s.admin, "GET", "/AdminService/wmi/"+name, nil)
		for _, v := range a.body["value"].([]any) {
			e := v.(map[string]any)
			rel := fmt.Sprint(e["__RELPATH"])
			raw := fmt.Sprint(e)
			if name == "SMS_TaskSequencePackage" {
				raw = string(s.must(200, s.admin, "GET", "/AdminService/wmi/"+name+"('"+e["PackageID"].(string)+"')", nil).raw)
			}
			sum := sha256.Sum256([]byte(raw))
			out[rel] = hex.EncodeToString(sum[:])
		}
	}
	if len(out) == 0 {
		s.t.Fatal("the snapshot holds nothing")
	}
	return out
}

// rawExchange writes raw to a new connection and reads the first answer.
func rawExchange(t *testing.T, s *secureServer, raw string) answer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header, raw: buf.Bytes()}
	if buf.Len() > 0 && buf.Bytes()[0] == '{' {
		_ = jsonUnmarshal(buf.Bytes(), &a.body)
	}
	// a request smuggled behind the first must be refused for want of
	// credentials, not run
	if strings.Count(raw, " HTTP/1.1\r\n") > 1 {
		if next, err := http.ReadResponse(br, nil); err == nil {
			next.Body.Close()
			if next.StatusCode != http.StatusUnauthorized {
				t.Errorf("the smuggled request got %d, want 401", next.StatusCode)
			}
		}
	}
	return a
}
