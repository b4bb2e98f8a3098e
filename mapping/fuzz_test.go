package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// fuzzMapper is shared by the fuzz targets: a host table and a custom rule so that every branch
// (host lookup, rules with params) is reachable.
func fuzzMapper(t testing.TB) *Mapper {
	m, err := NewMapper(Config{
		OrgID: ourOrg, SoftwareStatementID: ourSS,
		Hosts:         map[string]string{bankBHost: bankB, "as.bank:8443": asOrg, "[::1]": bankC},
		SecurityRules: map[string]string{"/oauth/{tenant}/token": "/token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// setFuzzValue stores s in m[key] with a pdata type chosen by typ, including the wrong ones.
func setFuzzValue(m pcommon.Map, key string, typ uint8, s string, n int64) {
	switch typ % 9 {
	case 0:
		m.PutStr(key, s)
	case 1:
		m.PutInt(key, n)
	case 2:
		m.PutDouble(key, float64(n)/7)
	case 3:
		m.PutBool(key, n%2 == 0)
	case 4:
		m.PutEmptyBytes(key).FromRaw([]byte(s))
	case 5:
		sl := m.PutEmptySlice(key)
		sl.AppendEmpty().SetStr("")
		sl.AppendEmpty().SetStr(s)
		sl.AppendEmpty().SetInt(n)
	case 6:
		mm := m.PutEmptyMap(key)
		mm.PutStr(s, s)
		mm.PutEmptySlice("l").AppendEmpty().SetEmptyMap().PutDouble(s, float64(n))
	case 7:
		m.PutEmpty(key)
	case 8:
		m.PutStr(key, strings.Repeat(s, 64)) // huge
	}
}

// fuzzHeaderNames are the interaction-id attribute spellings FuzzMap picks from: the built-in
// ones (dashes, underscores, any case, either side) and lookalikes that must not count.
var fuzzHeaderNames = [...]string{
	"http.request.header.x-fapi-interaction-id", "http.request.header.x_fapi_interaction_id",
	"http.request.header.X-Fapi-Interaction-Id", "HTTP.REQUEST.HEADER.X_FAPI_INTERACTION_ID",
	"http.response.header.x-fapi-interaction-id", "http.response.header.x_fapi_interaction_id",
	"http.response.header.X-FAPI-INTERACTION-ID", "http.request.header.x.fapi.interaction.id",
}

// fuzzInfoKeys are additionalInfo keys with every declared type (docs/pcm-rules.md §6).
var fuzzInfoKeys = [...]string{
	"consentId", "webhookEnable", "journeyIsLinked", "errorCodes", "statusSummary", "paymentList",
	"clientIp", "tokenId", "status",
}

func FuzzMap(f *testing.F) {
	type seed struct {
		kind                     uint8
		legacy                   bool
		method, url, route, path string
		statusTyp                uint8
		status                   int64
		header                   string
		headerTyp                uint8
		spelling                 uint8 // index into fuzzHeaderNames for a second header attribute
		attrKey                  string
		attrTyp                  uint8
		attrVal                  string
		infoKey                  uint8 // index into fuzzInfoKeys for a typed additionalInfo value
		errType                  string
		errMode                  uint8 // bit set: error.type, status message, exception.type, exception.message
		start                    uint64
		dur                      int64
	}
	now := uint64(time.Now().UnixNano())
	seeds := []seed{
		{2, false, "GET", "https://api.banco-b.example/opbk" + accPath + "?page=1", "", "", 1, 200, fapiID, 5, 1, "pcm.additional_info.consentId", 0, "urn:bancoa:1", 0, "", 0, now, 150e6},
		{1, false, "GET", "", conTmpl, conPath, 1, 200, fapiID, 0, 3, "pcm.client_org_id", 0, callerOrg, 1, "", 0, now, 1},
		{1, true, "get", "", "", odTmpl + "?x=1", 0, 200, "", 0, 0, "http.client_ip", 0, "198.51.100.1", 6, "", 0, now, 0},
		{2, false, "POST", "https://as.bank:8443/as/token.oauth2?grant_type=x", "", "", 7, 0, "", 0, 0, "", 0, "", 2, "java.net.SocketTimeoutException", 15, now, 15e9},
		{2, true, "PUT", "https://REDACTED:REDACTED@[::1]/register/abc", "", "", 0, 201, "a,b", 5, 5, "pcm.server_org_id", 5, bankC, 3, "404", 1, now, 5},
		{1, false, "OPTIONS", "", "GET /open-banking/{x...}", "/open-banking/payments/v4//consents", 1, 101, zeroUUID, 5, 7, "pcm.additional_info.", 6, "x", 4, "", 0, 0, -5},
		{1, false, "_OTHER", "", "{$}", "/oauth/t1/token", 2, 1 << 40, "\xff\xfe", 4, 2, "url.full", 8, "%", 5, "timeout", 2, ^uint64(0), 1 << 62},
		{3, false, "GET", "https://x/open-banking/accounts/v2/accounts", "", "", 1, 200, "", 0, 0, "", 0, "", 0, "", 0, now, 1},
		{2, false, "DELETE", "//host/open-banking/consents/v3/consents/c1", "", "", 3, 600, "\u2028\"\\", 0, 4, "pcm.correlation_id", 0, strings.Repeat("é", 300), 8, "", 0, now, 1},
		{2, false, "GET", "host-only-no-scheme/open-banking/resources/v3/resources", "", "", 1, 500, fapiID, 0, 6, "server.port", 1, "", 2, "", 0, now, 1},
		{1, true, "PATCH", "", "", "https://proxy.example/open-banking/consents/v3/consents?x", 0, 200, fapiID, 6, 1, "http.target", 0, "*", 3, "", 0, now, 1},
		{2, false, "GET", strings.Repeat("/open-banking", 5000), "", "", 1, 200, "", 0, 0, "", 0, "", 0, "", 0, now, 1},
		// Router catch-alls and parameters (route_test.go), on a deeper path.
		{1, false, "GET", "", "/open-banking/consents/v3/consents/{**slug}", conPath + "/extends", 0, 200, fapiID, 0, 1, "", 0, "", 0, "", 0, now, 1},
		{1, false, "POST", "", "open-banking/consents/v3/consents/<path:p>", conPath + "/extends", 0, 201, fapiID, 0, 1, "", 0, "", 0, "", 0, now, 1},
		{1, false, "GET", "", "~ ^/open-banking/.*$", conPath, 0, 200, fapiID, 0, 1, "", 0, "", 0, "", 0, now, 1},
		{1, false, "GET", "", "/open-banking/consents/v3/consents/{id:[^/]+}", conPath, 0, 200, fapiID, 0, 1, "", 0, "", 0, "", 0, now, 1},
		{1, false, "GET", "", "GET api.bank:443/open-banking/consents/v3/:id(*)", conPath, 0, 200, fapiID, 0, 1, "", 0, "", 0, "", 0, now, 1},
		// Timeouts and cancellations as instrumentations record them (status_test.go).
		{2, false, "GET", bankURL + accPath, "", "", 4, 0, fapiID, 0, 4, "", 0, "", 0, "AbortError", 15, now, 1},
		{2, false, "GET", bankURL + accPath, "", "", 4, 0, fapiID, 0, 4, "", 0, "", 0, "", 0, now, 1},
		{2, false, "GET", bankURL + accPath, "", "", 4, 0, fapiID, 0, 4, "", 0, "", 0, "java.io.InterruptedIOException", 1, now, 1},
		{2, false, "GET", bankURL + accPath, "", "", 4, 0, fapiID, 0, 4, "", 0, "", 0, "This operation was aborted", 10, now, 1},
		// additionalInfo of every declared type, with wrong types too.
		{2, false, "GET", bankURL + accPath, "", "", 0, 200, fapiID, 1, 2, "pcm.additional_info.webhookEnable", 3, "true", 1, "", 0, now, 1},
		{2, false, "GET", bankURL + accPath, "", "", 0, 422, fapiID, 1, 2, "pcm.additional_info.errorCodes", 5, "A, B", 3, "", 0, now, 1},
		{1, false, "GET", "", "", odTmpl, 0, 200, "", 0, 0, "pcm.additional_info.clientIp", 1, "x", 6, "", 0, now, 1},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.legacy, s.method, s.url, s.route, s.path, s.statusTyp, s.status, s.header, s.headerTyp, s.spelling,
			s.attrKey, s.attrTyp, s.attrVal, s.infoKey, s.errType, s.errMode, s.start, s.dur)
	}
	m := fuzzMapper(f)
	f.Fuzz(func(t *testing.T, kind uint8, legacy bool, method, url, route, path string, statusTyp uint8, status int64,
		header string, headerTyp, spelling uint8, attrKey string, attrTyp uint8, attrVal string, infoKey uint8,
		errType string, errMode uint8, start uint64, dur int64) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("pcm.client_ss_id", attrVal)
		setFuzzValue(rs.Resource().Attributes(), "pcm.additional_info.fromResource", attrTyp+1, attrVal, status)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetKind(ptrace.SpanKind(kind % 6))
		span.SetStartTimestamp(pcommon.Timestamp(start))
		span.SetEndTimestamp(pcommon.Timestamp(start + uint64(dur)))
		if kind&0x80 == 0 {
			span.SetTraceID(testTraceID)
		}
		a := span.Attributes()
		methodKey, urlKey, pathKey, statusKey := "http.request.method", "url.full", "url.path", "http.response.status_code"
		if legacy {
			methodKey, urlKey, pathKey, statusKey = "http.method", "http.url", "http.target", "http.status_code"
		}
		a.PutStr(methodKey, method)
		if url != "" {
			a.PutStr(urlKey, url)
		}
		if route != "" {
			a.PutStr("http.route", route)
		}
		if path != "" {
			a.PutStr(pathKey, path)
		}
		switch statusTyp % 5 {
		case 0:
			a.PutInt(statusKey, status)
		case 1:
			a.PutStr(statusKey, header)
		case 2:
			a.PutDouble(statusKey, float64(status))
		case 3:
			a.PutBool(statusKey, true)
		}
		a.PutStr("server.address", attrVal)
		setFuzzValue(a, "http.request.header.x-fapi-interaction-id", headerTyp, header, status)
		setFuzzValue(a, "http.response.header.x-fapi-interaction-id", headerTyp/9, attrVal, status)
		setFuzzValue(a, fuzzHeaderNames[int(spelling)%len(fuzzHeaderNames)], spelling/8, header, status)
		setFuzzValue(a, attrKey, attrTyp, attrVal, status)
		setFuzzValue(a, "pcm.additional_info."+attrKey, attrTyp/9, attrVal, status)
		setFuzzValue(a, "pcm.additional_info."+fuzzInfoKeys[int(infoKey)%len(fuzzInfoKeys)], infoKey/9, attrVal, status)
		if errMode&1 != 0 {
			a.PutStr("error.type", errType)
		}
		if errMode&2 != 0 {
			span.Status().SetCode(ptrace.StatusCodeError)
			span.Status().SetMessage(errType)
		}
		if errMode&12 != 0 {
			ev := span.Events().AppendEmpty()
			ev.SetName("exception")
			if errMode&4 != 0 {
				ev.Attributes().PutStr("exception.type", errType)
			}
			if errMode&8 != 0 {
				setFuzzValue(ev.Attributes(), "exception.message", attrTyp, errType, status)
			}
		}

		var r Report
		res := m.Map(rs.Resource(), span, &r)
		switch res.Outcome {
		case OutcomeSkipped:
			if res.SkipReason == "" {
				t.Fatal("skipped without a reason")
			}
			if res.Fixes != 0 || res.DroppedInfoKey != "" {
				t.Fatalf("fixes on a skipped span: %+v", res)
			}
			return
		case OutcomeReport, OutcomeUnlisted:
			if res.SkipReason != "" {
				t.Fatalf("reason %q on %v", res.SkipReason, res.Outcome)
			}
		default:
			t.Fatalf("outcome %v", res.Outcome)
		}
		if (res.DroppedInfoKey != "") != res.Fixes.Has(FixAdditionalInfoDropped) {
			t.Fatalf("dropped key %q with fixes %b", res.DroppedInfoKey, res.Fixes)
		}
		if r.ProcessTimespan < 1 {
			t.Fatalf("processTimespan %d", r.ProcessTimespan)
		}
		if r.StatusCode < 200 {
			t.Fatalf("statusCode %d", r.StatusCode)
		}
		ownStatus := attrKey != "http.response.status_code" && attrKey != "http.status_code"
		if ownStatus && statusTyp%5 == 0 && status >= 200 && status < 1<<31 && int64(r.StatusCode) != status {
			t.Fatalf("status %d reported as %d: only a span without a status can become 408", status, r.StatusCode)
		}
		if canonicalMethod(r.HTTPMethod) != r.HTTPMethod {
			t.Fatalf("method %q", r.HTTPMethod)
		}
		if res.Outcome == OutcomeReport && !DefaultCatalog().Contains(r.Endpoint, r.API) {
			t.Fatalf("reported endpoint %q not in the %v list", r.Endpoint, r.API)
		}
		checkFuzzInfo(t, &r)
		if r.API == APIPrivate && hasValidInteractionHeader(a) && !IsUUID(r.FapiInteractionID) {
			t.Fatalf("a valid interaction id was captured, got %q", r.FapiInteractionID)
		}
		out := AppendJSON(nil, &r)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		var obj map[string]any
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatal(err)
		}
		if r.Role == RoleServer || r.API == APIOpendata {
			for _, k := range []string{"clientSSId", "endpointUriPrefix", "correlationId"} {
				if _, ok := obj[k]; ok {
					t.Fatalf("%s in a %v %v report", k, r.API, r.Role)
				}
			}
		}
		ps := Validator{}.Validate(&r, time.Unix(0, int64(start&(1<<62))))
		for _, p := range ps {
			if p.Field == "correlationId" || p.Field == "additionalInfo.consentId" && p.Type == ProblemFieldTypeMismatch {
				t.Fatalf("an optional field sinks the report: %s", p)
			}
		}
		if res.Outcome == OutcomeUnlisted && len(ps) == 0 {
			t.Fatal("an unlisted report passed validation")
		}
		clone := r.Clone()
		if string(AppendJSON(nil, &clone)) != string(out) {
			t.Fatal("clone encodes differently")
		}
	})
}

// checkFuzzInfo: every additionalInfo value has the type PCM declares for its key, booleans are
// spelled TRUE/FALSE, errorCodes holds one code, and opendata carries clientIp only.
func checkFuzzInfo(t *testing.T, r *Report) {
	t.Helper()
	if r.API == APIOpendata && len(r.AdditionalInfo) > 0 {
		t.Fatalf("opendata additionalInfo %v", r.AdditionalInfo)
	}
	for _, f := range r.AdditionalInfo {
		want := pcommon.ValueTypeStr
		switch infoTypeOf(f.Key) {
		case infoObject:
			want = pcommon.ValueTypeMap
		case infoArray:
			want = pcommon.ValueTypeSlice
		}
		if f.Value == (pcommon.Value{}) || f.Value.Type() != want {
			t.Fatalf("additionalInfo.%s is not a %v", f.Key, want)
		}
		switch s := f.Value.Str(); infoTypeOf(f.Key) {
		case infoBoolean:
			if b := strings.TrimSpace(s); (strings.EqualFold(b, "true") || strings.EqualFold(b, "false")) && s != "TRUE" && s != "FALSE" {
				t.Fatalf("additionalInfo.%s = %q", f.Key, s)
			}
		case infoErrorCodes:
			if strings.Contains(s, ",") {
				t.Fatalf("errorCodes %q is more than one code", s)
			}
		}
	}
}

// hasValidInteractionHeader reports whether a built-in interaction-id header holds a valid id.
func hasValidInteractionHeader(attrs pcommon.Map) bool {
	for k, v := range attrs.All() {
		if interactionHeaderSide(k) != sideNone {
			if valid, _ := interactionValue(v); valid != "" {
				return true
			}
		}
	}
	return false
}

// bruteLookup is the specification of Catalog.Lookup: among the templates matching segment by
// segment, the one whose first parameter comes latest (literal beats param, left to right).
func bruteLookup(c *Catalog, path string) (string, bool) {
	p := cleanPath(path)
	if i := strings.Index(p, obSegment); i > 0 {
		p = p[i:]
	}
	if p == "" || p[0] != '/' {
		return "", false
	}
	segs := strings.Split(p[1:], "/")
	best, bestKey := "", ""
	for t := range c.classOf {
		tsegs := strings.Split(t[1:], "/")
		if len(tsegs) != len(segs) {
			continue
		}
		var key strings.Builder
		ok := true
		for i, ts := range tsegs {
			switch {
			case segs[i] == "":
				ok = false
			case isParamSegment(ts):
				key.WriteByte('1')
			case ts == segs[i]:
				key.WriteByte('0')
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok && (best == "" || key.String() < bestKey) {
			best, bestKey = t, key.String()
		}
	}
	return best, best != ""
}

func FuzzLookup(f *testing.F) {
	c := DefaultCatalog()
	for _, class := range []EndpointClass{ClassPrivate, ClassOpendata, ClassCreditPortability} {
		for i, tmpl := range c.Templates(class) {
			if i%7 == 0 {
				f.Add(tmpl)
				f.Add(concrete(tmpl) + "/?q=1")
			}
		}
	}
	for _, s := range []string{
		"", "/", "//", "?", "#", "/token", "/register/x", "/register//", "/x/open-banking/", "/open-banking",
		"/open-banking/consents/v3/consents/extends/extends", "/open-banking/consents/v3/consents//extends",
		"https://h/open-banking/accounts/v2/accounts", "/open-banking/accounts/v2/accounts/\xff/balances",
		strings.Repeat("/a", 10000), "/open-banking/" + strings.Repeat("x/", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got, class, ok := c.Lookup(path)
		want, wantOK := bruteLookup(c, path)
		if ok != wantOK || got != want {
			t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", path, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		if c.classOf[got] != class {
			t.Fatalf("class %v for %q, catalog says %v", class, got, c.classOf[got])
		}
		if again, _, _ := c.Lookup(got); again != got {
			t.Fatalf("template %q does not match itself", got)
		}
	})
}
