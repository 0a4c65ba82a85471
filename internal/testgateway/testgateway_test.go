package testgateway

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
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
