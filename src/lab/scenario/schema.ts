/**
 * The scenario file format (v1) as an Effect Schema: a codec from the YAML file's shape (kebab-case
 * keys, durations such as "5s", rates such as "50/s", ports such as "tcp/514") to the `Scenario`
 * the lab runs (camelCase, milliseconds, logs per second, every default applied).
 *
 * Devices come from the kind registry (`src/devices/registry.ts`): each kind's settings are its
 * descriptor's schema fields, so this module names no kind. The encoded side is the file format
 * and is exported as JSON Schema for editors (see load.ts). Checks carry an `expected`
 * annotation: the loader turns it into "expected X, got Y" sentences. Cross-references between
 * devices and steps are checked by the loader after decoding.
 */
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import type { DeviceSpec } from "../../devices/kind.ts"
import { type KindRegistry, registry as shippedRegistry } from "../../devices/registry.ts"
import { count, Duration, Id, NonEmpty, orNull, Port, positiveCount, settingsStruct, wholeNumber, withDefault } from "../../devices/settings.ts"
import type { MalformedReason, PortKey } from "../../events/events.ts"
import { FORTINET_TRAP_NAMES, type FortinetTrapName } from "../../protocols/snmp/fortinet-traps.ts"

// ---------------------------------------------------------------------------------------------
// Decoded types
// ---------------------------------------------------------------------------------------------

const malformedReasons = [
  "frame-too-large", "bad-octet-count", "invalid-utf8", "truncated", "bad-pri", "binary-garbage", "empty", "bad-rfc5424", "bad-json"
] as const satisfies ReadonlyArray<MalformedReason>

export interface SendRaw {
  readonly to: string
  readonly port: PortKey
  readonly payload: Uint8Array
  readonly repeat: number
}

export type Action =
  | { readonly start: string }
  | { readonly stop: string }
  | { readonly pause: string }
  | { readonly resume: string }
  | { readonly burst: { readonly device: string; readonly count: number } }
  | { readonly sendRaw: SendRaw }
  | { readonly kill: string }
  | { readonly restart: string }
  /** Cuts HA traffic between two members of one group, both ways (both stay up). */
  | { readonly partition: MemberPair }
  /** `heal` restores both a partition and degraded heartbeats. */
  | { readonly heal: MemberPair }
  /** Heartbeats between two members arrive late (`hbDelay` ms) and/or some not at all (`hbLoss` %). */
  | { readonly degrade: { readonly members: MemberPair; readonly hbDelay: number; readonly hbLoss: number } }
  /** An HA member stays alive but silent (a hung process) until `thaw`. */
  | { readonly freeze: string }
  | { readonly thaw: string }
  | { readonly authorize: { readonly analyzer: string | null; readonly device: string; readonly adom: string | null } }
  | { readonly deleteDevice: { readonly analyzer: string | null; readonly device: string } }
  /** Sets an analyzer's emulated CPU, memory and log-disk usage (percent): what its threshold traps watch. */
  | { readonly load: { readonly device: string; readonly cpu?: number; readonly memory?: number; readonly logDisk?: number } }

/** Two members of one HA group, e.g. ["faz-a", "faz-b"]. */
export type MemberPair = readonly [string, string]

export interface PortOfDevice {
  readonly device: string
  readonly port: PortKey
}

export interface LogsExpectation {
  readonly analyzer: string | null
  readonly from: string
  readonly exactly?: number
  readonly atLeast?: number
  readonly lost?: number
  readonly duplicated?: number
}

export interface MalformedExpectation {
  readonly device: string
  readonly exactly?: number
  readonly atLeast?: number
  readonly reason?: MalformedReason
}

/** A FortiGate in a FortiManager's device list: `registered` = its FGFM session is up (pending or authorized). */
export interface ManagedExpectation {
  readonly manager: string
  readonly device: string
  readonly is: "unknown" | "registered" | "pending" | "authorized" | "offline"
}

export interface RegistrationExpectation {
  readonly analyzer: string | null
  readonly device: string
  readonly is: "unknown" | "unauthorized" | "authorized"
  readonly adom: string | null
}

/** How many members of an HA group accept on TCP/5199 (act as primary), seen from outside. */
export interface PrimariesExpectation {
  readonly group: string
  readonly exactly: number
}

