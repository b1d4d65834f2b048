package events

import (
	"testing"

	"github.com/tollgate-dev/tollgate/internal/testredis"
)

func TestMain(m *testing.M) { testredis.Main(m) }
