package adminservice_test

import (
	"fmt"
	"strings"
	"testing"
)

const (
	advertPath     = "/AdminService/wmi/SMS_Advertisement"
	collectionPath = "/AdminService/wmi/SMS_Collection"
)

// deploymentFixture stores a task sequence from the corpus, the packages
// it refers to (one with a program) and a collection.
func deploymentFixture(t *testing.T) (s *testServer, ts, pkg, coll string) {
	s = newTestServer(t, 0)
	pkg = s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Tools", "PkgSourcePath": t.TempDir()}).body["PackageID"].(string)
	s.must(201, "POST", "/AdminService/wmi/SMS_Program", map[string]any{"PackageID": pkg, "ProgramName": "Install", "CommandLine": "setup.exe /q"})
	seq := s.importSequence(readCorpus(t, "../../testdata/ts-corpus/microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml"))
	ts = s.setSequence(pkgBody(map[string]any{"Name": "Build and capture"}), seq)
	coll = s.must(201, "POST", collectionPath, map[string]any{"Name": "All Desktops"}).body["CollectionID"].(string)
	return s, ts, pkg, coll
}

// TestDeployments: ids from the site's counters; the rules of the page;
// bad input refused naming the property, nothing stored.
func TestDeployments(t *testing.T) {
	s, ts, pkg, coll := deploymentFixture(t)
	if !strings.HasPrefix(coll, "PS1") || len(coll) != 8 {
		t.Fatalf("CollectionID %q, want PS1 and 5 hex digits", coll)
	}
	ad := s.must(201, "POST", advertPath, map[string]any{
		"AdvertisementName": "Build", "CollectionID": coll, "PackageID": ts, "ProgramName": "*",
		"AdvertFlags": 0x00800020, "PresentTimeEnabled": true, "PresentTimeIsGMT": true, "Comment": "nightly",
	}).body
	id := ad["AdvertisementID"].(string)
	if !strings.HasPrefix(id, "PS1") || len(id) != 8 || ad["SourceSite"] != "PS1" || fmt.Sprint(ad["TimeFlags"]) != "33" || fmt.Sprint(ad["RemoteClientFlags"]) != "48" {
		t.Fatalf("deployment %v", ad)
	}
	second := s.must(201, "POST", advertPath, map[string]any{"AdvertisementName": "Tools", "CollectionID": coll, "PackageID": pkg, "ProgramName": "Install"}).body
	if second["AdvertisementID"] == id {
		t.Fatal("two deployments share an id")
	}
	s.must(200, "PATCH", advertPath+"('"+id+"')", map[string]any{"Comment": "weekly"})

	bad := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		status int
		target string
	}{
		{"no collection", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": "PS1FFFFF", "PackageID": ts, "ProgramName": "*"}, 400, "CollectionID"},
		{"no package", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": coll, "PackageID": "PS1FFFFF", "ProgramName": "*"}, 400, "PackageID"},
		{"lower-case package", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": coll, "PackageID": strings.ToLower(ts), "ProgramName": "*"}, 400, "PackageID"},
		{"task sequence with a program", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": coll, "PackageID": ts, "ProgramName": "Install"}, 400, "ProgramName"},
		{"unknown program", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": coll, "PackageID": pkg, "ProgramName": "Remove"}, 400, "ProgramName"},
		{"empty name", "POST", advertPath, map[string]any{"AdvertisementName": " ", "CollectionID": coll, "PackageID": ts, "ProgramName": "*"}, 400, "AdvertisementName"},
		{"no name", "POST", advertPath, map[string]any{"CollectionID": coll, "PackageID": ts, "ProgramName": "*"}, 400, "AdvertisementName"},
		{"bad flag", "POST", advertPath, map[string]any{"AdvertisementName": "x", "CollectionID": coll, "PackageID": ts, "ProgramName": "*", "AdvertFlags": 1}, 400, "AdvertFlags"},
		{"change the collection", "PATCH", advertPath + "('" + id + "')", map[string]any{"CollectionID": "PS100009"}, 400, "CollectionID"},
		{"change the package", "PATCH", advertPath + "('" + id + "')", map[string]any{"PackageID": pkg}, 400, "PackageID"},
		{"rename", "PATCH", advertPath + "('" + id + "')", map[string]any{"AdvertisementName": "other"}, 400, "AdvertisementName"},
		{"choose the id", "POST", advertPath, map[string]any{"AdvertisementID": "PS1AAAAA", "AdvertisementName": "x", "CollectionID": coll, "PackageID": ts, "ProgramName": "*"}, 400, "AdvertisementID"},
		{"limit to a missing collection", "POST", collectionPath, map[string]any{"Name": "x", "LimitToCollectionID": "PS1FFFFF"}, 400, "LimitToCollectionID"},
		{"delete a targeted collection", "DELETE", collectionPath + "('" + coll + "')", nil, 409, ""},
		{"read an unknown deployment", "GET", advertPath + "('PS1FFFFF')", nil, 404, ""},
		{"change an unknown deployment", "PATCH", advertPath + "('PS1FFFFF')", map[string]any{"Comment": "x"}, 404, ""},
		{"delete an unknown deployment", "DELETE", advertPath + "('PS1FFFFF')", nil, 404, ""},
		{"delete a deployed task sequence", "DELETE", "/AdminService/wmi/SMS_TaskSequencePackage('" + ts + "')", nil, 409, ""},
		{"delete a deployed package", "DELETE", "/AdminService/wmi/SMS_Package('" + pkg + "')", nil, 409, ""},
	}
	for _, b := range bad {
		r := s.do(b.method, b.path, b.body)
		if r.status != b.status {
			t.Errorf("%s: status %d, want %d\n%s", b.name, r.status, b.status, r.raw)
			continue
		}
		if b.target != "" && !strings.Contains(string(r.raw), `"target":"`+b.target+`"`) {
			t.Errorf("%s: the error does not name %s: %s", b.name, b.target, r.raw)
		}
		if b.status == 409 && !strings.Contains(string(r.raw), id) && !strings.Contains(string(r.raw), second["AdvertisementID"].(string)) {
			t.Errorf("%s: the refusal names no deployment: %s", b.name, r.raw)
		}
	}
	ads := s.must(200, "GET", advertPath, nil).body["value"].([]any)
	if len(ads) != 2 {
		t.Errorf("%d deployments stored after the refusals, want 2", len(ads))
	}
	got := s.must(200, "GET", advertPath+"('"+id+"')", nil).body["value"].([]any)[0].(map[string]any)
	if got["Comment"] != "weekly" || got["CollectionID"] != coll || got["AdvertisementName"] != "Build" {
		t.Errorf("stored deployment %v", got)
	}
	// once its deployments are gone, the collection and the packages may go
	s.must(204, "DELETE", advertPath+"('"+id+"')", nil)
	s.must(204, "DELETE", advertPath+"('"+second["AdvertisementID"].(string)+"')", nil)
	s.must(204, "DELETE", collectionPath+"('"+coll+"')", nil)
	s.must(204, "DELETE", "/AdminService/wmi/SMS_TaskSequencePackage('"+ts+"')", nil)
	s.must(204, "DELETE", "/AdminService/wmi/SMS_Package('"+pkg+"')", nil)
}
