// util-vserver's `personality` file and `uts/machine` (reference §2.2, §3.8), on a kernel whose
// only per-process uname change is the personality: LINUX32 makes a 64-bit host report its 32-bit
// machine (i686 on x86_64, armv8l on aarch64), which is what both were used for (a 32-bit guest
// on a 64-bit host). The OCI runtime sets it for the guest's processes (linux.personality).

import { ConfigError } from "../../errors";

export type PersonalityDomain = "LINUX" | "LINUX32";

export interface PersonalitySetting {
  domain: PersonalityDomain;
  file: string;
}

export interface MachineSetting {
  value: string;
  file: string;
}

const TYPES: Record<string, PersonalityDomain> = { linux: "LINUX", linux32: "LINUX32", linux_32bit: "LINUX32" };

/** What 32-bit machine each 64-bit host shows under LINUX32, and the names util-vserver users write for it. */
const THIRTY_TWO: Record<string, string[]> = {
  x86_64: ["i686", "i586", "i486", "i386"],
  aarch64: ["armv8l", "armv7l"],
};

/**
 * The `personality` file: its first line is the type (linux, linux32 or linux_32bit here), the
 * others flags, none of which is applied (the ones that weaken ASLR are refused by seccomp).
 */
export function parsePersonality(content: string, file: string): { setting: PersonalitySetting; flagsIgnored: boolean } {
  const lines = content.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const type = (lines[0] ?? "").toLowerCase().replace(/^per_/, "");
  const domain = TYPES[type];
  if (!domain) {
    throw new ConfigError(`${file}: '${lines[0] ?? ""}' is not a personality this kernel can give a guest (linux or linux32).`, { file });
  }
  return { setting: { domain, file }, flagsIgnored: lines.length > 1 };
}

/** The personality the guest runs under, from both settings; a machine the host cannot show is an error naming its file. */
export function personalityDomain(p: PersonalitySetting | undefined, m: MachineSetting | undefined, hostArch: string): PersonalityDomain | undefined {
  let domain = p?.domain;
  if (m) {
    const small = THIRTY_TWO[hostArch] ?? [];
    const wanted: PersonalityDomain | undefined = m.value === hostArch ? "LINUX" : small.includes(m.value) ? "LINUX32" : undefined;
    if (!wanted) {
      const can = [hostArch, ...(small[0] ? [small[0]] : [])].join(" or ");
      throw new ConfigError(`${m.file}: a guest on this host can show the machine ${can}, not '${m.value}'.`, { file: m.file });
    }
    if (p && p.domain !== wanted) {
      throw new ConfigError(`${m.file}: '${m.value}' contradicts ${p.file} (${p.domain.toLowerCase()}).`, { file: m.file });
    }
    domain = wanted;
  }
  return domain === "LINUX32" ? domain : undefined;
}
