/**
 * The wire format on its own: a command decodes to what its name promises, and every broken
 * message is answered with a sentence that names the problem (and the id, when it had one).
 */
import { Result } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { newToken, parseControlBind } from "../../src/control/access.ts"
import { decodeClientMessage, decodeServerMessage, type RegisteredDevice } from "../../src/control/protocol.ts"
import type { RegisteredDevice as StoredDevice } from "../../src/store/device-registry.ts"

const decode = (message: unknown) => decodeClientMessage(typeof message === "string" ? message : JSON.stringify(message))

const rejection = (message: unknown) => {
  const result = decode(message)
  if (Result.isSuccess(result)) throw new Error(`accepted ${JSON.stringify(message)}`)
  return result.failure
}

describe("decodeClientMessage", () => {
  it("accepts every command with its fields", () => {
    const commands = [
      { name: "stop", device: "fgt-1" },
      { name: "start", device: "fgt-1" },
      { name: "pause", device: "fgt-1" },
      { name: "resume", device: "fgt-1" },
      { name: "kill", device: "faz-a" },
      { name: "restart", device: "faz-a" },
      { name: "freeze", device: "faz-a" },
      { name: "thaw", device: "faz-a" },
      { name: "partition", members: ["faz-a", "faz-b"] },
      { name: "heal", members: ["faz-a", "faz-b"] },
      { name: "burst", device: "fgt-1", count: 500 },
      { name: "devices" },
      { name: "devices", analyzer: "faz-1" },
      { name: "authorize", serial: "FGVM010000000001", adom: "root", analyzer: "faz-1" },
      { name: "delete-device", serial: "FGVM010000000001" },
      { name: "logs" },
      { name: "logs", analyzer: "lab", device: "fgt-1", type: "traffic", level: "warning", text: "deny", limit: 1000, after: { analyzer: "faz-a", id: 7, receivedAt: 1 }, latest: true },
      { name: "step" }
    ]
    for (const [index, command] of commands.entries()) {
      const result = decode({ v: 1, type: "command", id: index, command })
      expect(Result.isSuccess(result) ? result.success : result.failure).toEqual({ v: 1, type: "command", id: index, command })
    }
  })

  it("names what is wrong with a message, keeping its id", () => {
    expect(rejection("{nope")).toEqual({ id: null, error: expect.stringMatching(/^the message is not JSON \(.+\); send one JSON object per text frame$/) })
    expect(rejection([1, 2])).toEqual({ id: null, error: "the message must be a JSON object, got [1,2]" })
    expect(rejection({ v: 2, type: "command", id: "a", command: { name: "devices" } })).toEqual({
      id: "a",
      error: "control protocol version 2 is not supported; this lab speaks version 1"
    })
    expect(rejection({ type: "command", id: 1 }).error).toBe('the message has no "v"; send {"v": 1, ...} (control protocol version 1)')
    expect(rejection({ v: 1, type: "hello", id: 3 })).toEqual({
      id: 3,
      error: 'unknown message type "hello"; a client sends {"v": 1, "type": "command", "id": ..., "command": {...}}'
    })
    expect(rejection({ v: 1, type: "command", command: { name: "devices" } }).error).toBe(
      'a command needs an "id" (a string or a number) to match its reply, got undefined'
    )
    expect(rejection({ v: 1, type: "command", id: 4, command: "stop" }).error).toBe(
      '"command" must be an object such as {"name": "stop", "device": "fgt-1"}, got "stop"'
    )
    expect(rejection({ v: 1, type: "command", id: 5, command: { name: "zap" } })).toEqual({
      id: 5,
      error: 'unknown command "zap"; commands: stop, start, pause, resume, kill, restart, freeze, thaw, partition, heal, degrade, burst, devices, authorize, delete-device, logs, step, sent, address, node-hello, node-events'
    })
    // An inherited property name is not a command either.
    expect(rejection({ v: 1, type: "command", id: 6, command: { name: "toString" } }).error).toMatch(/^unknown command "toString"/)
  })

  it("names the field at fault", () => {
    const fields = (command: unknown) => rejection({ v: 1, type: "command", id: 1, command }).error
    expect(fields({ name: "stop" })).toBe("command stop: device is missing")
    expect(fields({ name: "stop", device: "" })).toBe('command stop: device must be a non-empty string, got ""')
    expect(fields({ name: "burst", device: "fgt-1", count: -1 })).toBe("command burst: count must be a whole number from 1 to 1000000, got -1")
    expect(fields({ name: "burst", device: "fgt-1", count: 1.5 })).toBe("command burst: count must be a whole number from 1 to 1000000, got 1.5")
    expect(fields({ name: "burst", device: "fgt-1", count: "9" })).toBe('command burst: count must be a whole number from 1 to 1000000, got "9"')
    expect(fields({ name: "stop", device: 7 })).toBe("command stop: device must be a non-empty string, got 7")
    expect(fields({ name: "devices", serial: "x" })).toBe("command devices: serial is not a field of this command")
    expect(fields({ name: "logs", limit: 0 })).toBe("command logs: limit must be a whole number from 1 to 1000, got 0")
    expect(fields({ name: "logs", limit: 1001 })).toBe("command logs: limit must be a whole number from 1 to 1000, got 1001")
    expect(fields({ name: "logs", text: "" })).toBe('command logs: text must be a non-empty string, got ""')
    expect(fields({ name: "logs", after: { analyzer: "faz-a", id: 1.5, receivedAt: 0 } })).toBe("command logs: after.id must be a whole number, got 1.5")
    expect(fields({ name: "logs", after: { id: 1, receivedAt: 0 } })).toBe("command logs: after.analyzer is missing")
    expect(fields({ name: "step", device: "faz-a" })).toBe("command step: device is not a field of this command")
    const pair = 'a list of two HA members such as ["faz-a", "faz-b"]'
    expect(fields({ name: "partition", members: ["faz-a"] })).toBe(`command partition: members must be ${pair}, got ["faz-a"]`)
    expect(fields({ name: "heal", members: "faz-a" })).toBe(`command heal: members must be ${pair}, got "faz-a"`)
    expect(fields({ name: "partition", members: ["faz-a", ""] })).toBe('command partition: members.1 must be a non-empty string, got ""')
    expect(fields({ name: "freeze" })).toBe("command freeze: device is missing")
  })
})

