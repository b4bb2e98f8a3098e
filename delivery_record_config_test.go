package pcmexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

func TestDeliveryRecordConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, DeliveryRecordConfig{MaxEntries: 500_000}, cfg.DeliveryRecord, "default: the default queue and what was delivered meanwhile")

	cfg, err = loadConfig(t, "delivery_record")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, DeliveryRecordConfig{MaxEntries: 2_000_000}, cfg.DeliveryRecord)

	cfg, err = loadConfig(t, "bad_delivery_record")
	require.NoError(t, err)
	assert.EqualError(t, confmap.Validate(cfg), "delivery_record.max_entries: must be between 5000 (one POST) and 10000000, got 1000")
}

// The record keeps at most delivery_record.max_entries reports.
func TestDeliveryRecordUsesMaxEntries(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	host := storageHost{id: component.MustNewID("file_storage"), ext: store}
	cfg := pcm.config()
	cfg.QueueConfig.Get().StorageID = &host.id
	cfg.DeliveryRecord.MaxEntries = 5000
	r, err := openDeliveryRecord(context.Background(), host, cfg, component.MustNewID("pcm"))
	require.NoError(t, err)
	assert.Equal(t, 5000, r.maxEntries)
	assert.Equal(t, deliveryRecordMaxAge, r.maxAge)
}
