/**
 * The analyzer's registry of OFTP devices, FortiAnalyzer's "Device Manager": table `devices`
 * of the log store's file (schema in `store-file.ts`), used as `store.devices`.
 *
 * A device that says HELLO for the first time is registered as unauthorized; the analyzer
 * stores its logs held apart (stored, not shown: `LogQuery.held`). Authorizing it into an ADOM
 * releases them, removing it drops them. `lastSeq`, the highest OFTP sequence number stored for
 * the device, is kept here and moved by `LogStore.appendDeviceBatch` in the batch's transaction.
 *
 * A record is a duplicate when its (serial, seq) is in the store. Removing a device drops its
 * held logs but keeps its released ones, so a device registered (or synced) again under the same
 * serial starts from the highest sequence number still stored for that serial, not from 0:
 * a resend of those records, or an HA catch-up that sends them again, is skipped, not stored twice.
 */
import type { SQLOutputValue } from "node:sqlite"
import type { StoreAccess } from "./store-access.ts"
import { StoreError } from "./store-error.ts"

export type DeviceState = "unauthorized" | "authorized"

/** What a device tells about itself in its OFTP HELLO, and the address it connected from. */
export interface DeviceHello {
  readonly serial: string
  /** Its hostname (FortiOS devname). */
  readonly name: string
  /** "FortiGate-60F" */
  readonly platform: string
  /** Firmware, "v7.4.4" */
  readonly version: string
  /** The peer address of its connection. */
  readonly ip: string
  readonly vdoms: ReadonlyArray<string>
}

export interface RegisteredDevice extends DeviceHello {
  /** Null until the device is authorized. */
  readonly adom: string | null
  readonly state: DeviceState
  /** Milliseconds since the epoch: its first HELLO, and its latest one. */
  readonly firstSeen: number
  readonly lastSeen: number
  /** The highest OFTP sequence number stored for it; 0 when none. */
  readonly lastSeq: number
  /** Its logs stored but held apart, waiting for authorization. */
  readonly heldLogs: number
}

/** The ADOM a device joins when it is authorized without naming one. */
const DEFAULT_ADOM = "root"

const SELECT_DEVICES =
  "SELECT *, (SELECT count(*) FROM logs WHERE devid = devices.serial AND held = 1) AS held_logs FROM devices"

export class DeviceRegistry {
  readonly #access: StoreAccess

  /** Made by `LogStore.open`; use `store.devices`. */
  constructor(access: StoreAccess) {
    this.#access = access
  }

  /**
   * Records a HELLO at time `now` (ms): registers a new device as unauthorized (`lastSeq`: the
   * highest seq still stored for its serial), or updates a known one's name, platform, version,
   * address, VDOMs and `lastSeen` (its state, ADOM, `firstSeen` and `lastSeq` stay).
   */
  seen(hello: DeviceHello, now: number): RegisteredDevice {
    return this.#access.write(
      (where, why) => `Could not record the HELLO of device ${hello.serial} in ${where} (${why}); nothing was changed.`,
      () => {
        this.#access
          .statement(
            `INSERT INTO devices (serial, name, platform, version, ip, vdoms, state, first_seen, last_seen, last_seq)
             VALUES (?, ?, ?, ?, ?, ?, 'unauthorized', ?, ?, ?)
             ON CONFLICT (serial) DO UPDATE SET name = excluded.name, platform = excluded.platform,
               version = excluded.version, ip = excluded.ip, vdoms = excluded.vdoms, last_seen = excluded.last_seen`
          )
          .run(hello.serial, hello.name, hello.platform, hello.version, hello.ip, JSON.stringify(hello.vdoms), now, now, this.#storedSeq(hello.serial))
        return this.#known(hello.serial)
      }
    )
  }

  get(serial: string): RegisteredDevice | undefined {
    return this.#access.read(() => this.#find(serial))
  }

