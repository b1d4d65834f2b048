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
	meta := routing.ResponseMeta{RequestID: requestIDs(c).Server, CreatedAt: time.Now().Unix()}
	parse := func(body []byte) (*routing.ChatRequest, error) {
		rr, err := routing.ParseResponsesRequest(body)
		if err != nil {
			return nil, err
		}
		meta.Echo = rr.Echo
		return rr.Chat, nil
	}
	return o.serveChat(c, parse,
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
