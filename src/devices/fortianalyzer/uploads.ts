/**
 * What the analyzer uploads to a file server (the vendor table's "Log & report" and
 * "Configuration backups" rows), on the lab clock, and the upload path every such file takes
 * (`upload`: reports, `reports.ts`, send theirs through it too):
 *
 * - **Rolled logs** (`config system log settings` → `config rolling-regular`): the logs it stores
 *   go into the current log file of each device and log type (`<devname>.tlog.log` for traffic,
 *   `elog` event, `ulog` the rest); a file rolls when it reaches `file-size` MB, or every day
 *   (`when daily`) or on the `days` of the week (`when weekly`) at `hour`:`min`. With `upload
 *   enable` (`upload-trigger on-roll`) each rolled file goes at once to `ip` over `server-type`
 *   (ftp, sftp, scp) into `directory`, named `<devname>.<type>.<first>-<last>.log` (times of lab
 *   time, `.gz` with `gzip-format enable`); with `upload-trigger on-schedule` the rolled files
 *   wait and go together at `upload-hour` every day. A file that could not go stays and goes with
 *   the next roll (or upload hour): the logs are in the store either way, nothing acknowledged is
 *   lost. `execute backup logs` sends a device's stored logs now, one file per log type.
 * - **Configuration backups** (`config system backup all-settings`): with `status enable`, the
 *   analyzer's whole configuration (`show` of every object, as `CliSession.allSettings` prints it)
 *   goes to `server` over `protocol` into `directory` at `time` (hh:mm) on the `week_days`
 *   listed; `execute backup all-settings` in the CLI sends one now.
 *
 * The lab's date is the wall clock's when the analyzer was built plus lab time, so a simulated
 * clock (`clock: simulated`) jumps to the next roll or backup. Each file sent is a
 * `file-uploaded` event; each failure a `file-upload-failed` event with the reason.
 */
import * as zlib from "node:zlib"
import * as Schema from "effect/Schema"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { resolveServer } from "../../net/server-address.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import type { LogStore } from "../../store/log-store.ts"
import { Enable, orNull, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import { type UploadProtocol, uploadFile } from "./file-upload.ts"

export const Protocol = Schema.Literals(["ftp", "sftp", "scp"])
const WEEK_DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const
const SHORT_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const

/** `config rolling-regular` of `config system log settings` (FortiAnalyzer's names). */
export const RollingRegular = settingsStruct({
  /** A log file rolls when it reaches this many MB. */
  fileSize: withDefault(wholeNumber(1, 10_000), 200),
  when: withDefault(Schema.Literals(["none", "daily", "weekly"]), "none"),
  /** For `when weekly`. */
  days: withDefault(Schema.Array(Schema.Literals(SHORT_DAYS)), []),
  hour: withDefault(wholeNumber(0, 23), 0),
  min: withDefault(wholeNumber(0, 59), 0),
  upload: withDefault(Enable, "disable"),
  /** `on-roll`: each rolled file goes at once; `on-schedule`: the rolled files go together at `upload-hour` every day. */
  uploadTrigger: withDefault(Schema.Literals(["on-roll", "on-schedule"]), "on-roll"),
  /** For `upload-trigger on-schedule`: the hour (lab date, UTC) the rolled files go. */
  uploadHour: withDefault(wholeNumber(0, 23), 0),
  serverType: withDefault(Protocol, "ftp"),
  /** The upload server: a file server of the lab, or a host outside it. */
  ip: orNull(Server),
  /** 0: the protocol's port (21, 22). */
  port: withDefault(wholeNumber(0, 65535), 0),
  username: withDefault(Schema.String, ""),
  password: withDefault(Schema.String, ""),
  directory: withDefault(Schema.String, ""),
  gzipFormat: withDefault(Enable, "disable")
})
export type RollingRegular = typeof RollingRegular.Type

/** `config system log settings`: only its `rolling-regular` here. */
export const LogSettings = settingsStruct({ rollingRegular: withDefault(RollingRegular, {}) })
export type LogSettings = typeof LogSettings.Type

/** `config system backup all-settings` (FortiAnalyzer's names, `week_days` with its underscore). */
export const BackupAllSettings = settingsStruct({
  status: withDefault(Enable, "disable"),
  server: orNull(Server),
  protocol: withDefault(Protocol, "sftp"),
  user: withDefault(Schema.String, ""),
  passwd: withDefault(Schema.String, ""),
  directory: withDefault(Schema.String, ""),
  /** hh:mm (lab date, UTC). */
  time: withDefault(Schema.String.check(Schema.isPattern(/^(?:[01]\d|2[0-3]):[0-5]\d$/u, { expected: "a time of day as hh:mm, such as 02:30" })), "00:00"),
  weekDays: withDefault(Schema.Array(Schema.Literals(WEEK_DAYS)), [...WEEK_DAYS])
}, { weekDays: "week_days" })
export type BackupAllSettings = typeof BackupAllSettings.Type

/** Milliseconds an upload may take before it fails (a real-time limit: the network's). */
const UPLOAD_TIMEOUT_MS = 30_000
const DAY_MS = 86_400_000

/** Where an upload goes and as whom. */
export interface UploadTarget {
  readonly protocol: UploadProtocol
  readonly server: string
  /** 0: the protocol's port. */
  readonly port: number
  readonly user: string
  readonly password: string
  readonly directory: string
}

export interface UploadsOptions {
  readonly analyzer: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly logSettings: LogSettings
  readonly backup: BackupAllSettings
  /** The configuration file a backup sends. */
  readonly allSettings: () => string
  /** What `execute backup logs` reads: the stored logs of a device. */
  readonly store: Pick<LogStore, "query" | "countByDevice">
}

/** What an upload is, as its events say. */
export type UploadWhat = "logs" | "backup" | "report"

/** The most logs `execute backup logs` sends of one device (as `execute log-integrity` reads). */
const BACKUP_LOGS_MAX = 1_000_000

/** FortiAnalyzer's log file name of a type: tlog (traffic), elog (event), ulog (the rest). */
const fileType = (type: string | null): string => (type === "traffic" ? "tlog" : type === "event" ? "elog" : "ulog")

/** 20260105-0230 (UTC) */
const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/gu, "").replace("T", "-")

