package taskseq

import (
	"fmt"
	"strings"
	"testing"
)

// TestLowerSet: a lowerSet finds a name when strings.ToLower makes it one
// it holds, also for names beyond ASCII and once it has moved to a map.
func TestLowerSet(t *testing.T) {
	names := []string{"CommandLine", "commandline", "COMMANDLINE", "CommandLinE2", "AppInfo[0].Name",
		"appinfo[0].name", "AppInfo[1].Name", "", "K", "k", "\u212a", "ſ", "s", "S", "İ", "i̇", "Ä", "ä", "a", "Straße", "STRASSE"}
	for _, size := range []int{1, lowerSetList + 5} {
		for _, held := range names {
			var s lowerSet
			for i := 1; i < size; i++ {
				s.add(fmt.Sprintf("Filler%d", i))
			}
			s.add(held)
			for _, asked := range names {
				want := strings.ToLower(held) == strings.ToLower(asked)
				if got := s.has(asked); got != want {
					t.Errorf("size %d: set of %q has(%q) = %v, want %v", size, held, asked, got, want)
				}
			}
		}
	}
}
