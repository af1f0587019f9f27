package taskseq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// variableTexts lists every <variable> under e (of steps, of the
// globalVarList, of condition expressions) as name=text, in document order.
func variableTexts(e *Element) []string {
	var out []string
	for _, ch := range e.Elements() {
		if ch.Name == "variable" {
			name, _ := ch.Attr("name")
			out = append(out, name+"="+ch.Text())
		}
		out = append(out, variableTexts(ch)...)
	}
	return out
}

// sameTexts reports the first variable whose text differs.
func sameTexts(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d variables written, %d read", what, len(got), len(want))
		return
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("%s: variable %d:\n read    %q\n written %q", what, i, want[i], got[i])
			return
		}
	}
}

// dynamicVariablesFiles are the corpus files with a Set Dynamic Variables
// step (grep -l SMS_TaskSequence_SetDynamicVariablesAction).
var dynamicVariablesFiles = []string{
	"gwblok__garytown__BlackLotusKB5025885_ConfigMgr_KB5025885---Media-Creator__SMS_TaskSequencePackage_2CM0003C_object.xml",
	"gwblok__garytown__ConfigMgr_Baselines_CVE-2023-24932_KB5025885---Remediation__SMS_TaskSequencePackage_2CM00010_object.xml",
	"gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml",
	"gwblok__garytown__OSD_LanguagePackModule-TS__SMS_TaskSequencePackage_MEM00022_object.xml",
	"gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml",
	"gwblok__garytown__hardware_HP_HPIA-RefFileTS_HPIA_Task_Sequence__SMS_TaskSequencePackage_MEM00169_object.xml",
	"microsoft__configmgr-hub__objects_TaskSequence_Gather-Light.xml",
	"microsoft__configmgr-hub__objects_TaskSequence_Module---Splash-Screen.xml",
}

