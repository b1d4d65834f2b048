package stripe

import (
	"fmt"
	"log/slog"
)

// levelTrace is below slog.LevelDebug: stripe-go's debug lines carry whole
// response bodies (customer names, emails), so they show only when asked for.
const levelTrace = slog.LevelDebug - 4

// leveledLogger adapts stripe-go's LeveledLoggerInterface to slog. stripe-go's
// interface has no context, so records go out without request attributes; the
// error each call returns carries the context that matters.
//
// Levels: stripe-go's per-request "Requesting…"/"completed" info lines and its
// info-level user errors (4xx) become Debug, since our callers log the returned
// error themselves; warnings (retries) stay Warn, errors (5xx, network) stay Error.
type leveledLogger struct {
	logger *slog.Logger
}

func (l *leveledLogger) Debugf(format string, v ...any) { l.log(levelTrace, format, v) }
func (l *leveledLogger) Infof(format string, v ...any)  { l.log(slog.LevelDebug, format, v) }
func (l *leveledLogger) Warnf(format string, v ...any)  { l.log(slog.LevelWarn, format, v) }
func (l *leveledLogger) Errorf(format string, v ...any) { l.log(slog.LevelError, format, v) }

func (l *leveledLogger) log(level slog.Level, format string, v []any) {
	// stripe-go passes no context; slog treats a nil one as empty.
	if !l.logger.Enabled(nil, level) { //nolint:staticcheck // no context to pass
		return
	}
	l.logger.Log(nil, level, fmt.Sprintf(format, v...), "source", "stripe-go")
}
