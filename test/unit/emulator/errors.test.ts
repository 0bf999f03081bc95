/** Error table and fault defaults against the API page's table (issue 19 item 4). */
import { describe, expect, it } from "vitest";
import { ecsError, errorForCode } from "../../../src/emulator/errors.js";
import { FaultInjector } from "../../../src/emulator/faults.js";
import { MODIFY_INSTANCE_ATTRIBUTE_ERRORS } from "./modify-error-table.js";

describe("emulator error table", () => {
  it.each(MODIFY_INSTANCE_ATTRIBUTE_ERRORS)("HTTP %i for %s, by default, including from an injected fault", (status, code) => {
    expect(errorForCode(code).status).toBe(status);
    const faults = new FaultInjector();
    faults.add({ action: "ModifyInstanceAttribute", code });
    const outcome = faults.evaluate("ModifyInstanceAttribute", "testid", "cn-hangzhou");
    expect(outcome.type).toBe("error");
    expect(outcome.type === "error" && outcome.error.status).toBe(status);
  });

  it("a fault's explicit status still wins", () => {
    const faults = new FaultInjector();
    faults.add({ code: "InvalidUser.Unauthorized", status: 400 });
    const outcome = faults.evaluate("DescribeInstances", "testid", "cn-hangzhou");
    expect(outcome.type === "error" && outcome.error.status).toBe(400);
  });

  it("InvalidParameter names the parameter when the rule knows it", () => {
    expect(ecsError("InvalidParameter", "InstanceIds").message).toBe('The specified parameter "InstanceIds" is not valid.');
    expect(ecsError("InvalidParameter").message).toBe("The specified parameter is not valid.");
  });
});
