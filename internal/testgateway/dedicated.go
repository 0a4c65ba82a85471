package testgateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"
)

// A gateway started with --push.disable-consistency-check accepts any push
// that parses, answers it with 202 before applying it, and from then on
// fails every scrape if the push made what it holds inconsistent. The
// checking proxy in front of a dedicated gateway proves, push by push, that
// this did not happen: it forwards each PUT, POST and DELETE, waits until
// the gateway has applied it (the group's push time, or its absence, in a
// scrape), and checks a scrape of the gateway before it answers the
// client. The scrape must
//
//   - answer 200, in the text format and in protobuf;
//   - parse (expfmt's text parser, as Prometheus reads the text format);
//   - be whole: the text exposition holds every family the protobuf one
//     does (the text encoder stops at a family it cannot write, and the
//     gateway still answers 200);
//   - hold only what Prometheus can ingest (checkExposition): legacy names,
//     valid and unique label names, no le label on a histogram's series or
//     quantile on a summary's, no sample twice;
//   - leave `promtool check metrics` with nothing to say but the naming
//     lints of promtoolTolerated.
//
// A push that the gateway answered with 202 and then refused (it refuses
// timestamps even without the check) is a failure too: the client was told
// it succeeded. A failure names the write that caused it and fails the test
// at once; a gateway that stays broken is not reported again for every
// later write. Reads (GET) pass through unchecked. Writes are forwarded and
// checked one at a time, so a failure names exactly the write that caused
// it.
type checker struct {
	t        testing.TB
	g        *Gateway
	server   *httptest.Server
	client   *http.Client
	reads    *httputil.ReverseProxy
	promtool string

	// mu serialises writes with their checks.
	mu sync.Mutex

	statsMu  sync.Mutex
	writes   int
	checking time.Duration // spent waiting for writes and checking
	failures []string
	// broken holds the problems the last check found: a broken gateway
	// stays broken, and only the write that brought a problem is named.
	broken map[string]bool
}

// applyTimeout bounds the wait for the gateway to apply a write it
// answered with 202; checkTimeout a whole check.
const (
	applyTimeout = 10 * time.Second
	checkTimeout = 30 * time.Second
)

// Content types the checking proxy asks the gateway's /metrics for.
const (
	acceptText     = "text/plain; version=0.0.4"
	acceptProtobuf = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
)

func startChecker(t testing.TB, g *Gateway, promtool string) *checker {
	target, err := url.Parse(g.direct)
	if err != nil {
		t.Fatal(err)
	}
	// No keep-alive: a connection to a killed gateway is never reused.
	transport := &http.Transport{DisableKeepAlives: true}
	c := &checker{
		t:        t,
		g:        g,
		client:   &http.Client{Transport: transport, Timeout: checkTimeout},
		reads:    httputil.NewSingleHostReverseProxy(target),
		promtool: promtool,
	}
	c.reads.Transport = transport
	c.server = httptest.NewServer(c)
	return c
}

func (c *checker) url() string { return c.server.URL }

func (c *checker) close() {
	c.server.Close()
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	var mean time.Duration
	if c.writes > 0 {
		mean = c.checking / time.Duration(c.writes)
	}
	c.t.Logf("dedicated gateway: %d writes checked (%s each on average), %d failures", c.writes, mean.Round(time.Millisecond), len(c.failures))
}

// Checked returns how many writes the checking proxy of a dedicated gateway
// checked and the failures it found (each already failed the test).
func (g *Gateway) Checked() (writes int, failures []string) {
	if g.checker == nil {
		return 0, nil
	}
	c := g.checker
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.writes, append([]string(nil), c.failures...)
}

