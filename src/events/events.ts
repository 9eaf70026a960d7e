/**
 * The one event stream's vocabulary: everything observable in a lab is a `LabEvent`.
 *
 * The UI, the JSON-lines output, the reporters, the expectation checker and (later) the
 * WebSocket control channel are all consumers of these events. Events are plain,
 * JSON-serialisable objects with a `type` tag and `at`, the lab clock in milliseconds since
 * the lab started. High-volume facts (single logs) are summarised per batch, never one event
 * per log, so the stream stays cheap at 100k+ logs/s.
 */

/** "tcp/514", "udp/514": a documented port as the vendor table names it. */
export type PortKey = `${"tcp" | "udp"}/${number}`

export type LabEventBody =
  | { readonly type: "lab-started"; readonly lab: string; readonly dataDir: string | null }
  | { readonly type: "lab-stopped"; readonly lab: string }
  /** A device's own process (`fazlab node`, docs/placement.md) ended while the lab ran, or could not start. */
  | { readonly type: "node-exited"; readonly device: string; readonly code: number | null; readonly signal: string | null; readonly reason: string }
  | { readonly type: "device-started"; readonly device: string; readonly kind: string }
  | { readonly type: "device-stopped"; readonly device: string; readonly kind: string }
  | { readonly type: "listener-bound"; readonly device: string; readonly port: PortKey; readonly address: string; readonly actualPort: number }
  | { readonly type: "listener-closed"; readonly device: string; readonly port: PortKey }
  | {
    readonly type: "listener-failed"
    readonly device: string
    readonly port: PortKey
    readonly address: string
    readonly actualPort: number
    readonly code: string
    readonly reason: string
    /**
     * Every port this one failure leaves unbound, `port` among them, when there are several: an
     * HA primary that cannot have its group's virtual IP lacks all the analyzer's ports there.
     */
    readonly ports?: ReadonlyArray<PortKey>
  }
  | {
    /**
     * A listener still listens at the same address and port, on another socket: an analyzer's
     * UDP/514 read on the main thread once its receiver thread ended. `reason` says so in a sentence.
     */
    readonly type: "listener-moved"
    readonly device: string
    readonly port: PortKey
    readonly address: string
    readonly actualPort: number
    readonly reason: string
  }
  | { readonly type: "connection-accepted"; readonly device: string; readonly port: PortKey; readonly peer: string }
  | {
    /** A listener closed a connection: `rule` names the connection rule that did (docs/errors.md), absent for other closings. */
    readonly type: "connection-closed"
    readonly device: string
    readonly port: PortKey
    readonly peer: string
    readonly reason: string
    readonly rule?: ConnectionRule
  }
  | {
    /**
     * A FortiOS log stored with the fields a best-effort read could keep: cut in the middle
     * (`truncated`) or with text that is not key=value (`damaged`). Counted by reason; published
     * for the first 16 of a reason, then at powers of two (`count` says how many so far).
     */
    readonly type: "log-partial"
    readonly device: string
    readonly port: PortKey
    readonly peer: string
    readonly reason: PartialLogReason
    readonly detail: string
    readonly count: number
  }
  | {
    readonly type: "log-malformed"
    readonly device: string
    readonly port: PortKey
    readonly peer: string
    readonly reason: MalformedReason
    readonly detail: string
  }
  | {
    /** A batch of logs made durable in an analyzer's store, summarised per sending device. */
    readonly type: "logs-stored"
    readonly device: string
    /** The sending device's name as the analyzer files its logs (FortiOS devname, FortiClient hostname). */
    readonly from: string
    /**
     * The lab id of the device whose logs these are, when `from` is the name of one lab device
     * (`fct-1` for `laptop-7`): set by the lab's bus, absent for senders outside the lab.
     */
    readonly sender?: string
    readonly count: number
    readonly total: number
  }
  | { readonly type: "logs-sent"; readonly device: string; readonly to: string; readonly count: number; readonly total: number }
  | {
    /** The analyzer acknowledged OFTP records: they are durable and leave the sender's queue. */
    readonly type: "logs-acked"
    readonly device: string
    readonly to: string
    readonly count: number
    readonly total: number
    /** Records still queued on the sender. */
    readonly queued: number
  }
  | { readonly type: "logs-dropped"; readonly device: string; readonly count: number; readonly total: number; readonly reason: string }
  | {
    /** The analyzer could not store a batch of (unacknowledged) syslog logs: they are dropped. */
    readonly type: "store-failed"
    readonly device: string
    readonly dropped: number
    readonly reason: string
  }
  | {
    /** The analyzer already held this serial's records up to `from - 1` from an earlier run: the FortiGate's records continue at `from`. */
    readonly type: "logs-renumbered"
    readonly device: string
    readonly to: string
    readonly from: number
    readonly reason: string
  }
  | {
    /** A FortiGate's OFTP link to its analyzer changed state. */
    readonly type: "oftp-link"
    readonly device: string
    readonly state: "disconnected" | "connecting" | "hello" | "online" | "retrying" | "stopped-by-analyzer"
    readonly reason: string
  }
  | {
    /** An analyzer-side OFTP session changed state; `serial` once the HELLO named it. */
    readonly type: "oftp-session"
    readonly device: string
    readonly peer: string
    readonly serial: string | null
    readonly state: "handshake" | "awaiting-hello" | "registering" | "online" | "closed"
    readonly code: string | null
    readonly reason: string
  }
  | {
    readonly type: "device-registered"
    readonly device: string
    readonly serial: string
    readonly name: string
    readonly ip: string
    readonly status: "unauthorized" | "authorized"
    readonly firstSeen: boolean
  }
  | {
    /** A FortiGate's FGFM link to its FortiManager (`central-management`) changed state. */
    readonly type: "fgfm-link"
    readonly device: string
    /** The FortiManager it registers to: a lab device id or host[:port]. */
    readonly manager: string
    readonly state: "disconnected" | "connecting" | "registering" | "registered" | "retrying" | "stopped-by-manager"
    readonly reason: string
  }
  | {
    /** A FortiManager-side FGFM session changed state; `serial` once the register request named it. */
    readonly type: "fgfm-session"
    readonly manager: string
    readonly peer: string
    readonly serial: string | null
    readonly state: "handshake" | "awaiting-register" | "registering" | "registered" | "closed"
    readonly code: string | null
    readonly reason: string
  }
  | {
    /**
     * A FortiPortal polled an analyzer (JSON-RPC on TLS/443, the XML web service on TCP/8080):
     * `ok` with the analyzer's version and device count, or `failed` with why.
     */
    readonly type: "portal-poll"
    readonly device: string
    readonly analyzer: string
    readonly status: "ok" | "failed"
    readonly fazVersion: string | null
    readonly devices: number | null
    readonly reason: string
  }
  | {
    /**
     * A FortiManager's connection to an analyzer it manages (`managed-analyzers`, TCP/541):
     * `connected` (it sent request=discover; the analyzer's session follows as `fgfm-session`),
     * or `failed` with why (it tries again after `retry-interval`).
     */
    readonly type: "fgfm-discover"
    readonly manager: string
    readonly analyzer: string
    readonly state: "connected" | "failed"
    readonly reason: string
  }
  | {
    /** A FortiGate registered with a FortiManager (first time, or again after a reconnect). */
    readonly type: "fgfm-device-registered"
    readonly manager: string
    readonly serial: string
    readonly hostname: string
    readonly ip: string
    readonly status: "pending" | "authorized"
    readonly firstSeen: boolean
  }
  | { readonly type: "device-authorized"; readonly device: string; readonly serial: string; readonly adom: string; readonly released: number; readonly reason: string }
  | { readonly type: "device-deleted"; readonly device: string; readonly serial: string; readonly dropped: number }
  | {
    /**
     * An administrator's login to an analyzer's management plane (SSH on TCP/22, JSON-RPC on
     * TCP/443): `ok` false with the reason (wrong password, unknown user, no permission).
     */
    readonly type: "admin-login"
    readonly device: string
    readonly via: "ssh" | "jsonrpc"
    readonly user: string
    readonly peer: string
    readonly ok: boolean
    readonly reason: string
  }
  | {
    /** An administrator's SSH session or JSON-RPC session ended: `exit`, logout, idle timeout, disconnect. */
    readonly type: "admin-logout"
    readonly device: string
    readonly via: "ssh" | "jsonrpc"
    readonly user: string
    readonly peer: string
    readonly reason: string
  }
  | { readonly type: "sender-state"; readonly device: string; readonly state: SenderState; readonly reason: string }
  | {
    /**
     * A FortiGate starts replaying a log file (`replay:`) instead of generating logs: the logs it
     * holds, and the lines that are not logs, which are never sent (`reason` says it in words).
     */
    readonly type: "replay-started"
    readonly device: string
    readonly file: string
    readonly logs: number
    readonly skipped: number
    readonly reason: string
  }
  | {
    /** An HA member's role changed (`none`: stopped or killed); `reason` is the sentence of docs/protocols/ha.md. */
    readonly type: "ha-role"
    readonly device: string
    readonly group: string
    readonly role: "primary" | "secondary" | "none"
    readonly reason: string
  }
  | {
    /**
     * A secondary finished its catch-up from `primary` (`stored` logs came in it) and is in sync:
     * from now on it may become primary. `reason` is the sentence of docs/protocols/ha.md.
     */
    readonly type: "ha-synced"
    readonly device: string
    readonly group: string
    readonly primary: string
    readonly stored: number
    readonly reason: string
  }
  | {
    /**
     * Two (or more) primaries in one group, best-ranked first: reported once per split brain, by
     * the lab when the second primary appears (a partition), else by the better-ranked primary
     * when its probe finds the other one.
     */
    readonly type: "ha-split-brain"
    readonly group: string
    readonly primaries: ReadonlyArray<string>
    readonly reason: string
  }
  | { readonly type: "ha-split-brain-healed"; readonly group: string; readonly stepsDown: string; readonly stays: string; readonly reason: string }
  | {
    /** A secondary missed a heartbeat of its primary (`missed` in a row; the primary is lost at hb-lost-threshold). */
    readonly type: "ha-heartbeat-missed"
    readonly device: string
    readonly group: string
    readonly from: string
    readonly missed: number
    /** `missed` in words, as every sentence counting heartbeats says it: "1 heartbeat", "2 heartbeats". */
    readonly heartbeats: string
  }
  | {
    /**
     * A secondary hears its primary's heartbeats again after `missed` missed ones in a row (only
     * after a miss, so the stream stays quiet while heartbeats come through).
     */
    readonly type: "ha-heartbeat-resumed"
    readonly device: string
    readonly group: string
    readonly from: string
    readonly missed: number
    /** `missed` in words: "1 heartbeat", "2 heartbeats". */
    readonly heartbeats: string
  }
  | {
    /** A fault was injected (scenario step or `fazlab ctl`); published before it takes effect. */
    readonly type: "fault"
    readonly fault: FaultKind
    /** The devices it hits: one, or the two sides of a partition. */
    readonly devices: ReadonlyArray<string>
    readonly reason: string
  }
  | {
    /** An analyzer forwarded a batch of logs to one `log-forward` server (`forward`: its `server-name`). */
    readonly type: "logs-forwarded"
    readonly device: string
    readonly forward: string
    /** The entry's `server-addr`: a lab device id or a host outside the lab. */
    readonly to: string
    readonly count: number
    readonly total: number
  }
  | {
    /** Logs an analyzer could not forward: its queue for a server that is down was full. */
    readonly type: "logs-forward-dropped"
    readonly device: string
    readonly forward: string
    readonly count: number
    readonly total: number
    readonly reason: string
  }
  | {
    /** The state of an analyzer's link to one `log-forward` server changed; `reason` says why, in a sentence. */
    readonly type: "log-forward"
    readonly device: string
    readonly forward: string
    readonly to: string
    readonly state: "forwarding" | "retrying" | "stopped"
    readonly reason: string
  }
  | {
    /**
     * An analyzer raised an alert its event handlers and SNMP act on (`device-offline`,
     * `ha-switch`, `cpu-high`, `mem-low`, `disk-low`); `message` is the notification's sentence.
     */
    readonly type: "analyzer-alert"
    readonly device: string
    readonly alert: "device-offline" | "ha-switch" | "cpu-high" | "mem-low" | "disk-low"
    /** The device the alert is about (a serial), if any. */
    readonly subject: string | null
    readonly message: string
  }
  | {
    /** An analyzer sent an SNMP trap (`error` null), or could not (`error` says why). */
    readonly type: "snmp-trap"
    readonly device: string
    /** The MIB name, e.g. `fmTrapLogAlert`. */
    readonly trap: string
    readonly oid: string
    readonly version: "v1" | "v2c"
    readonly community: string
    /** The host as configured, and where that is. */
    readonly to: string
    readonly error: string | null
  }
  | {
    /** An analyzer's event handler mailed an alert through a `config system mail` server (`error` null), or could not. */
    readonly type: "mail-sent"
    readonly device: string
    /** The `config system alert-event` entry's name, or `report <schedule>` for a report's mail. */
    readonly handler: string
    /** The `config system mail` entry it went through. */
    readonly smtp: string
    readonly to: ReadonlyArray<string>
    readonly subject: string
    /** The server as configured, and where that is. */
    readonly server: string
    /** The server's last reply ("250 OK ..."), when it took the mail. */
    readonly response: string | null
    readonly error: string | null
    /** The names of the files attached (a report's mail). */
    readonly attachments?: ReadonlyArray<string>
  }
  | {
    /** An SMTP relay of the lab took a mail (`total`: mails it keeps). */
    readonly type: "mail-received"
    readonly device: string
    readonly peer: string
    readonly from: string
    readonly to: ReadonlyArray<string>
    readonly subject: string
    readonly bytes: number
    readonly total: number
  }
  | {
    /** An SMTP relay of the lab refused a mail; `reason` says why in a sentence. */
    readonly type: "mail-refused"
    readonly device: string
    readonly peer: string
    readonly from: string
    readonly reason: string
  }
  | {
    /**
     * An analyzer generated a report (a `report schedule` on its schedule, `execute sql-report
     * run`, JSON-RPC `add /report/adom/<adom>/run`): one event per file (format).
     */
    readonly type: "report-generated"
    readonly device: string
    /** The report schedule's name. */
    readonly schedule: string
    /** Its layout (`traffic-summary`, `event-summary`). */
    readonly layout: string
    /** The file's name, as uploaded and mailed. */
    readonly name: string
    readonly format: "pdf" | "html" | "csv"
    /** The period the report covers, ISO 8601 UTC instants: [start, end). */
    readonly period: { readonly start: string; readonly end: string }
    readonly bytes: number
    /** Rows in the report's tables. */
    readonly rows: number
    /** Stored logs the report summarises. */
    readonly logs: number
  }
  | {
    /** An analyzer could not generate a report; `reason` says why in a sentence. */
    readonly type: "report-failed"
    readonly device: string
    readonly schedule: string
    readonly reason: string
  }
  | {
    /**
     * An analyzer uploaded a file to a file server: rolled logs (`log settings rolling-regular`,
     * `execute backup logs`), a configuration backup (`backup all-settings`) or a report (an
     * output profile with `upload enable`, `execute backup reports`).
     */
    readonly type: "file-uploaded"
    readonly device: string
    readonly what: "logs" | "backup" | "report"
    /** The server as configured (a lab device or a host). */
    readonly to: string
    readonly via: "ftp" | "sftp" | "scp"
    /** Where the file is on the server. */
    readonly path: string
    readonly bytes: number
  }
  | {
    /** An analyzer's upload failed; `reason` says where and why in a sentence, and what happens next. */
    readonly type: "file-upload-failed"
    readonly device: string
    readonly what: "logs" | "backup" | "report"
    readonly to: string
    readonly via: "ftp" | "sftp" | "scp"
    readonly reason: string
  }
  | {
    /** A file server of the lab stored a file (`total`: files it received since it was built); `path` is under its folder. */
    readonly type: "file-received"
    readonly device: string
    readonly via: "ftp" | "sftp" | "scp"
    readonly user: string
    readonly peer: string
    readonly path: string
    readonly bytes: number
    readonly total: number
  }
  | {
    /** A file server of the lab refused a login, a command or a transfer; `reason` says why in a sentence. */
    readonly type: "file-refused"
    readonly device: string
    readonly via: "ftp" | "ssh" | "sftp" | "scp"
    readonly user: string
    readonly peer: string
    readonly reason: string
  }
  | {
    /** A DNS server of the lab answered a query (`addresses`: the A records it gave). */
    readonly type: "dns-query"
    readonly device: string
    readonly peer: string
    readonly transport: "udp" | "tcp"
    readonly name: string
    /** The question's type: "A", "AAAA", ... */
    readonly qtype: string
    readonly rcode: "NOERROR" | "NXDOMAIN" | "FORMERR"
    readonly addresses: ReadonlyArray<string>
  }
  | {
    /** How far an analyzer's FortiGuard update check got for one service; `reason` says it in a sentence. */
    readonly type: "fortiguard-update"
    readonly device: string
    /** The anycast table's service: "AV-IPS packages", "GeoIP" ... */
    readonly service: string
    /** The name it asked its DNS for. */
    readonly name: string
    /**
     * How far it got: the name did not resolve, TCP/443 was refused or timed out, TLS failed (the
     * certificate does not cover the name, or is not signed by a CA it trusts), the server
     * answered an HTTP error (or a download that does not match its manifest), or it downloaded a
     * newer version, or what it has is the newest.
     */
    readonly state: "dns-failed" | "connect-failed" | "tls-failed" | "http-error" | "downloaded" | "up-to-date"
    /** The version it has after the check (the one downloaded, or the one it had), or null when it has none. */
    readonly version: string | null
    readonly reason: string
  }
  | {
    /**
     * How far an analyzer's check of a management extension application (`config system docker`)
     * on the Fortinet Registry got; states as `fortiguard-update`'s; `reason` says it in a sentence.
     */
    readonly type: "mea-update"
    readonly device: string
    /** The application: "fortiwlm", "fortisoar", "fortisigconverter". */
    readonly app: string
    /** The name it asked its DNS for (registry.fortinet.com). */
    readonly name: string
    readonly state: "dns-failed" | "connect-failed" | "tls-failed" | "http-error" | "downloaded" | "up-to-date"
    readonly version: string | null
    readonly reason: string
  }
  | {
    /** A FortiGuard or Fortinet Registry peer of the lab answered an update request; `reason` says it in a sentence. */
    readonly type: "object-request"
    readonly device: string
    readonly peer: string
    readonly port: PortKey
    /** The name the client asked for (its Host header), "" when it sent none. */
    readonly host: string
    readonly path: string
    /** The HTTP status it answered. */
    readonly status: number
    readonly object: string | null
    readonly version: string | null
    /** Bytes of the object or manifest sent (0 when refused). */
    readonly bytes: number
    readonly reason: string
  }
  | {
    /** An analyzer asked its NTP server for the time: stratum, offset and delay (ms), or null with why not. */
    readonly type: "ntp-sync"
    readonly device: string
    readonly server: string
    readonly stratum: number | null
    /** Milliseconds the server's clock is ahead of the analyzer's. */
    readonly offset: number | null
    readonly delay: number | null
    readonly reason: string
  }
  | {
    /** An LDAP server of the lab answered a simple bind: `dn` "" is anonymous; `reason` says who or why not. */
    readonly type: "ldap-bind"
    readonly device: string
    readonly peer: string
    readonly dn: string
    readonly ok: boolean
    readonly reason: string
  }
  | {
    /** An LDAP server of the lab answered a search (`result`: RFC 4511's name of the result code). */
    readonly type: "ldap-search"
    readonly device: string
    readonly peer: string
    readonly transport: "tcp" | "udp"
    readonly base: string
    readonly scope: string
    readonly filter: string
    readonly entries: number
    readonly result: string
    readonly reason: string
  }
  | {
    /** An LDAP server of the lab got a message that is not LDAP (or, on UDP/389, not a search); `count`: how many so far. */
    readonly type: "ldap-refused"
    readonly device: string
    readonly peer: string
    readonly transport: "tcp" | "udp"
    readonly reason: string
    readonly count: number
  }
  | {
    /** A RADIUS server of the lab answered an Access-Request (accept, reject) or dropped a packet, and why. */
    readonly type: "radius-request"
    readonly device: string
    readonly peer: string
    readonly user: string
    readonly method: "pap" | "chap" | null
    readonly result: "accept" | "reject" | "dropped"
    /** The Fortinet-Group-Name an Access-Accept carried. */
    readonly group: string | null
    readonly reason: string
  }
  | {
    /**
     * An analyzer asked its LDAP or RADIUS server about a remote administrator's login (SSH or
     * JSON-RPC): which server answered what, or why none did (unreachable, timeout).
     */
    readonly type: "admin-auth"
    readonly device: string
    readonly via: "ssh" | "jsonrpc" | "cli" | "ftp"
    readonly user: string
    readonly method: "ldap" | "radius"
    /** The `config system admin ldap` / `radius` entry, and the server it names. */
    readonly entry: string
    readonly server: string
    readonly result: "accept" | "reject" | "unreachable" | "timeout" | "error"
    /** The group the server gave (LDAP memberOf or Fortinet-Group-Name), when it accepted. */
    readonly group: string | null
    readonly reason: string
  }
  | {
    /**
     * An SMB2 client on an analyzer's TCP/445 (DC polling): `negotiated` with the dialect, or a
     * session setup (or another request) `refused`; `reason` says it in words.
     */
    readonly type: "smb-session"
    readonly device: string
    readonly peer: string
    readonly dialect: string | null
    readonly state: "negotiated" | "refused"
    readonly reason: string
  }
  | {
    /**
     * An analyzer took a FortiRecorder's notice (TCP/3010 or TCP/3011): `duplicate` when the
     * recorder sent that sequence number again (acknowledged again, kept once).
     */
    readonly type: "recorder-notice"
    readonly device: string
    readonly serial: string
    readonly port: PortKey
    readonly seq: number
    readonly camera: string
    readonly event: string
    readonly duplicate: boolean
  }
  | {
    /** An analyzer refused what a FortiRecorder (or anyone) sent on a recorder port: `code` counts it, `reason` says what was wrong. */
    readonly type: "recorder-refused"
    readonly device: string
    readonly peer: string
    readonly port: PortKey
    readonly code: string
    readonly reason: string
  }
  | {
    /** An analyzer answered an RTSP request on UDP/554 or TCP/554 with `status`. */
    readonly type: "rtsp-request"
    readonly device: string
    readonly peer: string
    readonly port: PortKey
    readonly method: string
    readonly uri: string
    readonly status: number
    readonly reason: string
  }
  | {
    /**
     * One of a FortiRecorder's flows to its analyzer ran: `notify-tcp` (TCP/3010), `notify-http`
     * (TCP/3011), `rtsp` (UDP/554 or TCP/554), `api` (TCP/80 and TLS/443), `upload` (FTP on
     * TCP/21); `ok`, or `failed` with why.
     */
    readonly type: "recorder-flow"
    readonly device: string
    readonly analyzer: string
    readonly flow: "notify-tcp" | "notify-http" | "rtsp" | "api" | "upload"
    readonly status: "ok" | "failed"
    readonly reason: string
  }
  | {
    /**
     * Log aggregation on TCP/3000: a client's run (`sent` with how many logs the server stored,
     * or `failed` with why), a server's stored batch (`stored`) or refused session (`refused`).
     * `peer` is the other analyzer (its id for a client, its serial for a server).
     */
    readonly type: "log-aggregation"
    readonly device: string
    readonly peer: string
    readonly role: "client" | "server"
    readonly state: "sent" | "failed" | "stored" | "refused"
    readonly count: number
    readonly reason: string
  }
  | {
    /** An analyzer's camera discovery heard a camera for the first time on a port (UDP/6666 or UDP/59123). */
    readonly type: "camera-discovered"
    readonly device: string
    readonly serial: string
    readonly name: string
    readonly model: string
    readonly address: string
    readonly port: PortKey
    readonly reason: string
  }
  | { readonly type: "step-started"; readonly step: number; readonly title: string }
  | { readonly type: "step-failed"; readonly step: number; readonly title: string; readonly reason: string }
  | { readonly type: "expectation-passed"; readonly id: string; readonly title: string; readonly detail: string }
  | { readonly type: "expectation-failed"; readonly id: string; readonly title: string; readonly detail: string }
  | { readonly type: "scenario-finished"; readonly scenario: string; readonly passed: number; readonly failed: number }

