package routing

import (
	"slices"
	"strings"
)

// The lexicon maps words to concepts. Each word of a turn adds its concept as
// a feature beside its own hash, so the model learns what "a debugging ask" or
// "small talk" weighs from the words it saw, and applies it to words of the
// same concept that training never saw. Words are matched on a crude stem
// (plural, -ed, -ing and -ly removed), so "analyzing" finds "analyze".
var lexicon = map[string][]string{
	"build": {"write", "implement", "code", "program", "script", "function", "build", "develop", "class", "method",
		"module", "library", "endpoint", "api", "cli", "workflow", "pipeline", "regex", "query", "sql", "test", "unit"},
	"fix": {"debug", "fix", "bug", "error", "crash", "panic", "exception", "fail", "failing", "flaky", "race", "leak",
		"broken", "traceback", "stacktrace", "wrong", "incorrect", "investigate", "diagnose", "troubleshoot", "oomkilled",
		"timeout", "deadlock", "regression", "retry", "issue", "problem", "restarting"},
	"change": {"refactor", "optimize", "optimise", "migrate", "migration", "port", "upgrade", "scale", "performance",
		"speed", "convert", "restructure", "redesign", "modernize", "pagination", "deploy", "deployment"},
	"analyze": {"analyze", "analyse", "analysis", "evaluate", "assess", "assessment", "review", "audit", "critique",
		"examine", "interpret", "compare", "comparison", "contrast", "tradeoff", "trade", "pros", "cons", "versus", "vs",
		"risk", "implication", "recommend", "recommendation", "justify", "inconsistency", "discrepancy", "why",
		"explain", "cause", "impact", "evidence", "forecast", "trend", "pattern", "correlate", "insight"},
	"reason": {"prove", "proof", "derive", "derivation", "theorem", "lemma", "calculate", "compute", "solve",
		"equation", "probability", "estimate", "count", "many", "expected", "optimal", "minimize", "maximize",
		"complexity", "algorithm", "formula", "integral", "matrix", "median", "percentile", "compound", "interest",
		"average", "ratio", "rate", "fraction", "percentage", "logic", "puzzle", "deduce", "infer"},
	"plan": {"plan", "strategy", "roadmap", "schedule", "itinerary", "outline", "design", "architect", "architecture",
		"structure", "framework", "budget", "timeline", "milestone", "step", "phase", "sequence", "prioritize",
		"approach", "proposal", "options", "decide", "decision"},
	"compose": {"essay", "story", "article", "report", "letter", "speech", "chapter", "lesson", "curriculum",
		"rubric", "draft", "persuasive", "argument", "narrative", "cover", "resume", "pitch", "script", "poem"},
	"constraint": {"must", "without", "ensure", "exactly", "each", "every", "least", "most", "within", "while",
		"given", "assuming", "constraint", "requirement", "edge", "case", "handle", "keep", "identical", "strict",
		"under", "only", "guarantee", "between", "excluding", "including", "account"},
	"tech": {"database", "schema", "server", "cluster", "kubernetes", "docker", "concurrency", "concurrent", "thread",
		"lock", "async", "cache", "latency", "throughput", "distributed", "consistency", "protocol", "encryption",
		"vulnerability", "security", "authentication", "compiler", "memory", "index", "transaction", "replica",
		"partition", "kafka", "postgres", "mysql", "redis", "terraform", "graphql", "react", "typescript", "python",
		"golang", "rust", "java", "javascript", "json", "yaml", "http", "tcp", "cpu", "gpu", "container", "microservice"},
	"expert": {"legal", "law", "liability", "clause", "tax", "medical", "diagnosis", "dosage", "interaction",
		"symptom", "finance", "financial", "investment", "mortgage", "contract", "compliance", "regulation",
		"lawyer", "doctor", "landlord", "deposit", "insurance", "visa", "lawsuit", "prescription", "ssri"},
	"frontier": {"rigorous", "rigorously", "formal", "formally", "linearizability", "linearizable", "convergence",
		"crdt", "olympiad", "research", "novel", "synthesize", "reconcile", "contradictory", "methodology",
		"confounder", "threat", "adversarial", "byzantine", "consensus", "paxos", "raft", "invariant", "correctness",
		"lock-free", "aba", "asymptotic", "irrational", "infinitely", "prime", "colorable", "bijection", "induction",
		"exactly-once", "partitions", "scrutiny", "power", "literature"},
	"social": {"hi", "hey", "hello", "thanks", "thank", "thx", "ty", "lol", "haha", "hahaha", "lmao", "omg", "ok",
		"okay", "cool", "nice", "great", "awesome", "love", "miss", "sweet", "cute", "goodnight", "night", "morning",
		"bye", "yay", "aww", "wow", "yes", "yeah", "yep", "nope", "sure", "hehe", "xd", "ugh", "hmm", "best",
		"funny", "glad", "welcome", "cheers", "fair", "exactly", "same", "totally", "whatever"},
	"feeling": {"feel", "feeling", "sad", "happy", "tired", "lonely", "anxious", "stressed", "bored", "excited",
		"mood", "cry", "upset", "proud", "nervous", "sleepy", "angry", "grumpy", "hopeful", "relaxed", "scared",
		"worried", "overwhelmed", "rough", "hug", "sleep", "bed"},
	"life": {"cat", "dog", "pet", "kitten", "puppy", "mom", "dad", "sister", "brother", "friend", "boyfriend",
		"girlfriend", "partner", "weekend", "dinner", "lunch", "breakfast", "movie", "show", "song", "music", "game",
		"birthday", "party", "trip", "vacation", "coffee", "food", "cook", "watch", "tonight", "today", "tomorrow",
		"wear", "outfit", "gift", "holiday", "roommate", "neighbour", "neighbor", "grandma"},
	"lookup": {"mean", "meaning", "define", "definition", "synonym", "antonym", "spell", "capital", "translate",
		"say", "called", "who", "when", "where", "time", "weather", "remind", "reminder", "recipe", "joke", "fact",
		"title", "caption", "name", "password", "reset", "invoice", "hours", "cancel", "email", "address",
		"version", "command", "acronym", "stand", "difference", "play", "set", "add", "calendar"},
	"light": {"quick", "quickly", "short", "simple", "brief", "one", "sentence", "tip", "idea", "suggest",
		"polite", "friendlier", "typo", "grammar", "rephrase", "reword", "shorter", "just", "little", "fun",
		"catchy", "couple", "few", "five", "cute", "comment", "rename", "summarize", "summary", "tldr"},
}

