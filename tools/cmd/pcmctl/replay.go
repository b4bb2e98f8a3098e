package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	pcmexporter "github.com/pcm-otel/pcmexporter"
	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/mapping"
)

const replayUsage = `usage: pcmctl [-config FILE] [-exporter NAME] replay [flags] DEADLETTER.jsonl

Resends the reports of a dead-letter file (after you corrected them) through the exporter's
PCM client: same token, TLS, paths and batch size as the collector.

Every line is first judged locally like "pcmctl validate" does; a report PCM would still
discard is not sent and is listed. The others go to private_report_path,
opendata_report_path or, by role, credit_portability_client_path / _server_path (by the
line's "api"), in POSTs of at most max_batch_size reports, and
PCM's answer is printed per line (reportId, status, message). A line is sent at most once per
run: identical reports are sent once, and nothing is retried automatically — a POST that fails
leaves its reports (and the later ones of the same API) "not delivered".

A CLIENT report without serverOrgId (for example one dead-lettered before the Directory had
loaded) gets it from counterparts.directory, from the URL it called, as the exporter would;
with -dry-run only from the Directory's file or cache_file (no network access).

Lines may also be plain report objects (PCM field names); they have no stage. The input may be
a rotated dead-letter file, gzip-compressed or not. It is read without locking it: a collector
appending to it goes on, and its new lines are left for a later replay.

Flags:
  -dry-run       judge and print what would be sent; no token, no network access
  -stage LIST    only lines of these stages (comma-separated: unlisted_endpoint, invalid,
                 discarded, rejected, retry_exhausted, shutdown); the other lines are "not
                 selected"
  -out FILE      write the lines that were not accepted (still invalid, DISCARDED again, not
                 delivered, not selected, unreadable) to FILE, to fix and replay again; lines
                 PCM or the local check judged get an updated stage and reason. FILE must be
                 new (replay never replaces a file, 0600); the dead-letter file, the input's
                 or dead_letter.path, and their rotated files are refused: the collector
                 appends to them
  -json          print one JSON document instead of text

Exit status: 0 when every selected line was accepted (with -dry-run: would be sent), 1 when
a line is still invalid, DISCARDED, not delivered or unreadable, 2 usage error.
`

type replayOptions struct {
	dryRun bool
	stages string
	out    string
	json   bool
}

var replayCommand = command{
	usage: replayUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &replayOptions{}
		fs.BoolVar(&o.dryRun, "dry-run", false, "no network access")
		fs.StringVar(&o.stages, "stage", "", "stages to replay")
		fs.StringVar(&o.out, "out", "", "file for the lines not accepted")
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runReplay,
}

var knownStages = []deadletter.Stage{
	deadletter.StageUnlisted, deadletter.StageInvalid, deadletter.StageDiscarded, deadletter.StageRejected,
	deadletter.StageRetryExhausted, deadletter.StageShutdown,
}

// Outcomes of replay, per line.
const (
	outcomeAccepted     = "accepted"
	outcomeDiscarded    = "discarded"
	outcomeInvalid      = "invalid"
	outcomeNotDelivered = "not_delivered"
	outcomeDuplicate    = "duplicate"
	outcomeNotSelected  = "not_selected"
	outcomeUnreadable   = "unreadable"
	outcomeWouldSend    = "would_send"
)

// replayResult is what happened to one line.
type replayResult struct {
	Line        int    `json:"line"`
	Outcome     string `json:"outcome"`
	Stage       string `json:"stage,omitempty"`
	API         string `json:"api,omitempty"`
	Role        string `json:"role,omitempty"`
	Method      string `json:"httpMethod,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"`
	StatusCode  int    `json:"statusCode,omitempty"`
	ReportID    string `json:"reportId,omitempty"`
	Status      string `json:"status,omitempty"` // PCM's status for the item
	Message     string `json:"message,omitempty"`
	DuplicateOf int    `json:"duplicateOf,omitempty"`

	value inputValue
	entry *deadletter.Entry
	raw   []byte // the report object as in the file
	item  []byte // the report as sent (mapping.AppendJSON)
	api   mapping.API
}

type replaySummary struct {
	Lines        int `json:"lines"`
	Accepted     int `json:"accepted"`
	Discarded    int `json:"discarded"`
	Invalid      int `json:"invalid"`
	NotDelivered int `json:"notDelivered"`
	Duplicates   int `json:"duplicates"`
	NotSelected  int `json:"notSelected"`
	Unreadable   int `json:"unreadable"`
	WouldSend    int `json:"wouldSend,omitempty"`
}

