/**
 * An HA member's secondary side: one link to the primary's TCP/5199. It JOINs and sends what it
 * holds (its CONFIG_SYNC: each device's `lastSeq`, each origin's position), answers heartbeats,
 * stores what LOG_SYNC brings (OFTP records with `appendDeviceBatch`, so each is stored once and
 * `lastSeq` follows; other logs with `appendSynced`, once per origin) and confirms it with
 * SYNC_ACK, and applies the primary's registry rows. Records and rows are decoded with the
 * schemas of `protocols/ha/sync.ts`; one that is not what it says is skipped.
 */
import type * as net from "node:net"
import * as Option from "effect/Option"
import type { Json, JsonObject } from "effect/Schema"
import type { HaMember } from "../../machines/ha-election.ts"
import { dialTcp } from "../../net/tcp.ts"
import { type HaFrame, HaDecoder } from "../../protocols/ha/frames.ts"
import { decodeDeletedRow, decodeDeviceRef, decodeRegistryRow, decodeSyncRecord, type HaLogRecord } from "../../protocols/ha/sync.ts"
import type { LogRecordInput, SyncedLogInput } from "../../store/log-record.ts"
import { HA_PORT } from "./ha-group.ts"
import { type HaMemberView, send, sendHeartbeat } from "./ha-link.ts"

/** Whether two types are the same: the store's log record and the synced one must be (a change to one fails to compile here until the other follows). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
true satisfies Same<HaLogRecord, LogRecordInput>

/** The link to the primary. */
interface Uplink {
  readonly socket: net.Socket
  readonly primary: string
  welcomed: boolean
  synced: boolean
  /** Logs stored from this link before it was synced: the catch-up. */
  caughtUp: number
}

/** A secondary finished its catch-up from `primary` (lab name): `stored` logs came in it. */
export interface CatchUp {
  readonly primary: string
  readonly stored: number
}

export class HaSecondary {
  readonly #member: HaMemberView
  #uplink: Uplink | null = null
  /** The catch-up just finished, to publish (`ha-synced`) once the member is in sync. */
  #caughtUp: CatchUp | null = null

  constructor(member: HaMemberView) {
    this.#member = member
  }

  /** The link is synced (the first CONFIG_SYNC after WELCOME came). */
  get synced(): boolean {
    return this.#uplink?.synced === true
  }

  /** The serial of the primary this member is linked to, if any. */
  get primary(): string | null {
    return this.#uplink?.primary ?? null
  }

  /** The finished catch-up, once: the member publishes it when it is in sync. */
  takeCatchUp(): CatchUp | null {
    const caughtUp = this.#caughtUp
    this.#caughtUp = null
    return caughtUp
  }

  answerHeartbeat(): void {
    const up = this.#uplink
    if (up === null) return
    const member = this.#member
    sendHeartbeat(member, up.socket, up.primary, { type: "heartbeat", body: { serial: member.self.serial, role: "secondary", at: member.now() } })
  }

  requestHandover(): void {
    const up = this.#uplink
    if (up !== null) send(up.socket, { type: "handover", body: { serial: this.#member.self.serial } })
  }

  /** Leaves the primary: the link closes (or is parked, while frozen). */
  leave(): void {
    const up = this.#uplink
    this.#uplink = null
    if (up === null) return
    if (this.#member.frozen()) this.#member.park(up.socket)
    else up.socket.destroy()
  }

  /** Cuts the link without a word (a kill, or a partition from `serial` when given). */
  cut(serial?: string): void {
    if (serial !== undefined && this.#uplink?.primary !== serial) return
    this.#uplink?.socket.destroy()
    if (serial === undefined) this.#uplink = null
  }

  /** Connects to `primary`'s TCP/5199, JOINs, and resolves on WELCOME; the link stays. */
  async join(primary: HaMember, signal: AbortSignal): Promise<void> {
    const member = this.#member
    const { plan } = member.host
    const unreachable = () => new Error(`${primary.name} is unreachable from ${member.self.name}: they are partitioned`)
    if (member.cutFrom(primary)) throw unreachable()
    const target = plan.resolve(primary.address, HA_PORT)
    if (target.actualPort === 0) throw new Error(`${primary.name} does not listen on ${HA_PORT}`)
    const localAddress = plan.sourceAddressOf(member.host.id)
    const socket = await dialTcp({
      host: target.address,
      port: target.actualPort,
      timeoutMs: member.lostWindowMs,
      signal,
      ...(localAddress === undefined ? {} : { localAddress })
    })
    if (member.cutFrom(primary)) {
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
      const { store } = member.host
      const holdings = store.devices.list().map((device) => ({ serial: device.serial, lastSeq: device.lastSeq }))
      const { self, config } = member
      send(socket, {
        type: "join",
        body: { serial: self.serial, groupId: config.groupId, priority: self.priority, preferredRole: self.preferredRole, lastSyncId: 0 }
      })
      send(socket, { type: "config-sync", body: { devices: holdings, stores: store.syncPositions() } })
    })
  }

  #fromPrimary(up: Uplink, frame: HaFrame): void {
    const member = this.#member
    switch (frame.type) {
      case "heartbeat":
        member.tell({ type: "HEARTBEAT_RECEIVED", from: up.primary })
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
          this.#caughtUp = { primary: member.nameOf(up.primary), stored: up.caughtUp }
          if (member.phase() === "syncing") member.tell({ type: "SYNCED" })
        }
        return
      case "goodbye":
        member.tell({ type: "PRIMARY_GOODBYE", from: up.primary, reason: frame.body.reason })
        return
      case "handover":
        member.tell({ type: "HANDOVER_GRANTED", from: up.primary })
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
    const { store } = this.#member.host
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
      const decoded = decodeSyncRecord(value)
      if (Option.isNone(decoded)) continue
      const record = decoded.value
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
   * Applies CONFIG_SYNC rows: a deletion row removes that device; otherwise the rows are the
   * primary's whole registry (WELCOME, the end of a catch-up, every change), so a device the
   * primary no longer has is removed here too: deleted while this member was away.
   */
  #applyConfig(rows: Json | undefined | ReadonlyArray<JsonObject>): void {
    if (!Array.isArray(rows)) return
    const { store } = this.#member.host
    const values: ReadonlyArray<Json> = rows
    const deletions = values.flatMap((value) => Option.toArray(decodeDeletedRow(value)))
    for (const { serial } of deletions) {
      if (store.devices.get(serial) !== undefined) store.devices.remove(serial)
    }
    if (deletions.length > 0) return
    // Every row names a device the primary has, also one this member cannot read: that one it keeps as it is.
    const kept = new Set(values.flatMap((value) => Option.toArray(decodeDeviceRef(value)).map((ref) => ref.serial)))
    for (const value of values) {
      const row = decodeRegistryRow(value)
      if (Option.isSome(row)) store.devices.restore(row.value)
    }
    for (const device of store.devices.list()) {
      if (!kept.has(device.serial)) store.devices.remove(device.serial)
    }
  }
}
