package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tracing is off unless an OTLP endpoint (or OTEL_TRACES_EXPORTER=otlp) is set,
// and OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turn it off again.
func TestTelemetryFromStandardVariables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      map[string]string
		enabled  bool
		protocol string
	}{
		{"off by default", map[string]string{}, false, ProtocolHTTP},
		{"endpoint turns it on", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true, ProtocolHTTP},
		{"traces endpoint alone", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true, ProtocolHTTP},
		{"exporter otlp uses the SDK's default endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, ProtocolHTTP},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, ProtocolGRPC},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, true, ProtocolGRPC},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, false, ProtocolHTTP},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false, ProtocolHTTP},
		{"sdk disabled false keeps it on", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "false"}, true, ProtocolHTTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.env)
			require.NoError(t, err)
			require.Equal(t, tc.enabled, c.Telemetry.Enabled)
			require.Equal(t, tc.protocol, c.Telemetry.Protocol)
		})
	}
}

func TestTelemetryRefusesWhatItCannotExport(t *testing.T) {
	t.Parallel()
	_, err := Parse(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
	require.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_PROTOCOL")
	require.ErrorContains(t, err, "grpc or http/protobuf")
	_, err = Parse(map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"})
	require.ErrorContains(t, err, "OTEL_TRACES_EXPORTER")
	// An unsupported protocol does not matter while tracing is off.
	_, err = Parse(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
	require.NoError(t, err)
}

// OTEL_* variables only in .env reach the process environment, where the
// OpenTelemetry SDK reads them; the process environment still wins.
func TestDotenvTelemetryReachesTheSDK(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(path, []byte("OTEL_SERVICE_NAME=from-dotenv\nOTEL_EXPORTER_OTLP_ENDPOINT=http://dotenv:4318\n"), 0o600))
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://process:4318")
	t.Setenv("OTEL_SERVICE_NAME", "")
	require.NoError(t, os.Unsetenv("OTEL_SERVICE_NAME"))
	c, err := FromOSWithDotenv(path)
	require.NoError(t, err)
	require.True(t, c.Telemetry.Enabled)
	require.Equal(t, "from-dotenv", os.Getenv("OTEL_SERVICE_NAME"))
	require.Equal(t, "http://process:4318", os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

// The batching variables, with the SDK's defaults and its reading of invalid
// values (the default).
func TestTelemetryBatching(t *testing.T) {
	t.Parallel()
	c, err := Parse(map[string]string{})
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, c.Telemetry.BatchDelay)
	require.Equal(t, 30*time.Second, c.Telemetry.ExportTimeout)
	require.Equal(t, 2048, c.Telemetry.MaxQueueSize)
	require.Equal(t, 512, c.Telemetry.MaxExportBatchSize)

	c, err = Parse(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "0",
		"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "x"})
	require.NoError(t, err)
	require.Equal(t, 250*time.Millisecond, c.Telemetry.BatchDelay)
	require.Zero(t, c.Telemetry.ExportTimeout)
	require.Equal(t, 100, c.Telemetry.MaxQueueSize)
	require.Equal(t, 100, c.Telemetry.MaxExportBatchSize, "the default 512 exceeds the queue")

	c, err = Parse(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "0", "OTEL_BSP_EXPORT_TIMEOUT": "-1",
		"OTEL_BSP_MAX_QUEUE_SIZE": "-5", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"})
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, c.Telemetry.BatchDelay)
	require.Equal(t, 30*time.Second, c.Telemetry.ExportTimeout)
	require.Equal(t, 2048, c.Telemetry.MaxQueueSize)
	require.Equal(t, 64, c.Telemetry.MaxExportBatchSize)
}
