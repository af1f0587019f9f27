package odata_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth"
)

func TestGetByKeyAnswersTheEntity(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Entity", "Duration": 7})
	r := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')", nil)
	if _, wrapped := r.body["value"]; wrapped {
		t.Fatalf("GET by key answered a collection: %.200s", r.raw)
	}
	if r.keys[0] != "@odata.context" || !strings.HasSuffix(r.body["@odata.context"].(string), "/odata/$metadata#"+tsClass+"/$entity") {
		t.Errorf("first member %s = %v, want the $entity context URL", r.keys[0], r.body[r.keys[0]])
	}
	if r.body["PackageID"] != id || r.body["Name"] != "Entity" {
		t.Errorf("entity %v %v", r.body["PackageID"], r.body["Name"])
	}
	if etag := r.header.Get("ETag"); etag == "" || r.body["@odata.etag"] != etag {
		t.Errorf("ETag header %q, @odata.etag %v", etag, r.body["@odata.etag"])
	}
	for _, p := range []string{"References", "RefreshSchedule", "SupportedOperatingSystems", "LocalizedCategoryInstanceNames"} {
		if v, ok := r.body[p].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", p, r.body[p])
		}
	}
	for _, k := range r.keys {
		if strings.HasPrefix(k, "__") {
			t.Errorf("WMI system property %s on the strict root", k)
		}
	}
	if _, ok := r.body["Sequence"]; !ok {
		t.Error("GET by key leaves out the lazy property Sequence")
	}
}

func TestCollectionsLeaveOutLazyProperties(t *testing.T) {
	s := newTestServer(t, 0)
	s.create(map[string]any{"Name": "Lazy"})
	r := s.must(200, "GET", "/odata/"+tsClass, nil)
	if r.keys[0] != "@odata.context" {
		t.Errorf("first member %s", r.keys[0])
	}
	row := r.body["value"].([]any)[0].(map[string]any)
	c, _ := s.prov.Class(tsClass)
	for _, name := range c.LazyNames() {
		if _, ok := row[name]; ok {
			t.Errorf("lazy property %s present in a collection", name)
		}
	}
	if arr, ok := row["SecuredScopeNames"].([]any); !ok || len(arr) != 1 {
		t.Errorf("SecuredScopeNames %v", row["SecuredScopeNames"])
	}
	// The faithful root keeps them, as null.
	a := s.must(200, "GET", "/AdminService/wmi/"+tsClass, nil)
	if v, ok := a.body["value"].([]any)[0].(map[string]any)["Sequence"]; !ok || v != nil {
		t.Errorf("AdminService collection: Sequence = %v (present %v), want null", v, ok)
	}
}

func TestPreferReturnMinimal(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(204, "POST", "/odata/"+tsClass, map[string]any{"Name": "Minimal"}, "Prefer", "return=minimal")
	if r.header.Get("Preference-Applied") != "return=minimal" || len(r.raw) != 0 {
		t.Errorf("Preference-Applied %q, body %q", r.header.Get("Preference-Applied"), r.raw)
	}
	loc := r.header.Get("Location")
	if !strings.Contains(loc, "/odata/"+tsClass+"('PS1") || r.header.Get("OData-EntityId") != loc || r.header.Get("ETag") == "" {
		t.Fatalf("Location %q, OData-EntityId %q, ETag %q", loc, r.header.Get("OData-EntityId"), r.header.Get("ETag"))
	}
	path := loc[strings.Index(loc, "/odata/"):]
	p := s.must(204, "PATCH", path, map[string]any{"Description": "d"}, "Prefer", "return=minimal")
	if p.header.Get("Preference-Applied") != "return=minimal" {
		t.Errorf("PATCH Preference-Applied %q", p.header.Get("Preference-Applied"))
	}
	if got := s.must(200, "GET", path, nil).body["Description"]; got != "d" {
		t.Errorf("Description after a minimal PATCH: %v", got)
	}
	full := s.must(200, "PATCH", path, map[string]any{"Description": "e"}, "Prefer", "return=representation")
	if full.body["Description"] != "e" || full.header.Get("Preference-Applied") != "return=representation" {
		t.Errorf("return=representation: %v, %q", full.body["Description"], full.header.Get("Preference-Applied"))
	}
}

