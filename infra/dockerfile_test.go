package infra

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The image checks its own health through /healthz (not `tollgate version`, which
// always passes), carries the OCI labels, and its build context leaves the host's
// build outputs and secrets out.
func TestDockerfileHealthcheckLabelsAndContext(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(raw)
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD (\[.*\])$`).FindStringSubmatch(df)
	require.NotNil(t, hc, "a HEALTHCHECK")
	require.Contains(t, hc[1], `"tollgate", "healthcheck"`)
	for _, label := range []string{"title", "description", "source", "version", "revision", "created"} {
		require.Contains(t, df, "org.opencontainers.image."+label+"=", label)
	}
	require.Contains(t, df, "-X main.commit=${COMMIT} -X main.date=${DATE}", "the image's binary is stamped like make dist's")

	ignore, err := os.ReadFile("../.dockerignore")
	require.NoError(t, err)
	lines := strings.Split(string(ignore), "\n")
	for _, p := range []string{"**/node_modules", ".git", ".env", "bin", "dist", "data"} {
		require.Contains(t, lines, p, ".dockerignore must leave out %s", p)
	}
}
