package policy

import (
	"crypto/sha1"
	"fmt"
	"hash/crc32"
	"strings"
)

// AnyProgram is the program of a task sequence and of a package reference
// that names none.
const AnyProgram = "*"

// ProgramHash is the suffix of a software distribution policy id: CRC-32
// (reflected polynomial 0xEDB88320, initial value 0, no final XOR) of the
// program name in UTF-16LE. For "*" it is 6F6BCC28, the suffix every
// captured task sequence policy id carries (policies.md §2.3).
func ProgramHash(program string) string {
	// crc32.Update inverts before and after; inverting around it gives
	// the variant with initial value 0 and no final XOR.
	sum := ^crc32.Update(^uint32(0), crc32.IEEETable, utf16LE(program))
	return fmt.Sprintf("%08X", sum)
}

// PolicyID is the id of the policy that runs program of package under an
// advertisement: <AdvertisementID>-<PackageID>-<ProgramHash>.
func PolicyID(advertisementID, packageID, program string) string {
	return advertisementID + "-" + packageID + "-" + ProgramHash(program)
}

// policyNamespace is the UUID namespace of the GUIDs tsprov derives (rule
// and assignment ids): a UUIDv5 of the URL namespace over "tsprov:policy".
var policyNamespace = uuid5([16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}, "tsprov:policy")

// GUID is a deterministic {guid} for the given parts: a UUIDv5 in
// policyNamespace, lower case in braces as the captured documents write
// them. Equal parts give equal GUIDs, so repeated calls give the same
// documents.
func GUID(parts ...string) string {
	u := uuid5(policyNamespace, strings.Join(parts, "\x00"))
	return fmt.Sprintf("{%x-%x-%x-%x-%x}", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

// versionText writes a policy version as the documents do: "1.00".
func versionText(v int) string { return fmt.Sprintf("%d.00", v) }

// locationVersion writes a version as the policy URL does: "1_00".
func locationVersion(v int) string { return fmt.Sprintf("%d_00", v) }
