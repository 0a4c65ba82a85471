package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// manifests is every object of deploy/kubernetes, decoded strictly.
type manifests struct {
	configMaps      map[string]*corev1.ConfigMap
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	claims          map[string]*corev1.PersistentVolumeClaim
	cronJobs        map[string]*batchv1.CronJob
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
	podMonitors     map[string]*monitoringv1.PodMonitor
	rules           map[string]*monitoringv1.PrometheusRule
}

// loadManifests decodes every document of every deploy/kubernetes/*.yaml
// into its Kubernetes API type. Unknown fields, duplicate fields, unknown
// kinds and duplicate names are errors.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		configMaps:      map[string]*corev1.ConfigMap{},
		deployments:     map[string]*appsv1.Deployment{},
		services:        map[string]*corev1.Service{},
		claims:          map[string]*corev1.PersistentVolumeClaim{},
		cronJobs:        map[string]*batchv1.CronJob{},
		serviceMonitors: map[string]*monitoringv1.ServiceMonitor{},
		podMonitors:     map[string]*monitoringv1.PodMonitor{},
		rules:           map[string]*monitoringv1.PrometheusRule{},
	}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "deploy", "kubernetes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for i, doc := range splitDocuments(t, data) {
			where := fmt.Sprintf("%s, document %d", filepath.Base(file), i+1)
			require.NoError(t, m.add(doc), where)
		}
	}
	return m
}

func (m *manifests) add(doc []byte) error {
	var typeMeta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &typeMeta); err != nil {
		return err
	}
	switch typeMeta.APIVersion + " " + typeMeta.Kind {
	case "v1 ConfigMap":
		return decodeInto(doc, m.configMaps)
	case "apps/v1 Deployment":
		return decodeInto(doc, m.deployments)
	case "v1 Service":
		return decodeInto(doc, m.services)
	case "v1 PersistentVolumeClaim":
		return decodeInto(doc, m.claims)
	case "batch/v1 CronJob":
		return decodeInto(doc, m.cronJobs)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return decodeInto(doc, m.serviceMonitors)
	case "monitoring.coreos.com/v1 PodMonitor":
		return decodeInto(doc, m.podMonitors)
	case "monitoring.coreos.com/v1 PrometheusRule":
		return decodeInto(doc, m.rules)
	default:
		return fmt.Errorf("unexpected kind %q of API version %q", typeMeta.Kind, typeMeta.APIVersion)
	}
}

// object is what every decoded manifest is: a pointer to an API type with
// object metadata.
type object[T any] interface {
	*T
	metav1.Object
}

func decodeInto[T any, P object[T]](doc []byte, into map[string]P) error {
	obj := P(new(T))
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return err
	}
	name := obj.GetName()
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s", name, strings.Join(errs, "; "))
	}
	if _, dup := into[name]; dup {
		return fmt.Errorf("two objects of one kind named %q", name)
	}
	for key, value := range obj.GetLabels() {
		if errs := append(validation.IsQualifiedName(key), validation.IsValidLabelValue(value)...); len(errs) > 0 {
			return fmt.Errorf("label %s=%s: %s", key, value, strings.Join(errs, "; "))
		}
	}
	into[name] = obj
	return nil
}

// splitDocuments cuts a YAML stream at its "---" lines, dropping empty
// documents (comments only).
func splitDocuments(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		var probe any
		require.NoError(t, yaml.Unmarshal(cur.Bytes(), &probe))
		if probe != nil {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		if strings.TrimRight(scanner.Text(), " ") == "---" {
			flush()
			continue
		}
		cur.Write(scanner.Bytes())
		cur.WriteByte('\n')
	}
	require.NoError(t, scanner.Err())
	flush()
	return docs
}

// TestManifestsDecodeStrictly shows the strict decoding refuses what the
// manifests must never have, so that the wiring tests below read what
// Kubernetes would.
func TestManifestsDecodeStrictly(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n",
		"duplicate field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {type: ClusterIP, type: NodePort}\n",
		"unknown kind":    "apiVersion: v1\nkind: Servce\nmetadata: {name: x}\n",
		"invalid name":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: X_y}\n",
		"operator CRD field": "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\n" +
			"spec: {selector: {}, endpoints: [{port: http, honor_labels: true}]}\n",
	} {
		t.Run(name, func(t *testing.T) {
			m := &manifests{services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
				serviceMonitors: map[string]*monitoringv1.ServiceMonitor{}}
			assert.Error(t, m.add([]byte(doc)))
		})
	}
}

