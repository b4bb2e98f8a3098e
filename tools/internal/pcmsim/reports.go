package pcmsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Report API paths.
const (
	PrivateReportPath  = "/report-api/v1/private/report/"
	OpendataReportPath = "/report-api/v1/opendata/report"
)

// ReportResponse is one item of a 200/207 answer, in request order.
type ReportResponse struct {
	ReportID      string  `json:"reportId"`
	Status        Status  `json:"status"`
	CorrelationID *string `json:"correlationId,omitempty"`
	Message       string  `json:"message,omitempty"`
}

// ReportModel is the answer of GET /report-api/v1/private/report/{fapiInteractionId}: the
// report's state and the submitted fields.
type ReportModel struct {
	ReportID          string          `json:"reportId"`
	PairedReportID    *string         `json:"pairedReportId"`
	Status            Status          `json:"status"`
	CreatedAt         string          `json:"createdAt"`
	UpdatedAt         string          `json:"updatedAt"`
	Role              string          `json:"role"`
	FapiInteractionID string          `json:"fapiInteractionId"`
	Endpoint          string          `json:"endpoint"`
	StatusCode        int             `json:"statusCode"`
	HTTPMethod        string          `json:"httpMethod"`
	ClientOrgID       string          `json:"clientOrgId"`
	ServerOrgID       string          `json:"serverOrgId"`
	ClientSSID        string          `json:"clientSSId,omitempty"`
	EndpointURIPrefix string          `json:"endpointUriPrefix,omitempty"`
	CorrelationID     string          `json:"correlationId,omitempty"`
	Timestamp         string          `json:"timestamp"`
	ProcessTimespan   json.Number     `json:"processTimespan"`
	AdditionalInfo    json.RawMessage `json:"additionalInfo,omitempty"`
}

// Status keys of Stats.ReportRequests / QueryRequests besides HTTP codes.
const (
	outcomeClosed  = 0  // fault "close": no answer
	outcomeAborted = -1 // client gone or shutdown during injected latency
	outcomeCounted = -2 // already counted
)

func statusKey(code int) string {
	switch code {
	case outcomeClosed:
		return "closed"
	case outcomeAborted:
		return "aborted"
	}
	return strconv.Itoa(code)
}

// handleAPI routes the API listener.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	private := strings.TrimSuffix(PrivateReportPath, "/")
	switch {
	case strings.HasPrefix(p, "/sim/"):
		s.handleSim(w, r)
	case strings.HasPrefix(p, "/directory/"):
		s.handleDirectory(w, r)
	case p == private || p == PrivateReportPath:
		s.countReport(s.postReports(w, r, APIPrivate))
	case p == OpendataReportPath:
		s.countReport(s.postReports(w, r, APIOpendata))
	case p == CreditPortabilityClientPath:
		s.countReport(s.postReportsAs(w, r, APICreditPortability, RoleClient))
	case p == CreditPortabilityServerPath:
		s.countReport(s.postReportsAs(w, r, APICreditPortability, RoleServer))
	case strings.HasPrefix(p, PrivateReportPath):
		s.countQuery(s.getReport(w, r, strings.TrimPrefix(p, PrivateReportPath)))
	default:
		writeMessage(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) countReport(code int) {
	if code != outcomeCounted {
		s.stats.update(func(st *Stats) { st.ReportRequests[statusKey(code)]++ })
	}
}

func (s *Server) countQuery(code int) {
	if code != outcomeCounted {
		s.stats.update(func(st *Stats) { st.QueryRequests[statusKey(code)]++ })
	}
}

// gate applies what PCM's gateway does before the handler: injected latency and faults, the
// rate limit and the bearer token. ok is false when an answer (or no answer) was given.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, count func(int)) (claims TokenClaims, code int, ok bool) {
	fault, latency, faulty := s.faults.takeAPI(s.now())
	if !s.sleep(r, latency) {
		return claims, outcomeAborted, false
	}
	if faulty {
		if fault.Mode == FaultClose {
			count(outcomeClosed) // counted first: closeConn does not return on HTTP/2
			closeConn(w)
			return claims, outcomeCounted, false
		}
		return claims, s.writeFault(w, fault, false), false
	}
	if !s.limiter.allow(s.now()) {
		w.Header().Set("Retry-After", "1")
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return claims, http.StatusTooManyRequests, false
	}
	claims, err := s.bearerOrg(r)
	if err != nil {
		s.log.Debug("unauthorized", zap.Error(err))
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		return claims, http.StatusUnauthorized, false
	}
	return claims, 0, true
}

// postReports serves POST private/opendata reports and returns the HTTP status given.
func (s *Server) postReports(w http.ResponseWriter, r *http.Request, api API) int {
	return s.postReportsAs(w, r, api, "")
}