func TestHeadWhereGetIsAllowed(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Head"})
	for _, p := range []string{"/odata/", "/odata/$metadata", "/odata/" + tsClass, "/odata/" + tsClass + "('" + id + "')", "/odata/" + tsClass + "/$count"} {
		get := s.must(200, "GET", p, nil)
		head := s.must(200, "HEAD", p, nil)
		if len(head.raw) != 0 || head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d bytes, Content-Type %q (GET %q)", p, len(head.raw), head.header.Get("Content-Type"), get.header.Get("Content-Type"))
		}
	}
	r := s.do("HEAD", "/odata/"+tsClass+"/AdminService.ImportSequence", nil)
	if r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Errorf("HEAD on an action: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestUnsupportedOptionsAnswer501NamingThem(t *testing.T) {
	s := newTestServer(t, 0)
	for _, opt := range []string{"$search=windows", "$apply=groupby((Name))", "$compute=Duration%20add%201%20as%20D", "$skiptoken=x"} {
		r := s.do("GET", "/odata/"+tsClass+"?"+opt, nil)
		name := opt[:strings.IndexByte(opt, '=')]
		expectError(t, r, 501, name)
		if e := r.body["error"].(map[string]any); e["target"] != name {
			t.Errorf("%s: error target %v", name, e["target"])
		}
	}
	expectError(t, s.do("GET", "/odata/$batch", nil), 501, "$batch")
}

func TestInt64AsClientsSendIt(t *testing.T) {
	s := newTestServer(t, 0)
	s.create(map[string]any{"Name": "Long", "Duration": 42})
	s.create(map[string]any{"Name": "Short", "Duration": 3})

	r := s.must(200, "GET", "/odata/"+tsClass+"?$filter="+url.QueryEscape("Duration gt 10L")+"&$count=true", nil)
	if n := len(r.body["value"].([]any)); n != 1 || fmt.Sprint(r.body["@odata.count"]) != "1" {
		t.Fatalf("Duration gt 10L: %d rows, count %v", n, r.body["@odata.count"])
	}
	if d := r.body["value"].([]any)[0].(map[string]any)["Duration"]; fmt.Sprintf("%T", d) != "json.Number" {
		t.Errorf("Duration without IEEE754Compatible: %T %v, want a number", d, d)
	}

	ieee := s.must(200, "GET", "/odata/"+tsClass+"?$filter="+url.QueryEscape("Duration gt 10L")+"&$count=true", nil,
		"Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
	if !strings.Contains(ieee.header.Get("Content-Type"), "IEEE754Compatible=true") {
		t.Errorf("Content-Type %q", ieee.header.Get("Content-Type"))
	}
	row := ieee.body["value"].([]any)[0].(map[string]any)
	if row["Duration"] != "42" || ieee.body["@odata.count"] != "1" {
		t.Errorf("IEEE754Compatible: Duration %#v, @odata.count %#v, want strings", row["Duration"], ieee.body["@odata.count"])
	}
	if _, isBool := row["TsEnabled"].(bool); !isBool {
		t.Errorf("TsEnabled %#v: only Int64 becomes a string", row["TsEnabled"])
	}

	created := s.must(201, "POST", "/odata/"+tsClass, map[string]any{"Name": "Sent as string", "Duration": "77"},
		"Content-Type", "application/json;IEEE754Compatible=true")
	if created.body["Duration"] != "77" {
		t.Errorf("Int64 sent as a string reads back %#v", created.body["Duration"])
	}
	r = s.do("POST", "/odata/"+tsClass, map[string]any{"Name": "No", "Duration": "77"})
	expectError(t, r, 400, "expected an integer")
	r = s.do("POST", "/odata/"+tsClass, map[string]any{"Name": "No", "Duration": "7x"}, "Content-Type", "application/json;IEEE754Compatible=true")
	expectError(t, r, 400, "expected an integer")
}

func TestCountAndPaging(t *testing.T) {
	s := newTestServer(t, 2)
	for i := 0; i < 5; i++ {
		s.create(map[string]any{"Name": fmt.Sprintf("P%d", i), "Duration": i})
	}
	if c := s.must(200, "GET", "/odata/"+tsClass+"/$count?$filter=Duration%20ge%202", nil); string(c.raw) != "3" || !strings.HasPrefix(c.header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count: %q %q", c.raw, c.header.Get("Content-Type"))
	}
	var names []string
	next := "/odata/" + tsClass + "?$orderby=Duration&$count=true"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := s.must(200, "GET", next, nil)
		if fmt.Sprint(r.body["@odata.count"]) != "5" {
			t.Errorf("page %d: @odata.count %v", pages, r.body["@odata.count"])
		}
		for _, v := range r.body["value"].([]any) {
			names = append(names, v.(map[string]any)["Name"].(string))
		}
		next = ""
		if l, ok := r.body["@odata.nextLink"].(string); ok {
			next = l[strings.Index(l, "/odata/"):]
		}
	}
	if got := strings.Join(names, ","); got != "P0,P1,P2,P3,P4" {
		t.Errorf("pages hold %s", got)
	}
	r := s.must(200, "GET", "/odata/"+tsClass+"?$orderby=Duration", nil, "Prefer", "odata.maxpagesize=1")
	if len(r.body["value"].([]any)) != 1 || r.header.Get("Preference-Applied") != "odata.maxpagesize=1" || r.body["@odata.nextLink"] == nil {
		t.Errorf("odata.maxpagesize=1: %d rows, Preference-Applied %q", len(r.body["value"].([]any)), r.header.Get("Preference-Applied"))
	}
}

