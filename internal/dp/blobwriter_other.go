//go:build !linux

package dp

import "os"

// openBlobWriter returns the writer of a download into file (at path),
// which holds have bytes already: through the page cache here.
func openBlobWriter(file *os.File, path string, have int64, buf []byte) (blobWriter, error) {
	return newPageCacheWriter(file, have, buf), nil
}

// startWriteback does nothing here: the fsync that ends a download writes
// the whole file.
func startWriteback(*os.File, int64, int64) {}
