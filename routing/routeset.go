package routing

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// RouteSetItem is one line of a labelled routing set (testdata/routeset holds
// Tollgate's own; `tollgate route train --data` reads the same format).
type RouteSetItem struct {
	ID string `json:"id"`
	// RequestID links the item to a ledger request, so feedback on that request
	// can relabel it; optional.
	RequestID string `json:"request_id,omitempty"`
	// Split is "train" or "test"; training reads only "train" (and unsplit) items.
	Split    string `json:"split,omitempty"`
	Label    string `json:"label"`
	Category string `json:"category,omitempty"`
	// Group ties items that share phrasing (see TrainingExample.Group).
	Group string `json:"group,omitempty"`
	// Request is the chat completion body.
	Request json.RawMessage `json:"request"`
	// Conversation and Turn place a turn of a multi-turn conversation (its
	// conversation's id, its 1-based turn); a client sends the turns in order
	// under one conversation id. Empty for single-turn items.
	Conversation string `json:"conversation,omitempty"`
	Turn         int    `json:"turn,omitempty"`
	// InputTokens and OutputTokens are the true usage of the request.
	InputTokens  int `json:"input_tokens,omitempty"`
	OutputTokens int `json:"output_tokens,omitempty"`
}

// ReadRouteSet reads JSON lines, gzip-compressed or plain. Errors name the line
// and wrap errkind.Invalid.
func ReadRouteSet(r io.Reader) ([]RouteSetItem, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "routing set is not valid gzip")
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 32<<20)
	var out []RouteSetItem
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var it RouteSetItem
		if err := json.Unmarshal(b, &it); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "routing set line %d is not a valid item", line)
		}
		if len(it.Request) == 0 {
			return nil, errkind.New(errkind.Invalid, "routing set line %d has no request", line)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "routing set cannot be read")
	}
	return out, nil
}

// TrainingExamples parses the items of the given split ("" takes all) into
// examples. Items without a split count as training data.
func TrainingExamples(items []RouteSetItem, split string) ([]TrainingExample, error) {
	var out []TrainingExample
	for _, it := range items {
		if split != "" && it.Split != "" && it.Split != split {
			continue
		}
		req, err := ParseChatRequest(it.Request)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "routing set item %s: request is not a valid chat completion", it.ID)
		}
		out = append(out, TrainingExample{Request: req, Label: it.Label, Group: it.Group})
	}
	return out, nil
}

// Feedback is one rating of a served request, as POST /v1/feedback stores it.
type Feedback struct {
	RequestID string `json:"request_id"`
	// Rating is 1 (bad) to 5 (good); 0 when only NeededStronger was given.
	Rating int `json:"rating,omitempty"`
	// NeededStronger says the answer needed a stronger model than the one used.
	NeededStronger bool `json:"needed_stronger,omitempty"`
}

// ApplyFeedback relabels items whose RequestID was rated "needed a stronger
// model": easy becomes hard, hard becomes premium.
func ApplyFeedback(items []RouteSetItem, fb []Feedback) []RouteSetItem {
	stronger := map[string]bool{}
	for _, f := range fb {
		if f.NeededStronger {
			stronger[f.RequestID] = true
		}
	}
	out := make([]RouteSetItem, len(items))
	for i, it := range items {
		if it.RequestID != "" && stronger[it.RequestID] {
			switch it.Label {
			case LabelEasy:
				it.Label = LabelHard
			case LabelHard:
				it.Label = LabelPremium
			}
		}
		out[i] = it
	}
	return out
}
