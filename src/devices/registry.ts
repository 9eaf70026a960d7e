/**
 * The device kinds fazlab knows, one line each. A kind is a folder under `src/devices/<kind>/`
 * whose `kind.ts` exports one descriptor (`kind.ts` in this folder says what it holds); adding a
 * kind is adding its folder and its line here (docs/extending.md).
 *
 * The scenario schema and its JSON Schema, the loader's reference checks, the lab's construction,
 * start order and port plan, and serial lookup all read the kinds from a `KindRegistry`. The
 * shipped one is `registry`; a test may build its own with a kind that is not shipped.
 */
import { fortianalyzer } from "./fortianalyzer/kind.ts"
import { forticlient } from "./forticlient/kind.ts"
import { fortigate } from "./fortigate/kind.ts"
import { fortimanager } from "./fortimanager/kind.ts"
import { fortiportal } from "./fortiportal/kind.ts"
import { fortirecorder } from "./fortirecorder/kind.ts"
import { fortirecorderCamera } from "./fortirecorder-camera/kind.ts"
import { dnsServer } from "./dns-server/kind.ts"
import { fortiguard } from "./fortiguard/kind.ts"
import { fortinetRegistry } from "./fortinet-registry/kind.ts"
import { ldapServer } from "./ldap-server/kind.ts"
import { ntpServer } from "./ntp-server/kind.ts"
import { radiusServer } from "./radius-server/kind.ts"
import { smtpRelay } from "./smtp-relay/kind.ts"
import { fileServer } from "./file-server/kind.ts"
import type { DeviceKind, DeviceSpec } from "./kind.ts"

/** Every kind fazlab ships, in the order `kind:` lists them in errors and the JSON Schema. */
export const shippedKinds: ReadonlyArray<DeviceKind> = [
  fortianalyzer,
  fortigate,
  forticlient,
  fortimanager,
  fortiportal,
  fortirecorder,
  fortirecorderCamera,
  smtpRelay,
  dnsServer,
  ntpServer,
  fortiguard,
  fortinetRegistry,
  fileServer,
  ldapServer,
  radiusServer
]

export class KindRegistry {
  readonly kinds: ReadonlyArray<DeviceKind>
  readonly #byName: ReadonlyMap<string, DeviceKind>

  constructor(kinds: ReadonlyArray<DeviceKind>) {
    const byName = new Map<string, DeviceKind>()
    const prefixes = new Map<string, string>()
    for (const kind of kinds) {
      if (byName.has(kind.name)) throw new Error(`device kind ${kind.name} is registered twice`)
      const other = prefixes.get(kind.serialPrefix)
      if (other !== undefined) throw new Error(`device kinds ${other} and ${kind.name} share the serial prefix ${kind.serialPrefix}`)
      byName.set(kind.name, kind)
      prefixes.set(kind.serialPrefix, kind.name)
    }
    this.kinds = kinds
    this.#byName = byName
  }

  get names(): ReadonlyArray<string> {
    return this.kinds.map((kind) => kind.name)
  }

  /** The kind of a decoded device (the schema admits registered kinds only). */
  of(spec: Pick<DeviceSpec, "kind">): DeviceKind {
    const kind = this.#byName.get(spec.kind)
    if (kind === undefined) throw new Error(`device kind ${spec.kind} is not registered`)
    return kind
  }

  /** The default serial of the n-th device (1-based) of a kind, in file order: FAZ-VM0000000001, FGVM010000000001, FCT0000000001. */
  defaultSerial(kind: string, n: number): string {
    return `${this.#byName.get(kind)?.serialPrefix ?? ""}${String(n).padStart(10, "0")}`
  }
}

/** The kinds fazlab ships. */
export const registry = new KindRegistry(shippedKinds)
