/**
 * `fazlab logs` says on stderr when `--limit` (or its default, 100) cut what it printed: how many
 * more logs match and how to get them; nothing when everything matching was printed. Read from a
 * stopped lab's store (a lab.json and a file store written here), through the built command.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LAB_INFO_FILE } from "../../src/cli/lab-flags.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"
import { logRecord, T0 } from "../support/records.ts"

describe("fazlab logs --limit", () => {
  let lab = ""

  beforeAll(() => {
    lab = tempDir()
    const storeFile = path.join(lab, "faz-1", "logs.sqlite")
    fs.mkdirSync(path.dirname(storeFile), { recursive: true })
    const store = LogStore.open({ path: storeFile })
    store.append(Array.from({ length: 150 }, (_, i) => logRecord({ receivedAt: T0 + i, seq: i + 1, device: i % 3 === 0 ? "fgt-2" : "fgt-1", raw: `devname="fgt" n=${i + 1}` })))
    store.close()
    fs.writeFileSync(path.join(lab, LAB_INFO_FILE), JSON.stringify({ name: "limit-lab", pid: 0, startedAt: new Date(T0).toISOString(), analyzers: [{ id: "faz-1", store: storeFile }] }))
  })

  afterAll(removeTempDirs)

  it("the default limit of 100 cuts 150 logs: stderr says 50 more match and how to get them", async () => {
    const result = await runFazlab(["logs", "--json", "--lab", lab], { cwd: lab })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(100)
    expect(result.stderr).toBe("fazlab logs: 50 more logs match than the 100 printed (the newest); raise --limit (e.g. --limit 150) or narrow with --device, --type, --level or --text\n")
  })

  it("counts with the filters: --device fgt-2 --limit 10 leaves 40 of fgt-2's 50", async () => {
    const result = await runFazlab(["logs", "--device", "fgt-2", "--limit", "10", "--lab", lab], { cwd: lab })
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(10)
    expect(result.stderr).toContain("fazlab logs: 40 more logs match than the 10 printed")
  })

  it("a text search counts among the logs it looked at", async () => {
    const result = await runFazlab(["logs", "--text", "n=1", "--limit", "5", "--lab", lab], { cwd: lab })
    // n=1, n=10..19, n=100..150: 1 + 10 + 51 = 62 match.
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(5)
    expect(result.stderr).toContain("fazlab logs: 57 more logs match than the 5 printed")
  })

  it("says nothing when every matching log was printed", async () => {
    const result = await runFazlab(["logs", "--limit", "150", "--lab", lab], { cwd: lab })
    expect(result).toMatchObject({ code: 0, stderr: "" })
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(150)
  })
})
