package main

import (
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testredis"
)

// TestMain lets testredis start (and stop) a Redis Cluster when the test-services
// script did not provide one.
func TestMain(m *testing.M) { testredis.Main(m) }
