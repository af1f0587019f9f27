package cim

import "testing"

// A memo derives once per class, however often it is asked, and keeps
// classes apart.
func TestClassMemoDerivesOncePerClass(t *testing.T) {
	reg := loadTest(t, testMOF)
	leaf, _ := reg.Class("Leaf")
	base, _ := reg.Class("Base")
	calls := map[string]int{}
	memo := NewClassMemo(func(c *Class) int {
		calls[c.Name]++
		return len(c.Properties)
	})
	for range 3 {
		if got := memo.Of(leaf); got != len(leaf.Properties) {
			t.Fatalf("Of(Leaf) = %d, want %d", got, len(leaf.Properties))
		}
		if got := memo.Of(base); got != len(base.Properties) {
			t.Fatalf("Of(Base) = %d, want %d", got, len(base.Properties))
		}
	}
	if calls["Leaf"] != 1 || calls["Base"] != 1 {
		t.Errorf("derive calls %v, want one per class", calls)
	}
}
