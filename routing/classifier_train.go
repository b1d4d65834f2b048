package routing

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Labels of the routing set: what the cheapest adequate model is.
const (
	LabelEasy    = "easy"
	LabelHard    = "hard"
	LabelPremium = "premium"
)

// TrainingExample is one labelled request.
type TrainingExample struct {
	Request *ChatRequest
	// Label is LabelEasy, LabelHard or LabelPremium.
	Label string
	// Group ties examples that share phrasing (a template, a conversation).
	// The folds that choose thresholds hold out whole groups, so thresholds
	// are set on phrasing the probe model never saw; "" groups by example.
	Group string
}

// TrainInput configures TrainClassifier.
type TrainInput struct {
	Examples []TrainingExample
	// Epochs over the data; 0 means 8.
	Epochs int
	// L2 is the weight decay; 0 means 3e-3.
	L2 float64
	// Seed fixes the shuffling, so the same data trains the same model.
	Seed uint64
	// HardRecall is the share of hard and premium validation examples the
	// standard threshold keeps above economy: the threshold is the highest that
	// keeps it. 0 means 0.93: the floor that matters is 95% of hard turns
	// kept on phrasing never seen, and validation folds that hold out whole
	// templates read a few points under it, so the target leaves margin.
	HardRecall float64
}

// Validate reports every problem, wrapping errkind.Invalid.
func (in TrainInput) Validate() error {
	var problems []error
	seen := map[string]int{}
	for i, e := range in.Examples {
		if e.Request == nil {
			problems = append(problems, fmt.Errorf("example %d: request is required", i+1))
		}
		switch e.Label {
		case LabelEasy, LabelHard, LabelPremium:
			seen[e.Label]++
		default:
			problems = append(problems, fmt.Errorf("example %d: label %q is not easy, hard or premium", i+1, e.Label))
		}
	}
	if seen[LabelEasy] == 0 || seen[LabelHard]+seen[LabelPremium] == 0 {
		problems = append(problems, errors.New("training needs easy examples and hard or premium ones"))
	}
	if in.HardRecall < 0 || in.HardRecall >= 1 {
		problems = append(problems, errors.New("hard recall must be within 0..1"))
	}
	if len(problems) > 0 {
		return errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid training input")
	}
	return nil
}

// TrainReport describes a trained model.
type TrainReport struct {
	Examples   int            `json:"examples"`
	Labels     map[string]int `json:"labels"`
	Validation int            `json:"validation"`
	// ValEasyEconomy and ValHardKept are the validation fold's shares at the
	// chosen standard threshold.
	ValEasyEconomy float64 `json:"val_easy_economy"`
	ValHardKept    float64 `json:"val_hard_kept"`
	// StandardThreshold and PremiumThreshold are stored in the model.
	StandardThreshold float64 `json:"standard_threshold"`
	PremiumThreshold  float64 `json:"premium_threshold"`
}

type labelled struct {
	v turnVector
	y [2]float32
}

// TrainClassifier fits the two heads by AdaGrad logistic regression. A fifth
// of the examples (chosen by the seed) is held back first to choose the
// thresholds; the final model is then fitted on all examples.
func TrainClassifier(in TrainInput) (*Classifier, TrainReport, error) {
	if err := in.Validate(); err != nil {
		return nil, TrainReport{}, err
	}
	epochs, l2, recall := in.Epochs, in.L2, in.HardRecall
	if epochs == 0 {
		epochs = 8
	}
	if l2 == 0 {
		l2 = 3e-3
	}
	if recall == 0 {
		recall = 0.93
	}
	rep := TrainReport{Examples: len(in.Examples), Labels: map[string]int{}}
	data := make([]labelled, len(in.Examples))
	for i, e := range in.Examples {
		data[i].v.fill(e.Request)
		data[i].y = [2]float32{b2f(e.Label != LabelEasy), b2f(e.Label == LabelPremium)}
		rep.Labels[e.Label]++
	}
	// Out-of-fold probabilities: each fifth of the groups is scored by a model
	// fitted on the other four, so the thresholds are chosen on phrasing the
	// scoring model never saw (as it will be in production). The split into
	// fifths is repeated with other seeds and the probabilities averaged: one
	// split alone moves the thresholds by which templates share a fold.
	const folds, repeats = 5, 3
	oof := make([][2]float64, len(data))
	avg := make([]float32, 2*(clfBuckets+sfCount))
	fold := make([]int, len(data))
	for r := range uint64(repeats) {
		for i, e := range in.Examples {
			g := e.Group
			if g == "" {
				g = fmt.Sprint(i)
			}
			fold[i] = int(groupHash(g, in.Seed+r) % folds)
		}
		for k := range folds {
			var fit []labelled
			for i := range data {
				if fold[i] != k {
					fit = append(fit, data[i])
				}
			}
			probe := fitClassifier(fit, epochs, l2, in.Seed+r)
			for i, x := range probe.w {
				avg[i] += x / (folds * repeats)
			}
			for i := range data {
				if fold[i] == k {
					p0, p1 := probe.scoreVector(&data[i].v)
					oof[i][0] += p0 / repeats
					oof[i][1] += p1 / repeats
				}
			}
		}
	}
	std, prem := chooseThresholds(data, oof, recall)
	rep.Validation = len(data)
	rep.ValEasyEconomy, rep.ValHardKept = shares(data, oof, std)
	// The served model is the average of the five probes: its probabilities
	// are scaled like the out-of-fold ones the thresholds were chosen on (a
	// model fitted on all examples is more confident, and would shift them),
	// and every example still shaped four of the five.
	c := &Classifier{w: avg}
	c.StandardThreshold, c.PremiumThreshold = std, prem
	rep.StandardThreshold, rep.PremiumThreshold = std, prem
	return c, rep, nil
}

