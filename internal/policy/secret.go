package policy

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
)

// The layout of an obfuscated secret value (policies.md §2.4): a 64-byte
// header, then the ciphertext.
const (
	secretHeaderLen = 64
	secretKeyLen    = 40
	magicAES256     = 0x138A // 8A 13 00 00
	magic3DES       = 0x1389 // 89 13 00 00
	calgAES256      = 0x6610
	calg3DES        = 0x6603
	headerConstant  = 0x14 // every capture holds 0x14 at offset 44
)

// Obfuscate writes a secret="1" property value: plain as UTF-16LE with a
// terminating NUL, encrypted with AES-256-CBC (zero IV, PKCS#7 padding)
// under the key CryptDeriveKey(SHA1) makes from 40 bytes of key material,
// which travel in the header, all in upper-case hex. It hides the value
// from a casual reader, nothing more: the key is in the blob.
//
// The key material is derived from seed and plain (not random) so that the
// same inputs give the same document, byte for byte.
func Obfuscate(plain, seed string) string {
	var material [secretKeyLen]byte
	h := sha512.New()
	h.Write([]byte("tsprov policy secret\x00"))
	h.Write([]byte(seed))
	h.Write([]byte{0})
	h.Write([]byte(plain))
	copy(material[:], h.Sum(nil))

	text := utf16LE(plain + "\x00")
	block, _ := aes.NewCipher(deriveKey(material[:], 32))
	padded := pkcs7(text, block.BlockSize())
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, make([]byte, block.BlockSize())).CryptBlocks(ct, padded)

	blob := make([]byte, secretHeaderLen, secretHeaderLen+len(ct))
	binary.LittleEndian.PutUint32(blob[0:], magicAES256)
	copy(blob[4:44], material[:])
	binary.LittleEndian.PutUint32(blob[44:], headerConstant)
	binary.LittleEndian.PutUint32(blob[48:], uint32(len(text)))
	binary.LittleEndian.PutUint32(blob[52:], uint32(len(ct)))
	binary.LittleEndian.PutUint32(blob[56:], calgAES256)
	blob = append(blob, ct...)
	return upperHex(blob)
}

// upperHex is hex.EncodeToString in upper case, in one allocation.
func upperHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0x0f]
	}
	return string(out)
}

// Deobfuscate reads a secret="1" value back: the recipe of policies.md
// §2.4, for the AES-256 blobs tsprov writes and the 3DES blobs of older
// sites alike.
func Deobfuscate(value string) (string, error) {
	blob, err := hex.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", fmt.Errorf("policy: secret value is not hex: %w", err)
	}
	if len(blob) < secretHeaderLen {
		return "", fmt.Errorf("policy: secret value is %d bytes, shorter than its %d-byte header", len(blob), secretHeaderLen)
	}
	plainLen := int(binary.LittleEndian.Uint32(blob[48:]))
	ctLen := int(binary.LittleEndian.Uint32(blob[52:]))
	// Sites may leave bytes after the ciphertext (a captured user name
	// blob carries six); the header's length says where it ends.
	if ctLen > len(blob)-secretHeaderLen || plainLen > ctLen {
		return "", fmt.Errorf("policy: secret value declares %d bytes of ciphertext (%d of text) but holds %d", ctLen, plainLen, len(blob)-secretHeaderLen)
	}
	material := blob[4:44]
	var block cipher.Block
	switch alg := binary.LittleEndian.Uint32(blob[56:]); {
	case binary.LittleEndian.Uint32(blob) == magic3DES || alg == calg3DES:
		block, err = des.NewTripleDESCipher(deriveKey(material, 24))
	case alg == calgAES256 || alg == 0x660E || alg == 0x660F:
		block, err = aes.NewCipher(deriveKey(material, 32))
	default:
		return "", fmt.Errorf("policy: secret value has unknown algorithm 0x%X", alg)
	}
	if err != nil {
		return "", fmt.Errorf("policy: secret value key: %w", err)
	}
	ct := blob[secretHeaderLen : secretHeaderLen+ctLen]
	if len(ct)%block.BlockSize() != 0 {
		return "", fmt.Errorf("policy: secret ciphertext of %d bytes is not whole blocks", len(ct))
	}
	text := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, make([]byte, block.BlockSize())).CryptBlocks(text, ct)
	text = text[:plainLen]
	if len(text)%2 != 0 {
		return "", fmt.Errorf("policy: secret text of %d bytes is not UTF-16", len(text))
	}
	units := make([]uint16, len(text)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(text[2*i:])
	}
	return strings.TrimSuffix(string(utf16.Decode(units)), "\x00"), nil
}

// deriveKey is CryptDeriveKey with CALG_SHA1: the SHA-1 of the material,
// expanded with the 0x36 and 0x5c pads, truncated to n bytes.
func deriveKey(material []byte, n int) []byte {
	h := sha1.Sum(material)
	pad := func(b byte) []byte {
		buf := bytes.Repeat([]byte{b}, 64)
		for i := range h {
			buf[i] ^= h[i]
		}
		s := sha1.Sum(buf)
		return s[:]
	}
	return append(pad(0x36), pad(0x5c)...)[:n]
}

func pkcs7(b []byte, size int) []byte {
	n := size - len(b)%size
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

// utf16LE encodes s as UTF-16 little-endian.
func utf16LE(s string) []byte {
	return appendUTF16LE(make([]byte, 0, 2*len(s)), s)
}

// appendUTF16LE appends s in UTF-16 little-endian to out.
func appendUTF16LE(out []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			out = append(out, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
			continue
		}
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}
