// Package secrets seals the Secret and QuasiSecret values of task
// sequences (passwords, product keys) with AES-256-GCM before they are
// stored, and recognises sealed values so that reads can strip them.
//
// A sealed value is the text "tsprov-sealed:v1:" followed by the
// base64url (unpadded) nonce, ciphertext and tag. It needs no escaping in
// XML or JSON, so a stored task sequence holds it as an ordinary string.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "tsprov-sealed:v1:"

// KeyFile is the name of the key file in the data folder.
const KeyFile = "secret.key"

// EnvKey names the environment variable that may hold the key (64 hex
// digits) instead of the key file, so that several servers on one
// database share it. Like the key file it may hold several keys
// (comma-separated; in the file, one a line): the first seals, every one
// opens, which is how a key is rotated.
const EnvKey = "TSPROV_SECRET_KEY"

var sealedPattern = regexp.MustCompile(regexp.QuoteMeta(Prefix) + `[A-Za-z0-9_-]*`)

// Box seals values with its first key and opens them with any of its
// keys.
type Box struct {
	aead  cipher.AEAD   // the first key: seals
	older []cipher.AEAD // open only
	keys  [][]byte
}

// New returns a Box for one or more 32-byte keys; the first seals.
func New(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("no secret key")
	}
	b := &Box{}
	for i, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("secret key is %d bytes; it must be 32", len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if i == 0 {
			b.aead = aead
		} else {
			b.older = append(b.older, aead)
		}
		b.keys = append(b.keys, append([]byte(nil), key...))
	}
	return b, nil
}

// parseKeys reads hex keys separated by commas or line breaks.
func parseKeys(text string) ([][]byte, error) {
	var keys [][]byte
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
		key, err := hex.DecodeString(f)
		if err != nil || len(key) != 32 {
			return nil, errors.New("a key is not 64 hexadecimal digits (256 bits)")
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	return keys, nil
}

func formatKeys(keys [][]byte) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(hex.EncodeToString(k) + "\n")
	}
	return b.String()
}

// writeKeyFile replaces the key file atomically (mode 0600).
func writeKeyFile(path string, keys [][]byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write secret key: %w", err)
	}
	if _, err := f.WriteString(formatKeys(keys)); err != nil {
		f.Close()
		return fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write secret key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write secret key: %w", err)
	}
	return nil
}

// Rotate puts a new random key first in the key file of dir, keeping the
// old ones (so that every stored value still opens), and returns the Box
// of the new ring. After every value has been resealed, Forget drops the
// old keys.
func Rotate(dir string) (*Box, error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	old, err := parseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	keys := append([][]byte{key}, old...)
	if err := writeKeyFile(path, keys); err != nil {
		return nil, err
	}
	return New(keys...)
}

// Forget keeps only the sealing key of b in the key file of dir.
func (b *Box) Forget(dir string) error {
	return writeKeyFile(filepath.Join(dir, KeyFile), b.keys[:1])
}

// Reseal returns a sealed value sealed again with the first key.
func (b *Box) Reseal(sealed string) (string, error) {
	plain, err := b.Open(sealed)
	if err != nil {
		return "", err
	}
	return b.Seal(plain), nil
}

// Ephemeral returns a Box with a random key that lives as long as the
// process (for tests and tools that never reopen what they seal).
func Ephemeral() *Box {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b, _ := New(key)
	return b
}

// Load returns the Box of the key in the environment variable EnvKey when
// it is set, else of the key file in dir, creating that file (mode 0600)
// with a random key when it does not exist. created reports a new file.
func Load(dir string) (box *Box, created bool, err error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		keys, err := parseKeys(v)
		if err != nil {
			return nil, false, fmt.Errorf("%s must hold 64 hexadecimal digits (a 256-bit key), or several separated by commas: %w", EnvKey, err)
		}
		b, err := New(keys...)
		return b, false, err
	}
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		keys, err := parseKeys(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s does not hold 256-bit keys in hex: %w", path, err)
		}
		b, err := New(keys...)
		return b, false, err
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("read secret key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("generate secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create secret key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write secret key: %w", err)
	}
	b, err := New(key)
	return b, true, err
}

// Seal returns the sealed form of plain. A value that is already sealed
// by one of the keys is returned as is.
func (b *Box) Seal(plain string) string {
	if IsSealed(plain) {
		if _, err := b.Open(plain); err == nil {
			return plain
		}
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return Prefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open returns the plain text of a sealed value.
func (b *Box) Open(sealed string) (string, error) {
	if !IsSealed(sealed) {
		return "", errors.New("not a sealed value")
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(Prefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("malformed sealed value")
	}
	n := b.aead.NonceSize()
	for _, a := range append([]cipher.AEAD{b.aead}, b.older...) {
		if plain, err := a.Open(nil, raw[:n], raw[n:], nil); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("sealed value does not open with the secret key")
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Strip removes every sealed value from text (a stored task sequence's
// XML), leaving the element or attribute empty, as ExportXml does.
func Strip(text string) string {
	if !strings.Contains(text, Prefix) {
		return text
	}
	return sealedPattern.ReplaceAllString(text, "")
}
