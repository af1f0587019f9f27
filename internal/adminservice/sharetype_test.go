package adminservice_test

import (
	"strings"
	"testing"
)

// runSteps is a task sequence with one Run Command Line step per package.
func runSteps(packageIDs ...string) map[string]any {
	var steps []any
	for _, id := range packageIDs {
		steps = append(steps, map[string]any{
			"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
			"Name":        "Run from " + id, "CommandLine": "cmd /c setup.cmd", "PackageID": id,
		})
	}
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": steps}
}

func strs(v any) []string {
	out := []string{}
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestCheckReferencesShareType(t *testing.T) {
	s := newTestServer(t, 0)
	src := sourceTree(t, map[string]string{"setup.cmd": "echo"})
	mk := func(name string, props map[string]any) string {
		body := map[string]any{"Name": name}
		for k, v := range props {
			body[k] = v
		}
		return s.must(201, "POST", "/AdminService/wmi/SMS_Package", body).body["PackageID"].(string)
	}
	shared := mk("Shared", map[string]any{"PkgSourcePath": src, "PkgFlags": 0x80})
	unshared := mk("Not shared", map[string]any{"PkgSourcePath": src})
	noSource := mk("No source", nil)
	noPackage := mk("No package", map[string]any{"PkgSourcePath": src, "PkgFlags": 1 << 28})
	driver := s.must(201, "POST", "/AdminService/wmi/SMS_DriverPackage", map[string]any{"Name": "Drivers unshared", "PkgSourcePath": src}).body["PackageID"].(string)

	call := func(ts string) map[string]any {
		t.Helper()
		r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.CheckReferencesShareType", map[string]any{"PackageID": ts})
		return r.body
	}
	for _, tc := range []struct {
		name  string
		refs  []string
		can   bool
		ids   string
		names string
	}{
		{"all shared", []string{shared, noSource, noPackage, "PS1FFFFE"}, true, "", ""},
		{"one not shared", []string{shared, unshared}, false, unshared, "Not shared"},
		{"two not shared, in PackageID order", []string{driver, unshared, shared}, false, unshared + "," + driver, "Not shared,Drivers unshared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := s.setSequence(pkgBody(map[string]any{"Name": tc.name}), runSteps(tc.refs...))
			b := call(ts)
			ids, names := strs(b["PacakgeIds"]), strs(b["PackageNames"])
			if b["CanRunFromDP"] != tc.can || strings.Join(ids, ",") != tc.ids || strings.Join(names, ",") != tc.names {
				t.Errorf("CanRunFromDP %v, PacakgeIds %v, PackageNames %v; want %v, %q, %q", b["CanRunFromDP"], ids, names, tc.can, tc.ids, tc.names)
			}
			if num(b["ReturnValue"]) != 0 {
				t.Errorf("ReturnValue %v", b["ReturnValue"])
			}
		})
	}
	// Sharing the package is the fix.
	ts := s.setSequence(pkgBody(map[string]any{"Name": "fixed"}), runSteps(unshared))
	s.must(200, "PATCH", "/AdminService/wmi/SMS_Package('"+unshared+"')", map[string]any{"PkgFlags": 0x80})
	if b := call(ts); b["CanRunFromDP"] != true || len(strs(b["PacakgeIds"])) != 0 {
		t.Errorf("after sharing: %v", b)
	}

	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage.CheckReferencesShareType", map[string]any{"PackageID": "PS1FFFFF"}), 404, "no package PS1FFFFF")
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage.CheckReferencesShareType", map[string]any{"PackageID": shared}), 404, "not a task sequence package")
	expectError(t, s.do("POST", "/AdminService/wmi/SMS_TaskSequencePackage.CheckReferencesShareType", map[string]any{}), 400, "PackageID is required")
}
