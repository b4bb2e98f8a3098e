package pcmsim

import (
	"encoding/json"
	"net/http"
)

// handleSim serves the simulator control endpoints (no authentication):
//
//	GET  /sim/summary    Summary
//	GET  /sim/reports    []Report; filters ?fapiInteractionId= ?org= ?status= ?api=
//	GET  /sim/discarded  []DiscardedReport
//	GET  /sim/stats      Stats
//	GET  /sim/faults     Faults (what remains of them)
//	POST /sim/faults     replace the Faults (JSON body; {} clears them)
//	POST /sim/reset      clear reports, statistics, token cache, rate limiter and faults
func (s *Server) handleSim(w http.ResponseWriter, r *http.Request) {
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch p := r.URL.Path; {
	case p == "/sim/summary" && get:
		writeJSON(w, http.StatusOK, s.Summary())
	case p == "/sim/reports" && get:
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, s.FindReports(ReportFilter{
			FapiInteractionID: q.Get("fapiInteractionId"), Org: q.Get("org"),
			Status: Status(q.Get("status")), API: API(q.Get("api")),
		}))
	case p == "/sim/discarded" && get:
		writeJSON(w, http.StatusOK, s.Discarded())
	case p == "/sim/stats" && get:
		writeJSON(w, http.StatusOK, s.Stats())
	case p == "/sim/faults" && get:
		writeJSON(w, http.StatusOK, s.Faults())
	case p == "/sim/faults" && post:
		var f Faults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeMessage(w, http.StatusBadRequest, "invalid faults: "+err.Error())
			return
		}
		if err := s.SetFaults(f); err != nil {
			writeMessage(w, http.StatusBadRequest, "invalid faults: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	case p == "/sim/reset" && post:
		s.Reset()
		writeMessage(w, http.StatusOK, "state cleared")
	case p == "/sim/summary" || p == "/sim/reports" || p == "/sim/discarded" || p == "/sim/stats" ||
		p == "/sim/faults" || p == "/sim/reset":
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	default:
		writeMessage(w, http.StatusNotFound, "Not Found")
	}
}