  /** The registered devices (all, or those in `filter.state`), by serial. */
  list(filter: { readonly state?: DeviceState } = {}): RegisteredDevice[] {
    return this.#access.read(() => {
      const rows =
        filter.state === undefined
          ? this.#access.statement(`${SELECT_DEVICES} ORDER BY serial`).all()
          : this.#access.statement(`${SELECT_DEVICES} WHERE state = ? ORDER BY serial`).all(filter.state)
      return rows.map(toDevice)
    })
  }

  /**
   * Authorizes the device into `adom` ("root" when null), or moves an authorized one to it, and
   * releases its held logs in the same transaction. Released logs count as stored now: they get
   * new ids after every log stored so far (keeping their order), so that a reader following
   * new logs with `afterId` sees them. Throws "store-unknown-device" for an unknown serial.
   */
  authorize(serial: string, adom: string | null): { device: RegisteredDevice; released: number } {
    return this.#access.write(
      (where, why) => `Could not authorize device ${serial} in ${where} (${why}); nothing was changed.`,
      () => {
        const updated = this.#access
          .statement("UPDATE devices SET state = 'authorized', adom = ? WHERE serial = ?")
          .run(adom ?? DEFAULT_ADOM, serial)
        if (Number(updated.changes) === 0) throw unknownDevice(serial)
        const released = this.#release(serial)
        return { device: this.#known(serial), released }
      }
    )
  }

  /**
   * HA configuration sync: writes a row as the primary has it (registration, state, ADOM), adding
   * the device when missing. `lastSeq` stays this store's own: it moves only with the logs stored
   * here (a device added here starts from the highest seq stored here for its serial), so synced
   * OFTP batches are still stored exactly once. An authorized row releases the
   * device's held logs, as `authorize` does.
   */
  restore(row: Omit<RegisteredDevice, "lastSeq" | "heldLogs">): RegisteredDevice {
    return this.#access.write(
      (where, why) => `Could not sync device ${row.serial} into ${where} (${why}); nothing was changed.`,
      () => {
        this.#access
          .statement(
            `INSERT INTO devices (serial, name, platform, version, ip, vdoms, adom, state, first_seen, last_seen, last_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (serial) DO UPDATE SET name = excluded.name, platform = excluded.platform,
               version = excluded.version, ip = excluded.ip, vdoms = excluded.vdoms, adom = excluded.adom,
               state = excluded.state, first_seen = excluded.first_seen, last_seen = excluded.last_seen`
          )
          .run(row.serial, row.name, row.platform, row.version, row.ip, JSON.stringify(row.vdoms), row.adom, row.state, row.firstSeen, row.lastSeen, this.#storedSeq(row.serial))
        if (row.state === "authorized") this.#release(row.serial)
        return this.#known(row.serial)
      }
    )
  }

  /**
   * The `lastSeq` a new row for `serial` starts from: the highest OFTP seq still stored for it
   * when it was removed before (kept by `remove` in `removed_devices`), 0 for a serial never seen.
   * A known serial keeps its own `lastSeq` (the upsert leaves it alone). Lookups by key only.
   */
  #storedSeq(serial: string): number {
    const removed = this.#access.statement("SELECT last_seq FROM removed_devices WHERE serial = ?").get(serial)?.["last_seq"]
    return typeof removed === "number" ? removed : 0
  }

  /** Releases the device's held logs (inside a write transaction); returns how many. */
  #release(serial: string): number {
    const held = this.#access.statement("SELECT min(id) AS first, count(*) AS n FROM logs WHERE devid = ? AND held = 1").get(serial)
    const released = Number(held?.["n"] ?? 0)
    if (released > 0) {
      const newest = Number(this.#access.statement("SELECT max(id) AS id FROM logs").get()?.["id"])
      // Every new id is above the newest one, so no row collides while the ids move.
      this.#access
        .statement("UPDATE logs SET held = 0, id = id + ? WHERE devid = ? AND held = 1")
        .run(newest - Number(held?.["first"]) + 1, serial)
    }
    return released
  }

  /**
   * Forgets the device and drops its held logs (its released logs stay), returning how many
   * were dropped. Throws "store-unknown-device" for an unknown serial.
   */
  remove(serial: string): { dropped: number } {
    return this.#access.write(
      (where, why) => `Could not remove device ${serial} from ${where} (${why}); nothing was changed.`,
      () => {
        const removed = this.#access.statement("DELETE FROM devices WHERE serial = ?").run(serial)
        if (Number(removed.changes) === 0) throw unknownDevice(serial)
        const dropped = this.#access.statement("DELETE FROM logs WHERE devid = ? AND held = 1").run(serial)
        // One scan of the logs, here (an administrator's action), instead of at every new HELLO.
        const kept = this.#access.statement("SELECT max(seq) AS seq FROM logs WHERE devid = ? AND oftp = 1").get(serial)?.["seq"]
        this.#access
          .statement("INSERT INTO removed_devices (serial, last_seq) VALUES (?, ?) ON CONFLICT (serial) DO UPDATE SET last_seq = excluded.last_seq")
          .run(serial, typeof kept === "number" ? kept : 0)
        return { dropped: Number(dropped.changes) }
      }
    )
  }

  #find(serial: string): RegisteredDevice | undefined {
    const row = this.#access.statement(`${SELECT_DEVICES} WHERE serial = ?`).get(serial)
    return row === undefined ? undefined : toDevice(row)
  }

  /** The device, inside a transaction that knows it exists. */
  #known(serial: string): RegisteredDevice {
    const device = this.#find(serial)
    if (device === undefined) throw unknownDevice(serial)
    return device
  }
}

export function unknownDevice(serial: string): StoreError {
  return new StoreError(
    "store-unknown-device",
    `No device with serial ${serial} is registered on this analyzer; check the serial against its device list.`
  )
}

function toDevice(row: Record<string, SQLOutputValue>): RegisteredDevice {
  const adom = row["adom"]
  return {
    serial: String(row["serial"]),
    name: String(row["name"]),
    platform: String(row["platform"]),
    version: String(row["version"]),
    ip: String(row["ip"]),
    vdoms: JSON.parse(String(row["vdoms"])) as string[],
    adom: adom === null || adom === undefined ? null : String(adom),
    state: row["state"] as DeviceState,
    firstSeen: Number(row["first_seen"]),
    lastSeen: Number(row["last_seen"]),
    lastSeq: Number(row["last_seq"]),
    heldLogs: Number(row["held_logs"])
  }
}
