/**
 * The analyzer's FortiOS-style CLI: one `CliSession` per SSH session (interactive or one
 * command), fed by the lab's live state (`system-view.ts`), answering the commands people use
 * in labs with FortiAnalyzer's layout: `get system status|ha|performance|global|admin ...`,
 * `show system ...`, `config system ...` (read-only: `get`, `show`, `edit`, `next`, `end`,
 * `abort`), `diagnose ha status`, `diagnose dvm device list`, `diagnose log device`,
 * `diagnose fortirecorder device list` and `diagnose fortirecorder camera list` (FortiRecorder
 * as a 7.2 unit had it; the layout is fazlab's), `execute log-integrity`, `execute backup
 * all-settings|logs|reports`, `execute sql-report run|list`, `exit`.
 *
 * Mistakes answer as FortiOS does: an unknown command word `Unknown action 0`, an unknown or
 * missing argument `command parse error before '<word>'` and `Command fail. Return code -61`
 * (-160 for an incomplete command). What differs from a real unit is in docs/protocols/cli.md.
 */
import * as crypto from "node:crypto"
import * as os from "node:os"
import type { RegisteredDevice } from "../../store/device-registry.ts"
import type { UploadTarget } from "./uploads.ts"
import { adomsOf, type AnalyzerView, faTime, FIRMWARE, firmwareOf, haMode, PLATFORM, systemStatus, upTime } from "./system-view.ts"

/**
 * What a command line produced: its output lines, whether it failed (FortiOS printed an error),
 * and whether the session ends (`exit`); `later` for a command that asks a server (its answer,
 * whose lines come after these).
 */
export interface CliAnswer {
  readonly lines: ReadonlyArray<string>
  readonly failed: boolean
  readonly exit: boolean
  readonly later?: Promise<CliAnswer>
}

type Entry = readonly [key: string, value: string, quoted?: boolean]

/** A `config` object: one set of settings, or a table of named entries. */
type ConfigNode =
  | { readonly kind: "single"; readonly entries: () => ReadonlyArray<Entry> }
  /** `key`: the name of an entry's key in `get`'s list ("userid", "name"); `file`: where the lab file holds the entries. */
  | { readonly kind: "table"; readonly key: string; readonly file: string; readonly rows: () => ReadonlyMap<string, ReadonlyArray<Entry>> }

const PARSE_ERROR = -61
const INCOMPLETE = -160

const fail = (code: number): string => `Command fail. Return code ${code}`
const parseError = (word: string): ReadonlyArray<string> => [`command parse error before '${word}'`, fail(PARSE_ERROR)]

/** Splits a line into words; "double" or 'single' quotes keep spaces. */
export const words = (line: string): ReadonlyArray<string> =>
  [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/gu)].map((m) => m[1] ?? m[2] ?? m[3] ?? "")

/** `key : value` lines with the keys padded to one column, as `get` prints them. */
const aligned = (entries: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const width = Math.max(0, ...entries.map(([key]) => key.length))
  return entries.map(([key, value]) => `${key.padEnd(width)} : ${value}`)
}

const setLines = (entries: ReadonlyArray<Entry>, indent: string): ReadonlyArray<string> =>
  entries.map(([key, value, quoted]) => `${indent}set ${key} ${quoted === true ? `"${value}"` : value}`)

const answer = (lines: ReadonlyArray<string>): CliAnswer => ({
  lines,
  failed: lines.some((out) => out.startsWith("Command fail.") || out === "Unknown action 0"),
  exit: false
})

export class CliSession {
  readonly #view: AnalyzerView
  readonly #now: () => Date
  /** The `config` path entered ("system ha"), and the table entry being edited. */
  #config: { readonly path: string; readonly node: ConfigNode; entry: string | null } | null = null
  /** The last CPU times read by `get system performance`, to report use since then. */
  #cpu: ReadonlyArray<os.CpuInfo> = os.cpus()

  constructor(view: AnalyzerView, now: () => Date) {
    this.#view = view
    this.#now = now
  }

