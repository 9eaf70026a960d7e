/**
 * `fazlab send syslog --file FILE` replays a real log file into a lab's analyzer: FortiOS
 * key=value lines with and without a syslog header, RFC 3164 and RFC 5424 lines are sent as they
 * are, over UDP and TCP (both framings); lines that are not logs are counted and reported, not
 * sent; the original pace comes from eventtime (and --speed divides it), --rate overrides it.
 * With --oftp it replays the file's FortiOS records over OFTP as a FortiGate of the lab (its
 * certificate from the lab's CA, the analyzer's checked against its serial), leaving out and
 * reporting the logs that are not FortiOS, and ends once the analyzer acknowledged the last one.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { readReplayFile, replaySchedule } from "../../src/protocols/syslog/replay.ts"
import { removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"
import { sharedLab, waitForStored } from "../support/lab.ts"

const T = 1_710_408_060_000_000_000n

/** Five FortiOS logs 300 ms apart (eventtime in ns, 09:21:00Z on), one with a syslog header, then RFC 3164 and 5424 lines (09:21:05, 09:21:06) and two lines that are not logs. */
const fileFor = (device: string): string => [
  ...[0, 1, 2, 3].map((i) => `date=2024-03-14 time=09:21:0${i} devname="${device}" devid="FGT60FTK2109XXXX" eventtime=${T + BigInt(i) * 300_000_000n} logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.0.0.${i + 1} action="close"`),
  `<189>date=2024-03-14 time=09:21:04 devname="${device}" eventtime=${T + 1_200_000_000n} logid="0100032002" type="event" subtype="system" level="alert" msg="with a header"`,
  "",
  "# exported from the FortiGate at 09:30",
  `Mar 14 09:21:05 ${device}-3164 sshd[812]: Accepted publickey for admin`,
  `<134>1 2024-03-14T09:21:06Z ${device}-5424 app 1 - - devname="${device}-5424" logid="0000000020" type="traffic" subtype="local"`,
  "not a log at all"
].join("\n")

