package pcmapi

import (
	"context"
	"sync/atomic"

	"github.com/pcm-otel/pcmexporter/internal/freelist"
)

// Array is reports encoded once, straight into the JSON array a report POST carries:
// "[" item ("," item)* "]". Sending the whole array copies nothing; at full load that halves
// the memory each POST in flight holds (see Client.SendArray).
//
// Fill it with Item and Add, send it with Client.SendArray, then Release it. It is reused
// once every request body made of it is closed.
type Array struct {
	buf  []byte
	ends []int // ends[i] is the offset just after item i
	refs atomic.Int32
}

// arrays keeps a few released arrays for reuse (see internal/freelist).
var arrays = freelist.New[*Array](4)

// NewArray returns an empty array, held once by the caller.
func NewArray() *Array {
	a := arrays.Get(func() *Array { return new(Array) })
	a.buf = append(a.buf[:0], '[')
	a.ends = a.ends[:0]
	a.refs.Store(1)
	return a
}

// Item returns the array's bytes for the caller to append the next item (one JSON object) to;
// hand the result to Add.
func (a *Array) Item() []byte {
	if len(a.ends) > 0 {
		a.buf = append(a.buf, ',')
	}
	return a.buf
}

// Add ends the item appended to the bytes Item returned.
func (a *Array) Add(buf []byte) {
	a.buf = buf
	a.ends = append(a.ends, len(buf))
}

// Len is the number of items.
func (a *Array) Len() int { return len(a.ends) }

// Release gives up the caller's hold; the array is reused once the transport has closed every
// request body made of it too.
func (a *Array) Release() {
	if a.refs.Add(-1) == 0 && cap(a.buf) <= maxPooled {
		arrays.Put(a)
	}
}

// item is the bytes of item i.
func (a *Array) item(i int) []byte {
	start := 1
	if i > 0 {
		start = a.ends[i-1] + 1
	}
	return a.buf[start:a.ends[i]:a.ends[i]]
}

// items are the items [start, end) as slices of the array, for the paths that copy them into
// a body of their own.
func (a *Array) items(start, end int) [][]byte {
	out := make([][]byte, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, a.item(i))
	}
	return out
}

// whole is the complete array: its items and the closing bracket.
func (a *Array) whole() []byte {
	n := a.ends[len(a.ends)-1]
	a.buf = append(a.buf[:n], ']')
	return a.buf[:n+1]
}

// SendArray sends items [start, end) of a as Send does. When they are the whole array and fit
// one POST, the array itself is the request body.
func (c *Client) SendArray(ctx context.Context, path string, a *Array, start, end int) ([]ItemResult, error) {
	if start != 0 || end != a.Len() || end == 0 || a.ends[end-1]+1 > c.maxBody {
		return c.Send(ctx, path, a.items(start, end))
	}
	for i := range end {
		if !looksLikeObject(a.item(i)) { // Send's check
			return nil, notAnObject(i)
		}
	}
	a.refs.Add(1)
	body := newSharedBody(a.whole(), a.Release)
	results, err := c.postBody(ctx, path, body, end)
	body.release()
	if end > 1 && tooLarge(err) {
		return c.sendHalves(ctx, path, a.items(start, end))
	}
	return results, err
}
