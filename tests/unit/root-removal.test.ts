// The rule that decides which directories delete may remove as a guest's root.

import { expect, test } from "bun:test";
import { ancestorsOf, SYSTEM_DIRS, whyNotRemovable, type RemovalFacts } from "../../src/pure/root-removal";

const facts: RemovalFacts = {
  ownCfgDir: "/etc/vservers/me",
  confDir: "/etc/vservers",
  stateDirs: [
    { path: "/vservers", what: "the base directory of guest roots" },
    { path: "/etc/vservers", what: "the config directory" },
    { path: "/run/vservers", what: "the run directory" },
  ],
  otherGuests: [{ name: "other", root: "/vservers/other", cfgDir: "/etc/vservers/other" }],
  isSystemDir: (d) => SYSTEM_DIRS.has(d) || d === "/usr/share/doc",
};

test.each([
  ["/", /host's root/],
  ["/vservers", /is the base directory/],
  ["/etc", /holds the config directory/],
  ["/run", /holds the run directory/],
  ["/vservers/other", /holds the root of guest 'other'/],
  ["/vservers/other/home", /inside the root of guest 'other'/],
  ["/etc/vservers/other", /config of guest 'other'|inside the config directory/],
  ["/etc/vservers/.defaults", /inside the config directory/],
  ["/srv", /system directory/],
  ["/usr/share/doc", /system directory/],
  ["/home/alice", /not below a directory of its own/],
  ["/tmp", /system directory/],
  ["/var/lib/foo", /not below a directory of its own/],
])("%s is refused", (root, why) => {
  expect(whyNotRemovable(root, facts)).toMatch(why);
});

test.each(["/vservers/me", "/srv/guests/me", "/var/lib/vservers/me", "/etc/vservers/me/root", "/home/alice/guests/me"])("%s may be removed", (root) => {
  expect(whyNotRemovable(root, facts)).toBeUndefined();
});

test("ancestors, nearest first", () => {
  expect(ancestorsOf("/a/b/c")).toEqual(["/a/b", "/a", "/"]);
  expect(ancestorsOf("/")).toEqual([]);
});
