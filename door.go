package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// doorTraces makes the reports before exporterhelper sees the spans, and does not call it at
// all when there is none: a persistent queue would otherwise store an empty entry for every
// batch of spans that holds no report.
type doorTraces struct {
	exporter.Traces
	exp *pcmExporter
}

func (d doorTraces) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	req, err := d.exp.convert(ctx, td)
	if err != nil || req.ItemsCount() == 0 {
		return err
	}
	return d.Traces.ConsumeTraces(context.WithValue(ctx, madeAtTheDoor{}, &handoff{req}), td)
}

// madeAtTheDoor is the context key of the reports doorTraces made, for converted to take.
type madeAtTheDoor struct{}

type handoff struct{ req xexporterhelper.Request }

// converted is exporterhelper's converter: it takes the reports doorTraces made (once: the
// context may outlive the call in the queue) and makes them itself otherwise.
func (e *pcmExporter) converted(ctx context.Context, td ptrace.Traces) (xexporterhelper.Request, error) {
	if h, ok := ctx.Value(madeAtTheDoor{}).(*handoff); ok && h.req != nil {
		req := h.req
		h.req = nil
		return req, nil
	}
	return e.convert(ctx, td)
}

// convert is the door: it maps every span right away and hands exporterhelper only the
// reports. Spans that are not reports are counted and dropped here; reports PCM would
// certainly discard are dead-lettered here. The checks that depend on the time of sending
// (PCM's 7-day limit, clocks ahead) run when the report is sent (see send).
func (e *pcmExporter) convert(_ context.Context, td ptrace.Traces) (xexporterhelper.Request, error) {
	b := &reportBatch{}
	f := e.newFates()
	var report mapping.Report
	var slab []record
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		resource := rs.Resource()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				report = mapping.Report{AdditionalInfo: report.AdditionalInfo[:0]}
				result := e.mapper.Map(resource, span, &report)
				switch result.Outcome {
				case mapping.OutcomeReport:
					f.fixed(&result, report.Endpoint)
					rec := newRecord(&report, span.TraceID(), span.SpanID())
					if problems := e.validator.Validate(&report, time.Time{}); len(problems) > 0 {
						if !e.waitsForDirectory(&report, &result, problems) {
							f.deadLettered(&rec, deadletter.StageInvalid, mapping.JoinProblems(problems))
							continue
						}
						rec.lookup = result.CounterpartQuery
					}
					if slab == nil { // at the first report: a batch without any allocates nothing
						slab = make([]record, 0, spans.Len()-k)
					}
					slab = append(slab, rec)
				case mapping.OutcomeUnlisted:
					f.fixed(&result, report.Endpoint)
					rec := newRecord(&report, span.TraceID(), span.SpanID())
					f.deadLettered(&rec, deadletter.StageUnlisted, "Unlisted endpoint: "+report.Endpoint)
				default:
					f.skipped(result.SkipReason)
				}
			}
		}
	}
	f.flush()
	b.records = pointTo(fitted(slab))
	return b, nil
}

// waitsForDirectory reports whether the report lacks nothing but a counterpart that the
// Directory may still name (participants not loaded yet, or mTLS alias documents still
// arriving): it is queued and asked again when sent.
func (e *pcmExporter) waitsForDirectory(r *mapping.Report, result *mapping.Result, problems []mapping.Problem) bool {
	return result.CounterpartQuery != "" && onlyCounterpartMissing(r, problems) && e.resolver.waiting(r)
}

// onlyCounterpartMissing reports whether the report lacks nothing but the counterpart's
// OrganisationId: serverOrgId of a CLIENT report, clientOrgId of a SERVER report.
func onlyCounterpartMissing(r *mapping.Report, problems []mapping.Problem) bool {
	counterpart := counterpartField(r)
	for _, p := range problems {
		if p.Type != mapping.ProblemMissingProperty || p.Field != counterpart {
			return false
		}
	}
	return true
}

func counterpartField(r *mapping.Report) string {
	if r.Role == mapping.RoleServer {
		return "clientOrgId"
	}
	return "serverOrgId"
}

// resolveWaiting asks the Directory again for the counterpart of a waiting report. ok is
// false while the Directory may still learn it.
func (e *pcmExporter) resolveWaiting(rec *record) (ok bool) {
	if e.resolver.waiting(&rec.report) {
		return false
	}
	if rec.report.Role == mapping.RoleServer {
		rec.report.ClientOrgID = e.resolver.ClientOrg(rec.lookup)
	} else {
		rec.report.ServerOrgID = e.resolver.ServerOrg(rec.lookup)
	}
	rec.lookup = ""
	return true
}
