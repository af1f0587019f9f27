package events_test

import (
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/events"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// TestQueryMatch: a WQL event query selects the events of its event
// class, about instances of the class ISA names, whose values (the new
// ones and, for a modification, the previous ones) meet its condition.
func TestQueryMatch(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pkgClass, _ := reg.Class("SMS_TaskSequencePackage")
	pkg := func(name string) *cim.Instance {
		in := cim.NewInstance(pkgClass)
		in.Set("PackageID", "PS100001")
		in.Set("Name", name)
		when := "20250601000000.000000+000"
		if strings.HasSuffix(name, "v2") {
			when = "20260601000000.000000+000"
		}
		d, err := cim.ParseDateTime(when)
		if err != nil {
			t.Fatal(err)
		}
		in.Set("SourceDate", d)
		return in
	}
	ev := func(op store.EventOp, target, previous *cim.Instance) store.Event {
		e, err := store.NewEvent(op, pkgClass, "PS100001", 1, target, previous)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	created := ev(store.Created, pkg("Windows 11"), nil)
	renamed := ev(store.Modified, pkg("Windows 11 v2"), pkg("Windows 11"))
	other := ev(store.Modified, pkg("Server 2022"), pkg("Server 2019"))
	deleted := ev(store.Deleted, pkg("Windows 10"), nil)
	method := ev(store.Invoked, pkg("Windows 11"), nil)
	method.Method = "SetSequence"
	all := []store.Event{created, renamed, other, deleted, method}
	names := []string{"created", "renamed", "other", "deleted", "method"}
	for _, tc := range []struct {
		src  string
		want []bool
	}{
		{"SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'",
			[]bool{false, true, false, false, false}},
		{"SELECT * FROM __InstanceOperationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage'",
			[]bool{true, true, true, true, false}},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_PackageBaseclass'",
			[]bool{true, true, true, true, false}},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_Admin'",
			[]bool{false, false, false, false, false}},
		{"SELECT * FROM __InstanceModificationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND PreviousInstance.Name = 'server 2019'",
			[]bool{false, false, true, false, false}},
		{"SELECT * FROM __InstanceModificationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name <> PreviousInstance.Name",
			[]bool{false, true, true, false, false}},
		{"SELECT * FROM __InstanceDeletionEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name = 'Windows 10'",
			[]bool{false, false, false, true, false}},
		{"SELECT * FROM __InstanceModificationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.SourceDate > '20260101000000.000000+000'",
			[]bool{false, true, false, false, false}},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.SourceDate = '20250601000000.000000+000'",
			[]bool{true, false, true, true, false}},
		{"SELECT * FROM __MethodInvocationEvent", []bool{false, false, false, false, true}},
		{"SELECT * FROM __InstanceCreationEvent", []bool{true, false, false, false, false}},
	} {
		q, err := events.Parse(reg, tc.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		for i, e := range all {
			got, err := q.Match(e)
			if err != nil || got != tc.want[i] {
				t.Errorf("%q matches the %s event: %v, %v; want %v", tc.src, names[i], got, err, tc.want[i])
			}
		}
	}
}

// TestParseRefuses: what a query gets wrong is named.
func TestParseRefuses(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  string
		kind errs.Kind
	}{
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'NoSuchClass'", errs.Invalid},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.NoSuch = 1", errs.Invalid},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance.Name = 'x'", errs.Invalid},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND Name = 'x'", errs.Invalid},
		{"SELECT * FROM __InstanceCreationEvent WHERE PreviousInstance ISA 'SMS_TaskSequencePackage'", errs.NotImplemented},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' GROUP WITHIN 600 HAVING NumberOfEvents > 2", errs.NotImplemented},
	} {
		if _, err := events.Parse(reg, tc.src); errs.KindOf(err) != tc.kind {
			t.Errorf("Parse(%q): %v, want kind %v", tc.src, err, tc.kind)
		}
	}
}
