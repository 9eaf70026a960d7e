/**
 * An HA member's primary side. While the member is primary it holds TCP/5199 on its own address
 * and, in a group with a virtual IP, the analyzer's listeners on the group's address: both are one
 * resource, acquired when the member becomes primary and released when it steps down, held in an
 * Effect `ScopedRef` (one hold at a time: the next one is acquired only after the last one was
 * let go). Secondaries dial in and JOIN; each is caught up in bounded rounds confirmed by
 * SYNC_ACK (per OFTP device the records above its `lastSeq`, the other logs above its position for
 * their origin), then gets every stored log live (`replicate` for OFTP batches: the ACK to the
 * FortiGate waits for every secondary's SYNC_ACK; `forwardLogs` for syslog and HTTPS,
 * best-effort) and every registry change (`configChanged`, `deviceDeleted`), and a heartbeat
 * every hb-interval.
 */
import type * as net from "node:net"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { JsonObject } from "effect/Schema"
import * as Scope from "effect/Scope"
import * as ScopedRef from "effect/ScopedRef"
import { rank, splitBrainReason } from "../../machines/ha-election.ts"
import type { BindError } from "../../net/errors.ts"
import { type ConnectionLimitSettings, listenTcp } from "../../net/tcp.ts"
import { type HaErrorCode, type HaFrame, HaDecoder } from "../../protocols/ha/frames.ts"
import { decodeHolding, type SyncRecord } from "../../protocols/ha/sync.ts"
import type { LogRecordInput, SyncPosition } from "../../store/log-record.ts"
import { HA_PORT } from "./ha-group.ts"
import { errorFrame, type HaMemberView, send, sendHeartbeat } from "./ha-link.ts"

/** Records per LOG_SYNC frame (about 1.5 MB of JSON, far under the 16 MiB frame limit). */
export const HA_SYNC_BATCH = 1000
/** Store ids a catch-up round walks at most for the logs that are not OFTP records: one round never holds the event loop long. */
const CATCH_UP_WINDOW = 20_000
/** How often a new primary tries again to bind the virtual IP while the old holder lets go of it. */
const VIP_BIND_TRIES = 40
const VIP_BIND_RETRY = "50 millis"

/**
 * TCP/5199's connection rules, fixed: a group has at most four members, so 64 connections (16
 * from one address with per-device addressing) leave room for members reconnecting while a
 * stale link is still closing; a member sends its JOIN at once.
 */
const HA_PORT_LIMITS: ConnectionLimitSettings = { maxConnections: 64, maxConnectionsPerSource: null, firstByteTimeout: 120_000 }

/** An ACK that never comes. */
const NEVER: Promise<void> = new Promise(() => undefined)

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

/** The analyzer listeners on the VIP: bound, being claimed, or held by another primary (split brain). */
type VipState = "none" | "claiming" | "held" | "conflict"

/** What a primary holds for as long as it is primary. */
interface PrimaryHold {
  /** The VIP's claim, swapped for a new one when a claim that lost to a split brain is made again; null without a VIP. */
  readonly vip: ScopedRef.ScopedRef<VipState> | null
  vipState: VipState
  /** The reason of the last VIP failure published in this term: a claim that fails the same way again is not news. */
  vipFailure: string | null
}

export class HaPrimary {
  readonly #member: HaMemberView
  readonly #downlinks = new Set<Downlink>()
  /** The scope the hold lives in: the member's whole life. */
  readonly #scope: Scope.Closeable
  /** TCP/5199 and the VIP while primary; null otherwise. */
  readonly #hold: ScopedRef.ScopedRef<PrimaryHold | null>
  /** Resolves once every change of the hold asked for so far is done. */
  #settled: Promise<void> = Promise.resolve()

  constructor(member: HaMemberView) {
    this.#member = member
    this.#scope = Effect.runSync(Scope.make())
    this.#hold = Effect.runSync(Scope.provide(this.#scope)(ScopedRef.make((): PrimaryHold | null => null)))
  }

  /** Every change of TCP/5199 and the VIP asked for so far is done (a stop waits for this). */
  settled(): Promise<void> {
    return this.#settled
  }

  /** The member became primary: take TCP/5199 and the VIP. */
  becomePrimary(): void {
    const { config, self } = this.#member
    const primaries = config.network.primaryUp(self.name)
    if (primaries !== null) this.#publishSplitBrain(primaries)
    this.#change(this.#hold, this.#acquire())
  }

