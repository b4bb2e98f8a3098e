package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import "fmt"

// DeliveryRecordConfig bounds the record of the reports sent to PCM that the exporter keeps
// beside a persistent sending queue (sending_queue.storage), so that a restart does not send
// again what PCM already has. Without sending_queue.storage there is no record.
type DeliveryRecordConfig struct {
	// MaxEntries is how many reports the record remembers, oldest forgotten first; each costs
	// about 25 bytes in the storage and 66 bytes of memory. Entries are also forgotten after
	// PCM's 7-day window plus a day.
	MaxEntries int `mapstructure:"max_entries"`
}

// Bounds of delivery_record.max_entries: at least one full POST, at most about 660 MB of memory.
const (
	DefaultDeliveryRecordEntries = 500_000
	maxDeliveryRecordEntries     = 10_000_000
)

// DefaultDeliveryRecordConfig remembers 500,000 reports: the default queue (200,000) and
// what was delivered meanwhile; about 12 MB of storage and 33 MB of memory.
func DefaultDeliveryRecordConfig() DeliveryRecordConfig {
	return DeliveryRecordConfig{MaxEntries: DefaultDeliveryRecordEntries}
}

func (c DeliveryRecordConfig) validate() []error {
	if c.MaxEntries < MaxItemsPerPOST || c.MaxEntries > maxDeliveryRecordEntries {
		return []error{fmt.Errorf("delivery_record.max_entries: must be between %d (one POST) and %d, got %d",
			MaxItemsPerPOST, maxDeliveryRecordEntries, c.MaxEntries)}
	}
	return nil
}
