package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// The persistent sending queue (sending_queue.storage) holds batches of reports in a compact
// binary form of their own, a few dozen bytes per report instead of a whole OTLP span:
//
//	"PQ" version(1)
//	uvarint strings, then each: uvarint length, bytes   (every text field, once per batch)
//	uvarint records, varint first timestamp (unix ns)
//	per record: flags, trace id (16), span id (8), fields (see appendRecord)
//
// Text fields are indexes into the batch's strings (0: empty); an interaction id that is a
// lower-case UUID is 16 bytes; a correlationId equal to the trace id (the default) is a flag.
// A batch written by another version, or that cannot be read, is dead-lettered whole when the
// queue hands it out (stage undecodable), never dropped without a trace.
//
// Version 2 adds credit-portability reports (flagCreditPortability, then their eight fields
// after the record's other fields); it reads version 1 batches, which cannot hold any.
const (
	queueMagic0, queueMagic1 = 'P', 'Q'
	queueVersion             = 2
	queueVersionPrivateOnly  = 1
)

const (
	flagAPIOpendata      = 1 << 0
	flagRoleClient       = 1 << 1
	flagRoleServer       = 1 << 2
	flagInteractionUUID  = 1 << 3
	flagCorrelationTrace = 1 << 4
	flagWaiting          = 1 << 5
	// flagCreditPortability (version 2): mapping.APICreditPortability, with its fields.
	flagCreditPortability = 1 << 6
)

// Value types of additionalInfo in the encoding.
const (
	valEmpty = iota
	valStr
	valBool
	valInt
	valDouble
	valBytes
	valSlice
	valMap
)

// minRecordBytes is the least a record takes (flags, ids, one byte per other field): it bounds
// what a damaged count may make the decoder allocate.
const minRecordBytes = 1 + 16 + 8 + 13

// maxValueDepth bounds nested additionalInfo values (mapping encodes deeper ones as null).
const maxValueDepth = 32

type queueEncoding struct{}

var _ exporterhelper.QueueBatchEncoding[xexporterhelper.Request] = queueEncoding{}

// undecodable is a persistent-queue entry the encoding could not read.
type undecodable struct {
	data []byte
	err  error
}

var errUnknownRequest = errors.New("pcm: the sending queue was given a request that is not a batch of reports")

func (queueEncoding) Marshal(_ context.Context, req xexporterhelper.Request) ([]byte, error) {
	b, ok := req.(*reportBatch)
	if !ok || len(b.undecodable) > 0 {
		// Only the converter's batches reach the queue; undecodable entries come out of it.
		return nil, errUnknownRequest
	}
	return marshalBatch(b), nil
}

// Unmarshal never fails: what it cannot read comes back as an undecodable entry, so that the
// exporter dead-letters it instead of the queue dropping it with a debug log.
func (queueEncoding) Unmarshal(data []byte) (context.Context, xexporterhelper.Request, error) {
	b, err := unmarshalBatch(data)
	if err != nil {
		return context.Background(), &reportBatch{undecodable: []undecodable{{data: append([]byte(nil), data...), err: err}}}, nil
	}
	return context.Background(), b, nil
}

// stringTable gives each distinct text of a batch its index (1-based; 0 is "").
type stringTable struct {
	index map[string]uint64
	list  []string
}

func (t *stringTable) ref(s string) uint64 {
	if s == "" {
		return 0
	}
	if i, ok := t.index[s]; ok {
		return i
	}
	t.list = append(t.list, s)
	i := uint64(len(t.list))
	t.index[s] = i
	return i
}

