package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
	"github.com/tsprov/tsprov/schema"
)

const corpus = taskseqtest.Corpus

// children answers Run Task Sequence steps from testdata/cases/<ID>.xml.
func children(t testing.TB, c *taskseq.Codec) func(string) (*cim.Instance, error) {
	return func(id string) (*cim.Instance, error) {
		path := filepath.Join("testdata", "cases", id+".xml")
		if _, err := os.Stat(path); err != nil {
			return nil, errs.E(errs.NotFound, "no task sequence package %s", id)
		}
		return taskseqtest.ParseFile(t, c, path), nil
	}
}

func simulate(t testing.TB, c *taskseq.Codec, file, machine, vars string) *Plan {
	t.Helper()
	opts := Options{Child: children(t, c)}
	if machine != "" {
		data, err := os.ReadFile(filepath.Join("testdata", "machines", machine+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if opts.Machine, err = ParseMachine(data, c.Registry()); err != nil {
			t.Fatal(err)
		}
	}
	if vars != "" {
		data, err := os.ReadFile(filepath.Join("testdata", "vars", vars+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if opts.Variables, err = ParseVariables(data); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Simulate(taskseqtest.ParseFile(t, c, file), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var planCases = []struct {
	name, file, machine, vars string
}{
	// the path depends on a WMI answer (Manufacturer LIKE "%HP%"), then on
	// a variable read by Set Dynamic Variables rules (Product), then on
	// the variable those rules set (W10X64DRIVERPACKAGE)
	{"model-support-hp", corpus + "gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml", "hp-laptop-winpe", "hp-80fc"},
	{"model-support-unsupported", corpus + "gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml", "hp-laptop-winpe", "unsupported"},
	{"model-support-dell", corpus + "gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml", "dell-desktop", "hp-80fc"},
	{"chassis-laptop", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-use-Chassis-Type-Queries.xml", "hp-laptop-winpe", ""},
	{"chassis-desktop", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-use-Chassis-Type-Queries.xml", "dell-desktop", ""},
	{"chassis-no-machine", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-use-Chassis-Type-Queries.xml", "", ""},
	{"hypervisor-dell", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-Test-for-HyperVisor.xml", "dell-desktop", ""},
	{"mdt-client", corpus + "keithga__DeployShared__Source_MDT.8456_Templates_Client.xml", "dell-desktop", "unsupported"},
	// a variable through like, continue on error, a restart, a child task
	// sequence with a make-and-model rule, a step in the wrong environment
	{"parent-hp", "testdata/cases/parent.xml", "hp-laptop-winpe", "hp-80fc"},
	{"parent-dell", "testdata/cases/parent.xml", "dell-desktop", "unsupported"},
}

// TestPlanGolden simulates each case and compares the tree with
// testdata/golden/<name>.txt (go test -update rewrites them).
func TestPlanGolden(t *testing.T) {
	c := taskseqtest.Codec(t)
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			p := simulate(t, c, tc.file, tc.machine, tc.vars)
			var b bytes.Buffer
			if err := WriteTree(&b, p); err != nil {
				t.Fatal(err)
			}
			want := golden.Want(t, filepath.Join("testdata", "golden", tc.name+".txt"), b.Bytes())
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("plan differs from the golden file (go test -update to accept):\n%s", b.String())
			}
		})
	}
}

func TestPlanJSONGolden(t *testing.T) {
	c := taskseqtest.Codec(t)
	p := simulate(t, c, "testdata/cases/parent.xml", "hp-laptop-winpe", "hp-80fc")
	var b bytes.Buffer
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	want := golden.Want(t, "testdata/golden/parent-hp.json", b.Bytes())
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("JSON differs from the golden file:\n%s", b.String())
	}
}

// find returns the plan step with the given name (first, depth first).
func find(list []*Step, name string) *Step {
	for _, st := range list {
		if st.Name == name {
			return st
		}
		if f := find(st.Steps, name); f != nil {
			return f
		}
	}
	return nil
}

// TestPlanPaths states what the golden files show, so that a wrong
// golden file cannot pass unnoticed.
func TestPlanPaths(t *testing.T) {
	c := taskseqtest.Codec(t)
	ms := corpus + "gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml"
	type want struct {
		step    string
		outcome Outcome
		reason  string // a part of the reason
	}
	for _, tc := range []struct {
		name, file, machine, vars string
		wants                     []want
		completed                 bool
	}{
		{"variable and dynamic rule", ms, "hp-laptop-winpe", "hp-80fc", []want{
			{"Set HP Driver Package Variables - Prod", Run, ""},
			{"Set Dell Driver Package Variables - Prod", Skipped, `WMI "Select * From Win32_ComputerSystem WHERE Manufacturer LIKE \"%DELL%\"": selects no instance`},
			{"If Model Not Found", Skipped, `W10X64DRIVERPACKAGE notExists: W10X64DRIVERPACKAGE is "PS200902"`},
			{"Download & Apply Drivers", Run, ""},
		}, true},
		{"variable decides the other way", ms, "hp-laptop-winpe", "unsupported", []want{
			{"If Model Not Found", Run, ""},
			{"Exit TS - Model Not Supported", Run, ""},
			{"Download & Apply Drivers", Skipped, "W10X64DRIVERPACKAGE exists: W10X64DRIVERPACKAGE is not set"},
		}, true},
		{"WMI answer", ms, "dell-desktop", "hp-80fc", []want{
			{"Set HP Driver Package Variables - Prod", Skipped, "none holds"},
			{"Set Dell Driver Package Variables - Prod", Run, ""},
			{"Set Dell Driver Package Variables - Prod", Run, "none of its 26 rules holds"},
			{"Download & Apply Drivers", Skipped, "W10X64DRIVERPACKAGE is not set"},
		}, true},
		{"no machine", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-use-Chassis-Type-Queries.xml", "", "", []want{
			{"Is Laptop", Unknown, "does not list that class"},
		}, true},
		{"child, like, continue on error, environment", "testdata/cases/parent.xml", "hp-laptop-winpe", "hp-80fc", []want{
			{"Kiosk", Run, ""}, // the failing step has continue on error itself
			{"Configure kiosk", Failed, "failingSteps"},
			{"Log the kiosk failure", Run, ""},
			{"Install mobile apps", Run, ""},
			{"Install the ledger", Run, ""},
			{"Copy logs from Windows PE", Failed, "runs only in Windows PE"},
			{"Report done", NotReached, ""},
		}, false},
		{"child, other machine", "testdata/cases/parent.xml", "dell-desktop", "unsupported", []want{
			{"Configure kiosk", Run, ""},
			{"Log the kiosk failure", Skipped, `_SMSTSLastActionSucceeded is "true"`},
			{"Install mobile apps", Skipped, `AppSet equals "MOBILE": AppSet is not set`},
			{"Install the ledger", Skipped, "Ledger is not set"},
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := simulate(t, c, tc.file, tc.machine, tc.vars)
			for _, w := range tc.wants {
				st := find(p.Steps, w.step)
				switch {
				case st == nil:
					t.Errorf("no step %q", w.step)
				case st.Outcome != w.outcome:
					t.Errorf("%s: %s (%s); want %s", w.step, st.Outcome, st.Reason, w.outcome)
				case !strings.Contains(st.Reason, w.reason):
					t.Errorf("%s: reason %q; want it to say %q", w.step, st.Reason, w.reason)
				}
			}
			if p.Completed != tc.completed {
				t.Errorf("completed = %v (failed at %s); want %v", p.Completed, p.FailedAt, tc.completed)
			}
		})
	}
}

func TestMachineErrors(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"environment": "DOS"}`,
		`{"wmi": {"root\\cimv2": {"Win32_X": [{"bad name": 1}]}}}`,
		`{"unknownMember": true}`,
		`[1, 2]`,
	} {
		if _, err := ParseMachine([]byte(bad), reg); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseMachine(%s) = %v; want an Invalid error", bad, err)
		}
	}
	if _, err := ParseVariables([]byte(`{"A": {"b": 1}}`)); !errs.Is(err, errs.Invalid) {
		t.Errorf("ParseVariables accepted an object value: %v", err)
	}
}

// TestWQLOverMachine: the machine's instances answer WQL as WMI would:
// types from the JSON, constants converted, arrays element by element,
// a property the class lacks an error.
func TestWQLOverMachine(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMachine([]byte(`{"wmi": {"ROOT\\CIMV2": {
		"Win32_SystemEnclosure": [{"ChassisTypes": [9, 10], "Manufacturer": "HP"}],
		"Win32_Battery": []
	}}}`), reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ns, q         string
		found, listed bool
		fails         bool
	}{
		{`root\cimv2`, `SELECT * FROM Win32_SystemEnclosure WHERE ChassisTypes = "10"`, true, true, false},
		{`root\cimv2`, `SELECT * FROM Win32_SystemEnclosure WHERE ChassisTypes = 3`, false, true, false},
		{`root\cimv2`, `select * from win32_systemenclosure where manufacturer like 'h%'`, true, true, false},
		{`\\.\root\cimv2`, `SELECT * FROM Win32_Battery`, false, true, false},
		{`root\cimv2`, `SELECT * FROM Win32_Processor`, false, false, false},
		{`root\cimv2`, `SELECT * FROM Win32_SystemEnclosure WHERE SerialNumber = 'x'`, false, true, true},
		{`root\cimv2`, `SELECT * FORM Win32_SystemEnclosure`, false, true, true},
	} {
		found, listed, err := m.wql(tc.ns, tc.q)
		if found != tc.found || listed != tc.listed || (err != nil) != tc.fails {
			t.Errorf("%s: found %v listed %v err %v; want %v %v fails=%v", tc.q, found, listed, err, tc.found, tc.listed, tc.fails)
		}
		if err != nil && strings.Contains(err.Error(), "TSPROV_Machine") {
			t.Errorf("%s: the error names the declared class: %v", tc.q, err)
		}
	}
}

// TestConditionKinds: each kind of condition against one machine, with
// the engine's rules (numbers as numbers, not over or, a failing query
// failing the step).
func TestConditionKinds(t *testing.T) {
	c := taskseqtest.Codec(t)
	data, err := os.ReadFile("testdata/machines/kinds.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMachine(data, c.Registry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Simulate(taskseqtest.ParseFile(t, c, "testdata/cases/condition-kinds.xml"), Options{
		Machine:   m,
		Variables: map[string]string{"SystemDrive": "C:", "Count": "10", "Letter": "c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Outcome{
		"file exists":                Run, // case-insensitive, %SystemDrive% expanded
		"file missing":               Skipped,
		"folder exists":              Run, // a trailing \ does not matter
		"registry value equals":      Skipped,
		"registry key exists":        Run,
		"registry value greater":     Run, // 12 > 5 as numbers
		"software this version":      Run,
		"software any version":       Skipped,
		"os at least 10":             Run,
		"os x86":                     Skipped,
		"numbers compare as numbers": Run, // "10" > "9" as numbers, not as text
		"not of an or":               Run,
		"WMI fails":                  Failed,
	}
	for _, st := range p.Steps {
		if w, ok := want[st.Name]; !ok || st.Outcome != w {
			t.Errorf("%s: %s (%s); want %s", st.Name, st.Outcome, st.Reason, w)
		}
	}
	if p.Completed || p.FailedAt != "Steps[12]" {
		t.Errorf("completed %v at %q; the failing WMI query should stop the sequence at Steps[12]", p.Completed, p.FailedAt)
	}
	// nothing known of the machine: every kind is unknown, none false
	p, err = Simulate(taskseqtest.ParseFile(t, c, "testdata/cases/condition-kinds.xml"), Options{Variables: map[string]string{"Count": "10", "Letter": "c"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Steps[:10] {
		if st.Outcome != Unknown {
			t.Errorf("no machine: %s is %s (%s); want unknown", st.Name, st.Outcome, st.Reason)
		}
	}
}
