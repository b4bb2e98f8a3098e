package pcmsim

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Message is the GenericError body of PCM ({"message": "..."}).
type Message struct {
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var data []byte
	if err := enc.Encode(v); err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`+"\n")
	} else {
		data = buf.Bytes()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Message{msg})
}

// writeFault answers with an HTTP-status fault and returns the status.
func (s *Server) writeFault(w http.ResponseWriter, f Fault, token bool) int {
	code, _ := strconv.Atoi(f.Mode)
	msg := http.StatusText(code)
	if token && code == http.StatusInternalServerError {
		msg = "Internal server error" // the token endpoint's spelling
	}
	if msg == "" {
		msg = "Error"
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	writeMessage(w, code, msg)
	return code
}

// closeConn drops the connection without an answer (hijack on HTTP/1.1, stream reset on HTTP/2).
func closeConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sleep waits d; false when the client went away or the server is shutting down.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// isJSON reports whether a Content-Type header is application/json (parameters allowed).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// acceptsJSON reports whether the Accept header values allow application/json (no header, or a
// range application/json, application/* or */* with a non-zero q).
func acceptsJSON(values []string) bool {
	seen := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			if mt == "application/json" || mt == "application/*" || mt == "*/*" {
				return true
			}
		}
	}
	return !seen
}
