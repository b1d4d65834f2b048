package stripe

import "github.com/stripe/stripe-go/v76/client"

// RawAPI exposes the underlying stripe-go client to this package's external
// tests, for requests our methods cannot make (an unknown parameter).
func (c *Client) RawAPI() *client.API { return c.api }

// MapError exposes mapError to this package's external tests.
var MapError = mapError