// postReportsAs serves POST reports of api; pathRole is the role a credit-portability path
// takes ("" for the others).
func (s *Server) postReportsAs(w http.ResponseWriter, r *http.Request, api API, pathRole string) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return http.StatusMethodNotAllowed
	}
	claims, code, ok := s.gate(w, r, s.countReport)
	if !ok {
		return code
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		writeMessage(w, http.StatusUnsupportedMediaType, "Unsupported Media Type")
		return http.StatusUnsupportedMediaType
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		writeMessage(w, http.StatusNotAcceptable, "Content type not accepted")
		return http.StatusNotAcceptable
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Record limit exceeded")
		return http.StatusRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, MsgInvalidPayloadFormat+": MUST be an array")
		return http.StatusBadRequest
	}
	if int64(len(body)) > s.cfg.MaxBodyBytes {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Record limit exceeded")
		return http.StatusRequestEntityTooLarge
	}
	items, err := readArray(body, s.cfg.MaxItems)
	switch {
	case errors.Is(err, errTooManyItems):
		writeMessage(w, http.StatusRequestEntityTooLarge, "Record limit exceeded")
		return http.StatusRequestEntityTooLarge
	case err != nil:
		writeMessage(w, http.StatusBadRequest, MsgInvalidPayloadFormat+": MUST be an array")
		return http.StatusBadRequest
	}

	now := s.now()
	out := make([]ReportResponse, len(items))
	accepted, duplicates := 0, 0
	for i, raw := range items {
		var res itemResult
		switch api {
		case APIPrivate:
			res = s.validator.private(raw, claims.OrgID, now)
		case APICreditPortability:
			res = s.validator.creditPortability(raw, pathRole, claims.OrgID, now)
		default:
			res = s.validator.opendata(raw, claims.OrgID, now)
		}
		out[i] = ReportResponse{ReportID: newUUID(), CorrelationID: res.correlationID}
		if res.report != nil {
			res.report.ReportID = out[i].ReportID
			if s.store.add(res.report, now) {
				duplicates++
			}
			out[i].Status = StatusAccepted
			accepted++
			continue
		}
		out[i].Status, out[i].Message = StatusDiscarded, res.message()
		d := DiscardedReport{
			ReportID: out[i].ReportID, API: api, SubmittedBy: claims.OrgID, ReceivedAt: now,
			Message: out[i].Message, Errors: res.errs, Role: res.role, Endpoint: res.endpoint,
			HTTPMethod: res.method, Item: raw,
		}
		if res.correlationID != nil {
			d.CorrelationID = *res.correlationID
		}
		s.store.addDiscarded(d)
	}
	s.stats.update(func(st *Stats) {
		st.ItemsReceived += len(items)
		st.ItemsAccepted += accepted
		st.ItemsDiscarded += len(items) - accepted
		st.Duplicates += duplicates
	})
	code = http.StatusOK
	if accepted < len(items) {
		code = http.StatusMultiStatus
	}
	s.log.Debug("reports", zap.String("api", string(api)), zap.String("org", claims.OrgID),
		zap.Int("items", len(items)), zap.Int("accepted", accepted), zap.Int("status", code))
	writeJSON(w, code, out)
	return code
}

// getReport serves GET /report-api/v1/private/report/{fapiInteractionId}. The answer is the
// caller's own report with that id (the query parameter role=CLIENT|SERVER picks one side when
// the caller submitted both); without one, the counterpart's report when the caller is its
// client or server. Others get 404.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request, id string) int {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return http.StatusMethodNotAllowed
	}
	claims, code, ok := s.gate(w, r, s.countQuery)
	if !ok {
		return code
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		writeMessage(w, http.StatusNotAcceptable, "Content type not accepted")
		return http.StatusNotAcceptable
	}
	rep, found := s.store.lookup(id, claims.OrgID, r.URL.Query().Get("role"), s.now())
	if id == "" || !found {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return http.StatusNotFound
	}
	writeJSON(w, http.StatusOK, toModel(rep))
	return http.StatusOK
}

func toModel(r Report) ReportModel {
	m := ReportModel{
		ReportID: r.ReportID, Status: r.Status, CreatedAt: r.CreatedAt.UTC().Format(timestampLayout),
		UpdatedAt: r.UpdatedAt.UTC().Format(timestampLayout), Role: r.Role, FapiInteractionID: r.FapiInteractionID,
		Endpoint: r.Endpoint, StatusCode: r.StatusCode, HTTPMethod: r.HTTPMethod, ClientOrgID: r.ClientOrgID,
		ServerOrgID: r.ServerOrgID, ClientSSID: r.ClientSSID, EndpointURIPrefix: r.EndpointURIPrefix,
		CorrelationID: r.CorrelationID, Timestamp: r.Timestamp, ProcessTimespan: r.ProcessTimespan,
	}
	if r.PairedReportID != "" {
		id := r.PairedReportID
		m.PairedReportID = &id
	}
	if len(r.AdditionalInfo) > 0 {
		m.AdditionalInfo = r.AdditionalInfo
	}
	return m
}
