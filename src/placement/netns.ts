/**
 * A netns lab's network on the host (Linux, root): the namespaces, bridges and veth pairs of its
 * `NetnsPlan` made with `ip` (iproute2), the router's nftables file loaded unchanged with
 * `nft -f`, and all of it removed again, also after the lab was killed (`teardownNetns`, by the
 * lab's name).
 *
 * Each zone is a bridge in the router's namespace whose ports are isolated from each other, with
 * proxy ARP for the private VLAN on: two devices of one zone reach each other only through the
 * router, so the router's forward chain (the user's nftables rules) sees every flow between
 * devices, in one zone or between zones. An HA primary's virtual IP is announced to the router
 * with a gratuitous ARP (`takeAddress`, run inside the device's namespace).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { PortKey } from "../events/events.ts"
import { BindError } from "../net/errors.ts"
import { DEVICE_INTERFACE, type NetnsPlan, namespacePrefix, routerNamespace } from "./netns-plan.ts"

export class NetnsError extends Error {
  override readonly name = "NetnsError"
}

interface Ran {
  readonly ok: boolean
  readonly output: string
}

const run = (command: string, args: ReadonlyArray<string>): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(command, [...args], { encoding: "utf8", timeout: 10_000 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code
      resolve({ ok: error === null, output: code === "ENOENT" ? `${command} is not installed` : `${stdout}${stderr}`.trim() })
    })
  })

const must = async (command: string, args: ReadonlyArray<string>): Promise<string> => {
  const ran = await run(command, args)
  if (!ran.ok) throw new NetnsError(`${command} ${args.join(" ")} failed: ${ran.output.split("\n")[0] ?? ""}`)
  return ran.output
}

const NO_SUPPORT = "use --placement process (one process per device on loopback) or in-process instead"

/** Why this host cannot make network namespaces, in one sentence; null when it can. */
export const netnsProblem = async (): Promise<string | null> => {
  if (process.platform !== "linux") return `network-namespace labs need Linux, and this is ${process.platform}; ${NO_SUPPORT}`
  if (process.getuid?.() !== 0) return `network-namespace labs need root (to make namespaces, links and nftables rules); run fazlab as root, or ${NO_SUPPORT}`
  const ip = await run("ip", ["netns", "list"])
  if (!ip.ok) return `network-namespace labs need ip (iproute2) with namespace support, and ip netns list failed (${ip.output.split("\n")[0] ?? ""}); ${NO_SUPPORT}`
  return null
}

/** The namespaces of a lab that exist now: its router's and those named after its devices. */
export const labNamespaces = async (lab: string): Promise<ReadonlyArray<string>> => {
  const listed = await run("ip", ["netns", "list"])
  if (!listed.ok) return []
  return listed.output.split("\n").map((line) => line.split(" ")[0] ?? "").filter((name) => name === routerNamespace(lab) || name.startsWith(namespacePrefix(lab))).toSorted()
}

/** Ends every process in `namespace` (SIGKILL) and deletes it; its links go with it. */
const removeNamespace = async (namespace: string): Promise<void> => {
  const pids = await run("ip", ["netns", "pids", namespace])
  for (const pid of pids.output.split("\n").map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid)) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Gone already.
    }
  }
  await run("ip", ["netns", "delete", namespace])
}

/** Removes every namespace (with its processes and links) of the lab named `lab`; the names removed. */
export const teardownNetns = async (lab: string): Promise<ReadonlyArray<string>> => {
  const namespaces = await labNamespaces(lab)
  for (const namespace of namespaces) await removeNamespace(namespace)
  return namespaces
}

