// The arguments of the rsync, legacy and oci build methods, and the legacy method's lists: pure,
// without root.

import { describe, expect, test } from "bun:test";
import { imageCommand, parseLegacyArgs, parseOciArgs, parseRsyncArgs, pickLayoutTag } from "../../src/pure/build-method-args";
import { legacyRules, lockPasswords, LEGACY_SECRETS } from "../../src/pure/legacy-host";

describe("rsync and legacy arguments", () => {
  test("source and rules in order", () => {
    expect(parseRsyncArgs(["-s", "web", "--exclude", "/var/log/*", "--include", "/a"])).toEqual({
      source: "web",
      rules: [{ kind: "exclude", pattern: "/var/log/*" }, { kind: "include", pattern: "/a" }],
    });
    expect(parseLegacyArgs([])).toEqual({ rules: [] });
  });
  test("bad input is one sentence naming the argument", () => {
    expect(() => parseRsyncArgs([])).toThrow(/rsync method: -s GUEST\|DIR .* is required/);
    expect(() => parseRsyncArgs(["-s"])).toThrow(/rsync method: -s needs a value/);
    expect(() => parseRsyncArgs(["-s", "x", "--delete"])).toThrow(/rsync method: unknown argument '--delete'/);
    expect(() => parseLegacyArgs(["-s", "x"])).toThrow(/legacy method: unknown argument '-s'/);
    expect(() => parseLegacyArgs(["--exclude", "a\n- /etc"])).toThrow(/line break/);
  });
});

describe("oci arguments", () => {
  test("a layout with or without a tag, or an archive", () => {
    expect(parseOciArgs(["-o", "/srv/img"])).toEqual({ kind: "layout", dir: "/srv/img" });
    expect(parseOciArgs(["-o", "/srv/img:1.0"])).toEqual({ kind: "layout", dir: "/srv/img", tag: "1.0" });
    expect(parseOciArgs(["-o", "/srv/a:b/img"])).toEqual({ kind: "layout", dir: "/srv/a:b/img" });
    expect(parseOciArgs(["-a", "/srv/app.tar"])).toEqual({ kind: "archive", file: "/srv/app.tar" });
  });
  test("bad input", () => {
    expect(() => parseOciArgs([])).toThrow(/oci method: -o DIR\[:TAG\] .* or -a FILE .* is required/);
    expect(() => parseOciArgs(["-o", "a", "-a", "b"])).toThrow(/not both/);
    expect(() => parseOciArgs(["-o", "/srv/img:bad tag!"])).toThrow(/oci method: 'bad tag!' in -o \/srv\/img:bad tag! is not an image tag/);
  });
  test("the tag is the one asked for, or the only one", () => {
    const index = (...tags: string[]) => ({ manifests: tags.map((t) => ({ annotations: { "org.opencontainers.image.ref.name": t } })) });
    expect(pickLayoutTag(index("v1"), undefined, "/i")).toBe("v1");
    expect(pickLayoutTag(index("v1", "v2"), "v2", "/i")).toBe("v2");
    expect(() => pickLayoutTag(index("v1", "v2"), undefined, "/i")).toThrow(/several images \(v1, v2\); name one with -o \/i:TAG/);
    expect(() => pickLayoutTag(index("v1"), "v3", "/i")).toThrow(/no image tagged 'v3' \(it has: v1\)/);
    expect(() => pickLayoutTag({}, undefined, "/i")).toThrow(/is \/i an OCI image layout/);
  });
  test("the image's command is Entrypoint then Cmd", () => {
    expect(imageCommand({ config: { Entrypoint: ["/bin/app"], Cmd: ["-v"] } })).toEqual(["/bin/app", "-v"]);
    expect(imageCommand({ config: { Cmd: ["sh"] } })).toEqual(["sh"]);
    expect(imageCommand({})).toEqual([]);
  });
});

describe("legacy: what is left out of the host's copy", () => {
  const rules = legacyRules({ stateDirs: ["/vservers", "/etc/vservers/"], adminRules: [{ kind: "include", pattern: "/etc/ssh/ssh_host_rsa_key" }] });
  test("secrets come before the admin's rules, which come before the tree's shape", () => {
    const firstAdmin = rules.indexOf("--include=/etc/ssh/ssh_host_rsa_key");
    for (const s of LEGACY_SECRETS) expect(rules.indexOf(`--exclude=${s}`)).toBeLessThan(firstAdmin);
    expect(rules).toContain("--exclude=/vservers/***");
    expect(rules).toContain("--exclude=/etc/vservers/***");
    expect(rules.indexOf("--include=/usr")).toBeGreaterThan(firstAdmin);
    expect(rules[rules.length - 1]).toBe("--exclude=/*");
  });
  test("password hashes are locked, accounts kept", () => {
    const shadow = "root:$y$j9T$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbob:!$6$x:19000::::::\n";
    expect(lockPasswords(shadow, "*")).toBe("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbob:*:19000::::::\n");
    expect(lockPasswords("sudo:$6$hash::bob\n", "!")).toBe("sudo:!::bob\n");
  });
});
