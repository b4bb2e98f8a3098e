package demo

import (
	"fmt"
	"time"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// PCM report statuses the simulator reports after reconciliation.
const (
	StatusPaired             = "PAIRED"
	StatusPairedInconsistent = "PAIRED_INCONSISTENT"
	StatusUnpaired           = "UNPAIRED"
	StatusSingle             = "SINGLE"
)

// Dead-letter reasons (prefixes of the exporter's reason text).
const (
	ReasonMissingInteractionID = "Missing property: fapiInteractionId"
	ReasonMissingServerOrgID   = "Missing property: serverOrgId"
	ReasonMissingClientOrgID   = "Missing property: clientOrgId"
	ReasonUnlistedEndpoint     = "Unlisted endpoint"
)

// Expect is the expected fate of one side's span.
type Expect struct {
	// Status is the expected status of the private report at PCM ("" when none is sent).
	Status string
	// Opendata: the report goes to the opendata API (never paired; stored as SINGLE).
	Opendata bool
	// CreditPortability: the report (Status) goes to the credit-portability API, which PCM
	// does not pair either.
	CreditPortability bool
	// DeadLetter is the expected start of the dead-letter reason: the exporter rejects the
	// report locally (it is counted as invalid and never sent).
	DeadLetter string
	// Skipped is the expected skip reason of the exporter: no report at all.
	Skipped string
	// StatusCode and Endpoint, when set, are what the report must say.
	StatusCode int
	Endpoint   string
	// NoInteractionID: the report must carry no fapiInteractionId.
	NoInteractionID bool
}

// Sent reports whether a report is expected at the simulator.
func (e Expect) Sent() bool { return e.Status != "" || e.Opendata }

func (e Expect) String() string {
	switch {
	case e.Opendata:
		return "opendata report"
	case e.Status != "":
		s := e.Status
		if e.CreditPortability {
			s = "credit-portability report " + s
		}
		if e.StatusCode != 0 {
			s += fmt.Sprintf(" (%d)", e.StatusCode)
		}
		return s
	case e.DeadLetter != "":
		return "dead letter: " + e.DeadLetter
	case e.Skipped != "":
		return "skipped (" + e.Skipped + ")"
	}
	return "nothing"
}

// Scenario is one row of the traffic table: a call of the client bank and what PCM should
// make of each side's report.
type Scenario struct {
	// Manual is the scenario number: 1–6 are the PCM integration manual's scenarios, 7–9
	// additional ones.
	Manual int
	// Name is a short, unique, dash-separated identifier.
	Name string
	// Title explains the scenario in one line.
	Title  string
	Call   Call
	Client Expect // banco_a's CLIENT span
	Server Expect // banco_b's SERVER span
}

// Label is "<manual>/<name>".
func (s Scenario) Label() string { return fmt.Sprintf("%d/%s", s.Manual, s.Name) }

// Timing of the timeout scenarios: the client gives up long before the server answers.
const (
	TimeoutClient = 300 * time.Millisecond
	TimeoutServer = 900 * time.Millisecond
)

// Scenarios is the traffic table. Every call is independent; the driver cycles through it.
func Scenarios() []Scenario {
	const balances = "/open-banking/accounts/v2/accounts/acc-0001/balances"
	const portabilityID = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"
	consentID := "urn:bancob:" + "c0ffee00-0000-4000-8000-000000000001"
	return []Scenario{
		{
			Manual: 1, Name: "paired-balances",
			Title:  "both sides report a GET balances correctly",
			Call:   Call{Method: "GET", Path: balances, AdditionalInfo: map[string]string{"consentId": consentID}},
			Client: Expect{Status: StatusPaired, StatusCode: 200, Endpoint: "/open-banking/accounts/v2/accounts/{accountId}/balances"},
			Server: Expect{Status: StatusPaired, StatusCode: 200, Endpoint: "/open-banking/accounts/v2/accounts/{accountId}/balances"},
		},
		{
			Manual: 1, Name: "paired-payment",
			Title:  "both sides report a POST pix payment (201) correctly",
			Call:   Call{Method: "POST", Path: "/open-banking/payments/v5/pix/payments", Body: `{"data":{"payment":{"amount":"10.00","currency":"BRL"}}}`},
			Client: Expect{Status: StatusPaired, StatusCode: 201, Endpoint: "/open-banking/payments/v5/pix/payments"},
			Server: Expect{Status: StatusPaired, StatusCode: 201, Endpoint: "/open-banking/payments/v5/pix/payments"},
		},
		{
			Manual: 1, Name: "paired-token",
			Title: "both sides report a token request (security endpoint /token)",
			Call: Call{Method: "POST", Path: "/auth/token", Body: "grant_type=client_credentials&scope=consents",
				ContentType: "application/x-www-form-urlencoded", BasicAuth: true,
				AdditionalInfo: map[string]string{"grantType": "CLIENT_CREDENTIALS"}},
			Client: Expect{Status: StatusPaired, StatusCode: 200, Endpoint: "/token"},
			Server: Expect{Status: StatusPaired, StatusCode: 200, Endpoint: "/token"},
		},
		{
			Manual: 2, Name: "inconsistent-gateway",
			Title:  "the egress gateway turns the server's 201 into 200: the sides disagree",
			Call:   Call{Method: "POST", Path: "/open-banking/consents/v3/consents", Body: `{"data":{"permissions":["ACCOUNTS_READ"]}}`},
			Client: Expect{Status: StatusPairedInconsistent, StatusCode: 200, Endpoint: "/open-banking/consents/v3/consents"},
			Server: Expect{Status: StatusPairedInconsistent, StatusCode: 201, Endpoint: "/open-banking/consents/v3/consents"},
		},
		{
			Manual: 3, Name: "timeout-no-id",
			Title: "the client sends no id and times out; the server generates one: client 408 without id",
			Call: Call{Method: "GET", Path: "/open-banking/consents/v3/consents/" + consentID,
				NoInteractionID: true, ServerDelay: TimeoutServer, Timeout: TimeoutClient},
			Client: Expect{Status: StatusSingle, StatusCode: 408, NoInteractionID: true, Endpoint: "/open-banking/consents/v3/consents/{consentId}"},
			Server: Expect{Status: StatusUnpaired, StatusCode: 200, Endpoint: "/open-banking/consents/v3/consents/{consentId}"},
		},
		{
			Manual: 4, Name: "missing-interaction-id",
			Title:  "a legacy route neither receives nor returns an id: status 200 without fapiInteractionId",
			Call:   Call{Method: "GET", Path: "/open-banking/resources/v3/resources", NoInteractionID: true},
			Client: Expect{DeadLetter: ReasonMissingInteractionID},
			Server: Expect{DeadLetter: ReasonMissingInteractionID},
		},
		{
			Manual: 5, Name: "unlisted-endpoint",
			Title:  "a call to accounts v1, which is not in PCM's endpoint list",
			Call:   Call{Method: "GET", Path: "/open-banking/accounts/v1/accounts"},
			Client: Expect{DeadLetter: ReasonUnlistedEndpoint},
			Server: Expect{DeadLetter: ReasonUnlistedEndpoint},
		},
		{
			Manual: 6, Name: "unknown-server-host",
			Title:  "the client calls through a host name the collector cannot map to an organisation",
			Call:   Call{Method: "GET", Path: balances, UnknownHost: true},
			Client: Expect{DeadLetter: ReasonMissingServerOrgID},
			Server: Expect{Status: StatusUnpaired, StatusCode: 200},
		},
		{
			Manual: 6, Name: "unknown-client-id",
			Title:  "the server cannot resolve the caller's client_id to an organisation",
			Call:   Call{Method: "GET", Path: balances, ClientID: UnknownAppClientID},
			Client: Expect{Status: StatusUnpaired, StatusCode: 200},
			Server: Expect{DeadLetter: ReasonMissingClientOrgID},
		},
		{
			Manual: 7, Name: "timeout-with-id",
			Title: "the client sent an id and timed out; the server answered 200 later with the same id",
			Call: Call{Method: "GET", Path: balances, ServerDelay: TimeoutServer, Timeout: TimeoutClient,
				AdditionalInfo: map[string]string{"consentId": consentID}},
			Client: Expect{Status: StatusPairedInconsistent, StatusCode: 408},
			Server: Expect{Status: StatusPairedInconsistent, StatusCode: 200},
		},
		{
			Manual: 8, Name: "opendata",
			Title:  "an open data call: only the server reports it, to the opendata API",
			Call:   Call{Method: "GET", Path: "/open-banking/channels/v2/branches", ClientID: "-"},
			Client: Expect{Skipped: "opendata_client"},
			Server: Expect{Opendata: true, StatusCode: 200, Endpoint: "/open-banking/channels/v2/branches"},
		},
		{
			Manual: 9, Name: "credit-portability",
			Title: "a proponent reads a credit portability's status: both sides report to the credit-portability API",
			Call: Call{Method: "GET", Path: "/open-banking/credit-portability/v1/portabilities/" + portabilityID,
				Attributes: map[string]string{
					mapping.AttrPortabilityID:           portabilityID,
					mapping.AttrPortabilityCreation:     "2026-03-10T11:00:00Z",
					mapping.AttrPortabilityStatus:       PortabilityStatus,
					mapping.AttrPortabilityStatusUpdate: "2026-03-10T12:00:00Z",
				}},
			Client: Expect{Status: StatusSingle, CreditPortability: true, StatusCode: 200, Endpoint: "/open-banking/credit-portability/v1/portabilities/{portabilityId}"},
			Server: Expect{Status: StatusSingle, CreditPortability: true, StatusCode: 200, Endpoint: "/open-banking/credit-portability/v1/portabilities/{portabilityId}"},
		},
	}
}

// ScenarioByName finds a scenario of the table.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