func TestManifests(t *testing.T) {
	m := loadManifests(t)
	collectorBin := collectorBinary(t)

	t.Run("collector", func(t *testing.T) { checkCollector(t, m, collectorBin) })
	t.Run("pushgateway", func(t *testing.T) { checkPushgateway(t, m) })
	t.Run("monitors", func(t *testing.T) { checkMonitors(t, m) })
	t.Run("cronjob", func(t *testing.T) { checkCronJob(t, m) })
	t.Run("prometheus", func(t *testing.T) { checkScrapeConfig(t, m) })
	t.Run("helm", func(t *testing.T) { checkHelmValues(t, m, collectorBin) })
}

func checkCollector(t *testing.T, m *manifests, collectorBin string) {
	deploy := mustGet(t, m.deployments, "otelcol-pushgateway")
	svc := mustGet(t, m.services, "otelcol-pushgateway")
	checkSelectors(t, deploy, svc)
	assert.Equal(t, int32(1), *deploy.Spec.Replicas, "one replica: two would overwrite each other's pushes")
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, deploy.Spec.Strategy.Type)

	pod := deploy.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.True(t, strings.HasSuffix(imageRepository(c.Image), "/otelcol-pushgateway"), "image %s", c.Image)

	// The image's user, as the Dockerfile sets it.
	require.NotNil(t, pod.SecurityContext)
	assert.Equal(t, dockerfileUser(t), fmt.Sprintf("%d:%d", *pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup))
	require.NotNil(t, c.SecurityContext)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)

	// The configuration: the file the arguments name is a key of the
	// mounted ConfigMap, and the built collector accepts it.
	configPath := argAfter(t, c.Args, "--config")
	volume, key := mountedFile(t, pod, c, configPath)
	require.NotNil(t, volume.ConfigMap, "volume %s of %s is not a ConfigMap", volume.Name, configPath)
	cm := mustGet(t, m.configMaps, volume.ConfigMap.Name)
	config, ok := cm.Data[key]
	require.True(t, ok, "ConfigMap %s has no key %s (the file %s)", cm.Name, key, configPath)
	validateConfig(t, collectorBin, config, nil)
	cfg := parseYAMLMap(t, config)

	// Every port the configuration listens on is a container port of the
	// right name, and every Service port leads to one.
	ports := containerPorts(c)
	assert.Equal(t, ports["otlp-grpc"], endpointPort(t, dig(t, cfg, "receivers", "otlp", "protocols", "grpc", "endpoint")))
	assert.Equal(t, ports["otlp-http"], endpointPort(t, dig(t, cfg, "receivers", "otlp", "protocols", "http", "endpoint")))
	assert.Equal(t, ports["health"], endpointPort(t, dig(t, cfg, "extensions", "health_check", "endpoint")))
	assert.Equal(t, ports["metrics"], toInt32(t, dig(t, cfg, "service", "telemetry", "metrics", "readers", 0, "pull", "exporter", "prometheus", "port")))
	assert.Contains(t, dig(t, cfg, "service", "extensions"), "health_check")
	checkServicePorts(t, svc, c)
	assert.Equal(t, int32(4317), servicePort(t, svc, "otlp-grpc").Port)
	assert.Equal(t, int32(4318), servicePort(t, svc, "otlp-http").Port)

	// The probes ask the health check.
	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		require.NotNil(t, probe, "%s probe", name)
		require.NotNil(t, probe.HTTPGet, "%s probe", name)
		assert.Equal(t, ports["health"], resolvePort(t, c, probe.HTTPGet.Port), "%s probe port", name)
		assert.Equal(t, "/", probe.HTTPGet.Path, "%s probe path", name)
	}

	// The exporter sends to the Pushgateway's Service.
	gateway := mustGet(t, m.services, "pushgateway")
	endpoint, err := url.Parse(dig(t, cfg, "exporters", "pushgateway", "endpoint").(string))
	require.NoError(t, err)
	assert.Equal(t, gateway.Name, endpoint.Hostname())
	assert.Equal(t, strconv.Itoa(int(servicePort(t, gateway, "http").Port)), endpoint.Port())

	// Resources: requests for both, a memory limit above the request, and
	// GOMEMLIMIT below the limit.
	req, lim := c.Resources.Requests, c.Resources.Limits
	require.False(t, req.Cpu().IsZero(), "CPU request")
	require.False(t, req.Memory().IsZero(), "memory request")
	require.False(t, lim.Memory().IsZero(), "memory limit")
	assert.Equal(t, 1, lim.Memory().Cmp(*req.Memory()), "memory limit above the request")
	goMemLimit := resource.MustParse(strings.TrimSuffix(envValue(t, c, "GOMEMLIMIT"), "B"))
	assert.Equal(t, -1, goMemLimit.Cmp(*lim.Memory()), "GOMEMLIMIT below the memory limit")
	assert.Equal(t, 1, goMemLimit.Cmp(*req.Memory()), "GOMEMLIMIT above the memory request")
}

