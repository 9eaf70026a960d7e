/**
 * The control channel's wire format: versioned JSON messages, one per WebSocket text frame,
 * described by Effect schemas so the server, the client and docs/control.md agree.
 *
 * Server → client: `snapshot` (once, first), `event` (the lab's event stream), `reply` (one per
 * command) and `dropped` (last, before the server closes a client that fell behind). Stored
 * logs travel in replies only: a client asks for them (`logs`) with the cursor of its last
 * answer, so a client gets no more log lines than it asks for.
 * Client → server: `command`.
 *
 * A device that runs in a process of its own (`fazlab node`, docs/placement.md) is a client too:
 * it says which device it runs (`node-hello`), sends that device's events in numbered batches
 * the lab confirms (`node-events`), and answers the lab's `request`s (a command for its device,
 * an expectation to check, `lab-stopping`) with an `answer`. Every message carries `v`, the protocol version: additions
 * (new event types, commands, optional fields) keep `v: 1`; a breaking change raises it.
 *
 * `decodeClientMessage` turns a received text frame into a command or into the one sentence
 * the error reply carries; it names the message's problem (not JSON, wrong version, unknown
 * command, which field is wrong) so a hand-written client can fix it.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import type { LabEvent } from "../events/events.ts"
import { registryRowFields, storedLogFields } from "../protocols/stored-records.ts"

/** The protocol version this fazlab speaks; see "Versioning" in docs/control.md. */
export const PROTOCOL_VERSION = 1

const V = Schema.Literal(PROTOCOL_VERSION)

const nonEmpty = { expected: "a non-empty string" }
const Text = Schema.String.check(Schema.isMinLength(1, nonEmpty))

const wholeCount = { expected: "a whole number from 1 to 1000000" }
const Count = Schema.Number.check(
  Schema.isInt(wholeCount),
  Schema.isBetween({ minimum: 1, maximum: 1_000_000 }, wholeCount)
)

/** A command's id, chosen by the client and echoed in its reply. */
export const CommandId = Schema.Union([Schema.String, Schema.Number])
export type CommandId = typeof CommandId.Type

// ---------------------------------------------------------------------------------------------
// Commands (client → server)
// ---------------------------------------------------------------------------------------------

/** Lifecycle and faults of one device: `kill` (no goodbye), `restart`, and HA `freeze` / `thaw`. */
export const LifecycleCommand = Schema.Struct({
  name: Schema.Literals(["stop", "start", "pause", "resume", "kill", "restart", "freeze", "thaw"]),
  device: Text
})

const memberPair = { expected: "a list of two HA members such as [\"faz-a\", \"faz-b\"]" }

/** Cuts (or restores) HA traffic between two members of one HA group, both ways. */
export const PartitionCommand = Schema.Struct({
  name: Schema.Literals(["partition", "heal"]),
  members: Schema.Array(Text).pipe(Schema.refine((ids: ReadonlyArray<string>): ids is readonly [string, string] => ids.length === 2, memberPair))
})

/** Heartbeats between two HA members arrive `hbDelayMs` late and `hbLoss` percent are lost, until `heal`. */
export const DegradeCommand = Schema.Struct({
  name: Schema.Literal("degrade"),
  members: Schema.Array(Text).pipe(Schema.refine((ids: ReadonlyArray<string>): ids is readonly [string, string] => ids.length === 2, memberPair)),
  hbDelayMs: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 600_000 }, { expected: "milliseconds from 0 to 600000" })),
  hbLoss: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 100 }, { expected: "a percentage from 0 to 100" }))
})

export const BurstCommand = Schema.Struct({ name: Schema.Literal("burst"), device: Text, count: Count })

export const DevicesCommand = Schema.Struct({ name: Schema.Literal("devices"), analyzer: Schema.optionalKey(Text) })

export const AuthorizeCommand = Schema.Struct({
  name: Schema.Literal("authorize"),
  serial: Text,
  adom: Schema.optionalKey(Text),
  analyzer: Schema.optionalKey(Text)
})

export const DeleteDeviceCommand = Schema.Struct({
  name: Schema.Literal("delete-device"),
  serial: Text,
  analyzer: Schema.optionalKey(Text)
})