  /** The link from the secondary with this serial, if one is up: whether it joined (null: none). */
  linkTo(serial: string): { readonly joined: boolean } | null {
    for (const link of this.#downlinks) if (link.serial === serial) return { joined: link.joined }
    return null
  }

  /** The member is primary no more: the secondaries are told (or cut, or parked), then TCP/5199 and the VIP are let go. */
  stepDown(): void {
    const member = this.#member
    const abrupt = member.abrupt()
    member.config.network.primaryDown(member.self.name)
    const links = [...this.#downlinks]
    this.#downlinks.clear()
    for (const link of links) {
      if (member.frozen()) member.park(link.socket)
      else if (abrupt) link.socket.destroy()
      else {
        send(link.socket, { type: "goodbye", body: { reason: `${member.host.id} stepped down` } })
        link.socket.end()
      }
      // Batches still waiting are never acknowledged by this member: it no longer holds the VIP.
      link.waiters.length = 0
    }
    this.#change(this.#hold, Effect.succeed(null))
  }

  /** Cuts every secondary's link without a word (a kill); with `serial`, only that one's (a partition). */
  cut(serial?: string): void {
    for (const link of this.#downlinks) {
      if (serial !== undefined && link.serial !== serial) continue
      link.socket.destroy()
      if (serial === undefined) link.waiters.length = 0
    }
    if (serial === undefined) this.#downlinks.clear()
  }

  /** For good: the hold is let go once every change asked for is done. */
  dispose(): void {
    this.cut()
    void this.#settled.then(() => Effect.runPromise(Scope.close(this.#scope, Exit.void)))
  }

  /** Swaps `ref`'s resource for what `acquire` gives, after the changes asked for before (a microtask later: actions run mid-transition). */
  #change<A>(ref: ScopedRef.ScopedRef<A>, acquire: Effect.Effect<A, never, Scope.Scope>): void {
    const done = Promise.resolve().then(() => Effect.runPromise(ScopedRef.set(ref, acquire)))
    this.#settled = this.#settled.then(() => done)
  }

  // -------------------------------------------------------------------------------------------
  // TCP/5199 and the VIP
  // -------------------------------------------------------------------------------------------

  /** TCP/5199 on the member's own address, then the VIP; nothing when it is no longer primary, or the bind fails. */
  #acquire(): Effect.Effect<PrimaryHold | null, never, Scope.Scope> {
    const member = this.#member
    const { plan, bus, id } = member.host
    const self = this
    return Effect.gen(function*() {
      if (member.phase() !== "primary") return null
      let bound = false
      // Runs after the listener closed (finalizers run in reverse order).
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (!bound) return
          plan.forget(id, HA_PORT)
          bus.publish({ type: "listener-closed", device: id, port: HA_PORT })
        })
      )
      const listening = yield* Effect.exit(listenTcp({
        device: id,
        port: HA_PORT,
        host: plan.addressOf(id),
        actualPort: plan.listenPortFor(HA_PORT),
        ...member.host.connections.listener(HA_PORT_LIMITS, null, HA_PORT),
        onConnection: (socket) => self.#accept(socket)
      }))
      if (Exit.isFailure(listening)) {
        const failure = listening.cause.reasons.find((reason) => reason._tag === "Fail")
        if (failure !== undefined) {
          const error = failure.error
          bus.publish({ type: "listener-failed", device: id, port: HA_PORT, address: error.address, actualPort: error.actualPort, code: error.code, reason: error.reason })
        }
        return null
      }
      bound = true
      const endpoint = { port: HA_PORT, address: listening.value.address, actualPort: listening.value.actualPort } as const
      plan.recordBound({ device: id, ...endpoint })
      bus.publish({ type: "listener-bound", device: id, ...endpoint })
      if (!member.config.vip) return { vip: null, vipState: "none", vipFailure: null }
      const hold: PrimaryHold = { vip: yield* ScopedRef.make((): VipState => "none"), vipState: "claiming", vipFailure: null }
      if (hold.vip !== null) yield* ScopedRef.set(hold.vip, self.#claimVip(hold))
      return hold
    })
  }

  /**
   * Binds the analyzer's listeners on the VIP. On a planned handover the other member lets go of
   * it at the same time: wait for that. A VIP still held by another member after the wait means
   * two primaries (a split brain): one address and port take one listener, so this member serves
   * on its own TCP/5199 only, says so, and takes the VIP once the holder lets go of it.
   */
  #claimVip(hold: PrimaryHold): Effect.Effect<VipState, never, Scope.Scope> {
    const member = this.#member
    const { network, group } = member.config
    const me = member.self.name
    const self = this
    const settle = (state: VipState): VipState => {
      hold.vipState = state
      return state
    }
    return Effect.gen(function*() {
      hold.vipState = "claiming"
      let held = false
      // Lets go of the VIP after its listeners closed (finalizers run in reverse order), if this claim took it.
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (held && network.vipHolder === me) network.vipHolder = null
        })
      )
      for (let attempt = 1; ; attempt++) {
        if (member.phase() !== "primary") return settle("none")
        const holder = network.vipHolder
        let failure: BindError | null = null
        if (holder === null || holder === me) {
          // Claimed before the bind, not after it: two primaries never both see the VIP free.
          network.vipHolder = me
          const attemptScope = yield* Scope.fork(yield* Effect.scope)
          const bound = yield* Effect.exit(Scope.provide(attemptScope)(member.host.bindVip()))
          if (Exit.isSuccess(bound)) {
            held = true
            hold.vipFailure = null
            return settle("held")
          }
          yield* Scope.close(attemptScope, Exit.void)
          failure = bound.cause.reasons.flatMap((reason) => (reason._tag === "Fail" ? [reason.error] : []))[0] ?? null
          if (network.vipHolder === me) network.vipHolder = null
        }
        // A holder that still acts as primary is not letting go: two primaries (split brain).
        const conflict = holder !== null && holder !== me && network.isPrimary(holder)
        if (conflict || attempt >= VIP_BIND_TRIES) {
          const reason = conflict
            ? `${me} is primary but ${holder} holds the virtual IP of ${group} (two primaries: split brain); ${me} listens on its own TCP/5199 only`
            : failure !== null
            ? `${me} could not bind the virtual IP of ${group} (${failure.port}: ${failure.reason}); ${me} listens on its own TCP/5199 only`
            : `${me} is primary but ${holder} did not let go of the virtual IP of ${group}`
          self.#publishVipFailure(hold, failure, reason)
          return settle("conflict")
        }
        yield* Effect.sleep(VIP_BIND_RETRY)
      }
    })
  }

  /**
   * One `listener-failed` per failed claim, naming every port of the VIP, and none for a claim
   * that fails the same way as the last one (a primary without the VIP claims it again at every
   * hb-interval once its holder let go of it).
   */
  #publishVipFailure(hold: PrimaryHold, failure: BindError | null, reason: string): void {
    if (reason === hold.vipFailure) return
    hold.vipFailure = reason
    const { host, config } = this.#member
    const { plan, bus, vipPorts } = host
    const port = vipPorts.find((p) => p === failure?.port) ?? "tcp/514"
    bus.publish({
      type: "listener-failed",
      device: host.id,
      port,
      address: plan.addressOf(config.group),
      actualPort: failure?.actualPort ?? plan.resolve(config.group, port).actualPort,
      code: failure?.code ?? "EADDRINUSE",
      reason,
      ports: vipPorts
    })
  }

  /** The lab's own report when a second primary appears (a partition): the members cannot see it yet. */
  #publishSplitBrain(names: ReadonlyArray<string>): void {
    const { config, host } = this.#member
    const primaries = rank(config.members).filter((member) => names.includes(member.name)).map((member) => member.name)
    host.bus.publish({ type: "ha-split-brain", group: config.group, primaries, reason: splitBrainReason(primaries) })
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeats, handover
  // -------------------------------------------------------------------------------------------

  /** Every hb-interval: a heartbeat to each secondary, dropping one silent for a lost-window; a VIP lost to a split brain is claimed again once free. */
  heartbeat(): void {
    const member = this.#member
    const hold = ScopedRef.getUnsafe(this.#hold)
    if (hold?.vip != null && hold.vipState === "conflict" && member.config.network.vipHolder === null) {
      hold.vipState = "claiming"
      this.#change(hold.vip, this.#claimVip(hold))
    }
    const roster = [...this.#downlinks].flatMap((link) => (link.serial === null || link.socket.destroyed ? [] : [link.serial]))
    const now = member.host.clock.now()
    for (const link of [...this.#downlinks]) {
      if (link.serial === null) continue
      // A secondary silent for a lost-window (frozen, cut off) is dropped: ACKs stop waiting for it.
      // Not right after a stall of this process: its answers may be waiting unread.
      if (now - link.lastHeard > member.lostWindowMs && !member.stalled()) {
        link.socket.destroy()
        continue
      }
      sendHeartbeat(member, link.socket, link.serial, { type: "heartbeat", body: { serial: member.self.serial, role: "primary", roster, at: member.now() } })
    }
  }

  /** Grants the handover the secondary `serial` asked for. */
  grantHandover(serial: string | null): void {
    for (const link of this.#downlinks) {
      if (link.serial === serial) send(link.socket, { type: "handover", body: { serial: this.#member.self.serial } })
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sync out
  // -------------------------------------------------------------------------------------------

  /**
   * LOG_SYNC of a stored OFTP batch to every caught-up secondary; resolves once each of them
   * confirmed everything sent to it so far (or its link is gone). Null when there is none.
   */
  replicate(serial: string, records: ReadonlyArray<LogRecordInput & { readonly seq: number }>, held: boolean): Promise<void> | null {
    // A member that is no longer primary (killed, frozen, stepping down) vouches for nothing: its
    // sessions on the VIP are about to be cut, and the FortiGates resend to the next primary.
    if (this.#member.phase() !== "primary") return this.#member.config.vip ? NEVER : null
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
    const origin = this.#member.host.store.uid
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
    if (this.#member.phase() !== "primary") return []
    return [...this.#downlinks].filter((link) => link.joined && !link.socket.destroyed)
  }

  #sendLogs(link: Downlink, records: ReadonlyArray<SyncRecord>): void {
    for (let i = 0; i < records.length; i += HA_SYNC_BATCH) {
      const chunk = records.slice(i, i + HA_SYNC_BATCH)
      send(link.socket, { type: "log-sync", body: { firstSyncId: link.sent + 1, records: chunk as ReadonlyArray<SyncRecord & JsonObject> } })
      link.sent += chunk.length
    }
  }

  #confirmed(link: Downlink, upTo: number): Promise<void> {
    if (link.acked >= upTo || link.socket.destroyed) return Promise.resolve()
    return new Promise((resolve) => link.waiters.push({ upTo, resolve }))
  }

  #configRows(): JsonObject[] {
    return this.#member.host.store.devices.list() as unknown as JsonObject[]
  }

  // -------------------------------------------------------------------------------------------
  // Secondaries dialing in
  // -------------------------------------------------------------------------------------------

  #accept(socket: net.Socket): void {
    const link: Downlink = { socket, serial: null, joined: false, catchingUp: false, sent: 0, acked: 0, waiters: [], lastHeard: this.#member.host.clock.now() }
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

  /** Resolves everything waiting on a secondary's link that is gone: there is nobody left to wait for. */
  #release(link: Downlink): void {
    for (const waiter of link.waiters.splice(0)) waiter.resolve()
  }

  #refuse(link: Downlink, code: HaErrorCode, reason: string): void {
    send(link.socket, errorFrame(code, reason))
    link.socket.end()
    setTimeout(() => link.socket.destroy(), 1000).unref()
  }

  #fromSecondary(link: Downlink, frame: HaFrame): void {
    const member = this.#member
    const { config, host } = member
    link.lastHeard = host.clock.now()
    if (link.serial === null) {
      if (frame.type !== "join") return this.#refuse(link, "join-required", `the first frame on TCP/5199 must be JOIN, got ${frame.type}`)
      const join = frame.body
      if (join.groupId !== config.groupId) {
        return this.#refuse(link, "wrong-group", `${host.id} is in group-id ${config.groupId}, the JOIN says ${join.groupId}`)
      }
      const joiner = config.members.find((other) => other.serial === join.serial)
      if (join.serial === member.self.serial || joiner === undefined) {
        return this.#refuse(link, "unknown-member", `${join.serial} is not in the peer list of group ${config.groupName}`)
      }
      // Partitioned from this member: nothing gets through (no answer at all).
      if (member.cutFrom(joiner)) return void link.socket.destroy()
      if (member.phase() !== "primary") return this.#refuse(link, "not-primary", `${host.id} is not the primary`)
      link.serial = join.serial
      const roster = [...this.#downlinks].flatMap((other) => (other.serial === null ? [] : [other.serial]))
      send(link.socket, { type: "welcome", body: { serial: member.self.serial, roster, config: { devices: this.#configRows() } } })
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
        member.tell({ type: "HANDOVER_REQUESTED", from: link.serial })
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
      const holding = decodeHolding(row)
      if (Option.isSome(holding)) after.set(holding.value.serial, holding.value.lastSeq)
    }
    const { store } = this.#member.host
    let scanned = 0
    for (;;) {
      if (this.#member.phase() !== "primary" || link.socket.destroyed || !this.#downlinks.has(link)) return
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
}