func runReplay(ctx context.Context, c *cli, o any, args []string) int {
	opts := o.(*replayOptions)
	if len(args) != 1 {
		return c.usageError("want exactly one DEADLETTER.jsonl, got %d arguments", len(args))
	}
	stages := map[deadletter.Stage]bool{}
	for _, s := range splitList(opts.stages) {
		if !slices.Contains(knownStages, deadletter.Stage(s)) {
			return c.usageError("-stage %q: unknown stage (want %s)", s, stageNames())
		}
		stages[deadletter.Stage(s)] = true
	}
	ec, _, validator, code := c.loadMapping(ctx)
	if code != 0 {
		return code
	}
	var counterparts mapping.CounterpartResolver
	dir, err := loadDirectory(ctx, ec, opts.dryRun)
	if err != nil {
		// Not fatal: the reports it would have completed stay "Missing property" and go to -out.
		c.errorf("%v", err)
	}
	if dir != nil {
		defer func() { _ = dir.Shutdown(context.Background()) }()
		counterparts = dir
	}
	path := args[0]
	if opts.out != "" {
		if err := checkOut(opts.out, path, ec.cfg.DeadLetter.Path); err != nil {
			return c.usageError("-out %s: %v", opts.out, err)
		}
	}
	values, err := readValues(path)
	if err != nil {
		c.errorf("%v", err)
		return exitProblem
	}
	var out *os.File
	if opts.out != "" {
		// Created before anything is sent: the results of a replay must have somewhere to go.
		out, err = os.OpenFile(opts.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return c.usageError("-out %s: the file exists; replay writes a new file and never replaces one", opts.out)
		}
		if err != nil {
			c.errorf("-out: %v", err)
			return exitProblem
		}
	}

	now := time.Now()
	results := make([]*replayResult, len(values))
	seen := map[string]int{} // report as sent → line of its first occurrence
	for i, val := range values {
		res := &replayResult{Line: val.line, value: val}
		results[i] = res
		switch val.kind {
		case kindInvalid:
			res.Outcome, res.Message = outcomeUnreadable, val.err.Error()
			continue
		case kindTraces:
			res.Outcome, res.Message = outcomeUnreadable, "an OTLP traces document, not a report (use pcmctl validate)"
			continue
		}
		raw, entry, err := reportOf(val)
		if err != nil {
			res.Outcome, res.Message = outcomeUnreadable, err.Error()
			continue
		}
		res.entry, res.raw = entry, raw
		entryAPI := ""
		if entry != nil {
			res.Stage, entryAPI = string(entry.Stage), entry.API
		}
		if len(stages) > 0 && (entry == nil || !stages[entry.Stage]) {
			res.Outcome = outcomeNotSelected
			continue
		}
		res.api = inferAPI(raw, entryAPI, validator.Catalog)
		j := judge(raw, res.api, validator, ec.cfg.OrgID, now, counterparts)
		r := &j.report
		res.API, res.Role, res.Method, res.Endpoint, res.StatusCode = res.api.String(), r.Role.String(), r.HTTPMethod, r.Endpoint, r.StatusCode
		if !j.ok() {
			res.Outcome, res.Message = outcomeInvalid, j.message()
			continue
		}
		res.item = mapping.AppendJSON(nil, r)
		if first, dup := seen[string(res.item)]; dup {
			res.Outcome, res.DuplicateOf = outcomeDuplicate, first
			continue
		}
		seen[string(res.item)] = res.Line
		res.Outcome = outcomeWouldSend
	}

	if !opts.dryRun {
		if err := sendReplay(ctx, ec, results); err != nil {
			c.errorf("%v", err)
		}
	}

	var summary replaySummary
	for _, res := range results {
		summary.add(res)
	}
	written := 0
	if out != nil {
		if written, err = writeRemaining(out, results, now); err != nil {
			c.errorf("-out: %v", err)
			return exitProblem
		}
	}
	if opts.json {
		out := struct {
			File    string          `json:"file"`
			DryRun  bool            `json:"dryRun"`
			Results []*replayResult `json:"results"`
			Summary replaySummary   `json:"summary"`
			Out     string          `json:"out,omitempty"`
			Written int             `json:"written"`
		}{path, opts.dryRun, results, summary, opts.out, written}
		if out.Results == nil {
			out.Results = []*replayResult{}
		}
		writeJSON(c.stdout, out)
	} else {
		printReplay(c, ec, opts, results, summary, written)
	}
	if summary.Discarded+summary.Invalid+summary.NotDelivered+summary.Unreadable > 0 {
		return exitProblem
	}
	return exitOK
}

