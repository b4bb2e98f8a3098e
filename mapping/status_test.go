package mapping

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// clientEnd is what an HTTP client instrumentation leaves on a CLIENT span that got no response:
// the error.type attribute, the span status and an exception event.
type clientEnd struct {
	errorType     string // "" = attribute absent
	statusError   bool   // span status Error
	statusMessage string
	exceptionType string // exception event, when exceptionType or exceptionMsg is set
	exceptionMsg  string
}

func (e clientEnd) apply(attrs map[string]any) ([]spanOpt, map[string]any) {
	attrs = merge(attrs, map[string]any{"http.response.status_code": nil})
	if e.errorType != "" {
		attrs["error.type"] = e.errorType
	}
	var opts []spanOpt
	if e.statusError {
		opts = append(opts, withStatusMessage(e.statusMessage))
	}
	if e.exceptionType != "" || e.exceptionMsg != "" {
		opts = append(opts, withException(e.exceptionType, e.exceptionMsg))
	}
	return opts, attrs
}

// TestMapClientTimeoutsByInstrumentation: one row per HTTP client, with what its instrumentation
// really records when the call times out or is cancelled (→ 408, Decisions 2 and 18) and, below,
// when it fails otherwise (→ skipped as no_status).
func TestMapClientTimeoutsByInstrumentation(t *testing.T) {
	timedOut := []struct {
		client string
		end    clientEnd
	}{
		// Node http, AbortSignal: @opentelemetry/instrumentation-http 0.221.0, open-telemetry/opentelemetry-js
		// experimental/packages/opentelemetry-instrumentation-http/src/utils.ts (commit 61126358) setSpanWithError:
		// error.type = error.name, status message = error.message, recordException (packages/sdk-trace/src/Span.ts:
		// exception.type = error.code ?? error.name). Node's AbortError (nodejs/node lib/internal/errors.js):
		// name "AbortError", code "ABORT_ERR", message "The operation was aborted".
		{"Node http, aborted", clientEnd{"AbortError", true, "The operation was aborted", "ABORT_ERR", "The operation was aborted"}},
		// Node http through got: sindresorhus/got source/core/timed-out.ts TimeoutError: name "TimeoutError",
		// code "ETIMEDOUT", message "Timeout awaiting '<event>' for <n>ms"; recorded as above.
		{"Node http, got timeout", clientEnd{"TimeoutError", true, "Timeout awaiting 'request' for 15000ms", "ETIMEDOUT", "Timeout awaiting 'request' for 15000ms"}},
		// undici/fetch ≤ 0.26.0: open-telemetry/opentelemetry-js-contrib packages/instrumentation-undici/src/undici.ts
		// at commit cdaefde8^ onError: recordException + status Error with error.message, error.type only on the
		// metric. An aborted fetch rejects with DOMException "This operation was aborted" (code 20).
		{"undici ≤0.26, aborted", clientEnd{"", true, "This operation was aborted", "20", "This operation was aborted"}},
		// undici/fetch ≥ 0.27 (0.31.0, commit fd4d8ae8): "if the request was intentionally cancelled via an
		// AbortController signal, it SHOULD NOT be treated as an error": span ended with nothing recorded
		// (semantic-conventions docs/http/http-spans.md, commit 384d6616).
		{"undici ≥0.27, aborted", clientEnd{}},
		// undici/fetch, AbortSignal.timeout(): DOMException TimeoutError "The operation was aborted due to timeout"
		// (code 23), recorded as an error by the same onError.
		{"undici, AbortSignal.timeout", clientEnd{"", true, "The operation was aborted due to timeout", "23", "The operation was aborted due to timeout"}},
		// undici's own timeout: nodejs/undici lib/core/errors.js HeadersTimeoutError, code UND_ERR_HEADERS_TIMEOUT,
		// message "Headers Timeout Error".
		{"undici, headers timeout", clientEnd{"", true, "Headers Timeout Error", "UND_ERR_HEADERS_TIMEOUT", "Headers Timeout Error"}},
		// Go net/http: go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp 0.70.0 transport.go (commit
		// b91281ae): SetAttributes(semconv.ErrorType(err)); SetStatus(codes.Error, err.Error()). ErrorType is
		// "<pkg>.<type>" (go.opentelemetry.io/otel semconv/v1.43.0/error_type.go): context.DeadlineExceeded is a
		// context.deadlineExceededError, context.Canceled an *errors.errorString.
		{"Go otelhttp, deadline", clientEnd{"context.deadlineExceededError", true, "context deadline exceeded", "", ""}},
		{"Go otelhttp, canceled", clientEnd{"*errors.errorString", true, "context canceled", "", ""}},
		{"Go otelhttp, response header timeout", clientEnd{"*errors.errorString", true, "net/http: timeout awaiting response headers", "", ""}},
		// Java agent 2.x: open-telemetry/opentelemetry-java-instrumentation instrumentation-api/.../semconv/http/
		// HttpCommonAttributesExtractor.java (commit 3300ac68): error.type = error.getClass().getName(); the exception
		// is a span event unless emitted as a log (testing-common AbstractHttpClientTest readTimedOut).
		{"Java JDK HttpClient", clientEnd{"java.net.http.HttpTimeoutException", true, "", "java.net.http.HttpTimeoutException", "request timed out"}},
		{"Java socket read", clientEnd{"java.net.SocketTimeoutException", true, "", "", ""}},
		{"Java Reactor Netty", clientEnd{"io.netty.handler.timeout.ReadTimeoutException", true, "", "", ""}},
		// JDK HttpClient cancelled future: instrumentation/java-http-client/testing/.../AbstractJavaHttpClientTest.java
		// asserts error.type = java.util.concurrent.CancellationException.
		{"Java JDK HttpClient, cancelled", clientEnd{"java.util.concurrent.CancellationException", true, "", "", ""}},
		// OkHttp call timeout: square/okio okio/src/jvmMain/kotlin/okio/AsyncTimeout.kt (commit c25d06ad)
		// newTimeoutException = InterruptedIOException("timeout"); with exceptions emitted as logs only
		// error.type remains.
		{"Java OkHttp call timeout", clientEnd{"java.io.InterruptedIOException", true, "", "", ""}},
		// Java agent 1.x (old semconv, no error.type): the exception event only.
		{"Java agent 1.x OkHttp", clientEnd{"", true, "", "java.io.InterruptedIOException", "timeout"}},
		// .NET HttpClient: open-telemetry/opentelemetry-dotnet-contrib src/OpenTelemetry.Instrumentation.Http/
		// Implementation/HttpHandlerDiagnosticListener.cs (commit cd0365a9, 1.18.0): a canceled task sets status
		// Error "Task Canceled" and error.type typeof(TaskCanceledException).FullName (HttpClient.Timeout too).
		{".NET HttpClient", clientEnd{"System.Threading.Tasks.TaskCanceledException", true, "Task Canceled", "", ""}},
		// .NET Framework HttpWebRequest, HttpWebRequestActivitySource.netfx.cs GetErrorType: WebExceptionStatus.Timeout
		// → "timeout", RequestCanceled → "request_cancelled".
		{".NET Framework timeout", clientEnd{"timeout", true, "The operation has timed out", "", ""}},
		{".NET Framework cancelled", clientEnd{"request_cancelled", true, "The request was aborted: The request was canceled.", "", ""}},
		// Python requests / httpx: open-telemetry/opentelemetry-python-contrib instrumentation/opentelemetry-
		// instrumentation-requests (and -httpx) __init__.py (commit 466ae4c0): error.type = type(exception).__qualname__;
		// the SDK's record_exception (open-telemetry/opentelemetry-python opentelemetry-sdk/.../trace/__init__.py,
		// commit 0a5d76b6) writes exception.type = "<module>.<qualname>", and use_span sets status
		// "<name>: <message>" (opentelemetry-api/.../trace/__init__.py).
		{"Python requests", clientEnd{"ReadTimeout", true, "ReadTimeout: HTTPSConnectionPool(host='api.banco-b.example', port=443): Read timed out. (read timeout=15)", "requests.exceptions.ReadTimeout", ""}},
		{"Python httpx", clientEnd{"ConnectTimeout", true, "ConnectTimeout: timed out", "httpx.ConnectTimeout", "timed out"}},
		{"Python httpx, cancelled task", clientEnd{"CancelledError", true, "CancelledError: ", "asyncio.exceptions.CancelledError", ""}},
		// Python urllib3: the instrumentation sets no error.type (urllib3/__init__.py "TODO: add error handling");
		// the exception escapes start_as_current_span, which records it.
		{"Python urllib3", clientEnd{"", true, "ReadTimeoutError: HTTPSConnectionPool(host='api.banco-b.example', port=443): Read timed out.", "urllib3.exceptions.ReadTimeoutError", ""}},
	}
	failed := []struct {
		client string
		end    clientEnd
	}{
		{"Node http, refused", clientEnd{"Error", true, "connect ECONNREFUSED 10.0.0.1:443", "ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443"}},
		{"Node http, reset", clientEnd{"Error", true, "socket hang up", "ECONNRESET", "socket hang up"}},
		{"Go otelhttp, refused", clientEnd{"*net.OpError", true, "dial tcp 10.0.0.1:443: connect: connection refused", "", ""}},
		{"Java refused", clientEnd{"java.net.ConnectException", true, "", "java.net.ConnectException", "Connection refused"}},
		{"Java agent 1.x, refused", clientEnd{"", true, "", "java.net.ConnectException", "Connection refused"}},
		{".NET name resolution", clientEnd{"name_resolution_error", true, "", "", ""}},
		{".NET Framework TLS", clientEnd{"secure_channel_failure", true, "The request was aborted: Could not create SSL/TLS secure channel.", "", ""}},
		{"Python requests, refused", clientEnd{"ConnectionError", true, "ConnectionError: [Errno 111] Connection refused", "requests.exceptions.ConnectionError", ""}},
		{"semconv _OTHER", clientEnd{"_OTHER", false, "", "", ""}},
		{"an Error status alone", clientEnd{"", true, "", "", ""}},
	}
	var cases []mapCase
	for _, row := range timedOut {
		opts, attrs := row.end.apply(clientAttrs(bankURL + accPath))
		cases = append(cases, mapCase{
			name: "408: " + row.client, kind: ptrace.SpanKindClient, attrs: attrs, opts: opts,
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 408 }),
		})
	}
	for _, row := range failed {
		opts, attrs := row.end.apply(clientAttrs(bankURL + accPath))
		cases = append(cases, mapCase{
			name: "skipped: " + row.client, kind: ptrace.SpanKindClient, attrs: attrs, opts: opts,
			result: skip(SkipNoStatus),
		})
	}
	// The silent cancellation needs a span without any status attribute.
	for _, status := range []any{100, 0, "two hundred", "", 1.5} {
		cases = append(cases, mapCase{
			name: fmt.Sprintf("skipped: status %#v without an error", status), kind: ptrace.SpanKindClient,
			attrs:  merge(clientAttrs(bankURL+accPath), map[string]any{"http.response.status_code": status}),
			result: skip(SkipNoStatus),
		})
	}
	cases = append(cases, mapCase{
		name: "skipped: legacy status 0 without an error", kind: ptrace.SpanKindClient,
		attrs:  merge(clientAttrs(bankURL+accPath), map[string]any{"http.response.status_code": nil, "http.status_code": 0}),
		result: skip(SkipNoStatus),
	})
	runMapCases(t, cases)
}
