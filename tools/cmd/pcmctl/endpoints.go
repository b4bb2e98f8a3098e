package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/pcm-otel/pcmexporter/mapping"
)

const endpointsUsage = `usage: pcmctl [-config FILE] [-exporter NAME] endpoints [-diff FILE] [-json]

Shows the endpoint catalog the exporter matches spans against: the list embedded in the
binary, the configured endpoints_file (which extends it, or replaces it with
"replace_default": true) and the effective result, with their list versions and the number
of templates per class. Without -config, only the embedded list.

Flags:
  -diff FILE   compare the effective catalog with FILE (same JSON shape as endpoints.json,
               e.g. a newer PCM list): "+ CLASS TEMPLATE" is only in FILE, "- CLASS TEMPLATE"
               only in the effective catalog
  -json        print one JSON document instead of text

Exit status: 0 (with -diff: no difference), 1 differences found or a file is unreadable,
2 usage error.
`

type endpointsOptions struct {
	diff string
	json bool
}

var endpointsCommand = command{
	usage: endpointsUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &endpointsOptions{}
		fs.StringVar(&o.diff, "diff", "", "catalog file to compare with")
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runEndpoints,
}

// diffClasses are the classes shown; "private" excludes the security templates, which PCM's
// list also counts as private.
var diffClasses = []string{"private", "security", "opendata", "credit_portability"}

// catalogInfo describes one catalog.
type catalogInfo struct {
	Source         string         `json:"source"`
	Version        string         `json:"version"`
	ReplaceDefault *bool          `json:"replaceDefault,omitempty"` // endpoints_file only
	Counts         map[string]int `json:"counts"`
}

type catalogDiff struct {
	File            string              `json:"file"`
	Version         string              `json:"version"`
	OnlyInFile      map[string][]string `json:"onlyInFile"`
	OnlyInEffective map[string][]string `json:"onlyInEffective"`
}

func runEndpoints(ctx context.Context, c *cli, o any, args []string) int {
	opts := o.(*endpointsOptions)
	if len(args) != 0 {
		return c.usageError("unexpected arguments %q", args)
	}
	embedded := mapping.DefaultCatalog()
	infos := []catalogInfo{describeCatalog("embedded", embedded)}
	effective := embedded
	if c.configPath != "" {
		ec, _, validator, code := c.loadMapping(ctx)
		if code != 0 {
			return code
		}
		effective = validator.Catalog
		if file := ec.cfg.EndpointsFile; file != "" {
			data, err := os.ReadFile(file)
			if err != nil {
				c.errorf("endpoints_file: %v", err)
				return exitProblem
			}
			info := catalogInfo{Source: "endpoints_file " + file}
			var head struct {
				Version        string `json:"version"`
				ReplaceDefault bool   `json:"replace_default"`
			}
			_ = json.Unmarshal(data, &head) // Mapping already parsed it
			info.Version, info.ReplaceDefault = head.Version, &head.ReplaceDefault
			if own, err := mapping.ParseCatalog(data, nil); err == nil {
				info.Counts = counts(own)
			}
			infos = append(infos, info, describeCatalog("effective ("+ec.name+")", effective))
		}
	}

	var diff *catalogDiff
	if opts.diff != "" {
		data, err := os.ReadFile(opts.diff)
		if err != nil {
			c.errorf("-diff: %v", err)
			return exitProblem
		}
		other, err := mapping.ParseCatalog(data, nil)
		if err != nil {
			c.errorf("-diff %s: %v", opts.diff, err)
			return exitProblem
		}
		diff = &catalogDiff{File: opts.diff, Version: other.Version(),
			OnlyInFile: map[string][]string{}, OnlyInEffective: map[string][]string{}}
		for _, class := range diffClasses {
			mine, theirs := templates(effective, class), templates(other, class)
			if plus := minus(theirs, mine); len(plus) > 0 {
				diff.OnlyInFile[class] = plus
			}
			if gone := minus(mine, theirs); len(gone) > 0 {
				diff.OnlyInEffective[class] = gone
			}
		}
	}

	if opts.json {
		writeJSON(c.stdout, struct {
			Catalogs []catalogInfo `json:"catalogs"`
			Diff     *catalogDiff  `json:"diff,omitempty"`
		}{infos, diff})
	} else {
		for _, info := range infos {
			fmt.Fprintf(c.stdout, "%s: version %s", info.Source, orNone(info.Version))
			if info.ReplaceDefault != nil {
				if *info.ReplaceDefault {
					fmt.Fprint(c.stdout, " (replaces the embedded list)")
				} else {
					fmt.Fprint(c.stdout, " (extends the embedded list)")
				}
			}
			fmt.Fprintln(c.stdout)
			if info.Counts != nil {
				fmt.Fprintf(c.stdout, "  %s\n", countsText(info.Counts))
			}
		}
		if diff != nil {
			fmt.Fprintf(c.stdout, "diff: %s (version %s) against the effective catalog\n", diff.File, orNone(diff.Version))
			plus, gone := 0, 0
			for _, class := range diffClasses {
				for _, t := range diff.OnlyInFile[class] {
					fmt.Fprintf(c.stdout, "+ %s %s\n", class, t)
					plus++
				}
				for _, t := range diff.OnlyInEffective[class] {
					fmt.Fprintf(c.stdout, "- %s %s\n", class, t)
					gone++
				}
			}
			fmt.Fprintf(c.stdout, "%d only in %s (+), %d only in the effective catalog (-)\n", plus, diff.File, gone)
		}
	}
	if diff != nil && len(diff.OnlyInFile)+len(diff.OnlyInEffective) > 0 {
		return exitProblem
	}
	return exitOK
}

func describeCatalog(source string, c *mapping.Catalog) catalogInfo {
	return catalogInfo{Source: source, Version: c.Version(), Counts: counts(c)}
}

// counts per class; "private" counts the security templates too, as PCM's list does.
func counts(c *mapping.Catalog) map[string]int {
	return map[string]int{
		"private":            len(c.Templates(mapping.ClassPrivate)),
		"security":           len(c.Templates(mapping.ClassSecurity)),
		"opendata":           len(c.Templates(mapping.ClassOpendata)),
		"credit_portability": len(c.Templates(mapping.ClassCreditPortability)),
	}
}

func countsText(n map[string]int) string {
	return fmt.Sprintf("private %d (incl. security %d), opendata %d, credit_portability %d",
		n["private"], n["security"], n["opendata"], n["credit_portability"])
}

// templates of one diff class; "private" without the security templates.
func templates(c *mapping.Catalog, class string) []string {
	switch class {
	case "private":
		return minus(c.Templates(mapping.ClassPrivate), c.Templates(mapping.ClassSecurity))
	case "security":
		return c.Templates(mapping.ClassSecurity)
	case "opendata":
		return c.Templates(mapping.ClassOpendata)
	case "credit_portability":
		return c.Templates(mapping.ClassCreditPortability)
	}
	return nil
}

// minus returns the sorted templates of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, t := range a {
		if !slices.Contains(b, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
