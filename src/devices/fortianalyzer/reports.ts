/**
 * The analyzer's reports (FortiAnalyzer's Reports pane; JSON API `/report/adom/<adom>/config/
 * output` and `/config/schedule`): a **report schedule** runs a layout (`report-layouts.ts`) over
 * the stored logs of a period and of its devices, on demand or every N hours, days or weeks on
 * the lab clock; its **output profile** says which files to make (`output-format`: pdf, html,
 * csv; `report-render.ts`), where to upload them (`upload enable`: `upload-server` over
 * `upload-server-type`, through the analyzer's own upload client, `uploads.ts`) and whom to mail
 * them to (`email enable`: each of `email-recipients` through its `email-server`, a `config
 * system mail` entry, through the alert mailer, `alert-mail.ts`).
 *
 * With `ldap-query enable`, a run asks the directory of its `ldap-server` (a `config system admin
 * ldap` entry: the vendor table's "Report query" row, TCP/389) for the groups of each user of its
 * "Top users" table, after `ldap-user-case-change` (upper, lower), through `RemoteAuth.groupsOf`;
 * a user the directory does not answer for shows why instead of its groups.
 *
 * A run gets a task id (a UUID, as FortiAnalyzer's), is `running` while its files are made and
 * `generated` after (or `failed`, a `report-failed` event saying why); the analyzer keeps the last `MAX_RUNS` runs for the JSON-RPC API's download
 * (`reports/data/<tid>`), unless `upload-delete enable` removed a run's files once they were
 * uploaded. Files are named `<schedule>-<yyyy-mm-dd-hhmm>.<format>` (the lab's date at the run,
 * UTC). Each file made is a `report-generated` event; uploads and mails are the `file-uploaded` /
 * `file-upload-failed` (`what: report`) and `mail-sent` events of those clients.
 */
