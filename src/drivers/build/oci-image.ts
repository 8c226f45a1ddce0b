// `build -m oci`: a guest root from a container image on the host, an OCI image layout directory
// or a docker-archive tarball (`docker save`). umoci applies the layers: it verifies each blob's
// digest, applies whiteouts, and resolves every member's path inside the new root (no `..`,
// absolute path or symlink in a layer reaches outside it). skopeo turns a docker archive into a
// layout first. Nothing here talks to a registry.

import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ToolError, UsageError } from "../../errors";
import { lastLine, runAsync, which } from "../process";
import { pickLayoutTag, type OciMethodArgs } from "../../pure/build-method-args";

export interface UnpackedImage {
  /** What was unpacked, as written to the guest's config: "oci-layout DIR:TAG", "docker-archive FILE". */
  reference: string;
  /** The image's configuration blob (Env, Cmd, Entrypoint, ...), parsed. */
  config: unknown;
}

function need(tool: string): void {
  if (!which(tool)) throw new ToolError(`${tool} is not installed; run 'make' or 'apt-get install ${tool}'.`);
}

async function logged(argv: string[], log: string): Promise<{ code: number; problem: string }> {
  const r = await runAsync(argv);
  try {
    appendFileSync(log, `$ ${argv.join(" ")}\n${r.stdout}${r.stderr}`);
  } catch {}
  // umoci prints its progress as "• ..." lines and its error as "⨯ ...".
  const problem = r.stderr.split("\n").find((l) => l.includes("⨯"))?.replace(/^\s*⨯\s*/, "") ?? lastLine(r.stderr);
  return { code: r.code, problem };
}

function readBlob(layout: string, digest: unknown): string {
  if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new UsageError(`oci method: ${layout} names a blob '${String(digest)}' that is not a sha256 digest.`);
  const data = readFileSync(`${layout}/blobs/sha256/${digest.slice(7)}`);
  if (new Bun.CryptoHasher("sha256").update(data).digest("hex") !== digest.slice(7)) throw new UsageError(`oci method: blob ${digest} of ${layout} does not match its digest.`);
  return data.toString("utf8");
}

/** The image config of the manifest tagged `tag` in a layout (umoci has already checked the chain). */
function imageConfig(layout: string, tag: string): unknown {
  const index = JSON.parse(readFileSync(`${layout}/index.json`, "utf8"));
  const entry = (index.manifests as Array<{ digest?: unknown; annotations?: Record<string, unknown> }>).find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  const manifest = JSON.parse(readBlob(layout, entry?.digest));
  return JSON.parse(readBlob(layout, manifest?.config?.digest));
}

/**
 * Unpack the image into `dest` (an empty directory). `work` is a scratch path beside it for the
 * layout made from a docker archive; the caller removes it.
 */
export async function unpackOciImage(src: OciMethodArgs, dest: string, work: string, log: string): Promise<UnpackedImage> {
  need("umoci");
  let layout: string;
  let tag: string;
  let reference: string;
  if (src.kind === "archive") {
    if (!existsSync(src.file) || !statSync(src.file).isFile()) throw new UsageError(`oci method: the archive ${src.file} does not exist.`);
    need("skopeo");
    layout = work;
    tag = "vserver";
    reference = `docker-archive ${resolve(src.file)}`;
    const r = await logged(["skopeo", "copy", "--quiet", `docker-archive:${src.file}`, `oci:${work}:${tag}`], log);
    if (r.code !== 0) throw new ToolError(`reading the docker archive ${src.file} failed: ${r.problem} (full output in ${log}).`);
  } else {
    layout = resolve(src.dir);
    if (!existsSync(`${layout}/index.json`) || !existsSync(`${layout}/oci-layout`)) {
      throw new UsageError(`oci method: ${src.dir} is not an OCI image layout (it has no index.json and oci-layout).`);
    }
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(`${layout}/index.json`, "utf8"));
    } catch (e) {
      throw new UsageError(`oci method: ${layout}/index.json is not valid JSON: ${(e as Error).message}`);
    }
    tag = pickLayoutTag(index, src.tag, layout);
    reference = `oci-layout ${layout}:${tag}`;
  }
  const r = await logged(["umoci", "raw", "unpack", "--image", `${layout}:${tag}`, dest], log);
  if (r.code !== 0) throw new ToolError(`unpacking the image ${reference.replace(/^\S+ /, "")} failed: ${r.problem} (full output in ${log}).`);
  return { reference, config: imageConfig(layout, tag) };
}