/** What an analyzer forwarded to one of its `log-forward` servers (by `server-name`). */
export interface ForwardedExpectation {
  readonly analyzer: string
  readonly server: string
  readonly exactly?: number
  readonly atLeast?: number
}

/** Mails an SMTP relay received (all, or those to `to` and/or whose subject contains `subject`). */
export interface MailExpectation {
  readonly relay: string
  readonly to?: string
  readonly subject?: string
  readonly exactly?: number
  readonly atLeast?: number
}

/** Files a file server of the lab keeps (all, or those whose path contains `path`). */
export interface UploadedExpectation {
  readonly server: string
  readonly path?: string
  readonly exactly?: number
  readonly atLeast?: number
}

/** Queries a DNS server of the lab answered (for `name`, or for any). */
export interface DnsQueryExpectation {
  readonly server: string
  readonly name?: string
  readonly exactly?: number
  readonly atLeast?: number
}

/** The FortiGuard states an update check ends in (the `fortiguard-update` event's `state`). */
export const FORTIGUARD_STATES = ["dns-failed", "connect-failed", "tls-failed", "http-error", "downloaded", "up-to-date"] as const

/** How an analyzer's last FortiGuard check of one service (or of every service) ended, and the version it has. */
export interface FortiGuardExpectation {
  readonly analyzer: string
  readonly service: string | null
  readonly state: (typeof FORTIGUARD_STATES)[number]
  readonly version: string | null
}

/** Simple binds an LDAP server of the lab answered (as `dn`, or as anyone; accepted or refused when `ok` is given). */
export interface LdapBindExpectation {
  readonly server: string
  readonly dn?: string
  readonly ok?: boolean
  readonly exactly?: number
  readonly atLeast?: number
}

/** Access-Requests a RADIUS server of the lab answered or dropped (for `user`, or anyone; with `result`, or any). */
export interface RadiusRequestExpectation {
  readonly server: string
  readonly user?: string
  readonly result?: "accept" | "reject" | "dropped"
  readonly exactly?: number
  readonly atLeast?: number
}

/** SNMP traps an analyzer sent (each version and host counts), of one MIB name or of any. */
export interface TrapExpectation {
  readonly analyzer: string
  readonly name?: FortinetTrapName
  readonly exactly?: number
  readonly atLeast?: number
}

/** A line the analyzer's CLI prints for `command`, run over SSH (TCP/22) as `user`; runs of spaces compare as one. */
export interface CliExpectation {
  readonly device: string
  readonly user: string
  readonly command: string
  readonly line: string
}

/** The analyzer's JSON-RPC answer (TLS/443) to one call made as `user`: its status code, and text its data contains. */
export interface ApiExpectation {
  readonly device: string
  readonly user: string
  readonly method: "get" | "exec" | "add" | "delete"
  readonly url: string
  readonly data: unknown
  readonly code: number
  readonly contains: string | null
}

/** The HA role an analyzer acts in right now. */
export interface RoleExpectation {
  readonly device: string
  readonly is: "primary" | "secondary"
}

export type Expectation =
  | { readonly role: RoleExpectation }
  | { readonly primaries: PrimariesExpectation }
  | { readonly registration: RegistrationExpectation }
  | { readonly managed: ManagedExpectation }
  | { readonly listening: PortOfDevice }
  | { readonly notListening: PortOfDevice }
  | { readonly logs: LogsExpectation }
  | { readonly malformed: MalformedExpectation }
  | { readonly forwarded: ForwardedExpectation }
  | { readonly trap: TrapExpectation }
  | { readonly mail: MailExpectation }
  | { readonly uploaded: UploadedExpectation }
  | { readonly dnsQuery: DnsQueryExpectation }
  | { readonly fortiguard: FortiGuardExpectation }
  | { readonly ldapBind: LdapBindExpectation }
  | { readonly radiusRequest: RadiusRequestExpectation }
  | { readonly cli: CliExpectation }
  | { readonly api: ApiExpectation }

export interface Step {
  readonly title: string | null
  /** Lab time in ms at which the step starts, or null. */
  readonly at: number | null
  /** Delay in ms after the previous step finished, or null. */
  readonly after: number | null
  readonly action: Action | null
  readonly expect: ReadonlyArray<Expectation>
  /** Deadline in ms for the expectations; 0 = checked once. */
  readonly within: number
}


