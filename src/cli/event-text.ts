/**
 * Plain-text lines for lab events, for a person reading a terminal without the UI. Each line
 * says what happened in words. High-volume events (logs stored / sent) are left out: the
 * report and `fazlab logs` carry those numbers.
 */
import type { LabEvent } from "../events/events.ts"

const clock = (at: number): string => `${(at / 1000).toFixed(3).padStart(8)}s`

export const eventText = (event: LabEvent): string | null => {
  const t = clock(event.at)
  switch (event.type) {
    case "lab-started":
      return `${t}  lab ${event.lab} started${event.dataDir === null ? " (in memory)" : ` (data in ${event.dataDir})`}`
    case "lab-stopped":
      return `${t}  lab ${event.lab} stopped`
    case "node-exited":
      return `${t}  the process of ${event.device} exited (${event.signal ?? `code ${event.code ?? "?"}`}): ${event.reason}`
    case "listener-bound":
      return `${t}  ${event.device} listens on ${event.port} at ${event.address}:${event.actualPort}`
    case "listener-closed":
      return `${t}  ${event.device} stopped listening on ${event.port}`
    case "listener-failed":
      // One failure that leaves several ports unbound (an HA virtual IP) is one line naming them all.
      return event.ports !== undefined && event.ports.length > 1
        ? `${t}  ${event.device} could not listen on ${event.ports.join(", ")} (${event.address}): ${event.reason}`
        : `${t}  ${event.device} could not listen on ${event.port} (${event.address}:${event.actualPort}): ${event.reason}`
    case "listener-moved":
      return `${t}  ${event.device} still listens on ${event.port} at ${event.address}:${event.actualPort}: ${event.reason}`
    case "device-started":
      return `${t}  ${event.device} (${event.kind}) started`
    case "device-stopped":
      return `${t}  ${event.device} (${event.kind}) stopped`
    case "sender-state":
      return `${t}  ${event.device} sender is ${event.state}: ${event.reason}`
    case "replay-started":
      return `${t}  ${event.device} ${event.reason}`
    case "log-partial":
      return `${t}  ${event.device} stored a ${event.reason} log from ${event.peer} on ${event.port} (${event.detail}; ${event.count} so far)`
    case "log-malformed":
      return `${t}  ${event.device} rejected a message from ${event.peer} on ${event.port}: ${event.reason} (${event.detail})`
    case "step-started":
      return `${t}  step ${event.step}: ${event.title}`
    case "step-failed":
      return `${t}  step ${event.step} failed: ${event.reason}`
    case "expectation-passed":
      return `${t}  PASS ${event.title} (${event.detail})`
    case "expectation-failed":
      return `${t}  FAIL ${event.title} (${event.detail})`
    case "oftp-link":
      return `${t}  ${event.device} OFTP link is ${event.state}: ${event.reason}`
    case "oftp-session":
      return event.state === "online" || event.state === "closed"
        ? `${t}  ${event.device} OFTP session from ${event.serial ?? event.peer} ${event.state === "online" ? "is up" : "closed"}: ${event.reason}`
        : null
    case "device-registered":
      return `${t}  ${event.device}: ${event.serial} (${event.name}, ${event.ip}) ${event.firstSeen ? "registered" : "reconnected"}, ${event.status}`
    case "fgfm-link":
      return `${t}  ${event.device} FGFM link to ${event.manager} is ${event.state}: ${event.reason}`
    case "fgfm-session":
      return event.state === "registered" || event.state === "closed"
        ? `${t}  ${event.manager} FGFM session from ${event.serial ?? event.peer} ${event.state === "registered" ? "is up" : "closed"}: ${event.reason}`
        : null
    case "portal-poll":
      return `${t}  ${event.device} polled analyzer ${event.analyzer}: ${event.status}${event.fazVersion === null ? "" : `, ${event.fazVersion}`} (${event.reason})`
    case "fgfm-discover":
      return `${t}  ${event.manager} FGFM to analyzer ${event.analyzer} ${event.state}: ${event.reason}`
    case "fgfm-device-registered":
      return `${t}  ${event.manager}: ${event.serial} (${event.hostname}, ${event.ip}) ${event.firstSeen ? "registered" : "registered again"}, ${event.status}`
    case "device-authorized":
      return `${t}  ${event.device}: ${event.serial} authorized in ADOM ${event.adom} (${event.reason}); ${event.released} held logs released`
    case "admin-login":
      return `${t}  ${event.device}: ${event.via === "ssh" ? "SSH" : "JSON-RPC"} login of ${event.user} from ${event.peer} ${event.ok ? "accepted" : "refused"}: ${event.reason}`
    case "admin-logout":
      return `${t}  ${event.device}: ${event.via === "ssh" ? "SSH" : "JSON-RPC"} session of ${event.user} from ${event.peer} ended: ${event.reason}`
    case "device-deleted":
      return `${t}  ${event.device}: ${event.serial} deleted; ${event.dropped} held logs dropped`
    case "logs-dropped":
      return `${t}  ${event.device} dropped ${event.count} logs (${event.total} in all): ${event.reason}`
    case "log-forward":
      return `${t}  ${event.device} log-forward ${event.forward}: ${event.reason}`
    case "logs-forward-dropped":
      return `${t}  ${event.device} log-forward ${event.forward} dropped ${event.count} logs (${event.total} in all): ${event.reason}`
    case "analyzer-alert":
      return `${t}  ${event.device} alert ${event.alert}: ${event.message}`
    case "snmp-trap":
      return event.error === null
        ? `${t}  ${event.device} sent SNMP ${event.version} trap ${event.trap} (${event.oid}) to ${event.to}, community ${event.community}`
        : `${t}  ${event.device}: ${event.error}`
    case "mail-sent":
      return event.error === null
        ? `${t}  ${event.device} ${event.handler.startsWith("report ") ? event.handler : `event handler ${event.handler}`} mailed ${event.to.join(", ")} through ${event.server}: ${event.subject}${event.attachments === undefined ? "" : ` (attached: ${event.attachments.join(", ")})`}`
        : `${t}  ${event.device}: ${event.error}`
    case "mail-received":
      return `${t}  ${event.device} received a mail from ${event.from || "<>"} to ${event.to.join(", ")} (${event.bytes} bytes): ${event.subject}`
    case "mail-refused":
      return `${t}  ${event.device}: ${event.reason}`
    case "report-generated":
      return `${t}  ${event.device} generated report ${event.name} (${event.layout}, ${event.logs} logs from ${event.period.start} to ${event.period.end}, ${event.bytes} bytes)`
    case "report-failed":
      return `${t}  ${event.device}: ${event.reason}`
    case "file-uploaded":
      return `${t}  ${event.device} uploaded ${event.what === "backup" ? "its configuration backup" : event.what === "report" ? "a report" : "rolled logs"} to ${event.to} over ${event.via}: ${event.path} (${event.bytes} bytes)`
    case "file-upload-failed":
      return `${t}  ${event.device}: ${event.reason}`
    case "file-received":
      return `${t}  ${event.device} received ${event.path} (${event.bytes} bytes) from ${event.user} over ${event.via}`
    case "file-refused":
      return `${t}  ${event.device} refused ${event.via} from ${event.user || "?"} at ${event.peer}: ${event.reason}`
    case "fortiguard-update":
    case "mea-update":
      return `${t}  ${event.device}: ${event.reason}`
    case "object-request":
      return `${t}  ${event.reason}`
    case "ntp-sync":
      return `${t}  ${event.reason}`
    case "ldap-bind":
      return `${t}  ${event.device}: LDAP bind from ${event.peer} ${event.ok ? "accepted" : "refused"}: ${event.reason}`
    case "ldap-search":
      return `${t}  ${event.device}: LDAP search from ${event.peer} (${event.transport}) base "${event.base}" ${event.filter}: ${event.result}, ${event.reason}`
    case "ldap-refused":
      return `${t}  ${event.device}: ${event.reason}`
    case "radius-request":
      return `${t}  ${event.device}: RADIUS ${event.result} for ${event.user || "?"} from ${event.peer}${event.method === null ? "" : ` (${event.method.toUpperCase()})`}: ${event.reason}`
    case "admin-auth":
      return `${t}  ${event.device}: ${event.method.toUpperCase()} ${event.entry} (${event.server}) ${event.result} for ${event.user}: ${event.reason}`
    case "recorder-notice":
      return `${t}  ${event.device} took notice ${event.seq} (${event.camera} ${event.event}) of recorder ${event.serial} on ${event.port}${event.duplicate ? " again: a resend, kept once" : ""}`
    case "recorder-refused":
      return `${t}  ${event.device} refused what ${event.peer} sent on ${event.port}: ${event.reason}`
    case "rtsp-request":
      return `${t}  ${event.device} answered RTSP ${event.method} ${event.uri} from ${event.peer} on ${event.port} with ${event.status}: ${event.reason}`
    case "recorder-flow":
      return `${t}  ${event.device} ${event.flow} to ${event.analyzer} ${event.status}: ${event.reason}`
    case "camera-discovered":
      return `${t}  ${event.device}: ${event.reason}`
    case "log-aggregation":
      return `${t}  ${event.device} log aggregation (${event.role}): ${event.reason}`
    case "smb-session":
      return `${t}  ${event.device}: SMB client ${event.peer} ${event.reason}`
    case "store-failed":
      return `${t}  ${event.device} could not store ${event.dropped} logs and dropped them: ${event.reason}`
    case "logs-renumbered":
      return `${t}  ${event.device}: ${event.reason}`
    case "ha-role":
    case "ha-synced":
    case "ha-split-brain":
    case "ha-split-brain-healed":
      return `${t}  ${event.group}: ${event.reason}`
    case "ha-heartbeat-missed":
      return `${t}  ${event.group}: ${event.device} missed heartbeat ${event.missed} from ${event.from}`
    case "ha-heartbeat-resumed":
      return `${t}  ${event.group}: ${event.device} hears ${event.from} again after ${event.heartbeats.replace(" ", " missed ")}`
    case "fault":
      return `${t}  fault: ${event.reason}`
    case "scenario-finished":
      return `${t}  scenario ${event.scenario} finished: ${event.passed} passed, ${event.failed} failed`
    case "connection-accepted":
    case "connection-closed":
    case "logs-stored":
    case "logs-sent":
    case "logs-acked":
    case "logs-forwarded":
    case "dns-query":
      return null
  }
}