/** A rolled (or backed-up) log file's name: `<devname>.<tlog|elog|ulog>.<first>-<last>.log[.gz]`. */
const logFileName = (device: string, type: string, first: number, last: number, gzip: boolean): string =>
  `${device}.${type}.${stamp(first)}-${stamp(last)}.log${gzip ? ".gz" : ""}`

/** Milliseconds from `now` (epoch ms) to the next hh:mm (UTC) on one of `days` (0 = Sunday), never 0. */
export const untilNext = (now: number, hour: number, minute: number, days: ReadonlySet<number>): number => {
  const start = new Date(now)
  const first = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate(), hour, minute)
  for (let day = 0; day <= 7; day++) {
    const at = first + day * DAY_MS
    if (at > now && days.has(new Date(at).getUTCDay())) return at - now
  }
  return 7 * DAY_MS
}

interface OpenFile {
  readonly device: string
  readonly type: string
  readonly first: number
  last: number
  bytes: number
  readonly lines: Array<string>
}

interface RolledFile {
  readonly name: string
  readonly content: Buffer
}

export class AnalyzerUploads {
  readonly #options: UploadsOptions
  /** The lab's date at lab time 0 (epoch ms). */
  readonly #epoch: number
  readonly #open = new Map<string, OpenFile>()
  /** Rolled files not yet uploaded (a failed upload keeps them for the next one). */
  #pending: Array<RolledFile> = []
  #uploading = false
  #rollTimer: unknown = null
  #uploadTimer: unknown = null
  #backupTimer: unknown = null
  #running = false
  /** Aborted on stop: an upload in flight closes its connection and fails ("the analyzer stopped"). */
  #abort = new AbortController()
  uploaded = 0
  failed = 0

  constructor(options: UploadsOptions) {
    this.#options = options
    this.#epoch = Date.now() - options.clock.now()
  }

  /** Whether stored logs are needed (`rolling-regular` uploads). */
  get rollsLogs(): boolean {
    return this.#options.logSettings.rollingRegular.upload === "enable" && this.#options.logSettings.rollingRegular.ip !== null
  }

