// Command gen writes the labelled routing set (routeset.jsonl.gz) from the
// templates and vocabularies beside it, deterministically (fixed seed), with
// true token counts from the o200k tokenizer. Run from the repository root:
//
//	go run ./routing/testdata/routeset/gen
//
// The split is by template: a quarter of the templates of every label appear
// only in the test split, so the held-out figures measure phrasing the
// classifier never saw, not memorised sentences.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"

	"github.com/tollgate-dev/tollgate/routing"
)

// Item is one labelled request of the set.
type Item struct {
	ID       string          `json:"id"`
	Split    string          `json:"split"`
	Label    string          `json:"label"`
	Category string          `json:"category"`
	Group    string          `json:"group"`
	Request  json.RawMessage `json:"request"`
	// InputTokens is the true prompt size (o200k, with OpenAI's chat framing).
	InputTokens int `json:"input_tokens"`
	// OutputTokens is the answer length the loopback upstream reports.
	OutputTokens int `json:"output_tokens"`
	// Conversation and Turn place a multi-turn item: its conversation's id
	// and its 1-based turn; empty for single-turn items.
	Conversation string `json:"conversation,omitempty"`
	Turn         int    `json:"turn,omitempty"`
}

type msg struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

var slotRE = regexp.MustCompile(`\{([a-z]+)\}`)

type gen struct{ r *rand.Rand }

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) fill(s string) string {
	return slotRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vocab[m[1:len(m)-1]]; ok {
			return g.pick(v)
		}
		return m
	})
}

// testTemplate reports whether a template belongs to the held-out split.
func testTemplate(t template) bool { return templateHash(t)%4 == 0 }

func templateHash(t template) uint32 {
	h := fnv.New32a()
	h.Write([]byte(t.Text))
	return h.Sum32()
}

func main() {
	out := flag.String("out", "routing/testdata/routeset/routeset.jsonl.gz", "output file")
	n := flag.Int("n", 1300, "number of single-turn requests")
	convs := flag.Int("conversations", 80, "number of multi-turn conversations (each turn is an item)")
	flag.Parse()
	g := &gen{r: rand.New(rand.NewPCG(14, 2026))}
	est := routing.NewEstimator(routing.EstimatorConfig{ExactLimitBytes: -1})
	byLabel := map[string][]template{}
	for _, t := range templates {
		byLabel[t.Label] = append(byLabel[t.Label], t)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	w := &writer{enc: json.NewEncoder(zw), est: est, counts: map[string]int{}}
	for i := range *n {
		label := "easy"
		switch x := g.r.Float64(); {
		case x < 0.12:
			label = "premium"
		case x < 0.48:
			label = "hard"
		}
		t := byLabel[label][g.r.IntN(len(byLabel[label]))]
		split := "train"
		if testTemplate(t) {
			split = "test"
		}
		it := w.item(fmt.Sprintf("rs-%04d", i+1), split, label, t, g.request(t, i))
		it.OutputTokens = g.outputTokens(label)
		w.write(it)
	}
	w.conversations(*convs)
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.counts)
}

func (g *gen) outputTokens(label string) int {
	switch label {
	case "easy":
		return 20 + g.r.IntN(260)
	case "hard":
		return 200 + g.r.IntN(600)
	}
	return 500 + g.r.IntN(1100)
}

// request builds one chat body: a system prompt, a history whose topics are
// independent of the label, and the labelled final turn.
func (g *gen) request(t template, i int) map[string]any {
	msgs := []msg{{Role: "system", Content: g.systemPrompt(t.Category)}}
	turns := g.r.IntN(34)
	if g.r.IntN(6) == 0 {
		turns = g.r.IntN(3)
	}
	for range turns {
		u, a := g.historyTurn()
		msgs = append(msgs, msg{Role: "user", Content: u}, msg{Role: "assistant", Content: a})
	}
	msgs = append(msgs, g.turn(t, i)...)
	body := map[string]any{"model": "auto", "messages": msgs}
	if t.Tools || (t.Category == "agent" && g.r.IntN(2) == 0) || g.r.IntN(12) == 0 {
		body["tools"] = g.toolsDef()
	}
	if t.JSON {
		body["response_format"] = jsonSchemaFormat
	}
	if g.r.IntN(3) == 0 {
		body["user"] = fmt.Sprintf("user-%d", g.r.IntN(400))
	}
	return body
}

// turn returns the messages of the labelled turn: the user's ask with its
// material, or a tool call and its result followed by the ask.
func (g *gen) turn(t template, i int) []msg {
	text := g.decorate(g.fill(t.Text))
	switch t.Attach {
	case "code":
		text = g.wrapCode(text)
	case "doc":
		text = g.wrapDoc(text)
	case "data":
		text = g.wrapData(text)
	}
	if t.Attach == "tool" {
		call := toolCall{ID: fmt.Sprintf("call_%d", i), Type: "function"}
		call.Function.Name = g.pick([]string{"search_web", "get_order", "lookup_customer", "run_query", "get_weather"})
		call.Function.Arguments = `{"q":"` + g.fill("{topic}") + `"}`
		return []msg{{Role: "user", Content: g.fill(g.pick(historyAsks))},
			msg{Role: "assistant", ToolCalls: []toolCall{call}},
			msg{Role: "tool", ToolCallID: call.ID, Content: g.toolResult()},
			msg{Role: "user", Content: text}}
	}
	return []msg{{Role: "user", Content: text}}
}

