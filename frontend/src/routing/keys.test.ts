import { describe, expect, it } from "vitest";
import { toDraft, toWire, unknownFields } from "./policy";
import type { RoutingPolicy } from "../api/types";

// Applied savings suggestions live in the policy's per-key overrides: saving
// the routing form (or pasting JSON) must keep them, not drop them as unknown.
describe("per-key overrides in the routing form", () => {
  const policy: RoutingPolicy = {
    tiers: { economy: ["sim-small"], standard: ["sim-large"] },
    keys: { key_1: { auto_models: ["sim-large"], max_tokens: 256 } },
  };
  it("survive the form's round trip", () => {
    expect(toWire(toDraft(policy)).keys).toEqual(policy.keys);
  });
  it("are not an unknown field", () => {
    expect(unknownFields(policy)).toEqual([]);
  });
});
