// The pure parts of unification: object names, the pool layout, overlayfs options, formats.

import { describe, expect, test } from "bun:test";
import { digestOfRedirect, digestOfStoreEntry, objectRelPath, redirectOf } from "../../src/pure/unify/objects";
import { generation, generationNumber, unifyPaths } from "../../src/pure/unify/layout";
import { rootOptions, viewOptions } from "../../src/pure/unify/overlay-options";
import { formatDiskUse, formatGc } from "../../src/pure/format/unify";
import { diskLimitsUnavailable, formatDiskLimit, limitBytes, parseDiskLimit, parseVdlimitSet } from "../../src/pure/disk-limits";
import { formatAttrs, parseAttrArgs } from "../../src/pure/inode-attrs";
import { DEFAULT_EXCLUDE_SOURCE, defaultExcludeList, excludeVerdict, fnmatchRegExp, parseExcludeList } from "../../src/pure/unify/exclude";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { fileTree } from "../../src/pure/config/tree";
import { ConfigError } from "../../src/errors";

const D = "ab" + "0123456789abcdef".repeat(3) + "0123456789abcd";

describe("object names", () => {
  test("a digest becomes a two-level path and a redirect, and back", () => {
    expect(D.length).toBe(64);
    expect(objectRelPath(D)).toBe(`ab/${D.slice(2)}`);
    expect(redirectOf(D)).toBe(`/ab/${D.slice(2)}`);
    expect(digestOfRedirect(redirectOf(D))).toBe(D);
    expect(digestOfStoreEntry("ab", D.slice(2))).toBe(D);
  });

  test("anything else is not an object", () => {
    expect(() => objectRelPath("../etc/passwd")).toThrow();
    expect(() => objectRelPath(D.toUpperCase())).toThrow();
    expect(digestOfRedirect("/etc/passwd")).toBeUndefined();
    expect(digestOfRedirect(`/ab/${D.slice(2)}/..`)).toBeUndefined();
    expect(digestOfStoreEntry("ab", `.tmp-123-4`)).toBeUndefined();
    expect(digestOfStoreEntry("zz", D.slice(2))).toBeUndefined();
  });
});

describe("layout", () => {
  test("everything of a guest is under the pool beside the guest roots; its view under the run state", () => {
    const u = unifyPaths("/vservers", "/run/vservers", "web");
    expect(u.store).toBe("/vservers/.unify/store");
    expect(u.current).toBe("/vservers/.unify/guests/web/current");
    expect(u.view).toBe("/run/vservers/.unify-views/web");
    expect(generation(u.guest, 3).upper).toBe("/vservers/.unify/guests/web/gen-3/upper");
  });

  test("generation names", () => {
    expect(generationNumber("gen-12")).toBe(12);
    expect(generationNumber("gen-")).toBeUndefined();
    expect(generationNumber("gen-1.tmp")).toBeUndefined();
    expect(generationNumber("current")).toBeUndefined();
  });
});

describe("overlay options", () => {
  const l = { meta: "/p/g/gen-1/meta", store: "/p/store", upper: "/p/g/gen-1/upper", work: "/p/g/gen-1/work" };

  test("the root: the store is a data-only layer, metadata copy-up, hard links kept", () => {
    expect(rootOptions(l)).toBe("lowerdir=/p/g/gen-1/meta::/p/store,upperdir=/p/g/gen-1/upper,workdir=/p/g/gen-1/work,metacopy=on,redirect_dir=on,index=on");
  });

  test("the read-only view is the guest's own mount, read-only, with its index", () => {
    expect(viewOptions(l)).toBe("ro,lowerdir=/p/g/gen-1/meta::/p/store,upperdir=/p/g/gen-1/upper,workdir=/p/g/gen-1/work,metacopy=on,redirect_dir=on,index=on");
  });

  test("a path overlayfs options cannot carry is refused, not escaped", () => {
    for (const bad of ["/a,b", "/a:b", "/a b", "/a\\b"]) expect(() => rootOptions({ ...l, meta: bad })).toThrow(/cannot carry/);
  });
});

describe("formats", () => {
  test("vdu of a unified and of a plain guest", () => {
    expect(formatDiskUse("web", { unified: true, ownBytes: 2 * 1048576, ownInodes: 7, metaInodes: 5000, metaBytes: 3 * 1048576, sharedObjects: 4000, sharedBytes: 150 * 1048576, alsoUsedByOthers: 3990 }))
      .toBe("web: own 2.0 MiB in 7 inodes (what it wrote itself), metadata 3.0 MiB in 5000 inodes (directories, kept files), shared 150.0 MiB in 4000 objects (3990 of them used by other guests too)\n");
    expect(formatDiskUse("old", { unified: false, ownBytes: 1048576, ownInodes: 3, metaInodes: 0, metaBytes: 0, sharedObjects: 0, sharedBytes: 0, alsoUsedByOthers: 0 }))
      .toBe("old: own 1.0 MiB in 3 inodes (not unified: nothing shared)\n");
  });

  test("gc", () => {
    expect(formatGc({ referenced: 10, removed: 2, freedBytes: 8192 })).toBe("store: 10 objects in use, 2 removed (0.0 MiB freed)\n");
  });
});

