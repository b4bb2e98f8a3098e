package pcmexporter

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/internal/metadata"
)

// memStorage is a storage extension in memory that outlives the exporters using it, as a
// file_storage directory outlives a collector restart.
type memStorage struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memStorage) Start(context.Context, component.Host) error { return nil }
func (m *memStorage) Shutdown(context.Context) error              { return nil }
func (m *memStorage) GetClient(_ context.Context, _ component.Kind, _ component.ID, name string) (storage.Client, error) {
	return memClient{m: m, prefix: name + "/"}, nil
}

// memClient is one named client: its keys are apart from the other clients' ones, as
// file_storage gives each client a file of its own.
type memClient struct {
	m      *memStorage
	prefix string
}

func (c memClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}
func (c memClient) Set(ctx context.Context, key string, v []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, v))
}
func (c memClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}
func (c memClient) Close(context.Context) error { return nil }
func (c memClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for _, op := range ops {
		key := c.prefix + op.Key
		switch op.Type {
		case storage.Get:
			op.Value = bytes.Clone(c.m.data[key])
		case storage.Set:
			c.m.data[key] = bytes.Clone(op.Value)
		case storage.Delete:
			delete(c.m.data, key)
		}
	}
	return nil
}

// queued returns the stored queue entries in the exporter's encoding.
func (m *memStorage) queued() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [][]byte
	for _, v := range m.data {
		if bytes.HasPrefix(v, []byte{queueMagic0, queueMagic1, queueVersion}) {
			out = append(out, v)
		}
	}
	return out
}

type storageHost struct {
	id  component.ID
	ext *memStorage
}

func (h storageHost) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{h.id: h.ext}
}

// TestPersistentQueueHoldsReportsAcrossARestart: with sending_queue.storage, the queue holds
// the reports in the exporter's encoding — not the spans, and nothing of the spans that are
// not reports — and a restarted exporter delivers them.
func TestPersistentQueueHoldsReportsAcrossARestart(t *testing.T) {
	pcm := newFakePCM(t)
	pcm.setAnswer(unavailable)
	store := &memStorage{data: map[string][]byte{}}
	host := storageHost{id: component.MustNewID("file_storage"), ext: store}
	newCfg := func() *Config {
		cfg := pcm.config()
		q := cfg.QueueConfig.Get()
		q.StorageID = &host.id
		q.Batch.Get().FlushTimeout = 10 * time.Millisecond
		cfg.RetryConfig.InitialInterval = time.Hour // waiting for a retry when stopped
		cfg.RetryConfig.MaxInterval = time.Hour
		return cfg
	}
	start := func(cfg *Config) (consume func(ptrace.Traces) error, stop func()) {
		exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(context.Background(), host))
		return func(td ptrace.Traces) error { return exp.ConsumeTraces(context.Background(), td) },
			func() { require.NoError(t, exp.Shutdown(context.Background())) }
	}

	consume, stop := start(newCfg())
	specs := []spanSpec{
		clientCall("GET", accountsURL, 200), {kind: ptrace.SpanKindInternal, method: "GET"},
		serverCall("POST", "/open-banking/consents/v3/consents", 201), {kind: ptrace.SpanKindServer, method: "GET", path: "/health", status: 200},
		clientCall("GET", accountsURL, 200),
	}
	require.NoError(t, consume(traces(spanSpec{kind: ptrace.SpanKindInternal, method: "GET"})))
	assert.Empty(t, store.queued(), "spans without a report leave the queue alone")
	require.NoError(t, consume(traces(specs...)))
	entries := store.queued()
	require.Len(t, entries, 1, "one ConsumeTraces, one queue entry")
	b, err := unmarshalBatch(entries[0])
	require.NoError(t, err)
	assert.Len(t, b.records, 3, "only the reports are queued")
	require.Eventually(t, func() bool {
		pcm.mu.Lock()
		defer pcm.mu.Unlock()
		return pcm.calls >= 1
	}, 10*time.Second, 5*time.Millisecond)
	stop()
	assert.Empty(t, pcm.delivered())

	pcm.setAnswer(nil)
	_, stop = start(newCfg())
	require.Eventually(t, func() bool { return len(pcm.delivered()[privatePath]) == 3 }, 10*time.Second, 5*time.Millisecond)
	stop()
	got := map[string]bool{}
	for _, item := range pcm.delivered()[privatePath] {
		got[toString(item["fapiInteractionId"])] = true
	}
	assert.Equal(t, map[string]bool{specs[0].interactionID: true, specs[2].interactionID: true, specs[4].interactionID: true}, got)
}
