package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
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
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	mr, err := routing.ParseMessagesRequest(body)
	if err != nil {
		return err
	}
	noteModel(c, mr.Chat.Model)
	mr.Chat.AnthropicVersion = c.GetHeader(headerAnthropicVersion)
	mr.Chat.AnthropicBeta = c.GetHeader(headerAnthropicBeta)
	if err := cacheMode(c, mr.Chat); err != nil {
		return err
	}
	ctx := c.Request.Context()
	ids := requestIDs(c)
	if !mr.Chat.Stream {
		res, err := o.d.Gateway.Chat(ctx, caller, ids, mr.Chat)
		if err != nil {
			return err
		}
		out, err := routing.ChatToMessage(res.Body, routing.MessageMeta{RequestID: ids.Server, Model: res.Model}, res.Usage)
		if err != nil {
			return err
		}
		c.Header(HeaderModel, res.Model)
		c.Header(HeaderRouteReason, res.RouteReason)
		setCacheHeader(c, res.Cache)
		c.Data(http.StatusOK, "application/json", out)
		return nil
	}
	call, err := o.d.Gateway.ChatStream(ctx, caller, ids, mr.Chat)
	if err != nil {
		return err
	}
	setCacheHeader(c, call.Cache)
	setStreamHeaders(c, call.Model, call.RouteReason)
	pumpErr := call.Stream.WriteMessages(c.Writer, routing.MessageMeta{RequestID: ids.Server, Model: call.Model,
		PromptTokens: mr.Chat.PromptTokens})
	call.Finish(ctx, pumpErr)
	return nil
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
