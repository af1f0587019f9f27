package content

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"path"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/tsprov/tsprov/internal/errs"
)

// CryptoAPI hash algorithm ids (ALG_ID, CALG_*), the values GetContentHash
// takes as HashAlgID.
const (
	AlgMD5    uint32 = 32771 // CALG_MD5, 0x8003
	AlgSHA1   uint32 = 32772 // CALG_SHA1, 0x8004
	AlgSHA256 uint32 = 32780 // CALG_SHA_256, 0x800C: ConfigMgr's content hash
)

// CheckAlg returns errs.Invalid (target HashAlgID) unless alg is a
// CryptoAPI hash algorithm id ContentHash computes: 32780, 32772, 32771.
func CheckAlg(alg uint32) error {
	_, err := newHash(alg)
	return err
}

// newHash returns the hash of a CryptoAPI algorithm id, or errs.Invalid.
func newHash(alg uint32) (hash.Hash, error) {
	switch alg {
	case AlgSHA256:
		return sha256.New(), nil
	case AlgSHA1:
		return sha1.New(), nil
	case AlgMD5:
		return md5.New(), nil
	}
	return nil, errs.Target(errs.Invalid, "HashAlgID", "hash algorithm %d is not supported: use 32780 (CALG_SHA_256), 32772 (CALG_SHA1) or 32771 (CALG_MD5)", alg)
}

// ContentHash returns the content hash of the listing in the algorithm
// alg (a CryptoAPI ALG_ID), upper-case hex. The definition (docs/content.md,
// "Content hash") is the directory hash ConfigMgr keeps as a content's
// hash: one digest over UTF-16LE strings, written while the tree is walked
// depth-first in pre-order, folders in ascending order. For each folder:
// the paths of its subfolders, then the paths of its files, then the
// files' SHA-256 values; paths are relative to the root, lower-cased, with
// "\" separators; SHA-256 values are upper-case hex. alg chooses the digest
// over that stream; the per-file values are SHA-256 whatever alg is.
// Outcomes: the hash; errs.Invalid for an algorithm other than 32780,
// 32772 and 32771.
func (m *Manifest) ContentHash(alg uint32) (string, error) {
	h, err := newHash(alg)
	if err != nil {
		return "", err
	}
	type folder struct {
		dirs  []string
		files []File
	}
	tree := map[string]*folder{"": {}}
	node := func(p string) *folder {
		f, ok := tree[p]
		if !ok {
			f = &folder{}
			tree[p] = f
		}
		return f
	}
	for _, d := range m.Folders {
		node(d)
		parent := path.Dir(d)
		if parent == "." {
			parent = ""
		}
		node(parent).dirs = append(node(parent).dirs, d)
	}
	for _, f := range m.Files {
		parent := path.Dir(f.Path)
		if parent == "." {
			parent = ""
		}
		node(parent).files = append(node(parent).files, f)
	}
	byName := func(a, b string) int { return compareNames(path.Base(a), path.Base(b)) }
	w := utf16Writer{h: h}
	stack := []string{""}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := tree[cur]
		slices.SortFunc(f.dirs, byName)
		slices.SortFunc(f.files, func(a, b File) int { return byName(a.Path, b.Path) })
		for _, d := range f.dirs {
			w.write(hashPath(d))
		}
		for i := len(f.dirs) - 1; i >= 0; i-- {
			stack = append(stack, f.dirs[i])
		}
		for _, file := range f.files {
			w.write(hashPath(file.Path))
		}
		for _, file := range f.files {
			w.write(strings.ToUpper(file.SHA256))
		}
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}

// hashPath is a manifest path as the content hash spells it: lower case,
// "\" separators.
func hashPath(p string) string {
	return strings.ToLower(strings.ReplaceAll(p, "/", `\`))
}

// utf16Writer writes strings to a hash as UTF-16LE, without separators.
type utf16Writer struct {
	h   hash.Hash
	buf []byte
}

func (w *utf16Writer) write(s string) {
	w.buf = w.buf[:0]
	for _, u := range utf16.Encode([]rune(s)) {
		w.buf = append(w.buf, byte(u), byte(u>>8))
	}
	w.h.Write(w.buf)
}
