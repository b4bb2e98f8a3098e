//go:build e2e

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// TestDashboardPicture draws the README's picture of the Grafana dashboard from a real run:
// the built collector and pcmsim through two minutes of traffic with a token failure, an
// unlisted endpoint, a PCM outage with an ageing backlog, and recovery, scraped by a real
// Prometheus. It runs only when PCM_DASHBOARD_PNG names the file to write (make dashboard-png).
func TestDashboardPicture(t *testing.T) {
	out := os.Getenv("PCM_DASHBOARD_PNG")
	if out == "" {
		t.Skip("PCM_DASHBOARD_PNG is not set (make dashboard-png)")
	}
	e := newEnv(t, envConfig{Watch: true})
	prom := startPrometheus(t, e.metricsURL)
	ctx := context.Background()
	start := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	e.send.startBackground(time.Second, 20)
	// Counters are born at their first increment, which increase() cannot see: each event
	// happens more than once so that the panels show it.
	at(15 * time.Second)
	require.True(t, e.send.postUnlisted(ctx))
	at(20 * time.Second) // the token is refused by PCM, and PCM's token endpoint fails three times
	require.NoError(t, e.sim().SetFaults(pcmsim.Faults{API: pcmsim.Fault{Mode: "401", Count: 1}, Token: pcmsim.Fault{Mode: "500", Count: 3}}))
	at(30 * time.Second)
	require.True(t, e.send.postUnlisted(ctx))
	at(35 * time.Second) // a 40 s outage while calls from 2.5 h ago arrive: the backlog ages
	require.NoError(t, e.sim().SetFaults(pcmsim.Faults{API: pcmsim.Fault{Mode: "503", For: pcmsim.Duration(40 * time.Second)}}))
	require.True(t, e.send.postAged(ctx, 20, 150*time.Minute))
	at(45 * time.Second)
	require.True(t, e.send.postUnlisted(ctx))
	at(100 * time.Second)
	e.send.stopBackground()
	e.waitDelivered(60 * time.Second)
	at(110 * time.Second)
	drawDashboard(t, prom, start, time.Now(), out)
	t.Logf("wrote %s", out)
}

// dashboardPanel is what the picture needs of a panel of the shipped dashboard.
type dashboardPanel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

// rangeSeries is one series of a Prometheus range query.
type rangeSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

func (p *prometheus) queryRange(expr string, start, end time.Time, step time.Duration) ([]rangeSeries, error) {
	var data struct {
		Result []rangeSeries `json:"result"`
	}
	err := p.get("/api/v1/query_range", url.Values{
		"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"step": {strconv.Itoa(int(step.Seconds()))},
	}, &data)
	return data.Result, err
}

