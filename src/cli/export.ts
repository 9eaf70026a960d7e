/**
 * `fazlab export compose|k8s|containerlab LAB.yaml [--out FILE] [--image IMAGE] [--expect FILE]`
 * `fazlab export pki LAB.yaml [--out DIR] [--data-dir DIR]`
 *
 * Writes the lab as a Docker Compose file, Kubernetes manifests or a containerlab topology: one
 * `fazlab node` container per device, one `fazlab-control` container for the control channel,
 * peers addressed by DNS name (src/export/). For Kubernetes, a NetworkPolicy per allowed flow of
 * the port catalog (`--expect FILE` leaves out the flows it denies). Without `--out` it prints
 * to stdout. `pki` writes the lab's CA (from its data folder, made there first when the lab has
 * none) as ca.pem and ca.key into DIR (default ./pki): the folder every device's container
 * mounts. Exit 0 written, 2 bad input.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { renderCompose } from "../export/compose.ts"
import { renderContainerlab } from "../export/containerlab.ts"
import { pkiSecretName, renderKubernetes, tokenSecretName } from "../export/k8s.ts"
import { DEFAULT_IMAGE, exportModel, labelValue, PKI_DIR } from "../export/model.ts"
import { loadScenario } from "../lab/scenario/load.ts"
import { exportLabCa, PkiError } from "../net/pki.ts"
import { defaultDataDir } from "./lab-flags.ts"
import type { CommandHelp } from "./help.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { readExpectations } from "./probe.ts"

export const help: CommandHelp = {
  usage: ["fazlab export compose|k8s|containerlab LAB.yaml [--out FILE] [--image IMAGE] [--expect FILE]", "fazlab export pki LAB.yaml [--out DIR] [--data-dir DIR]"],
  summary:
    "Writes the lab as a Docker Compose file, Kubernetes manifests (Deployment and Service per device, the control channel as a Service, a NetworkPolicy per allowed flow) or a containerlab topology, each device a fazlab node container; pki writes the lab CA the containers share.",
  flags: [
    ["compose|k8s|containerlab|pki", "the format; pki: the lab CA (ca.pem, ca.key) for every device's container"],
    ["LAB.yaml", "the lab file"],
    ["--out FILE", "write there instead of stdout (pki: the folder, default ./pki)"],
    ["--data-dir DIR", "pki: the lab's data folder whose CA to write (default .fazlab/<lab name>; made there when the lab has none)"],
    ["--image IMAGE", `the fazlab image built from the Dockerfile (default ${DEFAULT_IMAGE})`],
    ["--expect FILE", "k8s: a probe expectations file; flows it denies get no NetworkPolicy"]
  ],
  examples: [
    "fazlab export compose scenarios/firewall-regression.yaml --out compose.yaml",
    "fazlab export k8s lab.yaml --image registry.example.net/fazlab:0.1.0 | kubectl apply -n fazlab -f -",
    "fazlab export containerlab lab.yaml --out lab.clab.yaml",
    "fazlab export pki lab.yaml --out pki"
  ]
}

const FORMATS = ["compose", "k8s", "containerlab", "pki"] as const

export const exportLab: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { out: { type: "string" }, image: { type: "string" }, expect: { type: "string" }, "data-dir": { type: "string" } }
  })
  const [format, file, ...extra] = positionals
  if (format === undefined || !(FORMATS as ReadonlyArray<string>).includes(format)) {
    throw new UsageError(`give the format first: fazlab export compose|k8s|containerlab|pki LAB.yaml${format === undefined ? "" : ` (got "${format}")`}`)
  }
  if (file === undefined || extra.length > 0) throw new UsageError(`fazlab export ${format} takes one lab file`)
  if (values.expect !== undefined && format !== "k8s") throw new UsageError("--expect shapes the Kubernetes NetworkPolicies; it goes with fazlab export k8s")
  if (values["data-dir"] !== undefined && format !== "pki") throw new UsageError("--data-dir names the lab whose CA fazlab export pki writes; it goes with pki")
  const labPath = path.resolve(io.cwd, file)
  const scenario = await loadScenario(labPath, { stepsRequired: false })
  if (format === "pki") {
    const out = path.resolve(io.cwd, values.out ?? PKI_DIR)
    const dataDir = path.resolve(io.cwd, values["data-dir"] ?? defaultDataDir(io.cwd, scenario.name))
    const pki = await exportLabCa({ dir: dataDir, labName: scenario.name }, out).catch((error: unknown) => {
      throw error instanceof PkiError ? new UsageError(error.message) : error
    })
    io.stdout(`wrote the CA of lab ${scenario.name} (SHA-256 ${pki.fingerprint}) to ${path.relative(io.cwd, out) || "."}: ca.pem, ca.key (keep it private; mount it read-only at /etc/fazlab/pki)\n`)
    return ExitCode.Ok
  }
  const model = exportModel(scenario, values.image ?? DEFAULT_IMAGE, readExpectations(io, values.expect))
  if (typeof model === "string") throw new UsageError(model)
  const out = values.out === undefined ? null : path.resolve(io.cwd, values.out)
  // Compose and containerlab name the lab file relative to the file they are in.
  const from = out === null ? io.cwd : path.dirname(out)
  const reference = (target: string) => {
    const relative = path.relative(from, target)
    return relative.startsWith(".") || path.isAbsolute(relative) ? relative : `./${relative}`
  }
  const labRef = reference(labPath)
  // The lab CA's folder beside the exported file, where fazlab export pki writes it by default.
  const pkiRef = reference(path.join(from, PKI_DIR))
  const text = format === "compose"
    ? renderCompose(model, labRef, pkiRef)
    : format === "containerlab"
    ? renderContainerlab(model, labRef, pkiRef)
    : renderKubernetes(model, fs.readFileSync(labPath, "utf8"))
  if (out === null) io.stdout(text)
  else {
    try {
      fs.writeFileSync(out, text)
    } catch (error) {
      throw new UsageError(`cannot write ${values.out} (${(error as NodeJS.ErrnoException).code ?? "unwritable"}); check the folder`)
    }
    const lab = labelValue(model.lab)
    io.stderr(`wrote ${values.out}; ${format === "k8s"
      ? `create the control token and the lab CA first: kubectl create secret generic ${tokenSecretName(lab)} --from-literal=token=$(openssl rand -base64 32 | tr -d /+=) && fazlab export pki ${file} --out pki && kubectl create secret generic ${pkiSecretName(lab)} --from-file=pki/ca.pem --from-file=pki/ca.key`
      : `write the lab CA beside it first: fazlab export pki ${file} --out ${path.relative(io.cwd, path.join(from, PKI_DIR))}`}\n`)
  }
  return ExitCode.Ok
}
