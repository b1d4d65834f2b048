package api

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// Anthropic's request headers that are passed on to Anthropic upstreams, and
// its request-id response header (which its SDKs quote in errors).
const (
	headerAnthropicVersion = "anthropic-version"
	headerAnthropicBeta    = "anthropic-beta"
	headerAnthropicReqID   = "request-id"
)

// messages serves POST /v1/messages in Anthropic's shape: the body is
// translated into a chat request (routing.ParseMessagesRequest) that takes the
// chat path through the gateway, so any catalog model (and auto) can answer;
// the answer or stream is translated back into Anthropic's shape.
func (o *openAI) messages(c *gin.Context) error {
	c.Header(headerAnthropicReqID, logging.RequestID(c.Request.Context()))
	var mr *routing.MessagesRequest
	parse := func(body []byte) (*routing.ChatRequest, error) {
		var err error
		if mr, err = routing.ParseMessagesRequest(body); err != nil {
			return nil, err
		}
		mr.Chat.AnthropicVersion = c.GetHeader(headerAnthropicVersion)
		mr.Chat.AnthropicBeta = c.GetHeader(headerAnthropicBeta)
		return mr.Chat, nil
	}
	requestID := requestIDs(c).Server
	return o.serveChat(c, parse,
		func(res *gateway.Result) ([]byte, error) {
			return routing.ChatToMessage(res.Body, routing.MessageMeta{RequestID: requestID, Model: res.Model}, res.Usage)
		},
		func(w io.Writer, call *gateway.StreamCall) error {
			return call.Stream.WriteMessages(w, routing.MessageMeta{RequestID: requestID, Model: call.Model, PromptTokens: mr.Chat.PromptTokens})
		})
}

// countTokens serves POST /v1/messages/count_tokens: the prompt's tokens as
// the named model counts them. Nothing is reserved, forwarded or billed.
func (o *openAI) countTokens(c *gin.Context) error {
	c.Header(headerAnthropicReqID, logging.RequestID(c.Request.Context()))
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	mr, err := routing.ParseCountTokensRequest(body)
	if err != nil {
		return err
	}
	n, err := o.d.Gateway.CountTokens(c.Request.Context(), caller, mr.Chat)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"input_tokens": n})
	return nil
}
