// Package state is the exporter's per-group state: for every Pushgateway
// group, the value of every series and what fed it. It folds translated
// families into it by the data model's rules (fold.go: the newest point
// wins, deltas and increments add up, each writer's stream on its own),
// remembers the writers of each group (writer.go), keeps the names the
// gateway holds consistent across groups (gatewaynames.go), notices jobs
// whose runs each come with a new instance (churn.go), and forgets what
// went silent (expiry.go). Nothing older ever replaces something newer.
//
// It hands groups to the encoders as prom.FamilyView (Group.Read), and to
// the publisher through the methods the publisher's Store asks for. It
// uses only the shared Prometheus data (internal/prom) and pdata's
// timestamps and resources.
package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
