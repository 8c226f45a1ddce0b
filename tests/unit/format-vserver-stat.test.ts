import { describe, expect, test } from "bun:test";
import { formatSize, formatStatLine, formatStatTable, formatTime, STAT_HEADER } from "../../src/pure/format/vserver-stat";

describe("vserver-stat memory column", () => {
  test.each([
    [0, "0 "],
    [512, "512 "],
    [1024, "1K"],
    [1536, "1.5K"],
    [95 * 1024 * 1024, "95M"],
    [1.8 * 1024 ** 3, "1.8G"],
    [412.7 * 1024 * 1024, "412M"],
    [3 * 1024 ** 4, "3T"],
    [2048 * 1024 ** 4, "2+"],
  ])("%p bytes -> %p", (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

describe("vserver-stat time columns", () => {
  test.each([
    [0, "0m00s00"],
    [5.09, "0m05s09"],
    [753.04, "12m33s04"],
    [3599.99, "59m59s99"],
    [3600, "1h00m00"],
    [3 * 3600 + 25 * 60 + 11, "3h25m11"],
    [5 * 86400 + 3 * 3600 + 12 * 60, "5d03h12"],
    [999 * 86400, "999d00h00"],
    [1000 * 86400 + 5 * 3600, "2y270d05"],
  ])("%p s -> %p", (s, text) => {
    expect(formatTime(s)).toBe(text);
  });
});

describe("vserver-stat table", () => {
  const host = { context: 0, name: "", processes: 84, vsz: 1.8 * 1024 ** 3, rss: 412 * 1024 * 1024, userSeconds: 3 * 3600 + 25 * 60 + 11, sysSeconds: 41 * 60 + 7, uptimeSeconds: 5 * 86400 + 3 * 3600 + 12 * 60 };
  const web = { context: 40000, name: "web01", processes: 17, vsz: 310 * 1024 * 1024, rss: 95 * 1024 * 1024, userSeconds: 753.04, sysSeconds: 125.01, uptimeSeconds: 2 * 86400 + 4 * 3600 + 30 * 60 };

  test("matches util-vserver's layout", () => {
    expect(formatStatTable([web, host])).toBe(
      [
        STAT_HEADER,
        "0       84   1.8G   412M   3h25m11  41m07s00   5d03h12 root server",
        "40000   17   310M    95M  12m33s04   2m05s01   2d04h30 web01",
        "",
      ].join("\n"),
    );
  });

  test("NAME starts at column 55 and long names are cut to 20", () => {
    const line = formatStatLine({ ...web, context: 2, name: "a-very-long-guest-name-indeed" });
    expect(STAT_HEADER.indexOf("NAME")).toBe(55);
    expect(line.slice(55)).toBe("a-very-long-guest-na");
    expect(formatStatLine({ ...web, context: 1 }).slice(55)).toBe("monitoring server");
  });
});