  prompt(): string {
    const host = this.#view.settings.hostname
    if (this.#config === null) return `${host} # `
    const where = this.#config.entry ?? this.#config.path.split(" ").at(-1) ?? ""
    return `${host} (${where}) # `
  }

  run(line: string): CliAnswer {
    const argv = words(line)
    if (argv.length === 0) return { lines: [], failed: false, exit: false }
    if (argv[0] === "exit" && this.#config === null) return { lines: [], failed: false, exit: true }
    if (this.#config === null && argv[0] === "diagnose" && argv[1] === "test" && argv[2] === "authserver") {
      return { lines: [], failed: false, exit: false, later: this.#authserver(argv.slice(3)).then(answer) }
    }
    return answer(this.#config !== null ? this.#inConfig(argv) : this.#top(argv))
  }

  /**
   * `diagnose test authserver ldap <entry> <user> <password>` and `radius <entry> <user>
   * <password>` (FortiOS's test of a remote administrator's server: the `admin.ldap` /
   * `admin.radius` entry asks its server), and `ldap-query <entry> <user>` (the report's query of
   * the directory: the groups it gives the user).
   */
  async #authserver(argv: ReadonlyArray<string>): Promise<ReadonlyArray<string>> {
    const [method, entry, user, password, ...extra] = argv
    const remote = this.#view.admins.remote
    if (method === undefined || entry === undefined || user === undefined) return [fail(INCOMPLETE)]
    if (method !== "ldap" && method !== "radius" && method !== "ldap-query") return parseError(method)
    const table = method === "radius" ? "radius" : "ldap"
    if ((table === "radius" ? remote.radiusEntry(entry) : remote.ldapEntry(entry)) === undefined) return [`no config system admin ${table} entry named ${entry}`, fail(-3)]
    if (method === "ldap-query") {
      if (password !== undefined) return parseError(password)
      const found = await remote.groupsOf(entry, user)
      return "reason" in found ? [`query of '${user}' against '${entry}' failed: ${found.reason}`, fail(-1)] : [`Group membership(s) - ${found.groups.join(", ") || "(none)"}`]
    }
    if (password === undefined) return [fail(INCOMPLETE)]
    if (extra.length > 0) return parseError(extra[0] ?? "")
    const verdict = await remote.check("cli", method, entry, user, password)
    return verdict.result === "accept"
      ? [`authenticate '${user}' against '${entry}' succeeded!`, ...(verdict.group === null ? [] : [`Group membership(s) - ${verdict.group}`])]
      : [`authenticate '${user}' against '${entry}' failed: ${verdict.reason}`, fail(-1)]
  }

  #top(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [command, ...rest] = argv
    switch (command) {
      case "get":
        return this.#get(rest)
      case "show":
        return this.#show(rest)
      case "config":
        return this.#enter(rest)
      case "diagnose":
        return this.#diagnose(rest)
      case "execute":
        return this.#execute(rest)
      case "?":
      case "help":
        return [
          "config      Configure object.",
          "get         Get dynamic and system information.",
          "show        Show configuration.",
          "diagnose    Diagnose facility.",
          "execute     Execute static commands.",
          "exit        Exit the CLI."
        ]
      default:
        return ["Unknown action 0"]
    }
  }

  // ---------------------------------------------------------------------------------------------
  // get / show / config
  // ---------------------------------------------------------------------------------------------

  /** The config object named by `argv` ("system ha"), or the words that do not name one. */
  #node(argv: ReadonlyArray<string>): { readonly path: string; readonly node: ConfigNode; readonly rest: ReadonlyArray<string> } | { readonly error: ReadonlyArray<string> } {
    if (argv.length === 0) return { error: [fail(INCOMPLETE)] }
    if (argv[0] !== "system") return { error: parseError(argv[0] ?? "") }
    if (argv.length === 1) return { error: [fail(INCOMPLETE)] }
    const nodes = this.#nodes()
    for (const length of [3, 2]) {
      const path = argv.slice(0, length).join(" ")
      const node = nodes.get(path)
      if (argv.length >= length && node !== undefined) return { path, node, rest: argv.slice(length) }
    }
    if (argv[1] === "admin" && argv.length === 2) return { error: [fail(INCOMPLETE)] }
    return { error: parseError(argv[argv[1] === "admin" ? 2 : 1] ?? "") }
  }

  #get(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    if (argv[0] === "system" && argv.length === 2 && argv[1] === "status") return aligned(systemStatus(this.#view, this.#now()))
    if (argv[0] === "system" && argv.length === 2 && argv[1] === "performance") return this.#performance()
    const found = this.#node(argv)
    if ("error" in found) return found.error
    return this.#getNode(found.node, found.rest)
  }

