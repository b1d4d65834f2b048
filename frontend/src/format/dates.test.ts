import { describe, expect, it } from "vitest";
import { daysBetween, formatDateTime, formatDay, formatRelative, formatTime, isoDateInZone, monthElapsed, monthStartInZone } from "./dates";

const instant = "2025-03-01T02:30:00Z";

describe("dates in a given time zone", () => {
  it("shows the same instant in each zone", () => {
    expect(formatDateTime(instant, "UTC")).toBe("Mar 1, 2025, 02:30");
    expect(formatDateTime(instant, "America/Los_Angeles")).toBe("Feb 28, 2025, 18:30");
    expect(formatDateTime(instant, "Asia/Kolkata")).toBe("Mar 1, 2025, 08:00");
    expect(formatTime(instant, "Europe/Berlin")).toBe("03:30:00");
  });

  it("handles missing and invalid values", () => {
    expect(formatDateTime(null)).toBe("—");
    expect(formatDateTime("nope")).toBe("—");
  });

  it("computes the calendar day and month start in the zone", () => {
    const d = new Date(instant);
    expect(isoDateInZone(d, "UTC")).toBe("2025-03-01");
    expect(isoDateInZone(d, "America/New_York")).toBe("2025-02-28");
    expect(monthStartInZone(d, "America/New_York")).toBe("2025-02-01");
  });

  it("never shifts rollup days", () => {
    expect(formatDay("2025-03-01")).toBe("Mar 1");
    expect(formatDay("2025-03-01", "en-US", true)).toBe("Mar 1, 2025");
    expect(daysBetween("2025-02-27", "2025-03-02")).toEqual(["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02"]);
  });

  it("reads relative times", () => {
    const now = new Date("2025-03-10T12:00:00Z");
    expect(formatRelative(null, now)).toBe("never");
    expect(formatRelative("2025-03-10T11:59:50Z", now)).toBe("just now");
    expect(formatRelative("2025-03-10T11:55:00Z", now)).toBe("5 min ago");
    expect(formatRelative("2025-03-10T09:00:00Z", now)).toBe("3 h ago");
    expect(formatRelative("2025-03-17T12:00:00Z", now)).toBe("in 7 d");
    expect(formatRelative("2024-12-01T12:00:00Z", now, "UTC")).toBe("Dec 1, 2024");
  });

  it("measures month progress in UTC", () => {
    const { elapsedMs, totalMs } = monthElapsed(new Date("2025-02-15T00:00:00Z"));
    expect(elapsedMs / totalMs).toBe(0.5);
  });
});