func checkPushgateway(t *testing.T, m *manifests) {
	deploy := mustGet(t, m.deployments, "pushgateway")
	svc := mustGet(t, m.services, "pushgateway")
	checkSelectors(t, deploy, svc)
	assert.Equal(t, int32(1), *deploy.Spec.Replicas)
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, deploy.Spec.Strategy.Type, "one writer of the volume at a time")

	pod := deploy.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	checkServicePorts(t, svc, c)
	assert.Equal(t, int32(9091), containerPorts(c)["http"])

	// The persistence file lies on the PersistentVolumeClaim.
	persistence := flagValue(t, c.Args, "--persistence.file")
	volume, _ := mountedFile(t, pod, c, persistence)
	require.NotNil(t, volume.PersistentVolumeClaim, "the persistence file %s is not on a PersistentVolumeClaim", persistence)
	claim := mustGet(t, m.claims, volume.PersistentVolumeClaim.ClaimName)
	assert.Contains(t, claim.Spec.AccessModes, corev1.ReadWriteOnce)
	assert.False(t, claim.Spec.Resources.Requests.Storage().IsZero())
	for _, mount := range c.VolumeMounts {
		if mount.Name == volume.Name {
			assert.False(t, mount.ReadOnly, "the persistence volume is mounted read-only")
		}
	}
	require.NotNil(t, pod.SecurityContext)
	require.NotNil(t, pod.SecurityContext.FSGroup, "without fsGroup the gateway's user may not write the volume")

	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		require.NotNil(t, probe, "%s probe", name)
		require.NotNil(t, probe.HTTPGet, "%s probe", name)
		assert.Equal(t, int32(9091), resolvePort(t, c, probe.HTTPGet.Port), "%s probe port", name)
	}
	assert.Equal(t, "/-/ready", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, "/-/healthy", c.LivenessProbe.HTTPGet.Path)
	assert.False(t, c.Resources.Requests.Memory().IsZero(), "memory request")
}

func checkMonitors(t *testing.T, m *manifests) {
	// The Pushgateway is scraped with honorLabels, through its Service.
	sm := mustGet(t, m.serviceMonitors, "pushgateway")
	gateway := mustGet(t, m.services, "pushgateway")
	selector, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(gateway.Labels)), "the ServiceMonitor does not select the Service's labels %v", gateway.Labels)
	require.Len(t, sm.Spec.Endpoints, 1)
	assert.True(t, sm.Spec.Endpoints[0].HonorLabels, "honorLabels must be true")
	servicePort(t, gateway, sm.Spec.Endpoints[0].Port)

	// The collector's own metrics, from its pods.
	pm := mustGet(t, m.podMonitors, "otelcol-pushgateway")
	collector := mustGet(t, m.deployments, "otelcol-pushgateway")
	selector, err = metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(collector.Spec.Template.Labels)), "the PodMonitor does not select the collector's pods")
	require.Len(t, pm.Spec.PodMetricsEndpoints, 1)
	require.NotNil(t, pm.Spec.PodMetricsEndpoints[0].Port)
	assert.Contains(t, containerPorts(collector.Spec.Template.Spec.Containers[0]), *pm.Spec.PodMetricsEndpoints[0].Port)

	// The PrometheusRule carries alerts.yaml's groups, unchanged.
	rule := mustGet(t, m.rules, "pushgateway-alerts")
	var fromFile monitoringv1.PrometheusRuleSpec
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, "deploy/prometheus/alerts.yaml"), &fromFile))
	assert.Equal(t, fromFile, rule.Spec, "deploy/kubernetes/prometheusrule.yaml differs from deploy/prometheus/alerts.yaml: regenerate it with go test -run TestPrometheusRule -update")
}

