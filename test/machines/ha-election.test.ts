/** The HA election rule: ranking, the candidate walk, and the exact sentences of role changes. */
import { describe, expect, it } from "vitest"
import { compareMembers, type HaMember, nextCandidate, rank, type RoleChange, roleChangeReason, splitBrainReason } from "../../src/machines/ha-election.ts"

const m = (name: string, serial: string, priority = 100, preferredRole: HaMember["preferredRole"] = "secondary"): HaMember => ({
  name,
  serial,
  address: `127.0.1.${name.at(-1)?.charCodeAt(0) ?? 0}:5199`,
  priority,
  preferredRole
})

const names = (members: ReadonlyArray<HaMember>): string[] => members.map((member) => member.name)

describe("rank", () => {
  it.each<[string, HaMember[], string[]]>([
    ["higher priority first", [m("a", "FAZ-1", 100), m("b", "FAZ-2", 120)], ["b", "a"]],
    ["lower serial breaks a priority tie", [m("a", "FAZ-VM0000000002"), m("b", "FAZ-VM0000000001")], ["b", "a"]],
    ["serials compare as strings", [m("a", "FAZ-10"), m("b", "FAZ-9")], ["a", "b"]],
    ["preferred-role primary beats any priority", [m("a", "FAZ-1", 120), m("b", "FAZ-2", 80, "primary")], ["b", "a"]],
    ["preferred-role primaries rank among themselves by priority", [m("a", "FAZ-1", 90, "primary"), m("b", "FAZ-2", 110, "primary")], ["b", "a"]],
    [
      "four members: preferred role, then priority, then serial",
      [m("a", "FAZ-4", 100), m("b", "FAZ-3", 120), m("c", "FAZ-2", 100), m("d", "FAZ-1", 80, "primary")],
      ["d", "b", "c", "a"]
    ]
  ])("%s", (_, members, expected) => {
    expect(names(rank(members))).toEqual(expected)
    expect(names(rank([...members].reverse()))).toEqual(expected)
  })

  it("does not change its input", () => {
    const members = [m("a", "FAZ-1", 80), m("b", "FAZ-2", 120)]
    rank(members)
    expect(names(members)).toEqual(["a", "b"])
  })

  it("compares a member with itself as equal", () => {
    const a = m("a", "FAZ-1")
    expect(compareMembers(a, a)).toBe(0)
  })
})

describe("nextCandidate", () => {
  const ranked = rank([m("a", "FAZ-1", 120), m("b", "FAZ-2", 110), m("c", "FAZ-3", 100), m("d", "FAZ-4", 90)])

  it.each<[string, string[], string | null]>([
    ["the best member when no one is dead", [], "a"],
    ["skips the dead primary", ["FAZ-1"], "b"],
    ["skips dead candidates wherever they rank", ["FAZ-1", "FAZ-3", "FAZ-2"], "d"],
    ["ignores serials that are not members", ["FAZ-9"], "a"],
    ["null when everyone is dead", ["FAZ-1", "FAZ-2", "FAZ-3", "FAZ-4"], null]
  ])("%s", (_, dead, expected) => {
    expect(nextCandidate(ranked, new Set(dead))?.name ?? null).toBe(expected)
  })
})

describe("roleChangeReason", () => {
  it.each<[RoleChange, string]>([
    [
      { kind: "elected", member: "faz-b", cause: { kind: "heartbeats-missed", from: "faz-a", missed: 3, hbIntervalMs: 1000 }, skipped: [] },
      "faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s"
    ],
    [
      { kind: "elected", member: "faz-d", cause: { kind: "heartbeats-missed", from: "faz-a", missed: 5, hbIntervalMs: 250 }, skipped: ["faz-b", "faz-c"] },
      "faz-d became primary: 5 heartbeats missed from faz-a at hb-interval 0.25 s; faz-b and faz-c did not answer"
    ],
    [{ kind: "elected", member: "faz-a", cause: { kind: "start" }, skipped: [] }, "faz-a became primary: no primary answered at start"],
    [
      { kind: "elected", member: "faz-d", cause: { kind: "start" }, skipped: ["faz-a", "faz-b", "faz-c"] },
      "faz-d became primary: no primary answered at start; faz-a, faz-b and faz-c did not answer"
    ],
    [
      { kind: "elected", member: "faz-b", cause: { kind: "goodbye", from: "faz-a", reason: "faz-a stopped" }, skipped: [] },
      "faz-b became primary: faz-a said goodbye (faz-a stopped)"
    ],
    [{ kind: "joined", member: "faz-b", primary: "faz-a" }, "faz-b became secondary: faz-a is primary"],
    [{ kind: "handover-taken", member: "faz-a", from: "faz-b" }, "faz-a became primary: planned handover from faz-b (faz-a has preferred-role primary)"],
    [{ kind: "handover-given", member: "faz-b", to: "faz-a" }, "faz-b became secondary: planned handover to faz-a (faz-a has preferred-role primary)"],
    [{ kind: "split-brain-healed", member: "faz-b", stays: "faz-a" }, "faz-b became secondary: split brain healed, faz-a stays primary"],
    [{ kind: "stopped", member: "faz-a" }, "faz-a stopped"],
    [{ kind: "killed", member: "faz-a" }, "faz-a was killed"]
  ])("%j", (change, sentence) => {
    expect(roleChangeReason(change)).toBe(sentence)
  })

  it("names both primaries of a split brain", () => {
    expect(splitBrainReason(["faz-a", "faz-b"])).toBe("split brain: faz-a and faz-b are both primary")
  })
})
