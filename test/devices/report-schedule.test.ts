/**
 * A report schedule's times, without a lab: when `every-n-*` schedules run (`untilRun`: at
 * `schedule-valid-start` plus whole periods, never now) and which `[start, end)` each
 * `time-period` means at a run (`periodOf`, UTC, `week-start`).
 */
import { describe, expect, it } from "vitest"
import { periodOf, untilRun } from "../../src/devices/fortianalyzer/reports.ts"

const at = (iso: string): number => Date.parse(iso)
const HOUR = 3_600_000

describe("report schedule times", () => {
  it("runs every-n-hours at the start minute of each period, the next one after now", () => {
    expect(untilRun(at("2026-12-05T14:10:00Z"), "00:15", HOUR)).toBe(5 * 60_000)
    expect(untilRun(at("2026-12-05T14:15:00Z"), "00:15", HOUR)).toBe(HOUR)
    expect(untilRun(at("2026-12-05T14:10:00Z"), "06:00", 6 * HOUR)).toBe(3 * HOUR + 50 * 60_000)
    expect(untilRun(at("2026-12-05T05:00:00Z"), "06:00", 24 * HOUR)).toBe(HOUR)
    expect(untilRun(at("2026-12-05T07:00:00Z"), "06:00", 24 * HOUR)).toBe(23 * HOUR)
  })

  it("reads each time-period at the run", () => {
    const now = at("2026-12-05T14:10:00Z") // a Saturday
    const period = (timePeriod: Parameters<typeof periodOf>[0]["timePeriod"], periodLastN = 1, weekStart: "sun" | "mon" = "sun") => {
      const p = periodOf({ timePeriod, periodLastN, weekStart }, now)
      return [new Date(p.start).toISOString(), new Date(p.end).toISOString()]
    }
    expect(period("today")).toEqual(["2026-12-05T00:00:00.000Z", "2026-12-05T14:10:00.000Z"])
    expect(period("yesterday")).toEqual(["2026-12-04T00:00:00.000Z", "2026-12-05T00:00:00.000Z"])
    expect(period("last-n-hours", 2)).toEqual(["2026-12-05T12:10:00.000Z", "2026-12-05T14:10:00.000Z"])
    expect(period("last-7-days")).toEqual(["2026-11-28T14:10:00.000Z", "2026-12-05T14:10:00.000Z"])
    expect(period("this-week")).toEqual(["2026-11-29T00:00:00.000Z", "2026-12-05T14:10:00.000Z"])
    expect(period("this-week", 1, "mon")).toEqual(["2026-11-30T00:00:00.000Z", "2026-12-05T14:10:00.000Z"])
    expect(period("last-week")).toEqual(["2026-11-22T00:00:00.000Z", "2026-11-29T00:00:00.000Z"])
  })
})
