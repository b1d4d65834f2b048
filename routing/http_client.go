package routing

import (
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the client providers share: one keep-alive transport
// with a large idle pool per host, because a gateway talks to few hosts at high
// concurrency and a fresh TLS handshake costs far more than the 0.3 ms budget.
// It sets no overall timeout: streams last minutes, so deadlines come from ctx
// (the Executor applies per-provider timeouts).
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t}
}