import * as crypto from "node:crypto"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { LogStore } from "../../store/log-store.ts"
import { Enable, NonEmpty, orNull, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import type { AlertMailer } from "./alert-mail.ts"
import type { RemoteAuth } from "./remote-auth.ts"
import { LAYOUT_TITLES, LAYOUTS, type LayoutName, type LayoutResult, runLayout, usersTable } from "./report-layouts.ts"
import { REPORT_FORMATS, type ReportContent, type ReportFormat, renderReport } from "./report-render.ts"
import { type AnalyzerUploads, Protocol, type UploadTarget } from "./uploads.ts"

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const WEEK_MS = 7 * DAY_MS
/** Runs kept for download. */
export const MAX_RUNS = 50

const TimeOfDay = Schema.String.check(Schema.isPattern(/^(?:[01]\d|2[0-3]):[0-5]\d$/u, { expected: "a time of day as hh:mm, such as 02:30" }))

/** One `config output` entry (FortiAnalyzer's names): the files a report makes and where they go. */
export const ReportOutput = settingsStruct({
  name: NonEmpty,
  /** One format or a list; fazlab makes pdf, html and csv (FortiAnalyzer also xml, txt, mht, rtf). */
  outputFormat: withDefault(Schema.ArrayEnsure(Schema.Literals(REPORT_FORMATS)), ["pdf"]),
  upload: withDefault(Enable, "disable"),
  uploadServerType: withDefault(Protocol, "ftp"),
  /** A file server of the lab, or a host outside it. */
  uploadServer: orNull(Server),
  uploadUser: withDefault(Schema.String, ""),
  uploadPass: withDefault(Schema.String, ""),
  uploadDir: withDefault(Schema.String, ""),
  /** Remove the run's files from the analyzer once every one of them was uploaded. */
  uploadDelete: withDefault(Enable, "disable"),
  email: withDefault(Enable, "disable"),
  emailRecipients: withDefault(Schema.Array(settingsStruct({
    address: NonEmpty,
    /** Absent: the mail entry's `from`. */
    emailFrom: orNull(NonEmpty),
    /** The `config system mail` entry the mail goes through (its `id`). */
    emailServer: NonEmpty
  })), []),
  /** Empty: "Report <schedule> from <hostname>". */
  emailSubject: withDefault(Schema.String, ""),
  /** Empty: a line naming the report, its period and its files. */
  emailBody: withDefault(Schema.String, "")
})
export type ReportOutput = typeof ReportOutput.Type

export const TIME_PERIODS = ["today", "yesterday", "last-n-hours", "last-n-days", "last-n-weeks", "last-7-days", "last-14-days", "last-30-days", "this-week", "last-week"] as const
export type TimePeriod = (typeof TIME_PERIODS)[number]

const WEEK_STARTS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const

/** One `config schedule` entry (FortiAnalyzer's names; `layout` names a built-in layout where FortiAnalyzer has `report-layout` ids). */
export const ReportSchedule = settingsStruct({
  name: NonEmpty,
  status: withDefault(Enable, "enable"),
  adom: withDefault(NonEmpty, "root"),
  layout: withDefault(Schema.Literals(LAYOUTS), "traffic-summary"),
  scheduleType: withDefault(Schema.Literals(["on-demand", "every-n-hours", "every-n-days", "every-n-weeks"]), "on-demand"),
  scheduleFrequency: withDefault(wholeNumber(1, 1000), 1),
  /** hh:mm (lab date, UTC): the schedule runs at this time of day plus any whole number of `schedule-frequency` hours, days or weeks. */
  scheduleValidStart: withDefault(TimeOfDay, "00:00"),
  timePeriod: withDefault(Schema.Literals(TIME_PERIODS), "last-7-days"),
  /** N of the `last-n-*` periods. */
  periodLastN: withDefault(wholeNumber(1, 10_000), 1),
  /** `faz`: the time the analyzer received a log; `dev`: the log's own time. */
  periodOpt: withDefault(Schema.Literals(["faz", "dev"]), "faz"),
  weekStart: withDefault(Schema.Literals(WEEK_STARTS), "sun"),
  /** The devices whose logs it covers (lab ids or device names); none, `All_Devices` or `All_FortiGate`: all. */
  devices: withDefault(Schema.Array(settingsStruct({ devicesName: NonEmpty })), []),
  /** Absent: a PDF is made and kept on the analyzer (the JSON-RPC download), not sent. */
  outputProfile: orNull(NonEmpty),
  /** Ask the directory for the groups of the report's users (the "Report query" row). */
  ldapQuery: withDefault(Enable, "disable"),
  /** The `admin.ldap` entry (`config system admin ldap`) whose server the query asks. */
  ldapServer: orNull(NonEmpty),
  /** The user name as the directory knows it: `upper` or `lower` case, or as the logs have it. */
  ldapUserCaseChange: withDefault(Schema.Literals(["upper", "lower", "disable"]), "disable")
}).check(Schema.makeFilter((schedule) =>
  schedule.ldapQuery === "enable" && schedule.ldapServer === null
    ? new SchemaIssue.InvalidValue({ expected: "ldap-server naming an admin.ldap entry when ldap-query is enable", got: `schedule ${schedule.name} without ldap-server` })
    : undefined
))
export type ReportSchedule = typeof ReportSchedule.Type

/** `/report/adom/<adom>/config`: output profiles and schedules; a schedule's `output-profile` names one of the profiles. */
export const ReportSettings = settingsStruct({
  output: withDefault(Schema.Array(ReportOutput), []),
  schedule: withDefault(Schema.Array(ReportSchedule), [])
}).check(Schema.makeFilter((report) => {
  const names = report.output.map((entry) => entry.name)
  const wrong = report.schedule.find((entry) => entry.outputProfile !== null && !names.includes(entry.outputProfile))
  return wrong === undefined
    ? undefined
    : new SchemaIssue.InvalidValue({
      expected: `each schedule's output-profile to name a report.output entry (${names.length === 0 ? "there are none: add one" : names.join(", ")})`,
      got: `schedule ${wrong.name} naming ${wrong.outputProfile ?? ""}`
    })
}))
export type ReportSettings = typeof ReportSettings.Type

/** The period `[start, end)` (epoch ms) a schedule's `time-period` means at `now`. */
export const periodOf = (schedule: Pick<ReportSchedule, "timePeriod" | "periodLastN" | "weekStart">, now: number): { readonly start: number; readonly end: number } => {
  const today = now - (now % DAY_MS)
  const weekStart = today - ((new Date(today).getUTCDay() - WEEK_STARTS.indexOf(schedule.weekStart) + 7) % 7) * DAY_MS
  const n = schedule.periodLastN
  switch (schedule.timePeriod) {
    case "today":
      return { start: today, end: now }
    case "yesterday":
      return { start: today - DAY_MS, end: today }
    case "last-n-hours":
      return { start: now - n * HOUR_MS, end: now }
    case "last-n-days":
      return { start: now - n * DAY_MS, end: now }
    case "last-n-weeks":
      return { start: now - n * WEEK_MS, end: now }
    case "last-7-days":
      return { start: now - 7 * DAY_MS, end: now }
    case "last-14-days":
      return { start: now - 14 * DAY_MS, end: now }
    case "last-30-days":
      return { start: now - 30 * DAY_MS, end: now }
    case "this-week":
      return { start: weekStart, end: now }
    case "last-week":
      return { start: weekStart - WEEK_MS, end: weekStart }
  }
}

/**
 * Milliseconds from `now` (epoch ms) to a schedule's next run: its runs are at today's `start`
 * (hh:mm, UTC) plus any whole number of `every`, so `every-n-hours` with 00:15 runs at a quarter
 * past every hour, and the first run is the next of them (never now).
 */
export const untilRun = (now: number, start: string, every: number): number => {
  const [hour, minute] = start.split(":").map(Number) as [number, number]
  const anchor = now - (now % DAY_MS) + hour * HOUR_MS + minute * 60_000
  return anchor + (Math.floor((now - anchor) / every) + 1) * every - now
}

/** 2026-12-05-1400 (UTC) */
const fileStamp = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace("T", "-").replace(":", "")

export interface ReportFile {
  readonly name: string
  readonly format: ReportFormat
  readonly content: Buffer
}

export type RunState = "running" | "generated" | "failed"

export interface ReportRun {
  readonly tid: string
  readonly schedule: string
  readonly adom: string
  readonly layout: LayoutName
  readonly title: string
  /** Its files' name without the extension: `<schedule>-<yyyy-mm-dd-hhmm>`. */
  readonly base: string
  /** Lab dates (epoch ms). */
  readonly startedAt: number
  readonly period: { readonly start: number; readonly end: number }
  state: RunState
  endedAt: number | null
  /** Why it failed. */
  reason: string | null
  content: ReportContent | null
  /** The files its output profile asked for; empty after `upload-delete`. */
  files: ReadonlyArray<ReportFile>
  /** Why its files are gone. */
  deleted: string | null
}

export interface ReportsOptions {
  readonly analyzer: string
  readonly serial: string
  readonly hostname: string
  readonly bus: EventBus
  readonly clock: LabClock
  readonly store: LogStore
  readonly uploads: AnalyzerUploads
  readonly mailer: AlertMailer
  /** The directory queries of `ldap-query` (the analyzer's remote-authentication client). */
  readonly directory: Pick<RemoteAuth, "groupsOf">
  /** Its schedules' `devices` name every name a device's logs may carry (a lab id, its serial and hostname: `kind.ts`). */
  readonly settings: ReportSettings
}

const ALL_DEVICES = new Set(["All_Devices", "All_FortiGate"])

/** A group as a report shows it: "sales" of "cn=sales,ou=groups,dc=fazlab,dc=lab" (a name that is no DN as it is). */
const groupName = (group: string): string => /^[^=,]+=([^,]+)/u.exec(group)?.[1]?.trim() ?? group

export class AnalyzerReports {
  readonly #options: ReportsOptions
  readonly #runs = new Map<string, ReportRun>()
  readonly #timers = new Set<unknown>()
  #running = false

  constructor(options: ReportsOptions) {
    this.#options = options
  }

  get settings(): ReportSettings {
    return this.#options.settings
  }

  schedule(name: string, adom?: string): ReportSchedule | undefined {
    return this.#options.settings.schedule.find((entry) => entry.name === name && (adom === undefined || entry.adom === adom))
  }

  /** Runs, oldest first. */
  runs(): ReadonlyArray<ReportRun> {
    return [...this.#runs.values()]
  }

  run(tid: string): ReportRun | undefined {
    return this.#runs.get(tid)
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    for (const schedule of this.#options.settings.schedule) {
      if (schedule.status !== "enable" || schedule.scheduleType === "on-demand") continue
      const unit = schedule.scheduleType === "every-n-hours" ? HOUR_MS : schedule.scheduleType === "every-n-days" ? DAY_MS : WEEK_MS
      const every = schedule.scheduleFrequency * unit
      this.#after(untilRun(this.#options.uploads.date(), schedule.scheduleValidStart, every), schedule, every)
    }
  }

  /** Runs `schedule` in `ms` of lab time, then every `every`, until stopped. */
  #after(ms: number, schedule: ReportSchedule, every: number): void {
    const { clock } = this.#options
    const timer = clock.setTimeout(() => {
      this.#timers.delete(timer)
      if (!this.#running) return
      this.runNow(schedule)
      this.#after(every, schedule, every)
    }, ms)
    this.#timers.add(timer)
  }

  stop(): void {
    this.#running = false
    for (const timer of this.#timers) this.#options.clock.clearTimeout(timer)
    this.#timers.clear()
  }

  /** Starts a run of `schedule` now (its schedule, `execute sql-report run`, JSON-RPC); returns it at once, `running`. */
  runNow(schedule: ReportSchedule): ReportRun {
    const now = this.#options.uploads.date()
    const run: ReportRun = {
      tid: crypto.randomUUID(),
      schedule: schedule.name,
      adom: schedule.adom,
      layout: schedule.layout,
      title: LAYOUT_TITLES[schedule.layout],
      base: `${schedule.name}-${fileStamp(now)}`,
      startedAt: now,
      period: periodOf(schedule, now),
      state: "running",
      endedAt: null,
      reason: null,
      content: null,
      files: [],
      deleted: null
    }
    this.#runs.set(run.tid, run)
    while (this.#runs.size > MAX_RUNS) this.#runs.delete(this.#runs.keys().next().value ?? "")
    void this.#generate(run, schedule)
    return run
  }

  #devices(schedule: ReportSchedule): ReadonlyArray<string> {
    const named = schedule.devices.map((entry) => entry.devicesName)
    if (named.length === 0 || named.some((name) => ALL_DEVICES.has(name))) return this.#options.store.countByDevice().map(({ device }) => device)
    return [...new Set(named)]
  }

  #output(schedule: ReportSchedule): ReportOutput | null {
    return this.#options.settings.output.find((entry) => entry.name === schedule.outputProfile) ?? null
  }

  async #generate(run: ReportRun, schedule: ReportSchedule): Promise<void> {
    const { analyzer, serial, hostname, bus, store } = this.#options
    const output = this.#output(schedule)
    try {
      const devices = this.#devices(schedule)
      const result = runLayout(schedule.layout, store, { devices, start: run.period.start, end: run.period.end, periodOpt: schedule.periodOpt })
      const tables = [...result.tables, usersTable(result.users, await this.#groups(schedule, result.users))]
      const iso = (ms: number) => new Date(ms).toISOString()
      const content: ReportContent = {
        title: run.title,
        generatedAt: new Date(run.startedAt),
        facts: [
          ["FortiAnalyzer", `${hostname} (${serial})`],
          ["Report", `${schedule.name}, ADOM ${schedule.adom}`],
          ["Period", `${iso(run.period.start)} to ${iso(run.period.end)} (${schedule.timePeriod}, ${schedule.periodOpt === "faz" ? "FortiAnalyzer time" : "device time"})`],
          ["Devices", schedule.devices.length === 0 ? "all" : [...new Set(schedule.devices.map((entry) => entry.devicesName))].join(", ")],
          ["Logs", String(result.logs)],
          ["Generated", iso(run.startedAt)],
          ...(result.truncated === null ? [] : [["Note", result.truncated] as const]),
          ...(schedule.ldapQuery === "enable" ? [["LDAP query", `groups of the top users from admin.ldap entry ${schedule.ldapServer ?? ""}`] as const] : [])
        ],
        tables
      }
      run.content = content
      const rows = tables.reduce((sum, table) => sum + table.rows.length, 0)
      const files: Array<ReportFile> = []
      // Without an output profile a schedule makes a PDF, kept on the analyzer.
      for (const format of output?.outputFormat ?? ["pdf"]) {
        const file: ReportFile = { name: `${run.base}.${format}`, format, content: await renderReport(content, format) }
        files.push(file)
        bus.publish({
          type: "report-generated",
          device: analyzer,
          schedule: schedule.name,
          layout: schedule.layout,
          name: file.name,
          format,
          period: { start: iso(run.period.start), end: iso(run.period.end) },
          bytes: file.content.length,
          rows,
          logs: result.logs
        })
      }
      run.files = files
      run.state = "generated"
      run.endedAt = this.#options.uploads.date()
    } catch (cause) {
      run.state = "failed"
      run.reason = `report ${schedule.name} could not be generated: ${cause instanceof Error ? cause.message : String(cause)}; its next run tries again`
      run.endedAt = this.#options.uploads.date()
      bus.publish({ type: "report-failed", device: analyzer, schedule: schedule.name, reason: run.reason })
      return
    }
    if (output !== null) await this.#deliver(run, schedule, output)
  }

  /**
   * With `ldap-query enable`, each user's groups as the directory gives them (their first RDN
   * values, comma-separated; "none" for no group), or why it gave none; else null (no column).
   */
  async #groups(schedule: ReportSchedule, users: LayoutResult["users"]): Promise<ReadonlyMap<string, string> | null> {
    if (schedule.ldapQuery !== "enable" || schedule.ldapServer === null) return null
    const entry = schedule.ldapServer
    const asked = (user: string) => (schedule.ldapUserCaseChange === "upper" ? user.toUpperCase() : schedule.ldapUserCaseChange === "lower" ? user.toLowerCase() : user)
    const answers = await Promise.all(users.map(async ([user]) => {
      const answer = await this.#options.directory.groupsOf(entry, asked(user))
      if ("reason" in answer) return [user, `not known: ${answer.reason}`] as const
      return [user, answer.groups.length === 0 ? "none" : answer.groups.map(groupName).join(", ")] as const
    }))
    return new Map(answers)
  }

  async #deliver(run: ReportRun, schedule: ReportSchedule, output: ReportOutput): Promise<void> {
    const uploads: Array<Promise<boolean>> = []
    if (output.upload === "enable" && output.uploadServer !== null) {
      const target: UploadTarget = { protocol: output.uploadServerType, server: output.uploadServer, port: 0, user: output.uploadUser, password: output.uploadPass, directory: output.uploadDir }
      for (const file of run.files) uploads.push(this.#options.uploads.upload("report", target, file.name, file.content, "the report stays on the analyzer (execute backup reports sends it again)"))
    }
    if (output.email === "enable") {
      const names = run.files.map((file) => file.name).join(", ")
      const period = `${new Date(run.period.start).toISOString()} to ${new Date(run.period.end).toISOString()}`
      for (const recipient of output.emailRecipients) {
        void this.#options.mailer.send({
          handler: `report ${schedule.name}`,
          smtpName: recipient.emailServer,
          from: recipient.emailFrom,
          to: [recipient.address],
          subject: output.emailSubject || `Report ${schedule.name} from ${this.#options.hostname}`,
          text: `${output.emailBody || `FortiAnalyzer ${this.#options.hostname} (${this.#options.serial}) generated report ${schedule.name} (${run.title}) for ${period}.`}\n\nAttached: ${names}\n`,
          attachments: run.files.map((file) => ({ filename: file.name, content: file.content })),
          what: `the mail of report ${schedule.name}`,
          namedBy: `output profile ${output.name}'s email-recipients ${recipient.address}`
        })
      }
    }
    const sent = await Promise.all(uploads)
    if (output.uploadDelete === "enable" && sent.length > 0 && sent.every(Boolean)) {
      run.files = []
      run.deleted = `report ${schedule.name}'s files were deleted from the analyzer once uploaded (output profile ${output.name} has upload-delete enable)`
    }
  }

  /**
   * `execute backup reports <schedules>`: the files of the newest generated run of each named
   * schedule (`all`: every schedule) go to `target`; `sent` resolves with how many went. Names
   * with no generated run come back in `unknown`.
   */
  backup(names: ReadonlyArray<string>, target: UploadTarget): { readonly unknown: ReadonlyArray<string>; readonly sent: Promise<number> } {
    const schedules = names.includes("all") ? this.#options.settings.schedule.map((entry) => entry.name) : names
    const newest = new Map<string, ReportRun>()
    for (const run of this.#runs.values()) if (run.state === "generated" && run.files.length > 0) newest.set(run.schedule, run)
    const files = schedules.flatMap((name) => newest.get(name)?.files ?? [])
    return { unknown: names.filter((name) => name !== "all" && !newest.has(name)), sent: this.#options.uploads.uploadAll("report", target, files, "the report stays on the analyzer") }
  }
}
