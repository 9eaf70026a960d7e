/**
 * fazlab's HA frames: the codec for the emulated FortiAnalyzer HA link on TCP/5199.
 *
 * FortiAnalyzer's HA wire format is not public, so these bytes are fazlab's own
 * (docs/protocols/ha.md). A frame is a 10-byte header (`"FZHA"`, version 1, type, body length as
 * uint32 big-endian) and a UTF-8 JSON body, validated with Effect Schema. Secondaries connect to
 * the acting primary's TCP/5199 and everything (JOIN, heartbeats, log and config sync, handover)
 * travels over that connection. Pure: bytes in, values out, and back.
 *
 * Decisions worth knowing:
 * - `HaDecoder` is a streaming decoder for one connection. Header fields are checked as soon as
 *   their bytes arrive, in byte order, so the error reported for a byte stream does not depend on
 *   how it was chunked. The first error kills the decoder: later pushes return nothing.
 * - Unknown JSON keys are dropped; everything else that does not match the spec is `bad-body`.
 * - LOG_SYNC records, the WELCOME config and CONFIG_SYNC device rows are JSON objects here: their
 *   shape belongs to the store (the analyzer device checks them), not to the framing.
 * - `encodeFrame` trusts its typed input, except for a body larger than `HA_MAX_FRAME_BYTES`
 *   (the receiver would refuse it): that throws a RangeError, a bug in the caller (send fewer
 *   LOG_SYNC records per frame), never a reaction to input from the network.
 */
import { FrameDecoder } from "../shared/frame-decoder.ts"
import { oneLine, taggedFrameFormat } from "../shared/tagged-frames.ts"
import { isUtf8 } from "node:buffer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** The wire type byte of each frame, keyed by the `type` of the decoded value. */
export const HA_FRAME_TYPES = {
  join: 0x01,
  welcome: 0x02,
  heartbeat: 0x03,
  "log-sync": 0x04,
  "sync-ack": 0x05,
  "config-sync": 0x06,
  handover: 0x07,
  goodbye: 0x08,
  error: 0x09
} as const

export type HaFrameTypeName = keyof typeof HA_FRAME_TYPES

/** Stable error codes: counted and published by the analyzer, and sent in ERROR frames. */
export const HA_ERROR_CODES = [
  "bad-magic",
  "bad-version",
  "unknown-type",
  "frame-too-large",
  "bad-body",
  "wrong-group",
  "unknown-member",
  "join-required",
  "not-primary"
] as const

export type HaErrorCode = (typeof HA_ERROR_CODES)[number]

export const HA_MAGIC = Buffer.from("FZHA", "latin1")
export const HA_VERSION = 1
export const HA_HEADER_BYTES = 10
/** `max-frame-bytes` of the HA link: the largest body a member sends or accepts (16 MiB). */
export const HA_MAX_FRAME_BYTES = 16 * 1024 * 1024

// ---------------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------------

const Serial = Schema.NonEmptyString
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** FortiAnalyzer `preferred-role` (older releases: master / slave). */
export const HaRole = Schema.Literals(["primary", "secondary"])
export type HaRole = typeof HaRole.Type

/** JOIN (secondary → primary): who joins, and from which sync id it needs logs. */
export const Join = Schema.Struct({
  serial: Serial,
  /** `group-id`, 1-255: a JOIN for another group is refused with ERROR `wrong-group`. */
  groupId: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 255 })),
  /** `priority`, 80 (lowest) - 120 (highest). */
  priority: Schema.Int.check(Schema.isBetween({ minimum: 80, maximum: 120 })),
  preferredRole: HaRole,
  /** Highest sync id the joining member holds; 0 if none. */
  lastSyncId: Count
})
export type Join = typeof Join.Type

/** WELCOME (primary → secondary): the primary, who is connected now, and the synced config. */
export const Welcome = Schema.Struct({
  serial: Serial,
  roster: Schema.Array(Serial),
  config: Schema.JsonObject
})
export type Welcome = typeof Welcome.Type

/** HEARTBEAT (both ways, every hb-interval); the primary's carries the roster. */
export const Heartbeat = Schema.Struct({
  serial: Serial,
  role: HaRole,
  /** Serials of the members connected to the primary right now (primary heartbeats only). */
  roster: Schema.optionalKey(Schema.Array(Serial)),
  /** The sender's lab clock, in milliseconds. */
  at: Count
})
export type Heartbeat = typeof Heartbeat.Type

/** LOG_SYNC (primary → secondary): stored logs with consecutive sync ids from `firstSyncId`. */
export const LogSync = Schema.Struct({
  firstSyncId: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  records: Schema.Array(Schema.JsonObject)
})
export type LogSync = typeof LogSync.Type

/** SYNC_ACK (secondary → primary): every record up to this sync id is stored. */
export const SyncAck = Schema.Struct({ upTo: Count })
export type SyncAck = typeof SyncAck.Type

/**
 * CONFIG_SYNC: from the primary, the device registry rows. From a secondary right after JOIN,
 * what it holds, so that the catch-up sends only what it lacks: `devices` as `{serial, lastSeq}`
 * and `stores`, per origin store the highest origin id of its other logs (docs/protocols/ha.md,
 * "Catch-up").
 */
