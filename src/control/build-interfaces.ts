// `build --interface [name=][dev:]ip[/prefix]` writes interfaces/NN/ (util-vserver's syntax). The
// result is checked with the same parser start uses, so build never writes what start refuses.

import { UsageError, ConfigError } from "../errors";
import { parseInterfaces } from "../pure/config/interfaces";
import { fileTree, type ConfigEntry } from "../pure/config/tree";

/** `build --netdev/--netprefix/--netmask/--netbcast`: the defaults at the top of interfaces/. */
export interface InterfaceDefaults {
  dev?: string;
  prefix?: string;
  mask?: string;
  bcast?: string;
}

const DEFAULT_FLAGS: Record<keyof InterfaceDefaults, string> = { dev: "--netdev", prefix: "--netprefix", mask: "--netmask", bcast: "--netbcast" };

export function interfaceConfigEntries(specs: string[], defaults: InterfaceDefaults = {}): Array<[string, ConfigEntry]> {
  const files: Record<string, string> = {};
  const top: Record<string, string> = {};
  for (const [k, v] of Object.entries(defaults) as Array<[keyof InterfaceDefaults, string | undefined]>) {
    if (v === undefined) continue;
    if (!/^[A-Za-z0-9_.:/-]{1,64}$/.test(v)) throw new UsageError(`${DEFAULT_FLAGS[k]}: '${v}' is not a ${k === "dev" ? "device name" : "network value"}.`);
    top[`interfaces/${k}`] = v + "\n";
  }
  if (top["interfaces/prefix"] && top["interfaces/mask"]) throw new UsageError("--netprefix and --netmask say the same thing; give one.");
  specs.forEach((spec, i) => {
    const dir = `interfaces/${String(i).padStart(2, "0")}`;
    let rest = spec.trim();
    const eq = rest.indexOf("=");
    if (eq > 0) {
      files[`${dir}/name`] = rest.slice(0, eq) + "\n";
      rest = rest.slice(eq + 1);
    }
    // dev:ip; an IPv6 address has colons too, so a device is only taken when it is a plain name.
    const m = /^([A-Za-z][A-Za-z0-9_.-]{0,14}):(.+)$/.exec(rest);
    if (m && !/^[0-9a-fA-F]{1,4}$/.test(m[1]!)) {
      files[`${dir}/dev`] = m[1]! + "\n";
      rest = m[2]!;
    } else if (!top["interfaces/dev"]) {
      files[`${dir}/nodev`] = "";
    }
    const slash = rest.lastIndexOf("/");
    if (slash >= 0) {
      const p = rest.slice(slash + 1);
      files[`${dir}/${p.includes(".") ? "mask" : "prefix"}`] = p + "\n";
      rest = rest.slice(0, slash);
    }
    files[`${dir}/ip`] = rest + "\n";
    const one = Object.fromEntries(Object.entries(files).filter(([k]) => k.startsWith(dir + "/")));
    try {
      parseInterfaces(fileTree({ ...top, ...one }), "");
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`--interface '${spec}': ${e.message.replace(/^[^:]*: /, "")}`);
      throw e;
    }
  });
  if (!specs.length && Object.keys(top).length) {
    throw new UsageError(`${Object.keys(top).map((k) => DEFAULT_FLAGS[k.slice("interfaces/".length) as keyof InterfaceDefaults]).join(", ")} ${Object.keys(top).length > 1 ? "are defaults" : "is a default"} for --interface; give at least one --interface.`);
  }
  return [...fileTree({ ...top, ...files })].filter(([, e]) => e.kind === "file");
}
