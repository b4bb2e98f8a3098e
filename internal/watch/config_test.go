package watch

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCheckNamesEverySettingTheWatcherCannotRunWith(t *testing.T) {
	assert.Empty(t, Config{SampleRatio: 0.01, Delay: time.Minute, Rate: 2, MaxPending: 1, Attempts: 1}.Check())
	var keys []string
	for _, p := range (Config{SampleRatio: math.NaN(), Delay: -1, Rate: math.Inf(1)}).Check() {
		keys = append(keys, p.Key)
	}
	assert.Equal(t, []string{"sample_ratio", "delay", "rate_limit", "max_pending", "attempts"}, keys)
}
