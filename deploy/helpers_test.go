package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// repoRoot is the repository's root: the parent of deploy/.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return root
}

// collectorBinary is the ocb-built collector: $COLLECTOR_BIN (make deploy-test
// sets it), else the repository's _build/otelcol-pushgateway, built if missing.
func collectorBinary(t testing.TB) string {
	t.Helper()
	return testproc.Built(t, "COLLECTOR_BIN", repoRoot(t), "build", "_build/otelcol-pushgateway")
}

// tool returns the path of a program the test needs. Without it the test
// is skipped on a developer's machine and fails when CI is set: CI must
// never pass by skipping. install names what installs it.
func tool(t testing.TB, name, install string) string {
	t.Helper()
	return testproc.Program(t, "", []string{name}, "no "+name+" on PATH: "+install+" installs it (make tools runs it)")
}

// readFile reads a file relative to the repository's root.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	return data
}

// startProcess starts cmd with its output in logs and stops it when the
// test ends (SIGINT, then SIGKILL after 10 s), logging its output if the
// test failed. The returned channel is closed when the process exits.
func startProcess(tb testing.TB, cmd *exec.Cmd, name string, logs *testgateway.LockedBuffer) <-chan struct{} {
	tb.Helper()
	cmd.Stdout, cmd.Stderr = logs, logs
	testproc.DieWithParent(cmd)
	require.NoError(tb, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if tb.Failed() {
			tb.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return exited
}
