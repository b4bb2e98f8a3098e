package pcmexporter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// sampleBatch holds every kind of report the door makes: CLIENT, SERVER, opendata, typed
// additionalInfo, an interaction id that is not a lower-case UUID, a correlationId that is not
// the trace id, and a report waiting for the Directory.
func sampleBatch(t *testing.T) *reportBatch {
	t.Helper()
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	client := clientCall("GET", accountsURL, 200)
	server := serverCall("POST", "/open-banking/consents/v3/consents", 201)
	open := spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/open-banking/channels/v2/branches", status: 200, clientIP: "203.0.113.7"}
	td := traces(client, server, open)
	req, err := exp.convert(context.Background(), td)
	require.NoError(t, err)
	b := req.(*reportBatch)
	require.Len(t, b.records, 3)

	odd := *b.records[0]
	odd.report.FapiInteractionID = "ABCDEF00-1111-4222-8333-444455556666"
	odd.report.CorrelationID = "my-correlation"
	info := pcommon.NewMap()
	info.PutStr("consentId", "urn:bank:c-1")
	info.PutInt("count", -42)
	info.PutDouble("ratio", 0.25)
	info.PutBool("flag", true)
	info.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 2})
	info.PutEmptySlice("list").AppendEmpty().SetStr("x")
	info.PutEmptyMap("obj").PutStr("k", "v")
	info.PutEmpty("none")
	for k, v := range info.All() {
		odd.report.AdditionalInfo = append(odd.report.AdditionalInfo, mapping.AdditionalField{Key: k, Value: v})
	}
	waiting := *b.records[1]
	waiting.report.ClientOrgID = ""
	waiting.lookup = "client-of-bank-b"
	waiting.report.Timestamp = waiting.report.Timestamp.Add(-3 * time.Hour)
	b.records = append(b.records, &odd, &waiting)
	return b
}

func TestQueueEncodingRoundTripsEveryReport(t *testing.T) {
	b := sampleBatch(t)
	data, err := queueEncoding{}.Marshal(context.Background(), b)
	require.NoError(t, err)
	_, req, err := queueEncoding{}.Unmarshal(data)
	require.NoError(t, err)
	got := req.(*reportBatch)
	require.Empty(t, got.undecodable)
	require.Len(t, got.records, len(b.records))
	for i := range b.records {
		want, have := b.records[i], got.records[i]
		assert.JSONEq(t, string(mapping.AppendJSON(nil, &want.report)), string(mapping.AppendJSON(nil, &have.report)), "report %d", i)
		assert.Equal(t, want.trace, have.trace)
		assert.Equal(t, want.span, have.span)
		assert.Equal(t, want.lookup, have.lookup)
		assert.True(t, want.report.Timestamp.Equal(have.report.Timestamp), "report %d: %v != %v", i, want.report.Timestamp, have.report.Timestamp)
		assert.Equal(t, want.report.API, have.report.API)
		assert.Equal(t, want.report.Role, have.report.Role)
	}
}

func TestQueueEncodingNeverFailsOnWhatItCannotRead(t *testing.T) {
	good, err := queueEncoding{}.Marshal(context.Background(), sampleBatch(t))
	require.NoError(t, err)
	otherVersion := append([]byte(nil), good...)
	otherVersion[2] = queueVersion + 1
	for name, data := range map[string][]byte{
		"otlp proto (an older exporter's queue)": {0x0a, 0x02, 0x0a, 0x00},
		"another version":                        otherVersion,
		"truncated":                              good[:len(good)-3],
		"trailing bytes":                         append(append([]byte(nil), good...), 0),
		"empty":                                  {},
	} {
		t.Run(name, func(t *testing.T) {
			_, req, err := queueEncoding{}.Unmarshal(data)
			require.NoError(t, err, "an error would make the queue drop the entry with a debug log")
			b := req.(*reportBatch)
			require.Len(t, b.undecodable, 1)
			assert.Equal(t, string(data), string(b.undecodable[0].data))
			assert.Equal(t, 1, b.ItemsCount())
		})
	}
}

func TestUndecodableQueueEntryIsDeadLettered(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	data := []byte("PQ\x09whatever")
	_, req, err := queueEncoding{}.Unmarshal(data)
	require.NoError(t, err)

	err = exp.push(context.Background(), req)
	require.Error(t, err, "counted as failed by exporterhelper")
	assert.Empty(t, pcm.delivered())
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadletter.StageUndecodable, dead[0].Stage)
	assert.Contains(t, dead[0].Reason, "encoding version 9")
	var kept string
	require.NoError(t, json.Unmarshal(dead[0].Report, &kept))
	raw, err := base64.StdEncoding.DecodeString(kept)
	require.NoError(t, err)
	assert.Equal(t, data, raw, "the entry's bytes are kept")
	metadatatest.AssertEqualExporterPcmDeadLetters(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("stage", "undecodable")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// FuzzQueueDecode: whatever the persistent queue hands back, Unmarshal neither panics nor
// fails, and a batch it reads encodes back to the same reports.
func FuzzQueueDecode(f *testing.F) {
	f.Add([]byte("PQ\x01\x00\x00\x00"))
	f.Add([]byte{})
	f.Add([]byte("PQ\x01\x02\x03GET\x01x\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, req, err := queueEncoding{}.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		b := req.(*reportBatch)
		if len(b.undecodable) > 0 {
			return
		}
		again, err := queueEncoding{}.Marshal(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		_, req2, _ := queueEncoding{}.Unmarshal(again)
		b2 := req2.(*reportBatch)
		if len(b2.undecodable) > 0 || len(b2.records) != len(b.records) {
			t.Fatalf("re-encoded batch does not read back: %v", b2.undecodable)
		}
		for i := range b.records {
			j1 := mapping.AppendJSON(nil, &b.records[i].report)
			j2 := mapping.AppendJSON(nil, &b2.records[i].report)
			if string(j1) != string(j2) || b.records[i].lookup != b2.records[i].lookup {
				t.Fatalf("report %d changed:\n%s\n%s", i, j1, j2)
			}
		}
	})
}