// lexTable is an open-addressing table from stem hash to concept id (1-based).
type lexTable struct {
	keys [lexSize]uint32
	vals [lexSize]uint8
}

const lexSize = 4096

// lexConceptCount is the number of concepts (one ask feature each).
const lexConceptCount = 16

// lexConcepts names the concepts by id (index+1), in a fixed order.
var lexConcepts = []string{"build", "fix", "change", "analyze", "reason", "plan", "compose", "constraint", "tech",
	"expert", "frontier", "social", "feeling", "life", "lookup", "light"}

// hardConcepts has the bits of the concepts whose words are a sign of
// difficulty in a short turn (see shortTurn in classifier.go).
var hardConcepts = conceptBits("build", "fix", "change", "analyze", "reason", "compose", "tech", "expert", "frontier")

func conceptBits(names ...string) uint32 {
	var b uint32
	for _, n := range names {
		i := slices.Index(lexConcepts, n)
		if i < 0 {
			panic("routing: unknown lexicon concept " + n)
		}
		b |= 1 << (i + 1)
	}
	return b
}

// lex is built once from lexicon; it is never written afterwards.
var lex = buildLex()

func buildLex() *lexTable {
	if len(lexConcepts) != lexConceptCount {
		panic("routing: the lexicon's concepts and the classifier's ask-concept features disagree")
	}
	t := &lexTable{}
	for id, name := range lexConcepts {
		for _, w := range lexicon[name] {
			h := stemHash(strings.ToLower(w))
			i := h & (lexSize - 1)
			for t.vals[i] != 0 && t.keys[i] != h {
				i = (i + 1) & (lexSize - 1)
			}
			if t.vals[i] == 0 {
				t.keys[i], t.vals[i] = h, uint8(id+1)
			}
		}
	}
	return t
}

func (t *lexTable) lookup(h uint32) uint8 {
	i := h & (lexSize - 1)
	for t.vals[i] != 0 {
		if t.keys[i] == h {
			return t.vals[i]
		}
		i = (i + 1) & (lexSize - 1)
	}
	return 0
}

// stemHash hashes the lowercase word w without a common suffix.
func stemHash(w string) uint32 {
	n := len(w)
	switch {
	case n > 5 && w[n-3:] == "ing":
		n -= 3
	case n > 4 && (w[n-2:] == "ed" || w[n-2:] == "es" || w[n-2:] == "ly"):
		n -= 2
	case n > 3 && w[n-1] == 's':
		n--
	}
	h := uint32(fnvOffset)
	for i := range n {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint32(c)) * fnvPrime
	}
	return h
}

// conceptBucket is the hashed feature of concept id.
func conceptBucket(id uint8) uint32 {
	return (uint32(id)*0x9E3779B1 + 0x632BE5AB) & (clfBuckets - 1)
}