func groupHash(g string, seed uint64) uint64 {
	h := seed ^ 0xcbf29ce484222325
	for i := 0; i < len(g); i++ {
		h = (h ^ uint64(g[i])) * 0x100000001b3
	}
	return h ^ h>>29
}

func fitClassifier(data []labelled, epochs int, l2 float64, seed uint64) *Classifier {
	n := clfBuckets + sfCount
	c := &Classifier{w: make([]float32, 2*n)}
	acc := make([]float32, 2*n)
	// Premium is rare; weigh its positives so the head does not learn "never".
	pos := 0
	for _, d := range data {
		if d.y[1] > 0 {
			pos++
		}
	}
	premWeight := float32(1)
	if pos > 0 {
		premWeight = float32(math.Min(4, float64(len(data)-pos)/float64(pos)/2))
	}
	const lr = 0.3
	r := rand.New(rand.NewPCG(seed, 0xfeed))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	counts := map[uint32]float32{}
	for range epochs {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			d := &data[k]
			clear(counts)
			ts, as := d.v.scales()
			for k, i := range d.v.hashes[:d.v.n] {
				if k < d.v.askFrom {
					counts[i] += ts
				} else {
					counts[i] += as
				}
			}
			p0, p1 := c.scoreVector(&d.v)
			for h, p := range [2]float64{p0, p1} {
				g := float32(p) - d.y[h]
				if h == 1 && d.y[1] > 0 {
					g *= premWeight
				}
				w := c.w
				step := func(i int, x float32) {
					j := 2*i + h
					gi := g*x + float32(l2)*w[j]
					acc[j] += gi * gi
					w[j] -= lr * gi / float32(math.Sqrt(float64(acc[j])+1e-8))
				}
				for i, x := range counts {
					step(int(i), x)
				}
				for i, x := range d.v.sf {
					if x != 0 {
						step(clfBuckets+i, x)
					}
				}
			}
		}
	}
	return c
}

// chooseThresholds picks the highest standard threshold that keeps recall of
// the hard examples, and the premium threshold with the best F1 on premium examples, both from
// out-of-fold probabilities.
func chooseThresholds(data []labelled, oof [][2]float64, recall float64) (float64, float64) {
	// The standard threshold is the highest at which the validation
	// probabilities keep at least recall of the hard examples above it: every
	// easy example below it is a saving, every hard one below it a weak answer.
	var hard []float64
	for i := range data {
		if data[i].y[0] > 0 {
			hard = append(hard, oof[i][0])
		}
	}
	slices.Sort(hard)
	std := 0.5
	if len(hard) > 0 {
		// Midway between the hard example at the cut and the one below it, so
		// the threshold does not sit on a single validation example.
		k := int(math.Floor(float64(len(hard)) * (1 - recall)))
		std = hard[k]
		if k > 0 {
			std = (hard[k] + hard[k-1]) / 2
		}
	}
	std = math.Min(math.Max(std, 0.02), 0.98)
	std = math.Floor(std*1000) / 1000
	bestT, bestF := 0.5, -1.0
	for t := 0.2; t <= 0.9; t += 0.05 {
		tp, fp, fn := 0.0, 0.0, 0.0
		for i := range data {
			pos, hit := data[i].y[1] > 0, oof[i][1] >= t
			switch {
			case hit && pos:
				tp++
			case hit:
				fp++
			case pos:
				fn++
			}
		}
		if f := 2 * tp / math.Max(2*tp+fp+fn, 1); f > bestF {
			bestT, bestF = t, f
		}
	}
	return std, math.Round(bestT*100) / 100
}

func shares(data []labelled, oof [][2]float64, std float64) (easyEconomy, hardKept float64) {
	var easy, easyEco, hard, kept float64
	for i := range data {
		if data[i].y[0] > 0 {
			hard++
			if oof[i][0] >= std {
				kept++
			}
		} else {
			easy++
			if oof[i][0] < std {
				easyEco++
			}
		}
	}
	return easyEco / math.Max(easy, 1), kept / math.Max(hard, 1)
}
