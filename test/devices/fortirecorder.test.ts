/**
 * A FortiRecorder reporting to analyzers (the vendor table's "FortiRecorder → FortiAnalyzer,
 * Logging, management"): its five flows (notify on TCP/3010 and TCP/3011, RTSP on UDP/554 or
 * TCP/554, a clip over FTP on TCP/21, the API on TCP/80 and TLS/443) succeed; `curl` uploads and
 * lists over FTP on the analyzer's TCP/21, and a wrong password is refused with a sentence; a resent notice is kept once; `curl` sends
 * RTSP OPTIONS (TCP/554) and a notice on the HTTP channel; `nmap -sV` names 21, 554 and 3011; bad input gets the
 * protocol's error, a counter and a sentence.
 */
import { execFile } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it, onTestFinished } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { FortiRecorder } from "../../src/devices/fortirecorder/fortirecorder.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const YAML = `
name: recorder
devices:
  faz-1:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet } } }
  faz-2:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet } } }
    fortirecorder: { rtsp-transport: tcp }
  rec-1:
    kind: fortirecorder
    fortianalyzer: faz-1
    password: fortinet
    cameras: [lobby, dock]
    notify-interval: 1s
  rec-2:
    kind: fortirecorder
    fortianalyzer: faz-2
    password: fortinet
    rtsp-transport: tcp
