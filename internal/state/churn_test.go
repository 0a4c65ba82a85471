package state

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

func TestInstanceChurn(t *testing.T) {
	c := NewInstanceChurn()
	job := func(instance string) prom.GroupKey {
		return prom.GroupKey{{Name: prom.JobLabel, Value: "nightly"}, {Name: prom.InstanceLabel, Value: instance}}
	}
	assert.Zero(t, c.Observe(job("run-1"), 1, 10, true))
	assert.Equal(t, 1, c.Observe(job("run-2"), 20, 30, true), "a new instance after the last one ended")
	assert.Equal(t, 2, c.Observe(job("run-3"), 40, 50, true))
	assert.Zero(t, c.Observe(job("run-4"), 45, 60, true), "started before run-3 ended: both ran, not a churn")
	assert.Zero(t, c.Observe(job("run-4"), 70, 80, false), "more data of a group already held")
	assert.Zero(t, c.Observe(job("run-4"), 90, 100, true), "the same instance again: ids are stable")
	assert.Zero(t, c.Observe(prom.GroupKey{{Name: prom.JobLabel, Value: "no-instance"}}, 1, 2, true))
}
