package pcmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string ("250ms", "30s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler; it accepts a duration string only.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"250ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Fault makes a listener fail instead of answering normally.
type Fault struct {
	// Mode is an HTTP status code ("500", "503", "429", … 400–599) or, for the API listener,
	// "close" (the connection is closed without an answer) or, for the token listener,
	// "handshake" (the TLS handshake is refused as if the certificate were not accepted).
	// Empty means no fault.
	Mode string `json:"mode,omitempty"`
	// Count limits the fault to the next Count requests; 0 means no limit.
	Count int `json:"count,omitempty"`
	// For limits the fault to this long after it was set; 0 means no limit. With both Count
	// and For, the fault ends with whichever runs out first.
	For Duration `json:"for,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header of an HTTP-status fault.
	RetryAfter int `json:"retryAfter,omitempty"`
}

// Faults is the fault-injection state of a Server.
type Faults struct {
	// API applies to the report API (POST reports and GET report), not to /sim/ endpoints.
	API Fault `json:"api"`
	// Token applies to the token endpoint.
	Token Fault `json:"token"`
	// Latency delays every report API answer (and every API fault).
	Latency Duration `json:"latency,omitempty"`
	// TokenLatency delays every token endpoint answer.
	TokenLatency Duration `json:"tokenLatency,omitempty"`
}

// Fault modes besides HTTP status codes.
const (
	FaultClose     = "close"
	FaultHandshake = "handshake"
)

// Validate checks the modes and limits.
func (f Faults) Validate() error {
	var errs []error
	check := func(name string, ft Fault, special string) {
		if ft.Mode != "" && ft.Mode != special {
			if code, err := strconv.Atoi(ft.Mode); err != nil || code < 400 || code > 599 {
				errs = append(errs, fmt.Errorf("%s.mode %q: want an HTTP status 400-599 or %q", name, ft.Mode, special))
			}
		}
		if ft.Count < 0 || ft.For < 0 || ft.RetryAfter < 0 {
			errs = append(errs, fmt.Errorf("%s: count, for and retryAfter must not be negative", name))
		}
	}
	check("api", f.API, FaultClose)
	check("token", f.Token, FaultHandshake)
	if f.Latency < 0 || f.TokenLatency < 0 {
		errs = append(errs, errors.New("latency must not be negative"))
	}
	return errors.Join(errs...)
}

// ParseFault applies one fault specification (the -fault flag of pcmsim serve) to f:
//
//	api=503[,count=N][,for=DUR][,retry-after=SECONDS]   API answers 503 (any 400-599 status, or close)
//	token=500[,count=N][,for=DUR]                       token endpoint answers 500 (or 401, handshake, …)
//	latency=DUR                                          delay every API answer
//	token-latency=DUR                                    delay every token answer
//
// count, for and retry-after refer to the api= or token= target of the same specification.
func ParseFault(spec string, f *Faults) error {
	var target *Fault
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("fault %q: %q is not key=value", spec, part)
		}
		var err error
		switch k {
		case "api":
			target = &f.API
			*target = Fault{Mode: v}
		case "token":
			target = &f.Token
			*target = Fault{Mode: v}
		case "latency", "token-latency":
			var d time.Duration
			if d, err = time.ParseDuration(v); err == nil {
				if k == "latency" {
					f.Latency = Duration(d)
				} else {
					f.TokenLatency = Duration(d)
				}
			}
		case "count", "for", "retry-after":
			if target == nil {
				return fmt.Errorf("fault %q: %s needs api= or token= first", spec, k)
			}
			switch k {
			case "count":
				target.Count, err = strconv.Atoi(v)
			case "retry-after":
				target.RetryAfter, err = strconv.Atoi(v)
			default:
				var d time.Duration
				d, err = time.ParseDuration(v)
				target.For = Duration(d)
			}
		default:
			return fmt.Errorf("fault %q: unknown key %q", spec, k)
		}
		if err != nil {
			return fmt.Errorf("fault %q: %s: %w", spec, k, err)
		}
	}
	return f.Validate()
}

// faultState is the live fault configuration with remaining counts and deadlines.
type faultState struct {
	mu                   sync.Mutex
	f                    Faults
	apiLeft, tokenLeft   int       // remaining requests; -1 = unlimited
	apiUntil, tokenUntil time.Time // zero = no deadline
}

func (fs *faultState) set(f Faults, now time.Time) error {
	if err := f.Validate(); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.apiLeft, fs.apiUntil = limits(f.API, now)
	fs.tokenLeft, fs.tokenUntil = limits(f.Token, now)
	return nil
}

func limits(ft Fault, now time.Time) (left int, until time.Time) {
	left = -1
	if ft.Count > 0 {
		left = ft.Count
	}
	if ft.For > 0 {
		until = now.Add(time.Duration(ft.For))
	}
	return left, until
}

// current returns the configuration with Count and For replaced by what remains.
func (fs *faultState) current(now time.Time) Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	f.API = remaining(f.API, &fs.apiLeft, fs.apiUntil, now)
	f.Token = remaining(f.Token, &fs.tokenLeft, fs.tokenUntil, now)
	return f
}

func remaining(ft Fault, left *int, until time.Time, now time.Time) Fault {
	if !active(ft, *left, until, now) {
		return Fault{}
	}
	if *left > 0 {
		ft.Count = *left
	}
	if !until.IsZero() {
		ft.For = Duration(until.Sub(now))
	}
	return ft
}

func active(ft Fault, left int, until time.Time, now time.Time) bool {
	return ft.Mode != "" && left != 0 && (until.IsZero() || now.Before(until))
}

// takeAPI returns the API fault to apply to this request, consuming one count.
func (fs *faultState) takeAPI(now time.Time) (Fault, time.Duration, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ft, ok := take(fs.f.API, &fs.apiLeft, fs.apiUntil, now)
	return ft, time.Duration(fs.f.Latency), ok
}

// takeToken returns the token fault to apply to this request or handshake, consuming one count.
func (fs *faultState) takeToken(now time.Time, handshake bool) (Fault, time.Duration, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if (fs.f.Token.Mode == FaultHandshake) != handshake {
		return Fault{}, time.Duration(fs.f.TokenLatency), false
	}
	ft, ok := take(fs.f.Token, &fs.tokenLeft, fs.tokenUntil, now)
	return ft, time.Duration(fs.f.TokenLatency), ok
}

func take(ft Fault, left *int, until time.Time, now time.Time) (Fault, bool) {
	if !active(ft, *left, until, now) {
		return Fault{}, false
	}
	if *left > 0 {
		*left--
	}
	return ft, true
}
