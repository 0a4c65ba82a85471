// Package deploy holds the tests of what deploy/ ships: the container
// image (built with buildah, run with podman), the Kubernetes manifests and
// Helm values (decoded strictly into the API types, their wiring checked,
// their collector configuration validated by the built collector), and the
// Prometheus configuration and alerting rules (checked against a real
// Prometheus, the built collector's own metrics and a real Pushgateway).
//
// It is a module of its own so that the Kubernetes API modules never enter
// the exporter's.
package deploy
