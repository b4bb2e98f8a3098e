package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"encoding/json"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// spanRef locates the span a report came from, so that undelivered reports can be handed
// back to exporterhelper as the spans they were made of.
type spanRef struct {
	rs, ss, s int
	trace     pcommon.TraceID
	span      pcommon.SpanID
}

func (r spanRef) traceID() string { return r.trace.String() }
func (r spanRef) spanID() string  { return r.span.String() }
func (r spanRef) key() sla.Key    { return sla.Key{Trace: r.trace, Span: r.span} }

// pendingReports are the encoded, locally valid reports of one API, in span order.
type pendingReports struct {
	buf       []byte   // every encoded report, back to back
	items     [][]byte // one slice of buf per report
	roles     []mapping.Role
	endpoints []string
	methods   []string
	ids       []string    // fapiInteractionId, for the reconciliation watch
	times     []time.Time // transaction time of each report, for the SLA metrics
	refs      []spanRef
}

func (p *pendingReports) add(r *mapping.Report, ref spanRef) {
	start := len(p.buf)
	p.buf = mapping.AppendJSON(p.buf, r)
	// When buf grows, earlier items keep pointing at the old array, which still holds their bytes.
	p.items = append(p.items, p.buf[start:len(p.buf):len(p.buf)])
	p.roles = append(p.roles, metricRole(r))
	p.endpoints = append(p.endpoints, r.Endpoint)
	p.methods = append(p.methods, r.HTTPMethod)
	p.ids = append(p.ids, r.FapiInteractionID)
	p.times = append(p.times, r.Timestamp)
	p.refs = append(p.refs, ref)
}

// batches is what one push produced before anything was sent.
type batches struct {
	pending map[mapping.API]*pendingReports
	// waiting are reports whose counterpart only the Directory can name, while its
	// participants are not loaded yet: retried, not dead-lettered.
	waiting *pendingReports
	dead    []deadletter.Entry
	counts  outcomeCounts
}

// buildBatches maps every span, validates the reports and sorts them into what is sent,
// what is dead-lettered and what is only counted.
func (e *pcmExporter) buildBatches(td ptrace.Traces) batches {
	b := batches{pending: map[mapping.API]*pendingReports{}}
	now := e.now()
	var report mapping.Report
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
				ref := spanRef{rs: i, ss: j, s: k, trace: span.TraceID(), span: span.SpanID()}
				if result.Fixes != 0 {
					b.counts.fix(result.Fixes)
					if result.DroppedInfoKey != "" {
						e.sampled.Warn("An additionalInfo value PCM's schema cannot take was left out of the report; the report is sent without it",
							zap.String("key", result.DroppedInfoKey), zap.String("endpoint", report.Endpoint))
					}
				}
				switch result.Outcome {
				case mapping.OutcomeReport:
					if problems := e.validator.Validate(&report, now); len(problems) > 0 {
						if onlyCounterpartMissing(&report, problems) && e.resolver.waiting(&report) {
							if b.waiting == nil {
								b.waiting = &pendingReports{}
							}
							b.waiting.add(&report, ref)
							b.counts.add(mapping.APIPrivate, metricRole(&report), outcomeWaiting, 1)
							continue
						}
						b.keepInvalid(e, &report, ref, deadletter.StageInvalid, mapping.JoinProblems(problems))
						continue
					}
					p := b.pending[report.API]
					if p == nil {
						p = &pendingReports{}
						b.pending[report.API] = p
					}
					p.add(&report, ref)
				case mapping.OutcomeUnlisted:
					b.keepInvalid(e, &report, ref, deadletter.StageUnlisted, "Unlisted endpoint: "+report.Endpoint)
				default:
					b.counts.skip(result.SkipReason)
				}
			}
		}
	}
	return b
}

// onlyCounterpartMissing reports whether the report lacks nothing but the counterpart's
// OrganisationId: serverOrgId of a CLIENT report, clientOrgId of a SERVER report.
func onlyCounterpartMissing(r *mapping.Report, problems []mapping.Problem) bool {
	counterpart := "serverOrgId"
	if r.Role == mapping.RoleServer {
		counterpart = "clientOrgId"
	}
	for _, p := range problems {
		if p.Type != mapping.ProblemMissingProperty || p.Field != counterpart {
			return false
		}
	}
	return true
}

