package server

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/secrets"
)

const tsPackagePath = "/AdminService/wmi/SMS_TaskSequencePackage"

// revisionsOf reads a package's history (one page suffices here).
func (s *secureServer) revisionsOf(token, id string) []map[string]any {
	s.t.Helper()
	a := s.must(200, token, "GET", "/tsprov/v1/history/"+id, nil)
	var out []map[string]any
	for _, v := range a.body["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// setSequenceXML imports xml and stores it in package id.
func (s *secureServer) setSequenceXML(id, xml string) {
	s.t.Helper()
	imp := s.must(200, s.admin, "POST", tsPackagePath+".ImportSequence", map[string]any{"SequenceXML": xml})
	s.must(200, s.admin, "POST", tsPackagePath+".SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        imp.body["TaskSequence"],
	})
}

// TestHistoryKeepsSecretsSealed: revisions hold the secrets as the package
// does, sealed: no read of the history, of a revision or of a diff shows
// them, and a restore brings back the secrets of the revision restored.
func TestHistoryKeepsSecretsSealed(t *testing.T) {
	s := startSecureServer(t, nil)
	id := s.storeSequence(s.admin, "History secrets", secretSequenceXML("one1"))
	s.setSequenceXML(id, secretSequenceXML("two2"))
	reads := []answer{
		s.must(200, s.admin, "GET", "/tsprov/v1/history/"+id, nil),
		s.must(200, s.admin, "GET", "/tsprov/v1/history/"+id+"/1", nil),
		s.must(200, s.admin, "GET", "/tsprov/v1/history/"+id+"/2", nil),
		s.must(200, s.admin, "GET", "/tsprov/v1/diff?from="+id+"@1&to="+id+"@2", nil),
		s.must(200, s.admin, "GET", "/tsprov/v1/diff?format=text&from="+id+"@1&to="+id, nil),
	}
	for _, a := range reads {
		for _, v := range append(secretValues("one1"), secretValues("two2")...) {
			if strings.Contains(string(a.raw), v) {
				t.Errorf("a history read shows the secret %s: %.300s", v, a.raw)
			}
		}
		if strings.Contains(string(a.raw), secrets.Prefix) {
			t.Errorf("a history read shows a sealed value: %.300s", a.raw)
		}
	}
	// the diff sees that the secrets changed, never what they are
	var kinds []string
	for _, c := range reads[3].body["changes"].([]any) {
		ch := c.(map[string]any)
		kinds = append(kinds, fmt.Sprint(ch["property"]))
		if ch["old"] != "(secret)" && ch["property"] != "Rules" {
			t.Errorf("a secret change reads %v → %v", ch["old"], ch["new"])
		}
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "AdminPassword,CapturePassword,DomainPassword,ProductKey,Rules" {
		t.Errorf("changes between two versions whose secrets differ: %v\n%s", kinds, reads[3].raw)
	}
	for _, a := range reads {
		if regexp.MustCompile(`\(secret [0-9a-f]`).Match(a.raw) {
			t.Errorf("a diff shows a secret's token: %.500s", a.raw)
		}
	}
	seq := reads[1].body["Package"].(map[string]any)["Sequence"].(string)
	if !strings.Contains(seq, `property="DomainPassword"></variable>`) {
		t.Errorf("revision 1's Sequence does not hold its secrets emptied:\n%.2000s", seq)
	}
	s.must(200, s.admin, "POST", "/tsprov/v1/history/"+id+"/1/restore", nil)
	if d := s.must(200, s.admin, "GET", "/tsprov/v1/diff?from="+id+"@1&to="+id, nil); len(d.body["changes"].([]any)) != 0 {
		t.Errorf("diff from revision 1 to the package restored from it: %s", d.raw)
	}
	s.stop()
	got := storedSecrets(t, s.dir, id)
	want := secretValues("one1")
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stored secrets after restoring revision 1: %v, want %v", got, want)
	}
}

// TestHistoryRules: the comment header is checked before anything
// changes; reading needs Read, restoring Modify; a deleted package's
// history is for administrators until they purge it, and only then.
func TestHistoryRules(t *testing.T) {
	s := startSecureServer(t, nil)
	reader := s.addUser("reader", []string{"SMS0006R"}, []string{"SMS00UNA"})
	id := s.must(201, s.admin, "POST", tsPackagePath, map[string]any{"Name": "Rules"}).body["PackageID"].(string)
	one := s.revisionsOf(s.admin, id)

	long := s.do(s.admin, "PATCH", tsPackagePath+"('"+id+"')", map[string]any{"Name": "changed"}, "X-Tsprov-Comment", strings.Repeat("x", 1001))
	envelope(t, "a comment of 1001 characters", long)
	if got := s.revisionsOf(s.admin, id); len(got) != len(one) {
		t.Errorf("a refused comment added a revision: %v", got)
	}
	if name := s.must(200, s.admin, "GET", tsPackagePath+"('"+id+"')", nil).body["value"].([]any)[0].(map[string]any)["Name"]; name != "Rules" {
		t.Errorf("a refused comment changed the package: Name %v", name)
	}
	s.do(s.admin, "PATCH", tsPackagePath+"('"+id+"')", map[string]any{"Name": "Renamed"}, "X-Tsprov-Comment", "rename, ünïcode ✓")
	revs := s.revisionsOf(reader, id)
	if len(revs) != 2 || revs[1]["Comment"] != "rename, ünïcode ✓" || revs[1]["User"] == nil {
		t.Fatalf("history as the reader sees it: %v", revs)
	}
	envelope(t, "restore by a read-only analyst", s.do(reader, "POST", "/tsprov/v1/history/"+id+"/1/restore", nil))
	envelope(t, "purge by a read-only analyst", s.do(reader, "DELETE", "/tsprov/v1/history/"+id, nil))
	if a := s.do(s.admin, "DELETE", "/tsprov/v1/history/"+id, nil); a.status != 409 {
		t.Errorf("purge of a package that exists: %d %s", a.status, a.raw)
	}
	for _, bad := range []string{"/tsprov/v1/history/" + id + "/0", "/tsprov/v1/history/" + id + "/x", "/tsprov/v1/history/" + id + "/99",
		"/tsprov/v1/history/" + id + "?$top=-1", "/tsprov/v1/diff?from=" + id, "/tsprov/v1/diff?from=" + id + "@0&to=" + id, "/tsprov/v1/diff?format=html&from=" + id + "&to=" + id} {
		envelope(t, bad, s.do(s.admin, "GET", bad, nil))
	}

	s.must(204, s.admin, "DELETE", tsPackagePath+"('"+id+"')", nil)
	if a := s.do(reader, "GET", "/tsprov/v1/history/"+id, nil); a.status != 404 {
		t.Errorf("a deleted package's history as a read-only analyst: %d, want 404", a.status)
	}
	revs = s.revisionsOf(s.admin, id)
	last := revs[len(revs)-1]
	if len(revs) != 3 || last["Operation"] != "delete" {
		t.Fatalf("history after the delete: %v", revs)
	}
	gone := s.must(200, s.admin, "GET", fmt.Sprintf("/tsprov/v1/history/%s/%v", id, last["Revision"]), nil)
	if gone.body["Package"].(map[string]any)["Name"] != "Renamed" {
		t.Errorf("the deletion's revision holds %v", gone.body["Package"])
	}
	if a := s.do(s.admin, "POST", "/tsprov/v1/history/"+id+"/2/restore", nil); a.status != 409 {
		t.Errorf("restore of a deleted package: %d %s", a.status, a.raw)
	}
	if a := s.must(200, s.admin, "DELETE", "/tsprov/v1/history/"+id, nil); fmt.Sprint(a.body["Purged"]) != "3" {
		t.Errorf("purge: %s", a.raw)
	}
	if a := s.do(s.admin, "GET", "/tsprov/v1/history/"+id, nil); a.status != 404 {
		t.Errorf("history after the purge: %d %s", a.status, a.raw)
	}
	audit := s.must(200, s.admin, "GET", "/tsprov/v1/audit?$filter="+url.QueryEscape("Action eq 'PurgeHistory'"), nil)
	if n := len(audit.body["value"].([]any)); n != 1 {
		t.Errorf("%d PurgeHistory audit records, want 1", n)
	}
}

// TestHistoryRetention: with --history-keep 3 a package keeps its three
// newest revisions; numbers go on.
func TestHistoryRetention(t *testing.T) {
	s := startSecureServer(t, func(c *Config) { c.HistoryKeep = 3 })
	id := s.must(201, s.admin, "POST", tsPackagePath, map[string]any{"Name": "v0"}).body["PackageID"].(string)
	for i := 1; i <= 5; i++ {
		s.must(200, s.admin, "PATCH", tsPackagePath+"('"+id+"')", map[string]any{"Name": fmt.Sprintf("v%d", i)})
	}
	revs := s.revisionsOf(s.admin, id)
	var nums []string
	for _, r := range revs {
		nums = append(nums, fmt.Sprint(r["Revision"]))
	}
	if strings.Join(nums, ",") != "4,5,6" {
		t.Errorf("revisions kept: %v, want 4,5,6", nums)
	}
}

// TestRotationResealsHistory: a key rotation reseals the secrets the
// revisions hold too, so that a revision sealed before it still restores
// its secrets once the old key is gone.
func TestRotationResealsHistory(t *testing.T) {
	t.Setenv(secrets.EnvKey, "")
	s := startSecureServer(t, nil)
	id := s.storeSequence(s.admin, "Rotated history", secretSequenceXML("old1"))
	s.setSequenceXML(id, secretSequenceXML("new2"))
	s.stop()
	if _, err := Rekey(t.Context(), Config{DataDir: s.dir}); err != nil {
		t.Fatal(err)
	}
	again := startSecureServer(t, func(c *Config) { c.DataDir = s.dir })
	again.must(200, s.admin, "POST", "/tsprov/v1/history/"+id+"/1/restore", nil)
	again.stop()
	want := secretValues("old1")
	sort.Strings(want)
	if got := storedSecrets(t, s.dir, id); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("secrets after restoring a revision sealed before the rotation: %v, want %v", got, want)
	}
}
