/**
 * What the HA link's sync frames carry, as Effect Schemas (docs/protocols/ha.md): the records of a
 * LOG_SYNC (an OFTP record of a registered device, or another stored log with its origin) and the
 * rows of a CONFIG_SYNC (a registry row, a deletion, or a secondary's holdings). `frames.ts` checks
 * the frame and its body; a member decodes each record and row with these, so one that is not
 * what it says is skipped, never cast.
 */
import * as Schema from "effect/Schema"
import { registryRowFields, storedLogFields } from "../stored-records.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Serial = Schema.NonEmptyString

/** A stored log as it travels: the store's `LogRecordInput`. */
export const HaLogRecord = Schema.Struct({
  ...storedLogFields,
  hostname: Schema.optionalKey(Schema.NullOr(Schema.String)),
  appName: Schema.optionalKey(Schema.NullOr(Schema.String)),
  msgId: Schema.optionalKey(Schema.NullOr(Schema.String)),
  logTime: Schema.optionalKey(Schema.NullOr(Schema.Number)),
  fields: Schema.Union([Schema.Record(Schema.String, Schema.String), Schema.Null, Schema.Literal("from-raw")])
})
export type HaLogRecord = typeof HaLogRecord.Type

/** A LOG_SYNC record: an OFTP record of a registered device (stored by its `seq`), or another log (stored once per origin and id). */
export const SyncRecord = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("oftp"),
    serial: Serial,
    /** Held apart until the device is authorized. */
    held: Schema.Boolean,
    log: Schema.Struct({ ...HaLogRecord.fields, seq: Count })
  }),
  Schema.Struct({
    kind: Schema.Literal("log"),
    /** The store that first stored it, and its id there. */
    origin: Serial,
    originId: Count,
    log: HaLogRecord
  })
])
export type SyncRecord = typeof SyncRecord.Type

/** A device of the primary's registry (CONFIG_SYNC from the primary: the whole registry). */
export const RegistryRow = Schema.Struct(registryRowFields)
export type RegistryRow = typeof RegistryRow.Type

/** Any CONFIG_SYNC row names a device by its serial. */
export const DeviceRef = Schema.Struct({ serial: Serial })

/** A device the primary deleted (CONFIG_SYNC with this one row). */
export const DeletedRow = Schema.Struct({ serial: Serial, deleted: Schema.Literal(true) })

/** What a secondary holds of a device (its CONFIG_SYNC after JOIN): the catch-up sends the records above `lastSeq`. */
export const Holding = Schema.Struct({ serial: Serial, lastSeq: Count })
export type Holding = typeof Holding.Type

export const decodeSyncRecord = Schema.decodeUnknownOption(SyncRecord)
export const decodeRegistryRow = Schema.decodeUnknownOption(RegistryRow)
export const decodeDeviceRef = Schema.decodeUnknownOption(DeviceRef)
export const decodeDeletedRow = Schema.decodeUnknownOption(DeletedRow)
export const decodeHolding = Schema.decodeUnknownOption(Holding)
