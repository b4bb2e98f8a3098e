package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/mapping"
)

const validateUsage = `usage: pcmctl [-config FILE] [-exporter NAME] validate [-json] FILE...

Judges reports and spans offline, with the exporter's configuration (org_id, endpoint catalog,
attribute names, counterparts) and without any network access.

Each FILE holds, one JSON value per line (pretty-printed documents work too):
  - reports with PCM's field names ({"fapiInteractionId": …, "endpoint": …});
  - dead-letter lines of the exporter ({"stage": …, "api": …, "report": {…}});
  - OTLP JSON traces ({"resourceSpans": […]}, e.g. the collector's file exporter output).

For a report it prints what PCM would answer: ACCEPTED, or DISCARDED with PCM's message
(PCM's Directory checks are not available offline). For a span it prints what the exporter
would do: reported (api, role, endpoint), skipped (reason) or invalid (the reason PCM would
discard the report, which the exporter dead-letters instead of sending).

Flags:
  -json   print one JSON document {"results": […], "summary": {…}} instead of text

Exit status: 0 when nothing would be discarded, 1 when a report would be DISCARDED, a span
would make an invalid report or a line or file is unreadable, 2 usage error.
`

type validateOptions struct {
	json bool
}

var validateCommand = command{
	usage: validateUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &validateOptions{}
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runValidate,
}

// Verdicts of validate.
const (
	verdictAccepted  = "ACCEPTED"
	verdictDiscarded = "DISCARDED"
	verdictReported  = "reported"
	verdictSkipped   = "skipped"
	verdictInvalid   = "invalid"
	verdictError     = "error"
)

// validateResult is the verdict on one report, span or unreadable value.
type validateResult struct {
	File       string `json:"file"`
	Line       int    `json:"line"`
	Kind       string `json:"kind"` // report, span, error
	Verdict    string `json:"verdict"`
	Message    string `json:"message,omitempty"`
	SkipReason string `json:"skipReason,omitempty"`
	Stage      string `json:"stage,omitempty"` // dead-letter lines
	API        string `json:"api,omitempty"`
	Role       string `json:"role,omitempty"`
	Method     string `json:"httpMethod,omitempty"`
	Endpoint   string `json:"endpoint,omitempty"`
	StatusCode int    `json:"statusCode,omitempty"`
	TraceID    string `json:"traceId,omitempty"`
	SpanID     string `json:"spanId,omitempty"`
	SpanName   string `json:"spanName,omitempty"`
}

type validateSummary struct {
	Reports   int  `json:"reports"`
	Accepted  int  `json:"accepted"`
	Discarded int  `json:"discarded"`
	Spans     int  `json:"spans"`
	Reported  int  `json:"reported"`
	Skipped   int  `json:"skipped"`
	Invalid   int  `json:"invalid"`
	Errors    int  `json:"errors"`
	OK        bool `json:"ok"`
}

func (s *validateSummary) add(r validateResult) {
	switch r.Verdict {
	case verdictAccepted:
		s.Reports++
		s.Accepted++
	case verdictDiscarded:
		s.Reports++
		s.Discarded++
	case verdictReported:
		s.Spans++
		s.Reported++
	case verdictSkipped:
		s.Spans++
		s.Skipped++
	case verdictInvalid:
		s.Spans++
		s.Invalid++
	default:
		s.Errors++
	}
	s.OK = s.Discarded+s.Invalid+s.Errors == 0
}

func (s validateSummary) String() string {
	return fmt.Sprintf("summary: %d reports (%d ACCEPTED, %d DISCARDED), %d spans (%d reported, %d skipped, %d invalid), %d unreadable",
		s.Reports, s.Accepted, s.Discarded, s.Spans, s.Reported, s.Skipped, s.Invalid, s.Errors)
}

func runValidate(ctx context.Context, c *cli, o any, files []string) int {
	opts := o.(*validateOptions)
	if len(files) == 0 {
		return c.usageError("no FILE given")
	}
	ec, mapper, validator, code := c.loadMapping(ctx)
	if code != 0 {
		return code
	}
	v := &validation{c: c, json: opts.json, mapper: mapper, validator: validator, orgID: ec.cfg.OrgID, now: time.Now()}
	for _, file := range files {
		v.file(file)
	}
	if opts.json {
		writeJSON(c.stdout, struct {
			Results []validateResult `json:"results"`
			Summary validateSummary  `json:"summary"`
		}{append([]validateResult{}, v.results...), v.summary})
	} else {
		fmt.Fprintln(c.stdout, v.summary)
	}
	if !v.summary.OK {
		return exitProblem
	}
	return exitOK
}

// validation judges the values of the files and prints (text) or collects (-json) the results.
type validation struct {
	c         *cli
	json      bool
	mapper    *mapping.Mapper
	validator mapping.Validator
	orgID     string
	now       time.Time

	results []validateResult
	summary validateSummary
	report  mapping.Report // reused by Map, as in the exporter
}

