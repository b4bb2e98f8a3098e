package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

func TestCountSpans(t *testing.T) {
	td := ptrace.NewTraces()
	for i := range 3 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		rs.Resource().Attributes().PutInt("n", int64(i))
		for j := range 2 {
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("scope")
			for k := range i + j + 1 {
				s := ss.Spans().AppendEmpty()
				s.SetName("span")
				s.SetTraceID([16]byte{1, byte(k)})
				s.SetSpanID([8]byte{2, byte(k)})
				s.SetStartTimestamp(123456789)
				s.Attributes().PutDouble("d", 1.5)
				s.Events().AppendEmpty().SetName("event")
			}
		}
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	n, err := countSpans(body)
	require.NoError(t, err)
	require.Equal(t, td.SpanCount(), n)
	require.Equal(t, 15, n) // (1+2) + (2+3) + (3+4)

	n, err = countSpans(nil) // an empty request
	require.NoError(t, err)
	require.Zero(t, n)

	_, err = countSpans(body[:len(body)-3])
	require.ErrorIs(t, err, errMalformed)
	_, err = countSpans([]byte{0x0a, 0xff}) // length beyond the end
	require.ErrorIs(t, err, errMalformed)
}

func TestSinkCountsGzipAndPlainRequests(t *testing.T) {
	pki, err := pcmsim.NewDevPKI()
	require.NoError(t, err)
	cert, err := pki.Server.TLSCertificate()
	require.NoError(t, err)
	s, err := startSink(cert)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.shutdown(context.Background())) }()

	pool, err := buildPayloads(1, 25, time.Now(), 9)
	require.NoError(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(pool[0].body)
	require.NoError(t, zw.Close())

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.RootTLS()}}
	defer client.CloseIdleConnections()
	for _, tc := range []struct {
		encoding string
		body     []byte
	}{{"", pool[0].body}, {"gzip", gz.Bytes()}, {"gzip", gz.Bytes()}} {
		req, err := http.NewRequest(http.MethodPost, s.url+"/v1/traces", bytes.NewReader(tc.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-protobuf")
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.EqualValues(t, 75, s.spans.Load())
	require.EqualValues(t, 3, s.requests.Load())
}