func marshalBatch(b *reportBatch) []byte {
	t := stringTable{index: map[string]uint64{}}
	var body []byte
	var base int64
	if len(b.records) > 0 {
		base = b.records[0].report.Timestamp.UnixNano()
	}
	for _, rec := range b.records {
		body = appendRecord(body, rec, &t, base)
	}
	out := make([]byte, 0, len(body)+16*len(t.list)+16)
	out = append(out, queueMagic0, queueMagic1, queueVersion)
	out = binary.AppendUvarint(out, uint64(len(t.list)))
	for _, s := range t.list {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	out = binary.AppendUvarint(out, uint64(len(b.records)))
	out = binary.AppendVarint(out, base)
	return append(out, body...)
}

func appendRecord(dst []byte, rec *record, t *stringTable, base int64) []byte {
	r := &rec.report
	var flags byte
	switch r.API {
	case mapping.APIOpendata:
		flags |= flagAPIOpendata
	case mapping.APICreditPortability:
		flags |= flagCreditPortability
	}
	switch r.Role {
	case mapping.RoleClient:
		flags |= flagRoleClient
	case mapping.RoleServer:
		flags |= flagRoleServer
	}
	uuid, isUUID := parseLowerUUID(r.FapiInteractionID)
	if isUUID {
		flags |= flagInteractionUUID
	}
	traceCorrelation := r.CorrelationID != "" && r.CorrelationID == rec.trace.String()
	if traceCorrelation {
		flags |= flagCorrelationTrace
	}
	if rec.waiting() {
		flags |= flagWaiting
	}
	dst = append(dst, flags)
	dst = append(dst, rec.trace[:]...)
	dst = append(dst, rec.span[:]...)
	if isUUID {
		dst = append(dst, uuid[:]...)
	} else {
		dst = binary.AppendUvarint(dst, t.ref(r.FapiInteractionID))
	}
	dst = binary.AppendUvarint(dst, t.ref(r.Endpoint))
	dst = binary.AppendVarint(dst, int64(r.StatusCode))
	dst = binary.AppendUvarint(dst, t.ref(r.HTTPMethod))
	dst = binary.AppendUvarint(dst, t.ref(r.ClientOrgID))
	dst = binary.AppendUvarint(dst, t.ref(r.ServerOrgID))
	dst = binary.AppendUvarint(dst, t.ref(r.ClientSSID))
	dst = binary.AppendUvarint(dst, t.ref(r.EndpointURIPrefix))
	if !traceCorrelation {
		dst = binary.AppendUvarint(dst, t.ref(r.CorrelationID))
	}
	dst = binary.AppendVarint(dst, r.Timestamp.UnixNano()-base)
	dst = binary.AppendVarint(dst, r.ProcessTimespan)
	dst = binary.AppendUvarint(dst, t.ref(r.ClientIP))
	dst = binary.AppendUvarint(dst, uint64(len(r.AdditionalInfo)))
	for _, f := range r.AdditionalInfo {
		dst = binary.AppendUvarint(dst, t.ref(f.Key))
		dst = appendValue(dst, f.Value, t, 0)
	}
	if rec.waiting() {
		dst = binary.AppendUvarint(dst, t.ref(rec.lookup))
	}
	if r.API == mapping.APICreditPortability {
		var cp mapping.CreditPortability
		if r.CreditPortability != nil {
			cp = *r.CreditPortability
		}
		for _, s := range [...]string{cp.PortabilityID, cp.ConsentID, cp.CreationDateTime, cp.CreditPortabilityStatus,
			cp.StatusUpdateDateTime, cp.RejectionReason, cp.RejectedBy, cp.ErrorCode} {
			dst = binary.AppendUvarint(dst, t.ref(s))
		}
	}
	return dst
}

func appendValue(dst []byte, v pcommon.Value, t *stringTable, depth int) []byte {
	if v == (pcommon.Value{}) || depth > maxValueDepth {
		return append(dst, valEmpty)
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return binary.AppendUvarint(append(dst, valStr), t.ref(v.Str()))
	case pcommon.ValueTypeBool:
		b := byte(0)
		if v.Bool() {
			b = 1
		}
		return append(dst, valBool, b)
	case pcommon.ValueTypeInt:
		return binary.AppendVarint(append(dst, valInt), v.Int())
	case pcommon.ValueTypeDouble:
		return binary.LittleEndian.AppendUint64(append(dst, valDouble), math.Float64bits(v.Double()))
	case pcommon.ValueTypeBytes:
		raw := v.Bytes().AsRaw()
		return append(binary.AppendUvarint(append(dst, valBytes), uint64(len(raw))), raw...)
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		dst = binary.AppendUvarint(append(dst, valSlice), uint64(s.Len()))
		for i := 0; i < s.Len(); i++ {
			dst = appendValue(dst, s.At(i), t, depth+1)
		}
		return dst
	case pcommon.ValueTypeMap:
		m := v.Map()
		dst = binary.AppendUvarint(append(dst, valMap), uint64(m.Len()))
		for k, e := range m.All() {
			dst = binary.AppendUvarint(dst, t.ref(k))
			dst = appendValue(dst, e, t, depth+1)
		}
		return dst
	}
	return append(dst, valEmpty)
}

// recordSizeEstimate is about what appendRecord writes for rec, strings counted in full.
func recordSizeEstimate(rec *record) int {
	r := &rec.report
	return 48 + len(r.Endpoint)/8 + len(r.EndpointURIPrefix)/8 + len(r.ClientIP) + len(rec.lookup) + 16*len(r.AdditionalInfo)
}

// decoder reads the encoding; the first error sticks and every later read returns zeros.
type decoder struct {
	data    []byte
	strings []string
	err     error
	version byte
}

var errTruncated = errors.New("truncated entry")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.data = nil
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.data) {
		d.fail(errTruncated)
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.data = d.data[n:]
	return v
}

// count reads a length that must fit in what is left, each element taking at least one byte.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.data)) {
		d.fail(errTruncated)
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	i := d.uvarint()
	switch {
	case d.err != nil || i == 0:
		return ""
	case i > uint64(len(d.strings)):
		d.fail(fmt.Errorf("string %d of %d", i, len(d.strings)))
		return ""
	}
	return d.strings[i-1]
}

