/**
 * Certificates and kubeconfigs for the one-node cluster (harness/node/cluster.ts): one throwaway
 * openssl CA, a serving certificate for kube-apiserver valid for the node IP and the `kubernetes`
 * Service's cluster IP (Pods verify it through the Service), and client certificates per component.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileP("openssl", args, { cwd });
  } catch (e) {
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${(e as Error).message}`, { cause: e });
  }
}

export class NodePki {
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<NodePki> {
    await openssl(
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ecs-attrs-node-ca", "-keyout", "ca.key", "-out", "ca.crt"],
      dir,
    );
    await openssl(["genrsa", "-out", "sa.key", "2048"], dir);
    await openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    return new NodePki(dir);
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** A client certificate, subject like "/CN=system:node:n/O=system:nodes". */
  client(name: string, subject: string): Promise<void> {
    return this.sign(name, subject, "extendedKeyUsage=clientAuth\n");
  }

  /** A serving certificate for these IPs and DNS names. */
  serving(name: string, ips: string[], dns: string[]): Promise<void> {
    const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((d) => `DNS:${d}`)].join(",");
    return this.sign(name, `/CN=${name}`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  }

  private async sign(name: string, subject: string, ext: string): Promise<void> {
    await writeFile(join(this.dir, `${name}.ext`), ext);
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`], this.dir);
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.crt`,
      ],
      this.dir,
    );
  }

  /** Writes `<name>.kubeconfig` for the client certificate `<name>` and returns its path. */
  async kubeconfig(name: string, server: string): Promise<string> {
    const b64 = async (f: string) => Buffer.from(await readFile(join(this.dir, f))).toString("base64");
    const yaml = [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: ecs-attrs-node",
      "  cluster:",
      `    server: ${server}`,
      `    certificate-authority-data: ${await b64("ca.crt")}`,
      "users:",
      `- name: ${name}`,
      "  user:",
      `    client-certificate-data: ${await b64(`${name}.crt`)}`,
      `    client-key-data: ${await b64(`${name}.key`)}`,
      "contexts:",
      "- name: ecs-attrs-node",
      "  context:",
      "    cluster: ecs-attrs-node",
      `    user: ${name}`,
      "current-context: ecs-attrs-node",
      "",
    ].join("\n");
    const path = join(this.dir, `${name}.kubeconfig`);
    await writeFile(path, yaml);
    return path;
  }
}
