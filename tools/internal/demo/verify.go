package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// Run is one scenario call made by the driver.
type Run struct {
	Seq      int
	Scenario Scenario
	Result   CallResult
}

// Observed is what can be seen of the reports: the simulator's stored reports, each
// organisation's dead letter (by Org.Name) and the server bank's request log.
type Observed struct {
	Reports     []pcmsim.Report
	DeadLetters map[string][]deadletter.Entry
	Handled     func(traceID string) []Handled
}

// Observe collects the current state of a stack.
func (st *Stack) Observe() (Observed, error) {
	obs := Observed{Reports: st.Sim.Reports(), DeadLetters: map[string][]deadletter.Entry{}, Handled: st.Server.HandledInTrace}
	for _, o := range Orgs() {
		entries, err := st.DeadLetters(o.Name)
		if err != nil {
			return obs, err
		}
		obs.DeadLetters[o.Name] = entries
	}
	return obs, nil
}

// SideOutcome is the verdict on one side of a run.
type SideOutcome struct {
	Expected Expect
	// Got describes what was found ("PAIRED 200 /open-banking/...", "dead letter: ...", ...).
	Got string
	// OK: the expectation is met. Pending: nothing was found yet (the report may still come).
	OK      bool
	Pending bool
	// Report and DeadLetter are what was found (nil when nothing).
	Report     *pcmsim.Report
	DeadLetter *deadletter.Entry
}

// RunOutcome is the verdict on one run.
type RunOutcome struct {
	Run    Run
	Server *Handled // the server bank's record of the call (nil when it never arrived)
	Client SideOutcome
	Srv    SideOutcome
}

// OK reports whether both sides met their expectation.
func (o RunOutcome) OK() bool { return o.Client.OK && o.Srv.OK }

// Evaluate compares every run with its expectation.
func Evaluate(runs []Run, obs Observed) []RunOutcome {
	var clientReports, serverReports []*pcmsim.Report
	opendata := map[string]int{} // endpoint → reports left to assign
	for i := range obs.Reports {
		r := &obs.Reports[i]
		switch {
		case r.API == pcmsim.APIOpendata:
			opendata[r.Endpoint]++
		case r.Role == pcmsim.RoleClient:
			clientReports = append(clientReports, r)
		case r.Role == pcmsim.RoleServer:
			serverReports = append(serverReports, r)
		}
	}
	out := make([]RunOutcome, 0, len(runs))
	for _, run := range runs {
		res := run.Result
		o := RunOutcome{Run: run}

		// client side: its report carries the trace id as correlationId, or the interaction id
		var cr *pcmsim.Report
		for _, r := range clientReports {
			if !strings.EqualFold(r.SubmittedBy, BancoA.OrgID) {
				continue
			}
			if (res.TraceID != "" && r.CorrelationID == res.TraceID) ||
				(res.InteractionID() != "" && strings.EqualFold(r.FapiInteractionID, res.InteractionID())) {
				cr = r
			}
		}
		cdl := findDeadLetter(obs.DeadLetters[BancoA.Name], res.TraceID, res.SpanID)
		o.Client = judge(run.Scenario.Client, cr, cdl, res.InteractionID())

		// server side: found through the server bank's own log of the call
		var h *Handled
		if obs.Handled != nil {
			if hs := obs.Handled(res.TraceID); len(hs) > 0 {
				h = &hs[len(hs)-1]
			}
		}
		o.Server = h
		if h == nil {
			o.Srv = SideOutcome{Expected: run.Scenario.Server, Pending: true, Got: "the server has not answered yet"}
			if res.Err != nil && !res.TimedOut {
				o.Srv.Pending, o.Srv.Got = false, "the call never reached the server: "+res.Err.Error()
			}
			out = append(out, o)
			continue
		}
		var sr *pcmsim.Report
		if h.InteractionID != "" {
			for _, r := range serverReports {
				if strings.EqualFold(r.SubmittedBy, BancoB.OrgID) && strings.EqualFold(r.FapiInteractionID, h.InteractionID) {
					sr = r
				}
			}
		}
		sdl := findDeadLetter(obs.DeadLetters[BancoB.Name], h.TraceID, h.SpanID)
		exp := run.Scenario.Server
		if exp.Opendata {
			o.Srv = SideOutcome{Expected: exp, DeadLetter: sdl}
			switch {
			case sdl != nil:
				o.Srv.Got = "dead letter: " + sdl.Reason
			case opendata[exp.Endpoint] > 0:
				opendata[exp.Endpoint]--
				o.Srv.OK, o.Srv.Got = true, "opendata report"
			default:
				o.Srv.Pending, o.Srv.Got = true, "no opendata report yet"
			}
		} else {
			o.Srv = judge(exp, sr, sdl, h.InteractionID)
		}
		out = append(out, o)
	}
	return out
}