// TestBothRootsShareInstances: what one root writes, the other reads, with
// the same ETag; a delete on one is seen by the other.
func TestBothRootsShareInstances(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Shared", "Description": "from odata"})
	a := s.must(200, "GET", "/AdminService/wmi/"+tsClass+"('"+id+"')", nil)
	inst := a.body["value"].([]any)[0].(map[string]any)
	o := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')", nil)
	if inst["Description"] != "from odata" || `"`+inst["@odata.etag"].(string)+`"` != o.header.Get("ETag") {
		t.Fatalf("AdminService reads Description %v etag %v; odata ETag %s", inst["Description"], inst["@odata.etag"], o.header.Get("ETag"))
	}
	for name, v := range o.body {
		if strings.HasPrefix(name, "@") {
			continue
		}
		if arr, ok := v.([]any); ok && len(arr) == 0 && inst[name] == nil {
			continue // an empty collection: [] here, null on AdminService
		}
		if fmt.Sprint(inst[name]) != fmt.Sprint(v) {
			t.Errorf("%s: AdminService %v, odata %v", name, inst[name], v)
		}
	}
	s.must(200, "PATCH", "/AdminService/wmi/"+tsClass+"('"+id+"')", map[string]any{"Description": "from AdminService"})
	o2 := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')", nil)
	if o2.body["Description"] != "from AdminService" || o2.header.Get("ETag") == o.header.Get("ETag") {
		t.Errorf("after an AdminService PATCH, odata reads %v with ETag %s (was %s)", o2.body["Description"], o2.header.Get("ETag"), o.header.Get("ETag"))
	}
	expectError(t, s.do("PATCH", "/odata/"+tsClass+"('"+id+"')", map[string]any{"Description": "stale"}, "If-Match", o.header.Get("ETag")), 412, "")
	s.must(204, "DELETE", "/odata/"+tsClass+"('"+id+"')", nil, "If-Match", o2.header.Get("ETag"))
	expectError(t, s.do("GET", "/AdminService/wmi/"+tsClass+"('"+id+"')", nil), 404, id)
}

