package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log"
	"math/rand/v2"

	"github.com/tollgate-dev/tollgate/routing"
)

// Multi-turn conversations: each turn of a conversation is one labelled item
// whose request carries everything before it (the same system prompt, the
// earlier turns and the assistant's answers), as a client resends it. The
// bench sends the turns of a conversation in order with one conversation id,
// so the upstream's prompt cache sees the previous turn's prompt repeated.
// Labels follow the same rubric, on the turn alone.

// fragments are short easy turns of a chat: greetings, acknowledgements,
// one-word answers, a label with a value. No ask, no sign of difficulty.
var fragments = []template{
	e("fragment", "ok thanks"), e("fragment", "hello"), e("fragment", "thx!"), e("fragment", "got it"),
	e("fragment", "yes please"), e("fragment", "nope"), e("fragment", "sounds good"), e("fragment", "cool {emoji}"),
	e("fragment", "option {n}"), e("fragment", "page {n}"), e("fragment", "{color}"), e("fragment", "the second one"),
	e("fragment", "lol"), e("fragment", "perfect, thank you"), e("fragment", "makes sense"), e("fragment", "haha ok"),
	e("fragment", "{n} pm works"), e("fragment", "morning!"), e("fragment", "sure"), e("fragment", "great {emoji}"),
	e("fragment", "size {n}"), e("fragment", "room {n}"), e("fragment", "{name}"), e("fragment", "ok cool, bye"),
}

// conversationThemes decide the system prompt and how often a turn is easy.
var conversationThemes = []struct {
	category string
	easy     float64
}{{"companion", 0.8}, {"companion", 0.8}, {"assistant", 0.6}, {"support", 0.65}, {"coding", 0.45}, {"analysis", 0.45}}

// conversations writes n conversations of 3–9 turns after the single-turn
// items, from a generator of their own so the single-turn items stay as they
// were. A quarter of the conversations are test conversations built only from
// test templates (and the rest only from train templates).
func (w *writer) conversations(n int) {
	g := &gen{r: rand.New(rand.NewPCG(14, 2027))}
	pool := map[string]map[string][]template{"train": {}, "test": {}}
	for _, t := range append(append([]template{}, templates...), fragments...) {
		split := "train"
		if testTemplate(t) {
			split = "test"
		}
		key := t.Label
		if t.Category == "fragment" {
			key = "fragment"
		}
		pool[split][key] = append(pool[split][key], t)
	}
	for ci := range n {
		id := fmt.Sprintf("cv-%03d", ci+1)
		split := "train"
		if h := fnv.New32a(); true {
			h.Write([]byte(id))
			if h.Sum32()%4 == 0 {
				split = "test"
			}
		}
		theme := conversationThemes[g.r.IntN(len(conversationThemes))]
		msgs := []msg{{Role: "system", Content: g.systemPrompt(theme.category)}}
		var tools []any
		if theme.category == "coding" || g.r.IntN(6) == 0 {
			tools = g.toolsDef()
		}
		user := ""
		if g.r.IntN(3) == 0 {
			user = fmt.Sprintf("user-%d", g.r.IntN(400))
		}
		turns := 3 + g.r.IntN(7)
		for turn := 1; turn <= turns; turn++ {
			label := "easy"
			switch x := g.r.Float64(); {
			case x >= theme.easy+(1-theme.easy)*0.8:
				label = "premium"
			case x >= theme.easy:
				label = "hard"
			}
			key := label
			if label == "easy" && g.r.IntN(3) == 0 {
				key = "fragment"
			}
			ts := pool[split][key]
			t := ts[g.r.IntN(len(ts))]
			msgs = append(msgs, g.turn(t, ci*100+turn)...)
			body := map[string]any{"model": "auto", "messages": msgs}
			if tools != nil {
				body["tools"] = tools
			}
			if t.JSON {
				body["response_format"] = jsonSchemaFormat
			}
			if user != "" {
				body["user"] = user
			}
			it := w.item(fmt.Sprintf("%s-%02d", id, turn), split, label, t, body)
			it.Conversation, it.Turn, it.OutputTokens = id, turn, g.outputTokens(label)
			if it.InputTokens > 9000 {
				break // a client would start a new chat; so does the set
			}
			w.write(it)
			msgs = append(msgs, msg{Role: "assistant", Content: g.answer(label)})
		}
	}
}

// answer is the assistant's reply to a turn: short for easy turns, longer for
// the others (what the next turn's prompt carries).
func (g *gen) answer(label string) string {
	n := 2 + g.r.IntN(4)
	if label != "easy" {
		n = 8 + g.r.IntN(10)
	}
	var b []byte
	for range n {
		b = append(b, g.fill(g.pick(replies))+" "...)
	}
	return string(b[:len(b)-1])
}

var jsonSchemaFormat = map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "out",
	"schema": map[string]any{"type": "object", "properties": map[string]any{"items": map[string]any{"type": "array"}}}}}

// writer encodes items and counts them by split and label.
type writer struct {
	enc    *json.Encoder
	est    *routing.Estimator
	counts map[string]int
}

func (w *writer) item(id, split, label string, t template, body map[string]any) Item {
	raw, err := json.Marshal(body)
	if err != nil {
		log.Fatal(err)
	}
	req, err := routing.ParseChatRequest(raw)
	if err != nil {
		log.Fatalf("item %s: %v", id, err)
	}
	in, _ := w.est.PromptTokens("gpt-4o", req)
	return Item{ID: id, Split: split, Label: label, Category: t.Category, Group: fmt.Sprintf("t%08x", templateHash(t)), Request: raw, InputTokens: in}
}

func (w *writer) write(it Item) {
	w.counts[it.Split+"/"+it.Label]++
	if err := w.enc.Encode(it); err != nil {
		log.Fatal(err)
	}
}
