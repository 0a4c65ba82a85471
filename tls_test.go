package pushgatewayexporter

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"golang.org/x/crypto/bcrypt"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// These tests push through the exporter's collector settings (tls, headers,
// userinfo in endpoint) to a real Pushgateway running with a
// --web.config.file: TLS, client certificates and basic auth, as in
// production. Every certificate is made here, in the test's temp dir.

const (
	tlsUser     = "alice"
	tlsPassword = "pw-7c1e9b-never-in-errors"
	tlsWrongPw  = "wrong-pw-51d0a3-never-in-errors"
)

// tlsGroup is the grouping key of tlsBatch.
var tlsGroup = map[string]string{"job": "tls-job", "instance": "w-1"}

const tlsGroupText = `{job="tls-job",instance="w-1"}`

func tlsBatch() *testbatch.Batch {
	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "tls-job", "service.instance.id": "w-1"}).
		Gauge("tls.marker", "", 1, 42, nil)
	return b
}

// certFiles is a certificate and its key, in memory and as PEM files.
type certFiles struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certFile string
	keyFile  string
}

// issueCert signs tmpl with parent (nil: self-signed) and writes the
// certificate and a fresh ECDSA P-256 key to dir/<name>.crt and .key.
func issueCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *certFiles) *certFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	require.NoError(t, err)
	tmpl.SerialNumber = serial
	tmpl.Subject = pkix.Name{CommonName: name}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	c := &certFiles{
		cert:     cert,
		key:      key,
		certFile: filepath.Join(dir, name+".crt"),
		keyFile:  filepath.Join(dir, name+".key"),
	}
	require.NoError(t, os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return c
}

