package testgateway

import (
	"encoding/json"
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

func (o *outcomeTB) Helper()                   {}
func (o *outcomeTB) Fatal(args ...any)         { o.fatal = fmt.Sprint(args...) }
func (o *outcomeTB) Fatalf(f string, a ...any) { o.fatal = fmt.Sprintf(f, a...) }
func (o *outcomeTB) Skip(args ...any)          { o.skip = fmt.Sprint(args...) }

func TestMissingProgramsFailInCIAndSkipElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name, env, why string
		find           func(testing.TB) string
	}{
		{"pushgateway", "PUSHGATEWAY_BIN", "no Pushgateway binary", Binary},
		{"promtool", "PROMTOOL_BIN", "no promtool", Promtool},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.env, "")
			t.Setenv("PATH", t.TempDir())

			t.Setenv("CI", "true")
			ci := &outcomeTB{TB: t}
			assert.Empty(t, tc.find(ci))
			assert.Contains(t, ci.fatal, tc.why)
			assert.Empty(t, ci.skip, "CI must never pass by skipping")

			t.Setenv("CI", "")
			dev := &outcomeTB{TB: t}
			assert.Empty(t, tc.find(dev))
			assert.Contains(t, dev.skip, tc.why)
			assert.Empty(t, dev.fatal)
		})
	}
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

// statusFlags is the gateway's command line as its /api/v1/status reports
// it, so the test checks the running process, not the arguments we built.
func statusFlags(t *testing.T, g *Gateway) map[string]string {
	t.Helper()
	var status struct {
		Data struct {
			Flags map[string]string `json:"flags"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(g.get(t, "/api/v1/status"), &status))
	return status.Data.Flags
}

func TestPersistenceInterval(t *testing.T) {
	assert.Equal(t, "100ms", statusFlags(t, Start(t))["persistence.interval"],
		"tests persist every 100ms unless they ask otherwise")
	assert.Equal(t, "5m0s", statusFlags(t, StartWith(t, Options{DefaultPersistenceInterval: true}))["persistence.interval"],
		"the gateway's own default, as deployed")
}
