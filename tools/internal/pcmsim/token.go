package pcmsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// TokenResponse is the body of a successful POST /token/.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"`
	TokenType        string `json:"token_type"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	Scope            string `json:"scope"`
}

// TokenClaims are the claims of the access tokens (ES256 JWTs) issued by the simulator.
type TokenClaims struct {
	Issuer              string `json:"iss"`
	Subject             string `json:"sub"`
	IssuedAt            int64  `json:"iat"`
	ExpiresAt           int64  `json:"exp"`
	ID                  string `json:"jti"`
	Type                string `json:"typ"`
	AuthorizedParty     string `json:"azp"`
	Scope               string `json:"scope"`
	ClientID            string `json:"client_id"`
	OrgID               string `json:"org_id"`
	SoftwareStatementID string `json:"software_statement_id,omitempty"`
}

const tokenScope = "profile email"

// tokenIssuer signs and verifies access tokens and keeps PCM's per-client token cache.
type tokenIssuer struct {
	key      *ecdsa.PrivateKey
	kid      string
	lifetime time.Duration
	issuer   string

	mu    sync.Mutex
	cache map[string]TokenClaims // by client_id: the active token
	raw   map[string]string      // by client_id: its serialisation
}

func newTokenIssuer(lifetime time.Duration) (*tokenIssuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	ti := &tokenIssuer{key: key, kid: b64(sum[:8]), lifetime: lifetime}
	ti.reset()
	return ti, nil
}

func (ti *tokenIssuer) reset() {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.cache, ti.raw = map[string]TokenClaims{}, map[string]string{}
}

// token returns the active token of the client (unless fresh) or mints a new one, and the
// remaining lifetime in whole seconds.
func (ti *tokenIssuer) token(reg Org, orgID string, fresh bool, now time.Time) (tok string, expiresIn int, cached bool, err error) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if c, ok := ti.cache[reg.ClientID]; ok && !fresh && strings.EqualFold(c.OrgID, orgID) {
		if left := int(time.Unix(c.ExpiresAt, 0).Sub(now) / time.Second); left >= 1 {
			return ti.raw[reg.ClientID], left, true, nil
		}
	}
	iat := now.Unix()
	c := TokenClaims{
		Issuer: ti.issuer, Subject: reg.ClientID, IssuedAt: iat, ExpiresAt: iat + int64(ti.lifetime/time.Second),
		ID: newUUID(), Type: "Bearer", AuthorizedParty: reg.ClientID, Scope: tokenScope,
		ClientID: reg.ClientID, OrgID: orgID, SoftwareStatementID: reg.SoftwareStatementID,
	}
	if tok, err = ti.sign(c); err != nil {
		return "", 0, false, err
	}
	ti.cache[reg.ClientID], ti.raw[reg.ClientID] = c, tok
	return tok, int(ti.lifetime / time.Second), false, nil
}

func (ti *tokenIssuer) sign(c TokenClaims) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": ti.kid})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, ti.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: R || S, 32 bytes each
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig), nil
}

var (
	errTokenMalformed = errors.New("malformed token")
	errTokenSignature = errors.New("bad token signature")
	errTokenExpired   = errors.New("token expired")
)

// verify checks the signature and expiry of a token issued by this issuer.
func (ti *tokenIssuer) verify(tok string, now time.Time) (TokenClaims, error) {
	var c TokenClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, errTokenMalformed
	}
	hdrJSON, err1 := unb64(parts[0])
	claimsJSON, err2 := unb64(parts[1])
	sig, err3 := unb64(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || len(sig) != 64 {
		return c, errTokenMalformed
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil || hdr.Alg != "ES256" {
		return c, errTokenMalformed
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&ti.key.PublicKey, digest[:], r, s) {
		return c, errTokenSignature
	}
	if err := json.Unmarshal(claimsJSON, &c); err != nil {
		return c, errTokenMalformed
	}
	if now.Unix() >= c.ExpiresAt {
		return c, errTokenExpired
	}
	return c, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// oidOrganizationIdentifier is the X.520 organizationIdentifier attribute (2.5.4.97), which
// newer Open Finance Brasil certificates fill with "OFBBR-<organisation id>".
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// orgFromCert returns the organisation id of an Open Finance Brasil client certificate: the
// subject OU, else the organizationIdentifier without its "OFBBR-" prefix; "" if neither is a UUID.
func orgFromCert(cert *x509.Certificate) string {
	for _, ou := range cert.Subject.OrganizationalUnit {
		if isUUID(ou) {
			return ou
		}
	}
	for _, n := range cert.Subject.Names {
		if s, ok := n.Value.(string); ok && n.Type.Equal(oidOrganizationIdentifier) {
			if s = strings.TrimPrefix(s, "OFBBR-"); isUUID(s) {
				return s
			}
		}
	}
	return ""
}

// handleToken serves the auth listener: POST /token/ and POST /token-fresh/.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	count := func(outcome string) {
		s.stats.update(func(st *Stats) { st.TokenRequests[outcome]++ })
		fields := []zap.Field{zap.String("outcome", outcome), zap.String("path", r.URL.Path),
			zap.String("client_id", r.PostForm.Get("client_id")), zap.String("remote", r.RemoteAddr)}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			fields = append(fields, zap.String("cert_subject", r.TLS.PeerCertificates[0].Subject.String()))
		}
		if outcome == TokenOutcomeIssued || outcome == TokenOutcomeCached {
			s.log.Debug("token request", fields...)
		} else {
			s.log.Info("token request refused", fields...)
		}
	}
	fresh := false
	switch r.URL.Path {
	case "/token/":
	case "/token-fresh/":
		fresh = true
	default: // strict gateway: "/token" without the slash does not exist
		count(TokenOutcomeNotFound)
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		count(TokenOutcomeMethodNotAllowed)
		w.Header().Set("Allow", http.MethodPost)
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	fault, latency, faulty := s.faults.takeToken(s.now(), false)
	if !s.sleep(r, latency) {
		return
	}
	if faulty {
		count(TokenOutcomeFault)
		s.writeFault(w, fault, true)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm() // a body that is not a form leaves the fields empty
	if r.PostForm.Get("grant_type") != "client_credentials" {
		count(TokenOutcomeUnsupportedGrant)
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Unsupported grant_type"})
		return
	}
	certOrg := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		certOrg = orgFromCert(r.TLS.PeerCertificates[0])
	}
	reg, ok := s.dir.client(r.PostForm.Get("client_id"), certOrg)
	if !ok {
		count(TokenOutcomeInvalidClient)
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_client", "Invalid client credentials"})
		return
	}
	if certOrg == "" || !strings.EqualFold(certOrg, reg.OrgID) {
		count(TokenOutcomeOrgMismatch)
		writeJSON(w, http.StatusUnauthorized, struct {
			StatusCode int    `json:"statusCode"`
			Message    string `json:"message"`
		}{http.StatusUnauthorized, "ClientId is not valid to the orgId"})
		return
	}
	tok, expiresIn, cached, err := s.tokens.token(reg, reg.OrgID, fresh, s.now())
	if err != nil {
		s.log.Error("signing token", zap.Error(err))
		writeMessage(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	if cached {
		count(TokenOutcomeCached)
	} else {
		count(TokenOutcomeIssued)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, TokenResponse{
		AccessToken: tok, ExpiresIn: expiresIn, TokenType: "Bearer", Scope: tokenScope,
	})
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// bearerOrg authenticates an API request and returns the token's organisation.
func (s *Server) bearerOrg(r *http.Request) (TokenClaims, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return TokenClaims{}, fmt.Errorf("no bearer token")
	}
	return s.tokens.verify(strings.TrimSpace(tok), s.now())
}
