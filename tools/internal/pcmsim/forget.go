package pcmsim

// ForgetReports drops the stored and discarded reports and the reconciliation state (reports
// already received can no longer be paired, looked up or listed, and duplicates of them are not
// detected), but keeps the request statistics, tokens, rate limiter and faults.
//
// The simulator keeps every report in memory; a load test (cmd/pcmload) calls this
// periodically so that its memory stays bounded however many reports it receives.
func (s *Server) ForgetReports() { s.store.reset() }
