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

// TestDeobfuscateCapture decodes the two secret values of a real site's
// network access account policy (MM/CRED-8, 3DES, as a ConfigMgr site
// wrote them): the recipe Obfuscate shares (the key derivation, the
// header) is the one clients use, not only one that agrees with itself.
func TestDeobfuscateCapture(t *testing.T) {
	for blob, want := range map[string]string{
		"89130000777AA4F753DF99D0E979BDE42651182017F08660C16E58C1B5EB59A9670294E6EC8E97C66FD86EB5140000001E0000002000000003660000000000002A7C3268C73A336ADE7C343686A06A656812CE8FCB469B4D7CC5501BCF5D45EA2E0064006C00": `ludus\sccm_naa`,
		"89130000E82A5A6AE760400B20D98BBAAE2C568BC140C9D6767C6320ACC979E4D34FDD5944EBD4A3C8E913DF14000000180000002000000003660000000000003F11C8F6EBEDF7F32F2F59B02FBDA50A035ACA7C5D2330A7D7013E9F9AF86547":             "Password123",
	} {
		got, err := Deobfuscate(blob)
		if err != nil || got != want {
			t.Errorf("captured blob decodes to %q, %v; want %q", got, err, want)
		}
	}
}
