/**
 * A self-signed certificate for 127.0.0.1 / localhost (openssl, as harness/node/pki.ts), for the
 * emulator's HTTPS listener: `@alicloud/credentials` calls STS over https only.
 *
 *   const tls = await loopbackCertificate();              // { cert, key, certFile, keyFile }
 *   trustInThisProcess(tls.cert);                          // in-process clients (tls.setDefaultCACertificates)
 *   spawn(..., { env: { NODE_EXTRA_CA_CERTS: tls.certFile } })   // child processes
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export interface LoopbackCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

let cached: Promise<LoopbackCertificate> | undefined;

async function generate(): Promise<LoopbackCertificate> {
  const dir = mkdtempSync(join(tmpdir(), "ecs-emu-tls-"));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  try {
    await execFileP("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=ecs-emulator",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
  } catch (e) {
    throw new Error(`openssl req failed (is openssl installed?): ${(e as Error).message}`, { cause: e });
  }
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), certFile, keyFile };
}

/** One certificate per test process (generated on first use). */
export function loopbackCertificate(): Promise<LoopbackCertificate> {
  cached ??= generate();
  return cached;
}

/** Adds `certPem` to this process's default trust store (Node ≥ 22.19 / 24.5). */
export function trustInThisProcess(certPem: string): void {
  const current = tls.getCACertificates("default");
  if (current.includes(certPem)) return;
  tls.setDefaultCACertificates([...current, certPem]);
}
