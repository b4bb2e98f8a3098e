package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/mapping"
)

const statusUsage = `usage: pcmctl [-config FILE] [-exporter NAME] status [-json] FAPI_INTERACTION_ID

Reads a private report back from PCM: GET <endpoint><private_report_path>{fapiInteractionId}
with a token of the configured certificate. PCM shows only reports whose client or server is
your organisation. Prints the report's status (PAIRED, PAIRED_INCONSISTENT, UNPAIRED, SINGLE,
ACCEPTED, DISCARDED), reportId, pairedReportId, createdAt, updatedAt and the submitted fields.

Flags:
  -json   print PCM's report model as JSON

Exit status: 0 found, 1 not found (PCM is eventually consistent: a report may not be
visible right after it was sent) or PCM/network error, 2 usage error.
`

type statusOptions struct {
	json bool
}

var statusCommand = command{
	usage: statusUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &statusOptions{}
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runStatus,
}

func runStatus(ctx context.Context, c *cli, o any, args []string) int {
	opts := o.(*statusOptions)
	if len(args) != 1 {
		return c.usageError("want exactly one fapiInteractionId, got %d arguments", len(args))
	}
	id := strings.TrimSpace(args[0])
	if !mapping.IsUUID(id) {
		return c.usageError("%q is not a fapiInteractionId (a UUID)", args[0])
	}
	ec, err := c.loadConfig(ctx)
	if err != nil {
		c.errorf("%v", err)
		return exitCodeOf(err)
	}
	clients, err := newClients(ctx, ec)
	if err != nil {
		c.errorf("%v", err)
		return exitProblem
	}
	defer clients.Close()
	m, err := clients.API.GetReport(ctx, ec.cfg.PrivateReportPath, id)
	switch {
	case pcmapi.IsNotFound(err):
		c.errorf("report %s: not found (PCM is eventually consistent: try again later)", id)
		return exitProblem
	case err != nil:
		c.errorf("report %s: GET %s: %v", id, reportURL(ec.cfg, strings.TrimRight(ec.cfg.PrivateReportPath, "/")+"/"+id), err)
		return exitProblem
	}
	if opts.json {
		out := make(map[string]any, len(m.Fields)+5)
		maps.Copy(out, m.Fields)
		out["reportId"], out["status"], out["createdAt"], out["updatedAt"] = m.ReportID, m.Status, m.CreatedAt, m.UpdatedAt
		out["pairedReportId"] = nil
		if m.PairedReportID != "" {
			out["pairedReportId"] = m.PairedReportID
		}
		writeJSON(c.stdout, out)
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	row("fapiInteractionId", id)
	row("status", m.Status)
	row("reportId", m.ReportID)
	row("pairedReportId", m.PairedReportID)
	row("createdAt", m.CreatedAt)
	row("updatedAt", m.UpdatedAt)
	for _, k := range slices.Sorted(maps.Keys(m.Fields)) {
		if k == "fapiInteractionId" {
			continue // first row
		}
		row(k, fieldText(m.Fields[k]))
	}
	_ = tw.Flush()
	return exitOK
}

// fieldText shows a field value: strings and numbers as they are, the rest as JSON.
func fieldText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