  /** The lab's date now (epoch ms): the wall clock's when the analyzer was built plus lab time. */
  date(): number {
    return this.#epoch + this.#options.clock.now()
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#abort = new AbortController()
    const rolling = this.#options.logSettings.rollingRegular
    if (rolling.when !== "none") {
      const days = rolling.when === "daily" ? new Set([0, 1, 2, 3, 4, 5, 6]) : new Set(rolling.days.map((day) => SHORT_DAYS.indexOf(day)))
      this.#every(rolling.hour, rolling.min, days, (timer) => (this.#rollTimer = timer), () => this.roll())
    }
    if (rolling.uploadTrigger === "on-schedule") {
      this.#every(rolling.uploadHour, 0, new Set([0, 1, 2, 3, 4, 5, 6]), (timer) => (this.#uploadTimer = timer), () => void this.#uploadPending())
    }
    const backup = this.#options.backup
    if (backup.status === "enable" && backup.server !== null) {
      const [hour, minute] = backup.time.split(":").map(Number) as [number, number]
      this.#every(hour, minute, new Set(backup.weekDays.map((day) => WEEK_DAYS.indexOf(day))), (timer) => (this.#backupTimer = timer), () => void this.backupNow(this.#backupTarget()))
    }
  }

  /** Runs `job` at hh:mm on `days` of the lab's date, again and again until stopped. */
  #every(hour: number, minute: number, days: ReadonlySet<number>, keep: (timer: unknown) => void, job: () => void): void {
    if (days.size === 0) return
    const { clock } = this.#options
    const arm = () =>
      keep(clock.setTimeout(() => {
        if (!this.#running) return
        job()
        arm()
      }, untilNext(this.date(), hour, minute, days)))
    arm()
  }