/** The most logs one `logs` reply carries. */
export const MAX_LOGS_PER_REPLY = 1000

const logLimit = { expected: `a whole number from 1 to ${MAX_LOGS_PER_REPLY}` }

/**
 * Where a reader of one analyzer's store stands: the id (and time received) of the last log it
 * has read or skipped. A `logs` reply carries the next one; send it back as `after`.
 */
export const LogCursor = Schema.Struct({
  analyzer: Text,
  id: Schema.Number.check(Schema.isInt({ expected: "a whole number" })),
  receivedAt: Schema.Number
})
export type LogCursor = typeof LogCursor.Type

/**
 * Stored logs of an analyzer (the one named, else the HA primary or the only analyzer), filtered
 * by `device`, `type`, `level`, the syslog header's `hostname`, `appName` and `msgId` (exact),
 * the log's own time (`since` ≤ time < `until`, ms since the epoch: its header timestamp, else
 * when it was received) and `text` (in the raw message, any case). Without `after`:
 * the newest `limit` logs. With `after`: the logs stored since, oldest first (`latest`: only the
 * newest `limit` of them, for a view that shows the end).
 */
export const LogsCommand = Schema.Struct({
  name: Schema.Literal("logs"),
  analyzer: Schema.optionalKey(Text),
  device: Schema.optionalKey(Text),
  type: Schema.optionalKey(Text),
  level: Schema.optionalKey(Text),
  hostname: Schema.optionalKey(Text),
  appName: Schema.optionalKey(Text),
  msgId: Schema.optionalKey(Text),
  since: Schema.optionalKey(Schema.Number.check(Schema.isInt({ expected: "a whole number of ms since the epoch" }))),
  until: Schema.optionalKey(Schema.Number.check(Schema.isInt({ expected: "a whole number of ms since the epoch" }))),
  text: Schema.optionalKey(Text),
  limit: Schema.optionalKey(Schema.Number.check(Schema.isInt(logLimit), Schema.isBetween({ minimum: 1, maximum: MAX_LOGS_PER_REPLY }, logLimit))),
  after: Schema.optionalKey(LogCursor),
  latest: Schema.optionalKey(Schema.Boolean)
})
export type LogsCommand = typeof LogsCommand.Type

/** Starts the scenario step that waits for its `at` / `after` time now (`fazlab run` only). */
export const StepCommand = Schema.Struct({ name: Schema.Literal("step") })

/**
 * What a log sender generated for any of `analyzers` (the highest sequence number), and the name
 * its logs are filed under: an analyzer in another process asks this to count lost logs.
 */
export const SentCommand = Schema.Struct({ name: Schema.Literal("sent"), device: Text, analyzers: Schema.Array(Text) })

/**
 * A node asks to hold an address of the lab (`take`: an HA group's virtual IP, before it puts it
 * on its interface) or gives it back: one holder at a time, as one address on one network.
 */
export const AddressCommand = Schema.Struct({ name: Schema.Literal("address"), device: Text, address: Text, take: Schema.Boolean })

/** A node (`fazlab node`) says which device it runs; the reply says how many of its events the lab already has. */
export const NodeHelloCommand = Schema.Struct({
  name: Schema.Literal("node-hello"),
  device: Text,
  pid: Schema.Number.check(Schema.isInt({ expected: "a process id" }))
})

/** One HA member's group and role, as a node reports it. */
export const HaRole = Schema.Struct({ group: Schema.String, role: Schema.String })

/**
 * A node's events, numbered from `first` (the node's own count, from 1), with its device's status
 * and HA role now. The lab publishes each event once: a batch sent again after a reconnect is
 * only confirmed. `dropped`: events the node let go of while it could not reach the lab.
 */