describe("why disk limits are not available", () => {
  const base = { where: "xfs on /dev/loop0, mounted at /vservers", options: ["rw", "noquota"], xfsQuota: true, quota: true };

  test("the host's lack is named first: the kernel, then the mount", () => {
    expect(diskLimitsUnavailable({ ...base, type: "xfs", xfsQuota: false })).toMatch(/^this kernel has no XFS quota support \(CONFIG_XFS_QUOTA\)/);
    expect(diskLimitsUnavailable({ ...base, type: "xfs" })).toMatch(/is not mounted with prjquota$/);
    expect(diskLimitsUnavailable({ ...base, type: "ext4", quota: false })).toMatch(/no quota support \(CONFIG_QUOTA\)/);
    expect(diskLimitsUnavailable({ ...base, type: "tmpfs" })).toMatch(/has neither project quotas nor qgroups; btrfs would serve$/);
  });

  test("where the host could hold project quotas, this version's own gap is said, and btrfs named", () => {
    expect(diskLimitsUnavailable({ ...base, type: "xfs", options: ["rw", "prjquota"] })).toMatch(/^this version sets limits only as btrfs qgroups, not as project quotas .*; put them on btrfs$/);
  });
});

describe("dlimits/ and vdlimit's values", () => {
  const d = "/etc/vservers/g/dlimits/root";
  test("a limit: directory and space_total in KiB; inodes and reserved kept to be warned about", () => {
    expect(parseDiskLimit(d, { directory: "/\n", space_total: "10240\n", inodes_total: "1000\n", reserved: "5\n" }))
      .toEqual({ dir: d, directory: "/", spaceKiB: 10240, inodes: 1000, reserved: 5 });
    expect(parseDiskLimit(d, { directory: "/vservers/g\n", space_total: "1\n" })).toMatchObject({ directory: "/vservers/g", inodes: undefined });
    expect(parseDiskLimit(d, { directory: "/\n", space_total: "1\n", disabled: "" })).toBeUndefined();
    expect(limitBytes([{ dir: d, directory: "/", spaceKiB: 20, inodes: undefined, reserved: undefined }, { dir: d, directory: "/", spaceKiB: 10, inodes: undefined, reserved: undefined }])).toBe(10240);
  });
  test("bad files are refused in one sentence naming the file", () => {
    expect(() => parseDiskLimit(d, { space_total: "1\n" })).toThrow(`${d}/directory is missing or empty`);
    expect(() => parseDiskLimit(d, { directory: "vservers/g\n", space_total: "1\n" })).toThrow(`${d}/directory 'vservers/g' is not an absolute path.`);
    expect(() => parseDiskLimit(d, { directory: "/\n" })).toThrow(`${d}/space_total is missing`);
    expect(() => parseDiskLimit(d, { directory: "/\n", space_total: "10M\n" })).toThrow(`${d}/space_total: '10M' is not a whole number.`);
    expect(() => parseDiskLimit(d, { directory: "/\n", space_total: "0\n" })).toThrow(/below the smallest allowed value 1/);
  });
  test("vdlimit --set: space_total only, in KiB or inf", () => {
    expect(parseVdlimitSet("space_total=2048")).toEqual({ spaceKiB: 2048 });
    expect(parseVdlimitSet("space_total=inf")).toEqual({ spaceKiB: undefined });
    expect(() => parseVdlimitSet("inodes_total=10")).toThrow(/btrfs, which counts no inodes/);
    expect(() => parseVdlimitSet("space_used=10")).toThrow(/counted by the file system/);
    expect(() => parseVdlimitSet("space_total=10k")).toThrow(/not a number of KiB/);
    expect(() => parseVdlimitSet("wibble")).toThrow(/is not LIMIT=VALUE/);
  });
  test("the report: util-vserver's name=value lines, KiB", () => {
    expect(formatDiskLimit(1536, 10485760)).toBe("space_used=2\nspace_total=10240\n");
    expect(formatDiskLimit(undefined, undefined)).toBe("space_used=unknown\nspace_total=inf\n");
  });
});

