import { describe, expect, it } from "vitest";
import { placeProblems, placedCount, problemsOfError, splitProblems } from "./problems";
import { errorFromBody } from "../api/errors";

describe("routing problems", () => {
  it("splits the API's message into its problems", () => {
    expect(splitProblems('invalid routing policy: rules[0]: set at least one condition; rules[2].tier: unknown tier "x"')).toEqual([
      "rules[0]: set at least one condition",
      'rules[2].tier: unknown tier "x"',
    ]);
  });

  it("places each problem at its rule and field, tier, ladder step or policy field", () => {
    const e = placeProblems([
      "rules[0]: set at least one condition",
      'rules[2].tier: unknown tier "x"',
      "rules[2].name: a keyword rule needs a unique name",
      'tiers.economy: unknown model "nope"',
      "ladder[1]: steps must be sorted by at_percent",
      "standard_threshold: must be a probability from 0 (the model's default) to below 1",
      "cache.ttl_seconds: must be from 0 (one hour) to 2592000 (30 days)",
      "something odd happened",
    ]);
    expect(e.rules).toEqual({
      0: [{ message: "set at least one condition" }],
      2: [
        { field: "tier", message: 'unknown tier "x"' },
        { field: "name", message: "a keyword rule needs a unique name" },
      ],
    });
    expect(e.tiers).toEqual({ economy: ['unknown model "nope"'] });
    expect(e.ladder).toEqual({ 1: [{ message: "steps must be sorted by at_percent" }] });
    expect(e.fields).toEqual({
      standard_threshold: ["must be a probability from 0 (the model's default) to below 1"],
      "cache.ttl_seconds": ["must be from 0 (one hour) to 2592000 (30 days)"],
    });
    expect(e.general).toEqual(["something odd happened"]);
    expect(placedCount(e)).toBe(7);
  });

  it("maps a 400 from the API, using its param as the path", () => {
    const fromMessage = problemsOfError(errorFromBody(400, { error: { message: "invalid routing policy: rules[1].tier: unknown tier \"gold\"", type: "invalid_request_error" } }));
    expect(placeProblems(fromMessage!).rules).toEqual({ 1: [{ field: "tier", message: 'unknown tier "gold"' }] });
    const fromParam = problemsOfError(errorFromBody(400, { error: { message: "the response cache needs Redis", param: "cache.enabled" } }));
    expect(fromParam).toEqual(["cache.enabled: the response cache needs Redis"]);
    expect(problemsOfError(errorFromBody(500, { error: { message: "boom" } }))).toBeNull();
  });
});