// TestBadInputChangesNothing: every refused request answers the OData
// error envelope and leaves the instance and the collection as they were.
func TestBadInputChangesNothing(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Keep", "Description": "kept"})
	before := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')", nil)
	etag := before.header.Get("ETag")
	entity := "/odata/" + tsClass + "('" + id + "')"
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		want               string
	}{
		{"malformed JSON", "POST", "/odata/" + tsClass, `{"Name": `, nil, 400, "malformed JSON"},
		{"unknown property", "POST", "/odata/" + tsClass, map[string]any{"Name": "x", "Nope": 1}, nil, 400, "unknown property Nope"},
		{"wrong type", "PATCH", entity, map[string]any{"Duration": "long"}, nil, 400, "expected an integer"},
		{"out of range", "PATCH", entity, map[string]any{"Duration": -1}, nil, 400, "Duration"},
		{"read-only property", "PATCH", entity, map[string]any{"Sequence": "<sequence/>"}, nil, 400, "Sequence"},
		{"stale If-Match", "PATCH", entity, map[string]any{"Description": "lost"}, []string{"If-Match", `"00000000-0000-0000-0000-000000000000"`}, 412, ""},
		{"stale If-Match on delete", "DELETE", entity, nil, []string{"If-Match", `"00000000-0000-0000-0000-000000000000"`}, 412, ""},
		{"empty body", "PATCH", entity, nil, nil, 400, "empty body"},
		{"unknown key", "PATCH", "/odata/" + tsClass + "('PS1FFFFF')", map[string]any{"Description": "x"}, nil, 404, "PS1FFFFF"},
		{"malformed key", "GET", "/odata/" + tsClass + "('PS1", nil, nil, 400, "malformed key"},
		{"unknown class", "GET", "/odata/SMS_Nothing", nil, nil, 404, "SMS_Nothing"},
		{"complex type is no entity set", "GET", "/odata/SMS_TaskSequence", nil, nil, 404, "not an entity set"},
		{"bad filter", "GET", "/odata/" + tsClass + "?$filter=Duration%20gt", nil, nil, 400, "$filter"},
		{"filter on unknown property", "GET", "/odata/" + tsClass + "?$filter=Nope%20eq%201", nil, nil, 400, "Nope"},
		{"unknown action", "POST", "/odata/" + tsClass + "/AdminService.Explode", map[string]any{}, nil, 404, "Explode"},
		{"static action on an entity", "POST", entity + "/AdminService.ImportSequence", map[string]any{"SequenceXML": "<sequence/>"}, nil, 400, "bound to the collection"},
		{"instance action on the collection", "POST", "/odata/" + tsClass + "/AdminService.RefreshPkgSource", map[string]any{}, nil, 400, "bound to an entity"},
		{"unknown parameter", "POST", "/odata/" + tsClass + "/AdminService.ImportSequence", map[string]any{"Xml": "x"}, nil, 400, "no parameter Xml"},
		{"a parameter named twice in two cases", "POST", "/odata/" + tsClass + "/AdminService.ImportSequence", map[string]any{"SequenceXML": "<sequence/>", "sequencexml": "<sequence/>"}, nil, 400, "given twice"},
		{"bad sequence XML", "POST", "/odata/" + tsClass + "/AdminService.SetSequence", map[string]any{"TaskSequencePackage": map[string]any{"PackageID": id}, "TaskSequence": map[string]any{"Steps": "no"}}, nil, 400, "Steps"},
		{"action with GET", "GET", "/odata/" + tsClass + "/AdminService.ImportSequence", nil, nil, 405, "POST"},
		{"PUT on a collection", "PUT", "/odata/" + tsClass, map[string]any{}, nil, 405, "GET, HEAD, POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(tc.method, tc.path, tc.body, tc.headers...)
			expectError(t, r, tc.status, tc.want)
			after := s.must(200, "GET", "/odata/"+tsClass+"('"+id+"')", nil)
			if after.header.Get("ETag") != etag || after.body["Description"] != "kept" {
				t.Errorf("the package changed: ETag %s (was %s), Description %v", after.header.Get("ETag"), etag, after.body["Description"])
			}
			if n := s.must(200, "GET", "/odata/"+tsClass+"/$count", nil); string(n.raw) != "1" {
				t.Errorf("%s packages after a refused request", n.raw)
			}
		})
	}
}

