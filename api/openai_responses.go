package api

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
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
	ids := requestIDs(c)
	meta := routing.ResponseMeta{RequestID: ids.Server, CreatedAt: time.Now().Unix(), Echo: rr.Echo}
	return o.serveChat(c, caller, rr.Chat,
		func(res *gateway.Result) ([]byte, error) {
			return routing.ChatToResponse(res.Body, meta, res.Model, res.Usage)
		},
		func(w io.Writer, call *gateway.StreamCall) error {
			return call.Stream.WriteResponses(w, meta, call.Model)
		})
}

// setStreamHeaders writes the headers of a server-sent event stream and the 200.
func setStreamHeaders(c *gin.Context, model, routeReason string) {
	hdr := c.Writer.Header()
	hdr.Set(canonModel, model)
	hdr.Set(canonRouteReason, routeReason)
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
}
