/**
 * FortiRecorder's notify channels to a FortiAnalyzer (`public-notify-tcp-port 3010`,
 * `public-notify-http-port 3011` of `get fortirecorder global`). Their wire format is not public:
 * these are fazlab's own (docs/protocols/fortirecorder.md), kept small.
 *
 * TCP/3010 is lines of `VERB key=value ...` (FortiOS key=value, LF-terminated, at most
 * `NOTIFY_MAX_LINE_BYTES`): the recorder says `HELLO serial= name= version=`, the analyzer `OK
 * serial=`; then `NOTIFY seq= camera= event=`, each answered `ACK seq=` once the analyzer has it;
 * `BYE` both ways ends it. A line the analyzer cannot use is answered `ERR code= reason=` and the
 * connection closed. TCP/3011 is HTTP: `POST /notify` with the same notice as JSON.
 */
import * as Schema from "effect/Schema"
import { formatKeyValues, parseKeyValues } from "../fortios/kv.ts"

export const NOTIFY_MAX_LINE_BYTES = 1024

/** What a camera reports through its recorder. */
export const CameraEvent = Schema.Literals(["motion", "online", "offline", "tamper"])
export type CameraEvent = typeof CameraEvent.Type

/** One notice: the recorder's sequence number (1, 2, ...; the analyzer keeps each once), the camera, what happened. */
export const Notice = Schema.Struct({
  serial: Schema.NonEmptyString,
  seq: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  camera: Schema.NonEmptyString,
  event: CameraEvent
})
export type Notice = typeof Notice.Type

/** Why the analyzer refused a line (the `code=` of its ERR). */
export type NotifyErrorCode = "line-too-long" | "unknown-verb" | "bad-field" | "hello-required"

export type NotifyLine =
  | { readonly verb: "HELLO"; readonly serial: string; readonly name: string; readonly version: string }
  | { readonly verb: "OK"; readonly serial: string }
  | { readonly verb: "NOTIFY"; readonly seq: number; readonly camera: string; readonly event: CameraEvent }
  | { readonly verb: "ACK"; readonly seq: number }
  | { readonly verb: "ERR"; readonly code: string; readonly reason: string }
  | { readonly verb: "BYE" }

const decodeEvent = Schema.decodeUnknownOption(CameraEvent)

/** Why a line is not one: the code the analyzer's ERR carries and a phrase. */
export interface NotifyLineError {
  readonly refused: NotifyErrorCode
  readonly reason: string
}

/** One line (without its LF), or why it is not one. */
export const decodeNotifyLine = (line: string): NotifyLine | NotifyLineError => {
  const space = line.indexOf(" ")
  const verb = space === -1 ? line : line.slice(0, space)
  const fields = space === -1 ? {} : parseKeyValues(line.slice(space + 1))
  if (fields === null) return { refused: "bad-field", reason: `"${line.slice(0, 60)}" is not VERB key=value ...` }
  const text = (key: string): string | null => (fields[key] ?? "") === "" ? null : fields[key] ?? null
  const bad = (key: string, expected: string): NotifyLineError => ({ refused: "bad-field", reason: `${verb} needs ${key}= ${expected}` })
  switch (verb) {
    case "HELLO": {
      const serial = text("serial")
      return serial === null ? bad("serial", "(the recorder's serial)") : { verb, serial, name: text("name") ?? serial, version: text("version") ?? "" }
    }
    case "OK": {
      const serial = text("serial")
      return serial === null ? bad("serial", "(the analyzer's serial)") : { verb, serial }
    }
    case "NOTIFY": {
      const seq = Number(fields["seq"])
      const camera = text("camera")
      const event = decodeEvent(fields["event"])
      if (!Number.isSafeInteger(seq) || seq < 1) return bad("seq", "(a whole number from 1)")
      if (camera === null) return bad("camera", "(the camera's name)")
      if (event._tag === "None") return bad("event", "(motion, online, offline or tamper)")
      return { verb, seq, camera, event: event.value }
    }
    case "ACK": {
      const seq = Number(fields["seq"])
      return Number.isSafeInteger(seq) && seq >= 1 ? { verb, seq } : bad("seq", "(a whole number from 1)")
    }
    case "ERR":
      return { verb, code: text("code") ?? "?", reason: fields["reason"] ?? "" }
    case "BYE":
      return { verb }
    default:
      return { refused: "unknown-verb", reason: `"${verb.slice(0, 20)}" is not HELLO, NOTIFY or BYE` }
  }
}

/** A line with its LF. */
export const encodeNotifyLine = (line: NotifyLine): string => {
  const fields: ReadonlyArray<readonly [string, string | number]> = (() => {
    switch (line.verb) {
      case "HELLO":
        return [["serial", line.serial], ["name", line.name], ["version", line.version]]
      case "OK":
        return [["serial", line.serial]]
      case "NOTIFY":
        return [["seq", line.seq], ["camera", line.camera], ["event", line.event]]
      case "ACK":
        return [["seq", line.seq]]
      case "ERR":
        return [["code", line.code], ["reason", line.reason]]
      case "BYE":
        return []
    }
  })()
  return fields.length === 0 ? `${line.verb}\n` : `${line.verb} ${formatKeyValues(fields)}\n`
}