  stop(): void {
    this.#running = false
    this.#abort.abort()
    for (const timer of [this.#rollTimer, this.#uploadTimer, this.#backupTimer]) if (timer !== null) this.#options.clock.clearTimeout(timer)
    this.#rollTimer = null
    this.#uploadTimer = null
    this.#backupTimer = null
  }

  /** Logs the analyzer just stored: into the current file of their device and type; a full file rolls. */
  stored(batch: ReadonlyArray<LogRecordInput>): void {
    if (!this.rollsLogs) return
    const limit = this.#options.logSettings.rollingRegular.fileSize * 1_048_576
    const full: Array<string> = []
    for (const record of batch) {
      const type = fileType(record.type)
      const key = `${record.device}\u0000${type}`
      let file = this.#open.get(key)
      if (file === undefined) {
        file = { device: record.device, type, first: this.date(), last: this.date(), bytes: 0, lines: [] }
        this.#open.set(key, file)
      }
      file.lines.push(record.raw)
      file.bytes += Buffer.byteLength(record.raw) + 1
      file.last = this.date()
      if (file.bytes >= limit) full.push(key)
    }
    if (full.length > 0) this.#roll(full)
  }

  /** Rolls every open log file now (the `when` schedule), and uploads what rolled (`on-roll`). */
  roll(): void {
    this.#roll([...this.#open.keys()])
  }

  #roll(keys: ReadonlyArray<string>): void {
    const gzip = this.#options.logSettings.rollingRegular.gzipFormat === "enable"
    for (const key of keys) {
      const file = this.#open.get(key)
      if (file === undefined || file.lines.length === 0) continue
      this.#open.delete(key)
      const text = Buffer.from(`${file.lines.join("\n")}\n`, "utf8")
      this.#pending.push({ name: logFileName(file.device, file.type, file.first, file.last, gzip), content: gzip ? zlib.gzipSync(text) : text })
    }
    if (this.#options.logSettings.rollingRegular.uploadTrigger === "on-roll") void this.#uploadPending()
  }

  async #uploadPending(): Promise<void> {
    const rolling = this.#options.logSettings.rollingRegular
    if (this.#uploading || !this.rollsLogs || rolling.ip === null) return
    this.#uploading = true
    try {
      while (this.#pending.length > 0) {
        const file = this.#pending[0] as RolledFile
        const target: UploadTarget = { protocol: rolling.serverType, server: rolling.ip, port: rolling.port, user: rolling.username, password: rolling.password, directory: rolling.directory }
        const next = rolling.uploadTrigger === "on-roll" ? "the next roll" : `upload-hour ${rolling.uploadHour}`
        const sent = await this.upload("logs", target, file.name, file.content, `${this.#pending.length - 1} rolled files wait for ${next}`)
        if (!sent) return
        this.#pending.shift()
      }
    } finally {
      this.#uploading = false
    }
  }

  #backupTarget(): UploadTarget {
    const backup = this.#options.backup
    return { protocol: backup.protocol, server: backup.server ?? "", port: 0, user: backup.user, password: backup.passwd, directory: backup.directory }
  }

  /** Sends the configuration now (a scheduled backup, `execute backup all-settings`); resolves with whether it went. */
  backupNow(target: UploadTarget): Promise<boolean> {
    const name = `${this.#options.analyzer}-all-settings-${stamp(this.date())}.conf`
    return this.upload("backup", target, name, Buffer.from(this.#options.allSettings(), "utf8"), "the next scheduled backup tries again")
  }

  /**
   * `execute backup logs`: every stored log of each device, one file per log type named as a
   * rolled file; `sent` resolves with how many files went. `devices` are device names ("all":
   * every device with stored logs); the names that have no stored logs come back in `unknown`.
   */
  backupLogs(devices: ReadonlyArray<string>, target: UploadTarget): { readonly unknown: ReadonlyArray<string>; readonly sent: Promise<number> } {
    const stored = this.#options.store.countByDevice({ held: "include" }).map(({ device }) => device)
    const names = devices.includes("all") ? stored : devices.filter((device) => stored.includes(device))
    const files: Array<RolledFile> = []
    for (const device of names) {
      const byType = new Map<string, Array<{ readonly raw: string; readonly at: number }>>()
      for (const log of this.#options.store.query({ device, limit: BACKUP_LOGS_MAX, held: "include" })) {
        const type = fileType(log.type)
        const list = byType.get(type) ?? []
        list.push({ raw: log.raw, at: log.receivedAt })
        byType.set(type, list)
      }
      for (const [type, logs] of byType) {
        const name = logFileName(device, type, logs[0]?.at ?? 0, logs.at(-1)?.at ?? 0, false)
        files.push({ name, content: Buffer.from(`${logs.map((log) => log.raw).join("\n")}\n`, "utf8") })
      }
    }
    return { unknown: devices.filter((device) => device !== "all" && !stored.includes(device)), sent: this.uploadAll("logs", target, files, "the logs stay in the store; run execute backup logs again") }
  }

  /** Sends `files` one after the other; resolves with how many went. */
  async uploadAll(what: UploadWhat, target: UploadTarget, files: ReadonlyArray<{ readonly name: string; readonly content: Buffer }>, afterFailure: string): Promise<number> {
    let count = 0
    for (const file of files) if (await this.upload(what, target, file.name, file.content, afterFailure)) count++
    return count
  }

  /** Sends one file to `target`; says so as a `file-uploaded` or `file-upload-failed` event (`afterFailure`: what happens next) and resolves with whether it went. */
  async upload(what: UploadWhat, target: UploadTarget, name: string, content: Buffer, afterFailure: string): Promise<boolean> {
    const { analyzer, bus, plan } = this.#options
    const where = resolveServer(plan, target.server, target.protocol === "ftp" ? "tcp/21" : "tcp/22")
    const port = target.port === 0 ? where.actualPort : target.port
    const localAddress = plan.sourceAddressOf(analyzer)
    try {
      const remote = await uploadFile({
        protocol: target.protocol,
        host: where.address,
        port,
        user: target.user,
        password: target.password,
        directory: target.directory,
        name,
        content,
        timeoutMs: UPLOAD_TIMEOUT_MS,
        ...(localAddress === undefined ? {} : { localAddress })
      }, this.#abort.signal)
      this.uploaded++
      bus.publish({ type: "file-uploaded", device: analyzer, what, to: target.server, via: target.protocol, path: remote, bytes: content.length })
      return true
    } catch (cause) {
      this.failed++
      bus.publish({ type: "file-upload-failed", device: analyzer, what, to: target.server, via: target.protocol, reason: `${cause instanceof Error ? cause.message : String(cause)}; ${afterFailure}` })
      return false
    }
  }
}
