// `build --interface [name=][dev:]ip[/prefix]` writes interfaces/NN/ (util-vserver's syntax). The
// result is checked with the same parser start uses, so build never writes what start refuses.

import { UsageError, ConfigError } from "../errors";
import { parseInterfaces } from "../pure/config/interfaces";
import { fileTree, type ConfigEntry } from "../pure/config/tree";

export function interfaceConfigEntries(specs: string[]): Array<[string, ConfigEntry]> {
  const files: Record<string, string> = {};
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
    } else {
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
      parseInterfaces(fileTree(one), "");
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`--interface '${spec}': ${e.message.replace(/^[^:]*: /, "")}`);
      throw e;
    }
  });
  return [...fileTree(files)].filter(([, e]) => e.kind === "file");
}
