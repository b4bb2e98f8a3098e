package pcmapi

import (
	"bytes"
	"io"
	"sync/atomic"

	"github.com/pcm-otel/pcmexporter/internal/freelist"
)

// Request and response bodies are a few MB per POST at full load; reusing them keeps the
// exporter's allocations per report small. A free list, not a sync.Pool: the pool is emptied
// by the garbage collections that come several times a second at full load. The list keeps
// as many buffers as a few POSTs in flight use.
var buffers = freelist.New[*bytes.Buffer](8)

// maxPooled keeps a rare oversized body out of the list.
const maxPooled = 16 << 20

func getBuffer() *bytes.Buffer {
	b := buffers.Get(func() *bytes.Buffer { return new(bytes.Buffer) })
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		buffers.Put(b)
	}
}

// sharedBody is a request body whose memory is reused (free is called) once every reader made
// of it is closed: the transport may close a request body after Do has returned.
type sharedBody struct {
	data []byte
	free func()
	refs atomic.Int32
}

// newSharedBody holds one reference, for the caller: release it when done.
func newSharedBody(data []byte, free func()) *sharedBody {
	s := &sharedBody{data: data, free: free}
	s.refs.Store(1)
	return s
}

// bufferBody is a body in a buffer of the free list.
func bufferBody(buf *bytes.Buffer) *sharedBody {
	return newSharedBody(buf.Bytes(), func() { putBuffer(buf) })
}

func (s *sharedBody) release() {
	if s.refs.Add(-1) == 0 {
		s.free()
	}
}

// reader returns a new reader of the body; the transport closes it.
func (s *sharedBody) reader() io.ReadCloser {
	s.refs.Add(1)
	return &bodyReader{Reader: bytes.NewReader(s.data), owner: s}
}

type bodyReader struct {
	*bytes.Reader
	owner  *sharedBody
	closed atomic.Bool
}

func (r *bodyReader) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.owner.release()
	}
	return nil
}

// readBody reads at most limit bytes of r into a pooled buffer; putBuffer it when done. Texts
// taken from it must be copies (string conversions are).
func readBody(r io.Reader, limit int64) (*bytes.Buffer, error) {
	b := getBuffer()
	_, err := b.ReadFrom(io.LimitReader(r, limit))
	return b, err
}
