/**
 * The Dockerfile, checked without a container engine: the image runs fazlab as a non-root user,
 * its entry point is the fazlab command, everything it copies from the build context exists, and
 * its comment names every documented port below 1024 a shipped kind listens on (the ports that
 * need the sysctl or the capability it documents).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { registry } from "../../src/devices/registry.ts"
import { REPO_ROOT } from "../support/cli.ts"

const text = fs.readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8")
const lines = text.split("\n")
const finalStage = lines.slice(lines.map((line) => line.startsWith("FROM ")).lastIndexOf(true))

describe("Dockerfile", () => {
  it("runs the fazlab command as a non-root user in its final stage", () => {
    expect(finalStage.filter((line) => line.startsWith("USER "))).toEqual(["USER node"])
    expect(finalStage).toContain("ENTRYPOINT [\"node\", \"/app/bin/fazlab.js\"]")
    expect(finalStage.some((line) => /^COPY --from=build \/app\/dist\/bundle /u.test(line))).toBe(true)
  })

  it("copies only what exists in the build context", () => {
    const sources = lines.filter((line) => line.startsWith("COPY ") && !line.includes("--from=")).flatMap((line) => line.split(/\s+/u).slice(1, -1))
    expect(sources.length).toBeGreaterThan(3)
    for (const source of sources) expect(fs.existsSync(path.join(REPO_ROOT, source)), source).toBe(true)
  })

  it("documents every port below 1024 that a shipped kind listens on", () => {
    const ports = new Set(registry.kinds.flatMap((kind) => kind.listens("x", null).map((planned) => planned.port)))
    const low = [...ports].filter((key) => Number(key.split("/")[1]) < 1024)
    expect(low.length).toBeGreaterThan(5)
    for (const key of low) expect(text, key).toContain(key.toUpperCase())
  })
})
