package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import "github.com/pcm-otel/pcmexporter/mapping"

// route is the PCM path a report is POSTed to: one per API, and for credit portability one per
// role (docs/pcm-rules.md §12.1). Reports of different routes never share a POST.
type route uint8

const (
	routePrivate route = iota
	routeOpendata
	routePortabilityClient
	routePortabilityServer
	numRoutes
)

func routeOf(r *mapping.Report) route {
	switch r.API {
	case mapping.APIOpendata:
		return routeOpendata
	case mapping.APICreditPortability:
		if r.Role == mapping.RoleServer {
			return routePortabilityServer
		}
		return routePortabilityClient
	}
	return routePrivate
}

// api is the API of the reports of the route (the metric and log attribute).
func (rt route) api() mapping.API {
	switch rt {
	case routeOpendata:
		return mapping.APIOpendata
	case routePortabilityClient, routePortabilityServer:
		return mapping.APICreditPortability
	}
	return mapping.APIPrivate
}

func (e *pcmExporter) pathOf(rt route) string {
	switch rt {
	case routeOpendata:
		return e.cfg.OpendataReportPath
	case routePortabilityClient:
		return e.cfg.CreditPortabilityClientPath
	case routePortabilityServer:
		return e.cfg.CreditPortabilityServerPath
	}
	return e.cfg.PrivateReportPath
}

// apiOfPath names the API of a POST path for the request-duration metric.
func (e *pcmExporter) apiOfPath(path string) mapping.API {
	for rt := range numRoutes {
		if path == e.pathOf(rt) {
			return rt.api()
		}
	}
	return mapping.APIPrivate
}