describe("fazlab send syslog --file", () => {
  let dir = ""
  const started = sharedLab("name: replay\ndevices:\n  faz-1: { kind: fortianalyzer }\n")
  beforeAll(async () => {
    dir = tempDir()
  })
  afterAll(async () => {
    removeTempDirs()
  })

  const analyzer = () => started().lab.analyzers()[0] as FortiAnalyzer

  it.each([
    ["udp", []],
    ["tcp-lf", ["--tcp"]],
    ["tcp-octets", ["--tcp", "--octet-count"]]
  ] as const)("replays the logs of a file over %s and reports the lines that are not", async (name, flags) => {
    const device = `fgt-${name}`
    const file = path.join(dir, `${name}.log`)
    fs.writeFileSync(file, fileFor(device))
    const port = started().lab.plan.resolve("faz-1", flags.length === 0 ? "udp/514" : "tcp/514")
    const result = await runFazlab(["send", "syslog", "--to", `${port.address}:${port.actualPort}`, "--file", file, "--speed", "10", ...flags], { cwd: dir })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^replayed 7 of 7 logs from .*${name}\\.log to .* in \\d+\\.\\d+ s \\(10x the original pace\\); 2 lines are not logs and were not sent \\(the first at line 7\\)\\n$`, "u"))
    await waitForStored(started(), device, 5)
    await waitForStored(started(), `${device}-3164`, 1)
    await waitForStored(started(), `${device}-5424`, 1)
    const logs = analyzer().store.query({ device })
    expect(logs.map((log) => log.logid)).toEqual(["0000000013", "0000000013", "0000000013", "0000000013", "0100032002"])
    expect(logs[4]?.raw.startsWith("<189>date=2024-03-14 time=09:21:04")).toBe(true)
    // A line without a PRI gets its level's severity on local7 (notice: 189).
    expect(logs[0]?.raw.startsWith("<189>date=")).toBe(true)
  })

  it("keeps the original pace (from eventtime), divided by --speed; --rate overrides it", async () => {
    const read = readReplayFile(fileFor("fgt-pace"))
    expect(read.logs.map((log) => log.line)).toEqual([1, 2, 3, 4, 5, 8, 9])
    expect(read).toMatchObject({ skipped: 2, firstSkipped: 7 })
    expect(replaySchedule(read.logs.slice(0, 5), { speed: 1 })).toEqual([0, 300, 600, 900, 1200])
    expect(replaySchedule(read.logs.slice(0, 5), { speed: 4 })).toEqual([0, 75, 150, 225, 300])
    expect(replaySchedule(read.logs.slice(0, 5), { rate: 10 })).toEqual([0, 100, 200, 300, 400])
    const file = path.join(dir, "pace.log")
    fs.writeFileSync(file, read.logs.slice(0, 5).map((log) => log.message.toString()).join("\n"))
    const port = started().lab.plan.resolve("faz-1", "udp/514")
    const result = await runFazlab(["send", "syslog", "--to", `${port.address}:${port.actualPort}`, "--file", file], { cwd: dir })
    expect(result.code, result.stderr).toBe(0)
    // 1.2 s of logs at their original pace take at least 1.2 s.
    expect(Number(/in (\d+\.\d+) s/u.exec(result.stdout)?.[1])).toBeGreaterThanOrEqual(1.2)
  })

  it("refuses a file without logs, and flags that do not go with --file, in one sentence", async () => {
    const empty = path.join(dir, "empty.log")
    fs.writeFileSync(empty, "hello\n\nworld\n")
    const none = await runFazlab(["send", "syslog", "--to", "127.0.0.1:9", "--file", empty], { cwd: dir })
    expect(none).toMatchObject({ code: 2, stdout: "" })
    expect(none.stderr).toBe(`fazlab send: ${empty} holds no logs; 2 lines are not logs and were not sent (the first at line 1); give FortiOS key=value, RFC 3164 or RFC 5424 lines, one log a line\n`)
    const both = await runFazlab(["send", "syslog", "--to", "127.0.0.1:9", "--file", empty, "--speed", "2", "--rate", "5"], { cwd: dir })
    expect(both.stderr).toBe("fazlab send: give --speed N (the original pace, N times faster) or --rate R (R logs per second), not both\n")
  })
})

describe("fazlab send syslog --file --oftp", () => {
  let dataDir = ""
  let dir = ""
  // Registered before the lab, so it runs after the lab has closed.
  afterAll(removeTempDirs)
  beforeAll(() => {
    dataDir = tempDir()
    dir = tempDir()
  })
  const started = sharedLab("name: replay-oftp\ndevices:\n  faz-1: { kind: fortianalyzer, serial: FAZ-VM0000000009, oftp: { psk: lab-secret } }\n", () => ({ dataDir }))

  const tcp514 = () => {
    const port = started().lab.plan.resolve("faz-1", "tcp/514")
    return `${port.address}:${port.actualPort}`
  }

  it("replays the file's FortiOS records as a FortiGate of the lab, and reports what it left out", async () => {
    const file = path.join(dir, "oftp.log")
    const text = fileFor("fgt-oftp")
    fs.writeFileSync(file, text)
    const result = await runFazlab(
      ["send", "syslog", "--to", tcp514(), "--file", file, "--oftp", "--lab", dataDir, "--psk", "lab-secret", "--analyzer-serial", "FAZ-VM0000000009", "--device", "fgt-oftp", "--serial", "FGT60FTK2100OFTP", "--speed", "10"],
      { cwd: dir }
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(new RegExp(
      "^replayed 6 of 6 logs from .*oftp\\.log to .* over OFTP as fgt-oftp \\(FGT60FTK2100OFTP; [^)]*authorized[^)]*\\) in \\d+\\.\\d+ s \\(10x the original pace\\); " +
        "2 lines are not logs and were not sent \\(the first at line 7\\); 1 log is not FortiOS key=value and was not sent \\(OFTP carries FortiOS logs only\\)\\n$",
      "u"
    ))
    // Acknowledged means stored: the records are there as they were in the file, under the serial it gave.
    const store = started().lab.analyzers()[0]?.store
    const stored = [...(store?.query({ device: "fgt-oftp" }) ?? []), ...(store?.query({ device: "fgt-oftp-5424" }) ?? [])]
    const records = readReplayFile(text).logs.flatMap((log) => (log.record === null ? [] : [log.record]))
    expect(stored.map((log) => log.raw).toSorted()).toEqual(records.toSorted())
    expect(new Set(stored.map((log) => log.devid))).toEqual(new Set(["FGT60FTK2100OFTP"]))
    expect(store?.query({ device: "fgt-oftp-3164" })).toEqual([])
  })

  it("ends with the reason when the analyzer's certificate is not the serial it was given", async () => {
    const file = path.join(dir, "wrong-serial.log")
    fs.writeFileSync(file, fileFor("fgt-wrong"))
    const result = await runFazlab(["send", "syslog", "--to", tcp514(), "--file", file, "--oftp", "--lab", dataDir, "--analyzer-serial", "FAZ-VM0000000001", "--serial", "FGT60FTK2100WRNG"], { cwd: dir })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^fazlab send: .*serial number of server is unauthorized \(certificate CN FAZ-VM0000000009, expected one of FAZ-VM0000000001\).*; replayed 0 of 6 logs .* over OFTP/u)
  })

  it("refuses --oftp without a lab CA, and OFTP flags without --oftp, in one sentence", async () => {
    const file = path.join(dir, "no-lab.log")
    fs.writeFileSync(file, fileFor("fgt-no-lab"))
    const empty = tempDir()
    const noCa = await runFazlab(["send", "syslog", "--to", tcp514(), "--file", file, "--oftp", "--lab", empty], { cwd: dir })
    expect(noCa).toMatchObject({ code: 2, stdout: "" })
    expect(noCa.stderr).toBe(`fazlab send: ${empty} has no lab CA (pki/ca.pem): start the lab once with fazlab up or fazlab run (not --memory) before replaying over OFTP as one of its FortiGates\n`)
    const noOftp = await runFazlab(["send", "syslog", "--to", tcp514(), "--file", file, "--psk", "x"], { cwd: dir })
    expect(noOftp.stderr).toBe("fazlab send: --psk is for a replay over OFTP: add --oftp\n")
  })
})
