package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

const imageUser = "10001:10001"

// TestImage builds the container image from the built collector with
// buildah (deploy/Dockerfile's prebuilt path, pulling nothing), checks what
// is in it, runs it with podman on its default configuration, sends OTLP
// with the OTel Go SDK and reads the data back from a real Pushgateway.
func TestImage(t *testing.T) {
	const install = "scripts/install-container-tools.sh"
	tool(t, "buildah", install)
	podman := tool(t, "podman", install)
	collectorBinary(t) // build-image.sh takes _build/otelcol-pushgateway

	image := fmt.Sprintf("localhost/otelcol-pushgateway:test-%d", os.Getpid())
	build := exec.Command(filepath.Join(repoRoot(t), "scripts", "build-image.sh"))
	build.Env = append(os.Environ(), "IMAGE="+image, "CONTEXT_DIR="+t.TempDir())
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the image:\n%s", out)
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "--force", image).Run() })

	t.Run("config", func(t *testing.T) { checkImageConfig(t, podman, image) })
	t.Run("files", func(t *testing.T) { checkImageFiles(t, podman, image) })
	t.Run("run", func(t *testing.T) { runImage(t, podman, image) })
}

func checkImageConfig(t *testing.T, podman, image string) {
	out, err := exec.Command(podman, "image", "inspect", image).Output()
	require.NoError(t, err, "podman image inspect: %s", stderrOf(err))
	var inspected []struct {
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Cmd          []string
		}
	}
	require.NoError(t, json.Unmarshal(out, &inspected))
	require.Len(t, inspected, 1)
	cfg := inspected[0].Config
	assert.Equal(t, imageUser, cfg.User)
	assert.Equal(t, []string{"/otelcol-pushgateway"}, cfg.Entrypoint)
	assert.Equal(t, []string{"--config", "/etc/otelcol/config.yaml"}, cfg.Cmd)
	for _, port := range []string{"4317/tcp", "4318/tcp", "13133/tcp", "8888/tcp"} {
		assert.Contains(t, cfg.ExposedPorts, port)
	}
}

// checkImageFiles reads the image's file system (podman export of a
// container never started) and expects exactly the binary, the CA bundle
// and the default configuration, owned by root and read-only to the user
// the image runs as.
func checkImageFiles(t *testing.T, podman, image string) {
	name := fmt.Sprintf("otelcol-pushgateway-files-%d", os.Getpid())
	out, err := exec.Command(podman, "create", "--name", name, image).CombinedOutput()
	require.NoError(t, err, "podman create: %s", out)
	t.Cleanup(func() { _ = exec.Command(podman, "rm", "--force", name).Run() })
	export, err := exec.Command(podman, "export", name).Output()
	require.NoError(t, err, "podman export: %s", stderrOf(err))

	files := map[string]*tar.Header{}
	reader := tar.NewReader(bytes.NewReader(export))
	for {
		hdr, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if hdr.Typeflag == tar.TypeReg {
			files[hdr.Name] = hdr
		}
		if hdr.Name == "etc/otelcol/config.yaml" {
			config, err := io.ReadAll(reader)
			require.NoError(t, err)
			assert.Equal(t, string(readFile(t, "deploy/otelcol.yaml")), string(config))
		}
	}
	want := map[string]int64{
		"otelcol-pushgateway":               0o755,
		"etc/ssl/certs/ca-certificates.crt": 0o644,
		"etc/otelcol/config.yaml":           0o644,
	}
	assert.Len(t, files, len(want), "regular files in the image: %v", keys(files))
	for path, mode := range want {
		hdr, ok := files[path]
		if !assert.True(t, ok, "%s missing from the image; it holds %v", path, keys(files)) {
			continue
		}
		assert.Equal(t, mode, hdr.Mode&0o7777, "mode of %s", path)
		assert.Equal(t, 0, hdr.Uid, "owner of %s", path)
	}
	if hdr, ok := files["etc/ssl/certs/ca-certificates.crt"]; ok {
		assert.Greater(t, hdr.Size, int64(1000), "the CA bundle is empty")
	}
}

