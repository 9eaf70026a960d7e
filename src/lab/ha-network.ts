/**
 * The network between the members of one HA group as the lab emulates it in-process, with its
 * faults: partitions between two members (their links are cut, new dials and probes between them
 * fail, both stay alive), degraded heartbeats (late, or some lost), who holds the group's virtual
 * IP (one listener per address and port: a second primary cannot bind it), and which members act
 * as primary right now (so the lab reports a split brain when it begins). The lab's `partition`,
 * `heal` and `degrade` act here; the members see it as the `HaNetwork` they ask.
 */
import type { HaNetwork } from "../devices/fortianalyzer/ha-group.ts"

/**
 * The network between the members of one HA group, shared by its members (names are lab device
 * ids). A partition cuts HA traffic between two members both ways; the members stay alive.
 */
export class LabHaNetwork implements HaNetwork {
  readonly #cuts = new Set<string>()
  readonly #degraded = new Map<string, { readonly delayMs: number; readonly lossPercent: number }>()
  /** Heartbeats sent so far under a degradation, per direction ("a>b"): losses are spread per direction. */
  readonly #sent = new Map<string, number>()
  readonly #watchers = new Set<(a: string, b: string) => void>()
  readonly #primaries = new Set<string>()
  #splitBrainReported = false
  /** The member whose analyzer listeners are bound on the virtual IP, if any. */
  vipHolder: string | null = null

  static #key(a: string, b: string): string {
    return a < b ? `${a} ${b}` : `${b} ${a}`
  }

  /** Can `a` and `b` not reach each other? */
  isCut(a: string, b: string): boolean {
    return this.#cuts.has(LabHaNetwork.#key(a, b))
  }

  /** The pairs cut right now, e.g. [["faz-a", "faz-b"]]. */
  partitions(): ReadonlyArray<readonly [string, string]> {
    return [...this.#cuts].map((key) => {
      const [a = "", b = ""] = key.split(" ")
      return [a, b] as const
    })
  }

  /** Cuts `a` from `b`; the members' links between them close at once. False when already cut. */
  partition(a: string, b: string): boolean {
    const key = LabHaNetwork.#key(a, b)
    if (this.#cuts.has(key)) return false
    this.#cuts.add(key)
    for (const watcher of [...this.#watchers]) watcher(a, b)
    return true
  }

  /** Lets `a` and `b` reach each other again. False when they were not cut. */
  heal(a: string, b: string): boolean {
    return this.#cuts.delete(LabHaNetwork.#key(a, b))
  }

  /** Heartbeats between `a` and `b` arrive `delayMs` late and `lossPercent` of them not at all, until `restore`. */
  degrade(a: string, b: string, impairment: { readonly delayMs: number; readonly lossPercent: number }): void {
    this.#degraded.set(LabHaNetwork.#key(a, b), impairment)
    this.#sent.delete(`${a}>${b}`)
    this.#sent.delete(`${b}>${a}`)
  }

  isDegraded(a: string, b: string): boolean {
    return this.#degraded.has(LabHaNetwork.#key(a, b))
  }

  /** Heartbeats between `a` and `b` flow normally again. False when they were not degraded. */
  restore(a: string, b: string): boolean {
    return this.#degraded.delete(LabHaNetwork.#key(a, b))
  }

  /**
   * What happens to the next heartbeat from `from` to `to`. Losses are spread evenly in each
   * direction, not drawn at random (lossPercent 50 drops every second heartbeat each way), so a
   * scenario gives the same result each run.
   */
  heartbeatFate(from: string, to: string): { readonly drop: boolean; readonly delayMs: number } {
    const impairment = this.#degraded.get(LabHaNetwork.#key(from, to))
    if (impairment === undefined) return { drop: false, delayMs: 0 }
    const direction = `${from}>${to}`
    const n = this.#sent.get(direction) ?? 0
    this.#sent.set(direction, n + 1)
    const drop = Math.floor(((n + 1) * impairment.lossPercent) / 100) > Math.floor((n * impairment.lossPercent) / 100)
    return { drop, delayMs: impairment.delayMs }
  }

  /** Calls `watcher` with the two members of every new partition; returns the unsubscribe. */
  onPartition(watcher: (a: string, b: string) => void): () => void {
    this.#watchers.add(watcher)
    return () => this.#watchers.delete(watcher)
  }

  /** `member` acts as primary; the primaries now when that makes more than one for the first time (a split brain begins). */
  primaryUp(member: string): ReadonlyArray<string> | null {
    this.#primaries.add(member)
    return this.#primaries.size > 1 && this.reportSplitBrain() ? [...this.#primaries] : null
  }

  primaryDown(member: string): void {
    this.#primaries.delete(member)
    if (this.#primaries.size <= 1) this.#splitBrainReported = false
  }

  isPrimary(member: string): boolean {
    return this.#primaries.has(member)
  }

  /** True once per split brain, while it lasts: the lab reports it when it begins, so a member's later detection is not news. */
  reportSplitBrain(): boolean {
    if (this.#splitBrainReported || this.#primaries.size <= 1) return false
    this.#splitBrainReported = true
    return true
  }
}
