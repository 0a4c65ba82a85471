package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShippedConfigsValidate runs the built collector's validate command on
// the configuration make run uses and on the README's example pipeline, so
// neither can drift from what the collector accepts.
func TestShippedConfigsValidate(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	example := yamlBlockAfter(t, string(readme), "### Example pipeline")
	examplePath := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(examplePath, []byte(example), 0o600))

	for name, path := range map[string]string{
		"config/otelcol.yaml":          filepath.Join("..", "config", "otelcol.yaml"),
		"README.md's example pipeline": examplePath,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(collectorBinary(t), "validate", "--config", path).CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}

// yamlBlockAfter returns the first ```yaml block after heading.
func yamlBlockAfter(t *testing.T, doc, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, heading)
	require.True(t, ok, "no %q in the README", heading)
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	require.True(t, ok, "no yaml block after %q", heading)
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok, "unterminated yaml block after %q", heading)
	return block
}
