// Package demo is a small Open Finance Brasil world for the quickstart and the end-to-end tests:
// two institutions instrumented with the OpenTelemetry Go SDK and otelhttp (a server bank and a
// client bank with an egress gateway), the PCM integration manual's scenarios as a table of calls
// with their expected PCM outcome, and the plumbing that runs the ocb-built collector between the
// banks and the PCM simulator.
//
// The banks behave like real Open Finance participants as far as PCM is concerned: the client
// generates an x-fapi-interaction-id per request, the server echoes it or generates one, and both
// record the header values on their HTTP spans as captured-header attributes (string slices), the
// way instrumentations with header capture do. Nothing here knows about the exporter's mapping;
// the spans are what a bank's own services would emit.
package demo // import "github.com/pcm-otel/pcmexporter/tools/internal/demo"

import (
	"crypto/rand"
	"fmt"
)

// Org is a demo Open Finance institution.
type Org struct {
	// Name is the short label used for file names and component ids (pcm/<Name>).
	Name string
	// Title is the human-readable name.
	Title string
	// OrgID is the OrganisationId in the (simulated) Directory.
	OrgID string
	// SoftwareStatementID is the software statement reported as clientSSId.
	SoftwareStatementID string
	// PCMClientID is the client_id the exporter uses for PCM tokens.
	PCMClientID string
	// AppClientID is the client_id this institution's apps present to other institutions'
	// APIs (the demo server bank resolves the caller's OrganisationId from it).
	AppClientID string
}

// The two demo institutions: banco_a calls (CLIENT reports), banco_b serves (SERVER reports).
// The ids are fixed so that a demo run is easy to read and to compare with an earlier one.
var (
	BancoA = Org{
		Name: "banco_a", Title: "Banco A (client)",
		OrgID:               "a0a0a0a0-1111-4111-8111-0000000000a1",
		SoftwareStatementID: "a0a0a0a0-2222-4222-8222-0000000000a2",
		PCMClientID:         "banco-a-pcm",
		AppClientID:         "banco-a-app",
	}
	BancoB = Org{
		Name: "banco_b", Title: "Banco B (server)",
		OrgID:               "b0b0b0b0-1111-4111-8111-0000000000b1",
		SoftwareStatementID: "b0b0b0b0-2222-4222-8222-0000000000b2",
		PCMClientID:         "banco-b-pcm",
		AppClientID:         "banco-b-app",
	}
)

// Orgs are the demo institutions in a fixed order.
func Orgs() []Org { return []Org{BancoA, BancoB} }

// UnknownAppClientID is a client_id the server bank cannot resolve to an organisation (a
// client registered by dynamic registration that is missing from the server's org cache).
const UnknownAppClientID = "rogue-app"

// HeaderInteractionID is the Open Finance interaction id header.
const HeaderInteractionID = "x-fapi-interaction-id"

// Captured-header attribute names, as instrumentations with header capture name them
// (lower-case header name, string-slice value).
const (
	AttrRequestInteractionID  = "http.request.header." + HeaderInteractionID
	AttrResponseInteractionID = "http.response.header." + HeaderInteractionID
	// AttrClientOrgID is where the server bank records the caller's OrganisationId.
	AttrClientOrgID = "pcm.client_org_id"
	// AttrAdditionalInfoPrefix is the prefix of span attributes the exporter copies into
	// additionalInfo.
	AttrAdditionalInfoPrefix = "pcm.additional_info."
)

// NewInteractionID returns a random (version 4) UUID.
func NewInteractionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
