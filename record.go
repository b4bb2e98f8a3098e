package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// record is one report on its way to PCM, made at the door from its span: the report and
// what its accounting needs. Nothing else of the span is kept.
type record struct {
	report mapping.Report // AdditionalInfo is owned (see newRecord)
	trace  pcommon.TraceID
	span   pcommon.SpanID
	// lookup is what to ask the Directory for the missing counterpart once its participants
	// have loaded (mapping.Result.CounterpartQuery); set only on reports waiting for it.
	lookup string
}

// newRecord keeps r beyond the span: Map reuses the AdditionalInfo array of r and its values
// point into the span.
func newRecord(r *mapping.Report, span pcommon.TraceID, id pcommon.SpanID) record {
	rec := record{report: *r, trace: span, span: id}
	if len(r.AdditionalInfo) == 0 {
		rec.report.AdditionalInfo = nil
	} else {
		rec.report = r.Clone()
	}
	return rec
}

// fitted returns slab, or a copy without the room the door set aside for spans that turned out
// not to be reports when that room is more than a quarter of it: the queue keeps no such room.
func fitted(slab []record) []record {
	if unused := cap(slab) - len(slab); unused > len(slab)/4 {
		return append([]record(nil), slab...)
	}
	return slab
}

// pointTo returns a pointer to every record of slab, which the pointers keep alive.
func pointTo(slab []record) []*record {
	if len(slab) == 0 {
		return nil
	}
	ptrs := make([]*record, len(slab))
	for i := range slab {
		ptrs[i] = &slab[i]
	}
	return ptrs
}

func (r *record) key() sla.Key     { return sla.Key{Trace: r.trace, Span: r.span} }
func (r *record) waiting() bool    { return r.lookup != "" }
func (r *record) api() mapping.API { return apiOrPrivate(r.report.API) }
func (r *record) role() mapping.Role {
	return metricRole(&r.report)
}

func apiOrPrivate(api mapping.API) mapping.API {
	if api == mapping.APIOpendata || api == mapping.APICreditPortability {
		return api
	}
	return mapping.APIPrivate
}

// metricRole is the role attribute of the report metrics: opendata reports are made by the
// server side.
func metricRole(r *mapping.Report) mapping.Role {
	if r.Role == mapping.RoleClient {
		return mapping.RoleClient
	}
	return mapping.RoleServer
}
