// Package routing holds everything on the request path between "authenticated
// request" and "provider answered": the provider seam and its implementations
// (OpenAI-compatible, Anthropic, simulated), the model catalog and prices, token
// estimation, cost-aware model selection, and the executor that retries, falls back
// and circuit-breaks. It has no HTTP server of its own; the api package calls it.
//
// Requests stay raw JSON end to end: fields Tollgate does not interpret (tools,
// response_format, temperature, ...) are forwarded byte for byte, and only the
// model (and, for streams, stream_options.include_usage) is rewritten.
package routing