describe("decodeServerMessage", () => {
  it("reads an event with its own fields", () => {
    const text = JSON.stringify({ v: 1, type: "event", event: { type: "device-stopped", at: 12, device: "fgt-1", kind: "fortigate" } })
    expect(decodeServerMessage(text)).toEqual(Result.succeed({
      v: 1,
      type: "event",
      event: { type: "device-stopped", at: 12, device: "fgt-1", kind: "fortigate" }
    }))
  })

  it("says when the lab speaks another protocol version", () => {
    expect(decodeServerMessage(JSON.stringify({ v: 2, type: "snapshot" }))).toEqual(
      Result.fail("the lab speaks control protocol version 2 and this fazlab speaks 1; use the same fazlab version for both")
    )
  })
})

describe("parseControlBind", () => {
  it("reads HOST:PORT, bracketed IPv6 included", () => {
    expect(parseControlBind("127.0.0.1:7400")).toEqual(Result.succeed({ host: "127.0.0.1", port: 7400 }))
    expect(parseControlBind("0.0.0.0:0")).toEqual(Result.succeed({ host: "0.0.0.0", port: 0 }))
    expect(parseControlBind("[::1]:7400")).toEqual(Result.succeed({ host: "::1", port: 7400 }))
    expect(parseControlBind("localhost:7400")).toEqual(Result.succeed({ host: "localhost", port: 7400 }))
  })

  it("refuses anything else with the expected form", () => {
    for (const text of ["7400", "127.0.0.1", "::1:7400", "[nope]:1", "host:port", ""]) {
      expect(parseControlBind(text)).toEqual(
        Result.fail(`--control-bind must be HOST:PORT such as 127.0.0.1:7400 or [::1]:7400, got "${text}"`)
      )
    }
    expect(parseControlBind("127.0.0.1:70000")).toEqual(Result.fail("--control-bind port must be from 0 (any free port) to 65535, got 70000"))
  })
})

it("the registry's device record is what the protocol carries", () => {
  expectTypeOf<StoredDevice>().toExtend<RegisteredDevice>()
})

describe("newToken", () => {
  it("is 43 base64url characters and never starts with '-' (so `--token T` is never taken for an option)", () => {
    // One base64url token in 64 starts with "-": in 2,000 draws one would, all but surely.
    const tokens = Array.from({ length: 2000 }, newToken)
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/u)
    expect(new Set(tokens).size).toBe(tokens.length)
  })
})
