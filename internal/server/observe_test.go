package server

import "testing"

// TestRouteGroup: the route label of the request metrics, for paths in
// any casing (the AdminService's prefix is matched without regard to
// case, as the server routes it) and with characters that lower-case to
// something else or to nothing ASCII.
func TestRouteGroup(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/healthz", "/healthz"},
		{"/HealthZ", "/healthz"},
		{"/metrics", "/metrics"},
		{"/METRICS", "/metrics"},
		{"/metricſ", "other"}, // a long s lower-cases to itself
		{"/metrics/", "other"},
		{"/AdminService/wmi/$metadata", "metadata"},
		{"/adminservice/WMI/$Metadata#x", "metadata"},
		{"/AdminService/wmi/", "service-document"},
		{"/AdminService/wmi/SMS_TaskSequencePackage", "collection"},
		{"/AdminService/wmi/SMS_TaskSequencePackage('PS100001')", "instance"},
		{"/AdminService/wmi/SMS_TaskSequencePackage/PS100001", "instance"},
		{"/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", "method"},
		{"/AdminService/wmi/SMS_TaskSequencePackage('PS1')/AdminService.GetSequence", "method"},
		{"/AdminServİce/wmi/SMS_TaskSequencePackage", "instance"}, // İ lowers to i, a byte shorter
		{"/ADMINSERVICE/WMI/SMS_Package", "collection"},
		{"/HEALTHZ/x", "other"},
		{"/AdminService/v1.0/", "other"},
		{"/tsprov/v1/wql", "other"},
		{"", "other"},
	}
	for _, tc := range tests {
		if got := routeGroup(tc.path); got != tc.want {
			t.Errorf("routeGroup(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
