/**
 * The FortiAnalyzer kind: its settings, its default serial (FAZ-VM...), the ports it binds (on
 * its HA group's virtual IP when it has one, and TCP/5199 for HA; its management ports on its
 * own address), the peers it dials (the
 * collectors of its `log-forward` entries, the SMTP relays of its `mail` entries, its DNS, NTP,
 * LDAP and RADIUS servers, the file servers it uploads logs, backups and reports to),
 * and how it is built. The lab starts it before the devices that send to it, and after the peers
 * it dials.
 */
import { dnsServer } from "../dns-server/kind.ts"
import { fileServer } from "../file-server/kind.ts"
import { defineKind, referencesTo } from "../kind.ts"
import { ldapServer } from "../ldap-server/kind.ts"
import { ntpServer } from "../ntp-server/kind.ts"
import { radiusServer } from "../radius-server/kind.ts"
import { smtpRelay } from "../smtp-relay/kind.ts"
import { ANALYZER_PORTS, FortiAnalyzer, MANAGEMENT_PORTS } from "./analyzer.ts"
import { HA_PORT } from "./ha-group.ts"
import { fortiAnalyzerSettings } from "./settings.ts"

/** Hosts outside the lab a log destination may name instead of an analyzer, as error sentences suggest them. */
export const LOG_SERVER_OUTSIDE = "siem.example.com or 10.0.0.5:514"

export const fortianalyzer = defineKind({
  name: "fortianalyzer",
  settings: fortiAnalyzerSettings,
  hostname: true,
  serialPrefix: "FAZ-VM",
  catalogRows: ["in-forticlient-syslog", "in-fortigate-oftp", "in-forticlient-chromebook-logs", "in-forticlient-fabric-member", "in-fortianalyzer-ha", "out-fortianalyzer-ha", "in-management-ssh", "in-management-web-admin", "in-management-rest-xml-api", "in-fortimanager-management", "in-fortiportal-api", "in-management-dc-polling", "in-management-log-aggregation"],
  listens: (id, group) => [
    ...(group === null ? [] : [{ at: id, port: HA_PORT }]),
    ...ANALYZER_PORTS.map((port) => ({ at: group?.vip === true ? group.group : id, port })),
    // The management plane is on the analyzer's own address, HA member or not.
    ...MANAGEMENT_PORTS.map((port) => ({ at: id, port }))
  ],
  references: (spec) => [
    ...spec.logForward.map((entry, i) => ({
      path: ["logForward", i, "serverAddr"],
      name: entry.serverAddr,
      kind: "fortianalyzer",
      group: true,
      outside: LOG_SERVER_OUTSIDE,
      notSelf: "another collector than the analyzer itself (it would forward its own logs to itself for ever)"
    })),
    ...spec.mail.map((entry, i) => ({ path: ["mail", i, "server"], name: entry.server, kind: smtpRelay.name, group: false, outside: "smtp.example.com or 10.0.0.25:25" })),
    ...referencesTo(dnsServer.name, "10.0.0.53", false, [[["dns", "primary"], spec.dns.primary], [["dns", "secondary"], spec.dns.secondary]]),
    ...referencesTo(fileServer.name, "10.0.0.21", false, [
      [["logSettings", "rollingRegular", "ip"], spec.logSettings.rollingRegular.ip],
      [["backup", "allSettings", "server"], spec.backup.allSettings.server],
      ...spec.report.output.map((entry, i) => [["report", "output", i, "uploadServer"], entry.uploadServer] as const)
    ]),
    ...spec.ntp.ntpserver.map((entry, i) => ({ path: ["ntp", "ntpserver", i, "server"], name: entry.server, kind: ntpServer.name, group: false, outside: "10.0.0.123" })),
    ...spec.admin.ldap.map((entry, i) => ({ path: ["admin", "ldap", i, "server"], name: entry.server, kind: ldapServer.name, group: false, outside: "ldap.example.com or 10.0.0.10" })),
    ...spec.admin.radius.map((entry, i) => ({ path: ["admin", "radius", i, "server"], name: entry.server, kind: radiusServer.name, group: false, outside: "10.0.0.12" }))
  ],
  autostart: () => true,
  build: ({ id, spec, context, group, aliases }) =>
    new FortiAnalyzer(id, {
      serial: spec.serial,
      hostname: spec.hostname,
      admin: spec.admin,
      syslog: spec.syslog,
      https: spec.https,
      oftp: spec.oftp,
      ha: group,
      snmp: spec.snmp,
      mail: spec.mail,
      alertEvent: spec.alertEvent,
      dns: spec.dns,
      fdsSetting: spec.fdsSetting,
      docker: spec.docker,
      ntp: spec.ntp,
      logSettings: spec.logSettings,
      backup: spec.backup,
      // A schedule's device that names a lab device also names its serial and the name its logs carry.
      report: {
        ...spec.report,
        schedule: spec.report.schedule.map((entry) => ({ ...entry, devices: entry.devices.flatMap((device) => aliases(device.devicesName).map((devicesName) => ({ devicesName }))) }))
      },
      fortirecorder: spec.fortirecorder,
      logForwardService: spec.logForwardService,
      // A `device-filter` entry that names a lab device also names its serial and the name its logs carry.
      logForward: spec.logForward.map((entry) => ({
        ...entry,
        deviceFilter: entry.deviceFilter.map((filter) => ({ ...filter, device: filter.device.flatMap(aliases) }))
      }))
    }, context)
})
