// vserver [global options] NAME COMMAND [ARGS...]   and   vserver --list [--json]
// util-vserver's front-end: verbs, arguments and exit codes as in its vserver(8).

import { readFileSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import { isTerminal } from "../drivers/terminal";
import { AlreadyRunningError, NotRunningError, UsageError } from "../errors";
import { makeEnv } from "../control/env";
import * as plane from "../control/plane";
import { guestNameOf } from "../control/guest-ref";
import { BUILD_METHODS, type BuildMethod } from "../control/build";
import { formatGuestList, formatStatus } from "../pure/format/guest-status";
import { runMain, warn } from "./main";
import { writeOut } from "../drivers/output";
import { unifyOne } from "./unify-command";
import { PACKAGE_NAME_RE } from "../pure/package-name";

const PROG = "vserver";

/** util-vserver's global options that have no counterpart here, each with the reason. */
const GLOBAL_REFUSED: Record<string, string> = {
  "--defaulttty": "--defaulttty is not supported: a guest has no console here; its init's output goes to its log (/var/log/vservers/NAME.log).",
  "--strace": "--strace is not supported: run 'strace -f -o FILE vserver NAME start' instead.",
  "--debug-sysv": "--debug-sysv is not supported: a guest's rc output is in its log (/var/log/vservers/NAME.log).",
};

export const HELP = `Usage: vserver [--silent] [--debug] NAME|XID|CFGDIR COMMAND [ARGS...]
       vserver --list [--json]

Manage the virtual private server (guest) NAME, configured in /etc/vservers/NAME/. The guest may
also be named by its context number (XID) or the path of its config directory.

Commands:
  build -m METHOD [OPTIONS] [-- METHOD-ARGS]   make a new guest (see 'vserver NAME build --help')
  start                  start the guest (hooks, mounts, limits, init)
  start --rescue [--rescue-init] [CMD ARGS...]
                         start it without its own init or start scripts, to repair it: our
                         reaper is PID 1 and CMD (an absolute path) runs beside it; with
                         --rescue-init, CMD itself is PID 1 (default /bin/sleep 900)
  stop [--rescue-init]   stop it: its stop command (a plain guest's systemd: SIGRTMIN+3, its
                         halt), then apps/init/killseq until no process is left
                         (--rescue-init, and any rescue start: no stop command)
  restart                stop (if running), then start
  condrestart            restart only if running
  running                exit 0 if the guest runs, 1 if not
  status [--json]        state, context, processes, uptime and log file; exit 0 running, 3 stopped
  enter                  an interactive shell on a fresh pty inside the guest
  exec CMD [ARGS...]     run CMD as root in the guest; its exit status is returned
  suexec USER CMD [ARGS...]  run CMD as USER (name or uid) in the guest
  service SVC ACTION     run /etc/init.d/SVC ACTION in the guest
  chkconfig|apt-get|apt-cache|apt-config|rpm|yum|dnf ARGS...
                         the guest's own package tool in the guest (vapt-get, vrpm, vyum and
                         vsomething do this for many guests)
  pkg install|remove PKG...  install or remove packages with whichever tool the guest has
                         (apt-get -y, dnf -y, yum -y, apk, zypper)
  delete [--force]       stop and remove the guest's root, config and logs (asks unless
                         --force); refuses a vdir that is not the guest's alone
  convert                write /etc/vservers/NAME/ from a legacy /etc/vservers/NAME.conf, keeping
                         it and NAME.sh (whose hooks link to it); without converting, a guest
                         with only NAME.conf is used as it is (read as data, never run)
  hashify                move the stopped guest's files into the store shared by all guests and
                         make its root an overlay over it (again after upgrades: what they
                         replaced is shared again); needs XFS under the guest roots;
                         apps/vunify/exclude (default: util-vserver's list, /etc/*, /var, ...)
                         names files whose content stays with the guest
  unify [-R]             the same as hashify; -R gives the guest a plain tree again

Global options:
  --silent, -s           no progress output or warnings
  --debug                on an error, also print where in the program it happened
  -v, --verbose, --sync  accepted: progress is shown unless --silent, and stop always waits
                         until the guest is gone (--defaulttty, --strace, --debug-sysv are refused)
  --list [--json]        every guest with its context, state, init style and root
  --help, --version

Environment:
  VSERVER_ROOT=DIR       put all state (config, guests, run, cache, logs) under DIR
  VSERVER_RUNTIME=crun|runc   the OCI runtime (default: crun, else runc)
  VSERVER_SERVICE=off    run the command directly, never through the host service
                         (vserverd; docs/architecture.md)
`;

const BUILD_HELP = `Usage: vserver NAME build -m METHOD [OPTIONS] [-- METHOD-ARGS]

The method's own arguments (-d SUITE, -s GUEST, -t ARCHIVE, ...) go after '--'; the options
below go before it. Lines of /etc/vservers/.defaults/apps/build/options are default options,
taken before the command line's.

Methods and their arguments (after '--'):
  busybox                         a small guest from the host's static busybox
  skeleton [-- CMD ARGS...]       the directory tree and config only; CMD may fill the tree
  debootstrap -d SUITE [-m MIRROR] [-- DEBOOTSTRAP-OPTIONS]
                                  a Debian guest; packages are cached for the next build
  clone -s GUEST|DIR              a copy of another guest (its config too), with its own context;
                                  a unified GUEST's clone shares its files (metadata copied only)
  template -t ARCHIVE             a guest from a root-filesystem tarball
  rsync -s GUEST|DIR [--exclude PATTERN] [--include PATTERN]...
                                  a faithful copy (owners, hard links, ACLs, xattrs, file
                                  capabilities, devices, sparse files) of a directory or of
                                  another guest's root, without its config; rules as rsync's
  legacy [--exclude PATTERN] [--include PATTERN]...
                                  a copy of the host's own system (/usr, /etc, /var, ...), as the
                                  original 'vserver NAME build' made, without the host's secrets
                                  (SSH host keys, password hashes, machine-id, ...), mounts,
                                  guests, /home and /root (docs/build.md has the list)
  oci -o DIR[:TAG] | -a FILE      a guest from a container image: an OCI image layout directory,
                                  or a docker-archive tarball ('docker save'); no registry is
                                  asked. The image's command becomes the guest's PID 1 only
                                  with --initstyle plain; its Env and User are not applied

On btrfs the new root is a subvolume of its own, so that dlimits/ and vdlimit can limit it.

Options:
  --context N          the context number (default: the next free one from 40000)
  --hostname H         uts/nodename (default: NAME)
  --initstyle S        sysv (default), plain, minit, gentoo, openrc, arch
  --flags F[,F...]     context flags (cflags)
  --interface [name=][dev:]IP[/PREFIX]   an address (repeatable)
  --netdev DEV, --netprefix N, --netmask M, --netbcast B
                       defaults for every --interface (interfaces/dev, prefix, mask, bcast)
  --rootdir DIR        make the guest's root DIR/NAME instead of /vservers/NAME
  --unified            put the new guest's files into the store shared by all guests
                       (as 'vserver NAME hashify' does; docs/unification.md)
  --force              replace an existing stopped guest of that name
  --keep               on failure, keep the half-made root and config for inspection (the
                       error names them; the next build of NAME removes them)
  --quiet              no progress output

Examples:
  vserver kea build -m debootstrap --context 10 --interface eth0:192.168.0.44/32 -- -d bookworm
  vserver web2 build -m rsync -- -s web --exclude '/var/log/*'
  vserver app build -m oci --initstyle plain -- -o /srv/images/app:1.0
`;

async function confirm(question: string): Promise<boolean> {
  writeOut(`${question} [y/N] `);
  for await (const line of console) return /^y(es)?$/i.test(line.trim());
  return false;
}

/** .defaults/apps/build/options: default build options, whitespace-separated, one or more per line (never run by a shell). */
function defaultBuildOptions(defaultsDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(`${defaultsDir}/apps/build/options`, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).flatMap((l) => l.split(/\s+/));
}

async function buildCommand(name: string, args: string[], defaultsDir: string) {
  // node:util costs ~9 ms to load; only build needs it.
  const { parseArgs } = await import("node:util");
  const dd = args.indexOf("--");
  // The defaults come first, so that the command line's own options win.
  const defaults = defaultBuildOptions(defaultsDir);
  const own = [...defaults, ...(dd < 0 ? args : args.slice(0, dd))];
  const methodArgs = dd < 0 ? [] : args.slice(dd + 1);
  const parse = <T extends ParseArgsConfig>(opts: T) => {
    try {
      return parseArgs(opts);
    } catch (e) {
      if (!defaults.length) throw e;
      throw new UsageError(`build: ${(e as Error).message.split("\n")[0]} (the options of ${defaultsDir}/apps/build/options come first).`);
    }
  };
  const { values } = parse({
    args: own,
    strict: true,
    allowPositionals: false,
    options: {
      method: { type: "string", short: "m" },
      context: { type: "string" },
      hostname: { type: "string" },
      initstyle: { type: "string" },
      flags: { type: "string", multiple: true },
      interface: { type: "string", multiple: true },
      netdev: { type: "string" },
      netprefix: { type: "string" },
      netmask: { type: "string" },
      netbcast: { type: "string" },
      rootdir: { type: "string" },
      force: { type: "boolean" },
      unified: { type: "boolean" },
      keep: { type: "boolean" },
      "i-know-its-there": { type: "boolean" },
      pkgbase: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    writeOut(BUILD_HELP);
    return null;
  }
  if (values["i-know-its-there"]) throw new UsageError("build: --i-know-its-there is not supported: a guest's root is built aside and renamed into place, so an existing directory is not built into; move it away, or replace it with --force.");
  if (values.pkgbase !== undefined) throw new UsageError("build: --pkgbase is not supported: a guest's package database stays inside the guest.");
  if (!values.method) throw new UsageError(`build: -m METHOD is required (one of ${BUILD_METHODS.join(", ")}).`);
  return {
    name,
    method: values.method as BuildMethod,
    context: values.context,
    hostname: values.hostname,
    initstyle: values.initstyle,
    flags: values.flags?.flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean),
    interfaces: values.interface,
    interfaceDefaults: { dev: values.netdev, prefix: values.netprefix, mask: values.netmask, bcast: values.netbcast },
    rootdir: values.rootdir,
    force: !!values.force,
    unified: !!values.unified,
    keep: !!values.keep,
    quiet: !!values.quiet,
    methodArgs,
  };
}

async function wrapParse<T>(verb: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${verb}: ${(e as Error).message}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let silent = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--silent" || a === "-s") silent = true;
    // Our default already says what was done, and stop always waits until the guest is gone.
    else if (a === "-v" || a === "--verbose" || a === "--sync") continue;
    else if (a === "--debug") process.env.VSERVER_DEBUG = "1";
    else if (a === "--defaulttty" || a === "--strace" || a === "--debug-sysv") throw new UsageError(GLOBAL_REFUSED[a]!);
    else break;
  }
  const rest = argv.slice(i);
  const env = makeEnv({ quiet: silent, warn: silent ? () => {} : (m) => warn(PROG, m) });

  if (rest.length === 0 || rest[0] === "--help" || rest[0] === "-h") {
    writeOut(HELP);
    return rest.length === 0 ? 2 : 0;
  }
  if (rest[0] === "--version") {
    writeOut("vserver 0.1.0\n");
    return 0;
  }
  if (rest[0] === "--list") {
    const json = rest.includes("--json");
    const unknown = rest.slice(1).filter((a) => a !== "--json");
    if (unknown.length) throw new UsageError(`--list: unknown argument '${unknown[0]}'.`);
    const all = await plane.list(env);
    writeOut(json ? JSON.stringify(all, null, 2) + "\n" : formatGuestList(all));
    return 0;
  }
  if (rest[0]!.startsWith("-")) throw new UsageError(`unknown option '${rest[0]}'; see 'vserver --help'.`);
  const [given, verb, ...args] = rest as [string, string | undefined, ...string[]];
  if (!verb) throw new UsageError(`no command given for '${given}'; see 'vserver --help'.`);
  // build and convert make a guest, so their NAME is always a name.
  const name = verb === "build" || verb === "convert" ? given : guestNameOf(env, given);

  switch (verb) {
    case "build": {
      const req = await wrapParse("build", () => buildCommand(name, args, env.paths.defaultsDir));
      if (!req) return 0;
      const r = await plane.build(env, { ...req, quiet: req.quiet || silent });
      if (!silent) writeOut(`guest '${r.name}' built: context ${r.context}, root ${r.vdir}, config ${r.cfgDir}\n`);
      return 0;
    }
    case "start": {
      const rescue = parseRescue(args);
      try {
        const r = rescue ? await plane.startRescue(env, name, rescue.cmd, rescue.asInit) : await plane.start(env, name);
        if (!silent) writeOut(`guest '${name}' started at context ${r.context}\n`);
      } catch (e) {
        if (!(e instanceof AlreadyRunningError)) throw e;
        env.warn(e.message);
      }
      return 0;
    }
    case "stop": {
      const skipStopCommand = args[0] === "--rescue-init";
      noArgs(verb, skipStopCommand ? args.slice(1) : args);
      try {
        await plane.stop(env, name, { skipStopCommand });
      } catch (e) {
        if (!(e instanceof NotRunningError)) throw e;
        env.warn(e.message);
      }
      return 0;
    }
    case "restart":
    case "condrestart": {
      noArgs(verb, args);
      await plane.restart(env, name, verb === "condrestart");
      return 0;
    }
    case "running": {
      noArgs(verb, args);
      return (await plane.isRunning(env, name)) ? 0 : 1;
    }
    case "status": {
      const json = args.includes("--json");
      if (args.some((a) => a !== "--json")) throw new UsageError(`status: unknown argument '${args.find((a) => a !== "--json")}'.`);
      const s = await plane.status(env, name);
      writeOut(json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s));
      return s.running ? 0 : 3;
    }
    case "enter":
      noArgs(verb, args);
      return plane.enter(env, name);
    case "exec": {
      if (!args.length) throw new UsageError("exec: no command given.");
      const cmd = args[0] === "--" ? args.slice(1) : args;
      return plane.exec(env, name, { argv: cmd });
    }
    case "suexec": {
      const [user, ...cmd] = args;
      if (!user || !cmd.length) throw new UsageError("suexec: usage is 'vserver NAME suexec USER CMD [ARGS...]'.");
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)?$/.test(user)) throw new UsageError(`suexec: '${user}' is not a user name or uid.`);
      return plane.exec(env, name, { argv: cmd, user });
    }
    case "service": {
      const [svc, action, ...more] = args;
      if (!svc || !action) throw new UsageError("service: usage is 'vserver NAME service SERVICE start|stop|restart|status'.");
      if (!/^[A-Za-z0-9_.@-]+$/.test(svc)) throw new UsageError(`service: '${svc}' is not a service name.`);
      return plane.exec(env, name, { argv: [`/etc/init.d/${svc}`, action, ...more] });
    }
    case "chkconfig":
    case "apt-get":
    case "apt-cache":
    case "apt-config":
    case "rpm":
    case "yum":
    case "dnf":
      return plane.guestTool(env, name, [verb, ...(args[0] === "--" ? args.slice(1) : args)]);
    case "pkg": {
      const [action, ...pkgs] = args;
      if ((action !== "install" && action !== "remove") || !pkgs.length) throw new UsageError("pkg: usage is 'vserver NAME pkg install|remove PACKAGE...'.");
      const bad = pkgs.find((p) => !PACKAGE_NAME_RE.test(p));
      if (bad) throw new UsageError(`pkg: '${bad}' is not a package name.`);
      return plane.packages(env, name, action, pkgs);
    }
    case "delete": {
      const force = args.includes("--force") || silent;
      if (args.some((a) => a !== "--force")) throw new UsageError(`delete: unknown argument '${args.find((a) => a !== "--force")}'.`);
      const ok = await plane.remove(env, name, {
        force,
        confirm: isTerminal(0) ? () => confirm(`Delete guest '${name}' with its root and config?`) : undefined,
      });
      if (!ok) {
        writeOut("nothing deleted\n");
        return 1;
      }
      return 0;
    }
    case "convert": {
      noArgs(verb, args);
      const warnings = await plane.convert(env, name);
      for (const w of warnings) env.warn(w);
      if (!silent) writeOut(`wrote ${env.paths.confDir}/${name}/ from ${env.paths.confDir}/${name}.conf\n`);
      return 0;
    }
    case "hashify": {
      // util-vserver's -n (dry run) has no counterpart; --refresh and -v are what every run does.
      const bad = args.find((a) => a !== "--refresh" && a !== "-v");
      if (bad) throw new UsageError(`hashify: unexpected argument '${bad}'.`);
      await unifyOne(env, name, false, silent);
      return 0;
    }
    case "unify": {
      const bad = args.find((a) => a !== "-R" && a !== "-v");
      if (bad) throw new UsageError(`unify: unexpected argument '${bad}'.`);
      await unifyOne(env, name, args.includes("-R"), silent);
      return 0;
    }
    case "pkgmgmt":
      throw new UsageError("pkgmgmt: a guest's package database stays inside it; 'vserver NAME apt-get|rpm|yum ...' and vapt-get, vrpm, vyum run the guest's own tools.");
    default:
      throw new UsageError(`unknown command '${verb}'; see 'vserver --help'.`);
  }
}

/** `start --rescue [--rescue-init] [CMD ARGS...]`; undefined for a plain start (which takes no arguments). */
function parseRescue(args: string[]): { cmd: string[] | undefined; asInit: boolean } | undefined {
  if (!args.length) return undefined;
  if (args[0] !== "--rescue") {
    throw new UsageError(args[0] === "--rescue-init" ? "start: --rescue-init goes with --rescue ('start --rescue --rescue-init [CMD ARGS]')." : `start: unexpected argument '${args[0]}'.`);
  }
  let rest = args.slice(1);
  const asInit = rest[0] === "--rescue-init";
  if (asInit) rest = rest.slice(1);
  if (rest[0] === "--") rest = rest.slice(1);
  if (rest.length && !rest[0]!.startsWith("/")) throw new UsageError(`start --rescue: the command '${rest[0]}' must be an absolute path inside the guest.`);
  return { cmd: rest.length ? rest : undefined, asInit };
}

function noArgs(verb: string, args: string[]): void {
  if (args.length) throw new UsageError(`${verb}: unexpected argument '${args[0]}'.`);
}

if (import.meta.main) runMain(PROG, main);
