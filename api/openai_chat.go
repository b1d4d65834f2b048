package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// Response headers of the OpenAI-compatible API.
const (
	HeaderModel       = "x-tollgate-model"
	HeaderRouteReason = "x-tollgate-route-reason"
	// HeaderCostNano is what a non-streamed answer cost, in integer nano-USD, and
	// HeaderCostUSD the same in dollars ("0.000012300"): the amount the ledger
	// records. A stream's cost is known only at its end: the usage API has it.
	HeaderCostNano = "x-tollgate-cost-nano"
	HeaderCostUSD  = "x-tollgate-cost-usd"
)

// setCostHeaders writes the answer's cost headers.
func setCostHeaders(c *gin.Context, cost billing.NanoUSD) {
	c.Header(canonCostNano, strconv.FormatInt(int64(cost), 10))
	c.Header(canonCostUSD, cost.USDString())
}

// answerHeaders are the names writeAnswer sets, in its order.
var answerHeaders = [...]string{canonModel, canonRouteReason, canonCostNano, canonCostUSD, canonCache, "Content-Type", "Content-Length"}

// writeAnswer writes a whole answer as c.Header of the model and route reason,
// setCostHeaders, setCacheHeader and c.Data(200, "application/json", out) do
// (an empty value removes its header, an empty cache value and a Content-Type
// already set leave theirs), with one backing array for the header values and
// one string for the numbers instead of one allocation per header, and no
// render value.
func writeAnswer(c *gin.Context, res *gateway.Result, out []byte) {
	h := c.Writer.Header()
	// The cost in nano-USD and in dollars and the length: one string, sliced.
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], int64(res.Cost), 10)
	nano := len(b)
	b = res.Cost.AppendUSD(b)
	usd := len(b)
	if len(out) > 0 {
		b = strconv.AppendInt(b, int64(len(out)), 10)
	}
	nums := string(b)
	vals := [len(answerHeaders)]string{res.Model, res.RouteReason, nums[:nano], nums[nano:usd], res.Cache,
		"application/json", nums[usd:]}
	if len(h["Content-Type"]) > 0 {
		vals[5] = ""
	}
	store := make([]string, len(vals))
	for i, k := range answerHeaders {
		switch {
		case vals[i] != "":
			store[i] = vals[i]
			h[k] = store[i : i+1 : i+1]
		case i < 4:
			h.Del(k)
		}
	}
	c.Status(http.StatusOK)
	if _, err := c.Writer.Write(out); err != nil {
		_ = c.Error(err)
		c.Abort()
	}
}

// OpenAIDeps are what the /v1 routes need.
type OpenAIDeps struct {
	Keys     *apikeys.KeyAuthenticator
	Registry *tenants.Registry
	Gateway  *gateway.Service
	// Refusals records refused requests (the ledger writer); nil records none.
	Refusals RefusalAppender
}

// OpenAIRoutes registers POST /v1/chat/completions, GET /v1/models,
// POST /v1/embeddings, POST /v1/responses (OpenAI's Responses shape) and
// POST /v1/messages and /v1/messages/count_tokens (Anthropic's shape) behind
// API-key authentication.
func OpenAIRoutes(d OpenAIDeps) func(*gin.Engine) {
	o := &openAI{d: d}
	return func(e *gin.Engine) {
		v1 := e.Group("/v1", recordRefusals(d.Refusals), RequireAPIKey(d.Keys, "inference"))
		v1.POST("/chat/completions", h(o.chat))
		v1.GET("/models", h(o.models))
		v1.POST("/embeddings", h(o.embeddings))
		v1.POST("/responses", h(o.responses))
		v1.POST("/messages", h(o.messages))
		v1.POST("/messages/count_tokens", h(o.countTokens))
		v1.POST("/feedback", h(o.feedback))
	}
}

// HeaderConversation names the conversation a request belongs to, for session
// affinity; it wins over prompt_cache_key, user and the history hash.
const HeaderConversation = "x-tollgate-conversation"

// HeaderCache asks for (on) or bypasses (off) the tenant's response cache on a
// request, and says hit or miss on the response when the cache applied.
const HeaderCache = "x-tollgate-cache"

// cacheMode reads x-tollgate-cache into req.
func cacheMode(c *gin.Context, req *routing.ChatRequest) error {
	switch v := strings.ToLower(strings.TrimSpace(c.GetHeader(canonCache))); v {
	case "", "on", "off":
		req.CacheMode = v
		return nil
	}
	return errkind.InvalidParam(HeaderCache, "the x-tollgate-cache header must be on or off")
}

// setCacheHeader writes x-tollgate-cache: hit|miss when the cache applied.
func setCacheHeader(c *gin.Context, v string) {
	if v != "" {
		c.Writer.Header().Set(canonCache, v)
	}
}