// keepInvalid counts and dead-letters a report PCM would certainly discard; it is not sent.
func (b *batches) keepInvalid(e *pcmExporter, r *mapping.Report, ref spanRef, stage deadletter.Stage, reason string) {
	api := apiOrPrivate(r.API)
	b.counts.add(api, metricRole(r), outcomeInvalid, 1)
	b.counts.reject(sourceLocal, reason)
	e.backlog.Done(ref.key())
	e.sampled.Warn("Span maps to a report PCM would discard; it is not sent and is kept in the dead letter",
		zap.String("stage", string(stage)), zap.String("reason", reason), zap.String("endpoint", r.Endpoint),
		zap.String("trace_id", ref.traceID()), zap.String("span_id", ref.spanID()))
	b.dead = append(b.dead, deadletter.Entry{
		Time: e.now().UTC(), Stage: stage, Reason: reason, API: api.String(),
		TraceID: ref.traceID(), SpanID: ref.spanID(),
		Report: json.RawMessage(mapping.AppendJSON(nil, r)),
	})
}

func apiOrPrivate(api mapping.API) mapping.API {
	if api == mapping.APIOpendata {
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

// subset copies the referenced spans, with their resource and scope, into new Traces.
func subset(td ptrace.Traces, refs []spanRef) ptrace.Traces {
	refs = append([]spanRef(nil), refs...)
	sort.Slice(refs, func(a, b int) bool {
		ra, rb := refs[a], refs[b]
		if ra.rs != rb.rs {
			return ra.rs < rb.rs
		}
		if ra.ss != rb.ss {
			return ra.ss < rb.ss
		}
		return ra.s < rb.s
	})
	out := ptrace.NewTraces()
	var dstRS ptrace.ResourceSpans
	var dstSS ptrace.ScopeSpans
	lastRS, lastSS := -1, -1
	for _, ref := range refs {
		srcRS := td.ResourceSpans().At(ref.rs)
		if ref.rs != lastRS {
			dstRS = out.ResourceSpans().AppendEmpty()
			srcRS.Resource().CopyTo(dstRS.Resource())
			dstRS.SetSchemaUrl(srcRS.SchemaUrl())
			lastRS, lastSS = ref.rs, -1
		}
		srcSS := srcRS.ScopeSpans().At(ref.ss)
		if ref.ss != lastSS {
			dstSS = dstRS.ScopeSpans().AppendEmpty()
			srcSS.Scope().CopyTo(dstSS.Scope())
			dstSS.SetSchemaUrl(srcSS.SchemaUrl())
			lastSS = ref.ss
		}
		srcSS.Spans().At(ref.s).CopyTo(dstSS.Spans().AppendEmpty())
	}
	return out
}

const (
	outcomeAccepted = iota
	outcomeDiscarded
	outcomeInvalid
	outcomeFailed
	outcomeUnconfirmed // PCM's answer confirmed nothing; retried
	outcomeWaiting     // counterpart unknown until the Directory loads; retried
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"accepted", "discarded", "invalid", "failed", "unconfirmed", "waiting_for_directory"}

// outcomeCounts aggregates one push's counts so that each metric is updated once per
// attribute set, not once per report.
type outcomeCounts struct {
	reports  [3][3][numOutcomes]int64 // [API][Role][outcome]
	skipped  map[mapping.SkipReason]int64
	rejected map[rejection]int64
	accepted map[slaClass]int64
	fixes    map[mapping.Fix]int64
}

type rejection struct{ source, reason string }

type slaClass struct{ day, deadline, strict string }

const (
	sourceLocal = "local"
	sourcePCM   = "pcm"
)

func (c *outcomeCounts) reject(source, message string) {
	if c.rejected == nil {
		c.rejected = map[rejection]int64{}
	}
	c.rejected[rejection{source, errorType(message)}]++
}

func (c *outcomeCounts) accept(transaction, accepted time.Time) {
	if c.accepted == nil {
		c.accepted = map[slaClass]int64{}
	}
	c.accepted[slaClass{sla.TransactionDay(transaction), sla.Classify(transaction, accepted), sla.ClassifyStrict(transaction, accepted)}]++
}

func (c *outcomeCounts) add(api mapping.API, role mapping.Role, outcome int, n int64) {
	c.reports[api][role][outcome] += n
}

func (c *outcomeCounts) fix(fixes mapping.Fixes) {
	if c.fixes == nil {
		c.fixes = map[mapping.Fix]int64{}
	}
	for f := range fixes.All() {
		c.fixes[f]++
	}
}

func (c *outcomeCounts) skip(reason mapping.SkipReason) {
	if c.skipped == nil {
		c.skipped = map[mapping.SkipReason]int64{}
	}
	c.skipped[reason]++
}
