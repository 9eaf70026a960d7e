/**
 * An HA group as each of its members sees it (the scenario's `ha:`; docs/protocols/ha.md): its
 * settings, its members, and the network between them. The network is the lab's
 * (`lab/ha-network.ts` emulates partitions, degraded heartbeats and the virtual IP's single
 * holder in-process); a member only asks it the questions below, so a member in a process of its
 * own could ask a real network instead.
 */
import type { PortKey } from "../../events/events.ts"
import type { HaMember } from "../../machines/ha-election.ts"

/** The documented HA port: only the acting primary listens on it. */
export const HA_PORT: PortKey = "tcp/5199"

/** What a member asks of the network between the members of its group (names are lab device ids). */
export interface HaNetwork {
  /** Can `a` and `b` not reach each other (a partition)? */
  isCut(a: string, b: string): boolean
  /** Calls `watcher` with the two members of every new partition; returns the unsubscribe. */
  onPartition(watcher: (a: string, b: string) => void): () => void
  /** What happens to the next heartbeat from `from` to `to` (dropped, or late by `delayMs`). */
  heartbeatFate(from: string, to: string): { readonly drop: boolean; readonly delayMs: number }
  /** The member whose analyzer listeners are bound on the virtual IP, if any. */
  vipHolder: string | null
  /** `member` acts as primary; the primaries now when that makes more than one for the first time (a split brain begins). */
  primaryUp(member: string): ReadonlyArray<string> | null
  primaryDown(member: string): void
  isPrimary(member: string): boolean
  /** True once per split brain, while it lasts. */
  reportSplitBrain(): boolean
}

/** One HA group as each of its members sees it. */
export interface HaGroupConfig {
  /** The group's key in the scenario: the port plan's name for its virtual IP. */
  readonly group: string
  readonly groupId: number
  readonly groupName: string
  readonly hbIntervalMs: number
  readonly hbLostThreshold: number
  /** The group has a virtual IP: the primary binds the analyzer's listeners there. */
  readonly vip: boolean
  /** Every member; `address` is the member's device id (its name in the port plan). */
  readonly members: ReadonlyArray<HaMember>
  /** The links between the members: partitions, the VIP's holder. One per group, shared. */
  readonly network: HaNetwork
}
