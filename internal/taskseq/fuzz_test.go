package taskseq

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCodec: any input either fails to parse with an error, or parses,
// writes, and reads back to the same XML. No input may panic or hang.
// Run by hand: go test -run '^$' -fuzz FuzzCodec -fuzztime 10m ./internal/taskseq
func FuzzCodec(f *testing.F) {
	for _, seed := range []string{
		`<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="a" description="" runIn="WinPEandFullOS" successCodeList="0 3010" retryCount="0" runFromNet="false"><action>cmd /c exit 0</action><defaultVarList><variable name="CommandLine" property="CommandLine" hidden="true">cmd /c exit 0</variable></defaultVarList></step></sequence>`,
		`<sequence version="3.00" name="x"><group name="g" disable="true"><condition><operator type="or"><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Variable">A</variable><variable name="Operator">equals</variable><variable name="Value">1</variable></expression></operator></condition><action /></group><globalVarList><variable name="OSGUID" property="OSGUID">{1}</variable></globalVarList></sequence>`,
		`&lt;sequence version="3.10"&gt;&lt;/sequence&gt;`,
		`<!-- c --><?xml version="1.0"?><sequence version="3.00"/>`,
		`<SmsTaskSequencePackage><Name>n</Name><SequenceData><sequence version="3.00"/></SequenceData></SmsTaskSequencePackage>`,
		`<INSTANCE CLASSNAME="SMS_TaskSequencePackage"><PROPERTY NAME="Sequence"><VALUE>&lt;sequence version="3.10"/&gt;</VALUE></PROPERTY></INSTANCE>`,
		`<sequence><step type="SMS_TaskSequence_SetDynamicVariablesAction" name="r"><defaultVarList><variable name="OSDSetDynamicVariablesRules" property="Rules">&lt;Rules&gt;&lt;Rule&gt;&lt;Variables&gt;&lt;Variable Name="A" IsSecret="false"&gt;1&lt;/Variable&gt;&lt;/Variables&gt;&lt;/Rule&gt;&lt;/Rules&gt;</variable></defaultVarList></step></sequence>`,
	} {
		f.Add([]byte(seed))
	}
	for _, name := range []string{
		"microsoft__configmgr-hub__objects_TaskSequence_Gather-Light.xml",
		"microsoft__configmgr-hub-firstparty__How-to-add-an-entry-to-Hosts-file.xml",
	} {
		if data, err := os.ReadFile(filepath.Join("../../testdata/ts-corpus", name)); err == nil {
			f.Add(data)
		}
	}
	c := testCodec(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("codec took over 5 s on %q", data))
			}
		}()
		ts, _, err := c.Parse(data)
		if err != nil {
			return
		}
		first, err := c.Encode(ts, WriteOptions{})
		if err != nil {
			return // an annotation that cannot be written is reported, not a crash
		}
		again, err := c.Decode(reparse(t, first))
		if err != nil {
			t.Fatalf("written XML does not decode: %v\n%s", err, first)
		}
		second, err := c.Encode(again, WriteOptions{})
		if err != nil {
			t.Fatalf("second encode: %v", err)
		}
		if Canonical(first) != Canonical(second) {
			t.Fatalf("not stable:\n%s", firstDifference(Canonical(first), Canonical(second)))
		}
	})
}