func (c *checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		c.reads.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "checking proxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	life := c.g.life()
	// The client may give up; the write and its check still complete.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), checkTimeout)
	defer cancel()
	since := time.Now()
	req, err := http.NewRequestWithContext(ctx, r.Method, c.g.direct+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "checking proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := c.client.Do(req)
	if err != nil {
		// The gateway is down: the client sees a broken connection, as it
		// would without the proxy.
		dropConnection(w)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	checkStart := time.Now()
	problem := c.check(ctx, r, resp.StatusCode, since)
	c.statsMu.Lock()
	c.writes++
	c.checking += time.Since(checkStart)
	c.statsMu.Unlock()
	write := fmt.Sprintf("%s %s answered %d %q", r.Method, r.URL.RequestURI(), resp.StatusCode, cut(answer))
	if problem != nil && c.g.life() != life {
		c.t.Logf("dedicated gateway: a Kill or Restart interrupted the check of %s: %v", write, problem)
	} else {
		c.report(write, problem)
	}

	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// report fails the test with the problems a check after write found that
// the check before did not.
func (c *checker) report(write string, problem error) {
	found := map[string]bool{}
	var fresh []string
	for _, p := range findings(problem) {
		found[p] = true
		if !c.broken[p] {
			fresh = append(fresh, p)
		}
	}
	switch {
	case len(fresh) > 0 && len(c.broken) > 0:
		c.fail(fmt.Sprintf("%s: %s (and it was broken before)", write, strings.Join(fresh, "; ")))
	case len(fresh) > 0:
		c.fail(fmt.Sprintf("%s: %s", write, strings.Join(fresh, "; ")))
	case len(found) > 0:
		c.t.Logf("dedicated gateway: still broken after %s", write)
	}
	c.broken = found
}

// findings splits a check's problem into the problems it lists: the
// errors of a scrape the gateway failed, the findings of checkExposition.
func findings(problem error) []string {
	if problem == nil {
		return nil
	}
	var scrape *scrapeError
	if errors.As(problem, &scrape) {
		return scrape.errs
	}
	var out []string
	for _, line := range strings.Split(problem.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// scrapeError is a scrape the gateway failed: it lists the errors of its
// gather (client_golang's MultiError: "N error(s) occurred:", then one
// "\n* " per error).
type scrapeError struct{ errs []string }

func (e *scrapeError) Error() string { return strings.Join(e.errs, "; ") }

func newScrapeError(path, status string, body []byte) *scrapeError {
	text := strings.TrimSpace(string(body))
	text = strings.TrimSpace(strings.TrimPrefix(text, "An error has occurred while serving metrics:"))
	e := &scrapeError{}
	items := strings.Split(text, "\n* ")
	if len(items) > 1 && strings.HasSuffix(items[0], "error(s) occurred:") {
		items = items[1:]
	}
	for _, item := range items {
		e.errs = append(e.errs, fmt.Sprintf("GET %s: %s: %s", path, status, cut([]byte(item))))
	}
	return e
}

func (c *checker) fail(msg string) {
	c.statsMu.Lock()
	c.failures = append(c.failures, msg)
	c.statsMu.Unlock()
	c.t.Errorf("dedicated gateway: %s", msg)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	http.Error(w, "checking proxy: the gateway is down", http.StatusBadGateway)
}

// cut makes an answer one line of at most 512 bytes.
func cut(b []byte) string {
	const max = 512
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// check waits until the gateway applied the write r (answered with status
// at since), then scrapes it. It returns what is wrong, or nil.
func (c *checker) check(ctx context.Context, r *http.Request, status int, since time.Time) error {
	fams, err := c.scrapeProtobuf(ctx)
	if status == http.StatusAccepted {
		// The gateway applies a write after answering it. Its push time
		// (or the group's absence) in a scrape says it has; a failed
		// scrape says so too, as the last check passed and nothing else
		// writes. The protobuf exposition shows it even where the text
		// one is cut short.
		labels, perr := groupOfPath(r.URL.Path)
		if perr != nil {
			return fmt.Errorf("the gateway answered 202 to a path the checking proxy cannot read: %w", perr)
		}
		deadline := time.Now().Add(applyTimeout)
		for wait := time.Millisecond; err == nil; wait = min(2*wait, 50*time.Millisecond) {
			applied, refused := appliedIn(fams, r.Method, labels, since)
			if refused {
				return errors.New("the gateway answered 202, then refused the push (it set push_failure_time_seconds): the client was told it succeeded")
			}
			if applied {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the gateway answered 202 but had not applied the write to group %v after %s", labels, applyTimeout)
			}
			time.Sleep(wait)
			fams, err = c.scrapeProtobuf(ctx)
		}
	}
	if err != nil {
		return err
	}
	text, parsed, err := c.scrapeText(ctx)
	if err != nil {
		return err
	}
	if err := checkComplete(parsed, fams); err != nil {
		return err
	}
	if err := checkExposition(fams); err != nil {
		return err
	}
	return c.runPromtool(ctx, text)
}

// scrapeProtobuf scrapes the gateway in protobuf.
func (c *checker) scrapeProtobuf(ctx context.Context) ([]*dto.MetricFamily, error) {
	body, contentType, err := c.get(ctx, "/metrics", acceptProtobuf)
	if err != nil {
		return nil, err
	}
	return decodeDelimited(body, contentType)
}

// scrapeText scrapes the gateway in the text format and parses it as
// Prometheus (2.42, legacy names) reads it.
func (c *checker) scrapeText(ctx context.Context) ([]byte, map[string]*dto.MetricFamily, error) {
	text, contentType, err := c.get(ctx, "/metrics", acceptText)
	if err != nil {
		return nil, nil, err
	}
	if format := expfmt.ResponseFormat(http.Header{"Content-Type": {contentType}}); format.FormatType() != expfmt.TypeTextPlain {
		return nil, nil, fmt.Errorf("GET /metrics asking for text: Content-Type %q", contentType)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	parsed, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, nil, fmt.Errorf("the text exposition does not parse: %w", err)
	}
	return text, parsed, nil
}

// The families the gateway writes into every group itself: when it last
// applied a push to the group, when it last refused one (Unix seconds).
const (
	pushTime        = "push_time_seconds"
	pushFailureTime = "push_failure_time_seconds"
)

// appliedIn says whether a scrape shows the write method to the group
// labels, answered at since, applied: a delete by the group's absence, a
// push by its push time, or refused, by its push failure time.
func appliedIn(fams []*dto.MetricFamily, method string, labels map[string]string, since time.Time) (applied, refused bool) {
	at := func(name string) float64 {
		for _, mf := range fams {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				if sameGroup(m.GetLabel(), labels) {
					return m.GetGauge().GetValue()
				}
			}
		}
		return -1 // no such group
	}
	// The gateway's own conversion, which keeps the order of times.
	sinceSeconds := float64(since.UnixNano()) / 1e9
	if method == http.MethodDelete {
		return at(pushTime) < 0, false
	}
	return at(pushTime) >= sinceSeconds, at(pushFailureTime) >= sinceSeconds
}

// sameGroup says a series of the gateway's push time gauges belongs to the
// group labels: it carries the grouping labels and nothing else but an
// empty instance, which the gateway adds to a group without one.
func sameGroup(pairs []*dto.LabelPair, labels map[string]string) bool {
	n := 0
	for _, p := range pairs {
		v, ok := labels[p.GetName()]
		switch {
		case ok && v == p.GetValue():
			n++
		case !ok && p.GetName() == "instance" && p.GetValue() == "":
		default:
			return false
		}
	}
	return n == len(labels)
}

// groupOfPath reads a push or delete path's grouping key as the gateway
// does (1.5.1, handler/push.go): job, then name/value pairs, a name ending
// in @base64 marking a base64url value.
func groupOfPath(path string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(path, "/metrics/")
	if !ok {
		return nil, fmt.Errorf("%q is not under /metrics/", path)
	}
	parts := strings.Split(rest, "/")
	if len(parts)%2 != 0 || len(parts) < 2 {
		return nil, fmt.Errorf("%q: an odd number of path segments", path)
	}
	labels := map[string]string{}
	for i := 0; i < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if plain, ok := strings.CutSuffix(name, "@base64"); ok {
			decoded, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			if err != nil {
				return nil, fmt.Errorf("%q: label %s: %w", path, plain, err)
			}
			name, value = plain, string(decoded)
		}
		if i == 0 && name != "job" {
			return nil, fmt.Errorf("%q does not start with job", path)
		}
		labels[name] = value
	}
	return labels, nil
}

// get reads path from the gateway itself; accept, when set, is the
// content type asked for. It returns the body and its content type.
func (c *checker) get(ctx context.Context, path, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.g.direct+path, nil)
	if err != nil {
		return nil, "", err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", newScrapeError(path, resp.Status, body)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// checkComplete says whether the text exposition holds every family the
// protobuf one does: the text encoder stops at a family it cannot write
// (one without a name, a type it does not know), and the gateway still
// answers 200 with what it wrote until then.
func checkComplete(parsed map[string]*dto.MetricFamily, fams []*dto.MetricFamily) error {
	for _, mf := range fams {
		if len(mf.GetMetric()) > 0 && parsed[mf.GetName()] == nil {
			return fmt.Errorf("the text exposition lacks family %q (%s), which the protobuf one has: it was cut short", mf.GetName(), mf.GetType())
		}
	}
	return nil
}

// decodeDelimited decodes a protobuf exposition as it is, names included
// (expfmt's decoder would validate or unescape them).
func decodeDelimited(body []byte, contentType string) ([]*dto.MetricFamily, error) {
	format := expfmt.ResponseFormat(http.Header{"Content-Type": {contentType}})
	if format.FormatType() != expfmt.TypeProtoDelim {
		return nil, fmt.Errorf("GET /metrics asking for protobuf: Content-Type %q", contentType)
	}
	r := bufio.NewReader(bytes.NewReader(body))
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := protodelim.UnmarshalFrom(r, mf); errors.Is(err, io.EOF) {
			return fams, nil
		} else if err != nil {
			return nil, fmt.Errorf("the protobuf exposition does not decode after %d families: %w", len(fams), err)
		}
		fams = append(fams, mf)
	}
}
