/**
 * The lab as Kubernetes manifests, one multi-document YAML: the lab file as a ConfigMap; one
 * Deployment and one Service per device, named by its id (its DNS name in the namespace); one
 * Service per HA group selecting its members, of which only the acting primary is ready (its
 * readiness probe is the virtual IP's TCP/514, which only the primary listens on); the control
 * channel as a Deployment and a Service; and the firewall as NetworkPolicies: the lab's pods
 * refuse every incoming connection by default, then one policy per allowed flow of the port
 * catalog (the `fazlab.dev/flow` annotation names the probe's flow id), one per link the lab
 * file makes between devices (FGFM to a FortiManager, log forwarding ...), and one for the
 * nodes' control channel.
 *
 * Pods run as a non-root user with every capability dropped and a read-only root file system;
 * documented ports below 1024 open through the `net.ipv4.ip_unprivileged_port_start` sysctl of
 * the pod's own network namespace (a safe sysctl since Kubernetes 1.22). The control token is a
 * Secret the user creates (`<lab>-control-token`, key `token`): it is never written to a file;
 * so is the lab CA (`<lab>-pki`, keys ca.pem and ca.key from `fazlab export pki`), mounted into
 * every device's pod.
 */
import { createHash } from "node:crypto"
import { slug } from "../probe/flows.ts"
import {
  CONTROL_NAME,
  CONTROL_PORT,
  controlArgs,
  DATA_DIR,
  type ExportModel,
  type ExportPort,
  LAB_FILE_IN_CONTAINER,
  labelValue,
  nodeArgs,
  PKI_DIR_IN_CONTAINER,
  toYaml
} from "./model.ts"
import { TOKEN_VARIABLE } from "../placement/setup.ts"

const LAB_LABEL = "fazlab.dev/lab"
const DEVICE_LABEL = "fazlab.dev/device"

/** A Kubernetes object name of at most 63 characters: cut, with a short hash so two long names stay apart. */
const objectName = (text: string): string => {
  const name = slug(text)
  return name.length <= 63 ? name : `${name.slice(0, 56).replace(/-+$/u, "")}-${createHash("sha256").update(name).digest("hex").slice(0, 6)}`
}

const portName = (port: ExportPort): string => `${port.protocol.toLowerCase()}-${port.port}`

export const tokenSecretName = (lab: string): string => objectName(`${lab}-control-token`)
export const pkiSecretName = (lab: string): string => objectName(`${lab}-pki`)

