/**
 * The README's test command on a machine without the tools the tests use: `npm test`'s pretest
 * (test/tools.ts) stops before any test with one sentence naming the Debian packages, checked by
 * hiding the tools from PATH (a folder with only node, npm and sh). With every tool on PATH it says
 * nothing and lets the tests run.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ensureTestTools } from "./tools.ts"
import { REPO_ROOT, removeTempDirs, tempDir } from "./support/cli.ts"

/** A PATH folder holding only node, npm and the sh npm runs scripts with (the tools the tests run are hidden). */
const bareBin = (): string => {
  const dir = tempDir("fazlab-bare-path-")
  fs.symlinkSync(process.execPath, path.join(dir, "node"))
  for (const command of ["npm", "sh"]) {
    fs.symlinkSync(spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim(), path.join(dir, command))
  }
  return dir
}

const SENTENCE = "fazlab tests: logger, openssl, curl, tmux, rsyslogd, snmptrapd, swaks, Perl IO::Socket::SSL, Perl Net::SSLeay, dig, ldapsearch, ldapwhoami, ldapadd, radclient, sntp, ssh, ssh-keygen, ssh-keyscan, sftp, scp, expect, xmllint, ip, nmap, smbclient, nft, arping, sysctl, pdftotext, unzip are not on PATH; install the Debian packages bsdutils, openssl, curl, tmux, rsyslog, snmptrapd, swaks, libio-socket-ssl-perl, libnet-ssleay-perl, dnsutils, ldap-utils, freeradius-utils, sntp, openssh-client, expect, libxml2-utils, iproute2, nmap, smbclient, nftables, iputils-arping, procps, poppler-utils, unzip (apt-get install -y --no-install-recommends bsdutils openssl curl tmux rsyslog snmptrapd swaks libio-socket-ssl-perl libnet-ssleay-perl dnsutils ldap-utils freeradius-utils sntp openssh-client expect libxml2-utils iproute2 nmap smbclient nftables iputils-arping procps poppler-utils unzip), or run npm test as root on Debian to have them installed, then run npm test again\n"

describe("the tools the tests need", () => {
  afterAll(removeTempDirs)

  it("with every tool on PATH: nothing to say, the tests run", () => {
    let said = ""
    expect(ensureTestTools(process.env, (text) => (said += text))).toBe(0)
    expect(said).toBe("")
  })

  it("npm test on a PATH without the tools stops before any test, in one sentence naming the packages", () => {
    // The repository's own pretest, and a test script that only says it ran: the real one would
    // start this suite again if the pretest let it through.
    const { scripts } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    expect(scripts["pretest"]).toBe("node test/tools.ts")
    const project = tempDir("fazlab-bare-project-")
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "bare", private: true, scripts: { pretest: scripts["pretest"], test: "echo TESTS-RAN" } }))
    fs.mkdirSync(path.join(project, "test"))
    fs.copyFileSync(path.join(REPO_ROOT, "test", "tools.ts"), path.join(project, "test", "tools.ts"))
    const run = spawnSync("npm", ["test"], { cwd: project, env: { HOME: project, PATH: bareBin() }, encoding: "utf8" })
    expect(run.status).not.toBe(0)
    expect(run.stdout).not.toContain("TESTS-RAN")
    expect(run.stderr.split("\n").filter((line) => line.startsWith("fazlab tests:"))).toEqual([SENTENCE.trimEnd()])
  })
})