/** Why a syslog frame or message was rejected. Stable codes: they appear in reports and docs/errors.md. */
export type MalformedReason =
  | "frame-too-large"
  | "bad-octet-count"
  | "invalid-utf8"
  | "truncated"
  | "bad-pri"
  | "binary-garbage"
  | "empty"
  /** A message that claims RFC 5424 (`<PRI>VERSION SP`) and breaks its ABNF (the detail names the rule). */
  | "bad-rfc5424"
  /** An HTTPS request body (FortiClient on TCP/8443 or TLS/443) that is not the expected JSON. */
  | "bad-json"

/** The faults a scenario step or `fazlab ctl` can inject (docs/protocols/ha.md, "Faults"). */
/** The rules by which a TCP listener refuses or closes a connection, named as their settings (src/net/tcp.ts). */
export type ConnectionRule = "max-connections" | "max-connections-per-source" | "first-byte-timeout" | "idle-timeout"

/** Why a FortiOS log was stored with only part of its fields (src/protocols/fortios/kv.ts, best effort). */
export type PartialLogReason = "truncated" | "damaged"

export type FaultKind = "kill" | "restart" | "partition" | "heal" | "degrade" | "freeze" | "thaw"

export type SenderState = "idle" | "connecting" | "sending" | "paused" | "backoff" | "stopped" | "done"

export type LabEvent = LabEventBody & { readonly at: number }

/** Events of one kind a peer can cause at will (refused connections, partial logs) published one by one before the rest are thinned. */
export const REPORTED_IN_FULL = 16

/**
 * Whether the `count`th event of such a kind is published: the first `REPORTED_IN_FULL`, then
 * only at powers of two, so a flood cannot flood the event stream too (the counters count all).
 */
export const isReported = (count: number): boolean => count <= REPORTED_IN_FULL || (count & (count - 1)) === 0

export type LabEventType = LabEvent["type"]

/** The events of one type, narrowed: `EventOf<"ha-role">` has `role` and `reason`. */
export type EventOf<T extends LabEventType> = Extract<LabEvent, { readonly type: T }>
