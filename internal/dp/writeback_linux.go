package dp

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the bytes [off, off+n)
// of f to disk now, without waiting for them: the fsync that ends the
// download then waits only for the last bytes, instead of writing the
// whole file while the network sits idle. A failure changes nothing (the
// fsync still writes everything).
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
