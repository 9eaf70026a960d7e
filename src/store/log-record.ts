/**
 * What a stored log is: the record the intakes hand the store (`LogRecordInput`), the log a read
 * gives back (`StoredLog`, with every field of its syslog header read again from `raw`), the
 * records of HA sync, and the mapping between them and a row of the `logs` table
 * (`store-file.ts` has its layout).
 */
import type { SQLOutputValue, StatementSync } from "node:sqlite"
import { type KvDamageReport, parseKeyValuesBestEffort } from "../protocols/fortios/kv.ts"
import type { SdElement } from "../protocols/syslog/header.ts"
import { type ParsedSyslog, parseSyslog } from "../protocols/syslog/message.ts"
import { formatInstant, formatOffset } from "../protocols/syslog/time.ts"

export interface LogRecordInput {
  /** Milliseconds since the epoch. */
  readonly receivedAt: number
  readonly transport: "udp" | "tcp"
  /** "127.0.0.1:40312" */
  readonly peer: string
  readonly format: "rfc5424" | "rfc3164" | "fortios"
  readonly facility: number
  readonly severity: number
  /** FortiOS devname, else the syslog hostname, else the peer address. */
  readonly device: string
  /** FortiOS serial number. */
  readonly devid: string | null
  readonly logid: string | null
  readonly type: string | null
  readonly subtype: string | null
  readonly level: string | null
  /** FortiOS eventtime (nanoseconds since the epoch, as text). */
  readonly eventtime: string | null
  /** `fazlab_seq`: the emulated sender's sequence number, when present. */
  readonly seq: number | null
  /** The whole syslog message as received, as text; when it is not UTF-8, U+FFFD stands for what is not and `rawBytes` holds it. */
  readonly raw: string
  /** Base64 of the message's bytes when they are not UTF-8: the store keeps those bytes, not `raw`. Absent otherwise. */
  readonly rawBytes?: string
  /** The syslog header's HOSTNAME (FortiOS default format: `devname`); absent or null when it has none. */
  readonly hostname?: string | null
  /** RFC 5424 APP-NAME or RFC 3164 TAG. */
  readonly appName?: string | null
  /** RFC 5424 MSGID. */
  readonly msgId?: string | null
  /** The log's own time (its header TIMESTAMP, FortiOS `date time tz`), ms since the epoch; absent or null when it has none. */
  readonly logTime?: number | null
  /**
   * The FortiOS key=value fields, or `"from-raw"` when they are those of `raw` (`fieldsOfRaw`):
   * then the store keeps only `raw` and derives the fields again when they are read.
   */
  readonly fields: Readonly<Record<string, string>> | null | "from-raw"
  /**
   * Set when a best-effort read kept only the well-formed pairs of a cut or damaged FortiOS body.
   * Not a column: read back, it is derived from `raw` again, as the fields are.
   */
  readonly damage?: KvDamageReport
}

export interface StoredLog extends Omit<LogRecordInput, "fields" | "hostname" | "appName" | "msgId" | "logTime">, SyslogHeaderView {
  readonly id: number
  readonly fields: Readonly<Record<string, string>> | null
}

/**
 * Every field of a syslog message's header as it was sent, read again from `raw` (all null, and
 * `bom` false, for logs that did not come as syslog: OFTP, HTTPS).
 */
export interface SyslogHeaderView {
  /** The TIMESTAMP as written. */
  readonly timestamp: string | null
  /** The TIMESTAMP as an instant: UTC, to the microsecond (`2003-08-24T12:14:15.000003Z`). */
  readonly time: string | null
  /** The offset the TIMESTAMP was written in (`-07:00`, `+00:00` for `Z`); null when it had none (read as UTC). */
  readonly offset: string | null
  readonly hostname: string | null
  readonly appName: string | null
  readonly procId: string | null
  readonly msgId: string | null
  /** RFC 5424 SD-ELEMENTs, escapes undone; null for none. */
  readonly structuredData: ReadonlyArray<SdElement> | null
  /** The MSG (without BOM); null for logs that did not come as syslog. */
  readonly message: string | null
  /** Base64 of the MSG's bytes when they are not UTF-8 (then `message` is lossy), else null. */
  readonly messageBytes: string | null
  /** The MSG started with a BOM. */
  readonly bom: boolean
}

/** A log that came by HA sync, with its origin: the store that first stored it and its id there. */
export interface SyncedLogInput extends LogRecordInput {
  readonly origin: string
  readonly originId: number
}

/** A log for an HA catch-up (`logsToSync`): a stored log with its origin. */
export interface SyncLog extends StoredLog {
  readonly origin: string
  readonly originId: number
  readonly logTime: number | null
}

/** "This store holds every log of `origin` up to origin id `upTo`." */
export interface SyncPosition {
  readonly origin: string
  readonly upTo: number
}

/** A row of `logs` as `node:sqlite` reads it. */
export type Row = Record<string, SQLOutputValue>