export const NodeEventsCommand = Schema.Struct({
  name: Schema.Literal("node-events"),
  device: Text,
  first: Schema.Number.check(Schema.isInt({ expected: "a whole number" }), Schema.isBetween({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  events: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)),
  status: Text,
  ha: Schema.optionalKey(HaRole),
  dropped: Schema.optionalKey(Schema.Number)
})

export const ControlCommand = Schema.Union([
  LifecycleCommand,
  PartitionCommand,
  DegradeCommand,
  BurstCommand,
  DevicesCommand,
  AuthorizeCommand,
  DeleteDeviceCommand,
  LogsCommand,
  StepCommand,
  SentCommand,
  AddressCommand,
  NodeHelloCommand,
  NodeEventsCommand
])
export type ControlCommand = typeof ControlCommand.Type
export type CommandName = ControlCommand["name"]

/** Each command name's own schema: the server decodes a command against the one its name picks. */
const COMMAND_SCHEMAS: Readonly<Record<CommandName, Schema.Codec<ControlCommand, unknown>>> = {
  stop: LifecycleCommand,
  start: LifecycleCommand,
  pause: LifecycleCommand,
  resume: LifecycleCommand,
  kill: LifecycleCommand,
  restart: LifecycleCommand,
  freeze: LifecycleCommand,
  thaw: LifecycleCommand,
  partition: PartitionCommand,
  heal: PartitionCommand,
  degrade: DegradeCommand,
  burst: BurstCommand,
  devices: DevicesCommand,
  authorize: AuthorizeCommand,
  "delete-device": DeleteDeviceCommand,
  logs: LogsCommand,
  step: StepCommand,
  sent: SentCommand,
  address: AddressCommand,
  "node-hello": NodeHelloCommand,
  "node-events": NodeEventsCommand
}

export const COMMAND_NAMES: ReadonlyArray<CommandName> = Object.keys(COMMAND_SCHEMAS) as Array<CommandName>

export const CommandMessage = Schema.Struct({ v: V, type: Schema.Literal("command"), id: CommandId, command: ControlCommand })
export type CommandMessage = typeof CommandMessage.Type

// ---------------------------------------------------------------------------------------------
// Results (the `result` of an ok reply, per command)
// ---------------------------------------------------------------------------------------------

/** A device an analyzer knows of, as its registry holds it. */
export const RegisteredDevice = Schema.Struct({
  ...registryRowFields,
  lastSeq: Schema.Number,
  heldLogs: Schema.Number
})
export type RegisteredDevice = typeof RegisteredDevice.Type

export const LifecycleResult = Schema.Struct({ device: Schema.String, status: Schema.String })
export const BurstResult = Schema.Struct({ device: Schema.String, count: Schema.Number })
export const PartitionResult = Schema.Struct({ members: Schema.Array(Schema.String), partitioned: Schema.Boolean })
export const DegradeResult = Schema.Struct({ members: Schema.Array(Schema.String), hbDelayMs: Schema.Number, hbLoss: Schema.Number })
export const DevicesResult = Schema.Struct({
  devices: Schema.Array(Schema.Struct({ ...RegisteredDevice.fields, analyzer: Schema.String }))
})
export const AuthorizeResult = Schema.Struct({
  analyzer: Schema.String,
  serial: Schema.String,
  adom: Schema.NullOr(Schema.String),
  released: Schema.Number
})
export const DeleteDeviceResult = Schema.Struct({ analyzer: Schema.String, serial: Schema.String, dropped: Schema.Number })

/** One stored log as the analyzer's store holds it (src/store/log-record.ts, `StoredLog`). */
export const LogLine = Schema.Struct({
  id: Schema.Number,
  ...storedLogFields,
  fields: Schema.NullOr(Schema.Record(Schema.String, Schema.String)),
  timestamp: Schema.NullOr(Schema.String),
  time: Schema.NullOr(Schema.String),
  offset: Schema.NullOr(Schema.String),
  hostname: Schema.NullOr(Schema.String),
  appName: Schema.NullOr(Schema.String),
  procId: Schema.NullOr(Schema.String),
  msgId: Schema.NullOr(Schema.String),
  structuredData: Schema.NullOr(Schema.Array(Schema.Struct({ id: Schema.String, params: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.String })) }))),
  message: Schema.NullOr(Schema.String),
  messageBytes: Schema.NullOr(Schema.String),
  bom: Schema.Boolean,
  /** A cut (`truncated`) or `damaged` FortiOS log stored with its well-formed fields (docs/errors.md, "Partial logs"). */
  damage: Schema.optionalKey(Schema.Struct({ reason: Schema.Literals(["truncated", "damaged"]), detail: Schema.String }))
})
export type LogLine = typeof LogLine.Type

