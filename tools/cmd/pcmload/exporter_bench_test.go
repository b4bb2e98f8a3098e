package main

// In-process benchmarks of where the collector's CPU per span goes (the collector binary has
// no pprof extension). Profile the pcm exporter with:
//
//	go test ./cmd/pcmload -run '^$' -bench PCMExporter -benchtime 40x -cpuprofile cpu.out
//	go tool pprof -top -focus 'pcmexporter|mapping|pcmapi|encoding/json' cpu.out
//
// BenchmarkPCMExporter pushes 5,000 spans (one batch of the benchmark's queue) through the pcm
// exporter to the benchmark's PCM endpoint; BenchmarkOTLPReceive and BenchmarkOTLPExport
// approximate what every pipeline pays in the OTLP receiver (decode) and what the otlphttp
// exporter pays (encode + gzip) for the same spans.

import (
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	pcmexporter "github.com/pcm-otel/pcmexporter"
	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

const benchBatch = 5000

// benchTraces is one batch of benchmark spans (half CLIENT, half SERVER) and its requests.
func benchTraces(b *testing.B) (ptrace.Traces, []*payload) {
	b.Helper()
	pool, err := buildPayloads(benchBatch/500, 500, time.Now(), 11)
	require.NoError(b, err)
	td := ptrace.NewTraces()
	for i, p := range pool {
		p.stamp(uint64(i + 1))
		req := ptraceotlp.NewExportRequest()
		require.NoError(b, req.UnmarshalProto(p.body))
		req.Traces().ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	require.Equal(b, benchBatch, td.SpanCount())
	return td, pool
}

// startBenchExporter starts the pcm exporter against the benchmark's PCM endpoint (token from
// the PCM simulator over mTLS, reports answered by a front that never forwards them: only the
// exporter is measured); configure adjusts its configuration.
func startBenchExporter(b *testing.B, configure func(*pcmexporter.Config)) (exporter.Traces, *pcmFront) {
	b.Helper()
	pki, err := pcmsim.NewDevPKI(
		pcmsim.Org{Name: "banco_a", OrgID: orgA, SoftwareStatementID: ssidA, ClientID: clientIDA},
		pcmsim.Org{Name: "banco_b", OrgID: orgB, ClientID: "-"},
	)
	require.NoError(b, err)
	dir := b.TempDir()
	require.NoError(b, pki.WriteFiles(dir))
	simCfg, err := pki.Config()
	require.NoError(b, err)
	simCfg.RateLimit = -1
	sim, err := pcmsim.New(simCfg)
	require.NoError(b, err)
	require.NoError(b, sim.Start(context.Background()))
	b.Cleanup(func() { _ = sim.Shutdown(context.Background()) })
	cert, err := pki.Server.TLSCertificate()
	require.NoError(b, err)
	front, err := startPCMFront(cert, pki.RootTLS(), sim, 1<<30)
	require.NoError(b, err)
	b.Cleanup(func() { _ = front.shutdown(context.Background()) })

	f := pcmexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*pcmexporter.Config)
	cfg.ClientConfig.Endpoint = front.url
	cfg.ClientConfig.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
	cfg.Token.URL = sim.TokenURL()
	cfg.Token.ClientID = clientIDA
	cfg.Token.TLS.CertFile = filepath.Join(dir, "banco_a.crt")
	cfg.Token.TLS.KeyFile = filepath.Join(dir, "banco_a.key")
	cfg.Token.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
	cfg.OrgID, cfg.SoftwareStatementID = orgA, ssidA
	cfg.Counterparts.Hosts = map[string]string{hostB: orgB}
	configure(cfg)
	require.NoError(b, cfg.Validate())
	exp, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(b, err)
	require.NoError(b, exp.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp, front
}

func BenchmarkPCMExporter(b *testing.B) {
	td, _ := benchTraces(b)
	exp, _ := startBenchExporter(b, func(cfg *pcmexporter.Config) {
		cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // synchronous: one push = one batch
	})
	require.NoError(b, exp.ConsumeTraces(context.Background(), td)) // token, connections

	b.ResetTimer()
	for b.Loop() {
		if err := exp.ConsumeTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/span")
}

func BenchmarkOTLPReceive(b *testing.B) {
	_, pool := benchTraces(b)
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pool {
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(p.body); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/span")
}

func BenchmarkOTLPExport(b *testing.B) {
	td, _ := benchTraces(b)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	b.ResetTimer()
	for b.Loop() {
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		zw.Reset(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/span")
}

// BenchmarkPCMPipeline is the pcm pipeline of the throughput benchmark in one process: OTLP
// requests of 500 spans decoded as the receiver does, handed to the pcm exporter with its
// default sending queue (4 consumers) batching 5,000 reports per POST, until the PCM endpoint
// has answered every report. Profile it to see what the collector pays per span beyond the
// receiver.
func BenchmarkPCMPipeline(b *testing.B) {
	pool, err := buildPayloads(benchBatch/500, 500, time.Now(), 13)
	require.NoError(b, err)
	exp, front := startBenchExporter(b, func(cfg *pcmexporter.Config) {
		q := cfg.QueueConfig.Get()
		q.Sizer = exporterhelper.RequestSizerTypeItems
		q.QueueSize = 200_000
		q.NumConsumers = 4
		bc := q.Batch.Get()
		bc.FlushTimeout, bc.MinSize, bc.MaxSize = time.Second, benchBatch, benchBatch
	})

	stamp := uint64(1)
	push := func() {
		for _, p := range pool {
			stamp++
			p.stamp(stamp)
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(p.body); err != nil {
				b.Fatal(err)
			}
			if err := exp.ConsumeTraces(context.Background(), req.Traces()); err != nil {
				b.Fatal(err)
			}
		}
	}
	waitFor := func(n int64) {
		for front.counted.Load() < n {
			time.Sleep(time.Millisecond)
		}
	}
	push()
	waitFor(benchBatch)
	b.ResetTimer()
	for b.Loop() {
		push()
	}
	waitFor(int64(b.N+1) * benchBatch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/span")
}
