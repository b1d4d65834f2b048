//go:build benchrouting

package main

// Built only with -tags benchrouting (make bench-routing): the whole held-out
// split takes a while and prints a report rather than asserting floors, which
// TestRoutingFloorsHeldOut does on a slice in every run.

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// TestBenchRouting is make bench-routing: the whole held-out split, printed.
func TestBenchRouting(t *testing.T) {
	single := runRoutingBench(t, "single-turn requests (routing alone)", benchItems(t, false, 1), benchPolicy())
	fmt.Println(single.String())
	if items := benchItems(t, true, 1); len(items) > 0 {
		convs := runRoutingBench(t, "multi-turn conversations, turn by turn under a conversation id (routing and caching)", items, benchPolicy())
		fmt.Println(convs.String())
	} else {
		fmt.Println("== the set has no held-out conversations: no caching figures")
	}
	c, err := routing.DefaultClassifier()
	require.NoError(t, err)
	b, _ := c.MarshalBinary()
	fmt.Printf("classifier: %d bytes, standard threshold %.3f, premium threshold %.2f\n", len(b), c.StandardThreshold, c.PremiumThreshold)
}