/** Makes the lab's network; on a failure removes what it made and throws a `NetnsError`. */
export const buildNetns = async (plan: NetnsPlan, nftables: string | null): Promise<void> => {
  const leftovers = await labNamespaces(plan.lab)
  if (leftovers.length > 0) {
    throw new NetnsError(`lab ${plan.lab} has namespaces left from an earlier run (${leftovers.join(", ")}); if that lab is not running any more, remove them with fazlab down --netns ${plan.lab}`)
  }
  if (nftables !== null && !fs.existsSync(nftables)) throw new NetnsError(`the nftables file ${nftables} (netns.nftables) does not exist; fix the path (it is relative to the lab file)`)
  const router = plan.router
  const sysctl = (namespace: string, settings: ReadonlyArray<string>) => must("ip", ["netns", "exec", namespace, "sysctl", "-qw", ...settings])
  try {
    await must("ip", ["netns", "add", router])
    await must("ip", ["-n", router, "link", "set", "lo", "up"])
    await sysctl(router, ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"])
    for (const zone of plan.zones) {
      await must("ip", ["-n", router, "link", "add", zone.bridge, "type", "bridge"])
      await must("ip", ["-n", router, "addr", "add", `${zone.gateway}/${plan.prefix}`, "dev", zone.bridge])
      await must("ip", ["-n", router, "link", "set", zone.bridge, "up"])
      // proxy_delay 0: the router answers for the zone at once (its default waits up to 0.8 s).
      await sysctl(router, [
        `net.ipv4.conf.${zone.bridge}.proxy_arp=1`,
        `net.ipv4.conf.${zone.bridge}.proxy_arp_pvlan=1`,
        `net.ipv4.conf.${zone.bridge}.send_redirects=0`,
        `net.ipv4.neigh.${zone.bridge}.proxy_delay=0`
      ])
    }
    for (const device of plan.devices.values()) {
      const zone = plan.zones.find((z) => z.name === device.zone)
      if (zone === undefined) throw new Error(`bug: ${device.id} is in no zone`)
      const ns = device.namespace
      await must("ip", ["netns", "add", ns])
      await must("ip", ["-n", ns, "link", "set", "lo", "up"])
      await must("ip", ["link", "add", device.link, "netns", router, "type", "veth", "peer", "name", DEVICE_INTERFACE, "netns", ns])
      await must("ip", ["-n", router, "link", "set", device.link, "master", zone.bridge])
      await must("ip", ["-n", router, "link", "set", device.link, "type", "bridge_slave", "isolated", "on"])
      await must("ip", ["-n", router, "link", "set", device.link, "up"])
      await must("ip", ["-n", ns, "addr", "add", `${device.address}/${plan.prefix}`, "dev", DEVICE_INTERFACE])
      await must("ip", ["-n", ns, "link", "set", DEVICE_INTERFACE, "up"])
      await must("ip", ["-n", ns, "route", "add", "default", "via", device.gateway])
    }
    if (nftables !== null) {
      const loaded = await run("ip", ["netns", "exec", router, "nft", "-f", nftables])
      if (!loaded.ok) throw new NetnsError(`nft -f ${nftables} refused the rule file: ${loaded.output.split("\n").slice(0, 3).join(" ")}; fix the file (it is loaded unchanged in the lab's router)`)
    }
  } catch (error) {
    await teardownNetns(plan.lab)
    throw error instanceof NetnsError ? error : new NetnsError(`cannot build the network of lab ${plan.lab}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * The device's side, run in its own namespace (a netns node): an address put on its interface
 * while the scope is open (an HA primary's virtual IP), announced to the zone with a gratuitous
 * ARP (`arping -U`, iputils-arping), taken off when the scope closes. `claim` asks the lab first:
 * while another device holds the address it fails as a bind would (EADDRINUSE), so two primaries
 * of a split brain do not both put it on the network.
 */
export const takeAddress = (
  device: string,
  claim: (address: string, take: boolean) => Promise<string | null>
) =>
(address: string, port: PortKey): Effect.Effect<void, BindError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const holder = await claim(address, true)
        if (holder !== null) throw new Error(`${address} is held by ${holder}`)
        const added = await run("ip", ["addr", "add", `${address}/32`, "dev", DEVICE_INTERFACE])
        if (!added.ok && !added.output.includes("File exists")) {
          await claim(address, false)
          throw new Error(`ip addr add ${address}/32 failed: ${added.output}`)
        }
        // Not waited for: the router learns the new holder as the ARP arrives.
        void run("arping", ["-U", "-c", "1", "-w", "1", "-I", DEVICE_INTERFACE, address])
      },
      catch: (error) =>
        new BindError({
          device,
          port,
          address,
          actualPort: 0,
          code: "EADDRINUSE",
          reason: error instanceof Error ? error.message : String(error)
        })
    }),
    () =>
      Effect.promise(async () => {
        await run("ip", ["addr", "del", `${address}/32`, "dev", DEVICE_INTERFACE])
        await claim(address, false).catch(() => null)
      })
  )