  #getNode(node: ConfigNode, rest: ReadonlyArray<string>): ReadonlyArray<string> {
    if (node.kind === "single") return rest.length === 0 ? aligned(node.entries().map(([k, v]) => [k, v])) : parseError(rest[0] ?? "")
    const rows = node.rows()
    if (rest.length === 0) return [...rows.keys()].flatMap((name) => [`== [ ${name} ]`, `${node.key}: ${name}`])
    const row = rows.get(rest[0] ?? "")
    return row === undefined || rest.length > 1 ? parseError(rest[rest.length > 1 && row !== undefined ? 1 : 0] ?? "") : aligned(row.map(([k, v]) => [k, v]))
  }

  #show(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const found = this.#node(argv)
    if ("error" in found) return found.error
    return this.#showNode(found.path, found.node, found.rest)
  }

  #showNode(path: string, node: ConfigNode, rest: ReadonlyArray<string>): ReadonlyArray<string> {
    if (node.kind === "single") return rest.length === 0 ? [`config ${path}`, ...setLines(node.entries(), "    "), "end"] : parseError(rest[0] ?? "")
    const rows = node.rows()
    const names = rest.length === 0 ? [...rows.keys()] : rest.slice(0, 1)
    if (rest.length > 1 || names.some((name) => !rows.has(name))) return parseError(rest[rest.length > 1 ? 1 : 0] ?? "")
    return [
      `config ${path}`,
      ...names.flatMap((name) => [`    edit "${name}"`, ...setLines(rows.get(name) ?? [], "        "), "    next"]),
      "end"
    ]
  }

  #enter(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const found = this.#node(argv)
    if ("error" in found) return found.error
    if (found.rest.length > 0) return parseError(found.rest[0] ?? "")
    this.#config = { path: found.path, node: found.node, entry: null }
    return []
  }

  /** Inside `config`: the settings are the lab's, read-only here (they come from the scenario file). */
  #inConfig(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const config = this.#config
    if (config === null) return []
    const [command, ...rest] = argv
    const here = config.entry === null ? [] : [config.entry]
    switch (command) {
      case "end":
      case "abort":
        this.#config = null
        return []
      case "next":
        if (config.entry === null) return ["Unknown action 0"]
        config.entry = null
        return []
      case "edit": {
        if (config.node.kind !== "table" || config.entry !== null) return ["Unknown action 0"]
        const name = rest[0]
        if (name === undefined) return [fail(INCOMPLETE)]
        if (!config.node.rows().has(name)) return [`entry '${name}' is not in the lab; fazlab's CLI is read-only: add it to the scenario file's ${config.node.file}`, fail(-3)]
        config.entry = name
        return []
      }
      case "get":
        return this.#getNode(config.node, [...here, ...rest])
      case "show":
        return this.#showNode(config.path, config.node, [...here, ...rest])
      case "set":
      case "unset":
      case "delete":
      case "purge":
        return [`${config.path} is the lab's setting and read-only here; change it in the scenario file and start the lab again`, fail(-1)]
      default:
        return ["Unknown action 0"]
    }
  }

  /** The config objects the lab holds, by path. */
  #nodes(): ReadonlyMap<string, ConfigNode> {
    const view = this.#view
    const admins = view.admins.settings
    return new Map<string, ConfigNode>([
      ["system global", {
        kind: "single",
        entries: () => [
          ["hostname", view.settings.hostname, true],
          ["adom-status", adomsOf(view.store.devices.list()).length > 1 ? "enable" : "disable"],
          ["timezone", "00"],
          ["log-checksum", "md5"]
        ]
      }],
      ["system ha", { kind: "single", entries: () => this.#ha() }],
      ["system admin setting", {
        kind: "single",
        entries: () => [
          ["http_port", "80"],
          ["https_port", "443"],
          ["admin-https-redirect", admins.setting.adminHttpsRedirect],
          ["idle_timeout", String(Math.round(admins.setting.idleTimeout / 1000))],
          ["idle_timeout_api", String(Math.round(admins.setting.idleTimeoutApi / 1000))]
        ]
      }],
      ["system admin user", {
        kind: "table",
        key: "userid",
        file: "admin.user",
        rows: () =>
          new Map(Object.entries(admins.user).map(([name, user]): [string, ReadonlyArray<Entry>] => [name, [
            ["userid", name, true],
            ["user_type", user.userType],
            ["profileid", user.profileid, true],
            ["rpc-permit", user.rpcPermit],
            ...(user.userType === "local" || user.userType === "api" ? [["password", user.password === "" ? "(empty)" : "ENC *"] as const] : []),
            ...(user.ldapServer === null ? [] : [["ldap_server", user.ldapServer, true] as const]),
            ...(user.radiusServer === null ? [] : [["radius_server", user.radiusServer, true] as const]),
            ...(user.userType === "ldap" || user.userType === "radius" ? [["wildcard", user.wildcard] as const] : []),
            ...user.sshPublicKey.slice(0, 3).map((key, i): Entry => [`ssh-public-key${i + 1}`, key.split(" ").slice(0, 2).join(" "), true]),
            ["login-max", String(admins.setting.loginMax)]
          ]]))
      }],
      ["system admin ldap", {
        kind: "table",
        key: "name",
        file: "admin.ldap",
        rows: () =>
          new Map(admins.ldap.map((entry): [string, ReadonlyArray<Entry>] => [entry.name, [
            ["server", entry.server, true],
            ["cnid", entry.cnid, true],
            ["dn", entry.dn, true],
            ["port", String(entry.port)],
            ["type", entry.type],
            ...(entry.username === null ? [] : [["username", entry.username, true] as const]),
            ...(entry.password === null ? [] : [["password", "ENC *"] as const]),
            ...(entry.group === null ? [] : [["group", entry.group, true] as const]),
            ["memberof-attr", entry.memberofAttr, true],
            ["connect-timeout", String(entry.connectTimeout)]
          ]]))
      }],
      ["system admin radius", {
        kind: "table",
        key: "name",
        file: "admin.radius",
        rows: () =>
          new Map(admins.radius.map((entry): [string, ReadonlyArray<Entry>] => [entry.name, [
            ["server", entry.server, true],
            ["port", String(entry.port)],
            ["secret", "ENC *"],
            ["auth-type", entry.authType],
            ...(entry.nasIp === null ? [] : [["nas-ip", entry.nasIp] as const])
          ]]))
      }]
    ])
  }

  #ha(): ReadonlyArray<Entry> {
    const ha = this.#view.ha
    if (ha === null) return [["mode", "standalone"]]
    const config = ha.config
    const self = config.members.find((member) => member.serial === this.#view.settings.serial)
    const peers = config.members.filter((member) => member !== self)
    return [
      ["mode", "a-p"],
      ["group-id", String(config.groupId)],
      ["group-name", config.groupName, true],
      ["hb-interval", String(Math.max(1, Math.round(config.hbIntervalMs / 1000)))],
      ["hb-lost-threshold", String(config.hbLostThreshold)],
      ["log-sync", "enable"],
      ["password", "ENC *"],
      ...peers.map((peer, i): Entry => [`peer ${i + 1}`, `${peer.name} ${peer.serial}`]),
      ["preferred-role", self?.preferredRole ?? "secondary"],
      ["priority", String(self?.priority ?? 100)],
      ["unicast", "enable"],
      ["vip", config.vip ? config.group : "0.0.0.0", config.vip]
    ]
  }

  // ---------------------------------------------------------------------------------------------
  // diagnose / execute
  // ---------------------------------------------------------------------------------------------

  #diagnose(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [area, what, ...rest] = argv
    if (area === undefined) return [fail(INCOMPLETE)]
    if (area === "ha" && what === "status" && rest.length === 0) return this.#haStatus()
    if (area === "dvm" && what === "device" && rest[0] === "list" && rest.length === 1) return this.#deviceList()
    if (area === "log" && what === "device" && rest.length === 0) return this.#logDevice()
    if (area === "fortirecorder" && (what === "device" || what === "camera") && rest[0] === "list" && rest.length === 1) {
      return what === "device" ? this.#recorderList() : this.#cameraList()
    }
    if (area !== "ha" && area !== "dvm" && area !== "log" && area !== "fortirecorder") return parseError(area)
    if (what === undefined) return [fail(INCOMPLETE)]
    return parseError((area === "dvm" || area === "fortirecorder") && (what === "device" || what === "camera") ? rest[0] ?? "list" : what)
  }

  /** The FortiRecorders that reported (TCP/3010, TCP/3011): serial, name, notices taken. */
  #recorderList(): ReadonlyArray<string> {
    const recorders = [...this.#view.recorders.recorders]
    return [
      `--- There are currently ${recorders.length} FortiRecorder devices ---`,
      ...recorders.map(([serial, r]) => `${serial.padEnd(20)}${r.name.padEnd(16)}${(r.version || "-").padEnd(10)}notices:${r.notices}`),
      "--- End FortiRecorder device list ---"
    ]
  }

  /** The cameras camera discovery found: serial, name, model, address, the ports it answered on. */
  #cameraList(): ReadonlyArray<string> {
    const cameras = [...this.#view.cameras.cameras.values()]
    return [
      `--- There are currently ${cameras.length} cameras discovered ---`,
      ...cameras.map((c) => `${c.serial.padEnd(20)}${c.name.padEnd(16)}${c.model.padEnd(12)}${c.address.padEnd(16)}${[...c.ports].sort().join(",")}`),
      "--- End camera list ---"
    ]
  }

  #haStatus(): ReadonlyArray<string> {
    const view = this.#view
    const ha = view.ha
    if (ha === null) return ["HA-Status: Standalone", `serial-no: ${view.settings.serial}`, `hostname: ${view.settings.hostname}`]
    const lines = [
      `HA-Status: ${haMode(view)}`,
      `up-time: ${upTime(view.uptime())}`,
      "config-sync: Allow",
      `serial-no: ${view.settings.serial}`,
      `hostname: ${view.settings.hostname}`,
      `reason: ${ha.reason()}`
    ]
    for (const link of ha.links()) {
      const peerRole = ha.role() === "primary" ? "HA-Secondary" : "HA-Primary"
      lines.push(
        "",
        `${peerRole} ${link.member.name} ${link.member.serial}`,
        `serial-no: ${link.member.serial}`,
        `conn-st: ${link.connected ? "up" : "down"}`,
        `cfgsync-st: ${link.connected ? "up" : "down"}`,
        `data-init-sync-st: ${link.synced ? "done" : link.connected ? "in progress" : "none"}`
      )
    }
    return lines
  }

  #deviceList(): ReadonlyArray<string> {
    const devices = this.#view.store.devices.list()
    const online = new Set(this.#view.connectedSerials())
    const authorized = devices.filter((device) => device.state === "authorized")
    const row = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd([16, 7, 17, 4, 16, 16, 8, 0][i] ?? 0)).join("").trimEnd()
    const lines = [
      `--- There are currently ${authorized.length} devices/vdoms managed ---`,
      `--- There are currently ${authorized.length} devices/vdoms count for license ---`,
      "",
      row(["TYPE", "OID", "SN", "HA", "IP", "NAME", "ADOM", "FIRMWARE"])
    ]
    devices.forEach((device: RegisteredDevice, i) => {
      const managed = device.state === "authorized"
      lines.push(
        row([managed ? "faz-managed" : "unregistered", String(101 + i), device.serial, "-", device.ip, device.name, device.adom ?? "-", firmwareOf(device.version)]),
        `                |- STATUS: dev-db: not modified; conf: in sync; cond: ${managed ? "OK" : "unregistered"}; dm: ${managed ? "autoupdated" : "none"}; conn: ${online.has(device.serial) ? "up" : managed ? "down" : "unknown"}`,
        `                |- vdom:[${device.vdoms.length}]${device.vdoms.join(",") || "root"} flags:0 adom:${device.adom ?? "-"} held-logs:${device.heldLogs}`
      )
    })
    lines.push("--- End device list ---")
    return lines
  }

  #logDevice(): ReadonlyArray<string> {
    const view = this.#view
    const counts = new Map(view.store.countByDevice({ held: "include" }).map(({ device, count }) => [device, count]))
    const devices = view.store.devices.list()
    const header = ["Device Name", "Device ID", "ADOM", "Logs", "Held"]
    const widths = [20, 20, 10, 12, 0]
    const row = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("").trimEnd()
    const total = view.store.count({ held: "include" })
    const listed = new Set(devices.map((device) => device.name))
    return [
      "Total Quota Summary:",
      "     Total Quota    Allocated    Available    Allocate%",
      "        500.0GB       0.0GB      500.0GB        0.0%",
      "",
      `Logs stored: ${total}`,
      "",
      row(header),
      ...devices.map((device) => row([device.name, device.serial, device.adom ?? "-", String(counts.get(device.name) ?? 0), String(device.heldLogs)])),
      // Syslog senders are not registered devices: their logs are filed under their names.
      ...[...counts].filter(([name]) => !listed.has(name)).map(([name, count]) => row([name, "(syslog)", "root", String(count), "0"]))
    ]
  }

  /** The process's machine as `get system performance` shows it: CPU use since the last call, memory, the store's disk. */
  #performance(): ReadonlyArray<string> {
    const now = os.cpus()
    const before = this.#cpu
    this.#cpu = now
    const percent = (part: number, whole: number) => `${whole === 0 ? "0.00" : ((100 * part) / whole).toFixed(2)}%`.padStart(8)
    const deltas = now.map((cpu, i) => {
      const prev = before[i]?.times ?? { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 }
      const d = { user: cpu.times.user - prev.user, nice: cpu.times.nice - prev.nice, sys: cpu.times.sys - prev.sys, idle: cpu.times.idle - prev.idle, irq: cpu.times.irq - prev.irq }
      return { ...d, all: d.user + d.nice + d.sys + d.idle + d.irq }
    })
    const sum = deltas.reduce((a, d) => ({ busy: a.busy + d.all - d.idle, all: a.all + d.all }), { busy: 0, all: 0 })
    const total = os.totalmem()
    const used = total - os.freemem()
    const kb = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString("en-US")} KB`
    return [
      "CPU:",
      `        Used: ${percent(sum.busy, sum.all).trim()}`,
      "               %used   %user   %nice    %sys   %idle %iowait    %irq %softirq",
      ...deltas.map((d, i) =>
        `        CPU${i}${[d.all - d.idle, d.user, d.nice, d.sys, d.idle, 0, d.irq, 0].map((part) => percent(part, d.all)).join("")}`
      ),
      "Memory:",
      `        Total: ${kb(total)}`,
      `        Used: ${kb(used)} ${percent(used, total).trim()}`
    ]
  }

  /** The configuration file of `backup all-settings`: FortiAnalyzer's header lines, then `show` of every object. */
  allSettings(): ReadonlyArray<string> {
    const header = [
      `#config-version=${PLATFORM.type}-${FIRMWARE.major}.${FIRMWARE.minor}.${FIRMWARE.patch}-FW-build${FIRMWARE.build}-240514:opmode=0:vdom=0`,
      `#conf_file_ver=0`,
      `#buildno=${FIRMWARE.build}`,
      `#serialno=${this.#view.settings.serial}`
    ]
    return [...header, ...[...this.#nodes()].flatMap(([path, node]) => this.#showNode(path, node, []))]
  }

  /**
   * `execute backup all-settings {ftp|sftp|scp} <server[:port]> <directory> <user> [<password>]`,
   * `execute backup logs <device,...|all> {ftp|sftp|scp} <server> <user> <password> <directory>`
   * and `execute backup reports <schedule,...|all> ...` (same arguments): starts the uploads and
   * says so; their ends are `file-uploaded` or `file-upload-failed` events (the CLI does not wait
   * for the network).
   */
  #backup(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [what] = argv
    if (what === undefined) return [fail(INCOMPLETE)]
    if (what === "logs" || what === "reports") return this.#backupFiles(what, argv.slice(1))
    if (what !== "all-settings") return parseError(what)
    const [, protocol, server, directory, user, password, ...extra] = argv
    if (protocol === undefined || server === undefined || directory === undefined || user === undefined) return [fail(INCOMPLETE)]
    if (protocol !== "ftp" && protocol !== "sftp" && protocol !== "scp") return parseError(protocol)
    if (extra.length > 0) return parseError(extra[0] ?? "")
    void this.#view.uploads.backupNow({ protocol, server, port: 0, user, password: password ?? "", directory })
    return [`Starting backup all settings to ${protocol}://${user}@${server}${slashed(directory)} in the background...`]
  }

  #backupFiles(what: "logs" | "reports", argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [names, protocol, server, user, password, directory, ...extra] = argv
    if (names === undefined || protocol === undefined || server === undefined || user === undefined || password === undefined || directory === undefined) return [fail(INCOMPLETE)]
    if (protocol !== "ftp" && protocol !== "sftp" && protocol !== "scp") return parseError(protocol)
    if (extra.length > 0) return parseError(extra[0] ?? "")
    const target: UploadTarget = { protocol, server, port: 0, user, password, directory }
    const list = names.split(",").filter((name) => name !== "")
    const started = what === "logs" ? this.#view.uploads.backupLogs(list, target) : this.#view.reports.backup(list, target)
    void started.sent
    const none = what === "logs" ? "has no logs stored" : "has no generated report"
    return [
      ...started.unknown.map((name) => `${name} ${none}; skipped`),
      `Starting backup ${what} to ${protocol}://${user}@${server}${slashed(directory)} in the background...`
    ]
  }

  /**
   * `execute sql-report run <adom> <schedule> [<num-threads>]`: starts a run of a report schedule
   * (its end is a `report-generated` event); `execute sql-report list <adom>`: the runs kept.
   */
  #sqlReport(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [action, adom, name, threads, ...extra] = argv
    if (action === undefined || adom === undefined) return [fail(INCOMPLETE)]
    if (action === "list") {
      if (name !== undefined) return parseError(name)
      const runs = this.#view.reports.runs().filter((run) => run.adom === adom)
      return [
        `--- ${runs.length} reports in ADOM ${adom} ---`,
        ...runs.map((run) => `${run.tid}  ${run.schedule.padEnd(20)}${run.state.padEnd(11)}${faTime(new Date(run.startedAt))}  ${run.files.map((file) => file.name).join(",") || "-"}`)
      ]
    }
    if (action !== "run") return parseError(action)
    if (name === undefined) return [fail(INCOMPLETE)]
    if (extra.length > 0 || (threads !== undefined && !/^\d+$/u.test(threads))) return parseError(extra[0] ?? threads ?? "")
    const schedule = this.#view.reports.schedule(name, adom)
    if (schedule === undefined) return [`report schedule ${name} is not in ADOM ${adom}; add it to the scenario file's report.schedule`, fail(-3)]
    const run = this.#view.reports.runNow(schedule)
    return [`Starting report ${name} (${run.title}) in the background...`, `Task id: ${run.tid}`]
  }

  /** `execute log-integrity <device> <vdom> <log-name>`: an MD5 over the device's stored logs of that file's type; `execute backup ...`. */
  #execute(argv: ReadonlyArray<string>): ReadonlyArray<string> {
    const [command, device, vdom, logName, ...extra] = argv
    if (command === undefined) return [fail(INCOMPLETE)]
    if (command === "backup") return this.#backup(argv.slice(1))
    if (command === "sql-report") return this.#sqlReport(argv.slice(1))
    if (command !== "log-integrity") return parseError(command)
    if (device === undefined || vdom === undefined || logName === undefined) return [fail(INCOMPLETE)]
    if (extra.length > 0) return parseError(extra[0] ?? "")
    const registered = this.#view.store.devices.list().find((d) => d.name === device || d.serial === device)
    const name = registered?.name ?? device
    const type = LOG_FILES[logName.replace(/\.log$/u, "")]
    if (type === undefined) return [`Log file ${logName} not found; use tlog.log (traffic), elog.log (event) or ulog.log (utm)`, fail(-3)]
    const logs = this.#view.store.query({ device: name, type, limit: 1_000_000, held: "include" })
    if (logs.length === 0) return [`Log file ${logName} of ${device} [${vdom}] not found (no ${type} logs stored)`, fail(-3)]
    const md5 = crypto.createHash("md5")
    for (const log of logs) md5.update(`${log.raw}\n`)
    return [
      `Log file: ${logName} of ${name} [${vdom}]: ${logs.length} logs`,
      `MD5 checksum: ${md5.digest("hex")}`,
      `Timestamp: ${faTime(new Date(logs.at(-1)?.receivedAt ?? 0))}`
    ]
  }
}

/** A directory as a URL's path ("conf" → "/conf"). */
const slashed = (directory: string): string => `${directory.startsWith("/") ? "" : "/"}${directory}`

/** FortiAnalyzer's log file names and the log types they hold. */
const LOG_FILES: Readonly<Record<string, string>> = { tlog: "traffic", elog: "event", ulog: "utm" }