func findDeadLetter(entries []deadletter.Entry, traceID, spanID string) *deadletter.Entry {
	if traceID == "" {
		return nil
	}
	for i := range entries {
		if entries[i].TraceID == traceID && (spanID == "" || entries[i].SpanID == spanID) {
			return &entries[i]
		}
	}
	return nil
}

// judge compares one side's report or dead letter with its expectation.
func judge(exp Expect, r *pcmsim.Report, dl *deadletter.Entry, interactionID string) SideOutcome {
	so := SideOutcome{Expected: exp, Report: r, DeadLetter: dl}
	switch {
	case r != nil:
		so.Got = fmt.Sprintf("%s %d %s", r.Status, r.StatusCode, r.Endpoint)
		if r.FapiInteractionID == "" {
			so.Got += " (no fapiInteractionId)"
		}
	case dl != nil:
		so.Got = "dead letter: " + dl.Reason
	default:
		so.Got = "nothing"
	}
	var problems []string
	switch {
	case exp.Status != "":
		if r == nil {
			if dl != nil {
				problems = append(problems, "expected a report at PCM, got a dead letter")
			} else {
				so.Pending = true
			}
			break
		}
		if string(r.Status) != exp.Status {
			problems = append(problems, "status "+string(r.Status))
		}
		if exp.CreditPortability != (r.API == pcmsim.APICreditPortability) {
			problems = append(problems, "api "+string(r.API))
		}
		if exp.StatusCode != 0 && r.StatusCode != exp.StatusCode {
			problems = append(problems, fmt.Sprintf("statusCode %d", r.StatusCode))
		}
		if exp.Endpoint != "" && r.Endpoint != exp.Endpoint {
			problems = append(problems, "endpoint "+r.Endpoint)
		}
		switch {
		case exp.NoInteractionID && r.FapiInteractionID != "":
			problems = append(problems, "unexpected fapiInteractionId")
		case !exp.NoInteractionID && !strings.EqualFold(r.FapiInteractionID, interactionID):
			problems = append(problems, fmt.Sprintf("fapiInteractionId %q, want %q", r.FapiInteractionID, interactionID))
		}
	case exp.DeadLetter != "":
		if dl == nil {
			if r != nil {
				problems = append(problems, "expected a dead letter, the report was sent")
			} else {
				so.Pending = true
			}
			break
		}
		if !strings.HasPrefix(dl.Reason, exp.DeadLetter) {
			problems = append(problems, "reason "+dl.Reason)
		}
	case exp.Skipped != "":
		if r != nil || dl != nil {
			problems = append(problems, "expected no report")
		} else {
			so.Got = "no report"
		}
	}
	so.OK = !so.Pending && len(problems) == 0
	if len(problems) > 0 && r == nil && dl == nil {
		so.Got = strings.Join(problems, ", ")
	}
	return so
}

// WaitForOutcomes polls observe until every run meets its expectation, or nothing is pending
// any more and the verdicts stayed the same for settle, or ctx ends. It always returns the last
// evaluation. Once everything is met it still waits settle and evaluates once more, so that a
// report arriving late (one that would turn an UNPAIRED into PAIRED, say) is not missed.
func WaitForOutcomes(ctx context.Context, runs []Run, observe func() (Observed, error), settle time.Duration) ([]RunOutcome, error) {
	var last []RunOutcome
	var stableSince time.Time
	lastSig := ""
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		obs, err := observe()
		if err != nil {
			return last, err
		}
		last = Evaluate(runs, obs)
		sig, pending := signature(last)
		now := time.Now()
		if sig != lastSig {
			lastSig, stableSince = sig, now
		}
		if !pending && (now.Sub(stableSince) >= settle) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-tick.C:
		}
	}
}

