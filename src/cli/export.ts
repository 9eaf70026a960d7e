/**
 * `fazlab export compose|k8s|containerlab LAB.yaml [--out FILE] [--image IMAGE] [--expect FILE]`
 *
 * Writes the lab as a Docker Compose file, Kubernetes manifests or a containerlab topology: one
 * `fazlab node` container per device, one `fazlab-control` container for the control channel,
 * peers addressed by DNS name (src/export/). For Kubernetes, a NetworkPolicy per allowed flow of
 * the port catalog (`--expect FILE` leaves out the flows it denies). Without `--out` it prints
 * to stdout. Exit 0 written, 2 bad input.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { renderCompose } from "../export/compose.ts"
import { renderContainerlab } from "../export/containerlab.ts"
import { renderKubernetes, tokenSecretName } from "../export/k8s.ts"
import { DEFAULT_IMAGE, exportModel, labelValue } from "../export/model.ts"
import { loadScenario } from "../lab/scenario/load.ts"
import type { CommandHelp } from "./help.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { readExpectations } from "./probe.ts"

export const help: CommandHelp = {
  usage: ["fazlab export compose|k8s|containerlab LAB.yaml [--out FILE] [--image IMAGE] [--expect FILE]"],
  summary:
    "Writes the lab as a Docker Compose file, Kubernetes manifests (Deployment and Service per device, the control channel as a Service, a NetworkPolicy per allowed flow) or a containerlab topology, each device a fazlab node container.",
  flags: [
    ["compose|k8s|containerlab", "the format"],
    ["LAB.yaml", "the lab file"],
    ["--out FILE", "write there instead of stdout"],
    ["--image IMAGE", `the fazlab image built from the Dockerfile (default ${DEFAULT_IMAGE})`],
    ["--expect FILE", "k8s: a probe expectations file; flows it denies get no NetworkPolicy"]
  ],
  examples: [
    "fazlab export compose scenarios/firewall-regression.yaml --out compose.yaml",
    "fazlab export k8s lab.yaml --image registry.example.net/fazlab:0.1.0 | kubectl apply -n fazlab -f -",
    "fazlab export containerlab lab.yaml --out lab.clab.yaml"
  ]
}

const FORMATS = ["compose", "k8s", "containerlab"] as const

export const exportLab: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { out: { type: "string" }, image: { type: "string" }, expect: { type: "string" } }
  })
  const [format, file, ...extra] = positionals
  if (format === undefined || !(FORMATS as ReadonlyArray<string>).includes(format)) {
    throw new UsageError(`give the format first: fazlab export compose|k8s|containerlab LAB.yaml${format === undefined ? "" : ` (got "${format}")`}`)
  }
  if (file === undefined || extra.length > 0) throw new UsageError(`fazlab export ${format} takes one lab file`)
  if (values.expect !== undefined && format !== "k8s") throw new UsageError("--expect shapes the Kubernetes NetworkPolicies; it goes with fazlab export k8s")
  const labPath = path.resolve(io.cwd, file)
  const scenario = await loadScenario(labPath, { stepsRequired: false })
  const model = exportModel(scenario, values.image ?? DEFAULT_IMAGE, readExpectations(io, values.expect))
  if (typeof model === "string") throw new UsageError(model)
  const out = values.out === undefined ? null : path.resolve(io.cwd, values.out)
  // Compose and containerlab name the lab file relative to the file they are in.
  const relative = path.relative(out === null ? io.cwd : path.dirname(out), labPath)
  const labRef = relative.startsWith(".") || path.isAbsolute(relative) ? relative : `./${relative}`
  const text = format === "compose"
    ? renderCompose(model, labRef)
    : format === "containerlab"
    ? renderContainerlab(model, labRef)
    : renderKubernetes(model, fs.readFileSync(labPath, "utf8"))
  if (out === null) io.stdout(text)
  else {
    try {
      fs.writeFileSync(out, text)
    } catch (error) {
      throw new UsageError(`cannot write ${values.out} (${(error as NodeJS.ErrnoException).code ?? "unwritable"}); check the folder`)
    }
    io.stderr(`wrote ${values.out}${format === "k8s" ? `; create the control token first: kubectl create secret generic ${tokenSecretName(labelValue(model.lab))} --from-literal=token=$(openssl rand -base64 32 | tr -d /+=)` : ""}\n`)
  }
  return ExitCode.Ok
}