/**
 * `more`: further logs wait past `cursor`; ask again at once. `beyondLimit`: a read of the newest
 * logs (no `after`) was cut by its `limit`, and this many more match (`atLeast`: among the newest
 * logs looked at for a `text` filter).
 */
export const LogsResult = Schema.Struct({
  analyzer: Schema.String,
  logs: Schema.Array(LogLine),
  cursor: LogCursor,
  more: Schema.Boolean,
  beyondLimit: Schema.optionalKey(Schema.Struct({ count: Schema.Number, atLeast: Schema.Boolean }))
})
export const StepResult = Schema.Struct({ step: Schema.Number, title: Schema.String })
export const SentResult = Schema.Struct({ device: Schema.String, hostname: Schema.String, sent: Schema.Number })
export const AddressResult = Schema.Struct({ address: Schema.String, holder: Schema.NullOr(Schema.String), granted: Schema.Boolean })
export const NodeHelloResult = Schema.Struct({ lab: Schema.String, received: Schema.Number })
export const NodeEventsResult = Schema.Struct({ received: Schema.Number })

/** What an ok reply's `result` holds for each command. */
export interface CommandResults {
  readonly stop: typeof LifecycleResult.Type
  readonly start: typeof LifecycleResult.Type
  readonly pause: typeof LifecycleResult.Type
  readonly resume: typeof LifecycleResult.Type
  readonly kill: typeof LifecycleResult.Type
  readonly restart: typeof LifecycleResult.Type
  readonly freeze: typeof LifecycleResult.Type
  readonly thaw: typeof LifecycleResult.Type
  readonly partition: typeof PartitionResult.Type
  readonly heal: typeof PartitionResult.Type
  readonly degrade: typeof DegradeResult.Type
  readonly burst: typeof BurstResult.Type
  readonly devices: typeof DevicesResult.Type
  readonly authorize: typeof AuthorizeResult.Type
  readonly "delete-device": typeof DeleteDeviceResult.Type
  readonly logs: typeof LogsResult.Type
  readonly step: typeof StepResult.Type
  readonly sent: typeof SentResult.Type
  readonly address: typeof AddressResult.Type
  readonly "node-hello": typeof NodeHelloResult.Type
  readonly "node-events": typeof NodeEventsResult.Type
}

export type CommandResult<C extends ControlCommand> = CommandResults[C["name"]]

// ---------------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------------

/**
 * `ha` (added in v1, optional): an HA member's group and current role. `address` (optional): the
 * device's own address in a `process` or `netns` lab; `netns` (optional): the network namespace
 * it runs in.
 */
export const DeviceSummary = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  status: Schema.String,
  ha: Schema.optionalKey(HaRole),
  address: Schema.optionalKey(Schema.String),
  netns: Schema.optionalKey(Schema.String)
})
export type DeviceSummary = typeof DeviceSummary.Type

export const ListenerSummary = Schema.Struct({
  device: Schema.String,
  port: Schema.String,
  address: Schema.String,
  actualPort: Schema.Number
})
export type ListenerSummary = typeof ListenerSummary.Type

export const SnapshotMessage = Schema.Struct({
  v: V,
  type: Schema.Literal("snapshot"),
  lab: Schema.String,
  devices: Schema.Array(DeviceSummary),
  listeners: Schema.Array(ListenerSummary)
})
export type SnapshotMessage = typeof SnapshotMessage.Type

/**
 * A lab event as it travels: a `type` tag, `at` (lab time in ms) and the event's own fields
 * (src/events/events.ts lists them). Clients ignore event types they do not know.
 */
export const WireEvent = Schema.StructWithRest(Schema.Struct({ type: Schema.String, at: Schema.Number }), [
  Schema.Record(Schema.String, Schema.Unknown)
])

export const EventMessage = Schema.Struct({ v: V, type: Schema.Literal("event"), event: WireEvent })

/** `id` is null when the message was too broken to carry one. */
export const OkReply = Schema.Struct({
  v: V,
  type: Schema.Literal("reply"),
  id: Schema.NullOr(CommandId),
  ok: Schema.Literal(true),
  result: Schema.Unknown
})