/** An HA group of analyzers (FortiOS `config system ha` names; docs/protocols/ha.md). */
export type HaGroupSpec = typeof HaGroupFile.Type

/** `devices` keeps the file's order (a Map iterates in insertion order). */
export interface Scenario {
  readonly name: string
  readonly description: string | null
  /** Each device's kind, serial and its kind's settings (see the kind's `settings.ts`). */
  readonly devices: ReadonlyMap<string, DeviceSpec>
  /** HA groups by key; a sender's `server` may name one (it then means the group's virtual IP). */
  readonly ha: Readonly<Record<string, HaGroupSpec>>
  /** Lab time runs this many times faster than the wall clock (1: real time); `--speed` overrides it. */
  readonly speed: number
  /** `simulated`: lab time jumps to the next timer whenever the lab is idle (`fazlab run` only); `--clock` overrides it. */
  readonly clock: "real" | "simulated"
  /** Where the devices run: all in the lab's process, one process each, or one network namespace each (docs/placement.md); `--placement` / `--netns` override it. */
  readonly placement: Placement
  /** The network of a `netns` lab: its subnet, its zones and the router's nftables file. */
  readonly netns: NetnsSpec
  readonly steps: ReadonlyArray<Step>
}

export type Placement = "in-process" | "process" | "netns"

/** A netns lab's network (docs/placement.md): every device in a zone, the zones behind one router. */
export type NetnsSpec = typeof NetnsFile.Type

// ---------------------------------------------------------------------------------------------
// Devices, from the kind registry
// ---------------------------------------------------------------------------------------------

/** A kind's device in the file: `kind`, an optional `serial` (and `hostname`), then its settings. */
const deviceFile = (kind: KindRegistry["kinds"][number]) =>
  settingsStruct({
    kind: Schema.Literal(kind.name),
    serial: Schema.optionalKey(NonEmpty),
    ...(kind.hostname ? { hostname: Schema.optionalKey(NonEmpty) } : {}),
    ...kind.settings
  })

/** The same device decoded, every id-dependent default filled in. */
const deviceModel = (kind: KindRegistry["kinds"][number]) =>
  Schema.Struct({
    kind: Schema.Literal(kind.name),
    serial: Schema.String,
    ...(kind.hostname ? { hostname: Schema.String } : {}),
    ...Object.fromEntries(Object.entries(kind.settings).map(([name, field]) => [name, Schema.toType(field)]))
  })

interface DeviceFile {
  readonly kind: string
  readonly serial?: string
  readonly hostname?: string
}

const devicesOf = (registry: KindRegistry) => {
  const withIdDefaults = (devices: Readonly<Record<string, DeviceFile>>): ReadonlyMap<string, DeviceSpec> => {
    const seen = new Map<string, number>()
    const result = new Map<string, DeviceSpec>()
    for (const [id, device] of Object.entries(devices)) {
      const n = (seen.get(device.kind) ?? 0) + 1
      seen.set(device.kind, n)
      const serial = device.serial ?? registry.defaultSerial(device.kind, n)
      result.set(id, registry.of(device).hostname ? { ...device, serial, hostname: device.hostname ?? id } : { ...device, serial })
    }
    return result
  }
  // The unions are built at run time from the registry, so their TypeScript types cannot say what
  // each member decodes to; by construction it is a DeviceFile (file side) and a DeviceSpec (decoded).
  const file = Schema.Union(registry.kinds.map(deviceFile)) as unknown as Schema.Codec<DeviceFile, unknown>
  const model = Schema.Union(registry.kinds.map(deviceModel)) as unknown as Schema.Codec<DeviceSpec>
  return Schema.Record(Id, file).annotate({ expected: "a mapping of device ids to devices" }).pipe(
    Schema.decodeTo(Schema.ReadonlyMap(Schema.String, model), {
      decode: SchemaGetter.transform(withIdDefaults),
      encode: SchemaGetter.forbiddenEncoding
    })
  )
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

const hexPattern = /^(?:\s*[0-9A-Fa-f]{2})*\s*$/u

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.replace(/\s+/gu, "").match(/../gu) ?? [], (byte) => parseInt(byte, 16))