export const renderKubernetes = (model: ExportModel, labFileText: string): string => {
  const lab = labelValue(model.lab)
  const configMap = objectName(`${lab}-lab`)
  const labels = (extra: Readonly<Record<string, string>>) => ({ "app.kubernetes.io/part-of": "fazlab", [LAB_LABEL]: lab, ...extra })
  /** A device's pod (`pki`: the lab CA mounted) or the control channel's. */
  const podSpec = (args: ReadonlyArray<string>, ports: ReadonlyArray<ExportPort>, readiness: ExportPort | null, pki: boolean) => ({
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
      sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }]
    },
    containers: [{
      name: "fazlab",
      image: model.image,
      args: [...args],
      workingDir: DATA_DIR,
      env: [{ name: TOKEN_VARIABLE, valueFrom: { secretKeyRef: { name: tokenSecretName(lab), key: "token" } } }],
      ports: ports.map((port) => ({ name: portName(port), containerPort: port.port, protocol: port.protocol })),
      ...(readiness === null ? {} : { readinessProbe: { tcpSocket: { port: readiness.port }, periodSeconds: 2, failureThreshold: 1 } }),
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      volumeMounts: [
        { name: "lab", mountPath: LAB_FILE_IN_CONTAINER, subPath: "lab.yaml", readOnly: true },
        { name: "data", mountPath: DATA_DIR },
        ...(pki ? [{ name: "pki", mountPath: PKI_DIR_IN_CONTAINER, readOnly: true }] : [])
      ]
    }],
    volumes: [
      { name: "lab", configMap: { name: configMap } },
      { name: "data", emptyDir: {} },
      ...(pki ? [{ name: "pki", secret: { secretName: pkiSecretName(lab) } }] : [])
    ]
  })
  const deployment = (name: string, podLabels: Readonly<Record<string, string>>, spec: ReturnType<typeof podSpec>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: podLabels },
    spec: {
      replicas: 1,
      // One node per device: never two at once.
      strategy: { type: "Recreate" },
      selector: { matchLabels: { [LAB_LABEL]: lab, [DEVICE_LABEL]: podLabels[DEVICE_LABEL] ?? name } },
      template: { metadata: { labels: podLabels }, spec }
    }
  })
  const service = (name: string, selector: Readonly<Record<string, string>>, ports: ReadonlyArray<ExportPort>, extra: Readonly<Record<string, string>> = {}) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: labels(extra) },
    // A device that listens on no port (a FortiGate) still gets its DNS name: a headless Service.
    spec: ports.length === 0
      ? { selector, clusterIP: "None" }
      : { selector, ports: ports.map((port) => ({ name: portName(port), port: port.port, targetPort: port.port, protocol: port.protocol })) }
  })
  const devicePods = (ids: ReadonlyArray<string>) => ({ matchLabels: { [LAB_LABEL]: lab }, matchExpressions: [{ key: DEVICE_LABEL, operator: "In", values: [...ids] }] })
  const policy = (name: string, annotations: Readonly<Record<string, string>>, to: ReadonlyArray<string>, from: ReadonlyArray<string> | null, ports: ReadonlyArray<ExportPort>) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: objectName(`${lab}-${name}`), labels: labels({}), annotations },
    spec: {
      podSelector: devicePods(to),
      policyTypes: ["Ingress"],
      ingress: [{
        ...(from === null ? {} : { from: [{ podSelector: devicePods(from) }] }),
        ports: ports.map((port) => ({ protocol: port.protocol, port: port.port }))
      }]
    }
  })
  const controlPort: ExportPort = { protocol: "TCP", port: CONTROL_PORT }
  const documents: Array<unknown> = [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: configMap, labels: labels({}) }, data: { "lab.yaml": labFileText } },
    deployment(CONTROL_NAME, labels({ [DEVICE_LABEL]: CONTROL_NAME }), podSpec(controlArgs, [controlPort], null, false)),
    service(CONTROL_NAME, { [LAB_LABEL]: lab, [DEVICE_LABEL]: CONTROL_NAME }, [controlPort]),
    ...model.devices.flatMap((device) => {
      const vip = model.groups.find((group) => group.name === device.group)
      const readiness = vip?.ports.find((port) => port.protocol === "TCP" && port.port === 514) ?? null
      const podLabels = labels({ [DEVICE_LABEL]: device.id, "fazlab.dev/kind": device.kind, ...(device.group === null ? {} : { "fazlab.dev/ha-group": device.group }) })
      const own = device.ports.filter((port) => !(vip?.ports.some((p) => p.port === port.port && p.protocol === port.protocol) ?? false))
      return [
        deployment(device.id, podLabels, podSpec(nodeArgs(device), device.ports, readiness, true)),
        service(device.id, { [LAB_LABEL]: lab, [DEVICE_LABEL]: device.id }, own, { [DEVICE_LABEL]: device.id })
      ]
    }),
    // The virtual IP: a Service over the members; only the acting primary is ready.
    ...model.groups.map((group) => service(group.name, { [LAB_LABEL]: lab, "fazlab.dev/ha-group": group.name }, group.ports, { "fazlab.dev/ha-group": group.name })),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: objectName(`${lab}-deny-by-default`), labels: labels({}) },
      spec: { podSelector: { matchLabels: { [LAB_LABEL]: lab } }, policyTypes: ["Ingress"] }
    },
    policy("control-channel", { "fazlab.dev/purpose": "the nodes dial the lab's control channel" }, [CONTROL_NAME], model.devices.map((device) => device.id), [controlPort]),
    ...model.flows.map((flow) => policy(`flow-${flow.flow.id}`, { "fazlab.dev/flow": flow.flow.id, "fazlab.dev/rows": flow.flow.rows.map((row) => row.id).join(",") }, flow.destinations, flow.sources, [flow.port])),
    ...model.links.map((link) => policy(`link-${link.from}-${link.to}`, { "fazlab.dev/link": `${link.from} dials ${link.to}` }, link.devices, [link.from], link.ports))
  ]
  return documents.map((document) => `---\n${toYaml(document)}`).join("")
}
