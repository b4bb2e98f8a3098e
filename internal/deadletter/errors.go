package deadletter

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed: Write was called after Close.
	ErrClosed = errors.New("dead-letter writer is closed")
	// ErrBufferFull: the entries could not be written and the retry buffer had no room left.
	ErrBufferFull = errors.New("dead-letter retry buffer is full")
	// ErrTooLarge: one entry is larger than a whole dead-letter file (max_size_mb); it can never
	// be written.
	ErrTooLarge = errors.New("dead-letter entry is larger than the file size limit")
	// ErrNotRegularFile: something other than a regular file (a directory, a device) is at the
	// dead-letter path. Nothing is written there; the entries wait in the buffer.
	ErrNotRegularFile = errors.New("dead-letter path is not a regular file")
)

// WriteError says that entries of one Write call could not be written now. They are in the
// retry buffer (up to its bounds), written before the next entries, by the periodic retry or
// at Close, in their order; the rest are handed back in an OverflowError.
type WriteError struct {
	// Failed is how many entries of this Write call are not in the file (buffered or handed back).
	Failed int
	// Buffered is how many entries wait in the retry buffer after this call, all calls included.
	Buffered int
	// Err is the file system's error.
	Err error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("writing dead-letter file: %d entries not written (%d buffered for retry): %v", e.Failed, e.Buffered, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// OverflowError hands entries back to the caller: they are in neither the file nor the retry
// buffer (the buffer is full, the entry is larger than a file, Write came after Close, or Close
// could not write the buffer out). The caller holds the only copy: log them in full as a last
// resort and count them as lost.
type OverflowError struct {
	Entries []Entry
	Err     error // why: ErrBufferFull, ErrTooLarge, ErrClosed, or the file system's error at Close
}

func (e *OverflowError) Error() string {
	return fmt.Sprintf("%d dead-letter entries could not be kept: %v", len(e.Entries), e.Err)
}

func (e *OverflowError) Unwrap() error { return e.Err }
