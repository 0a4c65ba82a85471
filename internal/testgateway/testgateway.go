// Package testgateway starts a real Prometheus Pushgateway process for a
// test and reads back what it stored.
//
// The binary is $PUSHGATEWAY_BIN, else prometheus-pushgateway or pushgateway
// on PATH. Without one a test is skipped on a developer's machine and fails
// when CI is set: CI must never pass by skipping.
//
// A dedicated gateway (Options.Dedicated, or PUSHGATEWAY_DEDICATED=1 for
// every gateway a suite starts without a web config) runs with
// --push.disable-consistency-check behind a proxy that checks, after every
// write, that the gateway can still be scraped (see dedicated.go).
package testgateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// Gateway is one running Pushgateway.
type Gateway struct {
	// URL is the gateway's base URL, http://127.0.0.1:<port>: for a
	// dedicated gateway, its checking proxy's.
	URL string
	// PersistenceFile is the gateway's own persistence file.
	PersistenceFile string
	// Dedicated says the gateway runs without its consistency check, behind
	// a checking proxy: it answers a push with 202 before applying it.
	Dedicated bool

	t       testing.TB
	opts    Options
	bin     string
	addr    string
	direct  string // the gateway's own base URL, without the proxy
	args    []string
	cmd     *exec.Cmd
	output  *LockedBuffer
	done    chan struct{}
	checker *checker

	// lives counts the gateway's starts and kills, so the checking proxy
	// can tell a check that a Kill or Restart interrupted.
	livesMu sync.Mutex
	lives   int
}

// Binary returns the Pushgateway binary, skipping the test (or failing it
// in CI) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	return testproc.Program(t, "PUSHGATEWAY_BIN", []string{"prometheus-pushgateway", "pushgateway"},
		"no Pushgateway binary: set PUSHGATEWAY_BIN or install prometheus-pushgateway (make tools does)")
}

// Options change how StartWith runs the gateway.
type Options struct {
	// WebConfig, when set, is the content of the gateway's
	// --web.config.file (TLS, client certificates, basic auth users).
	WebConfig string
	// TLS makes the URL https; Client must then trust the gateway.
	TLS bool
	// Client reads from the gateway (readiness, Groups, Scrape, Push).
	// Default: http.DefaultClient.
	Client *http.Client
	// Username and Password, when set, go with every read as basic auth.
	Username, Password string
	// Args go to the gateway's command line.
	Args []string
	// DefaultPersistenceInterval leaves --persistence.interval at the
	// gateway's own default (5m, as in a deployment) instead of 100ms, so
	// that a benchmark does not bill the gateway for persisting every
	// 100ms. The gateway still persists when it stops.
	DefaultPersistenceInterval bool
	// Dedicated runs the gateway with --push.disable-consistency-check
	// behind a checking proxy (see dedicated.go); URL is then the proxy's.
	// PUSHGATEWAY_DEDICATED=1 sets it for every gateway without WebConfig.
	// It cannot go with WebConfig: the proxy speaks plain HTTP.
	Dedicated bool
	// Direct starts an ordinary gateway, reached directly, whatever
	// PUSHGATEWAY_DEDICATED says: for a test whose timing a checking proxy,
	// which serialises and checks every write, would distort.
	Direct bool
}

// DedicatedEnv is the environment variable that makes Start and StartWith
// start dedicated gateways (when true, e.g. 1), except those with a web
// config, which tests reach directly.
const DedicatedEnv = "PUSHGATEWAY_DEDICATED"

// dedicatedFromEnv reads DedicatedEnv; a value that is not a boolean fails
// the test rather than silently running the suite unchecked.
func dedicatedFromEnv(t testing.TB) bool {
	t.Helper()
	v := os.Getenv(DedicatedEnv)
	if v == "" {
		return false
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		t.Fatalf("%s=%q: want 1, true, 0 or false", DedicatedEnv, v)
	}
	return on
}

