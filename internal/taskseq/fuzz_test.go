package taskseq

import (
	"fmt"
	"testing"
	"time"
)

// fuzzCodecMaxInput bounds the inputs FuzzCodec explores. Go's fuzzer
// minimises every input that finds new coverage, with a pass quadratic in
// its size, for up to -fuzzminimizetime (60 s) during which it counts no
// executions and tries no new input. The codec costs about 1.2 ms on a
// 14 KB corpus file and 50 µs on a 0.8 KB one, so with corpus files as
// seeds the target sat at 0 executions/s for most of each minute. The
// fuzzer explores structure, not size: whole files are round-tripped by
// TestCorpusRoundTrip, and size is held by the limits' own tests.
const fuzzCodecMaxInput = 512

// FuzzCodec: any input either fails to parse with an error, or parses,
// writes, and reads back to the same XML. No input may panic or hang.
// Run by hand: go test -run '^$' -fuzz '^FuzzCodec$' -fuzztime 10m -parallel 1 ./internal/taskseq
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
	c := testCodec(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzCodecMaxInput {
			return
		}
		watchdog := time.AfterFunc(5*time.Second, func() {
			panic(fmt.Sprintf("codec took over 5 s on %q", data))
		})
		defer watchdog.Stop()
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