func checkCronJob(t *testing.T, m *manifests) {
	cj := mustGet(t, m.cronJobs, "nightly-etl")
	assert.Len(t, strings.Fields(cj.Spec.Schedule), 5, "schedule %q", cj.Spec.Schedule)
	assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	// $(VAR) in a value expands only variables defined before it.
	defined := map[string]corev1.EnvVar{}
	for _, env := range c.Env {
		for _, ref := range regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).FindAllStringSubmatch(env.Value, -1) {
			assert.Contains(t, defined, ref[1], "%s uses $(%s) before it is defined", env.Name, ref[1])
		}
		defined[env.Name] = env
	}
	podName, ok := defined["POD_NAME"]
	require.True(t, ok, "POD_NAME is not defined")
	require.NotNil(t, podName.ValueFrom)
	require.NotNil(t, podName.ValueFrom.FieldRef)
	assert.Equal(t, "metadata.name", podName.ValueFrom.FieldRef.FieldPath)

	assert.NotEmpty(t, envValue(t, c, "OTEL_SERVICE_NAME"))
	attrs := map[string]string{}
	for _, pair := range strings.Split(envValue(t, c, "OTEL_RESOURCE_ATTRIBUTES"), ",") {
		key, value, ok := strings.Cut(pair, "=")
		require.True(t, ok, "OTEL_RESOURCE_ATTRIBUTES: %q is not key=value", pair)
		attrs[key] = value
	}
	assert.Equal(t, "$(POD_NAME)", attrs["service.instance.id"])
	assert.NotContains(t, attrs, "service.name", "OTEL_SERVICE_NAME names the service")

	// The endpoint is the collector Service's OTLP/HTTP port.
	endpoint, err := url.Parse(envValue(t, c, "OTEL_EXPORTER_OTLP_ENDPOINT"))
	require.NoError(t, err)
	collector := mustGet(t, m.services, "otelcol-pushgateway")
	assert.Equal(t, collector.Name, endpoint.Hostname())
	assert.Equal(t, strconv.Itoa(int(servicePort(t, collector, "otlp-http").Port)), endpoint.Port())
	assert.Equal(t, "http/protobuf", envValue(t, c, "OTEL_EXPORTER_OTLP_PROTOCOL"))
}

