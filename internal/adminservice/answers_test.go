package adminservice

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestAnswersStayBounded: however many entities are kept, their bytes
// stay within maxAnswersBytes, and the one just kept is there.
func TestAnswersStayBounded(t *testing.T) {
	var a answers
	entity := bytes.Repeat([]byte("x"), maxAnswerBytes)
	for i := range 4 * maxAnswersBytes / maxAnswerBytes {
		key := fmt.Sprintf("PS%06d", i)
		a.keep("SMS_TaskSequencePackage", key, &answer{body: entity})
		if a.bytes > maxAnswersBytes {
			t.Fatalf("after %d entities of %d bytes: %d bytes kept, more than %d", i+1, len(entity), a.bytes, maxAnswersBytes)
		}
		if a.lookup("SMS_TaskSequencePackage", key) == nil {
			t.Fatalf("the entity of %s, just kept, is not there", key)
		}
		total := 0
		for _, e := range a.byKey {
			total += cap(e.body)
		}
		if total != a.bytes {
			t.Fatalf("%d bytes counted, %d kept", a.bytes, total)
		}
	}
	a.keep("SMS_TaskSequencePackage", "PS000000", &answer{body: []byte("{}")})
	a.keep("SMS_TaskSequencePackage", "PS000000", &answer{body: []byte("{1}")})
	if got := a.lookup("SMS_TaskSequencePackage", "PS000000"); string(got.body) != "{1}" {
		t.Errorf("a key kept twice holds %s", got.body)
	}
}

// TestCaptureKeepsAtMostMaxAnswerBytes: the copy of an entity is kept
// while it fits maxAnswerBytes and dropped beyond, and everything is
// written through either way.
func TestCaptureKeepsAtMostMaxAnswerBytes(t *testing.T) {
	for _, n := range []int{0, 1, maxAnswerBytes - 1, maxAnswerBytes, maxAnswerBytes + 1, 3 * maxAnswerBytes} {
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		c := &capture{w: bw}
		text := strings.Repeat("ab", n/2) + strings.Repeat("c", n%2)
		half := len(text) / 2
		c.WriteString(text[:half])
		if half < len(text) {
			c.WriteByte(text[half])
			c.Write([]byte(text[half+1:]))
		}
		bw.Flush()
		if out.String() != text {
			t.Errorf("%d bytes: %d written through", n, out.Len())
		}
		if kept := n <= maxAnswerBytes; kept != !c.over || (kept && string(c.buf) != text) || (!kept && c.buf != nil) {
			t.Errorf("%d bytes: over %v, %d kept", n, c.over, len(c.buf))
		}
	}
}
