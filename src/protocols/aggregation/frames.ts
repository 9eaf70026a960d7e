/**
 * Log aggregation between two FortiAnalyzers on TCP/3000 (`config system log-forward` mode
 * `aggregation` on the client, `config system log-forward-service` `accept-aggregation` on the
 * server). Fortinet documents no wire format for it (only "rsync over SSH" for old versions), so
 * this is fazlab's own (docs/protocols/log-aggregation.md): over TLS with the lab's certificates,
 * one JSON object a line, each decoded with these schemas:
 *
 * client `hello` (its serial, `agg-user`, `agg-password`) → server `ready` (its serial and the
 * positions it holds: per origin store, the highest origin id it has) or `error`; then client
 * `logs` (at most `AGGREGATION_BATCH` records: each log with its origin and origin id) → server
 * `stored` once the batch is committed (how many were new, how many it had already); client
 * `done` → server `bye`.
 */
import * as Schema from "effect/Schema"
import { HaLogRecord } from "../ha/sync.ts"

/** Records in one `logs` frame. */
export const AGGREGATION_BATCH = 500

/** A line longer than this is no frame (500 logs of a few KiB each fit). */
export const AGGREGATION_MAX_LINE_BYTES = 16_777_216

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** A log with the store that first stored it and its id there: the server keeps each (origin, originId) once. */
export const AggregatedLog = Schema.Struct({ origin: Schema.NonEmptyString, originId: Count, log: HaLogRecord })
export type AggregatedLog = typeof AggregatedLog.Type

/** What the server holds of one origin: every origin id up to `upTo`. */
const Position = Schema.Struct({ origin: Schema.NonEmptyString, upTo: Count })

/** Why the server refused a session. */
export const AggregationErrorCode = Schema.Literals(["not-accepted", "auth-failed", "bad-frame", "store-failed"])
export type AggregationErrorCode = typeof AggregationErrorCode.Type

export const AggregationFrame = Schema.Union([
  Schema.Struct({ type: Schema.Literal("hello"), serial: Schema.NonEmptyString, user: Schema.String, password: Schema.String }),
  Schema.Struct({ type: Schema.Literal("ready"), serial: Schema.NonEmptyString, positions: Schema.Array(Position) }),
  Schema.Struct({ type: Schema.Literal("error"), code: AggregationErrorCode, reason: Schema.String }),
  Schema.Struct({ type: Schema.Literal("logs"), records: Schema.Array(AggregatedLog).check(Schema.isMaxLength(AGGREGATION_BATCH)) }),
  Schema.Struct({ type: Schema.Literal("stored"), stored: Count, duplicates: Count }),
  Schema.Struct({ type: Schema.Literal("done") }),
  Schema.Struct({ type: Schema.Literal("bye") })
])
export type AggregationFrame = typeof AggregationFrame.Type

const decodeFrame = Schema.decodeUnknownOption(Schema.fromJsonString(AggregationFrame))

/** One line (without its LF) as a frame, or null when it is not one. */
export const decodeAggregationLine = (line: string): AggregationFrame | null => {
  const decoded = decodeFrame(line)
  return decoded._tag === "Some" ? decoded.value : null
}

/** A frame as a line with its LF. */
export const encodeAggregationFrame = (frame: AggregationFrame): string => `${JSON.stringify(frame)}\n`