`

const started = sharedLab(YAML)

const flow = (device: string, name: string, from = 0) =>
  waitForEvent(started(), "recorder-flow", (e) => e.device === device && e.flow === name, { from })

const analyzer = (id: string) => started().lab.device(id) as FortiAnalyzer

/** A raw TCP/3010 exchange: sends `text`, resolves with all the analyzer said until it closed. */
const rawNotify = (text: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/3010")
    const socket = net.connect({ host: address, port: actualPort }, () => socket.write(text))
    let answer = ""
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")))
    socket.on("error", reject)
    socket.on("close", () => resolve(answer))
  })

describe("a FortiRecorder and its analyzer", () => {
  it("runs its five flows: notify on 3010 and 3011, RTSP over UDP/554, FTP on 21, the API on 80 and 443", async () => {
    await expect(flow("rec-1", "notify-tcp")).resolves.toMatchObject({ status: "ok", reason: "2 of 2 notices acknowledged on TCP/3010" })
    await expect(flow("rec-1", "notify-http")).resolves.toMatchObject({ status: "ok" })
    const rtsp = await flow("rec-1", "rtsp")
    expect(rtsp.status, rtsp.reason).toBe("ok")
    expect(rtsp.reason).toMatch(/over UDP\/554 answered 200 with application\/sdp$/u)
    const upload = await flow("rec-1", "upload")
    expect(upload.status, upload.reason).toBe("ok")
    const faz = analyzer("faz-1")
    const recorderSerial = (started().lab.device("rec-1") as FortiRecorder).serial
    expect(upload.reason).toBe(`/${recorderSerial}/lobby-1.mp4 (4120 bytes) uploaded over FTP on TCP/21`)
    expect(fs.statSync(path.join(faz.recorders.uploadRoot, recorderSerial, "lobby-1.mp4")).size).toBe(4120)
    const api = await flow("rec-1", "api")
    expect(api.reason).toBe("TCP/80 redirects to HTTPS; get sys/status on 443: v7.4.3-build2487 240514 (GA)")
    const recorder = started().lab.device("rec-1")
    if (!(recorder instanceof FortiRecorder)) throw new Error("rec-1 is not a FortiRecorder")
    expect(analyzer("faz-1").recorders.recorders.get(recorder.serial)).toMatchObject({ name: "rec-1", version: "v7.2.6" })
  })

  it("takes a file from curl over FTP on TCP/21, lists it, and refuses a wrong password with a sentence", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/21")
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-rec-")), "clip.mp4")
    onTestFinished(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
    fs.writeFileSync(file, "not really a clip\n")
    const base = `ftp://${address}:${actualPort}`
    const from = started().events.length
    await run("curl", ["-s", "-S", "--ftp-create-dirs", "-T", file, "-u", "admin:fortinet", `${base}/curl/clip.mp4`])
    const received = await waitForEvent(started(), "file-received", (e) => e.device === "faz-1" && e.path === "/curl/clip.mp4", { from })
    expect(received.bytes).toBe(18)
    const listing = await run("curl", ["-s", "-S", "-u", "admin:fortinet", "--list-only", `${base}/curl/`])
    expect(listing.stdout.trim()).toBe("clip.mp4")
    const wrong = await run("curl", ["-s", "-u", "admin:nope", `${base}/`]).then(() => 0, (error: { code?: number }) => error.code ?? -1)
    expect(wrong).toBe(67)
    const refused = await waitForEvent(started(), "file-refused", (e) => e.device === "faz-1" && e.user === "admin", { from })
    expect(refused.reason).toBe("wrong password for admin")
  })

  it("runs RTSP over TCP/554 when both sides say so", async () => {
    const rtsp = await flow("rec-2", "rtsp")
    expect(rtsp.status, rtsp.reason).toBe("ok")
    expect(rtsp.reason).toMatch(/over TCP\/554 answered 200/u)
    expect(started().lab.plan.boundEndpoints().filter((e) => e.device === "faz-2" && e.port.endsWith("/554")).map((e) => e.port)).toEqual(["tcp/554"])
  })

  it("keeps a resent notice once and acknowledges it again", async () => {
    const from = started().events.length
    const answer = await rawNotify("HELLO serial=FRC-TEST-1 name=raw\nNOTIFY seq=1 camera=gate event=motion\nNOTIFY seq=1 camera=gate event=motion\nBYE\n")
    expect(answer.split("\n")).toEqual([expect.stringMatching(/^OK serial=/u), "ACK seq=1", "ACK seq=1", "BYE", ""])
    const notices = started().events.slice(from).filter((e) => e.type === "recorder-notice" && e.serial === "FRC-TEST-1")
    expect(notices.map((e) => e.type === "recorder-notice" && e.duplicate)).toEqual([false, true])
    expect(analyzer("faz-1").recorders.recorders.get("FRC-TEST-1")?.notices).toBe(1)
  })

  it("answers a line it cannot use with ERR, a counter and a sentence", async () => {
    const from = started().events.length
    const answer = await rawNotify("NOTIFY seq=1 camera=gate event=motion\n")
    expect(answer).toBe("ERR code=\"hello-required\" reason=\"NOTIFY before HELLO\"\n")
    const refused = await waitForEvent(started(), "recorder-refused", (e) => e.port === "tcp/3010", { from })
    expect(refused.reason).toBe("NOTIFY before HELLO (hello-required; 1 so far)")
    expect(analyzer("faz-1").recorders.refused.get("hello-required")).toBe(1)
  })

  it("takes a notice from curl on TCP/3011 and answers a bad body with 400 and a sentence", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/3011")
    const url = `http://${address}:${actualPort}/notify`
    const ok = await run("curl", ["-s", "-H", "Content-Type: application/json", "--data", "{\"serial\":\"FRC-CURL\",\"seq\":1,\"camera\":\"gate\",\"event\":\"tamper\"}", url])
    expect(JSON.parse(ok.stdout)).toEqual({ status: "ok", seq: 1 })
    const bad = await run("curl", ["-s", "-w", "\\n%{http_code}", "--data", "{\"serial\":\"FRC-CURL\",\"seq\":0}", url])
    const [body, code] = bad.stdout.split("\n")
    expect(code).toBe("400")
    expect(JSON.parse(body ?? "")).toEqual({ status: "error", reason: "the body is not a notice: JSON with serial, seq (from 1), camera and event (motion, online, offline or tamper)" })
  })

  it("answers curl's RTSP OPTIONS on TCP/554, and a DESCRIBE of no recorder's stream with 404", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-2", "tcp/554")
    const base = `rtsp://${address}:${actualPort}`
    // curl's RTSP sends OPTIONS (its -X does not change the RTSP method); DESCRIBE is sent raw.
    const options = await run("curl", ["-s", "-i", `${base}/`])
    expect(options.stdout).toMatch(/^RTSP\/1\.0 200 OK\r\nCSeq: 1\r\n/u)
    expect(options.stdout).toContain("Public: OPTIONS, DESCRIBE")
    const missing = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: address, port: actualPort }, () => socket.write(`DESCRIBE ${base}/fortirecorder/NOPE/cam-1 RTSP/1.0\r\nCSeq: 7\r\n\r\n`))
      socket.on("data", (chunk: Buffer) => {
        resolve(chunk.toString("utf8"))
        socket.destroy()
      })
      socket.on("error", reject)
    })
    expect(missing).toMatch(/^RTSP\/1\.0 404 Not Found\r\nCSeq: 7\r\n/u)
  })

  it("answers over UDP/554: 405 for a method it does not serve, 400 with a counter for what is not RTSP", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "udp/554")
    const socket = dgram.createSocket("udp4")
    onTestFinished(() => {
      socket.close()
    })
    const ask = (text: string) =>
      new Promise<string>((resolve) => {
        socket.once("message", (message) => resolve(message.toString("utf8")))
        socket.send(text, actualPort, address)
      })
    const setup = await ask(`SETUP rtsp://${address}/fortirecorder/x/y RTSP/1.0\r\nCSeq: 3\r\n\r\n`)
    expect(setup).toMatch(/^RTSP\/1\.0 405 Method Not Allowed\r\nCSeq: 3\r\n/u)
    expect(setup).toContain("Allow: OPTIONS, DESCRIBE")
    const from = started().events.length
    expect(await ask("hello there\r\n\r\n")).toMatch(/^RTSP\/1\.0 400 Bad Request\r\n/u)
    const refused = await waitForEvent(started(), "recorder-refused", (e) => e.port === "udp/554", { from })
    expect(refused.reason).toBe("\"hello there\" is no RTSP/1.0 request line (bad-rtsp; 1 so far)")
  })

  it("is named by nmap -sV: ftp on TCP/21, rtsp on TCP/554, http on TCP/3011", async () => {
    const ports = (["tcp/21", "tcp/554", "tcp/3011"] as const).map((port) => started().lab.plan.resolve("faz-2", port))
    const { stdout } = await run("nmap", ["-sV", "--version-light", "-Pn", "-oG", "-", "-p", ports.map((p) => p.actualPort).join(","), ports[0]!.address], { timeout: 100_000 })
    const services = new Map([...stdout.matchAll(/(\d+)\/open\/tcp\/\/([^/]*)\/\//gu)].map((m) => [Number(m[1]), m[2]]))
    expect(ports.map((p) => services.get(p.actualPort))).toEqual(["ftp", "rtsp", "http"])
  }, 120_000)
})