// checkScrapeConfig reads deploy/prometheus/prometheus.yaml: the gateway's
// job honours labels and both targets are the Services' ports.
func checkScrapeConfig(t *testing.T, m *manifests) {
	var config struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			HonorLabels   bool   `json:"honor_labels"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, "deploy/prometheus/prometheus.yaml"), &config))
	assert.Equal(t, []string{"alerts.yaml"}, config.RuleFiles)
	targets := map[string]string{}
	for _, sc := range config.ScrapeConfigs {
		require.Len(t, sc.StaticConfigs, 1)
		require.Len(t, sc.StaticConfigs[0].Targets, 1)
		targets[sc.JobName] = sc.StaticConfigs[0].Targets[0]
		if sc.JobName == "pushgateway" {
			assert.True(t, sc.HonorLabels, "the pushgateway job needs honor_labels: true")
		} else {
			assert.False(t, sc.HonorLabels, "job %s: only the gateway's job honours labels", sc.JobName)
		}
	}
	gateway := mustGet(t, m.services, "pushgateway")
	assert.Equal(t, net.JoinHostPort(gateway.Name, strconv.Itoa(int(servicePort(t, gateway, "http").Port))), targets["pushgateway"])
	collector := mustGet(t, m.services, "otelcol-pushgateway")
	assert.Equal(t, net.JoinHostPort(collector.Name, strconv.Itoa(int(servicePort(t, collector, "metrics").Port))), targets["otelcol-pushgateway"])
}

// helmValues is the part of the opentelemetry-collector chart's values
// that deploy/helm/values.yaml sets; decoding is strict, so a key the file
// adds must be added here, after checking the chart has it.
type helmValues struct {
	Mode         string `json:"mode"`
	ReplicaCount int    `json:"replicaCount"`
	Image        struct {
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
	} `json:"image"`
	Command struct {
		Name string `json:"name"`
	} `json:"command"`
	Config map[string]any `json:"config"`
	Ports  map[string]struct {
		Enabled       bool   `json:"enabled"`
		ContainerPort int32  `json:"containerPort"`
		ServicePort   int32  `json:"servicePort"`
		Protocol      string `json:"protocol"`
	} `json:"ports"`
	Resources       corev1.ResourceRequirements `json:"resources"`
	SecurityContext corev1.SecurityContext      `json:"securityContext"`
}

func checkHelmValues(t *testing.T, m *manifests, collectorBin string) {
	var values helmValues
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, "deploy/helm/values.yaml"), &values))
	assert.Equal(t, "deployment", values.Mode)
	assert.Equal(t, 1, values.ReplicaCount)

	// The image and its binary are the ones deploy/Dockerfile makes and the
	// manifests run.
	deploy := mustGet(t, m.deployments, "otelcol-pushgateway")
	image := deploy.Spec.Template.Spec.Containers[0].Image
	assert.Equal(t, imageRepository(image), values.Image.Repository)
	assert.Equal(t, image, values.Image.Repository+":"+values.Image.Tag)
	assert.Equal(t, dockerfileEntrypoint(t), "/"+values.Command.Name, "the chart runs /<command.name>")
	assert.Equal(t, dockerfileUser(t), fmt.Sprintf("%d:%d", *values.SecurityContext.RunAsUser, *values.SecurityContext.RunAsGroup))

	// The chart merges config into its defaults; null removes a default.
	// What remains must be accepted by the built collector, with the
	// environment variable the chart sets.
	config := dropNulls(values.Config)
	for _, removed := range [][]any{
		{"receivers", "jaeger"}, {"receivers", "zipkin"}, {"receivers", "prometheus"},
		{"processors", "memory_limiter"}, {"exporters", "debug"},
		{"service", "pipelines", "traces"}, {"service", "pipelines", "logs"},
	} {
		assert.Nil(t, digOrNil(values.Config, removed...), "%v must be null: the chart's default names a component this collector lacks", removed)
		assert.Contains(t, digOrNil(values.Config, removed[:len(removed)-1]...), removed[len(removed)-1], "%v must be there, as null", removed)
	}
	rendered, err := yaml.Marshal(config)
	require.NoError(t, err)
	validateConfig(t, collectorBin, string(rendered), []string{"MY_POD_IP=127.0.0.1"})

	// The chart's probes ask port 13133; its metrics port is the
	// telemetry port; ports of removed receivers are off.
	assert.Equal(t, "${env:MY_POD_IP}:13133", dig(t, config, "extensions", "health_check", "endpoint"))
	assert.Equal(t, values.Ports["metrics"].ContainerPort, toInt32(t, dig(t, config, "service", "telemetry", "metrics", "readers", 0, "pull", "exporter", "prometheus", "port")))
	assert.True(t, values.Ports["metrics"].Enabled)
	for _, port := range []string{"jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"} {
		p, ok := values.Ports[port]
		assert.True(t, ok && !p.Enabled, "port %s must be disabled", port)
	}
	assert.Equal(t, deploy.Spec.Template.Spec.Containers[0].Resources, values.Resources, "the same resources as the manifest's")
}

// validateConfig runs the built collector's validate command on config.
func validateConfig(t *testing.T, collectorBin, config string, env []string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(file, []byte(config), 0o600))
	cmd := exec.Command(collectorBin, "validate", "--config", file)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the built collector refuses the configuration:\n%s\n%s", out, config)
}

func checkSelectors(t *testing.T, deploy *appsv1.Deployment, svc *corev1.Service) {
	t.Helper()
	selector, err := metav1.LabelSelectorAsSelector(deploy.Spec.Selector)
	require.NoError(t, err)
	podLabels := labels.Set(deploy.Spec.Template.Labels)
	assert.True(t, selector.Matches(podLabels), "Deployment %s: its selector does not match its pods' labels", deploy.Name)
	assert.NotEmpty(t, svc.Spec.Selector)
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels), "Service %s does not select the pods of %s", svc.Name, deploy.Name)
}

// checkServicePorts: every Service port leads to a container port.
func checkServicePorts(t *testing.T, svc *corev1.Service, c corev1.Container) {
	t.Helper()
	for _, p := range svc.Spec.Ports {
		assert.Empty(t, validation.IsValidPortName(p.Name), "Service %s port name %q", svc.Name, p.Name)
		assert.NotZero(t, resolvePort(t, c, p.TargetPort), "Service %s port %s leads to no container port", svc.Name, p.Name)
	}
}

func containerPorts(c corev1.Container) map[string]int32 {
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	return ports
}

// resolvePort is the container port a named or numbered port refers to,
// or 0.
func resolvePort(t *testing.T, c corev1.Container, port intstr.IntOrString) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	return 0
}

func servicePort(t *testing.T, svc *corev1.Service, name string) corev1.ServicePort {
	t.Helper()
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("Service %s has no port %q", svc.Name, name)
	return corev1.ServicePort{}
}

// mountedFile finds the volume holding path in the container, and the
// path's name inside the volume.
func mountedFile(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) (corev1.Volume, string) {
	t.Helper()
	for _, mount := range c.VolumeMounts {
		rel, err := filepath.Rel(mount.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == mount.Name {
				return v, rel
			}
		}
		t.Fatalf("container %s mounts volume %s, which the pod does not have", c.Name, mount.Name)
	}
	t.Fatalf("%s is on no volume of container %s", path, c.Name)
	return corev1.Volume{}, ""
}

func mustGet[V any](t *testing.T, objects map[string]V, name string) V {
	t.Helper()
	obj, ok := objects[name]
	require.True(t, ok, "no object named %s among %v", name, keys(objects))
	return obj
}

func envValue(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, env := range c.Env {
		if env.Name == name {
			return env.Value
		}
	}
	t.Fatalf("container %s has no environment variable %s", c.Name, name)
	return ""
}

func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	i := slices.Index(args, flag)
	require.True(t, i >= 0 && i+1 < len(args), "no %s argument in %v", flag, args)
	return args[i+1]
}

func flagValue(t *testing.T, args []string, flag string) string {
	t.Helper()
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, flag+"="); ok {
			return value
		}
	}
	t.Fatalf("no %s= argument in %v", flag, args)
	return ""
}

func imageRepository(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

// dockerfileUser and dockerfileEntrypoint read deploy/Dockerfile's final
// stage, so the manifests cannot drift from the image.
func dockerfileUser(t *testing.T) string {
	t.Helper()
	dockerfile := string(readFile(t, "deploy/Dockerfile"))
	uid := regexp.MustCompile(`(?m)^ARG USER_UID=(\d+)$`).FindStringSubmatch(dockerfile)
	gid := regexp.MustCompile(`(?m)^ARG USER_GID=(\d+)$`).FindStringSubmatch(dockerfile)
	require.NotNil(t, uid)
	require.NotNil(t, gid)
	require.Regexp(t, `(?m)^USER \$\{USER_UID\}:\$\{USER_GID\}$`, dockerfile)
	return uid[1] + ":" + gid[1]
}

func dockerfileEntrypoint(t *testing.T) string {
	t.Helper()
	match := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"\]$`).FindStringSubmatch(string(readFile(t, "deploy/Dockerfile")))
	require.NotNil(t, match)
	return match[1]
}

