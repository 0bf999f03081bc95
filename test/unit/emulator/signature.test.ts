import { describe, expect, it } from "vitest";
import { EcsError } from "../../../src/emulator/errors.js";
import {
  EMPTY_SHA256,
  SignatureVerifier,
  canonicalQuery,
  parseAuthorization,
  percentEncode,
  sha256Hex,
  v1Signature,
  v1StringToSign,
  v3CanonicalRequest,
  v3Signature,
  type SignedRequest,
} from "../../../src/emulator/signature.js";

describe("reference test vectors", () => {
  it("V3 ACS3-HMAC-SHA256 vector (ecs-api.md §10.2)", () => {
    const headers = {
      host: "ecs.cn-hangzhou.aliyuncs.com",
      "x-acs-action": "ModifyInstanceAttribute",
      "x-acs-version": "2014-05-26",
      "x-acs-date": "2024-01-01T00:00:00Z",
      "x-acs-signature-nonce": "0123456789abcdef",
      "x-acs-content-sha256": EMPTY_SHA256,
    };
    const canonical = v3CanonicalRequest({
      method: "POST",
      path: "/",
      query: [
        ["InstanceId", "i-bp67acfmxazb4ph00001"],
        ["InstanceName", "web-1"],
        ["SecurityGroupIds.1", "sg-a"],
        ["SecurityGroupIds.2", "sg-b"],
      ],
      headers,
      signedHeaders: Object.keys(headers),
      hashedPayload: EMPTY_SHA256,
    });
    expect(canonical.split("\n").at(-3)).toBe(""); // empty line between canonical headers and signed headers
    expect(canonical).toContain("\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n");
    expect(sha256Hex(canonical)).toBe("c647bf23b468c407de7becf227db0fbd9ae593b25559d877e7a923b919e22e29");
    expect(v3Signature("testsecret", canonical)).toBe("75de6468d5d998a28c309f1a0e6f8bedf4ed86b9e6d1c445702d0d8c549396a9");
  });

  it("V1 HMAC-SHA1 vector (ecs-api.md §10.1)", () => {
    const params: Array<[string, string]> = [
      ["Version", "2014-05-26"],
      ["Timestamp", "2016-02-23T12:46:24Z"],
      ["SignatureVersion", "1.0"],
      ["SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"],
      ["SignatureMethod", "HMAC-SHA1"],
      ["Format", "XML"],
      ["Action", "DescribeRegions"],
      ["AccessKeyId", "testid"],
    ];
    const sts = v1StringToSign("GET", params);
    expect(sts).toBe(
      "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
    );
    expect(v1Signature("testsecret", sts)).toBe("OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  });
});

describe("encoding", () => {
  it("percent-encodes per RFC 3986, including characters querystring leaves alone", () => {
    expect(percentEncode("a b*c~d/é")).toBe("a%20b%2Ac~d%2F%C3%A9");
    expect(percentEncode("!'()")).toBe("%21%27%28%29");
    expect(percentEncode("A-Z_a.z~0")).toBe("A-Z_a.z~0");
  });

  it("sorts the canonical query by encoded name and keeps empty values as name=", () => {
    expect(
      canonicalQuery([
        ["b", "2"],
        ["a", ""],
        ["A", "x y"],
      ]),
    ).toBe("A=x%20y&a=&b=2");
  });

  it("parses the authorization header and rejects malformed ones", () => {
    expect(parseAuthorization("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=abc")).toEqual({
      algorithm: "ACS3-HMAC-SHA256",
      credential: "id",
      signedHeaders: ["host", "x-acs-date"],
      signature: "abc",
    });
    expect(parseAuthorization("ACS3-HMAC-SHA256 Credential=id")).toBeUndefined();
  });
});

const NOW = Date.parse("2026-01-01T12:00:00Z");

function v3Request(opts: {
  secret?: string;
  id?: string;
  nonce?: string;
  date?: string;
  token?: string;
  query?: Array<[string, string]>;
  body?: string;
}): SignedRequest {
  const body = Buffer.from(opts.body ?? "");
  const headers: Record<string, string> = {
    host: "127.0.0.1:1234",
    "x-acs-action": "DescribeInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": opts.date ?? "2026-01-01T12:00:00Z",
    "x-acs-signature-nonce": opts.nonce ?? "n-1",
    "x-acs-content-sha256": sha256Hex(body),
  };
  if (opts.token) headers["x-acs-security-token"] = opts.token;
  const query = opts.query ?? [
    ["RegionId", "cn-hangzhou"],
    ["Desc", "a b*c~d/é"],
  ];
  const signed = Object.keys(headers).sort();
  const canonical = v3CanonicalRequest({
    method: "POST",
    path: "/",
    query,
    headers,
    signedHeaders: signed,
    hashedPayload: headers["x-acs-content-sha256"]!,
  });
  headers["authorization"] =
    `ACS3-HMAC-SHA256 Credential=${opts.id ?? "testid"},SignedHeaders=${signed.join(";")},Signature=${v3Signature(opts.secret ?? "testsecret", canonical)}`;
  return { method: "POST", path: "/", query, form: [], headers, body };
}

function v1Request(opts: { secret?: string; nonce?: string; timestamp?: string; token?: string }): SignedRequest {
  const params: Array<[string, string]> = [
    ["Action", "DescribeInstances"],
    ["AccessKeyId", "testid"],
    ["SignatureMethod", "HMAC-SHA1"],
    ["SignatureVersion", "1.0"],
    ["SignatureNonce", opts.nonce ?? "v1-nonce"],
    ["Timestamp", opts.timestamp ?? "2026-01-01T12:00:00Z"],
    ["RegionId", "cn-hangzhou"],
  ];
  if (opts.token) params.push(["SecurityToken", opts.token]);
  params.push(["Signature", v1Signature(opts.secret ?? "testsecret", v1StringToSign("POST", params))]);
  return { method: "POST", path: "/", query: params.slice(0, 3), form: params.slice(3), headers: {}, body: Buffer.alloc(0) };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EcsError) return err.code;
    throw err;
  }
  return "OK";
}

describe("SignatureVerifier", () => {
  const make = () =>
    new SignatureVerifier({
      keys: [
        { accessKeyId: "testid", accessKeySecret: "testsecret" },
        { accessKeyId: "STS.id", accessKeySecret: "sts-secret", securityToken: "tok" },
      ],
      now: () => NOW,
    });

  it("accepts a correct V3 request whose query needs RFC 3986 re-encoding", () => {
    expect(make().verify(v3Request({}))).toEqual({ accessKeyId: "testid", signatureVersion: "v3", sts: false });
  });

  it("accepts a correct V1 request with parameters split between query and form body", () => {
    expect(make().verify(v1Request({}))).toEqual({ accessKeyId: "testid", signatureVersion: "v1", sts: false });
  });

  it("rejects unknown keys, wrong secrets, reused nonces and stale timestamps with the ECS codes", () => {
    const v = make();
    expect(codeOf(() => v.verify(v3Request({ id: "nobody" })))).toBe("InvalidAccessKeyId.NotFound");
    expect(codeOf(() => v.verify(v3Request({ secret: "wrong", nonce: "a" })))).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => v.verify(v1Request({ secret: "wrong" })))).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => v.verify(v3Request({ nonce: "same" })))).toBe("OK");
    expect(codeOf(() => v.verify(v3Request({ nonce: "same" })))).toBe("SignatureNonceUsed");
    expect(codeOf(() => v.verify(v1Request({ nonce: "same-v1" })))).toBe("OK");
    expect(codeOf(() => v.verify(v1Request({ nonce: "same-v1" })))).toBe("SignatureNonceUsed");
    expect(codeOf(() => v.verify(v3Request({ nonce: "b", date: "2026-01-01T11:00:00Z" })))).toBe("IllegalTimestamp");
    expect(codeOf(() => v.verify(v1Request({ nonce: "c", timestamp: "2026-01-01 12:00:00" })))).toBe("IllegalTimestamp");
  });

  it("detects a body that does not match x-acs-content-sha256", () => {
    const req = v3Request({ body: "RegionId=cn-hangzhou", nonce: "body-1" });
    expect(codeOf(() => make().verify({ ...req, body: Buffer.from("RegionId=cn-beijing") }))).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => make().verify(req))).toBe("OK");
  });

  it("requires the STS token for STS keys and accepts it when it matches", () => {
    const v = make();
    expect(v.verify(v3Request({ id: "STS.id", secret: "sts-secret", token: "tok", nonce: "s1" })).sts).toBe(true);
    expect(codeOf(() => v.verify(v3Request({ id: "STS.id", secret: "sts-secret", nonce: "s2" })))).toBe("InvalidSecurityToken.MismatchWithAccessKey");
    expect(codeOf(() => v.verify(v3Request({ id: "STS.id", secret: "sts-secret", token: "other", nonce: "s3" })))).toBe(
      "InvalidSecurityToken.MismatchWithAccessKey",
    );
  });

  it("needs host, x-acs-date and the nonce among the signed headers", () => {
    const req = v3Request({});
    const auth = req.headers["authorization"]!.replace("host;", "");
    expect(codeOf(() => make().verify({ ...req, headers: { ...req.headers, authorization: auth } }))).toBe("IncompleteSignature");
  });
});
