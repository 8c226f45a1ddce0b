// TLS material and a free port for tests of the API's TCP listener: a CA of the test's own, a
// server certificate for 127.0.0.1 signed by it, and on request client certificates signed by it
// and a self-signed one no one trusts. Made with openssl(1), in the test's own directory.

import { mkdirSync, writeFileSync } from "node:fs";

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A port free on 127.0.0.1 now: the kernel picks one, and we let it go for the test to use. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/**
 * In `dir`: ca.pem/ca.key, server.pem/server.key (for IP 127.0.0.1), NAME.pem/NAME.key for each
 * of `clients` (signed by the CA for client authentication), and, with `stranger`, a self-signed
 * stranger.pem/stranger.key.
 */
export function makeTestPki(dir: string, o: { clients?: string[]; stranger?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  openssl("req", "-x509", ...EC, "-days", "2", "-subj", "/CN=test CA", "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.pem`);
  const signed = (name: string, ext: string) => {
    openssl("req", ...EC, "-subj", `/CN=${name}`, "-keyout", `${dir}/${name}.key`, "-out", `${dir}/${name}.csr`);
    writeFileSync(`${dir}/${name}.ext`, ext);
    openssl("x509", "-req", "-in", `${dir}/${name}.csr`, "-CA", `${dir}/ca.pem`, "-CAkey", `${dir}/ca.key`, "-CAcreateserial", "-days", "2", "-extfile", `${dir}/${name}.ext`, "-out", `${dir}/${name}.pem`);
  };
  signed("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  for (const c of o.clients ?? []) signed(c, "extendedKeyUsage=clientAuth\n");
  if (o.stranger) openssl("req", "-x509", ...EC, "-days", "2", "-subj", "/CN=stranger", "-keyout", `${dir}/stranger.key`, "-out", `${dir}/stranger.pem`);
}