type feedbackBody struct {
	RequestID      string `json:"request_id"`
	Rating         int    `json:"rating"`
	NeededStronger bool   `json:"needed_stronger"`
	Comment        string `json:"comment"`
}

// feedback: POST /v1/feedback {request_id, rating 1-5 and/or needed_stronger,
// comment}: a rating of one of the caller's tenant's requests, used by
// route train and the per-tenant threshold calibration.
func (o *openAI) feedback(c *gin.Context) error {
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	raw, err := readBody(c)
	if err != nil {
		return err
	}
	var body feedbackBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return &errkind.Error{Kind: errkind.Invalid, Code: CodeMalformedBody,
			Message: `body must be JSON like {"request_id":"...","rating":1-5,"needed_stronger":true,"comment":"..."}: ` + err.Error()}
	}
	rec, err := o.d.Gateway.Feedback(c.Request.Context(), caller, gateway.FeedbackInput{RequestID: body.RequestID,
		Rating: body.Rating, NeededStronger: body.NeededStronger, Comment: body.Comment})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, rec)
	return nil
}

type openAI struct{ d OpenAIDeps }

// caller extracts the authenticated key once and turns it into the gateway's Caller.
func (o *openAI) caller(c *gin.Context) (gateway.Caller, error) {
	k, ok := KeyFrom(c)
	if !ok {
		return gateway.Caller{}, errkind.New(errkind.Unauthenticated, "missing API key")
	}
	p, ok := tenants.PrincipalFrom(c.Request.Context())
	if !ok {
		return gateway.Caller{}, errkind.New(errkind.Unauthenticated, "missing API key")
	}
	hd, err := o.d.Registry.Handle(p)
	if err != nil {
		return gateway.Caller{}, err
	}
	caller := gateway.Caller{Handle: hd, KeyID: k.ID, KeyName: k.Name, MemberID: k.CreatedBy, Models: k.Models,
		RequestsPerMinute: k.RPMLimit, TokensPerMinute: k.TPMLimit}
	if k.RPMLimit > 0 || k.TPMLimit > 0 {
		// OpenAI's rate-limit headers on every response of a limited key: the
		// limits now, what is left once the request reserved (or was refused).
		hdr := c.Writer.Header()
		for _, l := range []struct {
			what  string
			limit int64
		}{{"requests", k.RPMLimit}, {"tokens", k.TPMLimit}} {
			if l.limit > 0 {
				hdr.Set("x-ratelimit-limit-"+l.what, strconv.FormatInt(l.limit, 10))
			}
		}
		caller.OnRate = func(rs []meter.RateUsage) {
			for _, r := range rs {
				what := "requests"
				if r.Kind == meter.RateKindTokens {
					what = "tokens"
				}
				hdr.Set("x-ratelimit-limit-"+what, strconv.FormatInt(r.Limit, 10))
				hdr.Set("x-ratelimit-remaining-"+what, strconv.FormatInt(r.Remaining, 10))
				hdr.Set("x-ratelimit-reset-"+what, r.Reset.Round(time.Millisecond).String())
			}
		}
	}
	return caller, nil
}

// requestIDs are the server's id of this request and the client's own, if any.
func requestIDs(c *gin.Context) gateway.RequestIDs {
	return gateway.RequestIDs{Server: logging.RequestID(c.Request.Context()), Client: clientRequestID(c)}
}

// maxPresizedBody bounds the buffer readBody allocates on the client's word (its
// Content-Length) before any byte arrived; larger bodies grow as they arrive.
const maxPresizedBody = 256 << 10

// readBody reads the request body. A body with a Content-Length (the usual case)
// is read into one buffer of that size: io.ReadAll starts at 512 bytes and
// regrows, copying a 14 KB prompt six times.
func readBody(c *gin.Context) ([]byte, error) {
	var body []byte
	var err error
	if n := c.Request.ContentLength; n > 0 && n <= maxPresizedBody {
		body = make([]byte, n)
		_, err = io.ReadFull(c.Request.Body, body)
	} else {
		body, err = io.ReadAll(c.Request.Body)
	}
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, errkind.New(errkind.TooLarge, "request body is over the %d-byte limit", maxErr.Limit)
		}
		return nil, errkind.Wrap(errkind.Invalid, err, "could not read the request body")
	}
	return body, nil
}

func (o *openAI) chat(c *gin.Context) error {
	return o.serveChat(c, routing.ParseChatRequest,
		func(res *gateway.Result) ([]byte, error) { return res.Body, nil },
		func(w io.Writer, call *gateway.StreamCall) error { _, err := call.Stream.WriteTo(w); return err })
}

