import { describe, expect, it } from "vitest";
import { formatUsd, nanoPer, nanoToDecimal, toNano, usdToNano } from "./money";

describe("formatUsd", () => {
  it.each([
    [0, "$0.00"],
    [1_000_000_000, "$1.00"],
    [16_460_000_000, "$16.46"],
    [1_234_567_890_123n, "$1,234.57"],
    ["1234565000000", "$1,234.57"], // half-up at the cent
    [350_000_000, "$0.35"],
    [12_500_000, "$0.0125"],
    [5_600_000, "$0.0056"], // the design's average request
    [5_649_000, "$0.0056"],
    [85_000_000, "$0.085"], // a Grok-4 request
    [150, "$0.00000015"], // sub-cent: 2 significant digits
    [1, "$0.000000001"],
    [-2_500_000_000, "-$2.50"],
    ["9223372036854775807", "$9,223,372,036.85"], // int64 max stays exact
  ] as const)("%s nano → %s", (nano, want) => {
    expect(formatUsd(nano)).toBe(want);
  });

  it("forces decimals when asked", () => {
    expect(formatUsd(5_600_000, { decimals: 2 })).toBe("$0.01");
    expect(formatUsd(1_000_000_000, { decimals: 0 })).toBe("$1");
  });

  it("formats compactly for axes", () => {
    expect(formatUsd(1_500n * 1_000_000_000n, { compact: true })).toBe("$1.5K");
    expect(formatUsd(2_000_000n * 1_000_000_000n, { compact: true })).toBe("$2M");
    expect(formatUsd(12_340_000_000, { compact: true })).toBe("$12.34");
  });
});

describe("nano conversions", () => {
  it("parses strings without float loss and rejects non-integers", () => {
    expect(toNano("9007199254740993")).toBe(9007199254740993n);
    expect(toNano(null)).toBe(0n);
    expect(() => toNano("1.5")).toThrow();
  });

  it("gives exact decimals", () => {
    expect(nanoToDecimal(12_500_000)).toBe("0.0125");
    expect(nanoToDecimal(3_000_000_000)).toBe("3.00");
    expect(nanoToDecimal(-1)).toBe("-0.000000001");
  });

  it("parses typed dollars", () => {
    expect(usdToNano("250")).toBe(250_000_000_000n);
    expect(usdToNano("0.1")).toBe(100_000_000n);
    expect(usdToNano(" 12.3456789012 ")).toBeNull(); // more than 9 decimals
    expect(usdToNano("12.345678901")).toBe(12_345_678_901n);
    expect(usdToNano("abc")).toBeNull();
    expect(usdToNano("")).toBeNull();
    expect(usdToNano(".5")).toBe(500_000_000n);
  });

  it("averages with integer rounding", () => {
    expect(nanoPer(16_460_000_000, 2956)).toBe(5_568_336n);
    expect(nanoPer(10, 0)).toBe(0n);
    expect(nanoPer(5, 2)).toBe(3n);
  });
});