// decorate adds label-neutral framing so the same template reads differently.
func (g *gen) decorate(s string) string {
	pre := []string{"", "", "", "hey, ", "ok so ", "quick question: ", "Hi! ", "hmm, ", "also, ", "one more thing: ", "sorry, ", "btw "}
	post := []string{"", "", "", " thanks", " pls", " :)", "?", " (no rush)", " thank you!", "."}
	s = g.pick(pre) + s + g.pick(post)
	if g.r.IntN(4) == 0 {
		s = strings.ToLower(s)
	}
	return s
}

func (g *gen) systemPrompt(cat string) string {
	var b strings.Builder
	persona := g.pick(personas)
	if cat == "coding" || cat == "algorithms" {
		persona = g.pick(append(personas[:0:0], "You are a senior software engineer helping a teammate.",
			"You are CodePilot, a coding assistant inside an IDE."))
	}
	b.WriteString(g.fill(persona) + "\n\n")
	paras := 6 + g.r.IntN(len(systemParas)-5)
	for _, j := range g.r.Perm(len(systemParas))[:paras] {
		b.WriteString(g.fill(systemParas[j]) + "\n\n")
	}
	if g.r.IntN(2) == 0 {
		b.WriteString("Memory about the user:\n")
		for range 6 + g.r.IntN(20) {
			b.WriteString("- " + g.fill(g.pick(memories)) + "\n")
		}
	}
	b.WriteString("\nSummary of earlier sessions:\n")
	for range 8 + g.r.IntN(30) {
		b.WriteString(g.fill(g.pick(replies)) + " " + g.fill(g.pick(historyAsks)) + ". ")
	}
	if g.r.IntN(2) == 0 {
		b.WriteString("\n\nKnowledge base excerpts:\n")
		for range 2 + g.r.IntN(8) {
			b.WriteString(g.fill(g.pick(docParas)) + "\n")
		}
	}
	return b.String()
}

func (g *gen) historyTurn() (string, string) {
	u := g.fill(g.pick(historyAsks))
	var a strings.Builder
	for range 2 + g.r.IntN(7) {
		a.WriteString(g.fill(g.pick(replies)) + " ")
	}
	return u, strings.TrimSpace(a.String())
}

func (g *gen) wrapCode(ask string) string {
	snip := g.pick(codeSnippets)
	reps := 1 + g.r.IntN(3)
	code := strings.Repeat(snip+"\n", reps)
	if g.r.IntN(2) == 0 {
		return ask + "\n\n```\n" + code + "```"
	}
	return "```\n" + code + "```\n\n" + ask
}

func (g *gen) wrapDoc(ask string) string {
	var b strings.Builder
	b.WriteString(g.fill("{company} — {doc}\nDate: 2026-0{n}-14\n\n"))
	for range 4 + g.r.IntN(16) {
		b.WriteString(g.fill(g.pick(docParas)) + "\n\n")
	}
	if g.r.IntN(2) == 0 {
		return ask + "\n\n" + b.String()
	}
	return b.String() + "\n" + ask
}

func (g *gen) wrapData(ask string) string {
	var b strings.Builder
	b.WriteString("month,region,revenue,customers,churned,tickets\n")
	for i := range 6 + g.r.IntN(30) {
		fmt.Fprintf(&b, "2026-%02d,%s,%d,%d,%d,%d\n", i%12+1, g.pick([]string{"EU", "US", "APAC", "LATAM"}),
			10000+g.r.IntN(90000), 100+g.r.IntN(900), g.r.IntN(80), g.r.IntN(300))
	}
	return ask + "\n\n" + b.String()
}

func (g *gen) toolResult() string {
	var b strings.Builder
	b.WriteString(`{"results":[`)
	for i := range 2 + g.r.IntN(6) {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"title":%q,"snippet":%q,"score":%d}`, g.fill("{topic} and {field}"), g.fill(g.pick(docParas)), g.r.IntN(100))
	}
	b.WriteString("]}")
	return b.String()
}

func (g *gen) toolsDef() []any {
	fn := func(name, desc string) map[string]any {
		return map[string]any{"type": "function", "function": map[string]any{"name": name, "description": desc,
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}}}}
	}
	all := []any{fn("search_web", "Search the web"), fn("get_weather", "Current weather for a city"),
		fn("set_reminder", "Create a reminder"), fn("run_query", "Run a read-only SQL query"),
		fn("get_order", "Look up an order"), fn("book_flight", "Book a flight"), fn("play_music", "Play music")}
	k := 1 + g.r.IntN(len(all))
	return all[:k]
}
