package dp

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// openBlobWriter returns the writer of a download into file (at path),
// which holds have bytes already: with O_DIRECT where the file system
// takes it, through the page cache otherwise.
func openBlobWriter(file *os.File, path string, have int64, buf []byte) (blobWriter, error) {
	direct, err := os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT, 0)
	if err != nil { // a file system without O_DIRECT (EINVAL)
		return newPageCacheWriter(file, have, buf), nil
	}
	w := &directWriter{file: file, direct: direct, buf: buf}
	w.idle = time.AfterFunc(time.Hour, w.save)
	w.idle.Stop()
	// The writes start at the block that holds the end of what is there:
	// its first bytes are read back into the buffer.
	held := int(have % directAlignment)
	w.off = have - int64(held)
	if held > 0 {
		if _, err := file.ReadAt(buf[:held], w.off); err != nil {
			direct.Close()
			return nil, err
		}
		w.n = held
	}
	return w, nil
}

// directWriter writes a download with O_DIRECT, a whole buffer at a time:
// the bytes go from the agent's buffer to the disk, neither copied into
// the page cache nor written back from it, and the content a DP stores
// does not push out of memory what its machine uses. The last bytes of a
// file, less than a block, go through the page cache (file); the fsync
// that ends the download covers both. When the network goes quiet for
// idleSave, what the buffer holds is written too: a download that stalls,
// and the agent stopped then, is resumed after its last byte.
type directWriter struct {
	file   *os.File // the partial file, through the page cache
	direct *os.File // the same, with O_DIRECT; nil once the device refused an alignment
	idle   *time.Timer

	mu     sync.Mutex // n, off, closed and the writes; a read fills buf[n:] outside it
	buf    []byte     // aligned; buf[:n] are the bytes of the file from off on
	n      int
	off    int64 // a multiple of directAlignment
	closed bool
}

// idleSave is how long a download waits for bytes before it writes the
// ones its buffer holds.
const idleSave = 250 * time.Millisecond

func (w *directWriter) fill(r io.Reader) ([]byte, error) {
	w.mu.Lock()
	if w.n == len(w.buf) {
		if err := w.writeBlocks(); err != nil {
			w.mu.Unlock()
			return nil, err
		}
	}
	start := w.n
	w.mu.Unlock()
	n, err := r.Read(w.buf[start:])
	w.mu.Lock()
	w.n += n
	w.mu.Unlock()
	w.idle.Reset(idleSave)
	return w.buf[start : start+n], err
}

// flush writes what the buffer holds (writeHeld).
func (w *directWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeHeld()
}

// save is flush when the network went quiet; a write that fails is done
// again by the next flush.
func (w *directWriter) save() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		_ = w.writeHeld()
	}
}

// writeHeld writes the whole blocks the buffer holds with O_DIRECT and the
// bytes after them through the page cache, and keeps them all in the
// buffer (a read may be filling what follows): they are written again,
// whole, with what comes next.
func (w *directWriter) writeHeld() error {
	whole := w.n - w.n%directAlignment
	if whole > 0 {
		if err := w.writeAt(w.buf[:whole], w.off); err != nil {
			return err
		}
	}
	if w.n > whole {
		if _, err := w.file.WriteAt(w.buf[whole:w.n], w.off+int64(whole)); err != nil {
			return err
		}
	}
	return nil
}

// writeBlocks writes the whole blocks held and keeps the bytes after them
// at the start of the buffer. The caller holds mu, and no read is filling
// the buffer.
func (w *directWriter) writeBlocks() error {
	whole := w.n - w.n%directAlignment
	if whole == 0 {
		return nil
	}
	if err := w.writeAt(w.buf[:whole], w.off); err != nil {
		return err
	}
	w.off += int64(whole)
	w.n = copy(w.buf, w.buf[whole:w.n])
	return nil
}

func (w *directWriter) writeAt(p []byte, off int64) error {
	if w.direct != nil {
		_, err := w.direct.WriteAt(p, off)
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		// The device asks another alignment: the page cache from here on.
		w.direct.Close()
		w.direct = nil
	}
	_, err := w.file.WriteAt(p, off)
	return err
}

func (w *directWriter) close() {
	w.idle.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.direct != nil {
		w.direct.Close()
	}
}

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
