import { describe, expect, it } from "vitest";
import { currentCursor, FIRST_PAGE, nextPage, normalizeSearch, prevPage } from "./paging";

describe("cursor stack", () => {
  it("starts on the first page", () => {
    expect(currentCursor(FIRST_PAGE)).toBe("");
    expect(prevPage(FIRST_PAGE)).toBe(FIRST_PAGE);
  });
  it("walks forward and back", () => {
    const two = nextPage(FIRST_PAGE, "c1");
    const three = nextPage(two, "c2");
    expect(currentCursor(three)).toBe("c2");
    expect(currentCursor(prevPage(three))).toBe("c1");
    expect(currentCursor(prevPage(prevPage(three)))).toBe("");
  });
  it("ignores an empty or repeated next_cursor", () => {
    const two = nextPage(FIRST_PAGE, "c1");
    expect(nextPage(two, "")).toBe(two);
    expect(nextPage(two, undefined)).toBe(two);
    expect(nextPage(two, "c1")).toBe(two);
  });
});

describe("normalizeSearch", () => {
  it("trims and collapses spaces", () => {
    expect(normalizeSearch("  ada   lovelace ")).toBe("ada lovelace");
    expect(normalizeSearch("   ")).toBe("");
  });
});
