package testgateway

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcomeTB records how Binary ended a test instead of ending it.
type outcomeTB struct {
	testing.TB
	fatal, skip string
}

func (o *outcomeTB) Helper()           {}
func (o *outcomeTB) Fatal(args ...any) { o.fatal = fmt.Sprint(args...) }
func (o *outcomeTB) Skip(args ...any)  { o.skip = fmt.Sprint(args...) }

func TestMissingBinaryFailsInCIAndSkipsElsewhere(t *testing.T) {
	t.Setenv("PUSHGATEWAY_BIN", "")
	t.Setenv("PATH", t.TempDir())

	t.Setenv("CI", "true")
	ci := &outcomeTB{TB: t}
	assert.Empty(t, Binary(ci))
	assert.Contains(t, ci.fatal, "no Pushgateway binary")
	assert.Empty(t, ci.skip, "CI must never pass by skipping")

	t.Setenv("CI", "")
	dev := &outcomeTB{TB: t}
	assert.Empty(t, Binary(dev))
	assert.Contains(t, dev.skip, "no Pushgateway binary")
	assert.Empty(t, dev.fatal)
}

func TestBinaryFromEnvironment(t *testing.T) {
	t.Setenv("PUSHGATEWAY_BIN", "/opt/pushgateway")
	assert.Equal(t, "/opt/pushgateway", Binary(t))
}

func TestKillAndRestart(t *testing.T) {
	g := Start(t)
	g.Push(t, "PUT", "/metrics/job/a", "text/plain; version=0.0.4", "x 1\n")
	// Let the gateway write its persistence file (every 100ms) before the crash.
	time.Sleep(500 * time.Millisecond)

	g.Kill()
	_, err := http.Get(g.URL + "/-/ready")
	require.Error(t, err, "a killed gateway refuses connections")

	g.Restart(t, true)
	require.NotNil(t, g.Group(t, map[string]string{"job": "a"}), "the persisted group is back")

	g.Restart(t, false)
	assert.Nil(t, g.Group(t, map[string]string{"job": "a"}), "without its file the gateway starts empty")
}
