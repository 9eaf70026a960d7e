/**
 * What the analyzer's management planes read of its live state, in one place: the SSH CLI
 * (`cli.ts`) and the JSON-RPC API (`jsonrpc.ts`) answer `get system status` / `get sys/status`,
 * the HA state and the device list from these same functions, so both always agree.
 *
 * The firmware is FortiAnalyzer-VM64 v7.4.3 (the version string FortiPortal's guide shows for an
 * analyzer); fields FortiAnalyzer prints but the lab has no notion of (BIOS, disk, licence) carry
 * a VM's usual values, listed in docs/protocols/cli.md.
 */
import type * as Effect from "effect/Effect"
import type { RegisteredDevice } from "../../store/device-registry.ts"
import type { LogStore } from "../../store/log-store.ts"
import type { ActionError } from "../device.ts"
import type { AdminAccounts } from "./admin.ts"
import type { CameraDiscovery } from "./camera-discovery.ts"
import type { AnalyzerHa } from "./ha-member.ts"
import type { AnalyzerReports } from "./reports.ts"
import type { AnalyzerUploads, UploadTarget } from "./uploads.ts"
import type { RecorderIntake } from "./recorder-intake.ts"

export const FIRMWARE = {
  version: "v7.4.3-build2487 240514 (GA)",
  major: 7,
  minor: 4,
  patch: 3,
  build: 2487,
  branch: "GA"
} as const

export const PLATFORM = { type: "FAZVM64", fullName: "FortiAnalyzer-VM64" } as const

/** The analyzer as its management planes see it (`FortiAnalyzer` is one). */
export interface AnalyzerView {
  readonly id: string
  readonly store: LogStore
  readonly ha: AnalyzerHa | null
  readonly admins: AdminAccounts
  /** The FortiRecorders that reported, and the cameras discovery found. */
  readonly recorders: Pick<RecorderIntake, "recorders">
  readonly cameras: Pick<CameraDiscovery, "cameras">
  readonly settings: { readonly serial: string; readonly hostname: string }
  /** Milliseconds of lab time since the analyzer last started. */
  uptime(): number
  /** Devices with an OFTP session up right now. */
  connectedSerials(): ReadonlyArray<string>
  authorizeDevice(serial: string, adom: string | null): Effect.Effect<{ readonly released: number; readonly adom: string }, ActionError>
  deleteDevice(serial: string): Effect.Effect<{ readonly dropped: number }, ActionError>
  /** `execute backup all-settings` and `execute backup logs`: send to a file server (the result is an event). */
  readonly uploads: { backupNow(target: UploadTarget): Promise<boolean> } & Pick<AnalyzerUploads, "backupLogs" | "date">
  /** `execute sql-report`, `execute backup reports` and the JSON-RPC API's `/report/...`. */
  readonly reports: Pick<AnalyzerReports, "schedule" | "runNow" | "run" | "runs" | "backup">
}

/** "Stand Alone", or the member's role in its HA group: "Primary", "Secondary", or "Initializing" while it elects. */
export const haMode = (view: AnalyzerView): string => {
  const role = view.ha?.role()
  return role === undefined ? "Stand Alone" : role === "primary" ? "Primary" : role === "secondary" ? "Secondary" : "Initializing"
}

/** The ADOMs that hold devices, `root` always first. */
export const adomsOf = (devices: ReadonlyArray<RegisteredDevice>): ReadonlyArray<string> => {
  const names = new Set(["root"])
  for (const device of devices) if (device.adom !== null) names.add(device.adom)
  return [...names]
}

const pad2 = (n: number): string => String(n).padStart(2, "0")
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** "Tue Sep 29 08:09:05 UTC 2020", as FortiAnalyzer prints `Current Time`. */
export const faTime = (date: Date): string =>
  `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${pad2(date.getUTCDate())} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`

/** `get system status`, in FortiAnalyzer's order (6.0 sample, with FortiManager's `HA Mode` and `License Status`). */
export const systemStatus = (view: AnalyzerView, now: Date): ReadonlyArray<readonly [string, string]> => {
  const devices = view.store.devices.list()
  const adoms = adomsOf(devices)
  return [
    ["Platform Type", PLATFORM.type],
    ["Platform Full Name", PLATFORM.fullName],
    ["Version", FIRMWARE.version],
    ["Serial Number", view.settings.serial],
    ["BIOS version", "04000002"],
    ["Hostname", view.settings.hostname],
    ["Max Number of Admin Domains", "5"],
    ["Admin Domain Configuration", adoms.length > 1 ? "Enabled" : "Disabled"],
    ["HA Mode", haMode(view)],
    ["FIPS Mode", "Disabled"],
    ["Branch Point", String(FIRMWARE.build)],
    ["Release Version Information", FIRMWARE.branch],
    ["Current Time", faTime(now)],
    ["Daylight Time Saving", "Yes"],
    ["Time Zone", "(GMT+0:00) Universal Time"],
    ["x86-64 Applications", "Yes"],
    ["Disk Usage", "Free 499.00GB, Total 500.00GB"],
    ["File System", "Ext4"],
    ["License Status", "Valid"]
  ]
}

/** "1d 2h 3m 4s" style, as FortiAnalyzer prints up-times ("24m54.471s"). */
export const upTime = (ms: number): string => {
  const total = Math.max(0, ms) / 1000
  const days = Math.floor(total / 86400)
  const hours = Math.floor((total % 86400) / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = (total % 60).toFixed(3)
  return `${days > 0 ? `${days}d` : ""}${days > 0 || hours > 0 ? `${hours}h` : ""}${minutes}m${seconds}s`
}

/** FortiOS firmware "v7.4.4" as FortiAnalyzer's device list shows it: "7.4 MR4". */
export const firmwareOf = (version: string): string => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/u.exec(version)
  return match === null ? version : `${match[1]}.${match[2]} MR${match[3]}`
}
