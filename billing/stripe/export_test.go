package stripe

import "github.com/stripe/stripe-go/v76/customer"

// RawCustomers exposes the underlying stripe-go customers client to this
// package's external tests, for requests our methods cannot make (an unknown
// parameter).
func (c *Client) RawCustomers() *customer.Client { return c.customers }

// MapError exposes mapError to this package's external tests.
var MapError = mapError
