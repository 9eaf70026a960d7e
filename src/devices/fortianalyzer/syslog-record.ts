/**
 * One syslog message, bytes in, the record to store (or why it cannot be stored) out.
 *
 * Pure and free of sockets, buses and the store, so that the UDP receiver thread
 * (`udp-worker.ts`) runs it as well as the main thread's intake (`syslog-intake.ts`): both
 * parse a message the same way. The store keeps `raw` (as bytes when it is not UTF-8) plus the
 * indexed columns (the header's hostname, app name, msgid and time among them); the FortiOS
 * fields and the rest of the header are derived from `raw` again when read (`fields: "from-raw"`).
 * A cut or damaged FortiOS body keeps its well-formed fields and says so (`damage`), for the
 * intake to count by reason.
 */
import type { MalformedReason } from "../../events/events.ts"
import { KeyPicker } from "../../protocols/fortios/kv.ts"
import { fortiosTimeMs, summarizeSyslog } from "../../protocols/syslog/message.ts"
import type { LogRecordInput } from "../../store/log-record.ts"

/** A message that cannot be stored: counted by reason and published as `log-malformed`. */
export interface SyslogRejection {
  readonly reason: MalformedReason
  readonly detail: string
}

/** The FortiOS fields the store indexes, the two that name the sender, and the time of a header-less FortiOS log. */
const INDEXED = new KeyPicker(["devname", "hostname", "devid", "logid", "type", "subtype", "level", "eventtime", "fazlab_seq", "date", "time", "tz"])

/** The record of one syslog message from `peer` ("address:port"), or why it is malformed. */
export const syslogRecord = (frame: Buffer, transport: "udp" | "tcp", peer: string): LogRecordInput | SyslogRejection => {
  const receivedAt = Date.now()
  const parsed = summarizeSyslog(frame, INDEXED, { now: receivedAt })
  if (!parsed.ok) return { reason: parsed.reason, detail: parsed.detail }
  const [devname, hostname, devid, logid, type, subtype, level, eventtime, seqText, date, time, tz] = parsed.fields ?? []
  const seq = seqText === undefined ? Number.NaN : Number.parseInt(seqText, 10)
  // FortiOS' default format has no header: its devname and date, time and tz stand for one.
  const headerless = parsed.format === "fortios"
  return {
    receivedAt,
    transport,
    peer,
    format: parsed.format,
    facility: parsed.facility,
    severity: parsed.severity,
    device: devname ?? hostname ?? parsed.hostname ?? peer.slice(0, peer.lastIndexOf(":")),
    devid: devid ?? null,
    logid: logid ?? null,
    type: type ?? null,
    subtype: subtype ?? null,
    level: level ?? null,
    eventtime: eventtime ?? null,
    seq: Number.isNaN(seq) ? null : seq,
    raw: frame.toString("utf8"),
    ...(parsed.utf8 ? {} : { rawBytes: frame.toString("base64") }),
    hostname: headerless ? (devname ?? null) : parsed.hostname,
    appName: parsed.appName,
    msgId: parsed.msgId,
    logTime: headerless ? fortiosTimeMs(date, time, tz) : parsed.timeMs,
    fields: "from-raw",
    ...(parsed.damage === null ? {} : { damage: parsed.damage })
  }
}

/** One UDP datagram: over `maxFrameBytes` it is rejected, else its trailing LF, CR and NUL bytes are cut and it is parsed. */
export const datagramRecord = (message: Buffer, peer: string, maxFrameBytes: number): LogRecordInput | SyslogRejection => {
  if (message.length > maxFrameBytes) {
    return { reason: "frame-too-large", detail: `datagram of ${message.length} bytes is over max-frame-bytes ${maxFrameBytes}` }
  }
  let end = message.length
  while (end > 0 && (message[end - 1] === 0x0a || message[end - 1] === 0x00 || message[end - 1] === 0x0d)) end--
  return syslogRecord(message.subarray(0, end), "udp", peer)
}

/** Tells a rejection from a record. */
export const isRejection = (result: LogRecordInput | SyslogRejection): result is SyslogRejection => "reason" in result