func caTemplate() *x509.Certificate {
	return &x509.Certificate{
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func leafTemplate(usage x509.ExtKeyUsage, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
}

// testPKI is every certificate the tests use.
type testPKI struct {
	ca, server, client, expiredClient *certFiles
	// otherCA is unrelated to ca; otherClient is signed by it.
	otherCA, otherClient *certFiles
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	p := &testPKI{}
	p.ca = issueCert(t, dir, "ca", caTemplate(), nil)
	server := leafTemplate(x509.ExtKeyUsageServerAuth, now.Add(-time.Hour), now.Add(24*time.Hour))
	server.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	p.server = issueCert(t, dir, "server", server, p.ca)
	p.client = issueCert(t, dir, "client", leafTemplate(x509.ExtKeyUsageClientAuth, now.Add(-time.Hour), now.Add(24*time.Hour)), p.ca)
	p.expiredClient = issueCert(t, dir, "expired-client", leafTemplate(x509.ExtKeyUsageClientAuth, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), p.ca)
	p.otherCA = issueCert(t, dir, "other-ca", caTemplate(), nil)
	p.otherClient = issueCert(t, dir, "other-client", leafTemplate(x509.ExtKeyUsageClientAuth, now.Add(-time.Hour), now.Add(24*time.Hour)), p.otherCA)
	return p
}

// webConfig is a gateway --web.config.file: TLS with the PKI's server
// certificate, client certificates required and verified against the CA,
// basic auth for tlsUser, and, when maxVersion is set (e.g. TLS12), that
// highest TLS version.
func (p *testPKI) webConfig(t *testing.T, maxVersion string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(tlsPassword), bcrypt.MinCost)
	require.NoError(t, err)
	cfg := fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: %s
`, p.server.certFile, p.server.keyFile, p.ca.certFile)
	if maxVersion != "" {
		cfg += "  max_version: " + maxVersion + "\n"
	}
	return cfg + fmt.Sprintf("basic_auth_users:\n  %s: %q\n", tlsUser, hash)
}

// startTLSGateway starts a gateway with p.webConfig and a reader that has
// everything it needs: the CA, a client certificate and the password.
func (p *testPKI) startTLSGateway(t *testing.T, maxVersion string) *testgateway.Gateway {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	clientCert, err := tls.LoadX509KeyPair(p.client.certFile, p.client.keyFile)
	require.NoError(t, err)
	transport := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{clientCert},
		MaxVersion:   tls.VersionTLS12, // works against every gateway here
	}}
	t.Cleanup(transport.CloseIdleConnections)
	return testgateway.StartWith(t, testgateway.Options{
		WebConfig: p.webConfig(t, maxVersion),
		TLS:       true,
		Client:    &http.Client{Transport: transport, Timeout: 10 * time.Second},
		Username:  tlsUser,
		Password:  tlsPassword,
	})
}

// withUserinfo is the gateway URL with user:password in it.
func withUserinfo(t *testing.T, gatewayURL, user, password string) string {
	t.Helper()
	u, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	u.User = url.UserPassword(user, password)
	return u.String()
}

func basicAuthHeader(user, password string) configopaque.String {
	return configopaque.String("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

// tlsClient is how a case configures the exporter: which files of the PKI
// it uses, and how it sends which password.
type tlsClient struct {
	ca         func(*testPKI) *certFiles // nil: no ca_file (system roots)
	cert       func(*testPKI) *certFiles // nil: no client certificate
	skipVerify bool
	minVersion string
	password   string
	userinfo   bool // password in endpoint, else in an Authorization header
	// retry turns the collector's retry on: a TLS 1.3 refusal of our
	// certificate may first surface as a broken connection (retryable),
	// and becomes permanent on the attempt that reads the gateway's alert.
	retry bool
}

func rightCA(p *testPKI) *certFiles           { return p.ca }
func otherCA(p *testPKI) *certFiles           { return p.otherCA }
func goodClientCert(p *testPKI) *certFiles    { return p.client }
func expiredClientCert(p *testPKI) *certFiles { return p.expiredClient }
func otherClientCert(p *testPKI) *certFiles   { return p.otherClient }

// start starts the exporter against gw as the case says. It returns the
// endpoint as errors must show it.
func (c tlsClient) start(t *testing.T, p *testPKI, gw *testgateway.Gateway) (exp exporter.Metrics, shownEndpoint string) {
	t.Helper()
	endpoint, shown := gw.URL, gw.URL
	if c.userinfo {
		endpoint = withUserinfo(t, gw.URL, tlsUser, c.password)
		shown = withUserinfo(t, gw.URL, tlsUser, "xxxxx")
	}
	e := startExporter(t, endpoint, func(cfg *Config) {
		if c.ca != nil {
			cfg.TLS.CAFile = c.ca(p).certFile
		}
		if c.cert != nil {
			cfg.TLS.CertFile, cfg.TLS.KeyFile = c.cert(p).certFile, c.cert(p).keyFile
		}
		// Left at their defaults unless a case sets them: the refusal of
		// an untrusted gateway relies on verification being on by default.
		if c.skipVerify {
			cfg.TLS.InsecureSkipVerify = true
		}
		if c.minVersion != "" {
			cfg.TLS.MinVersion = c.minVersion
		}
		if !c.userinfo {
			cfg.Headers.Set("Authorization", basicAuthHeader(tlsUser, c.password))
		}
		if c.retry {
			cfg.RetryConfig.Enabled = true
			cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
			cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
			cfg.RetryConfig.MaxElapsedTime = 20 * time.Second
		}
	})
	return e, shown
}

// TestTLSAccepted pushes with every accepted combination of TLS, client
// certificate and credentials, and reads the group back.
func TestTLSAccepted(t *testing.T) {
	p := newTestPKI(t)
	for _, tc := range []struct {
		name   string
		client tlsClient
	}{
		{"custom CA, client cert, basic auth in headers",
			tlsClient{ca: rightCA, cert: goodClientCert, password: tlsPassword}},
		{"custom CA, client cert, basic auth in endpoint userinfo",
			tlsClient{ca: rightCA, cert: goodClientCert, password: tlsPassword, userinfo: true}},
		{"insecure_skip_verify with a CA that does not sign the gateway",
			tlsClient{ca: otherCA, cert: goodClientCert, password: tlsPassword, skipVerify: true}},
		{"min_version 1.3, client cert, basic auth",
			tlsClient{ca: rightCA, cert: goodClientCert, password: tlsPassword, minVersion: "1.3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := p.startTLSGateway(t, "")
			exp, _ := tc.client.start(t, p, gw)

			require.NoError(t, exp.ConsumeMetrics(context.Background(), tlsBatch().MD))

			grp := gw.Group(t, tlsGroup)
			require.NotNil(t, grp, "groups: %+v", gw.Groups(t))
			assertFamily(t, grp, "tls_marker", "GAUGE", nil, "42")
		})
	}
}

// refusalAttempts is how many times each refused push is tried. Under TLS
// 1.3 the gateway refuses a client certificate after our side of the
// handshake is done, so whether an attempt sees the gateway's alert or only
// a broken connection is a race: those cases run with the collector's retry
// on, and each push must still end in the permanent refusal.
const refusalAttempts = 10

// TestTLSRefused checks that every refusal — of the gateway's certificate
// by us, of our certificate, TLS version or password by the gateway — is a
// permanent error that names the endpoint and the group, never shows a
// secret, and stores nothing.
func TestTLSRefused(t *testing.T) {
	p := newTestPKI(t)
	for _, tc := range []struct {
		name       string
		client     tlsClient
		maxVersion string // the gateway's max_version
		reason     string // in the error, after the group and endpoint
	}{
		// The accepted insecure_skip_verify case without that setting.
		{name: "gateway certificate from a CA we do not trust",
			client: tlsClient{ca: otherCA, cert: goodClientCert, password: tlsPassword},
			reason: "tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		// Which alert the gateway sends depends on the Go it was built
		// with: 1.19 (Debian's Pushgateway 1.5.1) sends "bad certificate"
		// for all three client certificate refusals.
		{name: "no client certificate",
			client: tlsClient{ca: rightCA, password: tlsPassword, retry: true},
			reason: "remote error: tls: "},
		{name: "expired client certificate",
			client: tlsClient{ca: rightCA, cert: expiredClientCert, password: tlsPassword, retry: true},
			reason: "remote error: tls: "},
		{name: "client certificate from an unrelated CA",
			client: tlsClient{ca: rightCA, cert: otherClientCert, password: tlsPassword, retry: true},
			reason: "remote error: tls: "},
		// The same under TLS 1.2, where the gateway refuses a client
		// certificate inside the handshake.
		{name: "no client certificate, TLS 1.2",
			client:     tlsClient{ca: rightCA, password: tlsPassword},
			maxVersion: "TLS12",
			reason:     "remote error: tls: "},
		{name: "expired client certificate, TLS 1.2",
			client:     tlsClient{ca: rightCA, cert: expiredClientCert, password: tlsPassword},
			maxVersion: "TLS12",
			reason:     "remote error: tls: "},
		{name: "client certificate from an unrelated CA, TLS 1.2",
			client:     tlsClient{ca: rightCA, cert: otherClientCert, password: tlsPassword},
			maxVersion: "TLS12",
			reason:     "remote error: tls: "},
		{name: "wrong password",
			client: tlsClient{ca: rightCA, cert: goodClientCert, password: tlsWrongPw},
			reason: "401 Unauthorized"},
		{name: "min_version 1.3 against a TLS 1.2 gateway",
			client:     tlsClient{ca: rightCA, cert: goodClientCert, password: tlsPassword, minVersion: "1.3"},
			maxVersion: "TLS12",
			reason:     "remote error: tls: protocol version not supported"},
	} {
		for _, userinfo := range []bool{false, true} {
			name := tc.name + "/password in headers"
			if userinfo {
				name = tc.name + "/password in endpoint"
			}
			t.Run(name, func(t *testing.T) {
				gw := p.startTLSGateway(t, tc.maxVersion)
				client := tc.client
				client.userinfo = userinfo
				exp, shown := client.start(t, p, gw)

				for attempt := 1; attempt <= refusalAttempts; attempt++ {
					err := exp.ConsumeMetrics(context.Background(), tlsBatch().MD)

					require.Error(t, err, "attempt %d", attempt)
					if !assertRefusal(t, err, shown, tc.reason) {
						t.Logf("attempt %d of %d was not refused as it must be", attempt, refusalAttempts)
						break
					}
				}
				assert.Empty(t, gw.Groups(t), "a refused push stores nothing")
			})
		}
	}
}

// assertRefusal checks one refused push's error: permanent, naming the
// group and the endpoint (password redacted) and then the reason, and
// carrying no secret.
func assertRefusal(t *testing.T, err error, shownEndpoint, reason string) bool {
	t.Helper()
	msg := err.Error()
	ok := assert.True(t, consumererror.IsPermanent(err), "a retry cannot succeed, so the error must be permanent: %s", msg)
	// The first request of an exporter reads the groups the gateway holds;
	// a refused handshake refuses that request, or else the push.
	ok = assert.True(t, strings.Contains(msg, "pushing group "+tlsGroupText+" to "+shownEndpoint+": "+reason) ||
		strings.Contains(msg, "reading the groups at "+shownEndpoint+": "+reason),
		"the error names the request, the gateway and the reason %q: %s", reason, msg) && ok
	for _, secret := range []string{
		tlsPassword, tlsWrongPw,
		string(basicAuthHeader(tlsUser, tlsPassword)), string(basicAuthHeader(tlsUser, tlsWrongPw)),
	} {
		ok = assert.NotContains(t, msg, secret, "a secret in the error") && ok
	}
	return ok
}

// TestTLSClientCertificateReload rotates the client certificate files under
// a running exporter: with tls.reload_interval, configtls picks up the new
// files and pushes that were refused are accepted, without a restart.
func TestTLSClientCertificateReload(t *testing.T) {
	p := newTestPKI(t)
	gw := p.startTLSGateway(t, "TLS12") // the refusal arrives in the handshake
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	install := func(c *certFiles) {
		for src, dst := range map[string]string{c.certFile: certFile, c.keyFile: keyFile} {
			data, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, data, 0o600))
		}
	}
	install(p.expiredClient)
	exp := startExporter(t, gw.URL, func(cfg *Config) {
		cfg.TLS.CAFile = p.ca.certFile
		cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
		cfg.TLS.ReloadInterval = 50 * time.Millisecond
		cfg.Headers.Set("Authorization", basicAuthHeader(tlsUser, tlsPassword))
	})

	err := exp.ConsumeMetrics(context.Background(), tlsBatch().MD)
	require.Error(t, err, "the expired certificate is refused")
	assert.True(t, consumererror.IsPermanent(err))

	install(p.client)
	assert.Eventually(t, func() bool {
		return exp.ConsumeMetrics(context.Background(), tlsBatch().MD) == nil
	}, 10*time.Second, 100*time.Millisecond, "the rotated certificate is used")
	grp := gw.Group(t, tlsGroup)
	require.NotNil(t, grp)
	assertFamily(t, grp, "tls_marker", "GAUGE", nil, "42")
}
