package routing

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

// The one-pass scan hashes a word's stem exactly as the lexicon does, whatever
// the case of the word: a concept found in training is found when serving.
func TestScanStemMatchesLexicon(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"Reviewing", "reviewed", "bugs", "QUICKLY", "TESTS", "Deadlocks", "Fixed", "proof", "hi"} {
		var v turnVector
		var st textStats
		st.scan(w, &v)
		want := lex.lookup(stemHash(strings.ToLower(w)))
		require.NotZero(t, want, "%s is in the lexicon", w)
		require.Equal(t, uint32(1)<<want, st.concepts, w)
		require.Equal(t, (conceptBucket(want))&(clfBuckets-1), v.hashes[0], w)
	}
}

// Training and serving read a request through the same code: the probability
// training computes for an example (its feature vector, the weights it wrote)
// is bit for bit what the classifier parsed from the model file returns, and
// what the live selector records.
func TestTrainAndServeScoreAlike(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/routeset/routeset.jsonl.gz")
	require.NoError(t, err)
	defer f.Close()
	items, err := ReadRouteSet(f)
	require.NoError(t, err)
	ex, err := TrainingExamples(items[:400], "")
	require.NoError(t, err)
	trained, _, err := TrainClassifier(TrainInput{Examples: ex, Seed: 3, Epochs: 1})
	require.NoError(t, err)
	file, err := trained.MarshalBinary()
	require.NoError(t, err)
	served, err := ParseClassifier(file)
	require.NoError(t, err)
	sel, err := NewSelector(SelectorConfig{Catalog: DefaultCatalog(), Classifier: served}, logging.Discard())
	require.NoError(t, err)
	for _, e := range ex[:120] {
		var v turnVector
		v.fill(e.Request)
		p0, p1 := trained.scoreVector(&v)
		s0, s1 := served.Score(e.Request)
		require.Equal(t, [2]float64{p0, p1}, [2]float64{s0, s1})
		d, err := sel.Select(t.Context(), SelectInput{TenantID: "t", Request: e.Request, Policy: DefaultPolicy()})
		require.NoError(t, err)
		require.Equal(t, [2]float64{p0, p1}, [2]float64{d.Features.PStandard, d.Features.PPremium})
		require.Equal(t, v.short, d.Features.ShortTurn)
	}
}