// TestCorpusVariableTextsRoundTrip: every variable of every corpus file is
// written back with exactly the text it was read with (the embedded XML of
// Set Dynamic Variables rules included), directly and after a trip through
// JSON with the annotation.
func TestCorpusVariableTextsRoundTrip(t *testing.T) {
	c := testCodec(t)
	withRules := map[string]bool{}
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ts, doc, err := c.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		read := variableTexts(doc.Sequence)
		for _, v := range read {
			if strings.HasPrefix(v, "OSDSetDynamicVariablesRules=") {
				withRules[name] = true
			}
		}
		for _, trip := range []struct {
			what string
			in   *cim.Instance
		}{{"XML", ts}, {"JSON", viaJSON(t, c, ts)}} {
			out, err := c.Encode(trip.in, WriteOptions{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameTexts(t, name+" via "+trip.what, read, variableTexts(out))
		}
	}
	for _, f := range dynamicVariablesFiles {
		if !withRules[f] {
			t.Errorf("%s: no Set Dynamic Variables rules found", f)
		}
	}
}

// TestCorpusRulesAsConfigMgrWritesThem: rules written from the object model
// alone (as a changed or JSON-built step is written) are, for every Set
// Dynamic Variables step of the corpus, byte for byte the text ConfigMgr
// wrote: compact, explicit end tags, a line feed after </Rules>.
func TestCorpusRulesAsConfigMgrWritesThem(t *testing.T) {
	c := testCodec(t)
	w := &writer{c: c}
	count := 0
	for _, f := range dynamicVariablesFiles {
		data, err := os.ReadFile(filepath.Join(corpusDirs[0], f))
		if err != nil {
			t.Fatal(err)
		}
		_, doc, err := c.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range variableTexts(doc.Sequence) {
			text, ok := strings.CutPrefix(v, "OSDSetDynamicVariablesRules=")
			if !ok {
				continue
			}
			count++
			rules, ok := c.parseRules(text)
			if !ok {
				t.Fatalf("%s: rules do not parse: %q", f, text)
			}
			got, err := w.rulesXML(rules, "Rules")
			if err != nil {
				t.Fatal(err)
			}
			if got != text {
				t.Errorf("%s: rules written from the model differ from ConfigMgr's:\n%s", f, firstDifference(text, got))
			}
		}
	}
	if count < len(dynamicVariablesFiles) {
		t.Errorf("%d rules values checked, fewer than the files", count)
	}
}

// TestVariableTextsKeepTheirBytes: values with outer white space, line
// breaks, tabs, entity forms and empty rule variables come back as they
// went in; a changed rule is written in ConfigMgr's form.
func TestVariableTextsKeepTheirBytes(t *testing.T) {
	c := testCodec(t)
	rules := `<Rules><Rule><Variables><Variable Name="Empty" IsSecret="false"></Variable><Variable Name="Spaced" IsSecret="false">  a  b  </Variable></Variables></Rule></Rules>` + "\n"
	src := `<sequence version="3.10"><globalVarList><variable name="G" property="G">  padded&#9;tab  </variable></globalVarList>` +
		`<step type="SMS_TaskSequence_SetVariableAction" name="S" description="" runIn="WinPEandFullOS" successCodeList="0 3010">` +
		`<action>tsenv.exe "V= two&#xD;&#xA;lines " /hiddenflag:False</action><defaultVarList>` +
		`<variable name="DoNotShowVariableValue" property="DoNotShowVariableValue" hidden="true">False</variable>` +
		`<variable name="VariableName" property="VariableName" hidden="true">V</variable>` +
		`<variable name="VariableValue" property="VariableValue" hidden="true"> two&#xD;&#xA;lines </variable></defaultVarList></step>` +
		`<step type="SMS_TaskSequence_SetDynamicVariablesAction" name="D" description="" runIn="WinPEandFullOS" successCodeList="0 3010">` +
		`<action>OSDSetDynamicVariables.exe</action><defaultVarList>` +
		`<variable name="OSDSetDynamicVariablesRules" property="Rules" hidden="true">` + escapeText(rules) + `</variable>` +
		`</defaultVarList></step>` +
		`<step type="SMS_TaskSequence_RunCommandLineAction" name="R" description="" runIn="WinPEandFullOS" successCodeList="0 3010">` +
		`<condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Operator">equals</variable>` +
		`<variable name="Value">&#x41;&apos;s &quot;x&quot; </variable><variable name="Variable">X</variable></expression></condition>` +
		`<action>smsswd.exe /run: cmd /c echo 1 </action><defaultVarList>` +
		`<variable name="CommandLine" property="CommandLine" hidden="true">cmd /c echo 1 </variable>` +
		`<variable name="SuccessCodes" property="SuccessCodes" hidden="true">0   3010</variable>` +
		`</defaultVarList></step></sequence>`
	ts, doc, err := c.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	read := variableTexts(doc.Sequence)
	for _, trip := range []struct {
		what string
		in   *cim.Instance
	}{{"XML", ts}, {"JSON", viaJSON(t, c, ts)}} {
		out, err := c.Encode(trip.in, WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sameTexts(t, trip.what, read, variableTexts(out))
	}

	// a changed rule: the whole value in ConfigMgr's form
	step := findStep(t, ts, "D")
	rule := step.Values["Rules"].([]any)[0].(*cim.Instance)
	rule.Values["Variables"].([]any)[1].(*cim.Instance).Set("Value", "changed")
	out, err := c.Encode(ts, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<Rules><Rule><Variables><Variable Name="Empty" IsSecret="false"></Variable><Variable Name="Spaced" IsSecret="false">changed</Variable></Variables></Rule></Rules>` + "\n"
	found := false
	for _, v := range variableTexts(out) {
		if text, ok := strings.CutPrefix(v, "OSDSetDynamicVariablesRules="); ok {
			found = true
			if text != want {
				t.Errorf("changed rules written as\n%q\nwant\n%q", text, want)
			}
		}
	}
	if !found {
		t.Error("no rules variable written")
	}
}
