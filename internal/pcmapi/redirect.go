package pcmapi

import "net/http"

// withoutRedirects returns a shallow copy of hc (nil: http.DefaultClient) that never follows a
// redirect: it hands the 3xx back to the caller instead. Go's client would forward the
// Authorization header to a redirect on the same domain, and the token request's form to
// another URL; neither the bearer token nor the mTLS token request may travel anywhere but to
// the configured endpoint. The copy shares hc's Transport, so hc.CloseIdleConnections still
// closes its connections.
func withoutRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = RefuseRedirects
	return &c
}

// RefuseRedirects is an http.Client.CheckRedirect that follows no redirect: the client returns
// the 3xx response itself.
func RefuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
