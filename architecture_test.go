package pushgatewayexporter

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStagesImportOnlyWhatTheyMay keeps the arrows of docs/ARCHITECTURE.md
// pointing down: no stage imports another stage or the root; each imports
// only the packages of this module below it.
func TestStagesImportOnlyWhatTheyMay(t *testing.T) {
	const module = "github.com/pushgatewayexporter/pushgatewayexporter"
	allowed := map[string][]string{
		"internal/prom":       {},
		"internal/translate":  {"internal/prom"},
		"internal/state":      {"internal/prom"},
		"internal/exposition": {"internal/prom"},
		"internal/gateway":    {"internal/prom", "internal/telemetry"},
		"internal/telemetry":  {"internal/metadata"},
		// The reference model states the rules a second time, for the
		// differential tests: it shares no code with the stages.
		"internal/reference": {},
	}
	for dir, may := range allowed {
		t.Run(dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(dir, "*.go"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, file := range files {
				if strings.HasSuffix(file, "_test.go") {
					continue
				}
				f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
				require.NoError(t, err)
				for _, imp := range f.Imports {
					path, err := strconv.Unquote(imp.Path.Value)
					require.NoError(t, err)
					own, ok := strings.CutPrefix(path, module)
					if !ok {
						continue
					}
					own = strings.TrimPrefix(own, "/")
					assert.True(t, slices.Contains(may, own), "%s imports %q: %s may import only %v of this module", file, path, dir, may)
				}
			}
		})
	}
	// Every package under internal/ but the test helpers and the generated
	// ones is a stage listed above.
	entries, err := os.ReadDir("internal")
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, "test") || strings.HasPrefix(name, "metadata") {
			continue
		}
		assert.Contains(t, allowed, "internal/"+name, "a new package: give it its place in docs/ARCHITECTURE.md and here")
	}
}
