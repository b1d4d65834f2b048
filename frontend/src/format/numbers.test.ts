import { describe, expect, it } from "vitest";
import { formatInt, formatPercent, formatTokens } from "./numbers";

describe("formatTokens", () => {
  it.each([
    [0, "0"],
    [950, "950"],
    [3387, "3.39K"],
    [12_345, "12.3K"],
    [999_999, "1000K"],
    [4_560_000, "4.56M"],
    [1_200_000_000, "1.2B"],
    [null, "0"],
  ] as const)("%s → %s", (n, want) => {
    expect(formatTokens(n)).toBe(want);
  });

  it("groups integers and formats percents", () => {
    expect(formatInt(2956)).toBe("2,956");
    expect(formatPercent(0.4567)).toBe("45.7%");
    expect(formatPercent(0.5)).toBe("50%");
  });
});
