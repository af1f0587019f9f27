package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// TokenPrefix starts every token tsprov issues, so that a token pasted
// into the wrong place is recognisable (and greppable in a leak scan).
const TokenPrefix = "tsp_"

// tokenBytes is the entropy of a token: 256 bits.
const tokenBytes = 32

// MinSuppliedToken is the shortest token accepted from the environment
// (TSPROV_ADMIN_TOKEN): anything shorter could be guessed, and tokens are
// stored with a fast hash because they are meant to be high-entropy.
const MinSuppliedToken = 32

// NewToken returns a fresh random token and its hash.
func NewToken() (token, hash string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token: its SHA-256 in hex. A slow
// hash is not needed because a token has 256 bits of entropy.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:])
}

// TokenID is the public handle of a token, derived from its hash: enough
// to name it when listing or revoking, useless to sign in with.
func TokenID(hash string) string {
	sum := sha256.Sum256([]byte("tsprov token id:" + hash))
	return hex.EncodeToString(sum[:6])
}
