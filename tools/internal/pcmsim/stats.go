package pcmsim

import (
	"maps"
	"sync"
)

// Stats are request counters of a Server since start or the last reset.
type Stats struct {
	// TokenRequests counts token requests by outcome: issued, cached, unsupported_grant_type,
	// invalid_client, org_mismatch, not_found, method_not_allowed, fault, handshake_refused.
	TokenRequests map[string]int `json:"tokenRequests"`
	// ReportRequests counts POSTs to the report paths by HTTP status ("200", "207", "401", …);
	// "closed" counts connections closed without an answer by a fault.
	ReportRequests map[string]int `json:"reportRequests"`
	// QueryRequests counts GET /report-api/v1/private/report/{id} by HTTP status.
	QueryRequests map[string]int `json:"queryRequests"`
	// ItemsReceived counts items of well-formed batches; ItemsAccepted + ItemsDiscarded = ItemsReceived.
	ItemsReceived  int `json:"itemsReceived"`
	ItemsAccepted  int `json:"itemsAccepted"`
	ItemsDiscarded int `json:"itemsDiscarded"`
	// Duplicates counts accepted private reports whose role, fapiInteractionId, endpoint and
	// timestamp had already been received (they are stored all the same).
	Duplicates int `json:"duplicates"`
}

// Token request outcomes (keys of Stats.TokenRequests).
const (
	TokenOutcomeIssued           = "issued"
	TokenOutcomeCached           = "cached"
	TokenOutcomeUnsupportedGrant = "unsupported_grant_type"
	TokenOutcomeInvalidClient    = "invalid_client"
	TokenOutcomeOrgMismatch      = "org_mismatch"
	TokenOutcomeNotFound         = "not_found"
	TokenOutcomeMethodNotAllowed = "method_not_allowed"
	TokenOutcomeFault            = "fault"
	TokenOutcomeHandshakeRefused = "handshake_refused"
)

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func newStatsCounter() *statsCounter {
	c := &statsCounter{}
	c.reset()
	return c
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{TokenRequests: map[string]int{}, ReportRequests: map[string]int{}, QueryRequests: map[string]int{}}
}

func (c *statsCounter) update(f func(s *Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.s)
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.TokenRequests = maps.Clone(c.s.TokenRequests)
	s.ReportRequests = maps.Clone(c.s.ReportRequests)
	s.QueryRequests = maps.Clone(c.s.QueryRequests)
	return s
}