// runImage runs the image with its default configuration, the addresses
// moved by its environment variables to free 127.0.0.1 ports of the host's
// network (tests listen on nothing else).
func runImage(t *testing.T, podman, image string) {
	gateway := testgateway.Start(t)
	grpcAddr, httpAddr := testgateway.FreeAddr(t), testgateway.FreeAddr(t)
	healthAddr, telemetryAddr := testgateway.FreeAddr(t), testgateway.FreeAddr(t)
	telemetryPort := telemetryAddr[strings.LastIndex(telemetryAddr, ":")+1:]

	name := fmt.Sprintf("otelcol-pushgateway-run-%d", os.Getpid())
	args := append([]string{"run", "--detach", "--name", name}, podmanRunFlags(t)...)
	args = append(args,
		"--env", "PUSHGATEWAY_ENDPOINT="+gateway.URL,
		"--env", "OTLP_GRPC_LISTEN="+grpcAddr,
		"--env", "OTLP_HTTP_LISTEN="+httpAddr,
		"--env", "HEALTH_CHECK_LISTEN="+healthAddr,
		"--env", "TELEMETRY_LISTEN_HOST=127.0.0.1",
		"--env", "TELEMETRY_LISTEN_PORT="+telemetryPort,
		image)
	out, err := exec.Command(podman, args...).CombinedOutput()
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command(podman, "logs", name).CombinedOutput()
			t.Logf("collector container's log:\n%s", logs)
		}
		_ = exec.Command(podman, "rm", "--force", "--time", "5", name).Run()
	})
	if err != nil {
		t.Fatalf("the image was built, but podman cannot run a container here: %s\npodman %s\n%s",
			diagnoseRun(string(out)), strings.Join(args, " "), out)
	}

	waitHealthy(t, podman, name, "http://"+healthAddr+"/")

	// The process in the container runs as the image's user.
	pidText, err := exec.Command(podman, "inspect", "--format", "{{.State.Pid}}", name).Output()
	require.NoError(t, err, "podman inspect: %s", stderrOf(err))
	status, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pidText)), "status"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^Uid:\s+10001\s+10001\s+10001\s+10001$`, string(status))
	assert.Regexp(t, `(?m)^Gid:\s+10001\s+10001\s+10001\s+10001$`, string(status))

	sendGauge(t, httpAddr, "container", "run-1", 42)
	grp := gateway.WaitGroup(t, map[string]string{"job": "image-test/container", "instance": "run-1"}, 30*time.Second,
		func(g testgateway.Group) bool { _, ok := g.Families["batch_rows_ratio"]; return ok })
	require.Len(t, grp.Families["batch_rows_ratio"].Metrics, 1)
	assert.Equal(t, "42", grp.Families["batch_rows_ratio"].Metrics[0].Value)

	// Its own metrics are served where the environment said.
	body := testgateway.GetOK(t, "http://"+telemetryAddr+"/metrics")
	assert.Contains(t, body, `otelcol_exporter_pushgateway_pushes{`)
	assert.Regexp(t, `otelcol_exporter_pushgateway_pushes\{[^}]*outcome="success"[^}]*\} [1-9]`, body)
}

// podmanRunFlags are the flags the container needs on a host like CI's,
// each for a reason found there:
//   - --network host: the container reaches the test's gateway on
//     127.0.0.1 and listens where the test says, with no bridge network,
//     no iptables and no address outside the loopback;
//   - --runtime runc: podman's default, crun, refuses hosts whose cgroup v2
//     hierarchy holds controllers beside cgroup v1 ("cgroups in hybrid mode
//     not supported");
//   - --ulimit: podman asks the runtime to raise RLIMIT_NOFILE and
//     RLIMIT_NPROC above this host's hard limits, which needs
//     CAP_SYS_RESOURCE ("setrlimit `RLIMIT_NOFILE`: Operation not
//     permitted"); the test keeps open files at its own hard limit and
//     processes at 4096, plenty for the collector (this host refused its
//     own hard limit of processes too).
func podmanRunFlags(t *testing.T) []string {
	var nofile syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile))
	flags := []string{"--network", "host",
		"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Max, nofile.Max),
		"--ulimit", "nproc=4096:4096"}
	if _, err := exec.LookPath("runc"); err == nil {
		flags = append(flags, "--runtime", "runc")
	}
	return flags
}

// diagnoseRun says, from podman's output, why a container could not start
// on this host.
func diagnoseRun(out string) string {
	switch {
	case strings.Contains(out, "cgroups in hybrid mode not supported"):
		return "the OCI runtime crun refuses this host's hybrid cgroup v1/v2 layout; install runc (scripts/install-container-tools.sh does) so the test can use it"
	case strings.Contains(out, "setrlimit") || strings.Contains(out, "error setting rlimit"):
		return "the OCI runtime may not set the container's resource limits (RLIMIT_*): this process lacks CAP_SYS_RESOURCE and a requested limit is above its hard limit"
	case strings.Contains(out, "cgroup"):
		return "the OCI runtime cannot create the container's cgroup on this host"
	case strings.Contains(out, "unshare") || strings.Contains(out, "namespace"):
		return "the OCI runtime cannot create the container's namespaces here (no privilege for unshare/clone in this sandbox)"
	case strings.Contains(out, "overlay") || strings.Contains(out, "mount"):
		return "container storage cannot mount the image's layers here (try storage driver vfs in /etc/containers/storage.conf)"
	default:
		return "podman run failed for a reason this test does not recognise (see its output)"
	}
}

// waitHealthy polls the health check until it answers 200, failing early
// when the container has stopped.
func waitHealthy(t *testing.T, podman, name, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		state, _ := exec.Command(podman, "inspect", "--format", "{{.State.Status}}", name).Output()
		if s := strings.TrimSpace(string(state)); s != "running" && s != "created" {
			t.Fatalf("the collector container is %q before its health check answered", s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the health check %s did not answer 200 within 30s (last error: %v)", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sendGauge exports one gauge with the OTel Go SDK over OTLP/HTTP, as a
// batch job would: service image-test/<service>, instance <instance>.
func sendGauge(t *testing.T, httpAddr, service, instance string, value float64) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(httpAddr), otlpmetrichttp.WithInsecure())
	require.NoError(t, err)
	res := resource.NewSchemaless(
		attribute.String("service.namespace", "image-test"),
		attribute.String("service.name", service),
		attribute.String("service.instance.id", instance))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	_, err = provider.Meter("image-test").Float64ObservableGauge("batch.rows", metric.WithUnit("1"),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
			o.Observe(value)
			return nil
		}))
	require.NoError(t, err)
	require.NoError(t, provider.Shutdown(ctx), "exporting OTLP to %s", httpAddr)
}

func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return string(exitErr.Stderr)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
