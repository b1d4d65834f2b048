package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/routing"
)

// responses serves POST /v1/responses: the body is translated into a chat
// request (routing.ParseResponsesRequest), which takes the chat path through
// the gateway (reserve, route, settle, ledger), and the answer or stream is
// translated back into the Responses shape.
func (o *openAI) responses(c *gin.Context) error {
	caller, err := o.caller(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	rr, err := routing.ParseResponsesRequest(body)
	if err != nil {
		return err
	}
	if err := cacheMode(c, rr.Chat); err != nil {
		return err
	}
	noteModel(c, rr.Chat.Model)
	ctx := c.Request.Context()
	ids := requestIDs(c)
	meta := routing.ResponseMeta{RequestID: ids.Server, CreatedAt: time.Now().Unix(), Echo: rr.Echo}
	if !rr.Chat.Stream {
		res, err := o.d.Gateway.Chat(ctx, caller, ids, rr.Chat)
		if err != nil {
			return err
		}
		out, err := routing.ChatToResponse(res.Body, meta, res.Model, res.Usage)
		if err != nil {
			return err
		}
		c.Header(HeaderModel, res.Model)
		c.Header(HeaderRouteReason, res.RouteReason)
		setCacheHeader(c, res.Cache)
		c.Data(http.StatusOK, "application/json", out)
		return nil
	}
	call, err := o.d.Gateway.ChatStream(ctx, caller, ids, rr.Chat)
	if err != nil {
		return err
	}
	setCacheHeader(c, call.Cache)
	setStreamHeaders(c, call.Model, call.RouteReason)
	pumpErr := call.Stream.WriteResponses(c.Writer, meta, call.Model)
	call.Finish(ctx, pumpErr)
	return nil
}

// setStreamHeaders writes the headers of a server-sent event stream and the 200.
func setStreamHeaders(c *gin.Context, model, routeReason string) {
	hdr := c.Writer.Header()
	hdr.Set(HeaderModel, model)
	hdr.Set(HeaderRouteReason, routeReason)
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
}