const SendRawFile = Schema.Struct({
  to: Id,
  port: Port,
  text: Schema.optionalKey(Schema.String),
  hex: Schema.optionalKey(Schema.String.check(
    Schema.isPattern(hexPattern, { expected: "hexadecimal bytes such as \"3c 31 33 3e\"" })
  )),
  repeat: withDefault(positiveCount, 1)
}).check(
  Schema.makeFilter((raw) =>
    (raw.text === undefined) === (raw.hex === undefined)
      ? new SchemaIssue.InvalidValue({
        expected: "exactly one of text or hex",
        got: raw.text === undefined ? "neither text nor hex" : "both text and hex"
      })
      : undefined
  )
).pipe(
  Schema.decodeTo(
    Schema.Struct({ to: Schema.String, port: Schema.toType(Port), payload: Schema.Uint8Array, repeat: Schema.Number }),
    {
      decode: SchemaGetter.transform((raw: { readonly to: string; readonly port: PortKey; readonly text?: string; readonly hex?: string; readonly repeat: number }) => ({
        to: raw.to,
        port: raw.port,
        payload: raw.hex === undefined ? new TextEncoder().encode(raw.text ?? "") : hexBytes(raw.hex),
        repeat: raw.repeat
      })),
      encode: SchemaGetter.transform((raw: SendRaw) => ({
        to: raw.to,
        port: raw.port,
        hex: Buffer.from(raw.payload).toString("hex"),
        repeat: raw.repeat
      }))
    }
  )
)

/** A mapping with exactly one of `keys`: how an action or an expectation names its kind. */
const exactlyOneKey = (what: string, keys: ReadonlyArray<string>) => ({
  expected: `exactly one ${what}: ${keys.join(", ")}`,
  toJsonSchema: () => ({ minProperties: 1, maxProperties: 1 })
})

const hasOneKey = (value: object): boolean => Object.keys(value).length === 1

const actionKeys = ["start", "stop", "kill", "restart", "pause", "resume", "burst", "send-raw", "authorize", "delete-device", "partition", "heal", "degrade", "freeze", "thaw", "load"]

const memberPair = "a list of two HA members such as [faz-a, faz-b]"

const MemberPairFile = Schema.Array(Id).pipe(
  Schema.refine((ids: ReadonlyArray<string>): ids is MemberPair => ids.length === 2, {
    expected: memberPair,
    toJsonSchema: () => ({ minItems: 2, maxItems: 2 })
  })
).annotate({ expected: memberPair })

const ActionFields = settingsStruct({
  start: Schema.optionalKey(Id),
  stop: Schema.optionalKey(Id),
  kill: Schema.optionalKey(Id),
  restart: Schema.optionalKey(Id),
  pause: Schema.optionalKey(Id),
  resume: Schema.optionalKey(Id),
  burst: Schema.optionalKey(Schema.Struct({ device: Id, count: positiveCount })),
  sendRaw: Schema.optionalKey(SendRawFile),
  authorize: Schema.optionalKey(Schema.Struct({ analyzer: orNull(Id), device: Id, adom: orNull(NonEmpty) })),
  deleteDevice: Schema.optionalKey(Schema.Struct({ analyzer: orNull(Id), device: Id })),
  partition: Schema.optionalKey(MemberPairFile),
  heal: Schema.optionalKey(MemberPairFile),
  degrade: Schema.optionalKey(settingsStruct({
    members: MemberPairFile,
    hbDelay: withDefault(Duration, "0s"),
    hbLoss: withDefault(wholeNumber(0, 100), 0)
  })),
  freeze: Schema.optionalKey(Id),
  thaw: Schema.optionalKey(Id),
  load: Schema.optionalKey(settingsStruct({
    device: Id,
    cpu: Schema.optionalKey(wholeNumber(0, 100)),
    memory: Schema.optionalKey(wholeNumber(0, 100)),
    logDisk: Schema.optionalKey(wholeNumber(0, 100))
  }))
})

const ActionFile = ActionFields.pipe(
  Schema.refine((value: typeof ActionFields.Type): value is Action => hasOneKey(value), exactlyOneKey("action", actionKeys))
)

const PortOfDeviceFile = Schema.Struct({ device: Id, port: Port })