func (v *validation) emit(r validateResult) {
	v.summary.add(r)
	if v.json {
		v.results = append(v.results, r)
		return
	}
	if r.Line == 0 {
		return // an unreadable file: already on stderr
	}
	prefix := r.File + ":" + strconv.Itoa(r.Line) + ": "
	if r.Kind == "span" {
		prefix += fmt.Sprintf("span %s/%s %q: ", r.TraceID, r.SpanID, r.SpanName)
	}
	var text string
	switch r.Verdict {
	case verdictAccepted:
		text = "ACCEPTED (" + describe(r.API, r.Role, r.Method, r.Endpoint, r.StatusCode) + ")"
	case verdictDiscarded:
		text = "DISCARDED: " + r.Message
	case verdictReported:
		text = "reported (" + describe(r.API, r.Role, r.Method, r.Endpoint, r.StatusCode) + ")"
	case verdictSkipped:
		text = "skipped (" + r.SkipReason + ")"
	case verdictInvalid:
		text = "invalid: " + r.Message
	default:
		text = "unreadable: " + r.Message
	}
	fmt.Fprintln(v.c.stdout, prefix+text)
}

func (v *validation) file(path string) {
	values, err := readValues(path)
	if err != nil {
		v.c.errorf("%v", err) // the error names the file
		v.emit(validateResult{File: path, Kind: verdictError, Verdict: verdictError, Message: err.Error()})
		return
	}
	for _, val := range values {
		switch val.kind {
		case kindInvalid:
			v.emit(validateResult{File: path, Line: val.line, Kind: verdictError, Verdict: verdictError, Message: val.err.Error()})
		case kindTraces:
			v.traces(val)
		default:
			v.reportValue(val)
		}
	}
}

// reportValue judges one report (plain or dead-letter line) as PCM would.
func (v *validation) reportValue(val inputValue) {
	raw, entry, err := reportOf(val)
	if err != nil {
		v.emit(validateResult{File: val.file, Line: val.line, Kind: verdictError, Verdict: verdictError, Message: err.Error()})
		return
	}
	var entryAPI, stage string
	if entry != nil {
		entryAPI, stage = entry.API, string(entry.Stage)
	}
	api := inferAPI(raw, entryAPI, v.validator.Catalog)
	j := judge(raw, api, v.validator, v.orgID, v.now, nil)
	res := validateResult{
		File: val.file, Line: val.line, Kind: "report", Stage: stage,
		API: api.String(), Role: j.report.Role.String(), Method: j.report.HTTPMethod,
		Endpoint: j.report.Endpoint, StatusCode: j.report.StatusCode,
	}
	if j.ok() {
		res.Verdict = verdictAccepted
	} else {
		res.Verdict, res.Message = verdictDiscarded, j.message()
	}
	v.emit(res)
}

// traces maps every span as the exporter does (buildBatches): Map, then the Validator for
// reports; unlisted endpoints are invalid; the rest is skipped.
func (v *validation) traces(val inputValue) {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(val.raw)
	if err != nil {
		v.emit(validateResult{File: val.file, Line: val.line, Kind: verdictError, Verdict: verdictError,
			Message: "not an OTLP JSON traces document: " + err.Error()})
		return
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		resource := rss.At(i).Resource()
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				v.report = mapping.Report{AdditionalInfo: v.report.AdditionalInfo[:0]}
				outcome := v.mapper.Map(resource, span, &v.report)
				res := validateResult{File: val.file, Line: val.line, Kind: "span",
					TraceID: span.TraceID().String(), SpanID: span.SpanID().String(), SpanName: span.Name()}
				r := &v.report
				if outcome.Outcome != mapping.OutcomeSkipped {
					res.API, res.Role, res.Method, res.Endpoint, res.StatusCode =
						apiOrPrivate(r.API).String(), r.Role.String(), r.HTTPMethod, r.Endpoint, r.StatusCode
				}
				switch outcome.Outcome {
				case mapping.OutcomeReport:
					if problems := v.validator.Validate(r, v.now); len(problems) > 0 {
						res.Verdict, res.Message = verdictInvalid, mapping.JoinProblems(problems)
					} else {
						res.Verdict = verdictReported
					}
				case mapping.OutcomeUnlisted:
					res.Verdict, res.Message = verdictInvalid, mapping.ProblemUnlistedEndpoint+": "+r.Endpoint
				default:
					res.Verdict, res.SkipReason = verdictSkipped, string(outcome.SkipReason)
				}
				v.emit(res)
			}
		}
	}
}

func apiOrPrivate(api mapping.API) mapping.API {
	if api == mapping.APIOpendata || api == mapping.APICreditPortability {
		return api
	}
	return mapping.APIPrivate
}

// describe is "private CLIENT GET /open-banking/… 200", leaving out what is unknown.
func describe(api, role, method, endpoint string, status int) string {
	parts := []string{api}
	for _, p := range []string{role, method, endpoint} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if status != 0 {
		parts = append(parts, strconv.Itoa(status))
	}
	return strings.Join(parts, " ")
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
