package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sink is the far end of the otlphttp pipeline: an OTLP/HTTP server (protobuf, /v1/traces)
// that counts the spans it receives and answers 200. It serves TLS with the same development
// certificate as the PCM simulator, so that both exporters pay for a TLS connection.
type sink struct {
	srv      *http.Server
	url      string
	spans    atomic.Int64
	requests atomic.Int64
	bad      atomic.Int64
	gzips    sync.Pool
	bufs     sync.Pool
	done     chan struct{}
}

func startSink(cert tls.Certificate) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "https://" + ln.Addr().String(), done: make(chan struct{})}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	go func() {
		defer close(s.done)
		_ = s.srv.ServeTLS(ln, "", "")
	}()
	return s, nil
}

func (s *sink) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	n, err := s.count(r)
	if err != nil {
		s.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	s.spans.Add(int64(n))
	// An empty ExportTraceServiceResponse encodes as zero bytes.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (s *sink) count(r *http.Request) (int, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		gz, _ := s.gzips.Get().(*gzip.Reader)
		var err error
		if gz == nil {
			gz, err = gzip.NewReader(r.Body)
		} else {
			err = gz.Reset(r.Body)
		}
		if err != nil {
			return 0, err
		}
		defer s.gzips.Put(gz)
		body = gz
	default:
		return 0, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	buf := s.bufs.Get().(*bytes.Buffer)
	defer s.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(body); err != nil {
		return 0, err
	}
	return countSpans(buf.Bytes())
}

// countSpans counts the spans of an encoded ExportTraceServiceRequest without decoding them:
// resource_spans (field 1) → scope_spans (field 2) → spans (field 2).
func countSpans(req []byte) (int, error) {
	n := 0
	err := forEachField(req, 1, func(rs []byte) error {
		return forEachField(rs, 2, func(ss []byte) error {
			return forEachField(ss, 2, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

var errMalformed = errors.New("malformed protobuf")

// forEachField calls fn with the payload of every length-delimited field number num of the
// protobuf message b, skipping the other fields.
func forEachField(b []byte, num uint64, fn func([]byte) error) error {
	for len(b) > 0 {
		tag, n := uvarint(b)
		if n <= 0 {
			return errMalformed
		}
		b = b[n:]
		switch wire := tag & 7; wire {
		case 0: // varint
			_, n = uvarint(b)
			if n <= 0 {
				return errMalformed
			}
			b = b[n:]
		case 1: // fixed64
			if len(b) < 8 {
				return errMalformed
			}
			b = b[8:]
		case 5: // fixed32
			if len(b) < 4 {
				return errMalformed
			}
			b = b[4:]
		case 2: // length-delimited
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errMalformed
			}
			field := b[n : n+int(l)]
			b = b[n+int(l):]
			if tag>>3 == num {
				if err := fn(field); err != nil {
					return err
				}
			}
		default: // groups are not used by OTLP
			return fmt.Errorf("%w: wire type %d", errMalformed, wire)
		}
	}
	return nil
}

// uvarint decodes a protobuf varint; n ≤ 0 when b does not start with a valid one.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