// serveChat runs a chat request, whichever client API it came through, along the
// one gateway path (one reservation, one ledger entry) and writes the answer:
// parse reads the request from the body, body turns a whole answer into the
// client API's shape, stream writes a stream in it.
//
// A stream is relayed on the request's goroutine, which keeps the stack it
// grew for the whole stream and its connection's next requests. Parsing,
// opening and finishing the stream go deeper than the relay (encoding/json's
// decoder alone recurses a kilobyte a level), so they run offStack, and the
// frames below the relay are kept small: the relay then fits in 8 KB of stack
// instead of 16.
func (o *openAI) serveChat(c *gin.Context, parse func([]byte) (*routing.ChatRequest, error),
	body func(*gateway.Result) ([]byte, error), stream func(io.Writer, *gateway.StreamCall) error) error {
	call, err := o.startChat(c, parse, body)
	if err != nil || call == nil {
		return err
	}
	pumpErr := stream(c.Writer, call)
	_, _ = offStack(func() (billing.NanoUSD, error) { return call.Finish(c.Request.Context(), pumpErr), nil })
	return nil
}

// openedChat is a chat request parsed and, when it streams, opened upstream.
type openedChat struct {
	req  *routing.ChatRequest
	call *gateway.StreamCall
}

// startChat answers a whole (non-streamed) request and returns a nil call, or
// opens a stream, sets its headers and returns it for serveChat to relay.
func (o *openAI) startChat(c *gin.Context, parse func([]byte) (*routing.ChatRequest, error),
	body func(*gateway.Result) ([]byte, error)) (*gateway.StreamCall, error) {
	caller, err := o.caller(c)
	if err != nil {
		return nil, err
	}
	raw, err := readBody(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	ids := requestIDs(c)
	open := func() (openedChat, error) {
		req, err := parse(raw)
		if err != nil {
			return openedChat{}, err
		}
		if err := chatHeaders(c, req); err != nil {
			return openedChat{}, err
		}
		if !req.Stream {
			return openedChat{req: req}, nil
		}
		call, err := o.d.Gateway.ChatStream(ctx, caller, ids, req)
		if err != nil {
			return openedChat{}, err
		}
		setCacheHeader(c, call.Cache)
		setStreamHeaders(c, call.Model, call.RouteReason)
		// Sent here: writing a header block (sorting and escaping it) goes
		// twice as deep as relaying an event.
		c.Writer.Flush()
		// The noted model points into req, and so holds its prompt for as
		// long as the stream: a stream notes a copy.
		model := req.Model
		noteModel(c, &model)
		return openedChat{req: req, call: call}, nil
	}
	// Only a stream needs its goroutine kept shallow, and a body that never
	// names "stream" is no stream (a false positive, such as "stream":false,
	// costs a goroutine hand-over; a false negative, an escaped name, only a
	// larger stack): a whole answer is served without the hand-over.
	var opened openedChat
	if bytes.Contains(raw, []byte(`"stream"`)) {
		opened, err = offStack(open)
	} else {
		opened, err = open()
	}
	if err != nil {
		return nil, err
	}
	if opened.call != nil {
		return opened.call, nil
	}
	res, err := o.d.Gateway.Chat(ctx, caller, ids, opened.req)
	if err != nil {
		return nil, err
	}
	out, err := body(res)
	if err != nil {
		return nil, err
	}
	writeAnswer(c, res, out)
	return nil, nil
}

// chatHeaders reads the request headers of a chat request into req.
func chatHeaders(c *gin.Context, req *routing.ChatRequest) error {
	noteModel(c, &req.Model)
	if conv := c.GetHeader(canonConversation); conv != "" {
		if len(conv) > 256 {
			return errkind.InvalidParam(HeaderConversation, "the x-tollgate-conversation header must be at most 256 bytes")
		}
		req.Conversation = conv
	}
	return cacheMode(c, req)
}

func (o *openAI) embeddings(c *gin.Context) error {
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req, err := routing.ParseEmbeddingRequest(body)
	if err != nil {
		return err
	}
	noteModel(c, &req.Model)
	res, err := o.d.Gateway.Embed(c.Request.Context(), caller, requestIDs(c), req)
	if err != nil {
		return err
	}
	c.Header(HeaderModel, res.Model)
	c.Header(HeaderRouteReason, res.RouteReason)
	setCostHeaders(c, res.Cost)
	c.Data(http.StatusOK, "application/json", res.Body)
	return nil
}

type modelDTO struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (o *openAI) models(c *gin.Context) error {
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	data := []modelDTO{{ID: routing.ModelAuto, Object: "model", OwnedBy: "tollgate"}}
	models, err := o.d.Gateway.Models(c.Request.Context(), caller)
	if err != nil {
		return err
	}
	for _, m := range models {
		data = append(data, modelDTO{ID: m.ID, Object: "model", OwnedBy: m.Provider})
	}
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": data})
	return nil
}
