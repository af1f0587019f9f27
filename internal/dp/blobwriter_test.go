package dp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// choppyReader hands out data in pieces of uneven sizes, as a network
// does; after stopAt bytes it fails (a cut connection) or, with stall,
// blocks until stall is closed.
type choppyReader struct {
	data   []byte
	pos    int
	rng    *rand.Rand
	stopAt int
	stall  chan struct{}
}

var errCut = errors.New("connection reset")

func (r *choppyReader) Read(p []byte) (int, error) {
	if r.pos == r.stopAt {
		if r.stall == nil {
			return 0, errCut
		}
		<-r.stall
		r.stopAt = -1
	}
	if r.pos == len(r.data) {
		return 0, io.EOF
	}
	end := min(len(r.data), r.pos+1+r.rng.IntN(200_000), r.pos+len(p))
	if r.stopAt > r.pos {
		end = min(end, r.stopAt)
	}
	n := copy(p, r.data[r.pos:end])
	r.pos += n
	return n, nil
}

// writeAll fills w from r until r ends, as download does: the bytes
// handed back, in order; w flushed, at the end or when r failed.
func writeAll(t *testing.T, w blobWriter, r io.Reader) ([]byte, error) {
	t.Helper()
	var got []byte
	for {
		p, err := w.fill(r)
		got = append(got, p...)
		if err == io.EOF {
			return got, w.flush()
		}
		if err != nil {
			if ferr := w.flush(); ferr != nil {
				t.Fatal(ferr)
			}
			return got, err
		}
	}
}

// Whichever way a download is written, the partial file holds exactly the
// bytes received when the connection is cut (at an offset that is not a
// multiple of a block), and the download resumed from there ends with
// the whole blob; the bytes handed back for hashing are the blob's.
func TestBlobWritersResumeWhereTheyStopped(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3*downloadChunk+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	cut := downloadChunk + 3*directAlignment + 17
	writers := map[string]func(file *os.File, path string, have int64, buf []byte) (blobWriter, error){
		"default": openBlobWriter,
		"page cache": func(file *os.File, _ string, have int64, buf []byte) (blobWriter, error) {
			return newPageCacheWriter(file, have, buf), nil
		},
	}
	for name, open := range writers {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "partial")
			file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			buf := alignedBuffer(downloadChunk)

			w, err := open(file, path, 0, buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := writeAll(t, w, &choppyReader{data: data, rng: rng, stopAt: cut})
			w.close()
			if !errors.Is(err, errCut) {
				t.Fatalf("first part: %v, want the cut", err)
			}
			if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data[:cut]) || !bytes.Equal(got, data[:cut]) {
				t.Fatalf("after the cut: %d bytes on disk, %d handed back; want the first %d of the blob", len(onDisk), len(got), cut)
			}

			w, err = open(file, path, int64(cut), buf)
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			rest, err := writeAll(t, w, &choppyReader{data: data, pos: cut, rng: rng, stopAt: -1})
			if err != nil {
				t.Fatal(err)
			}
			if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data) || !bytes.Equal(rest, data[cut:]) {
				t.Fatalf("resumed: %d bytes on disk, %d handed back; want the blob's %d", len(onDisk), len(rest), len(data))
			}
		})
	}
}

// A download whose network goes quiet has written what it received: an
// agent stopped during the stall resumes after the last byte it was sent.
func TestStalledDownloadIsWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 2*downloadChunk)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	stallAt := downloadChunk/2 + 5
	path := filepath.Join(t.TempDir(), "partial")
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	w, err := openBlobWriter(file, path, 0, alignedBuffer(downloadChunk))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	r := &choppyReader{data: data, rng: rng, stopAt: stallAt, stall: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := writeAll(t, w, r)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		onDisk, _ := os.ReadFile(path)
		if bytes.Equal(onDisk, data[:stallAt]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("during the stall: %d bytes on disk, want the %d received", len(onDisk), stallAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(r.stall)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data) {
		t.Fatalf("after the stall: %d bytes on disk, want the blob's %d", len(onDisk), len(data))
	}
}
