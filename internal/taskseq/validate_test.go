package taskseq

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var stepPath = regexp.MustCompile(`^Steps\[\d+\](\.Steps\[\d+\])* ".*"$`)

// TestCorpusValidates: no corpus file breaks a rule that refuses it (only
// warnings), and each warning names the step (its path and name) and the
// property. The sequences ConfigMgr exported (object.xml) and those
// Microsoft published on the Community Hub report nothing at all.
func TestCorpusValidates(t *testing.T) {
	c := testCodec(t)
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ts, _, err := c.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		problems := Validate(ts)
		clean := strings.HasPrefix(filepath.Base(f), "microsoft__") || strings.HasSuffix(f, "_object.xml")
		if clean && len(problems) > 0 {
			t.Errorf("%s: a sequence ConfigMgr saved reports %v", filepath.Base(f), problems)
		}
		if errs := Errors(problems); len(errs) > 0 {
			t.Errorf("%s: errors that would refuse it: %v", filepath.Base(f), errs)
		}
		for _, p := range problems {
			if !stepPath.MatchString(p.Step) || p.Property == "" || p.Message == "" {
				t.Errorf("%s: imprecise problem %+v", filepath.Base(f), p)
			}
		}
	}
}

func TestValidateNamesStepAndProperty(t *testing.T) {
	c := testCodec(t)
	ts, _, err := c.Parse([]byte(`<sequence version="3.10"><group name="G"><step type="SMS_TaskSequence_RunCommandLineAction" name="" description=""><condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Operator">sortOf</variable><variable name="Variable">X</variable></expression></condition><action>cmd</action><defaultVarList><variable name="CommandLine" property="CommandLine">cmd</variable></defaultVarList></step></group></sequence>`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range Validate(ts) {
		got[p.Property] = p.Step
	}
	if got["Name"] != `Steps[0].Steps[0] ""` || got["Condition.Operands[0].Operator"] != `Steps[0].Steps[0] ""` {
		t.Errorf("problems %v", got)
	}
}

// TestMissingValuesAreWarningsAndDisabledStepsOweNone: a value an enabled
// step leaves out is a warning; a disabled step, and every step of a
// disabled group, owes none; a wrong value is an error wherever it is.
func TestMissingValuesAreWarningsAndDisabledStepsOweNone(t *testing.T) {
	c := testCodec(t)
	upgrade := func(name, attrs string) string {
		return `<step type="SMS_TaskSequence_UpgradeOperatingSystemAction" name="` + name + `" ` + attrs + `><action>OSDUpgradeOS.exe </action></step>`
	}
	ts, _, err := c.Parse([]byte(`<sequence version="3.10">` +
		upgrade("on", "") + upgrade("off", `disable="true"`) +
		`<group name="g" disable="true"><group name="inner">` + upgrade("deep", "") + `</group></group>` +
		upgrade("", `disable="true"`) + `</sequence>`))
	if err != nil {
		t.Fatal(err)
	}
	var warnings, errors []string
	for _, p := range Validate(ts) {
		if p.Warning {
			warnings = append(warnings, p.Step+": "+p.Property)
		} else {
			errors = append(errors, p.Step+": "+p.Property)
		}
	}
	if want := `Steps[0] "on": InstallPackageID Steps[0] "on": InstallPath`; strings.Join(warnings, " ") != want {
		t.Errorf("warnings %q; want %q", warnings, want)
	}
	if want := `Steps[3] "": Name`; strings.Join(errors, " ") != want {
		t.Errorf("errors %q; want %q", errors, want)
	}
}
