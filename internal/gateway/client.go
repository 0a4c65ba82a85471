package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// maxReasonBytes bounds how much of a refusal's body goes into an error.
const maxReasonBytes = 1024

// Client sends group bodies to one Pushgateway. It knows nothing of
// OTLP: a grouping key and a body in, a classified error out.
type Client struct {
	client      *http.Client
	base        string // endpoint without trailing slash
	display     string // base with any password redacted, for errors
	method      string
	contentType string
}

// NewClient returns a Client of the gateway at endpoint that pushes with
// method (PUT or POST) bodies of contentType.
func NewClient(client *http.Client, endpoint, method, contentType string) *Client {
	return &Client{
		client:      client,
		base:        strings.TrimSuffix(endpoint, "/"),
		display:     RedactEndpoint(endpoint),
		method:      method,
		contentType: contentType,
	}
}

// RedactEndpoint is the endpoint as errors and logs may show it: any
// password replaced by xxxxx, no trailing slash.
func RedactEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the configured endpoint"
	}
	return strings.TrimSuffix(u.Redacted(), "/")
}

// Push sends body as the group's content. Its error is permanent when a
// retry cannot succeed (4xx but 408 and 429), a throttle when the gateway
// asked to wait (429, 503 with Retry-After), and plain retryable otherwise.
//
// status is the HTTP status of the answer, 0 when there was none.
func (c *Client) Push(ctx context.Context, key prom.GroupKey, body []byte) (status int, err error) {
	target := c.base + "/metrics/" + urlPath(key)
	req, err := http.NewRequestWithContext(ctx, c.method, target, bytes.NewReader(body))
	if err != nil {
		return 0, consumererror.NewPermanent(fmt.Errorf("pushing group %s to %s: building request: %w", key, c.display, err))
	}
	req.Header.Set("Content-Type", c.contentType)
	resp, err := c.client.Do(req)
	if err != nil {
		err = fmt.Errorf("pushing group %s to %s: %w", key, c.display, redactURLError(err))
		if isTLSRefusal(err) {
			return 0, consumererror.NewPermanent(err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	reason, _ := io.ReadAll(io.LimitReader(resp.Body, maxReasonBytes))
	_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	pushErr := fmt.Errorf("pushing group %s to %s: %s%s", key, c.display, resp.Status, formatReason(reason))
	return resp.StatusCode, classifyStatus(pushErr, resp.StatusCode, resp.Header.Get("Retry-After"))
}

// Delete removes the group from the gateway.
func (c *Client) Delete(ctx context.Context, key prom.GroupKey) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.base+"/metrics/"+urlPath(key), http.NoBody)
	if err != nil {
		return fmt.Errorf("deleting group %s at %s: building request: %w", key, c.display, err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("deleting group %s at %s: %w", key, c.display, redactURLError(err))
	}
	defer resp.Body.Close()
	reason, _ := io.ReadAll(io.LimitReader(resp.Body, maxReasonBytes))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return fmt.Errorf("deleting group %s at %s: %s%s", key, c.display, resp.Status, formatReason(reason))
}

// Families returns the name and type of every metric family the gateway
// holds in any group (from its API, /api/v1/metrics), but for the ones it
// writes into every group itself. A gateway that holds a name with two
// types gives the first one it lists.
func (c *Client) Families(ctx context.Context) (map[string]dto.MetricType, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/metrics", http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("reading the groups at %s: building request: %w", c.display, err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		err = fmt.Errorf("reading the groups at %s: %w", c.display, redactURLError(err))
		if isTLSRefusal(err) {
			return nil, consumererror.NewPermanent(err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		reason, _ := io.ReadAll(io.LimitReader(resp.Body, maxReasonBytes))
		return nil, &apiError{fmt.Errorf("reading the groups at %s: %s%s", c.display, resp.Status, formatReason(reason)), resp.StatusCode}
	}
	var body struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("reading the groups at %s: %w", c.display, err)
	}
	out := map[string]dto.MetricType{}
	for _, group := range body.Data {
		for name, raw := range group {
			var family struct {
				Type string `json:"type"`
			}
			if name == "labels" || name == "last_push_successful" || prom.GatewayReserved(name) || json.Unmarshal(raw, &family) != nil {
				continue
			}
			typ, ok := dto.MetricType_value[family.Type]
			if _, seen := out[name]; ok && !seen {
				out[name] = dto.MetricType(typ)
			}
		}
	}
	return out, nil
}

// apiError is a gateway's refusal of an API request, with its status.
type apiError struct {
	error
	status int
}

// classifyStatus decides, in one place, whether a refused push is retried.
func classifyStatus(err error, status int, retryAfter string) error {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		if delay, ok := parseRetryAfter(retryAfter, time.Now()); ok {
			return exporterhelper.NewThrottleRetry(err, delay)
		}
		return err
	case status == http.StatusRequestTimeout || status >= 500:
		return err
	default:
		return consumererror.NewPermanent(err)
	}
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func formatReason(body []byte) string {
	// A character cut at the limit becomes U+FFFD, like any invalid byte.
	reason := strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD"))
	if reason == "" {
		return ""
	}
	if len(body) == maxReasonBytes {
		reason += "…"
	}
	return ": " + reason
}

// isTLSRefusal reports a TLS handshake that failed on certificates or
// protocol: our verification of the gateway's certificate, or an alert from
// the gateway (no, expired or unknown client certificate, no common TLS
// version). Configuration, not the network, must change for a retry to
// succeed.
func isTLSRefusal(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		unknownAuth  x509.UnknownAuthorityError
		invalidCert  x509.CertificateInvalidError
		hostnameErr  x509.HostnameError
		recordHdrErr tls.RecordHeaderError
		opErr        *net.OpError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuth), errors.As(err, &invalidCert),
		errors.As(err, &hostnameErr), errors.As(err, &recordHdrErr):
		return true
	case errors.As(err, &opErr):
		// crypto/tls reports an alert received from the peer this way.
		return opErr.Op == "remote error"
	}
	return false
}

// redactURLError drops the request URL from a transport error: the error
// already names the group and the redacted endpoint, and the URL could carry
// userinfo.
func redactURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
