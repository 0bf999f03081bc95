import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BASE64_PATTERN,
  base64DecodedLength,
  failedRules,
  HOST_NAME_RULES,
  hostNameProblems,
  hostnameTypeProblems,
  INSTANCE_NAME_RULES,
  MAX_SECURITY_GROUPS_PER_INSTANCE,
  MAX_USER_DATA_BASE64_LENGTH,
  MAX_USER_DATA_BYTES,
  PASSWORD_RULES,
  PASSWORD_SPECIALS,
  passwordProblems,
  queueNumberValue,
  userDataExactlyOneSource,
  userDataRawSize,
  userDataSize,
  windowsPasswordNoLeadingSlash,
} from "../../../src/api/index.js";

describe("instance name rules", () => {
  it.each(["web-1", "Web:01_a.b", "网站-1", "w网", "ab"])("accepts %s", (v) => {
    expect(failedRules(v, INSTANCE_NAME_RULES)).toEqual([]);
  });
  it.each([
    ["1web", "must start with a letter or a Chinese character"],
    ["_web", "must start with a letter or a Chinese character"],
    ["web 1", "may contain only letters, digits, Chinese characters, ':', '_', '-' and '.'"],
    ["web/1", "may contain only letters, digits, Chinese characters, ':', '_', '-' and '.'"],
    ["https://web", "must not start with http:// or https://"],
    ["http://web", "must not start with http:// or https://"],
  ])("rejects %s (%s)", (v, msg) => {
    expect(failedRules(v, INSTANCE_NAME_RULES)).toContain(msg);
  });
});

describe("host name rules", () => {
  it.each(["ab", "web-1", "web.internal", "a.b.c", "WEB1", "123", "a-.b"])("accepts %s on Linux", (v) => {
    expect(hostNameProblems(v, "linux")).toEqual([]);
    expect(failedRules(v, HOST_NAME_RULES)).toEqual([]);
  });
  it.each(["a", "web..1", "web--1", ".web", "web.", "-web", "web-", "web_1", "a b", "x".repeat(65)])("rejects %s on Linux", (v) => {
    expect(hostNameProblems(v, "linux").length).toBeGreaterThan(0);
    expect(hostNameProblems(v, "linux").every((m) => m.startsWith("hostName "))).toBe(true);
  });
  it("applies the Windows rules only on Windows", () => {
    expect(hostNameProblems("web.internal", "linux")).toEqual([]);
    expect(hostNameProblems("web.internal", "windows")).toEqual(["hostName may contain only letters, digits and '-' on Windows (no '.')"]);
    expect(hostNameProblems("a234567890123456", "windows")).toEqual(["hostName must be at most 15 characters on Windows"]);
    expect(hostNameProblems("a23456789012345", "windows")).toEqual([]);
    expect(hostNameProblems("12345", "Windows")).toEqual(["hostName must not consist of digits only on Windows"]);
    expect(hostNameProblems("12345", "linux")).toEqual([]);
    expect(hostNameProblems("web-1", undefined)).toEqual([]);
  });
});

describe("password rules", () => {
  it.each(["Fake-Passw0rd", "abcDEF12", "abc123!@", "ABC123()", "a`b~C1;'", 'abcD1234"', "Back`tick12"])("accepts %s", (v) => {
    expect(passwordProblems(v, "linux")).toEqual([]);
  });
  it.each([
    ["Ab1!", "password must be 8-30 characters long"],
    ["Aa1!".repeat(8), "password must be 8-30 characters long"],
    ["abcdefgh", "password must contain at least three of: upper-case letters, lower-case letters, digits, special characters"],
    ["abcdEFGH", "password must contain at least three of: upper-case letters, lower-case letters, digits, special characters"],
    ["abcD1234 ", `password may contain only letters, digits and the specials ${PASSWORD_SPECIALS}`],
    ["abcD1234\\", `password may contain only letters, digits and the specials ${PASSWORD_SPECIALS}`],
    ["abcD1234é", `password may contain only letters, digits and the specials ${PASSWORD_SPECIALS}`],
  ])("rejects %s", (v, msg) => {
    expect(passwordProblems(v, "linux")).toContain(msg);
  });
  it("forbids a leading '/' only on Windows", () => {
    expect(passwordProblems("/abcD1234", "linux")).toEqual([]);
    expect(passwordProblems("/abcD1234", "windows")).toEqual(["password must not start with '/' on Windows"]);
  });
  it("never puts the password into a message (messages come from the fixed rule texts)", () => {
    const allowed = new Set([...PASSWORD_RULES, windowsPasswordNoLeadingSlash].map((r) => `password ${r.message}`));
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.constantFrom("linux", "windows"), (pw, os) => passwordProblems(pw, os).every((m) => allowed.has(m))),
      { numRuns: 300 },
    );
  });
});

describe("user data rules", () => {
  it("BASE64_PATTERN accepts every standard Base64 encoding and base64DecodedLength is exact", () => {
    const re = new RegExp(BASE64_PATTERN);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b64 = Buffer.from(bytes).toString("base64");
        return re.test(b64) && base64DecodedLength(b64) === bytes.length;
      }),
      { numRuns: 300 },
    );
  });
  it("BASE64_PATTERN rejects whitespace, URL-safe alphabet and bad padding", () => {
    const re = new RegExp(BASE64_PATTERN);
    for (const bad of ["aGVs bG8=", "aGVsbG8", "a-_b", "aGVsbG8==", "=aGk", "aGk=\n"]) expect(re.test(bad), bad).toBe(false);
  });
  it("size limit sits exactly at 32 KB decoded", () => {
    const ok = Buffer.alloc(MAX_USER_DATA_BYTES, 1).toString("base64");
    const tooBig = Buffer.alloc(MAX_USER_DATA_BYTES + 1, 1).toString("base64");
    expect(ok.length).toBeLessThanOrEqual(MAX_USER_DATA_BASE64_LENGTH);
    expect(userDataSize.test(ok)).toBe(true);
    expect(userDataSize.test(tooBig)).toBe(false);
    expect(userDataRawSize.test("x".repeat(MAX_USER_DATA_BYTES))).toBe(true);
    expect(userDataRawSize.test(new Uint8Array(MAX_USER_DATA_BYTES + 1))).toBe(false);
    // UTF-8 bytes count, not characters.
    expect(userDataRawSize.test("é".repeat(MAX_USER_DATA_BYTES / 2 + 1))).toBe(false);
  });
  it("exactly one user data source", () => {
    expect(userDataExactlyOneSource.test({ inlineBase64: "aGk=" })).toBe(true);
    expect(userDataExactlyOneSource.test({})).toBe(false);
    expect(userDataExactlyOneSource.test({ inlineBase64: "aGk=", secretRef: {} })).toBe(false);
  });
});

describe("other rules", () => {
  it("queue number is -1 or positive", () => {
    expect([-2, -1, 0, 1, 64].map((n) => queueNumberValue.test(n))).toEqual([false, true, false, true, true]);
  });
  it("Windows supports only the Custom hostname type", () => {
    expect(hostnameTypeProblems("IpBased", "windows")).toEqual(["privateDnsNameOptions.hostnameType must be Custom on Windows"]);
    expect(hostnameTypeProblems("Custom", "windows")).toEqual([]);
    expect(hostnameTypeProblems("IpBased", "linux")).toEqual([]);
  });
  it("the security-group cap is the largest documented per-instance quota", () => {
    expect(MAX_SECURITY_GROUPS_PER_INSTANCE).toBe(16);
  });
});
