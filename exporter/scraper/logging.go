package scraper

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// SetLogger routes go-redis' internal messages (dial failures, pool
// events) to logger at debug level: the scraper already reports each
// failure once, with the target, as a warning.
func SetLogger(logger *slog.Logger) {
	redis.SetLogger(slogAdapter{logger})
	log = logger
}

// log receives the scraper's own warnings (a refused extra command).
var log = slog.New(slog.DiscardHandler)

type slogAdapter struct{ logger *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.logger.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// logger is the package logger (SetLogger).
func logger() *slog.Logger { return log }
