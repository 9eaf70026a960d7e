/**
 * A real rsyslog as a test's collector: `rsyslogd -n` (foreground, the test's own process) with
 * its own configuration, listening on UDP and TCP on one loopback port, writing every message it
 * receives to a file as `FROMHOST-IP HOSTNAME RAWMSG`. `ready` returns once rsyslog has written a
 * marker datagram sent to it (it says nothing when it is listening).
 */
import * as dgram from "node:dgram"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { daemonDir, spawnDaemon } from "./daemon.ts"
import { freePortBase } from "./ports.ts"

export interface Rsyslog {
  readonly port: number
  /** The lines written so far (marker lines left out). */
  lines(): ReadonlyArray<string>
  /** Resolves once `predicate` holds for the lines written; rejects after `timeoutMs`. */
  waitFor(predicate: (lines: ReadonlyArray<string>) => boolean, timeoutMs?: number): Promise<ReadonlyArray<string>>
  stop(): Promise<void>
}

const MARKER = "fazlab-rsyslog-ready"

export const startRsyslog = async (): Promise<Rsyslog> => {
  const dir = daemonDir("rsyslog")
  const port = (await freePortBase(["udp/514", "tcp/514"])) + 514
  const out = path.join(dir, "received.log")
  writeFileSync(out, "")
  writeFileSync(path.join(dir, "rsyslog.conf"), [
    `global(workDirectory="${dir}" maxMessageSize="64k")`,
    `module(load="imudp")`,
    `module(load="imtcp")`,
    `input(type="imudp" address="127.0.0.1" port="${port}")`,
    `input(type="imtcp" address="127.0.0.1" port="${port}")`,
    `template(name="raw" type="string" string="%fromhost-ip% %hostname% %rawmsg%\\n")`,
    `*.* action(type="omfile" file="${out}" template="raw" flushOnTXEnd="on" asyncWriting="off")`,
    ""
  ].join("\n"))
  const daemon = spawnDaemon(dir, "rsyslogd", ["-n", "-f", path.join(dir, "rsyslog.conf"), "-i", path.join(dir, "rsyslogd.pid")])
  const child = daemon.child
  let stderr = ""
  child.stdout?.resume()
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const all = (): ReadonlyArray<string> => readFileSync(out, "utf8").split("\n").filter((line) => line.length > 0)
  const lines = () => all().filter((line) => !line.includes(MARKER))

  const waitFor = async (predicate: (lines: ReadonlyArray<string>) => boolean, timeoutMs = 10_000): Promise<ReadonlyArray<string>> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const seen = lines()
      if (predicate(seen)) return seen
      if (Date.now() > deadline) throw new Error(`rsyslog did not receive what was expected within ${timeoutMs} ms; it has ${seen.length} lines: ${seen.slice(-3).join(" | ")}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  // Markers until one is written: rsyslog is listening and writing (bounded: 10 s).
  const socket = dgram.createSocket("udp4")
  try {
    const deadline = Date.now() + 10_000
    while (!all().some((line) => line.includes(MARKER))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rsyslogd did not start on 127.0.0.1:${port}: ${stderr.trim() || "no output"}`)
      socket.send(`<13>${MARKER}`, port, "127.0.0.1")
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    socket.close()
  }
  return {
    port,
    lines,
    waitFor,
    stop: daemon.stop
  }
}
