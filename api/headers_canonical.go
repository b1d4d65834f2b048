package api

import "net/http"

// Canonical forms of the headers every inference request reads or writes.
// http.Header canonicalises a lower-case name into a new string on each Get
// and Set; a name already canonical costs nothing, and the wire shows the
// canonical form either way.
var (
	canonModel           = http.CanonicalHeaderKey(HeaderModel)
	canonRouteReason     = http.CanonicalHeaderKey(HeaderRouteReason)
	canonCostNano        = http.CanonicalHeaderKey(HeaderCostNano)
	canonCostUSD         = http.CanonicalHeaderKey(HeaderCostUSD)
	canonCache           = http.CanonicalHeaderKey(HeaderCache)
	canonConversation    = http.CanonicalHeaderKey(HeaderConversation)
	canonRequestID       = http.CanonicalHeaderKey(HeaderRequestID)
	canonClientRequestID = http.CanonicalHeaderKey(HeaderClientRequestID)
	canonAPIKey          = http.CanonicalHeaderKey(HeaderAPIKey)
)