func unmarshalBatch(data []byte) (*reportBatch, error) {
	if len(data) < 3 || data[0] != queueMagic0 || data[1] != queueMagic1 {
		return nil, errors.New("not a batch of reports (written by another version of the exporter?)")
	}
	if data[2] != queueVersion && data[2] != queueVersionPrivateOnly {
		return nil, fmt.Errorf("encoding version %d, this exporter reads versions %d and %d", data[2], queueVersionPrivateOnly, queueVersion)
	}
	d := &decoder{data: data[3:], version: data[2]}
	d.strings = make([]string, d.count())
	for i := range d.strings {
		d.strings[i] = string(d.bytes(d.count()))
	}
	n := d.count()
	if n > len(d.data)/minRecordBytes {
		return nil, fmt.Errorf("%d reports cannot fit in %d bytes", n, len(d.data))
	}
	base := d.varint()
	slab := make([]record, n)
	for i := range slab {
		d.record(&slab[i], base)
	}
	b := &reportBatch{records: pointTo(slab)}
	switch {
	case d.err != nil:
		return nil, d.err
	case len(d.data) > 0:
		return nil, fmt.Errorf("%d bytes after the last report", len(d.data))
	}
	return b, nil
}

func (d *decoder) record(rec *record, base int64) {
	flags := d.bytes(1)
	if d.err != nil {
		return
	}
	f := flags[0]
	r := &rec.report
	copy(rec.trace[:], d.bytes(16))
	copy(rec.span[:], d.bytes(8))
	r.API = mapping.APIPrivate
	portability := f&flagCreditPortability != 0
	switch {
	case portability && (d.version < queueVersion || f&flagAPIOpendata != 0):
		d.fail(errors.New("a credit-portability flag this version or API cannot have"))
		return
	case portability:
		r.API = mapping.APICreditPortability
	case f&flagAPIOpendata != 0:
		r.API = mapping.APIOpendata
	}
	switch {
	case f&flagRoleClient != 0:
		r.Role = mapping.RoleClient
	case f&flagRoleServer != 0:
		r.Role = mapping.RoleServer
	}
	if f&flagInteractionUUID != 0 {
		r.FapiInteractionID = formatUUID(d.bytes(16))
	} else {
		r.FapiInteractionID = d.str()
	}
	r.Endpoint = d.str()
	r.StatusCode = int(d.varint())
	r.HTTPMethod = d.str()
	r.ClientOrgID = d.str()
	r.ServerOrgID = d.str()
	r.ClientSSID = d.str()
	r.EndpointURIPrefix = d.str()
	if f&flagCorrelationTrace != 0 {
		r.CorrelationID = rec.trace.String()
	} else {
		r.CorrelationID = d.str()
	}
	r.Timestamp = time.Unix(0, base+d.varint()).UTC()
	r.ProcessTimespan = d.varint()
	r.ClientIP = d.str()
	if n := d.count(); n > 0 {
		r.AdditionalInfo = make([]mapping.AdditionalField, n)
		for i := range r.AdditionalInfo {
			r.AdditionalInfo[i].Key = d.str()
			v := pcommon.NewValueEmpty()
			d.value(v, 0)
			r.AdditionalInfo[i].Value = v
		}
	}
	if f&flagWaiting != 0 {
		rec.lookup = d.str()
		if rec.lookup == "" {
			d.fail(errors.New("a report waiting for the Directory without a counterpart to look up"))
		}
	}
	if portability {
		cp := mapping.CreditPortability{
			PortabilityID: d.str(), ConsentID: d.str(), CreationDateTime: d.str(), CreditPortabilityStatus: d.str(),
			StatusUpdateDateTime: d.str(), RejectionReason: d.str(), RejectedBy: d.str(), ErrorCode: d.str(),
		}
		if cp != (mapping.CreditPortability{}) {
			r.CreditPortability = &cp
		}
	}
}

func (d *decoder) value(dst pcommon.Value, depth int) {
	if depth > maxValueDepth {
		d.fail(errors.New("additionalInfo nested too deep"))
		return
	}
	t := d.bytes(1)
	if d.err != nil {
		return
	}
	switch t[0] {
	case valEmpty:
	case valStr:
		dst.SetStr(d.str())
	case valBool:
		b := d.bytes(1)
		if d.err == nil {
			dst.SetBool(b[0] != 0)
		}
	case valInt:
		dst.SetInt(d.varint())
	case valDouble:
		b := d.bytes(8)
		if d.err == nil {
			dst.SetDouble(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
	case valBytes:
		dst.SetEmptyBytes().FromRaw(d.bytes(d.count()))
	case valSlice:
		s := dst.SetEmptySlice()
		n := d.count()
		s.EnsureCapacity(n)
		for range n {
			d.value(s.AppendEmpty(), depth+1)
		}
	case valMap:
		m := dst.SetEmptyMap()
		n := d.count()
		m.EnsureCapacity(n)
		for range n {
			k := d.str()
			d.value(m.PutEmpty(k), depth+1)
		}
	default:
		d.fail(fmt.Errorf("unknown value type %d", t[0]))
	}
}

// parseLowerUUID reads a UUID in its canonical lower-case form only, so that formatUUID gives
// the very same text back.
func parseLowerUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, j == 16
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	const hexDigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
