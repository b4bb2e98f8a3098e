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

func FuzzMap(f *testing.F) {
	type seed struct {
		kind                     uint8
		legacy                   bool
		method, url, route, path string
		statusTyp                uint8
		status                   int64
		header                   string
		headerTyp                uint8
		attrKey                  string
		attrTyp                  uint8
		attrVal                  string
		errType                  string
		start                    uint64
		dur                      int64
	}
	now := uint64(time.Now().UnixNano())
	seeds := []seed{
		{2, false, "GET", "https://api.banco-b.example/opbk" + accPath + "?page=1", "", "", 1, 200, fapiID, 5, "pcm.additional_info.consentId", 0, "urn:bancoa:1", "", now, 150e6},
		{1, false, "GET", "", conTmpl, conPath, 1, 200, fapiID, 0, "pcm.client_org_id", 0, callerOrg, "", now, 1},
		{1, true, "get", "", "", odTmpl + "?x=1", 0, 200, "", 0, "http.client_ip", 0, "198.51.100.1", "", now, 0},
		{2, false, "POST", "https://as.bank:8443/as/token.oauth2?grant_type=x", "", "", 7, 0, "", 0, "", 0, "", "java.net.SocketTimeoutException", now, 15e9},
		{2, true, "PUT", "https://REDACTED:REDACTED@[::1]/register/abc", "", "", 0, 201, "a,b", 5, "pcm.server_org_id", 5, bankC, "404", now, 5},
		{1, false, "OPTIONS", "", "GET /open-banking/{x...}", "/open-banking/payments/v4//consents", 1, 101, zeroUUID, 5, "pcm.additional_info.", 6, "x", "", 0, -5},
		{1, false, "_OTHER", "", "{$}", "/oauth/t1/token", 2, 1 << 40, "\xff\xfe", 4, "url.full", 8, "%", "timeout", ^uint64(0), 1 << 62},
		{3, false, "GET", "https://x/open-banking/accounts/v2/accounts", "", "", 1, 200, "", 0, "", 0, "", "", now, 1},
		{2, false, "DELETE", "//host/open-banking/consents/v3/consents/c1", "", "", 3, 600, "\u2028\"\\", 0, "pcm.correlation_id", 0, strings.Repeat("é", 300), "", now, 1},
		{2, false, "GET", "host-only-no-scheme/open-banking/resources/v3/resources", "", "", 1, 500, fapiID, 0, "server.port", 1, "", "", now, 1},
		{1, true, "PATCH", "", "", "https://proxy.example/open-banking/consents/v3/consents?x", 0, 200, fapiID, 6, "http.target", 0, "*", "", now, 1},
		{2, false, "GET", strings.Repeat("/open-banking", 5000), "", "", 1, 200, "", 0, "", 0, "", "", now, 1},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.legacy, s.method, s.url, s.route, s.path, s.statusTyp, s.status, s.header, s.headerTyp,
			s.attrKey, s.attrTyp, s.attrVal, s.errType, s.start, s.dur)
	}
	m := fuzzMapper(f)
	f.Fuzz(func(t *testing.T, kind uint8, legacy bool, method, url, route, path string, statusTyp uint8, status int64,
		header string, headerTyp uint8, attrKey string, attrTyp uint8, attrVal, errType string, start uint64, dur int64) {
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
		setFuzzValue(a, attrKey, attrTyp, attrVal, status)
		setFuzzValue(a, "pcm.additional_info."+attrKey, attrTyp/9, attrVal, status)
		if errType != "" {
			a.PutStr("error.type", errType)
			span.Status().SetMessage(errType)
			ev := span.Events().AppendEmpty()
			ev.SetName("exception")
			setFuzzValue(ev.Attributes(), "exception.message", attrTyp, errType, status)
		}

		var r Report
		res := m.Map(rs.Resource(), span, &r)
		switch res.Outcome {
		case OutcomeSkipped:
			if res.SkipReason == "" {
				t.Fatal("skipped without a reason")
			}
			return
		case OutcomeReport, OutcomeUnlisted:
			if res.SkipReason != "" {
				t.Fatalf("reason %q on %v", res.SkipReason, res.Outcome)
			}
		default:
			t.Fatalf("outcome %v", res.Outcome)
		}
		if r.ProcessTimespan < 1 {
			t.Fatalf("processTimespan %d", r.ProcessTimespan)
		}
		if r.StatusCode < 200 {
			t.Fatalf("statusCode %d", r.StatusCode)
		}
		if canonicalMethod(r.HTTPMethod) != r.HTTPMethod {
			t.Fatalf("method %q", r.HTTPMethod)
		}
		if res.Outcome == OutcomeReport && !DefaultCatalog().Contains(r.Endpoint, r.API) {
			t.Fatalf("reported endpoint %q not in the %v list", r.Endpoint, r.API)
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
		_ = JoinProblems(ps)
		if res.Outcome == OutcomeUnlisted && len(ps) == 0 {
			t.Fatal("an unlisted report passed validation")
		}
		clone := r.Clone()
		if string(AppendJSON(nil, &clone)) != string(out) {
			t.Fatal("clone encodes differently")
		}
	})
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