export const ErrorReply = Schema.Struct({
  v: V,
  type: Schema.Literal("reply"),
  id: Schema.NullOr(CommandId),
  ok: Schema.Literal(false),
  error: Schema.String
})

export const ReplyMessage = Schema.Union([OkReply, ErrorReply])
export type ReplyMessage = typeof ReplyMessage.Type

export const DroppedMessage = Schema.Struct({ v: V, type: Schema.Literal("dropped"), reason: Schema.String })

/**
 * An expectation of the lab file, for the node that runs the device it is about: the node loaded
 * the same file, so the expectation is named by its step (from 0) and its place in that step.
 */
export const ExpectRequest = Schema.Struct({ name: Schema.Literal("expect"), step: Schema.Number, index: Schema.Number })

/**
 * The lab is stopping in order (an external lab's control process, docs/placement.md): the node
 * stops its device cleanly, sends its last events and exits 0. A lab that dies without it leaves
 * its nodes dialing again, so that the lab started anew takes them as they are.
 */
export const LabStoppingRequest = Schema.Struct({ name: Schema.Literal("lab-stopping") })

/** What the lab asks a node: a command for its device, an expectation to check, or to stop with the lab. */
export const NodeRequest = Schema.Union([ControlCommand, ExpectRequest, LabStoppingRequest])
export type NodeRequest = typeof NodeRequest.Type

/** Lab → node: a request the node answers with an `answer` of the same id. */
export const RequestMessage = Schema.Struct({ v: V, type: Schema.Literal("request"), id: Schema.Number, request: NodeRequest })
export type RequestMessage = typeof RequestMessage.Type

/** Node → lab: the answer to a `request`. */
export const AnswerMessage = Schema.Union([
  Schema.Struct({ v: V, type: Schema.Literal("answer"), id: Schema.Number, ok: Schema.Literal(true), result: Schema.Unknown }),
  Schema.Struct({ v: V, type: Schema.Literal("answer"), id: Schema.Number, ok: Schema.Literal(false), error: Schema.String })
])
export type AnswerMessage = typeof AnswerMessage.Type

export const ServerMessage = Schema.Union([SnapshotMessage, EventMessage, ReplyMessage, DroppedMessage, RequestMessage])
export type ServerMessage = typeof ServerMessage.Type

// ---------------------------------------------------------------------------------------------
// Building and reading messages
// ---------------------------------------------------------------------------------------------

export const eventMessage = (event: LabEvent): string => JSON.stringify({ v: PROTOCOL_VERSION, type: "event", event })

export const okReply = (id: CommandId | null, result: unknown): string =>
  JSON.stringify({ v: PROTOCOL_VERSION, type: "reply", id, ok: true, result })

export const errorReply = (id: CommandId | null, error: string): string =>
  JSON.stringify({ v: PROTOCOL_VERSION, type: "reply", id, ok: false, error })

export const droppedMessage = (reason: string): string => JSON.stringify({ v: PROTOCOL_VERSION, type: "dropped", reason })

export const commandMessage = (id: CommandId, command: ControlCommand): string =>
  JSON.stringify({ v: PROTOCOL_VERSION, type: "command", id, command })

export const requestMessage = (id: number, request: NodeRequest): string => JSON.stringify({ v: PROTOCOL_VERSION, type: "request", id, request })

export const answerMessage = (id: number, outcome: { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string }): string =>
  JSON.stringify({ v: PROTOCOL_VERSION, type: "answer", id, ...outcome })

