/**
 * FortiRecorder camera discovery on UDP/6666 and UDP/59123: an analyzer with `fortirecorder
 * camera-discovery enable` finds every lab camera (one unicast datagram per camera and port, never
 * a broadcast), an analyzer without it sends nothing, and a datagram that is not a DISCOVER gets
 * no answer, a counter and a sentence.
 */
import * as dgram from "node:dgram"
import { describe, expect, it, onTestFinished } from "vitest"
import type { FortiRecorderCamera } from "../../src/devices/fortirecorder-camera/camera.ts"
import { analyzer, sharedLab, waitForEvent } from "../support/lab.ts"

const YAML = `
name: cameras
devices:
  faz-1:
    kind: fortianalyzer
    fortirecorder: { camera-discovery: enable, discovery-interval: 1s }
  faz-quiet:
    kind: fortianalyzer
  lobby:
    kind: fortirecorder-camera
  dock:
    kind: fortirecorder-camera
    model: FCM-OB20
`

const started = sharedLab(YAML)

describe("camera discovery", () => {
  it("finds every lab camera on both discovery ports", async () => {
    const lobby = await waitForEvent(started(), "camera-discovered", (e) => e.device === "faz-1" && e.name === "lobby")
    const dock = await waitForEvent(started(), "camera-discovered", (e) => e.device === "faz-1" && e.name === "dock")
    expect(dock).toMatchObject({ model: "FCM-OB20", address: started().lab.plan.addressOf("dock") })
    expect(lobby.model).toBe("FCM-MB40")
    const faz = analyzer(started().lab, "faz-1")
    // Each camera answers on both ports, and is one camera.
    for (const name of ["lobby", "dock"]) {
      for (const port of ["udp/6666", "udp/59123"]) await waitForEvent(started(), "camera-discovered", (e) => e.device === "faz-1" && e.name === name && e.port === port)
    }
    const seen = [...faz.cameras.cameras.values()].map((c) => `${c.name} ${[...c.ports].sort().join(",")}`).sort()
    expect(seen).toEqual(["dock udp/59123,udp/6666", "lobby udp/59123,udp/6666"])
    expect(analyzer(started().lab, "faz-quiet").cameras.cameras.size).toBe(0)
  })

  it("answers nothing to a datagram that is not a DISCOVER, and counts it with a sentence", async () => {
    const { address, actualPort } = started().lab.plan.resolve("dock", "udp/59123")
    const socket = dgram.createSocket("udp4")
    onTestFinished(() => {
      socket.close()
    })
    const from = started().events.length
    socket.send("HELLO?", actualPort, address)
    const refused = await waitForEvent(started(), "recorder-refused", (e) => e.device === "dock", { from })
    expect(refused).toMatchObject({ port: "udp/59123", code: "bad-discovery", reason: "\"HELLO?\" is not an FRCAM DISCOVER datagram (bad-discovery; 1 so far)" })
    expect((started().lab.device("dock") as FortiRecorderCamera).refused).toBe(1)
  })
})
