package policy

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestProgramHash(t *testing.T) {
	// 6F6BCC28 ends every captured task sequence policy id.
	if got := ProgramHash("*"); got != "6F6BCC28" {
		t.Fatalf("ProgramHash(*) = %s, want 6F6BCC28", got)
	}
	if ProgramHash("Install") == ProgramHash("install") {
		t.Error("program hash ignores case")
	}
}

func TestObfuscateRoundTrip(t *testing.T) {
	for _, plain := range []string{"", "Password123", `ludus\sccm_naa`, "Ünïcödé ✓ 𝄞", strings.Repeat("<step/>", 5000)} {
		v := Obfuscate(plain, "seed")
		if v != strings.ToUpper(v) {
			t.Errorf("%q: not upper-case hex", plain)
		}
		blob, err := hex.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		// The header of policies.md §2.4.
		if hex.EncodeToString(blob[:4]) != "8a130000" || blob[44] != 0x14 || hex.EncodeToString(blob[56:60]) != "10660000" {
			t.Errorf("%q: header %x", plain, blob[:64])
		}
		got, err := Deobfuscate(v)
		if err != nil || got != plain {
			t.Errorf("Deobfuscate(Obfuscate(%.40q)) = %.40q, %v", plain, got, err)
		}
		if Obfuscate(plain, "seed") != v || (plain != "" && Obfuscate(plain, "other") == v) {
			t.Errorf("%q: key material is not a function of seed and text", plain)
		}
	}
}

func TestDeobfuscateRefuses(t *testing.T) {
	good := Obfuscate("secret", "s")
	for name, v := range map[string]string{
		"not hex":       "XYZ",
		"short":         good[:100],
		"truncated":     good[:len(good)-32],
		"bad algorithm": good[:112] + "01000000" + good[120:],
	} {
		if _, err := Deobfuscate(v); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
