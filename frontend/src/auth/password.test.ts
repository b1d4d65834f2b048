import { describe, expect, it } from "vitest";
import { passwordProblem } from "./password";

describe("passwordProblem", () => {
  it.each([
    ["short", "short", "at least 10"],
    ["x".repeat(257), "x".repeat(257), "at most 256"],
    ["long enough pw", "long enough pW", "differ"],
  ])("refuses %#", (pw, again, want) => {
    expect(passwordProblem(pw, again)).toContain(want);
  });
  it("accepts 10 to 256 characters repeated", () => {
    expect(passwordProblem("x".repeat(10), "x".repeat(10))).toBeNull();
    expect(passwordProblem("y".repeat(256), "y".repeat(256))).toBeNull();
  });
});
