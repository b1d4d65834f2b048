package stripe_test

import "context"

// testMainContext is the context for work done in TestMain, which has no
// testing.T and so no t.Context().
func testMainContext() context.Context { return context.Background() }
