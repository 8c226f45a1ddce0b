// OCI image layouts made by hand for the oci build method's tests: tar layers written byte by
// byte (so a test can put `..`, absolute paths and links into one, which tar(1) would refuse to
// write), blobs named by their sha256, a manifest, a config and an index with tags.

import { mkdirSync, writeFileSync } from "node:fs";

export interface TarMember {
  name: string;
  /** "file" (default), "dir", "symlink", "hardlink". */
  type?: "file" | "dir" | "symlink" | "hardlink";
  data?: string | Uint8Array;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const TYPEFLAG = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** One ustar archive of these members, in this order. */
export function tarLayer(members: TarMember[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const m of members) {
    const type = m.type ?? "file";
    const data = type === "file" ? (typeof m.data === "string" ? new TextEncoder().encode(m.data) : m.data ?? new TextEncoder().encode("x\n")) : new Uint8Array(0);
    const h = new Uint8Array(512);
    const put = (off: number, s: string) => h.set(new TextEncoder().encode(s), off);
    if (m.name.length > 100 || (m.link ?? "").length > 100) throw new Error(`tar member name too long for ustar: ${m.name}`);
    put(0, m.name);
    put(100, octal(m.mode ?? (type === "dir" ? 0o755 : 0o644), 8));
    put(108, octal(m.uid ?? 0, 8));
    put(116, octal(m.gid ?? 0, 8));
    put(124, octal(data.length, 12));
    put(136, octal(1700000000, 12));
    put(148, "        ");
    put(156, TYPEFLAG[type]);
    put(157, m.link ?? "");
    put(257, "ustar\0");
    put(263, "00");
    let sum = 0;
    for (const b of h) sum += b;
    put(148, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(h);
    if (data.length) {
      const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
      padded.set(data);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of blocks) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** Write blob into the layout; its descriptor. */
function blob(dir: string, data: Uint8Array, mediaType: string) {
  const hex = sha256(data);
  writeFileSync(`${dir}/blobs/sha256/${hex}`, data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

export interface ImageSpec {
  tag: string;
  layers: Uint8Array[];
  /** The image config's `config` section: Env, Cmd, Entrypoint, ... */
  config?: Record<string, unknown>;
}

/** An OCI image layout at `dir` holding these images, each under its tag. */
export function writeLayout(dir: string, images: ImageSpec[]): void {
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  writeFileSync(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests = images.map((img) => {
    const layers = img.layers.map((l) => blob(dir, l, "application/vnd.oci.image.layer.v1.tar"));
    const config = { architecture: "amd64", os: "linux", config: img.config ?? {}, rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } };
    const cfg = blob(dir, new TextEncoder().encode(JSON.stringify(config)), "application/vnd.oci.image.config.v1+json");
    const manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: cfg, layers };
    const m = blob(dir, new TextEncoder().encode(JSON.stringify(manifest)), "application/vnd.oci.image.manifest.v1+json");
    return { ...m, annotations: { "org.opencontainers.image.ref.name": img.tag } };
  });
  writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests }));
}
