import { describe, expect, it } from "vitest";
import { tryKey } from "./playground";
import { ApiError } from "../api/errors";

function fakeFetch(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  }) as unknown as typeof fetch;
  return { f, calls };
}

describe("tryKey", () => {
  it("sends one auto request with the key and reads the answer and Tollgate's headers", async () => {
    const { f, calls } = fakeFetch(200, { choices: [{ message: { role: "assistant", content: "hi there" } }] }, {
      "x-tollgate-model": "sim-small",
      "x-tollgate-route-reason": "auto_economy; p=0.1",
      "x-tollgate-cost-nano": "12300",
      "x-tollgate-request-id": "req_1",
    });
    const r = await tryKey("tg_secret", "hello", f);
    expect(r).toEqual({ answer: "hi there", model: "sim-small", routeReason: "auto_economy; p=0.1", costNano: "12300", requestId: "req_1" });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("/v1/chat/completions");
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer tg_secret");
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ model: "auto", messages: [{ role: "user", content: "hello" }], max_tokens: 64 });
  });

  it("throws the API's message on a refusal", async () => {
    const { f } = fakeFetch(403, { error: { message: "this key lacks the inference scope", type: "permission_error" } });
    await expect(tryKey("tg_x", "hi", f)).rejects.toEqual(new ApiError(403, "this key lacks the inference scope", "permission_error"));
  });
});
