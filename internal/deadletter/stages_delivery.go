package deadletter // import "github.com/pcm-otel/pcmexporter/internal/deadletter"

// Stages of the reports the exporter gives up on while delivering (docs/pcm-rules.md §15.3).
const (
	// StageRetryExhausted: the report kept failing for longer than retry_on_failure allows.
	StageRetryExhausted Stage = "retry_exhausted"
	// StageShutdown: the collector stopped while the report waited for a retry in a sending
	// queue that does not survive a restart (no sending_queue.storage).
	StageShutdown Stage = "shutdown"
)

// StageUndecodable: an entry of the persistent sending queue could not be read (written by
// another version of the exporter, or damaged); its bytes are kept, base64, as the report.
const StageUndecodable Stage = "undecodable"
