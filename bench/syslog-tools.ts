/**
 * The third-party syslog tools the benchmark compares with, when they are there (tests never
 * need them; `bench/setup-tools.sh` installs them): syslog-ng's `loggen`, a sender, and
 * `rsyslogd`, a receiver. Each is looked for on PATH, then in the folder `setup-tools.sh` unpacks
 * them into (`$FAZLAB_BENCH_TOOLS`, default `~/.cache/fazlab-bench`).
 *
 * - `runLoggen`: one loggen run, reported as the benchmark's own sender reports (`BlasterReport`).
 *   TCP with LF framing sends the lines of a file as they are (`--read-file --dont-parse`);
 *   TCP with octet counting sends loggen's own RFC 5424 messages (`--syslog-proto`, which
 *   frames only messages it makes); UDP sends the file's lines, one per datagram.
 * - `startRsyslog`: rsyslogd in the foreground with imtcp and imudp (4 MiB receive buffer) on one
 *   port, writing every message to one file, as the reference run did.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { now, perSecond } from "./measure.ts"
import type { BlasterReport } from "./syslog-blaster.ts"
import { processCpuSeconds } from "./thread-cpu.ts"

const TOOLS = process.env["FAZLAB_BENCH_TOOLS"] ?? path.join(os.homedir(), ".cache", "fazlab-bench")

interface Tool {
  readonly command: string
  readonly env: NodeJS.ProcessEnv
}

const onPath = (name: string): string | null => {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name)
    if (dir !== "" && fs.existsSync(candidate)) return candidate
  }
  return null
}

const unpacked = (relative: string): string | null => {
  const candidate = path.join(TOOLS, "root", relative)
  return fs.existsSync(candidate) ? candidate : null
}

/** syslog-ng's loggen, or null when neither on PATH nor unpacked. */
export const findLoggen = (): Tool | null => {
  const installed = onPath("loggen")
  if (installed !== null) return { command: installed, env: process.env }
  const command = unpacked("usr/bin/loggen")
  if (command === null) return null
  // An unpacked loggen finds its plugins and libraries only when told where they are.
  const root = path.join(TOOLS, "root")
  return { command, env: { ...process.env, SYSLOGNG_PREFIX: path.join(root, "usr"), LD_LIBRARY_PATH: path.join(root, "usr", "lib", "syslog-ng") } }
}

/** rsyslogd, or null. */
export const findRsyslogd = (): (Tool & { readonly moduleDir: string | null }) | null => {
  const installed = onPath("rsyslogd") ?? (fs.existsSync("/usr/sbin/rsyslogd") ? "/usr/sbin/rsyslogd" : null)
  if (installed !== null) return { command: installed, env: process.env, moduleDir: null }
  const command = unpacked("usr/sbin/rsyslogd")
  if (command === null) return null
  return { command, env: process.env, moduleDir: path.join(TOOLS, "root", "usr", "lib", "x86_64-linux-gnu", "rsyslog") }
}

export interface LoggenOptions {
  readonly transport: "tcp" | "udp"
  /** TCP only: "lf" sends `file`'s lines; "octet" sends loggen's own RFC 5424 messages of `size` bytes. */
  readonly framing: "lf" | "octet"
  readonly host: string
  readonly port: number
  readonly count: number
  /** Messages per second; 0 = as fast as loggen goes. */
  readonly rate: number
  /** One message per line, sent as they are, looping. */
  readonly file: string
  readonly size: number
  readonly maxSeconds: number
}

/** loggen's last words: `average rate = R msg/sec, count=N, time=T, ...`. */
const SUMMARY = /average rate = ([\d.]+) msg\/sec, count=(\d+), time=([\d.e+-]+)/

