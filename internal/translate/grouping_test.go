package translate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
)

func resourceWith(attrs map[string]any) pcommon.Resource {
	res := pcommon.NewResource()
	testbatch.PutAttrs(res.Attributes(), attrs)
	return res
}

func TestGroupKeyFor(t *testing.T) {
	defaults := defaultGrouping()
	withExtras := defaults
	withExtras.Labels = []GroupingLabel{
		{Name: "env", Attribute: "deployment.environment.name"},
		{Name: "cluster", Attribute: "k8s.cluster.name"},
	}
	fixedJob := defaults
	fixedJob.Job = "nightly"
	hostInstance := defaults
	hostInstance.InstanceAttributes = []string{"host.name"}
	noInstance := defaults
	noInstance.InstanceAttributes = nil
	stableInstance := defaults
	stableInstance.InstanceAttributes = []string{"k8s.pod.name", "host.name"}

	tests := []struct {
		name  string
		cfg   Grouping
		attrs map[string]any
		want  string
	}{
		{"service name only", defaults, map[string]any{"service.name": "etl"}, `{job="etl"}`},
		{"namespace joins with a slash", defaults, map[string]any{"service.name": "etl", "service.namespace": "batch"}, `{job="batch/etl"}`},
		{"instance from service.instance.id", defaults, map[string]any{"service.name": "etl", "service.instance.id": "w-1"}, `{job="etl",instance="w-1"}`},
		{"no service.name", defaults, map[string]any{"host.name": "h"}, `{job="unknown_service"}`},
		{"fixed job wins", fixedJob, map[string]any{"service.name": "etl", "service.namespace": "batch"}, `{job="nightly"}`},
		{"instance from another attribute", hostInstance, map[string]any{"service.name": "etl", "service.instance.id": "w-1", "host.name": "h"}, `{job="etl",instance="h"}`},
		{"empty attributes add no label", withExtras, map[string]any{"service.name": "etl", "service.instance.id": "", "k8s.cluster.name": ""}, `{job="etl"}`},
		{"empty service.name", defaults, map[string]any{"service.name": "", "service.namespace": "batch"}, `{job="batch/unknown_service"}`},
		{"the first attribute present wins", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid", "host.name": "h", "k8s.pod.name": "p"}, `{job="etl",instance="p"}`},
		{"then the next", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid", "host.name": "h", "k8s.pod.name": ""}, `{job="etl",instance="h"}`},
		{"none of them: no instance", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid"}, `{job="etl"}`},
		{"instance disabled", noInstance, map[string]any{"service.name": "etl", "service.instance.id": "w-1"}, `{job="etl"}`},
		{
			"extra labels sorted after job, missing ones left out", withExtras,
			map[string]any{"service.name": "etl", "service.instance.id": "w-1", "deployment.environment.name": "prod"},
			`{job="etl",env="prod",instance="w-1"}`,
		},
		{
			"non-string attributes", withExtras,
			map[string]any{"service.name": "etl", "k8s.cluster.name": 42, "deployment.environment.name": true},
			`{job="etl",cluster="42",env="true"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, groupKeyFor(resourceWith(tt.attrs), tt.cfg).String())
		})
	}
}