// drawDashboard renders the shipped dashboard's panels, in their grid layout, from what
// Prometheus recorded between start and end, to a PNG at path: the README's picture. It draws
// the same queries Grafana would run (dashboardQueries' variable values), as line charts, and
// stat panels as their last value.
func drawDashboard(t *testing.T, prom *prometheus, start, end time.Time, path string) {
	t.Helper()
	file, err := demo.FindRepoFile(dashboardFile)
	require.NoError(t, err)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var dash struct {
		Title  string           `json:"title"`
		Panels []dashboardPanel `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	const colW, rowH, header = 75, 34, 50 // points per grid column / row
	rows := 0
	for _, p := range dash.Panels {
		rows = max(rows, p.GridPos.Y+p.GridPos.H)
	}
	width, height := vg.Length(24*colW), vg.Length(rows*rowH+header)
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseBackgroundColor(color.RGBA{R: 24, G: 27, B: 31, A: 255}))
	dc := draw.New(img)
	heading := plot.New().Title.TextStyle
	heading.Color, heading.Font.Size, heading.XAlign = color.White, 18, draw.XLeft
	rowHeading := heading
	rowHeading.Color, rowHeading.Font.Size = color.RGBA{R: 204, G: 204, B: 220, A: 255}, 14
	dc.FillText(heading, vg.Point{X: 10, Y: height - 30}, dash.Title+" — "+start.UTC().Format("2006-01-02 15:04")+" to "+end.UTC().Format("15:04")+" UTC")
	vars := strings.NewReplacer(`$exporter`, `.+`, `$__rate_interval`, `1m`)
	step := max(end.Sub(start)/120, time.Second)
	for _, panel := range dash.Panels {
		left := vg.Length(panel.GridPos.X * colW)
		top := height - header - vg.Length(panel.GridPos.Y*rowH)
		cell := draw.Crop(dc, left+4, left+vg.Length(panel.GridPos.W*colW)-width-4, top-vg.Length(panel.GridPos.H*rowH)+4, top-height-4)
		if panel.Type == "row" {
			dc.FillText(rowHeading, vg.Point{X: left + 8, Y: top - 22}, panel.Title)
			continue
		}
		p := plot.New()
		p.Title.Text = panel.Title
		styleDark(p)
		next := 0
		for _, tg := range panel.Targets {
			series, err := prom.queryRange(vars.Replace(tg.Expr), start, end, step)
			require.NoError(t, err, panel.Title)
			sort.Slice(series, func(i, j int) bool {
				return legend(tg.LegendFormat, series[i].Metric) < legend(tg.LegendFormat, series[j].Metric)
			})
			for _, s := range series {
				pts := make(plotter.XYs, 0, len(s.Values))
				for _, v := range s.Values {
					ts, _ := v[0].(float64)
					y, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
					if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
						continue // Grafana leaves a gap too (0/0, a quantile without samples)
					}
					if panel.FieldConfig.Defaults.Unit == "percentunit" {
						y *= 100
					}
					pts = append(pts, plotter.XY{X: (ts - float64(start.Unix())) / 60, Y: y})
				}
				if len(pts) == 0 {
					continue
				}
				line, err := plotter.NewLine(pts)
				require.NoError(t, err)
				line.Color = palette[next%len(palette)]
				line.Width = vg.Points(2)
				next++
				p.Add(line)
				p.Legend.Add(legend(tg.LegendFormat, s.Metric), line)
			}
		}
		p.X.Label.Text = "minutes"
		if u := unitLabel(panel.FieldConfig.Defaults.Unit); u != "" {
			p.Y.Label.Text = u
		}
		p.Draw(cell)
	}
	out, err := os.Create(path)
	require.NoError(t, err)
	defer out.Close()
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(out)
	require.NoError(t, err)
}

var palette = []color.Color{
	color.RGBA{R: 115, G: 191, B: 105, A: 255}, color.RGBA{R: 242, G: 204, B: 12, A: 255},
	color.RGBA{R: 87, G: 148, B: 242, A: 255}, color.RGBA{R: 255, G: 120, B: 10, A: 255},
	color.RGBA{R: 242, G: 73, B: 92, A: 255}, color.RGBA{R: 184, G: 119, B: 217, A: 255},
	color.RGBA{R: 138, G: 184, B: 255, A: 255}, color.RGBA{R: 150, G: 217, B: 141, A: 255},
}

func styleDark(p *plot.Plot) {
	fg := color.RGBA{R: 204, G: 204, B: 220, A: 255}
	p.BackgroundColor = color.RGBA{R: 34, G: 37, B: 43, A: 255}
	p.Title.TextStyle.Color = fg
	p.Legend.TextStyle.Color = fg
	p.Legend.Top = true
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Color, ax.Label.TextStyle.Color, ax.Tick.Color, ax.Tick.Label.Color = fg, fg, fg, fg
	}
}

func unitLabel(unit string) string {
	switch unit {
	case "percentunit":
		return "%"
	case "s":
		return "seconds"
	case "reqps":
		return "per second"
	}
	return ""
}

// legend fills a Grafana legend format ("{{exporter}} {{outcome}}") from a series' labels.
func legend(format string, labels map[string]string) string {
	out := format
	for k, v := range labels {
		out = strings.ReplaceAll(out, "{{"+k+"}}", v)
	}
	return out
}
