package tenants

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// ID.Valid and ValidSchemaName guard every schema name spliced into SQL; they
// accept exactly what the patterns they replaced accepted.
func TestIDValidMatchesPattern(t *testing.T) {
	idPattern := regexp.MustCompile(`^[0-9a-z]{26}$`)
	schemaPattern := regexp.MustCompile(`^t_[0-9a-z]{26}$`)
	alphabet := "0az9AZ_-.\n\x00é/`{:"
	r := rand.New(rand.NewPCG(3, 4))
	cases := []string{"", string(NewID()), "t_" + string(NewID()), string(NewID()) + "\n", "t_" + string(NewID()) + "\n",
		"T_" + string(NewID()), "public", "..", "t_"}
	for range 20000 {
		n := r.IntN(30)
		base := []byte(NewID())
		if r.IntN(2) == 0 {
			base = base[:min(n, len(base))]
		}
		for range r.IntN(3) {
			if len(base) > 0 {
				base[r.IntN(len(base))] = alphabet[r.IntN(len(alphabet))]
			}
		}
		cases = append(cases, string(base), "t_"+string(base))
	}
	for _, s := range cases {
		require.Equal(t, idPattern.MatchString(s), ID(s).Valid(), "%q", s)
		require.Equal(t, schemaPattern.MatchString(s), ValidSchemaName(s), "%q", s)
	}
}
