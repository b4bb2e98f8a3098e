package pcmapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func arrayOf(items [][]byte) *Array {
	a := NewArray()
	for _, it := range items {
		a.Add(append(a.Item(), it...))
	}
	return a
}

// TestSendArrayPostsTheArrayItself: the whole array is the body, byte for byte, and a range of
// it goes out as Send would send those items.
func TestSendArrayPostsTheArrayItself(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	items := makeItems(4)
	a := arrayOf(items)
	defer a.Release()

	results, err := f.client.SendArray(context.Background(), privatePath, a, 0, 4)
	require.NoError(t, err)
	require.Len(t, results, 4)
	results, err = f.client.SendArray(context.Background(), privatePath, a, 1, 3)
	require.NoError(t, err)
	require.Len(t, results, 2)

	reqs := f.api.received()
	require.Len(t, reqs, 2)
	assert.Equal(t, `[`+string(items[0])+`,`+string(items[1])+`,`+string(items[2])+`,`+string(items[3])+`]`, string(reqs[0].Body))
	assert.Equal(t, `[`+string(items[1])+`,`+string(items[2])+`]`, string(reqs[1].Body))
}

// TestSendArrayKeepsSendsLimits: an array larger than MaxBodyBytes is cut as Send cuts items,
// and a 413 on the whole array splits it in halves.
func TestSendArrayKeepsSendsLimits(t *testing.T) {
	t.Parallel()
	t.Run("max body", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil, func(c *Config) { c.MaxBodyBytes = 100 })
		a := arrayOf(makeItems(9)) // 30 bytes each: 3 per POST
		defer a.Release()
		results, err := f.client.SendArray(context.Background(), privatePath, a, 0, 9)
		require.NoError(t, err)
		require.Len(t, results, 9)
		reqs := f.api.received()
		require.Len(t, reqs, 3)
		for _, r := range reqs {
			assert.LessOrEqual(t, len(r.Body), 100)
		}
		assert.Equal(t, idRange(0, 9), idsDelivered(reqs))
	})
	t.Run("413", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, refusingMoreThan(3))
		a := arrayOf(makeItems(10))
		defer a.Release()
		results, err := f.client.SendArray(context.Background(), privatePath, a, 0, 10)
		require.NoError(t, err)
		require.Len(t, results, 10)
		reqs := f.api.received()
		assert.Equal(t, idRange(0, 10), idsDelivered(reqs), "every item delivered exactly once, in order")
		tooLarge := 0
		for _, r := range reqs {
			if len(r.Items) == 10 {
				tooLarge++
			}
		}
		assert.Equal(t, 1, tooLarge, "the refused array is split, not posted again whole")
	})
}

func TestSendArrayRefusesAnItemThatIsNotAnObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	a := arrayOf(append(makeItems(2), []byte(`"r2"`)))
	defer a.Release()
	results, err := f.client.SendArray(context.Background(), privatePath, a, 0, 3)
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Contains(t, err.Error(), "item 2")
	assert.Empty(t, results)
	assert.Empty(t, f.api.received())
}

// TestArrayIsReusedOnlyWhenEveryHoldIsGone: a request body the transport has not closed yet
// keeps the array from being handed out again.
func TestArrayIsReusedOnlyWhenEveryHoldIsGone(t *testing.T) {
	a := arrayOf(makeItems(2))
	body := newSharedBody(a.whole(), a.Release)
	a.refs.Add(1)
	r := body.reader()
	body.release()
	a.Release() // the caller is done; the transport still reads
	b := NewArray()
	assert.NotSame(t, a, b, "still read by the transport")
	b.Release()
	require.NoError(t, r.Close())
	for range 8 { // the free list may hold others released before
		c := NewArray()
		if c == a {
			assert.Equal(t, "[", string(c.buf), "reused empty")
			return
		}
	}
	t.Fatal("the array never came back once its last reader closed")
}
