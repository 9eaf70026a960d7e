/**
 * The building blocks of device settings as Effect Schemas: a codec from the scenario file's
 * notation (kebab-case keys, durations such as "5s", rates such as "50/s", ports such as
 * "tcp/514") to what a device runs with (camelCase, milliseconds, logs per second, every default
 * applied).
 *
 * A kind's settings are `settingsStruct`s of these: the decoded side is the device's TypeScript
 * type, the encoded side is the file format (and its JSON Schema). File keys follow one rule,
 * `fileKey`: each capital letter of the camelCase name becomes a dash and the lowercase letter
 * (`connTimeout` → `conn-timeout`), as FortiOS spells its settings. Checks carry an `expected`
 * annotation: the loader turns it into "expected X, got Y" sentences.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import type { PortKey } from "../events/events.ts"
import { LOG_KINDS } from "../protocols/fortios/logs.ts"

/** A camelCase name as the file spells it: FortiOS kebab-case (`sslMinProtoVersion` → `ssl-min-proto-version`). */
export const fileKey = (name: string): string => name.replace(/[A-Z]/gu, (capital) => `-${capital.toLowerCase()}`)

/**
 * A struct whose file keys are its field names in kebab-case (`fileKey`); `renamed` names the
 * keys the rule does not give (the scenario's `do:` for `action`).
 */
export const settingsStruct = <const F extends Schema.Struct.Fields>(fields: F, renamed: { readonly [K in keyof F]?: string } = {}) => {
  const keys: Record<string, string> = {}
  for (const name of Object.keys(fields)) {
    const key = renamed[name] ?? fileKey(name)
    if (key !== name) keys[name] = key
  }
  const struct = Schema.Struct(fields)
  return Object.keys(keys).length === 0
    ? struct
    : struct.pipe(Schema.encodeKeys(keys as { readonly [K in keyof F]?: string }))
}

/** An optional key that decodes to `null` when absent (and encodes `null` back to an absent key). */
export const orNull = <S extends Schema.Top>(schema: S) =>
  Schema.optionalKey(schema).pipe(
    Schema.decodeTo(Schema.NullOr(Schema.toType(schema)), {
      decode: SchemaGetter.transformOptional((o: Option.Option<S["Type"]>) => Option.some(Option.getOrNull(o))),
      encode: SchemaGetter.transformOptional((o: Option.Option<S["Type"] | null>) =>
        Option.filter(o, (value): value is S["Type"] => value !== null)
      )
    })
  )

/** An optional key with a default given in the file's own notation. */
export const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** A whole number from `minimum` (to `maximum`, when given). */
export const wholeNumber = (minimum: number, maximum?: number) => {
  const expected = maximum === undefined ? `a whole number of ${minimum} or more` : `a whole number from ${minimum} to ${maximum}`
  return Schema.Number.check(
    Schema.isInt({ expected }),
    maximum === undefined
      ? Schema.isGreaterThanOrEqualTo(minimum, { expected })
      : Schema.isBetween({ minimum, maximum }, { expected })
  )
}

export const count = wholeNumber(0)
export const positiveCount = wholeNumber(1)

export const NonEmpty = Schema.String.check(Schema.isMinLength(1, { expected: "a non-empty text" }))

const idPattern = /^[a-z0-9][a-z0-9-]*$/u

/** Whether a name is written as a lab id (a device or an HA group), not as a host outside the lab. */
export const isIdLike = (name: string): boolean => idPattern.test(name)

export const Id = Schema.String.check(
  Schema.isPattern(idPattern, { expected: "an id of lowercase letters, digits and dashes such as \"fgt-1\"" })
)

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m)$/u
const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 }

/** "500ms" | "5s" | "2m" → milliseconds. */
export const Duration = Schema.String.check(
  Schema.isPattern(durationPattern, { expected: "a duration such as \"500ms\", \"5s\" or \"2m\"" })
).pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => {
      const [, amount = "0", unit = "ms"] = durationPattern.exec(text) ?? []
      return Math.round(Number(amount) * (durationUnits[unit] ?? 1))
    }),
    encode: SchemaGetter.transform((ms: number) => `${ms}ms`)
  })
)

const ratePattern = /^(\d+(?:\.\d+)?)\/(s|m)$/u

/** "50/s" | "600/m" → logs per second (> 0). */
export const Rate = Schema.String.check(
  Schema.isPattern(ratePattern, { expected: "a rate above zero such as \"50/s\" or \"600/m\"" }),
  Schema.makeFilter((text: string) => !/^[0.]+\//u.test(text), {
    expected: "a rate above zero such as \"50/s\" or \"600/m\""
  })
).pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => {
      const [, amount = "0", unit = "s"] = ratePattern.exec(text) ?? []
      return unit === "m" ? Number(amount) / 60 : Number(amount)
    }),
    encode: SchemaGetter.transform((perSecond: number) => `${perSecond}/s`)
  })
)

const portPattern = /^(?:tcp|udp)\/(\d{1,5})$/u
const portExpected = "a port such as \"tcp/514\" or \"udp/514\" (1 to 65535)"

/** "tcp/514" | "udp/514": a documented port, as the vendor's port table names it. */
export const Port = Schema.TemplateLiteral([Schema.Literals(["tcp", "udp"]), "/", Schema.Number]).annotate({
  expected: portExpected
}).check(
  Schema.makeFilter((text: PortKey) => {
    const digits = portPattern.exec(text)?.[1]
    return digits !== undefined && Number(digits) >= 1 && Number(digits) <= 65535
  }, { expected: portExpected, toJsonSchema: () => ({ pattern: portPattern.source }) })
)

const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/u

/** A device id of the lab, or host / host:port outside it (told apart by the loader). */
export const Server = Schema.String.check(
  Schema.isPattern(hostPattern, { expected: "a device id of the lab, or host or host:port outside it" })
)

/** The syslog facility names a scenario may give. */
export const FacilityName = Schema.Literals([
  "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
  "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5",
  "local6", "local7"
])

/** The FortiOS log kinds a generator mixes (`logs:`): at least one when given, all when absent. */
export const LogKinds = orNull(Schema.Array(Schema.Literals(LOG_KINDS)).check(Schema.isMinLength(1, { expected: "a list of at least one log kind" })))

/** A FortiOS `enable` / `disable` switch. */
export const Enable = Schema.Literals(["enable", "disable"])

/** FortiOS / FortiAnalyzer TLS knobs: `enc-algorithm` and `ssl-min-proto-version`. */
export const EncAlgorithm = Schema.Literals(["high", "high-medium", "low"])
export const SslMinProtoVersion = Schema.Literals(["default", "TLSv1-2", "TLSv1-3"])

/**
 * The connection rules every TCP listener has (src/net/tcp.ts; docs/errors.md, "Connections a
 * listener closes"), with `maxConnections` connections at once by default: spread them into the
 * settings of a kind's listener.
 */
export const connectionLimitFieldsOf = (maxConnections: number) => ({
  /** Connections at once. */
  maxConnections: withDefault(wholeNumber(1, 1_000_000), maxConnections),
  /** Connections at once from one source address; absent: a quarter of max-connections (all of it with shared addressing). */
  maxConnectionsPerSource: orNull(wholeNumber(1, 1_000_000)),
  /** Milliseconds a connection may stay silent before its first byte; 0: no limit. */
  firstByteTimeout: withDefault(Duration, "120s")
})

/** The connection rules of a listener that takes 1024 connections at once by default (TCP/514, TCP/541 ...). */
export const connectionLimitFields = connectionLimitFieldsOf(1024)