func parseYAMLMap(t *testing.T, text string) map[string]any {
	t.Helper()
	var out map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &out))
	return out
}

// dig walks maps by key and lists by index, failing when a step is missing.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	out, err := walk(v, path...)
	require.NoError(t, err)
	return out
}

func digOrNil(v any, path ...any) any {
	out, _ := walk(v, path...)
	return out
}

func walk(v any, path ...any) (any, error) {
	for i, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%v: not a map", path[:i])
			}
			if v, ok = m[s]; !ok {
				return nil, fmt.Errorf("%v: no key %q", path[:i], s)
			}
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil, fmt.Errorf("%v: no item %d", path[:i], s)
			}
			v = l[s]
		}
	}
	return v, nil
}

// dropNulls is config without its null entries, as Helm merges them.
func dropNulls(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			out[k] = dropNulls(v)
		default:
			out[k] = v
		}
	}
	return out
}

func endpointPort(t *testing.T, endpoint any) int32 {
	t.Helper()
	s, ok := endpoint.(string)
	require.True(t, ok, "endpoint %v is not a string", endpoint)
	_, port, err := net.SplitHostPort(s)
	require.NoError(t, err)
	return toInt32(t, port)
}

func toInt32(t *testing.T, v any) int32 {
	t.Helper()
	switch n := v.(type) {
	case float64:
		return int32(n)
	case string:
		i, err := strconv.Atoi(n)
		require.NoError(t, err)
		return int32(i)
	}
	t.Fatalf("%v is not a number", v)
	return 0
}
