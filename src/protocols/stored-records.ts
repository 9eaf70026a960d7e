/**
 * What the analyzer's store holds, as Effect Schema fields, for wherever it leaves the store (the
 * HA link's LOG_SYNC and CONFIG_SYNC, the control channel's `logs` and `devices` answers): a
 * stored log (the store's `LogRecordInput`, without `fields`, which each adds in its own form)
 * and a device of its registry (without `lastSeq` and `heldLogs`, which stay with each store).
 */
import * as Schema from "effect/Schema"

export const storedLogFields = {
  /** Milliseconds since the epoch. */
  receivedAt: Schema.Number,
  transport: Schema.Literals(["udp", "tcp"]),
  /** "127.0.0.1:40312" */
  peer: Schema.String,
  format: Schema.Literals(["rfc5424", "rfc3164", "fortios"]),
  facility: Schema.Number,
  severity: Schema.Number,
  /** FortiOS devname, else the syslog hostname, else the peer address. */
  device: Schema.String,
  devid: Schema.NullOr(Schema.String),
  logid: Schema.NullOr(Schema.String),
  type: Schema.NullOr(Schema.String),
  subtype: Schema.NullOr(Schema.String),
  level: Schema.NullOr(Schema.String),
  /** FortiOS eventtime (nanoseconds since the epoch, as text). */
  eventtime: Schema.NullOr(Schema.String),
  /** `fazlab_seq`: the emulated sender's sequence number, when present. */
  seq: Schema.NullOr(Schema.Number),
  /** The whole syslog message as received (decoded text). */
  raw: Schema.String,
  /** The bytes as received (base64), when they are not UTF-8. */
  rawBytes: Schema.optionalKey(Schema.String)
}

export const registryRowFields = {
  serial: Schema.NonEmptyString,
  /** Its hostname (FortiOS devname). */
  name: Schema.String,
  platform: Schema.String,
  version: Schema.String,
  /** The peer address of its connection. */
  ip: Schema.String,
  vdoms: Schema.Array(Schema.String),
  /** Null until the device is authorized. */
  adom: Schema.NullOr(Schema.String),
  state: Schema.Literals(["unauthorized", "authorized"]),
  /** Milliseconds since the epoch: its first HELLO, and its latest one. */
  firstSeen: Schema.Number,
  lastSeen: Schema.Number
}
