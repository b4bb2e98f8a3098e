package pcmsim

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// API names a PCM report API.
type API string

// The report APIs served by the simulator.
const (
	APIPrivate  API = "private"
	APIOpendata API = "opendata"
	// APICreditPortability: /report-api/v1/credit-portabilities/client and /server.
	APICreditPortability API = "credit_portability"
)

// Status is a PCM report status.
type Status string

// Report statuses. POST responses only carry ACCEPTED or DISCARDED; stored reports carry the
// reconciliation outcome.
const (
	StatusAccepted           Status = "ACCEPTED"
	StatusDiscarded          Status = "DISCARDED"
	StatusPaired             Status = "PAIRED"
	StatusPairedInconsistent Status = "PAIRED_INCONSISTENT"
	StatusUnpaired           Status = "UNPAIRED"
	StatusSingle             Status = "SINGLE"
)

// Roles of private reports.
const (
	RoleClient = "CLIENT"
	RoleServer = "SERVER"
)

// Report is an accepted, stored report with its reconciliation state and the submitted fields.
type Report struct {
	ReportID       string    `json:"reportId"`
	PairedReportID string    `json:"pairedReportId,omitempty"`
	Status         Status    `json:"status"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	API            API       `json:"api"`
	// SubmittedBy is the organisation of the token used to submit the report.
	SubmittedBy string `json:"submittedBy"`
	// Duplicate is set when an earlier report had the same role, fapiInteractionId, endpoint
	// and timestamp.
	Duplicate bool `json:"duplicate,omitempty"`

	Role              string          `json:"role,omitempty"`
	FapiInteractionID string          `json:"fapiInteractionId,omitempty"`
	Endpoint          string          `json:"endpoint"`
	StatusCode        int             `json:"statusCode"`
	HTTPMethod        string          `json:"httpMethod"`
	ClientOrgID       string          `json:"clientOrgId,omitempty"`
	ServerOrgID       string          `json:"serverOrgId,omitempty"`
	ClientSSID        string          `json:"clientSSId,omitempty"`
	EndpointURIPrefix string          `json:"endpointUriPrefix,omitempty"`
	CorrelationID     string          `json:"correlationId,omitempty"`
	Timestamp         string          `json:"timestamp"`
	ProcessTimespan   json.Number     `json:"processTimespan"`
	AdditionalInfo    json.RawMessage `json:"additionalInfo,omitempty"`
	// CreditPortability holds the credit-portability fields of such a report (portabilityId,
	// creditPortabilityStatus, …), as submitted.
	CreditPortability map[string]string `json:"creditPortability,omitempty"`
}

// DiscardedReport is a report PCM answered DISCARDED (kept for statistics only, as in PCM).
type DiscardedReport struct {
	ReportID    string    `json:"reportId"`
	API         API       `json:"api"`
	SubmittedBy string    `json:"submittedBy"`
	ReceivedAt  time.Time `json:"receivedAt"`
	// Message is the message returned to the client; Errors are its parts, untruncated.
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
	// Role, Endpoint and HTTPMethod are copied from the item when they were strings.
	Role          string          `json:"role,omitempty"`
	Endpoint      string          `json:"endpoint,omitempty"`
	HTTPMethod    string          `json:"httpMethod,omitempty"`
	CorrelationID string          `json:"correlationId,omitempty"`
	Item          json.RawMessage `json:"item"`
}

// ReportFilter selects stored reports; empty fields match everything.
type ReportFilter struct {
	FapiInteractionID string // case-insensitive
	Org               string // client or server organisation (case-insensitive)
	Status            Status
	API               API
}

func (f ReportFilter) match(r *Report) bool {
	if f.FapiInteractionID != "" && !strings.EqualFold(f.FapiInteractionID, r.FapiInteractionID) {
		return false
	}
	if f.Org != "" && !strings.EqualFold(f.Org, r.ClientOrgID) && !strings.EqualFold(f.Org, r.ServerOrgID) {
		return false
	}
	if f.Status != "" && f.Status != r.Status {
		return false
	}
	return f.API == "" || f.API == r.API
}

// store keeps reports in memory and reconciles private reports by fapiInteractionId.
type store struct {
	closingDelay time.Duration

	mu        sync.Mutex
	reports   []*Report            // in arrival order
	byFapi    map[string][]*Report // lower-case fapiInteractionId → private reports
	seen      map[string]bool      // duplicate keys
	discarded []DiscardedReport
}

func newStore(closingDelay time.Duration) *store {
	st := &store{closingDelay: closingDelay}
	st.reset()
	return st
}

func (st *store) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reports = nil
	st.byFapi = map[string][]*Report{}
	st.seen = map[string]bool{}
	st.discarded = nil
}

// add stores an accepted report, reconciles it and reports whether it duplicates an earlier one.
func (st *store) add(r *Report, now time.Time) (duplicate bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closeLocked(now)
	r.CreatedAt, r.UpdatedAt = now, now
	st.reports = append(st.reports, r)
	if r.API != APIPrivate || r.FapiInteractionID == "" {
		r.Status = StatusSingle // opendata is never paired; no id → no possible counterpart
		return false
	}
	key := strings.ToLower(r.FapiInteractionID)
	dupKey := r.Role + "|" + key + "|" + r.Endpoint + "|" + r.Timestamp
	duplicate = st.seen[dupKey]
	st.seen[dupKey] = true
	r.Duplicate = duplicate

	r.Status = StatusUnpaired
	for _, other := range st.byFapi[key] {
		if other.Role != r.Role && other.Status == StatusUnpaired {
			status := StatusPaired
			if !consistent(r, other) {
				status = StatusPairedInconsistent
			}
			r.Status, other.Status = status, status
			r.PairedReportID, other.PairedReportID = other.ReportID, r.ReportID
			other.UpdatedAt = now
			break
		}
	}
	st.byFapi[key] = append(st.byFapi[key], r)
	return duplicate
}

// consistent applies PCM's comparison of a CLIENT/SERVER pair.
func consistent(a, b *Report) bool {
	return strings.EqualFold(a.ClientOrgID, b.ClientOrgID) &&
		strings.EqualFold(a.ServerOrgID, b.ServerOrgID) &&
		a.StatusCode == b.StatusCode &&
		a.HTTPMethod == b.HTTPMethod &&
		a.Endpoint == b.Endpoint
}

// closeLocked turns UNPAIRED reports older than the closing delay into SINGLE (PCM's periodic
// closing); disabled when the delay is 0.
func (st *store) closeLocked(now time.Time) {
	if st.closingDelay <= 0 {
		return
	}
	for _, r := range st.reports {
		if r.Status == StatusUnpaired && now.Sub(r.CreatedAt) >= st.closingDelay {
			r.Status, r.UpdatedAt = StatusSingle, now
		}
	}
}

func (st *store) addDiscarded(d DiscardedReport) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.discarded = append(st.discarded, d)
}

// list returns copies of the stored reports matching f, in arrival order.
func (st *store) list(f ReportFilter, now time.Time) []Report {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closeLocked(now)
	out := []Report{}
	for _, r := range st.reports {
		if f.match(r) {
			out = append(out, *r)
		}
	}
	return out
}

func (st *store) listDiscarded() []DiscardedReport {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]DiscardedReport{}, st.discarded...)
}

// lookup returns the private report with this fapiInteractionId that org may see (org is the
// client or the server of the report). It prefers the org's own submission (role, when given,
// selects CLIENT or SERVER), then the most recent one.
func (st *store) lookup(fapiID, org, role string, now time.Time) (Report, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closeLocked(now)
	var own, other *Report
	for _, r := range st.byFapi[strings.ToLower(fapiID)] { // arrival order: the last match is the newest
		if !strings.EqualFold(org, r.ClientOrgID) && !strings.EqualFold(org, r.ServerOrgID) {
			continue
		}
		if role != "" && r.Role != role {
			continue
		}
		if strings.EqualFold(r.SubmittedBy, org) {
			own = r
		} else {
			other = r
		}
	}
	switch {
	case own != nil:
		return *own, true
	case other != nil:
		return *other, true
	}
	return Report{}, false
}
