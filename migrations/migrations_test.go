package migrations

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The two dialects must list the same versions, or a tenant migrated on SQLite and
// one on Postgres would disagree about what "latest" means.
func TestDialectsListSameVersions(t *testing.T) {
	t.Parallel()
	for _, set := range []Set{SetControl, SetTenant} {
		pg, err := Load(DialectPostgres, set)
		require.NoError(t, err)
		lite, err := Load(DialectSQLite, set)
		require.NoError(t, err)
		require.NotEmpty(t, pg)
		require.Len(t, lite, len(pg), "set %s", set)
		for i := range pg {
			require.Equal(t, pg[i].Version, lite[i].Version, "set %s", set)
			require.Equal(t, pg[i].Name, lite[i].Name, "set %s", set)
			require.Equal(t, int64(i+1), pg[i].Version, "versions are sequential in set %s", set)
			require.NotEmpty(t, pg[i].Up)
		}
	}
}

func TestUpSectionRejectsNoTransaction(t *testing.T) {
	t.Parallel()
	_, err := upSection("-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;")
	require.Error(t, err)
	up, err := upSection("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nSELECT 2;")
	require.NoError(t, err)
	require.Equal(t, "SELECT 1;", up)
}
