package freelist

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListKeepsValuesAcrossGarbageCollections(t *testing.T) {
	l := New[*[]byte](2)
	a, b, c := new([]byte), new([]byte), new([]byte)
	l.Put(a)
	l.Put(b)
	l.Put(c) // no room: left to the garbage collector
	runtime.GC()
	runtime.GC()
	fresh := new([]byte)
	newValue := func() *[]byte { return fresh }
	got := []*[]byte{l.Get(newValue), l.Get(newValue), l.Get(newValue)}
	assert.Same(t, a, got[0])
	assert.Same(t, b, got[1])
	assert.Same(t, fresh, got[2], "an empty list makes a new value")
}
