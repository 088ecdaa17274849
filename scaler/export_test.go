package scaler

// RouteGlobalLoggers lets tests fix the process-global loggers before
// anything runs concurrently (later calls are no-ops and cannot race).
var RouteGlobalLoggers = routeGlobalLoggers
