package taskseq

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var stepPath = regexp.MustCompile(`^Steps\[\d+\](\.Steps\[\d+\])* ".*"$`)

// TestCorpusValidates: every corpus file validates, or each problem it
// reports names the step (its path and name) and the property. The
// sequences Microsoft published on the Community Hub validate clean.
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
		if strings.HasPrefix(filepath.Base(f), "microsoft__") && len(problems) > 0 {
			t.Errorf("%s: a Microsoft-published sequence reports %v", filepath.Base(f), problems)
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