describe("setattr's attributes", () => {
  test("immutable (--immu too) and append, set and cleared", () => {
    expect(parseAttrArgs(["--immu", "--~append"])).toEqual({ set: ["immutable"], clear: ["append"] });
    expect(parseAttrArgs(["--!immutable", "--append"])).toEqual({ set: ["append"], clear: ["immutable"] });
  });

  test("the patched kernel's attributes are refused with what they became", () => {
    expect(() => parseAttrArgs(["--iunlink"])).toThrow(/copies it into the guest's own upper/);
    expect(() => parseAttrArgs(["--~barrier"])).toThrow(/mode 0000/);
    expect(() => parseAttrArgs(["--hide"])).toThrow(/\/proc visibility/);
    expect(() => parseAttrArgs(["--wibble"])).toThrow(/not an attribute/);
    expect(() => parseAttrArgs(["immutable"])).toThrow(/not an attribute flag/);
  });

  test("showattr's columns", () => {
    expect(formatAttrs(false, false)).toBe("------i--a");
    expect(formatAttrs(true, true)).toBe("------I--A");
  });
});

describe("the exclude list (apps/vunify/exclude)", () => {
  const verdicts = (l: ReturnType<typeof defaultExcludeList>, paths: string[]) => Object.fromEntries(paths.map((p) => [p, excludeVerdict(l, p)]));

  test("fnmatch without flags: '*' and '?' cross '/', classes, escapes, a '[' that never closes", () => {
    expect(fnmatchRegExp("/etc/*").test("/etc/ssh/sshd_config")).toBe(true);
    expect(fnmatchRegExp("/etc/*").test("/etc")).toBe(false);
    expect(fnmatchRegExp("/*/ls-R").test("/usr/share/texmf/ls-R")).toBe(true);
    expect(fnmatchRegExp("/a?c").test("/a/c")).toBe(true);
    expect(fnmatchRegExp("/f[0-9]").test("/f7")).toBe(true);
    expect(fnmatchRegExp("/f[!0-9]").test("/f7")).toBe(false);
    expect(fnmatchRegExp("/f[]x]").test("/f]")).toBe(true);
    expect(fnmatchRegExp("/f[x").test("/f[x")).toBe(true);
    expect(fnmatchRegExp("/a\\*").test("/a*")).toBe(true);
    expect(fnmatchRegExp("/a\\*").test("/ab")).toBe(false);
    expect(fnmatchRegExp("/a.b(c)+").test("/a.b(c)+")).toBe(true);
    expect(fnmatchRegExp("/a.b").test("/axb")).toBe(false);
  });

  test("util-vserver's default list: the first match decides, nothing matching is unified", () => {
    const l = defaultExcludeList();
    expect(l.source).toBe(DEFAULT_EXCLUDE_SOURCE);
    expect(verdicts(l, ["/etc/passwd", "/etc/shadow", "/etc/termcap", "/etc/gconf", "/etc/gconf/schemas", "/etc/gconf/x", "/etc/ssh/sshd_config", "/etc",
      "/var", "/tmp", "/dev", "/root/.ssh", "/root/.ssh/id_rsa", "/root/.bashrc", "/usr/bin/perl", "/bin/busybox", "/usr/share/texmf/ls-R"])).toEqual({
      "/etc/passwd": "keep", "/etc/shadow": "keep", "/etc/termcap": "unify", "/etc/gconf": "unify", "/etc/gconf/schemas": "unify", "/etc/gconf/x": "keep",
      "/etc/ssh/sshd_config": "keep", "/etc": "unify", "/var": "keep", "/tmp": "keep", "/dev": "keep", "/root/.ssh": "unify", "/root/.ssh/id_rsa": "keep",
      "/root/.bashrc": "keep", "/usr/bin/perl": "unify", "/bin/busybox": "unify", "/usr/share/texmf/ls-R": "keep",
    });
  });

  test("a list of one's own: comments, blanks, trailing spaces; a pattern not from the root is refused naming the file and line", () => {
    const l = parseExcludeList("# mine\n\n+/srv/shared  \n/srv/*\n-/opt/x\n~/opt/y\n", "/etc/vservers/web/apps/vunify/exclude");
    expect(l.rules.map((r) => [r.verdict, r.pattern])).toEqual([["unify", "/srv/shared"], ["keep", "/srv/*"], ["keep", "/opt/x"], ["keep", "/opt/y"]]);
    expect(verdicts(l, ["/srv/shared", "/srv/other", "/etc/passwd"])).toEqual({ "/srv/shared": "unify", "/srv/other": "keep", "/etc/passwd": "unify" });
    expect(() => parseExcludeList("/ok\netc/passwd\n", "/cfg/exclude")).toThrow(ConfigError);
    expect(() => parseExcludeList("/ok\netc/passwd\n", "/cfg/exclude")).toThrow("/cfg/exclude, line 2: 'etc/passwd' does not start with '/'");
  });

  test("the guest's own list, else the one of .defaults, else the built-in one", () => {
    const parse = (files: Record<string, string>, defaults: Record<string, string>) =>
      parseGuestConfig({ name: "web", cfgDir: "/etc/vservers/web", guest: fileTree(files), defaults: fileTree(defaults), vdirBase: "/vservers" });
    expect(parse({}, {}).unifyExclude.source).toBe(DEFAULT_EXCLUDE_SOURCE);
    const d = parse({}, { "apps/vunify/exclude": "/srv\n" }).unifyExclude;
    expect(d.source).toBe("/etc/vservers/web/../.defaults/apps/vunify/exclude");
    expect(excludeVerdict(d, "/etc/passwd")).toBe("unify");
    const own = parse({ "apps/vunify/exclude": "/opt\n" }, { "apps/vunify/exclude": "/srv\n" }).unifyExclude;
    expect(own.source).toBe("/etc/vservers/web/apps/vunify/exclude");
    expect(verdicts(own, ["/opt", "/srv"])).toEqual({ "/opt": "keep", "/srv": "unify" });
    expect(() => parse({ "apps/vunify/exclude": "opt\n" }, {})).toThrow("/etc/vservers/web/apps/vunify/exclude, line 1");
  });
});
