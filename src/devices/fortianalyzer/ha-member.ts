/**
 * An analyzer's HA side: runs `haMemberMachine` (machines/ha-member.ts) for one member of a group
 * and supplies its I/O over real TCP on the member's own TCP/5199, with the frames of
 * `protocols/ha/frames.ts` (docs/protocols/ha.md, "How the lab wires it").
 *
 * - Primary: listens on TCP/5199 (its own address) and, with a virtual IP, has the analyzer bind
 *   its listeners on the group's address; welcomes JOINs, catches joiners up, sends heartbeats,
 *   syncs every stored log (`replicate` for OFTP batches: the ACK to the FortiGate waits for
 *   every secondary's SYNC_ACK; `forwardLogs` for syslog and HTTPS, best-effort) and every
 *   registry change (`configChanged`, `deviceDeleted`).
 * - Secondary: keeps one link to the primary's TCP/5199, answers heartbeats, stores what
 *   LOG_SYNC brings (OFTP records with `appendDeviceBatch`, so each is stored once and `lastSeq`
 *   follows) and applies CONFIG_SYNC rows (`devices.restore`).
 * - After JOIN a secondary sends its own CONFIG_SYNC, `{devices: [{serial, lastSeq}], stores:
 *   [{origin, upTo}]}`: what it holds, so the catch-up sends only the OFTP records above each
 *   `lastSeq` and the other logs (syslog, HTTPS) above each origin's position (`LogStore.
 *   syncPositions`). The catch-up goes in bounded rounds, each confirmed by SYNC_ACK before the
 *   next; the round that finds nothing more makes the link live in the same turn of the event loop,
 *   so every log is either caught up or forwarded live, never both, never neither. The primary ends
 *   the catch-up with a CONFIG_SYNC; the first one after WELCOME makes the secondary SYNCED.
 *
 * Kill is abrupt: sockets are destroyed without GOODBYE. Stop is clean. Freeze is a hung
 * process: the member stops reading and sending (its sockets stay open, paused) and a primary
 * gives up TCP/5199 and the VIP; thawed, it drops those sockets and starts over. Listener
 * changes go through one queue, so a step-down always finishes before the next bind starts.
 *
 * `HaNetwork` is the group's network as the lab emulates it in-process: partitions between two
 * members (their links are cut, new dials and probes between them fail, both stay alive), who
 * holds the virtual IP (one listener per address and port: a second primary cannot bind it), and
 * which members act as primary right now (so the lab reports a split brain when it begins).
 */
import type * as net from "node:net"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { type Actor, createActor, fromPromise } from "xstate"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import { LatenessClock, type LabClock } from "../../machines/clock.ts"
import { countedHeartbeats, type HaMember, rank, splitBrainReason } from "../../machines/ha-election.ts"
import {
  type HaConnectInput,
  type HaMemberEmitted,
  type HaMemberPhase,
  haMemberMachine,
  haMemberPhase,
  type HaMemberRole,
  type HaProbeInput
} from "../../machines/ha-member.ts"
import { encodeFrame, type HaErrorCode, type HaFrame, HaDecoder } from "../../protocols/ha/frames.ts"
import type { Json, JsonObject } from "effect/Schema"
import type { BindError } from "../../net/errors.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { type ConnectionLimitSettings, dialTcp, listenTcp } from "../../net/tcp.ts"
import type { ConnectionRules } from "../shared/connection-rules.ts"
import type { RegisteredDevice } from "../../store/device-registry.ts"
import type { LogRecordInput, LogStore, SyncedLogInput, SyncPosition } from "../../store/log-store.ts"

/** The documented HA port: only the acting primary listens on it. */
export const HA_PORT: PortKey = "tcp/5199"
/** Records per LOG_SYNC frame (about 1.5 MB of JSON, far under the 16 MiB frame limit). */
export const HA_SYNC_BATCH = 1000
/** Store ids a catch-up round walks at most for the logs that are not OFTP records: one round never holds the event loop long. */
const CATCH_UP_WINDOW = 20_000
/** How often a new primary tries again to bind the virtual IP while the old holder lets go of it. */
const VIP_BIND_TRIES = 40
const VIP_BIND_RETRY_MS = 50

/**
 * The network between the members of one HA group, shared by its members (names are lab device
 * ids). A partition cuts HA traffic between two members both ways; the members stay alive.
 */
