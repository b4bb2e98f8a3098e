package pcmsim

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// summaryStatuses are the stored statuses, in table order.
var summaryStatuses = []Status{StatusPaired, StatusPairedInconsistent, StatusUnpaired, StatusSingle, StatusDiscarded}

// Summary totals the reports received since start or the last reset.
type Summary struct {
	GeneratedAt time.Time `json:"generatedAt"`
	// Total counts stored and discarded reports.
	Total int `json:"total"`
	// ByStatus counts reports per status (PAIRED, PAIRED_INCONSISTENT, UNPAIRED, SINGLE, DISCARDED).
	ByStatus map[Status]int `json:"byStatus"`
	// Endpoints counts reports per (api, endpoint, httpMethod) and status, sorted by those keys.
	// A discarded item contributes the endpoint and method it carried ("" when absent).
	Endpoints []EndpointSummary `json:"endpoints"`
	// DiscardedByType counts the errors of discarded items per message type (the text before
	// ": ", e.g. "Missing property"); an item with several errors counts once per error.
	DiscardedByType map[string]int `json:"discardedByType"`
}

// EndpointSummary is one row of Summary.Endpoints.
type EndpointSummary struct {
	API        API            `json:"api"`
	Endpoint   string         `json:"endpoint"`
	HTTPMethod string         `json:"httpMethod"`
	ByStatus   map[Status]int `json:"byStatus"`
	Total      int            `json:"total"`
}

func zeroStatuses() map[Status]int {
	m := make(map[Status]int, len(summaryStatuses))
	for _, st := range summaryStatuses {
		m[st] = 0
	}
	return m
}

// errorType is the message type of one error ("Missing property: x" → "Missing property").
func errorType(e string) string {
	if t, _, ok := strings.Cut(e, ": "); ok {
		return t
	}
	return e
}

func buildSummary(reports []Report, discarded []DiscardedReport, now time.Time) Summary {
	sum := Summary{GeneratedAt: now.UTC(), ByStatus: zeroStatuses(), DiscardedByType: map[string]int{}}
	rows := map[[3]string]*EndpointSummary{}
	add := func(api API, endpoint, method string, st Status) {
		k := [3]string{string(api), endpoint, method}
		row := rows[k]
		if row == nil {
			row = &EndpointSummary{API: api, Endpoint: endpoint, HTTPMethod: method, ByStatus: zeroStatuses()}
			rows[k] = row
		}
		row.ByStatus[st]++
		row.Total++
		sum.ByStatus[st]++
		sum.Total++
	}
	for _, r := range reports {
		add(r.API, r.Endpoint, r.HTTPMethod, r.Status)
	}
	for _, d := range discarded {
		add(d.API, d.Endpoint, d.HTTPMethod, StatusDiscarded)
		for _, e := range d.Errors {
			sum.DiscardedByType[errorType(e)]++
		}
	}
	sum.Endpoints = make([]EndpointSummary, 0, len(rows))
	for _, row := range rows {
		sum.Endpoints = append(sum.Endpoints, *row)
	}
	sort.Slice(sum.Endpoints, func(i, j int) bool {
		a, b := sum.Endpoints[i], sum.Endpoints[j]
		if a.API != b.API {
			return a.API < b.API
		}
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		return a.HTTPMethod < b.HTTPMethod
	})
	return sum
}

// WriteTable prints the summary as fixed-width tables: totals per status, per endpoint and
// method, and discarded errors per message type.
func (s Summary) WriteTable(w io.Writer) error {
	var b strings.Builder
	plural := "s"
	if s.Total == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "PCM simulator summary at %s: %d report%s\n\n", s.GeneratedAt.UTC().Format(timestampLayout), s.Total, plural)

	rows := [][]string{{"STATUS", "COUNT"}}
	for _, st := range summaryStatuses {
		rows = append(rows, []string{string(st), strconv.Itoa(s.ByStatus[st])})
	}
	rows = append(rows, []string{"TOTAL", strconv.Itoa(s.Total)})
	writeTable(&b, rows, []bool{false, true})

	b.WriteString("\n")
	if len(s.Endpoints) == 0 {
		b.WriteString("No reports per endpoint.\n")
	} else {
		header := []string{"API", "METHOD", "ENDPOINT"}
		right := []bool{false, false, false}
		for _, st := range summaryStatuses {
			header, right = append(header, string(st)), append(right, true)
		}
		header, right = append(header, "TOTAL"), append(right, true)
		rows = [][]string{header}
		for _, e := range s.Endpoints {
			row := []string{string(e.API), dash(e.HTTPMethod), dash(e.Endpoint)}
			for _, st := range summaryStatuses {
				row = append(row, strconv.Itoa(e.ByStatus[st]))
			}
			rows = append(rows, append(row, strconv.Itoa(e.Total)))
		}
		writeTable(&b, rows, right)
	}

	if len(s.DiscardedByType) > 0 {
		b.WriteString("\n")
		types := make([]string, 0, len(s.DiscardedByType))
		for t := range s.DiscardedByType {
			types = append(types, t)
		}
		sort.Strings(types)
		rows = [][]string{{"DISCARD REASON", "COUNT"}}
		for _, t := range types {
			rows = append(rows, []string{t, strconv.Itoa(s.DiscardedByType[t])})
		}
		writeTable(&b, rows, []bool{false, true})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeTable pads columns to their widest cell (right-aligned where right[i]), two spaces apart.
func writeTable(b *strings.Builder, rows [][]string, right []bool) {
	widths := make([]int, len(right))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len(cell))
			if right[i] {
				line.WriteString(pad + cell)
			} else {
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