func stageNames() string {
	names := make([]string, len(knownStages))
	for i, s := range knownStages {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// sendReplay sends the lines marked would_send, per API in POSTs of max_batch_size, and
// records PCM's answer per line. A failed POST leaves its unanswered reports and the rest of
// that API not delivered (no automatic retry: the operator decides), and the returned error
// says why.
func sendReplay(ctx context.Context, ec *exporterConfig, results []*replayResult) error {
	byAPI := map[string][]*replayResult{} // by path: credit portability has one per role
	for _, res := range results {
		if res.Outcome == outcomeWouldSend {
			path := replayPath(ec.cfg, res)
			byAPI[path] = append(byAPI[path], res)
		}
	}
	if len(byAPI) == 0 {
		return nil
	}
	clients, err := newClients(ctx, ec)
	if err != nil {
		for _, pending := range byAPI {
			markNotDelivered(pending, err)
		}
		return err
	}
	defer clients.Close()
	var errs []error
	for _, path := range []string{ec.cfg.PrivateReportPath, ec.cfg.OpendataReportPath,
		ec.cfg.CreditPortabilityClientPath, ec.cfg.CreditPortabilityServerPath} {
		pending := byAPI[path]
		delete(byAPI, path) // paths configured alike are sent once
		for start := 0; start < len(pending); {
			end := min(start+ec.cfg.MaxBatchSize, len(pending))
			items := make([][]byte, end-start)
			for i, res := range pending[start:end] {
				items[i] = res.item
			}
			answers, err := clients.API.Send(ctx, path, items)
			for i, a := range answers {
				res := pending[start+i]
				res.ReportID, res.Status, res.Message = a.ReportID, a.Status, a.Message
				switch {
				case a.Accepted():
					res.Outcome = outcomeAccepted
				case a.Discarded():
					res.Outcome = outcomeDiscarded
				default: // only PCM's documented word counts (docs/pcm-rules.md §15.1)
					res.Outcome, res.Message = outcomeNotDelivered, "PCM's answer gave this report no documented status"
				}
			}
			if err != nil {
				markNotDelivered(pending[start+len(answers):], err)
				errs = append(errs, fmt.Errorf("sending %s reports to %s: %w", pending[0].api, reportURL(ec.cfg, path), err))
				break
			}
			start = end
		}
	}
	return errors.Join(errs...)
}

// replayPath is the configured path of the report's API (and role, for credit portability).
func replayPath(cfg *pcmexporter.Config, res *replayResult) string {
	switch res.api {
	case mapping.APIOpendata:
		return cfg.OpendataReportPath
	case mapping.APICreditPortability:
		if res.Role == mapping.RoleServer.String() {
			return cfg.CreditPortabilityServerPath
		}
		return cfg.CreditPortabilityClientPath
	}
	return cfg.PrivateReportPath
}

func markNotDelivered(pending []*replayResult, err error) {
	for _, res := range pending {
		res.Outcome, res.Message = outcomeNotDelivered, err.Error()
	}
}

func (s *replaySummary) add(res *replayResult) {
	s.Lines++
	switch res.Outcome {
	case outcomeAccepted:
		s.Accepted++
	case outcomeDiscarded:
		s.Discarded++
	case outcomeInvalid:
		s.Invalid++
	case outcomeNotDelivered:
		s.NotDelivered++
	case outcomeDuplicate:
		s.Duplicates++
	case outcomeNotSelected:
		s.NotSelected++
	case outcomeUnreadable:
		s.Unreadable++
	case outcomeWouldSend:
		s.WouldSend++
	}
}

// checkOut refuses an -out file the collector may append to, rotate or remove: the input's
// dead-letter file or the configured one (dead_letter.path), or one of their rotated files,
// whatever the path says (relative, through a symbolic link, a hard link).
func checkOut(out, input, configured string) error {
	for _, live := range []string{deadletter.LivePath(input), configured} {
		if live == "" {
			continue
		}
		in, err := deadletter.InRotationSet(live, out)
		if err != nil {
			return err
		}
		if in {
			return fmt.Errorf("refused: it is the dead-letter file %s or one of its rotated files, which the collector may be appending to; write to a new file elsewhere", live)
		}
	}
	return nil
}

// writeRemaining writes the lines that were not accepted to out, a file replay created, and
// closes it. Lines that were judged again (still invalid, DISCARDED) become dead-letter
// entries with the new stage and reason; the others are kept as they were.
func writeRemaining(out *os.File, results []*replayResult, now time.Time) (int, error) {
	var buf bytes.Buffer
	n := 0
	for _, res := range results {
		var line []byte
		switch res.Outcome {
		case outcomeAccepted, outcomeDuplicate:
			continue
		case outcomeInvalid, outcomeDiscarded:
			e := deadletter.Entry{Time: now.UTC(), Stage: deadletter.StageInvalid, Reason: res.Message, API: res.API, Report: compact(res.raw)}
			if res.Outcome == outcomeDiscarded {
				e.Stage, e.ReportID = deadletter.StageDiscarded, res.ReportID
			}
			if res.entry != nil {
				e.TraceID, e.SpanID = res.entry.TraceID, res.entry.SpanID
			}
			var err error
			if line, err = json.Marshal(&e); err != nil {
				_ = out.Close()
				return 0, err
			}
		case outcomeUnreadable:
			line = res.value.raw
			if res.value.kind != kindInvalid {
				line = compact(line)
			}
		default: // not delivered, not selected, would send: unchanged
			line = compact(res.value.raw)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		n++
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		_ = out.Close()
		return 0, err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return 0, err
	}
	return n, out.Close()
}

func printReplay(c *cli, ec *exporterConfig, opts *replayOptions, results []*replayResult, s replaySummary, written int) {
	w := c.stdout
	if opts.dryRun {
		fmt.Fprintln(w, "dry run: nothing is sent")
	}
	for _, res := range results {
		desc := describe(res.API, res.Role, res.Method, res.Endpoint, res.StatusCode)
		var text string
		switch res.Outcome {
		case outcomeAccepted:
			text = fmt.Sprintf("%s reportId=%s (%s)", res.Status, res.ReportID, desc)
			if res.Message != "" {
				text += ": " + res.Message
			}
		case outcomeDiscarded:
			text = fmt.Sprintf("DISCARDED reportId=%s: %s", res.ReportID, res.Message)
		case outcomeInvalid:
			text = "still invalid, not sent: " + res.Message
		case outcomeNotDelivered:
			text = "not delivered: " + res.Message
		case outcomeDuplicate:
			text = fmt.Sprintf("duplicate of line %d, not sent", res.DuplicateOf)
		case outcomeNotSelected:
			stage := res.Stage
			if stage == "" {
				stage = "none"
			}
			text = "not selected (stage " + stage + ")"
		case outcomeUnreadable:
			text = "unreadable: " + res.Message
		case outcomeWouldSend:
			text = fmt.Sprintf("would send to %s (%s)", reportURL(ec.cfg, replayPath(ec.cfg, res)), desc)
		}
		fmt.Fprintf(w, "line %d: %s\n", res.Line, text)
	}
	if opts.dryRun {
		for _, api := range []mapping.API{mapping.APIPrivate, mapping.APIOpendata, mapping.APICreditPortability} {
			n := 0
			for _, res := range results {
				if res.Outcome == outcomeWouldSend && res.api == api {
					n++
				}
			}
			if n > 0 {
				posts := (n + ec.cfg.MaxBatchSize - 1) / ec.cfg.MaxBatchSize
				fmt.Fprintf(w, "would send %s in %s (max_batch_size %d)\n",
					plural(n, api.String()+" report"), plural(posts, "POST"), ec.cfg.MaxBatchSize)
			}
		}
	}
	parts := []string{
		fmt.Sprintf("%d accepted", s.Accepted), fmt.Sprintf("%d DISCARDED", s.Discarded),
		fmt.Sprintf("%d still invalid", s.Invalid), fmt.Sprintf("%d not delivered", s.NotDelivered),
		fmt.Sprintf("%d duplicates", s.Duplicates), fmt.Sprintf("%d not selected", s.NotSelected),
		fmt.Sprintf("%d unreadable", s.Unreadable),
	}
	if opts.dryRun {
		parts = append([]string{fmt.Sprintf("%d would be sent", s.WouldSend)}, parts...)
	}
	fmt.Fprintf(w, "summary: %d lines: %s\n", s.Lines, strings.Join(parts, ", "))
	if opts.out != "" {
		fmt.Fprintf(w, "wrote %d lines to %s\n", written, opts.out)
	}
}

// plural is "1 POST", "2 POSTs".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