/** A received message the server cannot run: the error reply's id (when one was readable) and sentence. */
export interface RejectedMessage {
  readonly id: CommandId | null
  readonly error: string
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const describe = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1({
  leafHook: (issue) => {
    switch (issue._tag) {
      case "MissingKey":
        return "is missing"
      case "UnexpectedKey":
        return "is not a field of this command"
      case "InvalidType": {
        // The field's own words ("a whole number from 1 to 1000000", from its checks) rather than its type's ("number").
        const expected = issue.ast.checks?.at(-1)?.annotations?.["expected"]
        return typeof expected === "string" ? `Expected ${expected}` : SchemaIssue.defaultLeafHook(issue)
      }
      default:
        return SchemaIssue.defaultLeafHook(issue)
    }
  }
})

/** "command burst: count must be a whole number from 1 to 1000000, got -1" */
const fieldProblems = (name: string, command: Readonly<Record<string, unknown>>, issue: SchemaIssue.Issue): string =>
  formatter(issue).issues.map((problem) => {
    const path = (problem.path ?? []).map((key) => String(typeof key === "object" ? key.key : key))
    const expected = /^Expected (.*?)(?:, got .*)?$/su.exec(problem.message)?.[1]
    const field = path.join(".")
    if (expected === undefined) return `command ${name}: ${field} ${problem.message}`
    const value = path.reduce<unknown>((at, key) => (Array.isArray(at) ? at[Number(key)] : isRecord(at) ? at[key] : undefined), command)
    return `command ${name}: ${field} must be ${expected}, got ${describe(value)}`
  }).join("; ")

/** Reads one text frame from a client: a command (or a node's answer), or why it is not one. */
export const decodeClientMessage = (text: string): Result.Result<CommandMessage | AnswerMessage, RejectedMessage> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return Result.fail({ id: null, error: `the message is not JSON (${(error as Error).message}); send one JSON object per text frame` })
  }
  if (!isRecord(value)) return Result.fail({ id: null, error: `the message must be a JSON object, got ${describe(value)}` })
  const id = typeof value["id"] === "string" || typeof value["id"] === "number" ? value["id"] : null
  const reject = (error: string) => Result.fail({ id, error })
  if (value["v"] !== PROTOCOL_VERSION) {
    return reject(
      value["v"] === undefined
        ? `the message has no "v"; send {"v": ${PROTOCOL_VERSION}, ...} (control protocol version ${PROTOCOL_VERSION})`
        : `control protocol version ${describe(value["v"])} is not supported; this lab speaks version ${PROTOCOL_VERSION}`
    )
  }
  if (value["type"] === "answer") {
    const answer = Schema.decodeUnknownResult(AnswerMessage)(value)
    return Result.isSuccess(answer) ? Result.succeed(answer.success) : reject(`an answer needs "id" (a number), "ok" and "result" or "error"`)
  }
  if (value["type"] !== "command") {
    return reject(`unknown message type ${describe(value["type"])}; a client sends {"v": 1, "type": "command", "id": ..., "command": {...}}`)
  }
  if (id === null) return reject(`a command needs an "id" (a string or a number) to match its reply, got ${describe(value["id"])}`)
  const command = value["command"]
  if (!isRecord(command)) return reject(`"command" must be an object such as {"name": "stop", "device": "fgt-1"}, got ${describe(command)}`)
  const name = command["name"]
  const schema = typeof name === "string" && Object.hasOwn(COMMAND_SCHEMAS, name) ? COMMAND_SCHEMAS[name as CommandName] : undefined
  if (schema === undefined) return reject(`unknown command ${describe(name)}; commands: ${COMMAND_NAMES.join(", ")}`)
  const decoded = Schema.decodeUnknownResult(schema)(command, { onExcessProperty: "error" })
  if (Result.isFailure(decoded)) return reject(fieldProblems(name as string, command, decoded.failure.issue))
  return Result.succeed({ v: PROTOCOL_VERSION, type: "command", id, command: decoded.success })
}

/** Reads one text frame from the server: a message, or the sentence that says why it cannot be read. */
export const decodeServerMessage = (text: string): Result.Result<ServerMessage, string> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return Result.fail("the lab sent a frame that is not JSON; is this URL a fazlab control channel?")
  }
  if (isRecord(value) && value["v"] !== PROTOCOL_VERSION) {
    return Result.fail(
      `the lab speaks control protocol version ${describe(value["v"])} and this fazlab speaks ${PROTOCOL_VERSION}; use the same fazlab version for both`
    )
  }
  const decoded = Schema.decodeUnknownResult(ServerMessage)(value)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success)
    : Result.fail("the lab sent a message this fazlab cannot read; use the same fazlab version for the lab and the client")
}
