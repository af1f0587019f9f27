package query_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
)

// showEvent prints an event statement: class, WITHIN, SELECT list,
// condition.
func showEvent(s *query.EventStatement) string {
	props := "*"
	if s.Properties != nil {
		props = "[" + strings.Join(s.Properties, ",") + "]"
	}
	out := fmt.Sprintf("%s within %g %s", s.EventClass, s.Within, props)
	if s.Where != nil {
		out += " " + show(s.Where, false)
	}
	return out
}

// TestParseEventWQL: event queries of the grammar of MS-WMI §2.2.1.2 and
// of real subscriptions parse into the shared AST, with property paths.
func TestParseEventWQL(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'",
			`__InstanceModificationEvent within 5 * (and (isa TargetInstance "SMS_TaskSequencePackage") (like TargetInstance.Name "Win%"))`},
		{"select * from __instanceoperationevent within 0.5 where TargetInstance isa \"SMS_TaskSequencePackage\"",
			`__InstanceOperationEvent within 0.5 * (isa TargetInstance "SMS_TaskSequencePackage")`},
		{"SELECT * FROM __InstanceCreationEvent", "__InstanceCreationEvent within 0 *"},
		{"SELECT * FROM __InstanceDeletionEvent WHERE TargetInstance.PackageID = 'PS100001'",
			`__InstanceDeletionEvent within 0 * (= TargetInstance.PackageID "PS100001")`},
		{"SELECT * FROM __InstanceModificationEvent WHERE TargetInstance.Name <> PreviousInstance.Name",
			`__InstanceModificationEvent within 0 * (<> TargetInstance.Name PreviousInstance.Name)`},
		{"SELECT TargetInstance.Name FROM __MethodInvocationEvent", "__MethodInvocationEvent within 0 [TargetInstance.Name]"},
	} {
		st, err := query.ParseEventWQL(c.src)
		if err != nil {
			t.Errorf("ParseEventWQL(%q): %v", c.src, err)
			continue
		}
		if got := showEvent(st); got != c.want {
			t.Errorf("ParseEventWQL(%q)\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}

// TestParseEventWQLErrors: what tsprov does not serve is NotImplemented
// by name; malformed queries are Invalid with a position.
func TestParseEventWQLErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		kind errs.Kind
		msg  string
	}{
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_NTLogEvent' GROUP WITHIN 600 BY TargetInstance.SourceName HAVING NumberOfEvents > 25",
			errs.NotImplemented, "GROUP WITHIN"},
		{"SELECT * FROM __InstanceCreationEvent HAVING NumberOfEvents > 1", errs.NotImplemented, "HAVING"},
		{"SELECT * FROM __ClassCreationEvent", errs.NotImplemented, "__ClassCreationEvent"},
		{"SELECT * FROM SMS_TaskSequencePackage", errs.NotImplemented, "SMS_TaskSequencePackage"},
		{"SELECT * FROM __InstanceCreationEvent WITHIN 0", errs.Invalid, "WITHIN takes a positive number"},
		{"SELECT * FROM __InstanceCreationEvent WITHIN soon", errs.Invalid, "position 46"},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance.Name = 'x' WITHIN 5", errs.Invalid, "WITHIN comes before WHERE"},
		{"SELECT * FROM __InstanceCreationEvent WHERE", errs.Invalid, "ends too soon"},
		{"FROM __InstanceCreationEvent", errs.Invalid, "expected SELECT"},
	} {
		_, err := query.ParseEventWQL(c.src)
		if errs.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseEventWQL(%q): %v, want kind %v saying %q", c.src, err, c.kind, c.msg)
		}
	}
	// a data query still refuses event queries and property paths
	if _, err := query.ParseWQL("SELECT * FROM X WHERE TargetInstance.Name = 'a'"); errs.KindOf(err) != errs.Invalid {
		t.Errorf("ParseWQL with a property path: %v, want Invalid", err)
	}
}
