/**
 * The HA election rule as plain functions: the static ranking of a group, the candidate walk, and
 * the sentences that explain every role change.
 *
 * Every member ranks the same configured list the same way (preferred-role primary first, then
 * higher priority, then lower serial), so elections are deterministic: a member without a primary
 * walks that list, skipping members known dead, and the first one left is the candidate
 * (docs/protocols/ha.md, "Election").
 */
import type { HaRole } from "../protocols/ha/frames.ts"

/**
 * "1 heartbeat", "2 heartbeats": the one wording of every sentence that counts heartbeats; the HA
 * events carry it (`heartbeats`) for those who draw them.
 */
export const countedHeartbeats = (count: number): string => `${count} ${count === 1 ? "heartbeat" : "heartbeats"}`

/** One configured member of an HA group, as every member knows it (the unicast peer list). */
export interface HaMember {
  /** Lab name shown in sentences (the device id, e.g. "faz-a"). */
  readonly name: string
  readonly serial: string
  /** Where its TCP/5199 is, as the device's port plan names it. */
  readonly address: string
  /** `priority`: 80 (lowest) - 120 (highest), default 100. */
  readonly priority: number
  /** `preferred-role`, default secondary. */
  readonly preferredRole: HaRole
}

/** Negative when `a` ranks better than `b`: preferred-role primary, higher priority, lower serial. */
export function compareMembers(a: HaMember, b: HaMember): number {
  if (a.preferredRole !== b.preferredRole) return a.preferredRole === "primary" ? -1 : 1
  if (a.priority !== b.priority) return b.priority - a.priority
  if (a.serial === b.serial) return 0
  return a.serial < b.serial ? -1 : 1
}

/** The members best first. */
export function rank(members: ReadonlyArray<HaMember>): HaMember[] {
  return [...members].sort(compareMembers)
}

/** The best member of `ranked` not in `dead` (serials); null when all are dead. */
export function nextCandidate(ranked: ReadonlyArray<HaMember>, dead: ReadonlySet<string>): HaMember | null {
  return ranked.find((member) => !dead.has(member.serial)) ?? null
}

/** `hb-interval` as people write it: "1 s", "0.5 s". */
export const formatInterval = (ms: number): string => `${ms / 1000} s`

/** "faz-a", "faz-a and faz-b", "faz-a, faz-b and faz-c". */
function listNames(names: ReadonlyArray<string>): string {
  if (names.length <= 1) return names.join("")
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`
}

/** Why a member walked the candidate list (it had no primary). */
export type WalkCause =
  /** It started and no peer answered as primary on TCP/5199. */
  | { readonly kind: "start" }
  /** It was secondary and nothing came from the primary for hb-interval × hb-lost-threshold. */
  | { readonly kind: "heartbeats-missed"; readonly from: string; readonly missed: number; readonly hbIntervalMs: number }
  /** Its primary closed the link with GOODBYE. */
  | { readonly kind: "goodbye"; readonly from: string; readonly reason: string }

/** Why a member's role changed; names are lab names. */
export type RoleChange =
  /** The walk ended on this member; `skipped` are better candidates that did not answer. */
  | { readonly kind: "elected"; readonly member: string; readonly cause: WalkCause; readonly skipped: ReadonlyArray<string> }
  | { readonly kind: "joined"; readonly member: string; readonly primary: string }
  | { readonly kind: "handover-taken"; readonly member: string; readonly from: string }
  | { readonly kind: "handover-given"; readonly member: string; readonly to: string }
  | { readonly kind: "split-brain-healed"; readonly member: string; readonly stays: string }
  | { readonly kind: "stopped"; readonly member: string }
  | { readonly kind: "killed"; readonly member: string }

function walkText(cause: WalkCause): string {
  switch (cause.kind) {
    case "start":
      return "no primary answered at start"
    case "heartbeats-missed":
      return `${countedHeartbeats(cause.missed)} missed from ${cause.from} at hb-interval ${formatInterval(cause.hbIntervalMs)}`
    case "goodbye":
      return `${cause.from} said goodbye (${cause.reason})`
  }
}

/** The sentence published with a role change, e.g. "faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s". */
export function roleChangeReason(change: RoleChange): string {
  switch (change.kind) {
    case "elected": {
      const skipped = change.skipped.length === 0 ? "" : `; ${listNames(change.skipped)} did not answer`
      return `${change.member} became primary: ${walkText(change.cause)}${skipped}`
    }
    case "joined":
      return `${change.member} became secondary: ${change.primary} is primary`
    case "handover-taken":
      return `${change.member} became primary: planned handover from ${change.from} (${change.member} has preferred-role primary)`
    case "handover-given":
      return `${change.member} became secondary: planned handover to ${change.to} (${change.to} has preferred-role primary)`
    case "split-brain-healed":
      return `${change.member} became secondary: split brain healed, ${change.stays} stays primary`
    case "stopped":
      return `${change.member} stopped`
    case "killed":
      return `${change.member} was killed`
  }
}

/** The group's own sentence when a split brain heals (the member's role change says it in its own words). */
export const splitBrainHealedReason = (stepsDown: string, stays: string): string => `split brain healed: ${stepsDown} steps down, ${stays} stays primary`

/** "split brain: faz-a and faz-b are both primary" (names best-ranked first). */
export const splitBrainReason = (primaries: ReadonlyArray<string>): string => `split brain: ${listNames(primaries)} are both primary`
