package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// schedule is the open-loop plan of one step: count requests at evenly spaced times from
// start, whatever the collector answers. A request that could not be sent on time is sent as
// soon as a sender is free; requests not sent by the end of the step plus a grace period are
// not sent at all (and show as sent < target).
type schedule struct {
	start time.Time
	step  time.Duration
	count int64 // requests in the step
}

// newSchedule plans rate spans/s for step in requests of perReq spans (at least one request).
func newSchedule(start time.Time, rate float64, step time.Duration, perReq int) schedule {
	n := int64(math.Round(rate * step.Seconds() / float64(perReq)))
	return schedule{start: start, step: step, count: max(n, 1)}
}

// at is when request i (0-based) is due.
func (s schedule) at(i int64) time.Time {
	return s.start.Add(time.Duration(float64(s.step) * float64(i) / float64(s.count)))
}

// end is the end of the step.
func (s schedule) end() time.Time { return s.start.Add(s.step) }

// loadResult is what the generator did in one step.
type loadResult struct {
	TargetSpans int64 // count × spans per request
	SentSpans   int64 // requests sent (answered or not)
	OKSpans     int64 // answered 2xx
	// RefusedSpans were answered with another status (the receiver refused them);
	// ErrorSpans got no answer (transport error).
	RefusedSpans, ErrorSpans int64
	LastStatus               string // the last non-2xx status or error seen, for the log
}

// generator sends pre-built OTLP/HTTP protobuf requests with several concurrent senders.
type generator struct {
	client  *http.Client
	url     string
	perReq  int
	senders [][]*payload // each sender's own payloads, used round-robin
	seq     atomic.Uint64
	grace   time.Duration
}

func newGenerator(url string, pool []*payload, senders int) *generator {
	g := &generator{
		url:    url,
		perReq: pool[0].spans,
		grace:  time.Second,
		client: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns: senders * 2, MaxIdleConnsPerHost: senders * 2, MaxConnsPerHost: senders,
				IdleConnTimeout: 90 * time.Second, DisableCompression: true,
				ForceAttemptHTTP2: false,
			},
		},
	}
	g.senders = make([][]*payload, senders)
	for i, p := range pool {
		g.senders[i%senders] = append(g.senders[i%senders], p)
	}
	return g
}

func (g *generator) close() { g.client.CloseIdleConnections() }

// run sends rate spans/s for step and returns when every sender is done.
func (g *generator) run(ctx context.Context, rate float64, step time.Duration) loadResult {
	sched := newSchedule(time.Now(), rate, step, g.perReq)
	stop := sched.end().Add(g.grace)
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{TargetSpans: sched.count * int64(g.perReq)}
	var wg sync.WaitGroup
	for _, own := range g.senders {
		if len(own) == 0 {
			continue
		}
		wg.Go(func() {
			var local loadResult
			for k := 0; ; k++ {
				i := next.Add(1) - 1
				if i >= sched.count {
					break
				}
				if !sleepUntil(ctx, sched.at(i)) || time.Now().After(stop) {
					break
				}
				p := own[k%len(own)]
				p.stamp(g.seq.Add(1))
				status, err := g.send(ctx, p.body)
				n := int64(p.spans)
				local.SentSpans += n
				switch {
				case err != nil:
					local.ErrorSpans += n
					local.LastStatus = err.Error()
				case status/100 == 2:
					local.OKSpans += n
				default:
					local.RefusedSpans += n
					local.LastStatus = http.StatusText(status)
				}
			}
			mu.Lock()
			res.SentSpans += local.SentSpans
			res.OKSpans += local.OKSpans
			res.RefusedSpans += local.RefusedSpans
			res.ErrorSpans += local.ErrorSpans
			if local.LastStatus != "" {
				res.LastStatus = local.LastStatus
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

func (g *generator) send(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