// TestScopesApply: a caller sees on /odata/ exactly what its roles and
// security scopes let it see on AdminService.
func TestScopesApply(t *testing.T) {
	s := newTestServer(t, 0)
	id := s.create(map[string]any{"Name": "Scoped"})
	outsider := s.as(&auth.Principal{AdminID: 77, User: `CORP\outsider`, Perms: map[int64]auth.Op{20: auth.Read}, Scopes: []string{"SMS00XYZ"}})
	for _, root := range []string{"/odata/", "/AdminService/wmi/"} {
		r := outsider.must(200, "GET", root+tsClass, nil)
		if n := len(r.body["value"].([]any)); n != 0 {
			t.Errorf("%s: an administrator outside the scope lists %d packages", root, n)
		}
		expectError(t, outsider.do("GET", root+tsClass+"('"+id+"')", nil), 404, id)
	}
	for _, root := range []string{"/odata/", "/AdminService/wmi/"} {
		expectError(t, outsider.do("PATCH", root+tsClass+"('"+id+"')", map[string]any{"Description": "x"}), 404, id)
	}
	nobody := s.as(&auth.Principal{AdminID: 78, User: `CORP\nobody`, Scopes: []string{"SMS00UNA"}})
	expectError(t, nobody.do("GET", "/odata/"+tsClass, nil), 403, "")
}

func TestActionsAnswerTheirDeclaredResult(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(200, "POST", "/odata/"+tsClass+"/AdminService.ImportSequence", map[string]any{"SequenceXML": readCorpus(t)})
	if !strings.HasSuffix(r.body["@odata.context"].(string), "$metadata#AdminService.SMS_TaskSequencePackage_ImportSequenceResult") {
		t.Errorf("context %v", r.body["@odata.context"])
	}
	ts := r.body["TaskSequence"].(map[string]any)
	if _, typed := ts["@odata.type"]; typed {
		t.Errorf("TaskSequence of the declared type carries @odata.type %v", ts["@odata.type"])
	}
	for _, st := range ts["Steps"].([]any) {
		if ty, _ := st.(map[string]any)["@odata.type"].(string); !strings.HasPrefix(ty, "#AdminService.SMS_TaskSequence_") {
			t.Errorf("step of a subclass without @odata.type: %v", st)
		}
	}
	// Unqualified action names are accepted too; an unbound import works.
	id := s.create(map[string]any{"Name": "Actions"})
	set := s.must(200, "POST", "/odata/"+tsClass+"/SetSequence", map[string]any{"TaskSequencePackage": map[string]any{"PackageID": id}, "TaskSequence": ts})
	if set.body["ReturnValue"] != json.Number("0") {
		t.Errorf("SetSequence %s", set.raw)
	}
	xml := s.must(200, "POST", "/odata/SaveToXml", map[string]any{"TaskSequence": ts})
	if refs, ok := xml.body["References"].([]any); !ok || !strings.HasPrefix(xml.body["ReturnValue"].(string), "<sequence") {
		t.Errorf("SaveToXml: References %v, ReturnValue %.40v", refs, xml.body["ReturnValue"])
	}
	plain := s.must(200, "POST", "/odata/ExportXml", map[string]any{"Xml": readCorpus(t)})
	if v, _ := plain.body["value"].(string); !strings.Contains(v, "<sequence") || !strings.HasSuffix(plain.body["@odata.context"].(string), "$metadata#Edm.String") {
		t.Errorf("ExportXml: %.200s", plain.raw)
	}
	// An instance action answers as on AdminService (RefreshPkgSource on a
	// task sequence package: the same refusal on both roots).
	o := s.do("POST", "/odata/"+tsClass+"('"+id+"')/AdminService.RefreshPkgSource", nil)
	a := s.do("POST", "/AdminService/wmi/"+tsClass+"('"+id+"')/AdminService.RefreshPkgSource", nil)
	if o.status != a.status || o.body["error"] == nil && o.status != 200 {
		t.Errorf("RefreshPkgSource: odata %d %s, AdminService %d", o.status, o.raw, a.status)
	}
}