export const ConfigSync = Schema.Struct({
  devices: Schema.Array(Schema.JsonObject),
  stores: Schema.optionalKey(Schema.Array(Schema.Struct({ origin: Schema.NonEmptyString, upTo: Count })))
})
export type ConfigSync = typeof ConfigSync.Type

/** HANDOVER: a request (secondary → primary) or its grant (primary → secondary); `serial` is the sender. */
export const Handover = Schema.Struct({ serial: Serial })
export type Handover = typeof Handover.Type

/** GOODBYE: the sender closes the link on purpose. */
export const Goodbye = Schema.Struct({ reason: Schema.String })
export type Goodbye = typeof Goodbye.Type

/** ERROR: the sender refuses the link and closes it. */
export const HaErrorBody = Schema.Struct({ code: Schema.Literals(HA_ERROR_CODES), reason: Schema.String })
export type HaErrorBody = typeof HaErrorBody.Type

/** The body of each frame type. */
export interface HaBodies {
  readonly join: Join
  readonly welcome: Welcome
  readonly heartbeat: Heartbeat
  readonly "log-sync": LogSync
  readonly "sync-ack": SyncAck
  readonly "config-sync": ConfigSync
  readonly handover: Handover
  readonly goodbye: Goodbye
  readonly error: HaErrorBody
}

/** A decoded frame: its type and its body. */
export type HaFrame = { readonly [K in HaFrameTypeName]: { readonly type: K; readonly body: HaBodies[K] } }[HaFrameTypeName]

const decoders: { readonly [K in HaFrameTypeName]: (input: unknown) => Result.Result<HaBodies[K], Schema.SchemaError> } = {
  join: Schema.decodeUnknownResult(Join),
  welcome: Schema.decodeUnknownResult(Welcome),
  heartbeat: Schema.decodeUnknownResult(Heartbeat),
  "log-sync": Schema.decodeUnknownResult(LogSync),
  "sync-ack": Schema.decodeUnknownResult(SyncAck),
  "config-sync": Schema.decodeUnknownResult(ConfigSync),
  handover: Schema.decodeUnknownResult(Handover),
  goodbye: Schema.decodeUnknownResult(Goodbye),
  error: Schema.decodeUnknownResult(HaErrorBody)
}

const decodeJson = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Unknown))

export interface HaDecodeError {
  readonly code: HaErrorCode
  readonly detail: string
}

/** The name the spec uses for a frame type: "log-sync" → "LOG_SYNC". */
export const wireName = (type: HaFrameTypeName): string => type.toUpperCase().replace("-", "_")

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** The bytes of one frame, header included. */
export function encodeFrame(frame: HaFrame): Buffer {
  const body = Buffer.from(JSON.stringify(frame.body), "utf8")
  if (body.length > HA_MAX_FRAME_BYTES) {
    throw new RangeError(`an HA ${wireName(frame.type)} body of ${body.length} bytes is over the ${HA_MAX_FRAME_BYTES}-byte frame limit; send it in smaller frames`)
  }
  const out = Buffer.allocUnsafe(HA_HEADER_BYTES + body.length)
  HA_MAGIC.copy(out, 0)
  out[4] = HA_VERSION
  out[5] = HA_FRAME_TYPES[frame.type]
  out.writeUInt32BE(body.length, 6)
  body.copy(out, HA_HEADER_BYTES)
  return out
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

function decodeBody<K extends HaFrameTypeName>(type: K, body: Buffer): { readonly frame: HaFrame } | { readonly error: HaDecodeError } {
  const bad = (what: string) => ({ error: { code: "bad-body", detail: `the ${wireName(type)} body ${what}` } as const })
  if (!isUtf8(body)) return bad("is not UTF-8")
  const json = decodeJson(body.toString("utf8"))
  if (Result.isFailure(json)) return bad("is not JSON")
  const value = decoders[type](json.success)
  if (Result.isFailure(value)) return bad(`does not match the spec: ${oneLine(value.failure.message)}`)
  // `type` and `value` are tied by K; TypeScript cannot follow that through the mapped union.
  return { frame: { type, body: value.success } as HaFrame }
}

/**
 * Streaming decoder for one connection's byte stream. Decoded frames own their data: nothing
 * refers to the pushed chunks once `push` returns.
 */
export class HaDecoder extends FrameDecoder<HaFrame, HaDecodeError> {
  constructor(options: { readonly maxFrameBytes?: number } = {}) {
    super(taggedFrameFormat({
      magic: HA_MAGIC,
      magicRule: `an HA frame must start with "FZHA" (46 5a 48 41)`,
      version: HA_VERSION,
      badVersion: (got) => `this member speaks HA frame version ${HA_VERSION}, the frame says version ${got}`,
      types: HA_FRAME_TYPES,
      headerBytes: HA_HEADER_BYTES,
      lengthAt: 6,
      decodeBody
    }, options.maxFrameBytes ?? HA_MAX_FRAME_BYTES))
  }
}
