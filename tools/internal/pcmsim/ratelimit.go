package pcmsim

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket refilled at rate requests per second with a burst of one
// second's worth; rate <= 0 disables it. It is global to the API listener (PCM publishes a
// single limit of 300 req/s).
type rateLimiter struct {
	rate   float64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRateLimiter(rate int) *rateLimiter {
	return &rateLimiter{rate: float64(rate), tokens: float64(rate)}
}

func (l *rateLimiter) allow(now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.rate {
			l.tokens = l.rate
		}
	}
	if now.After(l.last) {
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

func (l *rateLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens, l.last = l.rate, time.Time{}
}