export class HaNetwork {
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
    return this.#cuts.has(HaNetwork.#key(a, b))
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
    const key = HaNetwork.#key(a, b)
    if (this.#cuts.has(key)) return false
    this.#cuts.add(key)
    for (const watcher of [...this.#watchers]) watcher(a, b)
    return true
  }

  /** Lets `a` and `b` reach each other again. False when they were not cut. */
  heal(a: string, b: string): boolean {
    return this.#cuts.delete(HaNetwork.#key(a, b))
  }

  /** Heartbeats between `a` and `b` arrive `delayMs` late and `lossPercent` of them not at all, until `restore`. */
  degrade(a: string, b: string, impairment: { readonly delayMs: number; readonly lossPercent: number }): void {
    this.#degraded.set(HaNetwork.#key(a, b), impairment)
    this.#sent.delete(`${a}>${b}`)
    this.#sent.delete(`${b}>${a}`)
  }

  isDegraded(a: string, b: string): boolean {
    return this.#degraded.has(HaNetwork.#key(a, b))
  }

  /** Heartbeats between `a` and `b` flow normally again. False when they were not degraded. */
  restore(a: string, b: string): boolean {
    return this.#degraded.delete(HaNetwork.#key(a, b))
  }

  /**
   * What happens to the next heartbeat from `from` to `to`. Losses are spread evenly in each
   * direction, not drawn at random (lossPercent 50 drops every second heartbeat each way), so a
   * scenario gives the same result each run.
   */
  heartbeatFate(from: string, to: string): { readonly drop: boolean; readonly delayMs: number } {
    const impairment = this.#degraded.get(HaNetwork.#key(from, to))
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

/** What the analyzer gives its HA side. */
export interface HaHost {
  readonly id: string
  readonly serial: string
  readonly store: LogStore
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  /** The analyzer's connection rules, which TCP/5199 follows with fixed limits (`HA_PORT_LIMITS`). */
  readonly connections: ConnectionRules
  /** The analyzer's ports, all bound on the group's virtual IP by its primary. */
  readonly vipPorts: ReadonlyArray<PortKey>
  /** Binds the analyzer's listeners on the group's virtual IP: null when bound, else why not (nothing stays bound). */
  openVip(): Promise<BindError | null>
  closeVip(): Promise<void>
}

/**
 * TCP/5199's connection rules, fixed: a group has at most four members, so 64 connections (16
 * from one address with per-device addressing) leave room for members reconnecting while a
 * stale link is still closing; a member sends its JOIN at once.
 */
const HA_PORT_LIMITS: ConnectionLimitSettings = { maxConnections: 64, maxConnectionsPerSource: null, firstByteTimeout: 120_000 }

type MemberActor = Actor<typeof haMemberMachine>

/** A secondary's link, as the primary holds it. */
interface Downlink {
  readonly socket: net.Socket
  serial: string | null
  /** Caught up: live LOG_SYNC goes to it and OFTP ACKs wait for it. */
  joined: boolean
  catchingUp: boolean
  /** Last sync id sent, and the last one the secondary confirmed. */
  sent: number
  acked: number
  readonly waiters: Array<{ readonly upTo: number; readonly resolve: () => void }>
  lastHeard: number
}

/** The secondary's link to its primary. */
interface Uplink {
  readonly socket: net.Socket
  readonly primary: string
  welcomed: boolean
  synced: boolean
  /** Logs stored from this link before it was synced: the catch-up. */
  caughtUp: number
}

/** A secondary finished its catch-up from `primary` (lab name): `stored` logs came in it. */
interface CatchUp {
  readonly primary: string
  readonly stored: number
}

/** A LOG_SYNC record: an OFTP record of a registered device, or another stored log. */
type SyncRecord =
  | { readonly kind: "oftp"; readonly serial: string; readonly held: boolean; readonly log: LogRecordInput & { readonly seq: number } }
  | { readonly kind: "log"; readonly origin: string; readonly originId: number; readonly log: LogRecordInput }

/** Plain data objects as frame bodies (they hold strings, numbers, booleans, null, arrays, objects). */
const json = (value: object): JsonObject => value as unknown as JsonObject

/** An ACK that never comes. */
const NEVER: Promise<void> = new Promise(() => undefined)

const send = (socket: net.Socket, frame: HaFrame): void => {
  if (!socket.destroyed && socket.writable) socket.write(encodeFrame(frame))
}

const errorFrame = (code: HaErrorCode, reason: string): HaFrame => ({ type: "error", body: { code, reason } })

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value)

/** A CONFIG_SYNC row back into a registry row; null when it is not one. */
function registryRow(row: JsonObject): Omit<RegisteredDevice, "lastSeq" | "heldLogs"> | null {
  const text = (key: string): string | null => (typeof row[key] === "string" ? row[key] : null)
  const number = (key: string): number => (typeof row[key] === "number" ? row[key] : 0)
  const serial = text("serial")
  const state = text("state")
  const vdoms = row["vdoms"]
  if (serial === null || (state !== "authorized" && state !== "unauthorized")) return null
  return {
    serial,
    name: text("name") ?? serial,
    platform: text("platform") ?? "",
    version: text("version") ?? "",
    ip: text("ip") ?? "",
    vdoms: Array.isArray(vdoms) ? vdoms.filter((v): v is string => typeof v === "string") : [],
    adom: text("adom"),
    state,
    firstSeen: number("firstSeen"),
    lastSeen: number("lastSeen")
  }
}

export class AnalyzerHa {
  readonly config: HaGroupConfig
  readonly #host: HaHost
  /** The host's clock, telling how late the timer that runs now fired: a stalled process judges no peer silent. */
  readonly #clock: LatenessClock
  readonly #self: HaMember
  #actor: MemberActor | null = null
  /** Listener changes, one after the other. */
  #ops: Promise<void> = Promise.resolve()
  /** Killed: step down without GOODBYE. */
  #abrupt = false
  #listener: Scope.Closeable | null = null
  readonly #downlinks = new Set<Downlink>()
  #uplink: Uplink | null = null
  /** Frozen: reads and sends nothing until THAW. */
  #frozen = false
  /** A frozen member's sockets: open, paused (nothing read, nothing sent), dropped at THAW or stop. */
  readonly #parked = new Set<net.Socket>()
  /** The analyzer listeners on the VIP: bound, being claimed, or held by another primary (split brain). */
  #vip: "none" | "claiming" | "held" | "conflict" = "none"
  /** The reason of the last VIP failure published while primary: a claim that fails the same way again is not news. */
  #vipFailure: string | null = null
  readonly #unwatch: () => void
  /** The catch-up just finished, published (`ha-synced`) once the member is in sync. */
  #caughtUp: CatchUp | null = null

  constructor(host: HaHost, config: HaGroupConfig) {
    this.#host = host
    this.#clock = new LatenessClock(host.clock)
    this.config = config
    const self = config.members.find((member) => member.serial === host.serial)
    if (self === undefined) throw new Error(`bug: ${host.id} is not a member of HA group ${config.group}`)
    this.#self = self
    this.#unwatch = config.network.onPartition((a, b) => this.#partitioned(a, b))
  }

  /**
   * The timer that runs now fired more than a heartbeat period late: this process was stalled, and
   * what its links received meanwhile may still be unread. Silence then proves nothing yet.
   */
  #stalled(): boolean {
    return this.#clock.lateness() > this.config.hbIntervalMs
  }

  get #lostWindowMs(): number {
    return this.config.hbIntervalMs * this.config.hbLostThreshold
  }

  /** The role right now (`none` while stopped, starting or electing). */
  /** The group's key in the scenario (the port plan's name for its virtual IP). */
  get group(): string {
    return this.config.group
  }

  role(): HaMemberRole {
    const phase = this.phase()
    return phase === "primary" ? "primary" : phase === "joining" || phase === "syncing" || phase === "inSync" ? "secondary" : "none"
  }

  phase(): HaMemberPhase {
    return this.#actor === null ? "stopped" : haMemberPhase(this.#actor.getSnapshot())
  }

  /** Why the member is where it is, as a sentence. */
  reason(): string {
    return this.#actor?.getSnapshot().context.reason ?? `${this.#host.id} is stopped`
  }

  start(): void {
    this.#abrupt = false
    this.#unfreeze()
    if (this.#actor === null) {
      this.#actor = this.#createActor()
      this.#actor.start()
    } else {
      this.#actor.send({ type: "START" })
    }
  }

  /** Clean stop: a primary says GOODBYE to its secondaries. Resolves when TCP/5199 and the VIP are closed. */
  stop(): Promise<void> {
    this.#abrupt = false
    this.#actor?.send({ type: "STOP" })
    this.#unfreeze()
    return this.#ops
  }

  /** Abrupt stop (a crash): every HA socket is cut without a word. */
  kill(): Promise<void> {
    this.#abrupt = true
    this.#actor?.send({ type: "KILL" })
    this.#cutAll()
    this.#unfreeze()
    return this.#ops
  }

  /**
   * Alive but silent, as a hung process: no heartbeats, no answers, nothing read. A primary gives
   * up TCP/5199 and the VIP at once (without GOODBYE: its secondaries miss its heartbeats).
   */
  freeze(): void {
    this.#frozen = true
    this.#actor?.send({ type: "FREEZE" })
  }

  /** Back from a freeze: the old sockets are dropped and the member starts over (probe, then join or elect). */
  thaw(): void {
    this.#unfreeze()
    this.#actor?.send({ type: "THAW" })
  }

  /** Stops the machine for good. */
  dispose(): void {
    this.#unwatch()
    this.#actor?.stop()
    this.#cutAll()
    this.#unfreeze()
  }

  #unfreeze(): void {
    this.#frozen = false
    for (const socket of this.#parked) socket.destroy()
    this.#parked.clear()
  }

  /** A frozen member keeps its sockets open but reads nothing more from them. */
  #park(socket: net.Socket): void {
    socket.pause()
    this.#parked.add(socket)
    socket.once("close", () => this.#parked.delete(socket))
  }

  /** Is HA traffic between this member and `member` cut (a partition)? */
  #cutFrom(member: HaMember): boolean {
    return this.config.network.isCut(this.#self.name, member.name)
  }

  /** A new partition: the links between this member and the other one close at once. */
  #partitioned(a: string, b: string): void {
    const me = this.#self.name
    if (a !== me && b !== me) return
    const other = this.config.members.find((member) => member.name === (a === me ? b : a))
    if (other === undefined) return
    for (const link of this.#downlinks) if (link.serial === other.serial) link.socket.destroy()
    if (this.#uplink?.primary === other.serial) this.#uplink.socket.destroy()
  }

  // -------------------------------------------------------------------------------------------
  // Sync out (primary)
  // -------------------------------------------------------------------------------------------

  /**
   * LOG_SYNC of a stored OFTP batch to every caught-up secondary; resolves once each of them
   * confirmed everything sent to it so far (or its link is gone). Null when there is none.
   */
  replicate(serial: string, records: ReadonlyArray<LogRecordInput & { readonly seq: number }>, held: boolean): Promise<void> | null {
    // A member that is no longer primary (killed, frozen, stepping down) vouches for nothing: its
    // sessions on the VIP are about to be cut, and the FortiGates resend to the next primary.
    if (this.phase() !== "primary") return this.config.vip ? NEVER : null
    const links = this.#joinedLinks()
    if (links.length === 0) return null
    if (records.length > 0) {
      const synced: SyncRecord[] = records.map((log) => ({ kind: "oftp", serial, held, log }))
      for (const link of links) this.#sendLogs(link, synced)
    }
    return Promise.all(links.map((link) => this.#confirmed(link, link.sent))).then(() => undefined)
  }

  /**
   * LOG_SYNC of logs stored without an acknowledgement (syslog, HTTPS), stored with ids from
   * `firstId` on: each goes with its origin (this store, its id), so a member that misses it now
   * gets it in its next catch-up, and never twice.
   */
  forwardLogs(batch: ReadonlyArray<LogRecordInput>, firstId: number): void {
    const links = this.#joinedLinks()
    if (links.length === 0) return
    const origin = this.#host.store.uid
    const synced: SyncRecord[] = batch.map((log, i) => ({ kind: "log", origin, originId: firstId + i, log }))
    for (const link of links) this.#sendLogs(link, synced)
  }

  /** A registry row changed (registration, authorization): CONFIG_SYNC to the secondaries. */
  configChanged(): void {
    const links = this.#joinedLinks()
    if (links.length === 0) return
    const devices = this.#configRows()
    for (const link of links) send(link.socket, { type: "config-sync", body: { devices } })
  }

  deviceDeleted(serial: string): void {
    for (const link of this.#joinedLinks()) send(link.socket, { type: "config-sync", body: { devices: [{ serial, deleted: true }] } })
  }

  #joinedLinks(): Downlink[] {
    if (this.phase() !== "primary") return []
    return [...this.#downlinks].filter((link) => link.joined && !link.socket.destroyed)
  }

  #sendLogs(link: Downlink, records: ReadonlyArray<SyncRecord>): void {
    for (let i = 0; i < records.length; i += HA_SYNC_BATCH) {
      const chunk = records.slice(i, i + HA_SYNC_BATCH)
      send(link.socket, { type: "log-sync", body: { firstSyncId: link.sent + 1, records: chunk.map(json) } })
      link.sent += chunk.length
    }
  }

  #confirmed(link: Downlink, upTo: number): Promise<void> {
    if (link.acked >= upTo || link.socket.destroyed) return Promise.resolve()
    return new Promise((resolve) => link.waiters.push({ upTo, resolve }))
  }

  #configRows(): JsonObject[] {
    return this.#host.store.devices.list().map(json)
  }

  // -------------------------------------------------------------------------------------------
  // The machine and its I/O
  // -------------------------------------------------------------------------------------------

  #createActor(): MemberActor {
    const machine = haMemberMachine.provide({
      guards: { ownTimerLate: () => this.#stalled() },
      actors: {
        probePeers: fromPromise<string | null, HaProbeInput>(async ({ input }) => {
          const answers = await Promise.all(input.peers.map((peer) => this.#listens(peer)))
          return input.peers.find((_, i) => answers[i] === true)?.serial ?? null
        }),
        connectToPrimary: fromPromise<void, HaConnectInput>(({ input, signal }) => this.#join(input.primary, signal))
      },
      actions: {
        becomePrimary: () => {
          const primaries = this.config.network.primaryUp(this.#self.name)
          if (primaries !== null) this.#publishSplitBrain(primaries)
          this.#vip = this.config.vip ? "claiming" : "none"
          this.#queue(() => this.#takeOver())
        },
        stepDown: () => {
          const abrupt = this.#abrupt
          this.config.network.primaryDown(this.#self.name)
          const links = [...this.#downlinks]
          this.#downlinks.clear()
          for (const link of links) {
            if (this.#frozen) this.#park(link.socket)
            else if (abrupt) link.socket.destroy()
            else {
              send(link.socket, { type: "goodbye", body: { reason: `${this.#host.id} stepped down` } })
              link.socket.end()
            }
            // Batches still waiting are never acknowledged by this member: it no longer holds the VIP.
            link.waiters.length = 0
          }
          this.#queue(() => this.#letGo())
        },
        sendHeartbeats: () => this.#heartbeat(),
        probeForOtherPrimary: () => {
          for (const other of this.config.members) {
            if (other.serial === this.#self.serial) continue
            void this.#listens(other).then((listening) => {
              if (!listening || this.phase() !== "primary") return
              const holder = this.config.vip ? this.config.network.vipHolder : null
              const vip = holder === this.#self.name ? "mine" : holder === other.name ? "theirs" : "none"
              this.#actor?.send({ type: "OTHER_PRIMARY", serial: other.serial, vip })
            })
          }
        },
        answerHeartbeat: () => {
          const up = this.#uplink
          if (up !== null) this.#sendHeartbeat(up.socket, up.primary, { type: "heartbeat", body: { serial: this.#self.serial, role: "secondary", at: this.#now() } })
        },
        requestHandover: () => {
          const up = this.#uplink
          if (up !== null) send(up.socket, { type: "handover", body: { serial: this.#self.serial } })
        },
        grantHandover: ({ context }) => {
          for (const link of this.#downlinks) {
            if (link.serial === context.currentPrimary) send(link.socket, { type: "handover", body: { serial: this.#self.serial } })
          }
        },
        leavePrimary: () => {
          const up = this.#uplink
          this.#uplink = null
          if (up === null) return
          if (this.#frozen) this.#park(up.socket)
          else up.socket.destroy()
        }
      }
    })
    const actor = createActor(machine, {
      input: {
        self: this.#self.serial,
        members: this.config.members,
        hbIntervalMs: this.config.hbIntervalMs,
        hbLostThreshold: this.config.hbLostThreshold
      },
      clock: this.#clock
    })
    actor.on("*", (event) => this.#publish(event))
    actor.subscribe((snapshot) => {
      const phase = haMemberPhase(snapshot)
      if (phase === "syncing" && this.#uplink?.synced === true) queueMicrotask(() => this.#actor?.send({ type: "SYNCED" }))
      const caughtUp = this.#caughtUp
      if (phase === "inSync" && caughtUp !== null) {
        this.#caughtUp = null
        const { primary, stored } = caughtUp
        const reason = `${this.#self.name} caught up with ${primary}: ${stored} ${stored === 1 ? "log" : "logs"} stored; it is in sync and may take over`
        this.#host.bus.publish({ type: "ha-synced", device: this.#host.id, group: this.config.group, primary, stored, reason })
      }
    })
    return actor
  }

  #publish(event: HaMemberEmitted): void {
    const { bus } = this.#host
    const group = this.config.group
    switch (event.type) {
      case "role-changed":
        bus.publish({ type: "ha-role", device: this.#host.id, group, role: event.role, reason: event.reason })
        break
      case "split-brain":
        // Once per split brain: the lab may have reported it when the second primary appeared.
        if (!this.config.network.reportSplitBrain()) return
        bus.publish({ type: "ha-split-brain", group, primaries: event.primaries.map((s) => this.#nameOf(s)), reason: event.reason })
        break
      case "split-brain-healed":
        bus.publish({ type: "ha-split-brain-healed", group, stepsDown: this.#nameOf(event.stepsDown), stays: this.#nameOf(event.stays), reason: event.reason })
        break
      case "heartbeat-missed":
        bus.publish({ type: "ha-heartbeat-missed", device: this.#host.id, group, from: this.#nameOf(event.from), missed: event.missed, heartbeats: countedHeartbeats(event.missed) })
        break
      case "heartbeat-resumed":
        bus.publish({ type: "ha-heartbeat-resumed", device: this.#host.id, group, from: this.#nameOf(event.from), missed: event.missed, heartbeats: countedHeartbeats(event.missed) })
        break
    }
  }

  /** The lab's own report when a second primary appears (a partition): the members cannot see it yet. */
  #publishSplitBrain(names: ReadonlyArray<string>): void {
    const primaries = rank(this.config.members).filter((member) => names.includes(member.name)).map((member) => member.name)
    this.#host.bus.publish({ type: "ha-split-brain", group: this.config.group, primaries, reason: splitBrainReason(primaries) })
  }

  #nameOf(serial: string | null): string {
    return this.config.members.find((member) => member.serial === serial)?.name ?? serial ?? "nobody"
  }

  #now(): number {
    return Math.max(0, Math.round(this.#host.clock.now()))
  }

  #queue(op: () => Promise<void>): void {
    this.#ops = this.#ops.then(op, op)
  }

  #cutAll(): void {
    for (const link of this.#downlinks) {
      link.socket.destroy()
      link.waiters.length = 0
    }
    this.#downlinks.clear()
    this.#uplink?.socket.destroy()
    this.#uplink = null
  }

  /** Resolves everything waiting on a secondary's link that is gone: there is nobody left to wait for. */
  #release(link: Downlink): void {
    for (const waiter of link.waiters.splice(0)) waiter.resolve()
  }

  /** Does `member` accept on its TCP/5199 right now (seen from this member)? */
  async #listens(member: HaMember): Promise<boolean> {
    if (this.#cutFrom(member)) return false
    const target = this.#host.plan.resolve(member.address, HA_PORT)
    if (target.actualPort === 0) return false
    const localAddress = this.#host.plan.sourceAddressOf(this.#host.id)
    try {
      const socket = await dialTcp({
        host: target.address,
        port: target.actualPort,
        timeoutMs: Math.min(this.config.hbIntervalMs, 1000),
        ...(localAddress === undefined ? {} : { localAddress })
      })
      socket.destroy()
      return !this.#cutFrom(member)
    } catch {
      return false
    }
  }

  // -------------------------------------------------------------------------------------------
  // Primary: TCP/5199, the VIP, heartbeats, JOIN
  // -------------------------------------------------------------------------------------------

  async #takeOver(): Promise<void> {
    if (this.phase() !== "primary") return
    const { plan, bus, id } = this.#host
    const scope = await Effect.runPromise(Scope.make())
    const listening = await Effect.runPromiseExit(
      Scope.provide(scope)(
        listenTcp({
          device: id,
          port: HA_PORT,
          host: plan.addressOf(id),
          actualPort: plan.listenPortFor(HA_PORT),
          ...this.#host.connections.listener(HA_PORT_LIMITS, null, HA_PORT),
          onConnection: (socket) => this.#accept(socket)
        })
      )
    )
    if (Exit.isFailure(listening)) {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      const failure = listening.cause.reasons.find((reason) => reason._tag === "Fail")
      if (failure !== undefined) {
        const error = failure.error
        bus.publish({ type: "listener-failed", device: id, port: HA_PORT, address: error.address, actualPort: error.actualPort, code: error.code, reason: error.reason })
      }
      return
    }
    this.#listener = scope
    const endpoint = { port: HA_PORT, address: listening.value.address, actualPort: listening.value.actualPort } as const
    plan.recordBound({ device: id, ...endpoint })
    bus.publish({ type: "listener-bound", device: id, ...endpoint })
    if (this.config.vip) await this.#claimVip()
  }

  /**
   * Binds the analyzer's listeners on the VIP. On a planned handover the other member lets go of
   * it at the same time: wait for that. A VIP still held by another member after the wait means
   * two primaries (a split brain): one address and port take one listener, so this member serves
   * on its own TCP/5199 only, says so, and takes the VIP once the holder lets go of it.
   */
  async #claimVip(): Promise<void> {
    const { network, group } = this.config
    const me = this.#self.name
    this.#vip = "claiming"
    for (let attempt = 1; ; attempt++) {
      if (this.phase() !== "primary") {
        this.#vip = "none"
        return
      }
      const holder = network.vipHolder
      let failure: BindError | null = null
      if (holder === null || holder === me) {
        // Claimed before the bind, not after it: two primaries never both see the VIP free.
        network.vipHolder = me
        failure = await this.#host.openVip()
        if (failure === null) {
          this.#vip = "held"
          this.#vipFailure = null
          return
        }
        if (network.vipHolder === me) network.vipHolder = null
      }
      // A holder that still acts as primary is not letting go: two primaries (split brain).
      const conflict = holder !== null && holder !== me && network.isPrimary(holder)
      if (conflict || attempt >= VIP_BIND_TRIES) {
        this.#vip = "conflict"
        const reason = conflict
          ? `${me} is primary but ${holder} holds the virtual IP of ${group} (two primaries: split brain); ${me} listens on its own TCP/5199 only`
          : failure !== null
          ? `${me} could not bind the virtual IP of ${group} (${failure.port}: ${failure.reason}); ${me} listens on its own TCP/5199 only`
          : `${me} is primary but ${holder} did not let go of the virtual IP of ${group}`
        this.#publishVipFailure(failure, reason)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, VIP_BIND_RETRY_MS))
    }
  }

  /**
   * One `listener-failed` per failed claim, naming every port of the VIP, and none for a claim
   * that fails the same way as the last one (a primary without the VIP claims it again at every
   * hb-interval once its holder let go of it).
   */
  #publishVipFailure(failure: BindError | null, reason: string): void {
    if (reason === this.#vipFailure) return
    this.#vipFailure = reason
    const { plan, bus, vipPorts } = this.#host
    const { group } = this.config
    const port = vipPorts.find((p) => p === failure?.port) ?? "tcp/514"
    bus.publish({
      type: "listener-failed",
      device: this.#host.id,
      port,
      address: plan.addressOf(group),
      actualPort: failure?.actualPort ?? plan.resolve(group, port).actualPort,
      code: failure?.code ?? "EADDRINUSE",
      reason,
      ports: vipPorts
    })
  }

  async #letGo(): Promise<void> {
    const scope = this.#listener
    this.#listener = null
    this.#vipFailure = null
    if (this.config.vip) {
      await this.#host.closeVip()
      if (this.config.network.vipHolder === this.#self.name) this.config.network.vipHolder = null
    }
    this.#vip = "none"
    if (scope === null) return
    await Effect.runPromise(Scope.close(scope, Exit.void))
    this.#host.plan.forget(this.#host.id, HA_PORT)
    this.#host.bus.publish({ type: "listener-closed", device: this.#host.id, port: HA_PORT })
  }

  #heartbeat(): void {
    // A primary without the VIP (split brain) takes it once its holder let go of it.
    if (this.#vip === "conflict" && this.config.network.vipHolder === null) {
      this.#vip = "claiming"
      this.#queue(() => this.#claimVip())
    }
    const roster = [...this.#downlinks].flatMap((link) => (link.serial === null || link.socket.destroyed ? [] : [link.serial]))
    const now = this.#host.clock.now()
    for (const link of [...this.#downlinks]) {
      if (link.serial === null) continue
      // A secondary silent for a lost-window (frozen, cut off) is dropped: ACKs stop waiting for it.
      // Not right after a stall of this process: its answers may be waiting unread.
      if (now - link.lastHeard > this.#lostWindowMs && !this.#stalled()) {
        link.socket.destroy()
        continue
      }
      this.#sendHeartbeat(link.socket, link.serial, { type: "heartbeat", body: { serial: this.#self.serial, role: "primary", roster, at: this.#now() } })
    }
  }

  /** Sends a heartbeat to the member with `serial`, as the group's network lets it through (the hb-delay / hb-loss faults). */
  #sendHeartbeat(socket: net.Socket, serial: string, frame: HaFrame): void {
    const fate = this.config.network.heartbeatFate(this.#self.name, this.#nameOf(serial))
    if (fate.drop) return
    if (fate.delayMs === 0) send(socket, frame)
    else this.#host.clock.setTimeout(() => {
      if (!socket.destroyed) send(socket, frame)
    }, fate.delayMs)
  }

  #accept(socket: net.Socket): void {
    const link: Downlink = { socket, serial: null, joined: false, catchingUp: false, sent: 0, acked: 0, waiters: [], lastHeard: this.#host.clock.now() }
    this.#downlinks.add(link)
    const decoder = new HaDecoder()
    socket.on("data", (chunk: Buffer) => {
      const result = decoder.push(chunk)
      for (const frame of result.frames) {
        if (socket.destroyed) return
        this.#fromSecondary(link, frame)
      }
      if (result.error !== undefined) this.#refuse(link, result.error.code, result.error.detail)
    })
    socket.on("close", () => {
      // A secondary that went away while this member is primary: stop waiting for it.
      if (this.#downlinks.delete(link)) this.#release(link)
    })
  }

  #refuse(link: Downlink, code: HaErrorCode, reason: string): void {
    send(link.socket, errorFrame(code, reason))
    link.socket.end()
    setTimeout(() => link.socket.destroy(), 1000).unref()
  }

  #fromSecondary(link: Downlink, frame: HaFrame): void {
    link.lastHeard = this.#host.clock.now()
    if (link.serial === null) {
      if (frame.type !== "join") return this.#refuse(link, "join-required", `the first frame on TCP/5199 must be JOIN, got ${frame.type}`)
      const join = frame.body
      if (join.groupId !== this.config.groupId) {
        return this.#refuse(link, "wrong-group", `${this.#host.id} is in group-id ${this.config.groupId}, the JOIN says ${join.groupId}`)
      }
      const joiner = this.config.members.find((member) => member.serial === join.serial)
      if (join.serial === this.#self.serial || joiner === undefined) {
        return this.#refuse(link, "unknown-member", `${join.serial} is not in the peer list of group ${this.config.groupName}`)
      }
      // Partitioned from this member: nothing gets through (no answer at all).
      if (this.#cutFrom(joiner)) return void link.socket.destroy()
      if (this.phase() !== "primary") return this.#refuse(link, "not-primary", `${this.#host.id} is not the primary`)
      link.serial = join.serial
      const roster = [...this.#downlinks].flatMap((other) => (other.serial === null ? [] : [other.serial]))
      send(link.socket, { type: "welcome", body: { serial: this.#self.serial, roster, config: { devices: this.#configRows() } } })
      return
    }
    switch (frame.type) {
      case "config-sync":
        // The secondary's holdings: catch it up, then it is in the live sync.
        if (!link.joined && !link.catchingUp) {
          link.catchingUp = true
          // A store that cannot be read (busy, closed) ends the link: the secondary joins again.
          this.#catchUp(link, frame.body.devices, frame.body.stores ?? []).catch(() => link.socket.destroy())
        }
        return
      case "sync-ack":
        link.acked = Math.max(link.acked, frame.body.upTo)
        for (let i = link.waiters.length - 1; i >= 0; i--) {
          const waiter = link.waiters[i]
          if (waiter !== undefined && waiter.upTo <= link.acked) {
            link.waiters.splice(i, 1)
            waiter.resolve()
          }
        }
        return
      case "handover":
        this.#actor?.send({ type: "HANDOVER_REQUESTED", from: link.serial })
        return
      case "goodbye":
      case "error":
        link.socket.destroy()
        return
      default:
        return
    }
  }

  /**
   * Sends the secondary what it lacks, in rounds: per OFTP device the records above its `lastSeq`
   * (held ones too), and the other logs above its position for their origin, at most
   * `HA_SYNC_BATCH` each, walking at most `CATCH_UP_WINDOW` store ids; each round waits for the
   * secondary's SYNC_ACK. The first round that reaches the end (no full batch, the last store id
   * walked) makes the link live (`joined`) in the same turn: a log stored after it goes out live,
   * one stored before it was caught up.
   */
  async #catchUp(link: Downlink, holdings: ReadonlyArray<JsonObject>, stores: ReadonlyArray<SyncPosition>): Promise<void> {
    const after = new Map<string, number>()
    for (const row of holdings) {
      if (typeof row["serial"] === "string" && typeof row["lastSeq"] === "number") after.set(row["serial"], row["lastSeq"])
    }
    const { store } = this.#host
    let scanned = 0
    for (;;) {
      if (this.phase() !== "primary" || link.socket.destroyed || !this.#downlinks.has(link)) return
      let sent = 0
      /** A full batch somewhere: more may follow. */
      let more = false
      for (const device of store.devices.list()) {
        const logs = store.deviceLogsAfter(device.serial, after.get(device.serial) ?? 0, HA_SYNC_BATCH)
        const last = logs.at(-1)
        if (last === undefined) continue
        this.#sendLogs(link, logs.map(({ id: _id, held, ...log }) => ({ kind: "oftp", serial: device.serial, held, log })))
        after.set(device.serial, last.seq)
        sent += logs.length
        more ||= logs.length === HA_SYNC_BATCH
      }
      const lastId = store.lastId()
      if (scanned < lastId) {
        const to = Math.min(lastId, scanned + CATCH_UP_WINDOW)
        const logs = store.logsToSync(scanned, to, stores, HA_SYNC_BATCH)
        const last = logs.at(-1)
        scanned = last !== undefined && logs.length === HA_SYNC_BATCH ? last.id : to
        this.#sendLogs(link, logs.map(({ id: _id, origin, originId, ...log }) => ({ kind: "log", origin, originId, log })))
        sent += logs.length
      }
      // The rest fitted in this round (the logs stored meanwhile, under a steady stream): go live now.
      if (!more && scanned >= lastId) break
      await (sent > 0 ? this.#confirmed(link, link.sent) : new Promise((resolve) => setImmediate(resolve)))
    }
    link.joined = true
    send(link.socket, { type: "config-sync", body: { devices: this.#configRows() } })
  }

  // -------------------------------------------------------------------------------------------
  // Secondary: the link to the primary
  // -------------------------------------------------------------------------------------------

  /** Connects to `primary`'s TCP/5199, JOINs, and resolves on WELCOME; the link stays. */
  async #join(primary: HaMember, signal: AbortSignal): Promise<void> {
    const { plan } = this.#host
    const unreachable = () => new Error(`${primary.name} is unreachable from ${this.#self.name}: they are partitioned`)
    if (this.#cutFrom(primary)) throw unreachable()
    const target = plan.resolve(primary.address, HA_PORT)
    if (target.actualPort === 0) throw new Error(`${primary.name} does not listen on ${HA_PORT}`)
    const localAddress = plan.sourceAddressOf(this.#host.id)
    const socket = await dialTcp({
      host: target.address,
      port: target.actualPort,
      timeoutMs: this.#lostWindowMs,
      signal,
      ...(localAddress === undefined ? {} : { localAddress })
    })
    if (this.#cutFrom(primary)) {
      socket.destroy()
      throw unreachable()
    }
    this.#uplink?.socket.destroy()
    const up: Uplink = { socket, primary: primary.serial, welcomed: false, synced: false, caughtUp: 0 }
    this.#uplink = up
    socket.on("error", () => undefined)
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string) => {
        socket.destroy()
        if (this.#uplink === up) this.#uplink = null
        reject(new Error(reason))
      }
      signal.addEventListener("abort", () => fail("cancelled"), { once: true })
      const decoder = new HaDecoder()
      socket.on("data", (chunk: Buffer) => {
        const result = decoder.push(chunk)
        for (const frame of result.frames) {
          if (socket.destroyed) return
          if (frame.type === "welcome" && !up.welcomed) {
            up.welcomed = true
            this.#applyConfig(frame.body.config["devices"])
            resolve()
          } else if (frame.type === "error") {
            fail(`${primary.name} refused the JOIN: ${frame.body.code} (${frame.body.reason})`)
          } else if (up.welcomed) {
            this.#fromPrimary(up, frame)
          }
        }
        if (result.error !== undefined) fail(`bad frame from ${primary.name}: ${result.error.code} (${result.error.detail})`)
      })
      socket.on("close", () => {
        if (!up.welcomed) fail(`${primary.name} closed the connection before WELCOME`)
        else if (this.#uplink === up) this.#uplink = null
      })
      const { store } = this.#host
      const holdings = store.devices.list().map((device) => ({ serial: device.serial, lastSeq: device.lastSeq }))
      send(socket, {
        type: "join",
        body: { serial: this.#self.serial, groupId: this.config.groupId, priority: this.#self.priority, preferredRole: this.#self.preferredRole, lastSyncId: 0 }
      })
      send(socket, { type: "config-sync", body: { devices: holdings, stores: store.syncPositions() } })
    })
  }

  #fromPrimary(up: Uplink, frame: HaFrame): void {
    const actor = this.#actor
    switch (frame.type) {
      case "heartbeat":
        actor?.send({ type: "HEARTBEAT_RECEIVED", from: up.primary })
        return
      case "log-sync": {
        const records = frame.body.records
        try {
          const stored = this.#storeSynced(records)
          if (!up.synced) up.caughtUp += stored
        } catch {
          // Not stored, so not confirmed: the primary stops waiting for this member once the link is gone.
          up.socket.destroy()
          return
        }
        send(up.socket, { type: "sync-ack", body: { upTo: frame.body.firstSyncId + records.length - 1 } })
        return
      }
      case "config-sync":
        this.#applyConfig(frame.body.devices)
        if (!up.synced) {
          up.synced = true
          this.#caughtUp = { primary: this.#nameOf(up.primary), stored: up.caughtUp }
          if (this.phase() === "syncing") actor?.send({ type: "SYNCED" })
        }
        return
      case "goodbye":
        actor?.send({ type: "PRIMARY_GOODBYE", from: up.primary, reason: frame.body.reason })
        return
      case "handover":
        actor?.send({ type: "HANDOVER_GRANTED", from: up.primary })
        return
      default:
        return
    }
  }

  /**
   * Stores LOG_SYNC records, each once: OFTP runs per device with `appendDeviceBatch` (by seq),
   * the rest with `appendSynced` (by origin). Returns how many were new.
   */
  #storeSynced(records: ReadonlyArray<JsonObject>): number {
    const { store } = this.#host
    let run: { serial: string; held: boolean; logs: Array<LogRecordInput & { readonly seq: number }> } | null = null
    let others: SyncedLogInput[] = []
    let stored = 0
    const flushRun = () => {
      if (run !== null) stored += store.appendDeviceBatch(run.serial, run.logs, { held: run.held }).stored
      run = null
    }
    const flushOthers = () => {
      stored += store.appendSynced(others)
      others = []
    }
    for (const value of records) {
      const record = value as unknown as SyncRecord
      if (!isObject(value["log"])) continue
      if (record.kind === "oftp") {
        flushOthers()
        if (run === null || run.serial !== record.serial || run.held !== record.held) {
          flushRun()
          run = { serial: record.serial, held: record.held, logs: [] }
        }
        run.logs.push(record.log)
      } else {
        flushRun()
        others.push({ ...record.log, origin: record.origin, originId: record.originId })
      }
    }
    flushRun()
    flushOthers()
    return stored
  }

  /**
   * Applies CONFIG_SYNC rows: a `deleted` row removes that device; otherwise the rows are the
   * primary's whole registry (WELCOME, the end of a catch-up, every change), so a device the
   * primary no longer has is removed here too: deleted while this member was away.
   */
  #applyConfig(rows: Json | undefined | ReadonlyArray<JsonObject>): void {
    if (!Array.isArray(rows)) return
    const { store } = this.#host
    const values = (rows as ReadonlyArray<Json>).filter(isObject)
    const deletions = values.filter((value) => value["deleted"] === true && typeof value["serial"] === "string")
    for (const value of deletions) {
      if (store.devices.get(value["serial"] as string) !== undefined) store.devices.remove(value["serial"] as string)
    }
    if (deletions.length > 0) return
    const kept = new Set<string>()
    for (const value of values) {
      if (typeof value["serial"] === "string") kept.add(value["serial"])
      const row = registryRow(value)
      if (row !== null) store.devices.restore(row)
    }
    for (const device of store.devices.list()) {
      if (!kept.has(device.serial)) store.devices.remove(device.serial)
    }
  }
}