func signature(outs []RunOutcome) (sig string, pending bool) {
	var b strings.Builder
	for _, o := range outs {
		pending = pending || o.Client.Pending || o.Srv.Pending
		fmt.Fprintf(&b, "%s|%s\n", o.Client.Got, o.Srv.Got)
	}
	return b.String(), pending
}

// ScenarioVerdict aggregates the runs of one scenario.
type ScenarioVerdict struct {
	Scenario       Scenario
	Runs, OK       int
	ClientOK       int // runs whose CLIENT side met the expectation
	ServerOK       int
	ClientGot      map[string]int
	ServerGot      map[string]int
	FirstFailure   *RunOutcome
	PairedExpected bool
}

// Verdicts groups outcomes per scenario, in table order.
func Verdicts(outs []RunOutcome) []ScenarioVerdict {
	byName := map[string]*ScenarioVerdict{}
	var order []string
	for i := range outs {
		o := &outs[i]
		s := o.Run.Scenario
		v := byName[s.Name]
		if v == nil {
			v = &ScenarioVerdict{Scenario: s, ClientGot: map[string]int{}, ServerGot: map[string]int{},
				PairedExpected: s.Client.Status == StatusPaired || s.Server.Status == StatusPaired}
			byName[s.Name] = v
			order = append(order, s.Name)
		}
		v.Runs++
		if o.OK() {
			v.OK++
		} else if v.FirstFailure == nil {
			v.FirstFailure = o
		}
		if o.Client.OK {
			v.ClientOK++
		}
		if o.Srv.OK {
			v.ServerOK++
		}
		v.ClientGot[shortGot(o.Client)]++
		v.ServerGot[shortGot(o.Srv)]++
	}
	table := map[string]int{}
	for i, s := range Scenarios() {
		table[s.Name] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return table[order[i]] < table[order[j]] })
	out := make([]ScenarioVerdict, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// shortGot is the verdict's headline: the status or the dead-letter reason.
func shortGot(so SideOutcome) string {
	switch {
	case so.Report != nil:
		return string(so.Report.Status)
	case so.DeadLetter != nil:
		return "dead letter: " + so.DeadLetter.Reason
	}
	return so.Got
}

// WriteVerdicts prints one line per scenario: what each side's reports became (the expectation
// when it was met), and whether the scenario ended as expected.
func WriteVerdicts(w io.Writer, verdicts []ScenarioVerdict) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tCALLS\tBANCO_A (CLIENT SPANS)\tBANCO_B (SERVER SPANS)\tRESULT")
	for _, v := range verdicts {
		result := "ok"
		if v.OK != v.Runs {
			result = fmt.Sprintf("FAIL (%d/%d ok)", v.OK, v.Runs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", v.Scenario.Label(), v.Runs,
			sideCell(v.Scenario.Client, v.ClientOK, v.Runs, v.ClientGot),
			sideCell(v.Scenario.Server, v.ServerOK, v.Runs, v.ServerGot), result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, v := range verdicts {
		if f := v.FirstFailure; f != nil {
			fmt.Fprintf(w, "  %s: trace %s — banco_a: %s; banco_b: %s\n", v.Scenario.Label(), f.Run.Result.TraceID, f.Client.Got, f.Srv.Got)
		}
	}
	return nil
}

func sideCell(exp Expect, ok, runs int, got map[string]int) string {
	if ok == runs {
		return exp.String()
	}
	return fmt.Sprintf("expected %s, got %s", exp, counts(got))
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if len(m) == 1 {
			parts = append(parts, k)
		} else {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// DeadLetterReasons counts dead-letter entries per stage and reason.
func DeadLetterReasons(entries []deadletter.Entry) map[string]int {
	out := map[string]int{}
	for _, e := range entries {
		out[fmt.Sprintf("%s: %s", e.Stage, e.Reason)]++
	}
	return out
}
