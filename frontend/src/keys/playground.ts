// "Try this key": one chat request through the OpenAI-compatible API with a key
// just created, as an app would send it, and what Tollgate said about it.

import { errorFromBody } from "../api/errors";

/** What one test request answered, and Tollgate's headers about it. */
export interface TryResult {
  answer: string;
  /** x-tollgate-model: the model that answered. */
  model: string;
  /** x-tollgate-route-reason: why the router picked it. */
  routeReason: string;
  /** x-tollgate-cost-nano: what the request cost (integer nano-USD as sent); "" when absent. */
  costNano: string;
  /** x-tollgate-request-id: the id it is billed and listed under. */
  requestId: string;
}

/** The request the playground sends: model auto, the user's prompt, a small answer. */
export function tryRequest(prompt: string): { model: string; messages: { role: "user"; content: string }[]; max_tokens: number } {
  return { model: "auto", messages: [{ role: "user", content: prompt }], max_tokens: 64 };
}

/**
 * Sends one chat request with the key. A refusal (a key without the inference
 * scope, a budget) throws the API's own one-line message.
 */
export async function tryKey(secret: string, prompt: string, fetchImpl: typeof fetch = fetch): Promise<TryResult> {
  const res = await fetchImpl("/v1/chat/completions", {
    method: "POST",
    headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
    body: JSON.stringify(tryRequest(prompt)),
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw errorFromBody(res.status, body);
  const choice = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0];
  const content = choice?.message?.content;
  return {
    answer: typeof content === "string" ? content : "",
    model: res.headers.get("x-tollgate-model") ?? "",
    routeReason: res.headers.get("x-tollgate-route-reason") ?? "",
    costNano: res.headers.get("x-tollgate-cost-nano") ?? "",
    requestId: res.headers.get("x-tollgate-request-id") ?? "",
  };
}