// Start runs a Pushgateway on a free 127.0.0.1 port with a persistence file
// in the test's temp dir, waits until it is ready and stops it when the
// test ends. extraArgs go to the gateway's command line.
func Start(t testing.TB, extraArgs ...string) *Gateway {
	t.Helper()
	return StartWith(t, Options{Args: extraArgs})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Gateway {
	t.Helper()
	bin := Binary(t)
	if opts.Dedicated && (opts.WebConfig != "" || opts.Direct) {
		t.Fatal("a dedicated gateway is reached through its checking proxy, which speaks plain HTTP: it cannot have a web config or be direct")
		return nil
	}
	opts.Dedicated = opts.Dedicated || (opts.WebConfig == "" && !opts.Direct && dedicatedFromEnv(t))
	var promtool string
	if opts.Dedicated {
		promtool = Promtool(t)
	}
	dir := t.TempDir()
	persistence := filepath.Join(dir, "pushgateway.data")
	args := append([]string(nil), opts.Args...)
	if opts.Dedicated {
		args = append(args, "--push.disable-consistency-check")
	}
	if opts.WebConfig != "" {
		webConfig := filepath.Join(dir, "web-config.yml")
		if err := os.WriteFile(webConfig, []byte(opts.WebConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--web.config.file="+webConfig)
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	scheme := "http://"
	if opts.TLS {
		scheme = "https://"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		g := &Gateway{
			URL:             scheme + addr,
			PersistenceFile: persistence,
			Dedicated:       opts.Dedicated,
			t:               t,
			opts:            opts,
			bin:             bin,
			addr:            addr,
			direct:          scheme + addr,
			args:            args,
			output:          &LockedBuffer{},
		}
		if lastErr = g.start(); lastErr == nil {
			t.Cleanup(g.Stop)
			if opts.Dedicated {
				// Registered after Stop, so it runs first: the proxy
				// closes before the gateway stops.
				g.checker = startChecker(t, g, promtool)
				g.URL = g.checker.url()
				t.Cleanup(g.checker.close)
			}
			return g
		}
	}
	t.Fatalf("starting %s: %v", bin, lastErr)
	return nil
}

func (g *Gateway) start() error {
	args := []string{
		"--web.listen-address=" + g.addr,
		"--persistence.file=" + g.PersistenceFile,
	}
	if !g.opts.DefaultPersistenceInterval {
		args = append(args, "--persistence.interval=100ms")
	}
	args = append(args, g.args...)
	cmd := exec.Command(g.bin, args...)
	cmd.Stdout, cmd.Stderr = g.output, g.output
	testproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	g.livesMu.Lock()
	g.lives++
	g.livesMu.Unlock()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	g.cmd, g.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			return fmt.Errorf("exited before it was ready:\n%s", g.output.String())
		default:
		}
		resp, err := g.do(http.MethodGet, "/-/ready", "", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.Stop()
	return fmt.Errorf("not ready after 10s:\n%s", g.output.String())
}

// PID is the process id of the running gateway (a new one after Restart),
// for reading its resource use from /proc.
func (g *Gateway) PID() int {
	return g.cmd.Process.Pid
}

// life returns the count of the gateway's starts and kills so far.
func (g *Gateway) life() int {
	g.livesMu.Lock()
	defer g.livesMu.Unlock()
	return g.lives
}

// do sends a request to the gateway itself (not through a checking proxy)
// with the options' client and credentials.
func (g *Gateway) do(method, path, contentType string, body io.Reader) (*http.Response, error) {
	return g.doAt(g.direct, method, path, contentType, body)
}

func (g *Gateway) doAt(base, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if g.opts.Username != "" || g.opts.Password != "" {
		req.SetBasicAuth(g.opts.Username, g.opts.Password)
	}
	return g.opts.Client.Do(req)
}

// Kill ends the gateway with SIGKILL, as a crash would: what it had not
// yet written to its persistence file (every 100ms unless
// DefaultPersistenceInterval) is lost. Its address
// then refuses connections until Restart.
func (g *Gateway) Kill() {
	select {
	case <-g.done:
		return
	default:
	}
	g.livesMu.Lock()
	g.lives++
	g.livesMu.Unlock()
	_ = g.cmd.Process.Kill()
	<-g.done
}

// Restart starts a stopped or killed gateway again on the same address,
// with its persistence file (keepPersistence) or empty, and waits until it
// is ready.
func (g *Gateway) Restart(t testing.TB, keepPersistence bool) {
	t.Helper()
	g.Kill()
	if !keepPersistence {
		if err := os.Remove(g.PersistenceFile); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	var err error
	// The port was ours a moment ago; a stray connection can hold it briefly.
	for attempt := 0; attempt < 20; attempt++ {
		if err = g.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restarting the gateway on %s: %v", g.addr, err)
}

// Stop ends the gateway (SIGTERM, then SIGKILL after 5s) and logs its
// output when the test failed.
func (g *Gateway) Stop() {
	select {
	case <-g.done:
		return
	default:
	}
	_ = g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
	if g.t.Failed() {
		g.t.Logf("pushgateway output:\n%s", g.output.String())
	}
}

// Group returns the group with exactly these labels, or nil.
func (g *Gateway) Group(t testing.TB, labels map[string]string) *Group {
	t.Helper()
	for _, grp := range g.Groups(t) {
		if equalLabels(grp.Labels, labels) {
			return &grp
		}
	}
	return nil
}

// WaitGroup polls until the group with exactly these labels exists and
// satisfies ready (nil: any content), or fails the test after timeout.
func (g *Gateway) WaitGroup(t testing.TB, labels map[string]string, timeout time.Duration, ready func(Group) bool) Group {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		grp := g.Group(t, labels)
		if grp != nil && (ready == nil || ready(*grp)) {
			return *grp
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %v not as expected after %s; gateway holds %+v", labels, timeout, g.Groups(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitNoGroup polls until the gateway holds no group with exactly these
// labels, or fails the test after timeout. The gateway answers a DELETE
// with 202 before it applies it, so a test that checks a delete waits.
func (g *Gateway) WaitNoGroup(t testing.TB, labels map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for g.Group(t, labels) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("group %v still held after %s", labels, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Scrape returns the gateway's /metrics, parsed, as Prometheus would see it.
func (g *Gateway) Scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(g.get(t, "/metrics")))
	if err != nil {
		t.Fatalf("parsing the gateway's /metrics: %v", err)
	}
	return fams
}

// ScrapeProtobuf returns the gateway's /metrics in delimited protobuf, as
// Prometheus scrapes it when it wants native histograms (the text format
// and /api/v1/metrics show none of their buckets).
func (g *Gateway) ScrapeProtobuf(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.direct+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", acceptProtobuf)
	if g.opts.Username != "" || g.opts.Password != "" {
		req.SetBasicAuth(g.opts.Username, g.opts.Password)
	}
	resp, err := g.opts.Client.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.google.protobuf") {
		t.Fatalf("GET /metrics in protobuf: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.NewFormat(expfmt.TypeProtoDelim))
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return fams
		} else if err != nil {
			t.Fatalf("decoding the gateway's protobuf exposition: %v", err)
		}
		fams[mf.GetName()] = mf
	}
}

// Push sends a raw body to the gateway, as another pusher would (through
// the checking proxy of a dedicated gateway).
func (g *Gateway) Push(t testing.TB, method, path, contentType, body string) {
	t.Helper()
	resp, err := g.doAt(g.URL, method, path, contentType, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
}

func (g *Gateway) get(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := g.do(http.MethodGet, path, "", nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", path, resp.Status, err, body)
	}
	return body
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// GetOK returns the body of a GET of url (a server a test started: a
// collector's own metrics, Prometheus' API) and fails the test unless the
// answer is 200.
func GetOK(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body)
}

// LockedBuffer collects a child process's output safely across goroutines.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
