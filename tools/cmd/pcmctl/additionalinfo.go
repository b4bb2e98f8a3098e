package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pcm-otel/pcmexporter/mapping"
	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

const additionalInfoUsage = `usage: pcmctl additional-info [-metrics URL] [-json]

Shows the additionalInfo keys PCM obliges per role, endpoint, method and status class, each
rule with its public source (the exporter's table, mapping/obligations.json; see
docs/pcm-rules.md §6). The exporter counts every report it sends without an obliged key.

Flags:
  -metrics URL   also read the collector's Prometheus endpoint (e.g.
                 http://127.0.0.1:8888/metrics) and list, most first, how many reports each
                 exporter sent without an obliged key, per endpoint template and key
  -json          print one JSON document instead of text

Exit status: 0 (with -metrics: no report lacked a key), 1 reports lacked keys or the
endpoint could not be read, 2 usage error.
`

// missingInfoMetric counts the reports sent without an obliged additionalInfo key.
const missingInfoMetric = "otelcol_exporter_pcm_reports_missing_additional_info"

type additionalInfoOptions struct {
	metrics string
	json    bool
}

var additionalInfoCommand = command{
	usage: additionalInfoUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &additionalInfoOptions{}
		fs.StringVar(&o.metrics, "metrics", "", "the collector's Prometheus endpoint")
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runAdditionalInfo,
}

// missingCount is one series of missingInfoMetric.
type missingCount struct {
	Exporter string  `json:"exporter"`
	Endpoint string  `json:"endpoint"`
	Key      string  `json:"key"`
	Reports  float64 `json:"reports"`
}

func runAdditionalInfo(ctx context.Context, c *cli, o any, args []string) int {
	opts := o.(*additionalInfoOptions)
	if len(args) != 0 {
		return c.usageError("additional-info takes no arguments")
	}
	rules := mapping.DefaultObligations().Rules
	var missing []missingCount
	if opts.metrics != "" {
		m, err := demo.ScrapeMetrics(ctx, opts.metrics)
		if err != nil {
			c.errorf("-metrics: %v", err)
			return exitProblem
		}
		for _, s := range m.Find(missingInfoMetric) {
			if s.Value > 0 {
				missing = append(missing, missingCount{Exporter: s.Labels["exporter"], Endpoint: s.Labels["endpoint"], Key: s.Labels["key"], Reports: s.Value})
			}
		}
		sort.Slice(missing, func(i, j int) bool {
			if missing[i].Reports != missing[j].Reports {
				return missing[i].Reports > missing[j].Reports
			}
			return missing[i].Exporter+missing[i].Endpoint+missing[i].Key < missing[j].Exporter+missing[j].Endpoint+missing[j].Key
		})
	}
	if opts.json {
		writeJSON(c.stdout, struct {
			Rules   []mapping.Obligation `json:"rules"`
			Missing []missingCount       `json:"missing,omitempty"`
		}{rules, missing})
	} else {
		printAdditionalInfo(c, rules, missing, opts.metrics != "")
	}
	if len(missing) > 0 {
		return exitProblem
	}
	return exitOK
}

func printAdditionalInfo(c *cli, rules []mapping.Obligation, missing []missingCount, scraped bool) {
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "RULE\tROLE\tMETHODS\tSTATUS\tKEYS\tENDPOINTS")
	for _, r := range rules {
		keys := strings.Join(r.Keys, ", ")
		if len(r.OneOf) > 0 {
			keys = strings.TrimPrefix(keys+", one of "+strings.Join(r.OneOf, "|"), ", ")
		}
		for k, v := range r.When {
			keys += fmt.Sprintf(" (when %s is %s)", k, strings.Join(v, " or "))
		}
		methods := strings.Join(r.Methods, ",")
		if methods == "" {
			methods = "any"
		}
		endpoints := strings.Join(r.Endpoints, " ")
		if len(r.Except) > 0 {
			endpoints += " (not " + strings.Join(r.Except, " ") + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Role, methods, r.Status, keys, endpoints)
	}
	_ = w.Flush()
	fmt.Fprintln(c.stdout, "\nSources:")
	for _, r := range rules {
		fmt.Fprintf(c.stdout, "  %s: %s\n", r.ID, r.Source)
	}
	if !scraped {
		return
	}
	if len(missing) == 0 {
		fmt.Fprintln(c.stdout, "\nNo report was sent without an obliged key.")
		return
	}
	fmt.Fprintln(c.stdout, "\nReports sent without an obliged key:")
	w = tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "REPORTS\tEXPORTER\tKEY\tENDPOINT")
	for _, m := range missing {
		fmt.Fprintf(w, "%.0f\t%s\t%s\t%s\n", m.Reports, m.Exporter, m.Key, m.Endpoint)
	}
	_ = w.Flush()
}
