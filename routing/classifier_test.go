package routing_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// routeSet reads the labelled set in testdata.
func routeSet(t testing.TB) []routing.RouteSetItem {
	t.Helper()
	f, err := os.Open("testdata/routeset/routeset.jsonl.gz")
	require.NoError(t, err)
	defer f.Close()
	items, err := routing.ReadRouteSet(f)
	require.NoError(t, err)
	return items
}

// heldOut scores the test split (templates training never saw) with c.
func heldOut(t testing.TB, c *routing.Classifier, std, prem float64) (easyEco, hardKept, premPrem float64, conf map[string]map[string]int) {
	t.Helper()
	conf = map[string]map[string]int{}
	var easy, eco, hard, kept, pr, prOK float64
	for _, it := range routeSet(t) {
		if it.Split != "test" {
			continue
		}
		req, err := routing.ParseChatRequest(it.Request)
		require.NoError(t, err)
		p0, p1 := c.Score(req)
		got := routing.LabelEasy
		if p0 >= std {
			got = routing.LabelHard
			if p1 >= prem {
				got = routing.LabelPremium
			}
		}
		if conf[it.Label] == nil {
			conf[it.Label] = map[string]int{}
		}
		conf[it.Label][got]++
		switch it.Label {
		case routing.LabelEasy:
			easy++
			if got == routing.LabelEasy {
				eco++
			}
		default:
			hard++
			if got != routing.LabelEasy {
				kept++
			}
			if it.Label == routing.LabelPremium {
				pr++
				if got == routing.LabelPremium {
					prOK++
				}
			}
		}
	}
	return eco / easy, kept / hard, prOK / pr, conf
}

func TestDefaultClassifierHeldOut(t *testing.T) {
	t.Parallel()
	c, err := routing.DefaultClassifier()
	require.NoError(t, err)
	easyEco, hardKept, prem, conf := heldOut(t, c, c.StandardThreshold, c.PremiumThreshold)
	t.Logf("held-out: easy→economy %.1f%%, hard kept %.1f%%, premium→premium %.1f%%; %v", easyEco*100, hardKept*100, prem*100, conf)
	// Measured at commit: 99.5% hard kept, 93.5% easy on economy (templates the
	// model never saw). The floors sit a little under, so a change that makes
	// the model worse fails here.
	require.GreaterOrEqual(t, hardKept, 0.95)
	require.GreaterOrEqual(t, easyEco, 0.90)
}

// The embedded model is exactly what `tollgate route train` produces from the
// train split alone (seed 14): the test split never reached it.
func TestDefaultClassifierIsTrainedOnTrainSplitOnly(t *testing.T) {
	t.Parallel()
	items := routeSet(t)
	ex, err := routing.TrainingExamples(items, "train")
	require.NoError(t, err)
	train := 0
	for _, it := range items {
		if it.Split == "train" {
			train++
		}
	}
	require.Equal(t, train, len(ex), "only train items are training examples")
	require.Less(t, train, len(items))
	c, rep, err := routing.TrainClassifier(routing.TrainInput{Examples: ex, Seed: 14})
	require.NoError(t, err)
	require.Equal(t, len(ex), rep.Examples)
	got, err := c.MarshalBinary()
	require.NoError(t, err)
	want, err := os.ReadFile("classifier_default.bin")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "classifier_default.bin is stale: run tollgate route train --data testdata/routeset/routeset.jsonl.gz --out routing/classifier_default.bin")
}
