/**
 * A FortiAnalyzer's settings in a scenario, as Effect Schemas (the only source of their types):
 * its syslog intake, its HTTPS intakes, its OFTP intake, its own HA settings and its
 * administrators (`admin.ts`); its `hostname` (the CLI prompt) defaults to the device id. fazlab names
 * where FortiAnalyzer has none; see docs/errors.md ("Named limits") and docs/protocols/oftp.md.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { AdminSettings } from "./admin.ts"
import { AlertEvent, MailServer } from "./alert-mail.ts"
import { AlertThresholds } from "./alerts.ts"
import { AnalyzerDnsSettings, FdsSettings } from "./fortiguard.ts"
import { DockerSettings } from "./mea.ts"
import { AnalyzerNtpSettings } from "./ntp-sync.ts"
import { LogForwardEntry } from "./log-forward.ts"
import { AnalyzerRecorderSettings } from "./recorder-intake.ts"
import { LogForwardService } from "./aggregation-server.ts"
import { SnmpCommunity } from "./snmp-traps.ts"
import { ReportSettings } from "./reports.ts"
import { BackupAllSettings, LogSettings } from "./uploads.ts"
import { connectionLimitFields, Duration, EncAlgorithm, NonEmpty, orNull, settingsStruct, SslMinProtoVersion, wholeNumber, withDefault } from "../settings.ts"

/**
 * The analyzer's syslog intake on UDP/514 and TCP/514; the connection rules count TCP/514's
 * syslog and OFTP connections together.
 */
export const AnalyzerSyslogSettings = settingsStruct({
  maxFrameBytes: withDefault(wholeNumber(480, 16_777_216), 65_536),
  udpReceiveBuffer: withDefault(wholeNumber(1, 2_147_483_647), 4_194_304),
  ...connectionLimitFields,
  /** Milliseconds a syslog connection (not OFTP) may stay silent once it has sent; 0: for ever (as FortiAnalyzer). */
  idleTimeout: withDefault(Duration, "0s")
})
export type AnalyzerSyslogSettings = typeof AnalyzerSyslogSettings.Type

/** TCP/8443 and TLS/443 (FortiClient's HTTPS): the connection rules, per port. */
export const AnalyzerHttpsSettings = settingsStruct(connectionLimitFields)
export type AnalyzerHttpsSettings = typeof AnalyzerHttpsSettings.Type

/** The analyzer's OFTP intake. Times in milliseconds. */
export const AnalyzerOftpSettings = settingsStruct({
  /** Devices whose HELLO carries this pre-shared key are authorized automatically. */
  psk: orNull(NonEmpty),
  /** Authorize every device that registers (a lab shortcut). */
  autoAuthorize: withDefault(Schema.Boolean, false),
  encAlgorithm: withDefault(EncAlgorithm, "high"),
  sslMinProtoVersion: withDefault(SslMinProtoVersion, "default"),
  maxFrameBytes: withDefault(wholeNumber(1024, 67_108_864), 1_048_576),
  /** From TCP accept to the end of the TLS handshake. */
  handshakeTimeout: withDefault(Duration, "10s"),
  /** From the end of the TLS handshake to the HELLO. */
  helloTimeout: withDefault(Duration, "10s")
})
export type AnalyzerOftpSettings = typeof AnalyzerOftpSettings.Type

/** An analyzer's own HA settings (FortiOS `config system ha` names); used when it is in an `ha` group. */
export const AnalyzerHaSettings = settingsStruct({
  /** `priority`: 80 (lowest) to 120 (highest). */
  priority: withDefault(wholeNumber(80, 120), 100),
  preferredRole: withDefault(Schema.Literals(["primary", "secondary"]), "secondary")
})

/** `config system snmp`: the thresholds of the threshold traps and the communities that receive traps. */
export const AnalyzerSnmpSettings = Schema.Struct({
  sysinfo: withDefault(AlertThresholds, {}),
  community: withDefault(Schema.Array(SnmpCommunity).check(Schema.isMaxLength(3, { expected: "at most 3 communities, as FortiAnalyzer allows" })), [])
})

export const fortiAnalyzerSettings = {
  /** `config system admin setting` and `config system admin user`: who logs in over SSH and JSON-RPC. */
  admin: withDefault(AdminSettings, {}),
  syslog: withDefault(AnalyzerSyslogSettings, {}),
  https: withDefault(AnalyzerHttpsSettings, {}),
  oftp: withDefault(AnalyzerOftpSettings, {}),
  /** Absent: priority 100, preferred-role secondary. */
  ha: Schema.optionalKey(AnalyzerHaSettings),
  /** `config system log-forward-service`: whether it takes other analyzers' aggregated logs on TCP/3000. */
  logForwardService: withDefault(LogForwardService, {}),
  /** `config system log-forward` entries (mode forwarding or aggregation); their `device-filter` names lab device ids, serials or device names. */
  logForward: withDefault(Schema.Array(LogForwardEntry), []),
  /** `config system snmp sysinfo` (its thresholds) and `config system snmp community` (trap receivers). */
  snmp: withDefault(AnalyzerSnmpSettings, {}),
  /** `config system mail`: the SMTP servers its alert mail goes through. */
  mail: withDefault(Schema.Array(MailServer), []),
  /** `config system alert-event`: event handlers that mail alerts. */
  alertEvent: withDefault(Schema.Array(AlertEvent), []),
  /** `config system dns`: what it resolves through; with a primary, it checks FortiGuard at start. */
  dns: withDefault(AnalyzerDnsSettings, {}),
  /** `config fmupdate fds-setting`: which FortiGuard names it asks for. */
  fdsSetting: withDefault(FdsSettings, {}),
  /** `config system docker`: the management extension applications it fetches from the Fortinet Registry. */
  docker: withDefault(DockerSettings, {}),
  /** `config system ntp`: the server it syncs its clock from. */
  ntp: withDefault(AnalyzerNtpSettings, {}),
  /** `config system log settings`: its `rolling-regular` log files and their upload. */
  logSettings: withDefault(LogSettings, {}),
  /** `config system backup all-settings`: scheduled configuration backups. */
  backup: withDefault(settingsStruct({ allSettings: withDefault(BackupAllSettings, {}) }), {}),
  /** `/report/adom/<adom>/config`: report output profiles (`output`) and report schedules (`schedule`). */
  report: withDefault(ReportSettings, {}),
  /** `config fortirecorder global` (FortiAnalyzer 7.2 and before): RTSP on UDP/554 or TCP/554. */
  fortirecorder: withDefault(AnalyzerRecorderSettings, {})
}

export type FortiAnalyzerSpec = SpecOf<"fortianalyzer", typeof fortiAnalyzerSettings, true>