export const runLoggen = (tool: Tool, options: LoggenOptions): Promise<BlasterReport> =>
  new Promise((resolve, reject) => {
    const args = [
      "--inet",
      options.transport === "tcp" ? "--stream" : "--dgram",
      ...(options.framing === "octet" && options.transport === "tcp"
        ? ["--syslog-proto", `--size=${options.size}`]
        : [`--read-file=${options.file}`, "--dont-parse", "--loop-reading"]),
      // loggen paces at 1,000/s unless told otherwise; "as fast as it goes" is a rate it cannot reach.
      `--rate=${options.rate === 0 ? 100_000_000 : options.rate}`,
      `--number=${options.count}`,
      `--interval=${options.maxSeconds}`,
      "--quiet",
      options.host,
      String(options.port)
    ]
    const startedAt = now()
    const child = spawn(tool.command, args, { env: tool.env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text))
    child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text))
    const timer = setTimeout(() => child.kill("SIGKILL"), (options.maxSeconds + 30) * 1000)
    // loggen's CPU as last seen alive (sampled: a process that ended has no /proc entry left).
    let cpuSeconds: number | null = null
    const sampleCpu = setInterval(() => {
      cpuSeconds = processCpuSeconds(child.pid) ?? cpuSeconds
    }, 20)
    child.on("error", (error) => {
      clearTimeout(timer)
      clearInterval(sampleCpu)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      clearInterval(sampleCpu)
      const summary = SUMMARY.exec(output)
      if (summary === null) {
        reject(new Error(`loggen gave no summary (exit ${code}): ${output.trim().split("\n").at(-1) ?? ""}`))
        return
      }
      const sent = Number(summary[2])
      const seconds = Number(summary[3])
      const endedAt = now()
      // loggen times its own sending; place that span at the end of the process's life.
      const firstSendAt = Math.max(startedAt, endedAt - seconds * 1000)
      resolve({
        transport: options.transport,
        sent,
        bytes: 0,
        firstSendAt,
        lastSendAt: endedAt,
        rate: seconds > 0 ? Number(summary[1]) : perSecond(sent, firstSendAt, endedAt),
        errors: /error/i.test(output) ? 1 : 0,
        aborted: sent < options.count,
        cpuSeconds
      })
    })
  })

export interface Rsyslog {
  /** Lines written to the output file so far (one per message). */
  stored(): number
  /** rsyslogd's peak resident set size so far, KiB (VmHWM). */
  maxRssKiB(): number
  /** rsyslogd's process id, for its CPU per thread. */
  readonly pid: number | undefined
  stop(): Promise<void>
}

/** Starts rsyslogd listening on `port` (TCP and UDP) on 127.0.0.1, its files in `dir`; resolves once it listens. */
export const startRsyslog = async (tool: Tool & { readonly moduleDir: string | null }, dir: string, port: number): Promise<Rsyslog> => {
  fs.mkdirSync(dir, { recursive: true })
  const out = path.join(dir, "messages.log")
  const conf = path.join(dir, "rsyslog.conf")
  const pidFile = path.join(dir, "rsyslogd.pid")
  fs.writeFileSync(out, "")
  fs.writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      `input(type="imudp" address="127.0.0.1" port="${port}" rcvBufSize="4m")`,
      `*.* action(type="omfile" file="${out}" template="RSYSLOG_FileFormat")`,
      ""
    ].join("\n")
  )
  const args = ["-n", "-f", conf, "-i", pidFile, ...(tool.moduleDir === null ? [] : ["-M", tool.moduleDir])]
  const child = spawn(tool.command, args, { env: tool.env, stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-2000)))
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
  // Listening once a TCP connect succeeds; bounded.
  const deadline = now() + 10_000
  const net = await import("node:net")
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited at start: ${stderr.trim().split("\n").at(-1) ?? ""}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy()
        resolve(true)
      })
      socket.on("error", () => resolve(false))
    })
    if (ok) break
    if (now() > deadline) {
      child.kill("SIGKILL")
      throw new Error("rsyslogd did not listen within 10 s")
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  let lines = 0
  let offset = 0
  const fd = fs.openSync(out, "r")
  const buffer = Buffer.allocUnsafe(1 << 20)
  let hwm = 0
  const status = `/proc/${child.pid}/status`
  return {
    pid: child.pid,
    stored: () => {
      for (;;) {
        const read = fs.readSync(fd, buffer, 0, buffer.length, offset)
        if (read === 0) break
        // Only whole lines count.
        const last = buffer.lastIndexOf(0x0a, read - 1)
        if (last < 0) break
        for (let at = buffer.indexOf(0x0a); at >= 0 && at <= last; at = buffer.indexOf(0x0a, at + 1)) lines++
        offset += last + 1
      }
      return lines
    },
    maxRssKiB: () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(status, "utf8"))
        if (match !== null) hwm = Number(match[1])
      } catch {
        // ended: the last reading stands
      }
      return hwm
    },
    stop: async () => {
      fs.closeSync(fd)
      child.kill("SIGTERM")
      await exited
    }
  }
}
