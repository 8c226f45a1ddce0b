// The arguments after `--` of the copying build methods (rsync, legacy) and of oci, parsed
// strictly: an argument these methods do not know is an error, never passed on to a tool.

import { UsageError } from "../errors";

/** An rsync filter rule the admin gave, kept in command-line order (rsync's first match wins). */
export interface CopyRule {
  kind: "include" | "exclude";
  pattern: string;
}

export interface RsyncMethodArgs {
  source: string;
  rules: CopyRule[];
}

export interface LegacyMethodArgs {
  rules: CopyRule[];
}

export type OciMethodArgs = { kind: "layout"; dir: string; tag?: string } | { kind: "archive"; file: string };

function walk(method: string, args: string[], expected: string, take: (flag: string, value: () => string) => boolean): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v === "") throw new UsageError(`${method} method: ${a} needs a value.`);
      return v;
    };
    if (!take(a, value)) throw new UsageError(`${method} method: unknown argument '${a}' (expected ${expected}).`);
  }
}

function ruleOf(method: string, flag: string, pattern: string): CopyRule {
  // A rule is handed to rsync as one argv word; a newline would let one word carry several rules.
  if (/[\n\r]/.test(pattern)) throw new UsageError(`${method} method: ${flag} '${pattern}' holds a line break.`);
  return { kind: flag === "--include" ? "include" : "exclude", pattern };
}

export function parseRsyncArgs(args: string[]): RsyncMethodArgs {
  let source: string | undefined;
  const rules: CopyRule[] = [];
  walk("rsync", args, "-s GUEST|DIR [--exclude PATTERN] [--include PATTERN]", (a, value) => {
    if (a === "-s" || a === "--source") source = value();
    else if (a === "--exclude" || a === "--include") rules.push(ruleOf("rsync", a, value()));
    else return false;
    return true;
  });
  if (!source) throw new UsageError("rsync method: -s GUEST|DIR (the guest or directory to copy) is required.");
  return { source, rules };
}

export function parseLegacyArgs(args: string[]): LegacyMethodArgs {
  const rules: CopyRule[] = [];
  walk("legacy", args, "[--exclude PATTERN] [--include PATTERN]", (a, value) => {
    if (a === "--exclude" || a === "--include") rules.push(ruleOf("legacy", a, value()));
    else return false;
    return true;
  });
  return { rules };
}

/**
 * `-o DIR[:TAG]` or `-a FILE`. The tag is what follows the last ':' after the last '/', as
 * skopeo and umoci read an `oci:` reference; a directory whose name holds ':' needs a tag then.
 */
export function parseOciArgs(args: string[]): OciMethodArgs {
  let layout: string | undefined;
  let archive: string | undefined;
  walk("oci", args, "-o DIR[:TAG] or -a FILE", (a, value) => {
    if (a === "-o" || a === "--layout") layout = value();
    else if (a === "-a" || a === "--archive") archive = value();
    else return false;
    return true;
  });
  if (layout !== undefined && archive !== undefined) throw new UsageError("oci method: give either -o DIR[:TAG] or -a FILE, not both.");
  if (archive !== undefined) return { kind: "archive", file: archive };
  if (layout === undefined) throw new UsageError("oci method: -o DIR[:TAG] (an OCI image layout) or -a FILE (a docker-archive tarball) is required.");
  const slash = layout.lastIndexOf("/");
  const colon = layout.lastIndexOf(":");
  if (colon > slash) {
    const tag = layout.slice(colon + 1);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new UsageError(`oci method: '${tag}' in -o ${layout} is not an image tag.`);
    return { kind: "layout", dir: layout.slice(0, colon), tag };
  }
  return { kind: "layout", dir: layout };
}

/** The tag to unpack from a layout's index.json: the one asked for, or the index's only one. */
export function pickLayoutTag(index: unknown, asked: string | undefined, where: string): string {
  const manifests = (index as { manifests?: unknown })?.manifests;
  if (!Array.isArray(manifests)) throw new UsageError(`oci method: ${where}/index.json has no list of manifests; is ${where} an OCI image layout?`);
  const tags = manifests
    .map((m) => (m as { annotations?: Record<string, unknown> })?.annotations?.["org.opencontainers.image.ref.name"])
    .filter((t): t is string => typeof t === "string");
  if (asked !== undefined) {
    if (!tags.includes(asked)) throw new UsageError(`oci method: ${where} has no image tagged '${asked}' (it has: ${tags.join(", ") || "no tags"}).`);
    return asked;
  }
  if (tags.length === 1) return tags[0]!;
  if (!tags.length) throw new UsageError(`oci method: ${where} has no tagged image; tag one (umoci tag) or give an archive.`);
  throw new UsageError(`oci method: ${where} holds several images (${tags.join(", ")}); name one with -o ${where}:TAG.`);
}

/** Entrypoint followed by Cmd, as a container runtime would run them; empty when the image names neither. */
export function imageCommand(config: unknown): string[] {
  const c = (config as { config?: { Entrypoint?: unknown; Cmd?: unknown } })?.config ?? {};
  const words = (v: unknown) => (Array.isArray(v) ? v.filter((w): w is string => typeof w === "string") : []);
  return [...words(c.Entrypoint), ...words(c.Cmd)];
}
