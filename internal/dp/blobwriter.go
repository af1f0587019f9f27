package dp

import (
	"io"
	"os"
	"sync"
	"unsafe"
)

// A blobWriter puts the bytes of a download into the partial file of a
// blob. The agent reads the network straight into the writer's buffer
// (fill) and hashes the bytes it is handed back, so each byte is copied
// once out of the socket and read once by the hash.
type blobWriter interface {
	// fill reads once from r and returns the bytes read (valid until the
	// next call) with the reader's error.
	fill(r io.Reader) ([]byte, error)
	// flush writes every byte read so far to the file (not synced): what
	// a download that stops keeps for its resumption.
	flush() error
	// close releases what the writer holds besides the file, which stays
	// the caller's.
	close()
}

// downloadChunk is the size of a download's buffer: the bytes read from
// the network between two writes to disk.
const downloadChunk = 1 << 20

// directAlignment is the alignment O_DIRECT asks of memory, offsets and
// lengths; 4096 serves disks of 512-byte and of 4 KiB sectors.
const directAlignment = 4096

// downloadBuffers holds the buffers of downloads (downloadChunk bytes,
// aligned for O_DIRECT), one per blob being fetched.
var downloadBuffers = sync.Pool{New: func() any {
	b := alignedBuffer(downloadChunk)
	return &b
}}

// alignedBuffer returns n bytes whose first is at an address that is a
// multiple of directAlignment.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlignment)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % directAlignment); r != 0 {
		skip = directAlignment - r
	}
	return b[skip : skip+n : skip+n]
}

// writebackChunk is how many bytes of a download go through the page cache
// before the agent asks the kernel to start writing them to disk
// (startWriteback).
const writebackChunk = 8 << 20

// pageCacheWriter writes each read through the page cache at once, and
// starts the writeback of every writebackChunk bytes: the fsync that ends
// the download then waits only for the last ones. It is the writer where
// the file system does not take O_DIRECT.
type pageCacheWriter struct {
	file         *os.File
	buf          []byte
	end, flushed int64 // the file's length; bytes before flushed are being written back
}

func newPageCacheWriter(file *os.File, have int64, buf []byte) *pageCacheWriter {
	return &pageCacheWriter{file: file, buf: buf, end: have, flushed: have}
}

func (w *pageCacheWriter) fill(r io.Reader) ([]byte, error) {
	n, err := r.Read(w.buf)
	if n > 0 {
		if _, werr := w.file.WriteAt(w.buf[:n], w.end); werr != nil {
			return nil, werr
		}
		w.end += int64(n)
		if w.end-w.flushed >= writebackChunk {
			startWriteback(w.file, w.flushed, w.end-w.flushed)
			w.flushed = w.end
		}
	}
	return w.buf[:n], err
}

func (w *pageCacheWriter) flush() error { return nil }

func (w *pageCacheWriter) close() {}
