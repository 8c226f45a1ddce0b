// What `build -m legacy` copies of the host's own system and what it leaves out. The original
// `vserver NAME build` ran `cp -ax /sbin /bin /etc /usr /var /lib` and made empty /proc, /tmp
// and /home; this keeps that shape and adds the host's secrets and state that must not end up in
// a guest (docs/build.md lists them and why).

import type { CopyRule } from "./build-method-args";

/** The host's system trees that are copied (those that exist; merged-/usr links are copied as links). */
export const LEGACY_COPIED = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "var"];

/** Made empty in the new root: the guest's own, or filled by the runtime at start. */
export const LEGACY_EMPTY_DIRS = ["proc", "sys", "dev", "run", "tmp", "home", "root", "mnt", "media", "srv", "opt", "boot"];

/**
 * Secrets of the host, as rsync rules anchored at the host's root. They come before the admin's
 * own rules, so an --include cannot bring one back.
 */
export const LEGACY_SECRETS: string[] = [
  "/etc/ssh/ssh_host_*", // the host's SSH identity: a guest holding it could impersonate the host
  "/etc/ssl/private/*", // TLS private keys (the directory stays: packages expect it)
  "/etc/krb5.keytab", // Kerberos host keys
  "/etc/shadow-", // backup copies of the password files, with the hashes
  "/etc/gshadow-",
  "/var/backups/*", // Debian's daily copies of passwd, shadow, gshadow and the dpkg state
  "/etc/machine-id", // written empty instead: each guest gets its own at first boot
  "/var/lib/dbus/machine-id",
  "/var/lib/systemd/random-seed", // the host's entropy seed: a guest must not start from the same
  "/var/lib/systemd/credential.secret",
  "/var/lib/urandom/random-seed",
  "/etc/NetworkManager/system-connections/*", // Wi-Fi and VPN passwords
  "/etc/wireguard/*",
  "/var/spool/cron/crontabs/*", // users' crontabs: the host's jobs would run again in the guest
  "/var/mail/*", // users' mail
  "/var/spool/mail/*",
];

/**
 * Host state that is not a secret but is not the guest's either: other guests and containers,
 * kernel modules, caches and logs. The admin's rules come before these, so one can be overridden.
 */
export const LEGACY_LEFT_OUT: string[] = [
  "/etc/vservers/***", // the host's guests, at their standard places (this installation's own are added)
  "/var/cache/vservers/***",
  "/var/lib/docker/***",
  "/var/lib/containers/***",
  "/var/lib/lxc/***",
  "/var/lib/machines/***",
  "/usr/lib/modules/***", // a guest loads no kernel modules
  "/lib/modules/***",
  "/var/cache/apt/archives/*.deb",
  "/var/tmp/*",
  "/var/log/**/", // keep the directories of /var/log (daemons expect them), not the host's logs
  "/var/log/**",
];

/** rsync rules for the whole copy: secrets, the admin's own, the left-out state, then the tree shape. */
export function legacyRules(opts: { stateDirs: string[]; adminRules: CopyRule[] }): string[] {
  const out: string[] = [];
  for (const p of LEGACY_SECRETS) out.push(`--exclude=${p}`);
  // This installation's own state (guest roots, configs, caches, logs) wherever it lives.
  for (const d of opts.stateDirs) out.push(`--exclude=${d.replace(/\/+$/, "")}/***`);
  for (const r of opts.adminRules) out.push(`--${r.kind}=${r.pattern}`);
  for (const p of LEGACY_LEFT_OUT) out.push(p === "/var/log/**/" ? `--include=${p}` : `--exclude=${p}`);
  for (const d of LEGACY_COPIED) out.push(`--include=/${d}`);
  out.push("--exclude=/*");
  return out;
}

/**
 * /etc/shadow or /etc/gshadow with every password field locked: the accounts stay (packages and
 * file owners refer to them) but no host password hash is carried into the guest.
 */
export function lockPasswords(text: string, locked: "*" | "!"): string {
  return text
    .split("\n")
    .map((line) => {
      const f = line.split(":");
      if (f.length < 2 || line.startsWith("#")) return line;
      f[1] = locked;
      return f.join(":");
    })
    .join("\n");
}