const exactlyOrAtLeast = (what: string, needOne: boolean) =>
  Schema.makeFilter((value: { readonly exactly?: number; readonly atLeast?: number; readonly lost?: number; readonly duplicated?: number }) => {
    if (value.exactly !== undefined && value.atLeast !== undefined) {
      return { path: ["at-least"], issue: new SchemaIssue.InvalidValue({ expected: "exactly or at-least, not both", got: "both exactly and at-least" }) }
    }
    const counted = [value.exactly, value.atLeast, value.lost, value.duplicated].some((n) => n !== undefined)
    return needOne && !counted
      ? new SchemaIssue.InvalidValue({ expected: what, got: "none of them" })
      : undefined
  })

const LogsFile = settingsStruct({
  analyzer: orNull(Id),
  from: Id,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count),
  lost: Schema.optionalKey(count),
  duplicated: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("at least one of exactly, at-least, lost, duplicated", true)))

const MalformedFile = settingsStruct({
  device: Id,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count),
  reason: Schema.optionalKey(Schema.Literals(malformedReasons))
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const expectationKeys = ["role", "primaries", "registration", "listening", "not-listening", "logs", "malformed", "managed", "forwarded", "trap", "mail", "uploaded", "dns-query", "fortiguard", "ldap-bind", "radius-request", "cli", "api"]

const MailFile = settingsStruct({
  relay: Id,
  to: Schema.optionalKey(NonEmpty),
  subject: Schema.optionalKey(NonEmpty),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const UploadedFile = settingsStruct({
  server: Id,
  path: Schema.optionalKey(NonEmpty),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const DnsQueryFile = settingsStruct({
  server: Id,
  name: Schema.optionalKey(NonEmpty),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const FortiGuardFile = Schema.Struct({
  analyzer: Id,
  service: orNull(NonEmpty),
  state: Schema.Literals(FORTIGUARD_STATES),
  version: orNull(NonEmpty)
})
const LdapBindFile = settingsStruct({
  server: Id,
  dn: Schema.optionalKey(NonEmpty),
  ok: Schema.optionalKey(Schema.Boolean),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const RadiusRequestFile = settingsStruct({
  server: Id,
  user: Schema.optionalKey(NonEmpty),
  result: Schema.optionalKey(Schema.Literals(["accept", "reject", "dropped"])),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const CliFile = Schema.Struct({
  device: Id,
  user: withDefault(NonEmpty, "admin"),
  command: NonEmpty,
  line: NonEmpty
})

const ApiFile = Schema.Struct({
  device: Id,
  user: withDefault(NonEmpty, "admin"),
  method: withDefault(Schema.Literals(["get", "exec", "add", "delete"]), "get"),
  url: NonEmpty,
  data: withDefault(Schema.Unknown, null),
  code: withDefault(Schema.Number.check(Schema.isInt({ expected: "a whole number such as 0 or -11" })), 0),
  contains: orNull(NonEmpty)
})

const TrapFile = settingsStruct({
  analyzer: Id,
  name: Schema.optionalKey(Schema.Literals(FORTINET_TRAP_NAMES)),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const ForwardedFile = settingsStruct({
  analyzer: Id,
  server: NonEmpty,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(Schema.check(exactlyOrAtLeast("one of exactly, at-least", true)))

const RegistrationFile = Schema.Struct({
  analyzer: orNull(Id),
  device: Id,
  is: Schema.Literals(["unknown", "unauthorized", "authorized"]),
  adom: orNull(NonEmpty)
})

const ExpectationFields = settingsStruct({
  role: Schema.optionalKey(Schema.Struct({ device: Id, is: Schema.Literals(["primary", "secondary"]) })),
  primaries: Schema.optionalKey(Schema.Struct({ group: Id, exactly: count })),
  registration: Schema.optionalKey(RegistrationFile),
  listening: Schema.optionalKey(PortOfDeviceFile),
  notListening: Schema.optionalKey(PortOfDeviceFile),
  logs: Schema.optionalKey(LogsFile),
  malformed: Schema.optionalKey(MalformedFile),
  forwarded: Schema.optionalKey(ForwardedFile),
  trap: Schema.optionalKey(TrapFile),
  mail: Schema.optionalKey(MailFile),
  uploaded: Schema.optionalKey(UploadedFile),
  dnsQuery: Schema.optionalKey(DnsQueryFile),
  fortiguard: Schema.optionalKey(FortiGuardFile),
  ldapBind: Schema.optionalKey(LdapBindFile),
  radiusRequest: Schema.optionalKey(RadiusRequestFile),
  cli: Schema.optionalKey(CliFile),
  api: Schema.optionalKey(ApiFile),
  managed: Schema.optionalKey(Schema.Struct({
    manager: Id,
    device: Id,
    is: Schema.Literals(["unknown", "registered", "pending", "authorized", "offline"])
  }))
})

const ExpectationFile = ExpectationFields.pipe(
  Schema.refine(
    (value: typeof ExpectationFields.Type): value is Expectation => hasOneKey(value),
    exactlyOneKey("expectation", expectationKeys)
  )
)

/** The one file key that is not its field's kebab-case: a step's action is `do:`. */
export const STEP_RENAMED = { action: "do" } as const

const StepFile = settingsStruct({
  title: orNull(NonEmpty),
  at: orNull(Duration),
  after: orNull(Duration),
  action: orNull(ActionFile),
  expect: withDefault(Schema.ArrayEnsure(ExpectationFile), []),
  within: withDefault(Duration, "0s")
}, STEP_RENAMED).pipe(
  Schema.check(Schema.makeFilter((step) =>
    step.at !== null && step.after !== null
      ? { path: ["after"], issue: new SchemaIssue.InvalidValue({ expected: "either at or after in a step, not both", got: "both at and after" }) }
      : undefined
  ))
)

// ---------------------------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------------------------

const HaGroupFile = settingsStruct({
  members: Schema.Array(Id).check(
    Schema.isMinLength(2, { expected: "a list of 2 to 4 analyzer ids" }),
    Schema.isMaxLength(4, { expected: "a list of 2 to 4 analyzer ids" })
  ),
  groupId: withDefault(wholeNumber(1, 255), 1),
  groupName: orNull(NonEmpty),
  /** The range (100 ms to 20 s) is checked by the loader: checks on a decoded duration do not reach the JSON Schema. */
  hbInterval: withDefault(Duration, "1s"),
  hbLostThreshold: withDefault(wholeNumber(1, 255), 3),
  vip: withDefault(Schema.Boolean, true)
})

/** An IPv4 subnet of a /8 to a /24, such as 10.250.0.0/16. */
const Subnet = Schema.String.check(
  Schema.isPattern(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(8|9|1\d|2[0-4])$/u, { expected: "an IPv4 subnet of a /8 to a /24 such as 10.250.0.0/16" })
)

const NetnsFile = settingsStruct({
  /** The lab's addresses: zone n gets the n-th /24 of it (from 0), its router .1, its devices .2 on. */
  subnet: withDefault(Subnet, "10.250.0.0/16"),
  /** Zones by name, each a list of device ids; a device in no zone gets a zone of its own, named after it. */
  zones: withDefault(Schema.Record(Id, Schema.Array(Id)).annotate({ expected: "a mapping of zone names to lists of device ids" }), {}),
  /** The router's nftables rule file, loaded unchanged with nft -f (relative to the lab file). */
  nftables: orNull(NonEmpty)
})

const schemas = new WeakMap<KindRegistry, Schema.Codec<Scenario, unknown>>()

/** The whole file with the devices of `registry`: decode with `{ errors: "all", onExcessProperty: "error" }`. */
export const scenarioSchema = (registry: KindRegistry = shippedRegistry): Schema.Codec<Scenario, unknown> => {
  const known = schemas.get(registry)
  if (known !== undefined) return known
  const schema: Schema.Codec<Scenario, unknown> = Schema.Struct({
    name: Id,
    description: orNull(Schema.String),
    devices: devicesOf(registry),
    ha: withDefault(Schema.Record(Id, HaGroupFile).annotate({ expected: "a mapping of HA group names to groups" }), {}),
    speed: withDefault(Schema.Number.check(Schema.isBetween({ minimum: 1, maximum: 1000 }, { expected: "a speed from 1 (real time) to 1000" })), 1),
    clock: withDefault(Schema.Literals(["real", "simulated"]), "real"),
    placement: withDefault(Schema.Literals(["in-process", "process", "netns"]), "in-process"),
    netns: withDefault(NetnsFile, {}),
    steps: withDefault(Schema.Array(StepFile), [])
  })
  schemas.set(registry, schema)
  return schema
}