/** The columns of a `StoredLog`, in the order of a SELECT. */
export const COLUMNS =
  "id, received_at, transport, peer, format, facility, severity, device, devid, logid, type, subtype, level, eventtime, seq, raw, fields"

/** Inserts one log (`insertLog` gives its values). */
export const INSERT_LOG = `INSERT INTO logs (${COLUMNS.slice("id, ".length)}, held, oftp, origin, origin_id, hostname, app_name, msg_id, log_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/**
 * Runs `insert` (a prepared `INSERT_LOG`) for one log stored under `devid`, `held` apart or not;
 * `via` is "oftp" for an OFTP record, the origin for a log that came by HA sync. Returns its id.
 */
export function insertLog(insert: StatementSync, r: LogRecordInput, devid: string | null, held: 0 | 1, via?: "oftp" | { readonly origin: string; readonly originId: number }): number {
  const synced = typeof via === "object" ? via : null
  const result = insert.run(
    r.receivedAt,
    r.transport,
    r.peer,
    r.format,
    r.facility,
    r.severity,
    r.device,
    devid,
    r.logid,
    r.type,
    r.subtype,
    r.level,
    r.eventtime,
    r.seq,
    r.rawBytes === undefined ? r.raw : Buffer.from(r.rawBytes, "base64"),
    r.fields === "from-raw" ? "" : r.fields === null ? null : JSON.stringify(r.fields),
    held,
    via === "oftp" ? 1 : 0,
    synced?.origin ?? null,
    synced?.originId ?? null,
    r.hostname ?? null,
    r.appName ?? null,
    r.msgId ?? null,
    r.logTime ?? null
  )
  return Number(result.lastInsertRowid)
}

export function toStoredLog(row: Row): StoredLog {
  const fields = row["fields"]
  const stored = row["raw"]
  const receivedAt = Number(row["received_at"])
  // A message that is not UTF-8 is stored as its bytes (a BLOB), anything else as text.
  const bytes = stored instanceof Uint8Array ? Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength) : null
  const raw = bytes === null ? String(stored) : bytes.toString("utf8")
  const parsed = parseSyslog(bytes ?? Buffer.from(raw, "utf8"), { now: receivedAt })
  const syslog = parsed.ok ? parsed : null
  return {
    id: Number(row["id"]),
    receivedAt,
    transport: row["transport"] as StoredLog["transport"],
    peer: String(row["peer"]),
    format: row["format"] as StoredLog["format"],
    facility: Number(row["facility"]),
    severity: Number(row["severity"]),
    device: String(row["device"]),
    devid: textOrNull(row["devid"]),
    logid: textOrNull(row["logid"]),
    type: textOrNull(row["type"]),
    subtype: textOrNull(row["subtype"]),
    level: textOrNull(row["level"]),
    eventtime: textOrNull(row["eventtime"]),
    seq: row["seq"] === null ? null : Number(row["seq"]),
    raw,
    ...(bytes === null ? {} : { rawBytes: bytes.toString("base64") }),
    ...(typeof fields !== "string" ? { fields: null } : fields === "" ? readRaw(raw, syslog) : { fields: JSON.parse(fields) as Record<string, string> }),
    timestamp: syslog?.timestamp ?? null,
    time: syslog?.time == null ? null : formatInstant(syslog.time),
    offset: syslog?.time == null ? null : formatOffset(syslog.time.offset),
    hostname: syslog?.hostname ?? null,
    appName: syslog?.appName ?? null,
    procId: syslog?.procId ?? null,
    msgId: syslog?.msgId ?? null,
    structuredData: syslog?.structuredData ?? null,
    message: syslog?.message ?? null,
    messageBytes: syslog?.messageBytes?.toString("base64") ?? null,
    bom: syslog?.bom ?? false
  }
}

/** A row with the columns HA sync needs besides the stored log's own: its `logTime`. */
export const toSyncableLog = (row: Row): StoredLog & { readonly logTime: number | null } => ({
  ...toStoredLog(row),
  logTime: row["log_time"] === null || row["log_time"] === undefined ? null : Number(row["log_time"])
})

/**
 * The FortiOS fields of a stored `raw` (best effort, and what was skipped when it is cut or
 * damaged): those of the syslog message (`syslog`, its `parseSyslog`) when it is one, else of
 * `raw` as a bare key=value record (what OFTP carries); null fields when it has none.
 */
function readRaw(raw: string, syslog: ParsedSyslog | null): { readonly fields: Record<string, string> | null; readonly damage?: KvDamageReport } {
  const read = syslog ?? parseKeyValuesBestEffort(raw)
  return read === null ? { fields: null } : read.damage === null ? { fields: read.fields } : { fields: read.fields, damage: read.damage }
}

/** The FortiOS fields of a stored `raw` (see `readRaw`). */
export function fieldsOfRaw(raw: string): Record<string, string> | null {
  const parsed = parseSyslog(Buffer.from(raw, "utf8"))
  return readRaw(raw, parsed.ok ? parsed : null).fields
}

function textOrNull(value: SQLOutputValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value)
}
